//! CSV import of schools into the registry. Every row that cannot be imported is reported with its
//! line and the reason; ambiguous rows (the same key twice in one file) are reported and none of
//! them is imported, because choosing one would be a guess; every other valid row is imported.
//!
//! Columns (header names, case-insensitive, any order): `brin` (required), `schoolnaam` or `naam`
//! (required), `vestiging` (optional; without it every BRIN is taken as location `00` and the report
//! says so), `leerlingen`, `schoolscore_met_drempel`, `wijk`. A score of `0` is a real value.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

use serde::Serialize;
use sqlx::PgPool;

/// School sector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sector {
    /// Primary school (basisschool).
    Po,
    /// Secondary school (voortgezet onderwijs).
    Vo,
}

impl Sector {
    pub fn as_str(self) -> &'static str {
        match self {
            Sector::Po => "po",
            Sector::Vo => "vo",
        }
    }
}

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowIssue {
    /// Line in the file (the header is line 1).
    pub line: u64,
    /// The row's key as far as it could be read (BRIN, BRIN+vestiging).
    pub key: String,
    pub name: String,
    pub reasons: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Data rows read (without the header).
    pub rows: usize,
    pub imported: usize,
    pub rejected: Vec<RowIssue>,
    pub ambiguous: Vec<RowIssue>,
    /// Notes about the whole file (assumptions made, districts added).
    pub notes: Vec<String>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} rijen gelezen: {} geïmporteerd, {} afgewezen, {} niet eenduidig.",
            self.rows,
            self.imported,
            self.rejected.len(),
            self.ambiguous.len()
        )?;
        for issue in &self.rejected {
            writeln!(
                f,
                "  afgewezen, regel {} ({} {}): {}",
                issue.line,
                issue.key,
                issue.name,
                issue.reasons.join("; ")
            )?;
        }
        for issue in &self.ambiguous {
            writeln!(
                f,
                "  niet eenduidig, regel {} ({} {}): {}",
                issue.line,
                issue.key,
                issue.name,
                issue.reasons.join("; ")
            )?;
        }
        for note in &self.notes {
            writeln!(f, "  let op: {note}")?;
        }
        Ok(())
    }
}

/// A valid school row.
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolRow {
    pub line: u64,
    pub brin: String,
    pub vestiging: String,
    pub name: String,
    pub pupils: Option<i32>,
    pub score: Option<f64>,
    pub district: Option<String>,
}

/// Values spreadsheets use for "not available".
const MISSING: &[&str] = &["#n/b", "#n/a", "n/b", "n.v.t.", "nvt", "-", "?"];

fn is_missing(v: &str) -> bool {
    v.is_empty() || MISSING.contains(&v.to_lowercase().as_str())
}

/// A BRIN number: two digits and two capital letters.
pub fn valid_brin(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 4
        && b[0].is_ascii_digit()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_uppercase()
        && b[3].is_ascii_uppercase()
}

/// The result of parsing a file, before it touches the database.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: usize,
    pub valid: Vec<SchoolRow>,
    pub rejected: Vec<RowIssue>,
    pub ambiguous: Vec<RowIssue>,
    pub notes: Vec<String>,
    pub has_vestiging: bool,
}

