//! The partner registry's reference data, compiled in from the migration that seeds it
//! (`services/gateway/migrations/20002_reference_data.sql`): the municipalities of the programme
//! and their districts. The registry's districts are exactly these (its imports report an unknown
//! district, never add one; a new municipality comes with a migration), so code that needs the
//! list without a round trip to the registry reads it here: the monitor's row labels, and the
//! tests' stand-in for `registry.wijken`.

/// The `(gemeente, wijk)` pairs of the reference data.
pub fn districts() -> Vec<(String, String)> {
    const SQL: &str = include_str!("../../gateway/migrations/20002_reference_data.sql");
    SQL.split("INSERT INTO districts")
        .nth(1)
        .expect("the reference data inserts districts")
        .lines()
        .filter_map(|l| {
            let inner = l
                .trim()
                .trim_end_matches(',')
                .strip_prefix("('")?
                .strip_suffix("')")?;
            let (code, name) = inner.split_once("', '")?;
            Some((code.to_owned(), name.replace("''", "'")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_reference_data_holds_both_municipalities_districts() {
        let d = super::districts();
        assert!(d.contains(&("0546".into(), "Bos- en Gasthuisdistrict".into())));
        assert!(d.contains(&("1916".into(), "Voorburg".into())));
        assert!(d.len() >= 14, "{d:?}");
    }
}
