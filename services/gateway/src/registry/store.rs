//! Queries of the registry.

use kansrijk_proto::actor::OrganisationType;
use kansrijk_proto::problem::{FieldError, Problem};
use sqlx::{PgPool, Row};

use super::model::*;

fn db_error(e: &sqlx::Error) -> Problem {
    tracing::error!(error = %e, "registry query failed");
    Problem::internal()
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A checked search.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub text: Option<String>,
    pub organisation_type: Option<String>,
    pub municipality: Option<String>,
    pub district: Option<String>,
    pub vve_only: bool,
    pub page: u32,
    pub page_size: u32,
}

/// Checks a search, reporting every invalid field at once.
pub fn check_search(s: DirectorySearch) -> Result<Search, Problem> {
    let mut errors = Vec::new();
    if let Some(t) = &s.organisation_type {
        if OrganisationType::parse(t).is_none() {
            errors.push(FieldError::new(
                "organisatieType",
                "ongeldige-waarde",
                "Kies uit: jgz, kinderopvang, basisschool, voortgezet-onderwijs, jeugdteam, \
                 gemeente, privacyfunctionaris.",
            ));
        }
    }
    if let Some(m) = &s.municipality {
        if m.len() != 4 || !m.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(FieldError::new(
                "gemeente",
                "ongeldig-formaat",
                "Een CBS-gemeentecode heeft vier cijfers.",
            ));
        }
    }
    if let Some(t) = &s.text {
        if t.chars().count() > 100 {
            errors.push(FieldError::new(
                "zoekterm",
                "te-lang",
                "Hoogstens 100 tekens.",
            ));
        }
    }
    let page = s.page.unwrap_or(1);
    if !(1..=10_000).contains(&page) {
        errors.push(FieldError::new(
            "pagina",
            "buiten-bereik",
            "De pagina is een getal van 1 tot en met 10000.",
        ));
    }
    let page_size = s.page_size.unwrap_or(20);
    if !(1..=100).contains(&page_size) {
        errors.push(FieldError::new(
            "paginaGrootte",
            "buiten-bereik",
            "De paginagrootte is een getal van 1 tot en met 100.",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let blank = |o: Option<String>| o.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    Ok(Search {
        text: blank(s.text),
        organisation_type: s.organisation_type,
        municipality: s.municipality,
        district: blank(s.district),
        vve_only: s.vve_only.unwrap_or(false),
        page: page as u32,
        page_size: page_size as u32,
    })
}

/// Searches the sociale kaart.
pub async fn search(pool: &PgPool, s: &Search) -> Result<DirectoryPage, Problem> {
    let pattern = s.text.as_deref().map(|t| format!("%{}%", escape_like(t)));
    let rows = sqlx::query(
        "WITH entries AS ( \
           SELECT 'organisatie' AS kind, o.id, o.name, o.organisation_type, \
                  o.municipality::text AS municipality, o.district, \
                  (SELECT l.vve FROM childcare_locations l WHERE l.lrk = o.id) AS vve, \
                  o.services, o.contact_phone, o.contact_email, o.website \
             FROM organisations o \
           UNION ALL \
           SELECT 'kinderopvanglocatie', l.lrk, l.name, 'kinderopvang', l.municipality::text, \
                  l.district, l.vve, COALESCE(o.services, '{}'), o.contact_phone, \
                  o.contact_email, o.website \
             FROM childcare_locations l LEFT JOIN organisations o ON o.id = l.organisation_id \
            WHERE NOT EXISTS (SELECT 1 FROM organisations x WHERE x.id = l.lrk) \
           UNION ALL \
           SELECT 'school', s.brin::text || s.vestiging::text, s.name, \
                  CASE s.sector WHEN 'po' THEN 'basisschool' ELSE 'voortgezet-onderwijs' END, \
                  s.municipality::text, s.district, NULL::boolean, '{}'::text[], NULL, NULL, NULL \
             FROM schools s \
            WHERE NOT EXISTS (SELECT 1 FROM organisations x \
                               WHERE x.id = s.brin::text || s.vestiging::text) \
         ) \
         SELECT *, count(*) OVER () AS total FROM entries \
          WHERE ($1::text IS NULL OR name ILIKE $1 OR district ILIKE $1 \
                 OR array_to_string(services, ' ') ILIKE $1) \
            AND ($2::text IS NULL OR organisation_type = $2) \
            AND ($3::text IS NULL OR municipality = $3) \
            AND ($4::text IS NULL OR lower(district) = lower($4)) \
            AND (NOT $5 OR vve IS TRUE) \
          ORDER BY name, id LIMIT $6 OFFSET $7",
    )
    .bind(pattern)
    .bind(&s.organisation_type)
    .bind(&s.municipality)
    .bind(&s.district)
    .bind(s.vve_only)
    .bind(i64::from(s.page_size))
    .bind(i64::from(s.page - 1) * i64::from(s.page_size))
    .fetch_all(pool)
    .await
    .map_err(|e| db_error(&e))?;
    let mut total = 0u64;
    let results = rows
        .iter()
        .map(|r| {
            total = r.get::<i64, _>("total") as u64;
            DirectoryEntry {
                kind: r.get("kind"),
                id: r.get("id"),
                name: r.get("name"),
                organisation_type: r.get("organisation_type"),
                municipality: r.get("municipality"),
                district: r.get("district"),
                vve: r.get("vve"),
                services: r.get("services"),
                phone: r.get("contact_phone"),
                email: r.get("contact_email"),
                website: r.get("website"),
            }
        })
        .collect();
    if rows.is_empty() && s.page > 1 {
        // The total is unknown from an empty page; count separately.
        let first = Search {
            page: 1,
            page_size: 1,
            ..s.clone()
        };
        total = Box::pin(search(pool, &first)).await?.total;
    }
    Ok(DirectoryPage {
        results,
        page: s.page,
        page_size: s.page_size,
        total,
    })
}

/// One organisation, or a 404.
pub async fn organisation(pool: &PgPool, id: &str) -> Result<Organisation, Problem> {
    let row = sqlx::query(
        "SELECT id, id_kind, organisation_type, name, municipality::text AS municipality, \
         district, services, contact_phone, contact_email, website \
         FROM organisations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(|e| db_error(&e))?
    .ok_or_else(|| Problem::not_found("Deze organisatie staat niet in het register."))?;
    Ok(Organisation {
        id: row.get("id"),
        id_kind: row.get("id_kind"),
        organisation_type: row.get("organisation_type"),
        name: row.get("name"),
        municipality: row.get("municipality"),
        district: row.get("district"),
        services: row.get("services"),
        phone: row.get("contact_phone"),
        email: row.get("contact_email"),
        website: row.get("website"),
    })
}

/// Whether an LRK number is a registered (VVE) location.
/// [`childcare_location`] for several LRK numbers in one query, in the order asked; every
/// malformed number is reported at once.
pub async fn childcare_locations(
    pool: &PgPool,
    lrks: &[String],
) -> Result<ChildcareLocationChecks, Problem> {
    let errors: Vec<FieldError> = lrks
        .iter()
        .enumerate()
        .filter(|(_, l)| l.len() < 9 || l.len() > 12 || !l.bytes().all(|b| b.is_ascii_digit()))
        .map(|(i, _)| {
            FieldError::new(
                format!("lrkNummers.{i}"),
                "ongeldig-formaat",
                "Een LRK-nummer bestaat uit 9 tot 12 cijfers.",
            )
        })
        .collect();
    if lrks.len() > MAX_LRK_BATCH || !errors.is_empty() {
        let mut errors = errors;
        if lrks.len() > MAX_LRK_BATCH {
            errors.insert(
                0,
                FieldError::new(
                    "lrkNummers",
                    "te-veel",
                    format!("Hoogstens {MAX_LRK_BATCH} element(en) toegestaan."),
                ),
            );
        }
        return Err(Problem::invalid(errors));
    }
    let rows = sqlx::query(
        "SELECT lrk, name, municipality::text AS municipality, district, vve, organisation_id \
         FROM childcare_locations WHERE lrk = ANY($1)",
    )
    .bind(lrks)
    .fetch_all(pool)
    .await
    .map_err(|e| db_error(&e))?;
    let found: std::collections::HashMap<String, ChildcareLocationCheck> = rows
        .into_iter()
        .map(|r| {
            let lrk: String = r.get("lrk");
            let check = ChildcareLocationCheck {
                lrk_nummer: lrk.clone(),
                registered: true,
                vve: r.get("vve"),
                name: r.get("name"),
                municipality: r.get("municipality"),
                district: r.get("district"),
                organisation_id: r.get("organisation_id"),
            };
            (lrk, check)
        })
        .collect();
    let locaties = lrks
        .iter()
        .map(|l| {
            found
                .get(l)
                .cloned()
                .unwrap_or_else(|| ChildcareLocationCheck {
                    lrk_nummer: l.clone(),
                    registered: false,
                    vve: false,
                    name: None,
                    municipality: None,
                    district: None,
                    organisation_id: None,
                })
        })
        .collect();
    Ok(ChildcareLocationChecks { locaties })
}

pub async fn childcare_location(
    pool: &PgPool,
    lrk: &str,
) -> Result<ChildcareLocationCheck, Problem> {
    if lrk.len() < 9 || lrk.len() > 12 || !lrk.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::invalid(vec![FieldError::new(
            "lrkNummer",
            "ongeldig-formaat",
            "Een LRK-nummer bestaat uit 9 tot 12 cijfers.",
        )]));
    }
    let row = sqlx::query(
        "SELECT name, municipality::text AS municipality, district, vve, organisation_id \
         FROM childcare_locations WHERE lrk = $1",
    )
    .bind(lrk)
    .fetch_optional(pool)
    .await
    .map_err(|e| db_error(&e))?;
    Ok(match row {
        Some(r) => ChildcareLocationCheck {
            lrk_nummer: lrk.to_owned(),
            registered: true,
            vve: r.get("vve"),
            name: r.get("name"),
            municipality: r.get("municipality"),
            district: r.get("district"),
            organisation_id: r.get("organisation_id"),
        },
        None => ChildcareLocationCheck {
            lrk_nummer: lrk.to_owned(),
            registered: false,
            vve: false,
            name: None,
            municipality: None,
            district: None,
            organisation_id: None,
        },
    })
}

/// Whether a BRIN+vestiging is a registered school location.
pub async fn school(pool: &PgPool, brin_vestiging: &str) -> Result<SchoolCheck, Problem> {
    let key = brin_vestiging.to_uppercase();
    // ASCII first: slicing at byte 4 of a non-ASCII value would panic (found by schemathesis).
    if key.len() != 6
        || !key.is_ascii()
        || !super::import::valid_brin(&key[..4])
        || !key[4..].bytes().all(|b| b.is_ascii_digit())
    {
        return Err(Problem::invalid(vec![FieldError::new(
            "brinVestiging",
            "ongeldig-formaat",
            "Verwacht: BRIN-nummer plus vestigingsnummer, bijvoorbeeld 20VF00.",
        )]));
    }
    let row = sqlx::query(
        "SELECT sector, name, municipality::text AS municipality, district FROM schools \
         WHERE brin = $1 AND vestiging = $2",
    )
    .bind(&key[..4])
    .bind(&key[4..])
    .fetch_optional(pool)
    .await
    .map_err(|e| db_error(&e))?;
    Ok(SchoolCheck {
        brin_vestiging: key,
        registered: row.is_some(),
        sector: row.as_ref().map(|r| r.get("sector")),
        name: row.as_ref().map(|r| r.get("name")),
        municipality: row.as_ref().map(|r| r.get("municipality")),
        district: row.as_ref().and_then(|r| r.get("district")),
    })
}

/// The districts of a municipality (404 for an unknown municipality).
pub async fn districts(pool: &PgPool, municipality: &str) -> Result<Vec<District>, Problem> {
    if municipality.len() != 4 || !municipality.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::invalid(vec![FieldError::new(
            "gemeenteCode",
            "ongeldig-formaat",
            "Een CBS-gemeentecode heeft vier cijfers.",
        )]));
    }
    let known: Option<(String,)> =
        sqlx::query_as("SELECT name FROM municipalities WHERE cbs_code = $1")
            .bind(municipality)
            .fetch_optional(pool)
            .await
            .map_err(|e| db_error(&e))?;
    if known.is_none() {
        return Err(Problem::not_found(
            "Deze gemeente staat niet in het register.",
        ));
    }
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM districts WHERE municipality = $1 ORDER BY name")
            .bind(municipality)
            .fetch_all(pool)
            .await
            .map_err(|e| db_error(&e))?;
    Ok(rows
        .into_iter()
        .map(|(name,)| District {
            municipality: municipality.to_owned(),
            name,
        })
        .collect())
}