/// Parses and checks a schools CSV (pure: no database). District names are checked later.
pub fn parse_schools(input: impl Read) -> anyhow::Result<Parsed> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let brin_col = col(&["brin", "brin_nummer", "brinnummer"])
        .ok_or_else(|| anyhow::anyhow!("kolom 'brin' ontbreekt"))?;
    let name_col = col(&["schoolnaam", "naam"])
        .ok_or_else(|| anyhow::anyhow!("kolom 'schoolnaam' ontbreekt"))?;
    let vestiging_col = col(&["vestiging", "vestigingsnummer"]);
    let pupils_col = col(&["leerlingen", "aantal_leerlingen"]);
    let score_col = col(&["schoolscore_met_drempel", "schoolscore"]);
    let district_col = col(&["wijk"]);

    let mut parsed = Parsed {
        has_vestiging: vestiging_col.is_some(),
        ..Default::default()
    };
    let mut candidates: Vec<SchoolRow> = Vec::new();
    for record in reader.records() {
        let record = record?;
        parsed.rows += 1;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let brin_raw = get(Some(brin_col));
        let brin = brin_raw.to_uppercase();
        let name = get(Some(name_col)).to_owned();
        let mut reasons = Vec::new();
        if !valid_brin(&brin) {
            reasons.push("BRIN-nummer ongeldig (verwacht twee cijfers en twee letters)".to_owned());
        }
        if name.is_empty() {
            reasons.push("schoolnaam ontbreekt".to_owned());
        }
        let vestiging = match vestiging_col {
            None => "00".to_owned(),
            Some(_) => {
                let v = get(vestiging_col);
                let v = if v.len() == 1 {
                    format!("0{v}")
                } else {
                    v.to_owned()
                };
                if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_digit()) {
                    reasons.push("vestigingsnummer ongeldig (verwacht twee cijfers)".to_owned());
                }
                v
            }
        };
        let pupils = match get(pupils_col) {
            "" => None,
            v => match v.parse::<i32>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    reasons.push("aantal leerlingen is geen geheel getal van 0 of meer".to_owned());
                    None
                }
            },
        };
        let score = match get(score_col) {
            "" => None,
            v if is_missing(v) => None,
            v => match v.replace(',', ".").parse::<f64>() {
                Ok(x) if x >= 0.0 && x.is_finite() => Some(x),
                _ => {
                    reasons.push("schoolscore is geen getal van 0 of meer".to_owned());
                    None
                }
            },
        };
        let district = match district_col {
            None => None,
            Some(_) => {
                let d = get(district_col);
                if is_missing(d) {
                    reasons.push(format!(
                        "wijk ontbreekt (de bron vermeldt {:?})",
                        if d.is_empty() { "" } else { d }
                    ));
                    None
                } else {
                    Some(d.to_owned())
                }
            }
        };
        let key = if vestiging_col.is_some() {
            format!("{brin}{vestiging}")
        } else {
            brin.clone()
        };
        if reasons.is_empty() {
            candidates.push(SchoolRow {
                line,
                brin,
                vestiging,
                name,
                pupils,
                score,
                district,
            });
        } else {
            parsed.rejected.push(RowIssue {
                line,
                key: if brin_raw.is_empty() { "-".into() } else { key },
                name,
                reasons,
            });
        }
    }

    // The same key twice is ambiguous: report every such row, import none of them.
    let mut by_key: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, row) in candidates.iter().enumerate() {
        by_key
            .entry((row.brin.clone(), row.vestiging.clone()))
            .or_default()
            .push(i);
    }
    let mut ambiguous_rows = vec![false; candidates.len()];
    for ((brin, vestiging), idx) in &by_key {
        if idx.len() < 2 {
            continue;
        }
        let lines: Vec<String> = idx
            .iter()
            .map(|&i| candidates[i].line.to_string())
            .collect();
        for &i in idx {
            ambiguous_rows[i] = true;
            let reason = if parsed.has_vestiging {
                format!(
                    "BRIN {brin} vestiging {vestiging} komt {} keer voor (regels {})",
                    idx.len(),
                    lines.join(", ")
                )
            } else {
                format!(
                    "BRIN {brin} komt {} keer voor (regels {}) en het bestand heeft geen \
                     vestigingsnummer om de scholen te onderscheiden; geen van deze rijen is \
                     geïmporteerd",
                    idx.len(),
                    lines.join(", ")
                )
            };
            parsed.ambiguous.push(RowIssue {
                line: candidates[i].line,
                key: if parsed.has_vestiging {
                    format!("{brin}{vestiging}")
                } else {
                    brin.clone()
                },
                name: candidates[i].name.clone(),
                reasons: vec![reason],
            });
        }
    }
    parsed.ambiguous.sort_by_key(|r| r.line);
    parsed.valid = candidates
        .into_iter()
        .zip(ambiguous_rows)
        .filter(|(_, amb)| !amb)
        .map(|(r, _)| r)
        .collect();
    if !parsed.has_vestiging {
        parsed.notes.push(
            "het bestand heeft geen kolom 'vestiging': elke school is als vestiging 00 \
             (hoofdvestiging) geregistreerd"
                .into(),
        );
    }
    Ok(parsed)
}

