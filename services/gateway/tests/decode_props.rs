//! Property tests for the registry's CSV import parsers (schools and childcare locations): any
//! file, however broken, parses to a report or a file-level error, never a panic; every data row
//! is accounted for (valid, rejected or ambiguous), and every valid row passes the checks.

use kansrijk_gateway::registry::import::{parse_childcare, parse_schools, valid_brin};
use proptest::prelude::*;

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{2}[A-Z]{2}",
        "[0-9a-zA-Z]{0,6}",
        "[0-9]{9,12}",
        "-?[0-9]{1,6}(\\.[0-9]{1,3})?",
        Just("#N/B".to_owned()),
        Just("ja".to_owned()),
        Just("nee".to_owned()),
        Just("\"quoted, with comma\"".to_owned()),
        Just("\"unterminated".to_owned()),
        ".{0,12}",
    ]
}

fn header(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::subsequence(names.to_vec(), 0..=names.len())
        .prop_shuffle()
        .prop_map(|cols| {
            let mut h = cols.join(",");
            h.insert(0, '\u{feff}');
            h
        })
}

fn rows() -> impl Strategy<Value = Vec<Vec<String>>> {
    prop::collection::vec(prop::collection::vec(cell(), 0..8), 0..12)
}

fn file(header: String, rows: &[Vec<String>], sep: &str) -> String {
    let mut s = header;
    for r in rows {
        s.push_str(sep);
        s.push_str(&r.join(","));
    }
    s
}

const SCHOOL_COLUMNS: &[&str] = &[
    "brin",
    "schoolnaam",
    "vestiging",
    "leerlingen",
    "schoolscore_met_drempel",
    "wijk",
    "extra",
];
const CHILDCARE_COLUMNS: &[&str] = &["lrk", "naam", "vve", "wijk", "organisatie", "extra"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn schools_parse_accounts_for_every_row(
        h in header(SCHOOL_COLUMNS),
        rows in rows(),
        crlf in any::<bool>(),
    ) {
        let text = file(h, &rows, if crlf { "\r\n" } else { "\n" });
        if let Ok(p) = parse_schools(text.as_bytes()) {
            prop_assert!(p.valid.len() <= p.rows);
            prop_assert!(p.rejected.len() + p.ambiguous.len() <= p.rows);
            for row in &p.valid {
                prop_assert!(valid_brin(&row.brin));
                prop_assert!(!row.name.is_empty());
            }
        }
    }

    #[test]
    fn schools_parse_of_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_schools(bytes.as_slice());
        let mut with_header = b"brin,schoolnaam,vestiging,leerlingen\n".to_vec();
        with_header.extend(&bytes);
        let _ = parse_schools(with_header.as_slice());
    }

    #[test]
    fn childcare_parse_accounts_for_every_row(
        h in header(CHILDCARE_COLUMNS),
        rows in rows(),
    ) {
        let text = file(h, &rows, "\n");
        if let Ok((n, valid, _rejected, _ambiguous)) = parse_childcare(text.as_bytes()) {
            prop_assert!(valid.len() <= n);
            for row in &valid {
                prop_assert!(row.lrk.bytes().all(|b| b.is_ascii_digit()));
                prop_assert!((9..=12).contains(&row.lrk.len()));
                prop_assert!(!row.name.is_empty());
            }
        }
    }

    #[test]
    fn childcare_parse_of_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_childcare(bytes.as_slice());
        let mut with_header = b"lrk,naam,vve,wijk,organisatie\n".to_vec();
        with_header.extend(&bytes);
        let _ = parse_childcare(with_header.as_slice());
    }
}

#[test]
fn a_valid_file_imports_its_rows() {
    let p = parse_schools(
        "brin,schoolnaam,vestiging,leerlingen\n12AB,De Regenboog,00,120\n34CD,Het Anker,01,#N/B\n"
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(p.rows, 2);
    assert_eq!(
        p.valid.len() + p.rejected.len() + p.ambiguous.len(),
        2,
        "every row is accounted for: {p:?}"
    );
    assert!(!p.valid.is_empty(), "{p:?}");
    assert!(parse_schools("naam\nx\n".as_bytes()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// A school key from a URL path (`GET /v1/scholen/{brinVestiging}`) that is not six ASCII
    /// characters is a 400 before any database work, never a panic (schemathesis found a 500 for
    /// a six-byte non-ASCII key).
    #[test]
    fn school_key_check_never_panics(key in prop_oneof![
        "\\PC{0,8}",
        "[ -~]{6}",
        "[0-9]{2}[A-Z]{2}[^0-9]{2}",
        Just(" \u{8f}\u{ec}\u{7f}".to_owned()),
    ]) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        // Never connected: every key here is refused before the database is asked.
        let _in_runtime = rt.enter();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .connect_lazy("postgres://nobody@127.0.0.1:1/none")
            .unwrap();
        let upper = key.to_uppercase();
        let well_formed = upper.len() == 6
            && upper.is_ascii()
            && valid_brin(&upper[..4])
            && upper[4..].bytes().all(|b| b.is_ascii_digit());
        prop_assume!(!well_formed);
        let answer = rt.block_on(kansrijk_gateway::registry::store::school(&pool, &key));
        prop_assert_eq!(answer.err().map(|p| p.status), Some(400));
    }
}
