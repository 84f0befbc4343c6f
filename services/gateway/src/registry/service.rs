//! The registry's NATS query endpoints (`kansrijk.qry.registry.<name>`), served by the gateway
//! process. Each handler authorises the actor again (defence in depth).

use kansrijk_proto::subject;
use kansrijk_runtime::service::{handler, Endpoints, Request};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::model::*;
use super::store;

/// The NATS service name.
pub const SERVICE: &str = "registry";

/// Subject of "is this LRK number a registered (VVE) location".
pub fn vve_location_subject() -> String {
    subject::query("registry.vve-locatie")
}

/// Subject of "is this BRIN+vestiging a registered school".
pub fn school_subject() -> String {
    subject::query("registry.school")
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