/// Imports a schools CSV for municipality `municipality` (CBS code). Valid rows are upserted in
/// one transaction; the report names every row that was not imported and why.
pub async fn import_schools_csv(
    pool: &PgPool,
    input: impl Read,
    municipality: &str,
    sector: Sector,
) -> anyhow::Result<ImportReport> {
    let known: Option<(String,)> =
        sqlx::query_as("SELECT name FROM municipalities WHERE cbs_code = $1")
            .bind(municipality)
            .fetch_optional(pool)
            .await?;
    if known.is_none() {
        anyhow::bail!("onbekende gemeentecode {municipality}");
    }
    let parsed = parse_schools(input)?;
    let districts: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM districts WHERE municipality = $1")
            .bind(municipality)
            .fetch_all(pool)
            .await?;
    let districts: HashMap<String, String> = districts
        .into_iter()
        .map(|(d,)| (d.to_lowercase(), d))
        .collect();
    let create_districts = districts.is_empty();

    let mut report = ImportReport {
        rows: parsed.rows,
        rejected: parsed.rejected,
        ambiguous: parsed.ambiguous,
        notes: parsed.notes,
        ..Default::default()
    };
    let mut tx = pool.begin().await?;
    let mut added = Vec::new();
    for mut row in parsed.valid {
        if let Some(d) = &row.district {
            match districts.get(&d.to_lowercase()) {
                Some(canonical) => row.district = Some(canonical.clone()),
                None if create_districts => {
                    sqlx::query(
                        "INSERT INTO districts (municipality, name) VALUES ($1, $2) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(municipality)
                    .bind(d)
                    .execute(&mut *tx)
                    .await?;
                    if !added.contains(d) {
                        added.push(d.clone());
                    }
                }
                None => {
                    report.rejected.push(RowIssue {
                        line: row.line,
                        key: row.brin.clone(),
                        name: row.name.clone(),
                        reasons: vec![format!(
                            "wijk {d:?} is geen bekende wijk van gemeente {municipality}"
                        )],
                    });
                    continue;
                }
            }
        }
        sqlx::query(
            "INSERT INTO schools (brin, vestiging, sector, name, municipality, district, pupils, \
             school_score) VALUES ($1, $2, $3, $4, $5, $6, $7, CAST($8 AS float8)) \
             ON CONFLICT (brin, vestiging) DO UPDATE SET sector = EXCLUDED.sector, \
             name = EXCLUDED.name, municipality = EXCLUDED.municipality, \
             district = EXCLUDED.district, pupils = EXCLUDED.pupils, \
             school_score = EXCLUDED.school_score, updated_at = now()",
        )
        .bind(&row.brin)
        .bind(&row.vestiging)
        .bind(sector.as_str())
        .bind(&row.name)
        .bind(municipality)
        .bind(&row.district)
        .bind(row.pupils)
        .bind(row.score)
        .execute(&mut *tx)
        .await?;
        report.imported += 1;
    }
    tx.commit().await?;
    report.rejected.sort_by_key(|r| r.line);
    if !added.is_empty() {
        report
            .notes
            .push(format!("nieuwe wijken toegevoegd: {}", added.join(", ")));
    }
    metrics::counter!("kansrijk_registry_import_rows_total", "outcome" => "imported")
        .increment(report.imported as u64);
    metrics::counter!("kansrijk_registry_import_rows_total", "outcome" => "rejected")
        .increment(report.rejected.len() as u64);
    metrics::counter!("kansrijk_registry_import_rows_total", "outcome" => "ambiguous")
        .increment(report.ambiguous.len() as u64);
    Ok(report)
}

/// Imports a schools CSV file.
pub async fn import_schools_file(
    pool: &PgPool,
    path: &std::path::Path,
    municipality: &str,
    sector: Sector,
) -> anyhow::Result<ImportReport> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("{} kan niet worden geopend: {e}", path.display()))?;
    import_schools_csv(pool, file, municipality, sector).await
}

/// A parsed childcare file: rows read, valid rows, rejected rows, ambiguous rows.
pub type ParsedChildcare = (usize, Vec<ChildcareRow>, Vec<RowIssue>, Vec<RowIssue>);

/// A valid childcare location row.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildcareRow {
    pub line: u64,
    pub lrk: String,
    pub name: String,
    pub district: Option<String>,
    pub vve: bool,
    pub organisation: Option<String>,
}

