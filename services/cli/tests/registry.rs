//! `kansrijk registry import` against a fresh PostgreSQL database: the published Leiden school
//! list with its quirks reported, a re-import that changes nothing, a dry run and a strict run
//! that store nothing, the postcode table that the DUO import takes its districts from.

use std::path::{Path, PathBuf};
use std::process::Output;

use kansrijk_runtime::testing::TestDb;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn kansrijk(db: &TestDb, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kansrijk"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run kansrijk")
}

fn stdout(o: &Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn registry_import_reports_quirks_and_a_second_run_changes_nothing() {
    let db = TestDb::new().await;
    let list = repo("services/vve-reach/data/leiden-basisscholen.csv");
    let list = list.to_str().unwrap();

    let first = kansrijk(
        &db,
        &[
            "registry",
            "import",
            "scholenlijst",
            list,
            "--gemeente",
            "0546",
        ],
    );
    let text = stdout(&first);
    assert!(first.status.success(), "{text}");
    assert!(
        text.contains("27 rijen gelezen: 24 toegevoegd, 0 bijgewerkt, 0 ongewijzigd, 3 gemeld"),
        "{text}"
    );
    // The duplicate BRIN: both rows, each with its line; the #N/B district with its line.
    assert!(
        text.contains("regel 4 (17MJ De Springplank): conflict"),
        "{text}"
    );
    assert!(text.contains("regel 24 (17MJ"), "{text}");
    assert!(text.contains("regel 12 (15IC"), "{text}");
    assert!(text.contains("#N/B"), "{text}");

    let again = kansrijk(&db, &["registry", "import", "scholenlijst", list]);
    let text = stdout(&again);
    assert!(again.status.success(), "{text}");
    assert!(
        text.contains("0 toegevoegd, 0 bijgewerkt, 24 ongewijzigd"),
        "{text}"
    );
    assert!(text.contains("(0 gewijzigd)"), "{text}");

    // Postcodes: a dry run and a strict run store nothing; a normal run the valid rows.
    let postcodes = repo("services/gateway/tests/fixtures/registry/postcodes.csv");
    let postcodes = postcodes.to_str().unwrap();
    let dry = kansrijk(
        &db,
        &["registry", "import", "postcodes", postcodes, "--dry-run"],
    );
    let text = stdout(&dry);
    assert!(dry.status.success(), "{text}");
    assert!(text.starts_with("proefimport postcodes"), "{text}");
    assert!(
        text.contains("4 toegevoegd") && text.contains("niets opgeslagen"),
        "{text}"
    );
    let strict = kansrijk(
        &db,
        &["registry", "import", "postcodes", postcodes, "--strict"],
    );
    let text = stdout(&strict);
    assert!(!strict.status.success(), "{text}");
    assert!(text.contains("6 rows reported; nothing stored"), "{text}");
    let real = kansrijk(&db, &["registry", "import", "postcodes", postcodes]);
    assert!(real.status.success(), "{}", stdout(&real));

    // DUO takes its districts from the postcode table.
    let duo = repo("services/gateway/tests/fixtures/registry/duo-vestigingen-po.csv");
    let out = kansrijk(
        &db,
        &["registry", "import", "duo-scholen", duo.to_str().unwrap()],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("4 toegevoegd"), "{text}");
    assert!(text.contains("regel 7 (9XC00"), "{text}");
    let pool = kansrijk_runtime::db::connect(&db.url, "registry", 1)
        .await
        .unwrap();
    let (district,): (Option<String>,) =
        sqlx::query_as("SELECT district FROM schools WHERE brin = '99XA' AND vestiging = '00'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(district.as_deref(), Some("Leiden-Noord"));
    pool.close().await;

    // An unknown municipality and an unknown kind are refused.
    let out = kansrijk(
        &db,
        &[
            "registry",
            "import",
            "scholenlijst",
            list,
            "--gemeente",
            "9999",
        ],
    );
    assert!(!out.status.success());
    assert!(stdout(&out).contains("onbekende gemeentecode 9999"));
    let out = kansrijk(&db, &["registry", "import", "kadaster", list]);
    assert!(!out.status.success());
}
