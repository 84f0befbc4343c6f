//! Demo organisations: one or more per organisation type, matching the development personas.
//! All names marked "(demo)" are fictional; the two primary schools are real Leiden schools from
//! the public reference data.

use sqlx::PgPool;

/// A demo organisation.
#[derive(Debug, Clone, Copy)]
pub struct DemoOrganisation {
    pub id: &'static str,
    pub id_kind: &'static str,
    pub organisation_type: &'static str,
    pub name: &'static str,
    pub municipality: &'static str,
    pub district: Option<&'static str>,
    pub services: &'static [&'static str],
    pub phone: Option<&'static str>,
    pub email: Option<&'static str>,
    /// For childcare (id = LRK number): whether the location offers VVE.
    pub vve: bool,
}

pub const JGZ_LEIDEN: &str = "00000001000000001001";
pub const JGZ_OTHER: &str = "90000001";
pub const CHILDCARE: &str = "100000001";
pub const CHILDCARE_OTHER: &str = "100000002";
pub const CHILDCARE_NO_VVE: &str = "100000003";
pub const PRIMARY: &str = "20VF00";
pub const PRIMARY_OTHER: &str = "15WV00";
pub const SECONDARY: &str = "99ZZ00";
pub const YOUTH_TEAM: &str = "90000002";
pub const LEIDEN: &str = "00000001000000546000";
pub const LEIDSCHENDAM_VOORBURG: &str = "00000001000001916000";
pub const PRIVACY_OFFICE: &str = "00000001000000546001";
pub const JGZ_LEIDSCHENDAM_VOORBURG: &str = "00000001000000001002";