/// Parses and checks a childcare locations CSV (pure). Columns: `lrk` (required, 9-12 digits),
/// `naam` (required), `vve` (required: ja/nee, true/false, 1/0), `wijk`, `organisatie` (optional:
/// the registered organisation the location belongs to).
pub fn parse_childcare(input: impl Read) -> anyhow::Result<ParsedChildcare> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let lrk_col = col(&["lrk", "lrk_nummer", "lrknummer", "lrk-nummer"])
        .ok_or_else(|| anyhow::anyhow!("kolom 'lrk' ontbreekt"))?;
    let name_col = col(&["naam", "locatienaam", "naam_locatie"])
        .ok_or_else(|| anyhow::anyhow!("kolom 'naam' ontbreekt"))?;
    let vve_col = col(&["vve", "vve_erkend", "vve-aanbod"])
        .ok_or_else(|| anyhow::anyhow!("kolom 'vve' ontbreekt"))?;
    let district_col = col(&["wijk"]);
    let org_col = col(&["organisatie", "organisatie_id", "kvk"]);
    let mut rows = 0;
    let mut candidates = Vec::new();
    let mut rejected = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows += 1;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let lrk = get(Some(lrk_col)).to_owned();
        let name = get(Some(name_col)).to_owned();
        let mut reasons = Vec::new();
        if lrk.len() < 9 || lrk.len() > 12 || !lrk.bytes().all(|b| b.is_ascii_digit()) {
            reasons.push("LRK-nummer ongeldig (verwacht 9 tot 12 cijfers)".to_owned());
        }
        if name.is_empty() {
            reasons.push("naam ontbreekt".to_owned());
        }
        let vve = match get(Some(vve_col)).to_lowercase().as_str() {
            "ja" | "j" | "true" | "1" | "yes" => Some(true),
            "nee" | "n" | "false" | "0" | "no" => Some(false),
            _ => {
                reasons.push("vve is geen ja of nee".to_owned());
                None
            }
        };
        let district = match district_col {
            None => None,
            Some(_) => {
                let d = get(district_col);
                if is_missing(d) {
                    reasons.push(format!("wijk ontbreekt (de bron vermeldt {d:?})"));
                    None
                } else {
                    Some(d.to_owned())
                }
            }
        };
        let organisation = Some(get(org_col).to_owned()).filter(|o| !o.is_empty());
        match (reasons.is_empty(), vve) {
            (true, Some(vve)) => candidates.push(ChildcareRow {
                line,
                lrk,
                name,
                district,
                vve,
                organisation,
            }),
            _ => rejected.push(RowIssue {
                line,
                key: if lrk.is_empty() { "-".into() } else { lrk },
                name,
                reasons,
            }),
        }
    }
    let mut count: HashMap<String, Vec<u64>> = HashMap::new();
    for c in &candidates {
        count.entry(c.lrk.clone()).or_default().push(c.line);
    }
    let mut ambiguous = Vec::new();
    let mut valid = Vec::new();
    for c in candidates {
        let lines = &count[&c.lrk];
        if lines.len() > 1 {
            let list: Vec<String> = lines.iter().map(u64::to_string).collect();
            ambiguous.push(RowIssue {
                line: c.line,
                key: c.lrk.clone(),
                name: c.name.clone(),
                reasons: vec![format!(
                    "LRK-nummer {} komt {} keer voor (regels {}); geen van deze rijen is geïmporteerd",
                    c.lrk,
                    lines.len(),
                    list.join(", ")
                )],
            });
        } else {
            valid.push(c);
        }
    }
    Ok((rows, valid, rejected, ambiguous))
}