/// The district of an address (`registry.wijk-bij-postcode`): what the postcode table says, or
/// `null`; every invalid field at once.
pub async fn district_by_postcode(
    pool: &PgPool,
    q: &PostcodeDistrictQuery,
) -> Result<PostcodeDistrict, Problem> {
    let mut errors = Vec::new();
    if q.gemeente_code.len() != 4 || !q.gemeente_code.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(FieldError::new(
            "gemeenteCode",
            "ongeldig-formaat",
            "Een CBS-gemeentecode heeft vier cijfers.",
        ));
    }
    let postcode = super::import::normalise_postcode(&q.postcode);
    if postcode.is_none() {
        errors.push(FieldError::new(
            "postcode",
            "ongeldig-formaat",
            "Een postcode heeft vier cijfers en twee letters, bijvoorbeeld 2316AB.",
        ));
    }
    let house_number = match q.huisnummer {
        None => None,
        Some(n) if (1..=i64::from(i32::MAX)).contains(&n) => Some(n as i32),
        Some(_) => {
            errors.push(FieldError::new(
                "huisnummer",
                "buiten-bereik",
                "Een huisnummer is een geheel getal vanaf 1.",
            ));
            None
        }
    };
    let Some(postcode) = postcode.filter(|_| errors.is_empty()) else {
        return Err(Problem::invalid(errors));
    };
    let wijk =
        super::import::district_for_postcode(pool, &q.gemeente_code, &postcode, house_number)
            .await
            .map_err(|e| db_error(&e))?;
    Ok(PostcodeDistrict { wijk })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_reports_every_invalid_field() {
        let err = check_search(DirectorySearch {
            organisation_type: Some("bakker".into()),
            municipality: Some("546".into()),
            page: Some(0),
            page_size: Some(1000),
            ..Default::default()
        })
        .unwrap_err();
        let names: Vec<&str> = err.invalid_params.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["organisatieType", "gemeente", "pagina", "paginaGrootte"]
        );
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_a\\"), "50\\%\\_a\\\\");
    }
}