/// The demo organisations.
pub const DEMO_ORGANISATIONS: &[DemoOrganisation] = &[
    DemoOrganisation {
        id: JGZ_LEIDEN,
        id_kind: "oin",
        organisation_type: "jgz",
        name: "JGZ Hollands Midden, team Leiden (demo)",
        municipality: "0546",
        district: None,
        services: &[
            "consultatiebureau",
            "vve-indicatie",
            "toeleiding naar vve",
            "opvoedvragen",
        ],
        phone: Some("071 000 0001"),
        email: Some("jgz-leiden@demo.invalid"),
        vve: false,
    },
    DemoOrganisation {
        id: JGZ_OTHER,
        id_kind: "kvk",
        organisation_type: "jgz",
        name: "Stichting Jeugdgezondheid Rijnland (demo)",
        municipality: "0546",
        district: Some("Merenwijkdistrict"),
        services: &["consultatiebureau", "vve-indicatie"],
        phone: Some("071 000 0002"),
        email: Some("jgz-rijnland@demo.invalid"),
        vve: false,
    },
    DemoOrganisation {
        id: CHILDCARE,
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang De Boomhut (demo)",
        municipality: "0546",
        district: Some("Leiden-Noord"),
        services: &[
            "vve-peuteropvang",
            "wachtlijst",
            "overdracht naar basisschool",
        ],
        phone: Some("071 000 0003"),
        email: Some("boomhut@demo.invalid"),
        vve: true,
    },
    DemoOrganisation {
        id: CHILDCARE_OTHER,
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang Het Molentje (demo)",
        municipality: "0546",
        district: Some("Morsdistrict"),
        services: &["vve-peuteropvang"],
        phone: Some("071 000 0004"),
        email: Some("molentje@demo.invalid"),
        vve: true,
    },
    DemoOrganisation {
        id: CHILDCARE_NO_VVE,
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Kinderdagverblijf De Vlinder (demo)",
        municipality: "0546",
        district: Some("Stevenshofdistrict"),
        services: &["dagopvang"],
        phone: None,
        email: Some("vlinder@demo.invalid"),
        vve: false,
    },
    DemoOrganisation {
        id: PRIMARY,
        id_kind: "brin",
        organisation_type: "basisschool",
        name: "Roomskatholieke Basisschool De Singel",
        municipality: "0546",
        district: Some("Leiden-Noord"),
        services: &["vroegschool", "warme overdracht", "intern begeleider"],
        phone: None,
        email: None,
        vve: false,
    },
    DemoOrganisation {
        id: PRIMARY_OTHER,
        id_kind: "brin",
        organisation_type: "basisschool",
        name: "De Viersprong",
        municipality: "0546",
        district: Some("Leiden-Noord"),
        services: &["vroegschool", "warme overdracht"],
        phone: None,
        email: None,
        vve: false,
    },
    DemoOrganisation {
        id: SECONDARY,
        id_kind: "brin",
        organisation_type: "voortgezet-onderwijs",
        name: "Voorbeeldcollege Leiden (demo)",
        municipality: "0546",
        district: Some("Roodenburgerdistrict"),
        services: &[
            "aanmelding brugklas",
            "warme overdracht po-vo",
            "zorgcoördinator",
        ],
        phone: Some("071 000 0005"),
        email: Some("voorbeeldcollege@demo.invalid"),
        vve: false,
    },
    DemoOrganisation {
        id: YOUTH_TEAM,
        id_kind: "kvk",
        organisation_type: "jeugdteam",
        name: "Jeugd- en gezinsteam Leiden-Noord (demo)",
        municipality: "0546",
        district: Some("Leiden-Noord"),
        services: &["casusregie", "1 gezin 1 plan", "opvoedondersteuning"],
        phone: Some("071 000 0006"),
        email: Some("jgt-noord@demo.invalid"),
        vve: false,
    },
    DemoOrganisation {
        id: LEIDEN,
        id_kind: "oin",
        organisation_type: "gemeente",
        name: "Gemeente Leiden (demo)",
        municipality: "0546",
        district: None,
        services: &["vve-beleid", "doelgroepdefinitie", "kwartaalmonitor"],
        phone: Some("14 071"),
        email: Some("onderwijs@demo.invalid"),
        vve: false,
    },
    DemoOrganisation {
        id: LEIDSCHENDAM_VOORBURG,
        id_kind: "oin",
        organisation_type: "gemeente",
        name: "Gemeente Leidschendam-Voorburg (demo)",
        municipality: "1916",
        district: None,
        services: &["vve-beleid", "koppels kinderopvang-school"],
        phone: Some("14 070"),
        email: Some("onderwijs-lv@demo.invalid"),
        vve: false,
    },
    DemoOrganisation {
        id: "100000011",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuterspeelzaal Het Klavertje (demo)",
        municipality: "0546",
        district: Some("Leiden-Noord"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: "100000012",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang De Burcht (demo)",
        municipality: "0546",
        district: Some("Binnenstad-Zuid"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: "100000013",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang De Sleutel (demo)",
        municipality: "0546",
        district: Some("Boerhaavedistrict"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: "100000014",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang De Kastanje (demo)",
        municipality: "0546",
        district: Some("Bos- en Gasthuisdistrict"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: "100000015",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang De Waterlelie (demo)",
        municipality: "0546",
        district: Some("Merenwijkdistrict"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: "100000016",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang Het Zonnetje (demo)",
        municipality: "0546",
        district: Some("Merenwijkdistrict"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: "100000017",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang De Regenboog (demo)",
        municipality: "0546",
        district: Some("Roodenburgerdistrict"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: "100000018",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang Het Kompas (demo)",
        municipality: "0546",
        district: Some("Stevenshofdistrict"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: JGZ_LEIDSCHENDAM_VOORBURG,
        id_kind: "oin",
        organisation_type: "jgz",
        name: "JGZ Haaglanden, team Leidschendam-Voorburg (demo)",
        municipality: "1916",
        district: None,
        services: &["consultatiebureau", "vve-indicatie", "toeleiding naar vve"],
        phone: Some("070 000 0007"),
        email: Some("jgz-lv@demo.invalid"),
        vve: false,
    },
    DemoOrganisation {
        id: "100000021",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang De Vliet (demo)",
        municipality: "1916",
        district: Some("Leidschendam"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: "100000022",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang Het Hofje (demo)",
        municipality: "1916",
        district: Some("Voorburg"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: "100000023",
        id_kind: "lrk",
        organisation_type: "kinderopvang",
        name: "Peuteropvang De Weide (demo)",
        municipality: "1916",
        district: Some("Stompwijk"),
        services: &["vve-peuteropvang"],
        phone: None,
        email: None,
        vve: true,
    },
    DemoOrganisation {
        id: PRIVACY_OFFICE,
        id_kind: "oin",
        organisation_type: "privacyfunctionaris",
        name: "Functionaris gegevensbescherming Kansrijk (demo)",
        municipality: "0546",
        district: None,
        services: &["inzageverzoeken", "verwijderverzoeken"],
        phone: None,
        email: Some("fg@demo.invalid"),
        vve: false,
    },
];

/// The date the demo world is anchored on: `today` on the first load, the first load's date on
/// every later one.
pub async fn demo_anchor(
    pool: &PgPool,
    today: chrono::NaiveDate,
) -> anyhow::Result<chrono::NaiveDate> {
    sqlx::query(
        "INSERT INTO demo_world (anchored_on) VALUES ($1) ON CONFLICT (singleton) DO NOTHING",
    )
    .bind(today)
    .execute(pool)
    .await?;
    Ok(sqlx::query_scalar("SELECT anchored_on FROM demo_world")
        .fetch_one(pool)
        .await?)
}

/// The demo organisations of one type in one municipality.
pub fn demo_organisations<'a>(
    organisation_type: &'a str,
    municipality: &'a str,
) -> impl Iterator<Item = &'static DemoOrganisation> + 'a {
    DEMO_ORGANISATIONS
        .iter()
        .filter(move |o| o.organisation_type == organisation_type && o.municipality == municipality)
}

/// Inserts (or refreshes) the demo organisations, their childcare locations and schools.
pub async fn seed_demo(pool: &PgPool) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    for o in DEMO_ORGANISATIONS {
        let services: Vec<String> = o.services.iter().map(|s| (*s).to_owned()).collect();
        sqlx::query(
            "INSERT INTO organisations (id, id_kind, organisation_type, name, municipality, \
             district, services, contact_phone, contact_email) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET id_kind = EXCLUDED.id_kind, \
             organisation_type = EXCLUDED.organisation_type, name = EXCLUDED.name, \
             municipality = EXCLUDED.municipality, district = EXCLUDED.district, \
             services = EXCLUDED.services, contact_phone = EXCLUDED.contact_phone, \
             contact_email = EXCLUDED.contact_email, updated_at = now()",
        )
        .bind(o.id)
        .bind(o.id_kind)
        .bind(o.organisation_type)
        .bind(o.name)
        .bind(o.municipality)
        .bind(o.district)
        .bind(&services)
        .bind(o.phone)
        .bind(o.email)
        .execute(&mut *tx)
        .await?;
        match o.organisation_type {
            "kinderopvang" => {
                sqlx::query(
                    "INSERT INTO childcare_locations (lrk, organisation_id, name, municipality, \
                     district, vve) VALUES ($1, $1, $2, $3, $4, $5) \
                     ON CONFLICT (lrk) DO UPDATE SET organisation_id = EXCLUDED.organisation_id, \
                     name = EXCLUDED.name, municipality = EXCLUDED.municipality, \
                     district = EXCLUDED.district, vve = EXCLUDED.vve, updated_at = now()",
                )
                .bind(o.id)
                .bind(o.name)
                .bind(o.municipality)
                .bind(o.district)
                .bind(o.vve)
                .execute(&mut *tx)
                .await?;
            }
            "basisschool" | "voortgezet-onderwijs" => {
                let sector = if o.organisation_type == "basisschool" {
                    "po"
                } else {
                    "vo"
                };
                sqlx::query(
                    "INSERT INTO schools (brin, vestiging, sector, name, municipality, district) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (brin, vestiging) DO UPDATE \
                     SET sector = EXCLUDED.sector, name = EXCLUDED.name, \
                     municipality = EXCLUDED.municipality, district = EXCLUDED.district, \
                     updated_at = now()",
                )
                .bind(&o.id[..4])
                .bind(&o.id[4..])
                .bind(sector)
                .bind(o.name)
                .bind(o.municipality)
                .bind(o.district)
                .execute(&mut *tx)
                .await?;
            }
            _ => {}
        }
    }
    tx.commit().await?;
    Ok(DEMO_ORGANISATIONS.len())
}