/// Imports childcare locations (LRK, with their VVE registration) for `municipality`.
pub async fn import_childcare_csv(
    pool: &PgPool,
    input: impl Read,
    municipality: &str,
) -> anyhow::Result<ImportReport> {
    let known: Option<(String,)> =
        sqlx::query_as("SELECT name FROM municipalities WHERE cbs_code = $1")
            .bind(municipality)
            .fetch_optional(pool)
            .await?;
    if known.is_none() {
        anyhow::bail!("onbekende gemeentecode {municipality}");
    }
    let (rows, valid, rejected, ambiguous) = parse_childcare(input)?;
    let districts: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM districts WHERE municipality = $1")
            .bind(municipality)
            .fetch_all(pool)
            .await?;
    let districts: HashMap<String, String> = districts
        .into_iter()
        .map(|(d,)| (d.to_lowercase(), d))
        .collect();
    let mut report = ImportReport {
        rows,
        rejected,
        ambiguous,
        ..Default::default()
    };
    let mut tx = pool.begin().await?;
    for mut row in valid {
        let mut reasons = Vec::new();
        if let Some(d) = &row.district {
            match districts.get(&d.to_lowercase()) {
                Some(canonical) => row.district = Some(canonical.clone()),
                None => reasons.push(format!(
                    "wijk {d:?} is geen bekende wijk van gemeente {municipality}"
                )),
            }
        }
        if let Some(org) = &row.organisation {
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT id FROM organisations WHERE id = $1")
                    .bind(org)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                reasons.push("de organisatie staat niet in het register".to_owned());
            }
        }
        if !reasons.is_empty() {
            report.rejected.push(RowIssue {
                line: row.line,
                key: row.lrk.clone(),
                name: row.name.clone(),
                reasons,
            });
            continue;
        }
        sqlx::query(
            "INSERT INTO childcare_locations (lrk, organisation_id, name, municipality, district, \
             vve) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (lrk) DO UPDATE SET \
             organisation_id = EXCLUDED.organisation_id, name = EXCLUDED.name, \
             municipality = EXCLUDED.municipality, district = EXCLUDED.district, \
             vve = EXCLUDED.vve, updated_at = now()",
        )
        .bind(&row.lrk)
        .bind(&row.organisation)
        .bind(&row.name)
        .bind(municipality)
        .bind(&row.district)
        .bind(row.vve)
        .execute(&mut *tx)
        .await?;
        report.imported += 1;
    }
    tx.commit().await?;
    report.rejected.sort_by_key(|r| r.line);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brin_format() {
        assert!(valid_brin("17MJ"));
        assert!(valid_brin("04PN"));
        assert!(!valid_brin("17mj"));
        assert!(!valid_brin("1MJ7"));
        assert!(!valid_brin("17MJ0"));
    }

    #[test]
    fn quirks_of_a_spreadsheet_export() {
        let csv = "brin,schoolnaam,leerlingen,schoolscore_met_drempel,wijk\n\
                   20VF,De Singel,190,524.11,Leiden-Noord\n\
                   17MJ,De Springplank,237,455.29,Leiden-Noord\n\
                   15IC,Apollo,144,76.18,#N/B\n\
                   04PN,Haanstra,245,0,Binnenstad-Zuid\n\
                   17MJ,De Leidse Houtschool,231,0,Boerhaavedistrict\n\
                   XX,Kapot,abc,-1,Morsdistrict\n";
        let p = parse_schools(csv.as_bytes()).unwrap();
        assert_eq!(p.rows, 6);
        let valid: Vec<&str> = p.valid.iter().map(|r| r.brin.as_str()).collect();
        assert_eq!(valid, vec!["20VF", "04PN"]);
        assert_eq!(p.valid[1].score, Some(0.0), "0 is a value, not missing");
        assert_eq!(p.ambiguous.len(), 2);
        assert_eq!(p.ambiguous[0].line, 3);
        assert_eq!(p.ambiguous[1].line, 6);
        assert!(p.ambiguous[0].reasons[0].contains("regels 3, 6"));
        assert_eq!(p.rejected.len(), 2);
        assert_eq!(p.rejected[0].line, 4);
        assert!(p.rejected[0].reasons[0].contains("#N/B"));
        assert_eq!(p.rejected[1].reasons.len(), 3, "{:?}", p.rejected[1]);
        assert!(!p.has_vestiging && p.notes.len() == 1);
    }

    #[test]
    fn childcare_rows_are_checked_and_duplicates_reported() {
        let csv = "lrk,naam,wijk,vve\n\
                   100000011,De Eikel,Leiden-Noord,ja\n\
                   100000012,De Beuk,#N/B,nee\n\
                   12,Kort,Morsdistrict,ja\n\
                   100000013,Twee keer,Morsdistrict,misschien\n\
                   100000014,Een,Morsdistrict,1\n\
                   100000014,Twee,Morsdistrict,0\n";
        let (rows, valid, rejected, ambiguous) = parse_childcare(csv.as_bytes()).unwrap();
        assert_eq!(rows, 6);
        assert_eq!(valid.len(), 1);
        assert!(valid[0].vve);
        assert_eq!(rejected.len(), 3);
        assert_eq!(ambiguous.len(), 2);
        assert!(rejected[2].reasons[0].contains("ja of nee"));
    }

    #[test]
    fn with_a_vestiging_column_the_same_brin_is_fine() {
        let csv = "brin,vestiging,naam,wijk\n17MJ,00,De Springplank,Leiden-Noord\n\
                   17MJ,1,De Leidse Houtschool,Boerhaavedistrict\n";
        let p = parse_schools(csv.as_bytes()).unwrap();
        assert_eq!(p.valid.len(), 2);
        assert_eq!(p.valid[1].vestiging, "01");
        assert!(p.ambiguous.is_empty() && p.notes.is_empty());
    }
}
