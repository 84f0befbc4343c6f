//! The registry's NATS query endpoints (`kansrijk.qry.registry.<name>`), served by the gateway
//! process, and the import of source files (`kansrijk.cmd.registry.importeren`). Each handler
//! authorises the actor again (defence in depth).

use kansrijk_proto::actor::Actor;
use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_proto::subject;
use kansrijk_runtime::service::{handler, Endpoints, Request};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::import::{self, ImportError, ImportOptions, ImportReport, IssueKind};
use super::model::*;
use super::store;

/// The NATS service name.
pub const SERVICE: &str = "registry";

/// Subject of "is this LRK number a registered (VVE) location".
pub fn vve_location_subject() -> String {
    subject::query("registry.vve-locatie")
}

/// Subject of "which of these LRK numbers are registered (VVE) locations", one lookup for a
/// whole referral (body [`LrkBatchQuery`], reply [`ChildcareLocationChecks`]).
pub fn vve_locations_subject() -> String {
    subject::query("registry.vve-locaties")
}

/// Subject of "is this BRIN+vestiging a registered school".
pub fn school_subject() -> String {
    subject::query("registry.school")
}

/// Subject of "which district is this address in" (body [`PostcodeDistrictQuery`], reply
/// [`PostcodeDistrict`]).
pub fn postcode_district_subject() -> String {
    subject::query("registry.wijk-bij-postcode")
}

/// Subject of the import of a source file (body [`RegisterImport`], reply [`ImportReport`]).
pub fn import_subject() -> String {
    subject::command(SERVICE, IMPORT_NAME)
}

/// The command endpoint's name.
pub const IMPORT_NAME: &str = "importeren";
/// The policy action of an import.
pub const IMPORT_ACTION: &str = "registry.register-importeren";

/// An import for `actor`: only into its own municipality; a strict import with reported rows
/// is a 400 naming every reported row.
pub async fn run_import(
    pool: &PgPool,
    actor: &Actor,
    body: RegisterImport,
) -> Result<ImportReport, Problem> {
    if body.municipality.len() != 4 || !body.municipality.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::invalid(vec![FieldError::new(
            "gemeenteCode",
            "ongeldig-formaat",
            "Een CBS-gemeentecode heeft vier cijfers.",
        )]));
    }
    if body.municipality != actor.municipality {
        return Err(Problem::forbidden(
            "U mag alleen het partnerregister van uw eigen gemeente bijwerken.",
        ));
    }
    let options = ImportOptions {
        kind: body.kind,
        municipality: body.municipality.clone(),
        dry_run: body.dry_run.unwrap_or(false),
        skip_invalid: body.skip_invalid.unwrap_or(false),
        sector: body.sector,
    };
    let report = match import::import(pool, &options, body.file.as_bytes()).await {
        Ok(r) => r,
        Err(ImportError::Invalid(msg)) => {
            return Err(Problem::invalid(vec![FieldError::new(
                "bestand",
                "ongeldig-bestand",
                msg,
            )]))
        }
        Err(ImportError::Db(e)) => {
            tracing::error!(error = %e, "registry import failed");
            return Err(Problem::internal());
        }
    };
    tracing::info!(
        kind = options.kind.as_str(),
        municipality = %options.municipality,
        dry_run = options.dry_run,
        applied = report.applied,
        inserted = report.inserted,
        updated = report.updated,
        unchanged = report.unchanged,
        reported = report.issues.len(),
        "registry import"
    );
    if !options.skip_invalid && !report.issues.is_empty() {
        let errors = report
            .issues
            .iter()
            .map(|i| {
                let code = match i.kind {
                    IssueKind::Rejected => "afgewezen",
                    IssueKind::Conflict => "conflict",
                };
                FieldError::new("bestand", code, i.to_string())
            })
            .collect();
        return Err(Problem::invalid(errors).with_detail(format!(
            "{} regels van het bestand zijn gemeld; er is niets geïmporteerd. Verbeter het \
             bestand, of importeer met foutieveRegelsOverslaan de goede regels.",
            report.issues.len()
        )));
    }
    Ok(report)
}

/// The registry's endpoints.
pub fn endpoints(pool: PgPool) -> Endpoints {
    let mut e = Endpoints::new();
    let p = pool.clone();
    e.insert(
        subject::query("registry.sociale-kaart"),
        handler(move |req: Request| {
            let pool = p.clone();
            async move {
                kansrijk_policy::require(&req.actor, "registry.sociale-kaart-raadplegen")?;
                let search = store::check_search(req.json::<DirectorySearch>()?)?;
                store::search(&pool, &search).await
            }
        }),
    );
    let p = pool.clone();
    e.insert(
        subject::query("registry.organisatie"),
        handler(move |req: Request| {
            let pool = p.clone();
            async move {
                kansrijk_policy::require(&req.actor, "registry.organisatie-raadplegen")?;
                let q = req.json::<OrganisationQuery>()?;
                store::organisation(&pool, &q.organisatie_id).await
            }
        }),
    );
    let p = pool.clone();
    e.insert(
        vve_location_subject(),
        handler(move |req: Request| {
            let pool = p.clone();
            async move {
                kansrijk_policy::require(&req.actor, "registry.kinderopvanglocatie-raadplegen")?;
                let q = req.json::<LrkQuery>()?;
                store::childcare_location(&pool, &q.lrk_nummer).await
            }
        }),
    );
    let p = pool.clone();
    e.insert(
        vve_locations_subject(),
        handler(move |req: Request| {
            let pool = p.clone();
            async move {
                kansrijk_policy::require(&req.actor, "registry.kinderopvanglocatie-raadplegen")?;
                let q = req.json::<LrkBatchQuery>()?;
                store::childcare_locations(&pool, &q.lrk_nummers).await
            }
        }),
    );
    let p = pool.clone();
    e.insert(
        school_subject(),
        handler(move |req: Request| {
            let pool = p.clone();
            async move {
                kansrijk_policy::require(&req.actor, "registry.school-raadplegen")?;
                let q = req.json::<SchoolQuery>()?;
                store::school(&pool, &q.brin_vestiging).await
            }
        }),
    );
    let p = pool.clone();
    e.insert(
        postcode_district_subject(),
        handler(move |req: Request| {
            let pool = p.clone();
            async move {
                kansrijk_policy::require(&req.actor, "registry.wijk-bij-postcode-raadplegen")?;
                let q = req.json::<PostcodeDistrictQuery>()?;
                store::district_by_postcode(&pool, &q).await
            }
        }),
    );
    let p = pool.clone();
    e.insert(
        import_subject(),
        handler(move |req: Request| {
            let pool = p.clone();
            async move {
                kansrijk_policy::require(&req.actor, IMPORT_ACTION)?;
                let body = req.json::<RegisterImport>()?;
                run_import(&pool, &req.actor, body).await
            }
        }),
    );
    let p = pool;
    e.insert(
        subject::query("registry.wijken"),
        handler(move |req: Request| {
            let pool = p.clone();
            async move {
                kansrijk_policy::require(&req.actor, "registry.wijken-raadplegen")?;
                let q = req.json::<DistrictsQuery>()?;
                store::districts(&pool, &q.gemeente_code).await
            }
        }),
    );
    e
}

/// Serves the registry's endpoints until shutdown.
pub async fn serve(
    client: async_nats::Client,
    pool: PgPool,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    kansrijk_runtime::service::serve(client, SERVICE, endpoints(pool), 64, shutdown).await
}
