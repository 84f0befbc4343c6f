//! Filling the registry from its real sources: one implementation behind `kansrijk registry
//! import`, the API (`POST /v1/registerimports`) and the web UI (all three end in [`import`]).
//!
//! Kinds of file ([`ImportKind`]):
//! - `duo-scholen`: DUO's open data "adressen van alle vestigingen" (PO or VO): `BRIN NUMMER` (or
//!   `INSTELLINGSCODE`), `VESTIGINGSNUMMER` (or `VESTIGINGSCODE`; `18XU01` or `01`),
//!   `VESTIGINGSNAAM` (or `INSTELLINGSNAAM VESTIGING`, `INSTELLINGSNAAM`), `STRAATNAAM`,
//!   `HUISNUMMER-TOEVOEGING`, `POSTCODE`, `GEMEENTENUMMER`. A file with `ONDERWIJSSTRUCTUUR` is VO,
//!   otherwise PO (the caller may say). The district comes from the postcode table, never a guess.
//! - `lrk`: the Landelijk Register Kinderopvang open data export: `lrk_id`, `type_oko` (KDV, BSO,
//!   VGO, GOB), `actuele_naam_oko`, `vve`, `status`, `opvanglocatie_adres`,
//!   `opvanglocatie_postcode`, and the municipality as `cbs_code`/`gemeentecode` or by name in
//!   `verantwoordelijke_gemeente`. Also the short form `lrk,naam,vve[,wijk][,organisatie]`.
//! - `scholenlijst`: the municipality's own list (`leiden-basisscholen.csv`): `brin`,
//!   `schoolnaam`, `leerlingen`, `schoolscore_met_drempel`, `wijk` (optional `vestiging`).
//! - `postcodes`: `postcode;huisnummer;wijknaam;gemeentecode` (the CBS table "postcode,
//!   huisnummer, buurt en wijk" with its wijk codes replaced by the wijk names; see
//!   docs/operations.md). An empty house number covers the whole postcode.
//!
//! Header names are matched case-insensitively with spaces and hyphens as underscores; the
//! delimiter (`;`, `,` or tab) is taken from the header line; a file that is not UTF-8 is read as
//! Latin-1 (the LRK export is), and the report says so.
//!
//! Every row that is not imported is reported with its line and why (the header is line 1):
//! malformed rows, `#N/B` and other missing values, invalid ids, unknown districts. The same key
//! twice in one file is a conflict: every such row is reported and none is imported, because
//! choosing one would be a guess (two rows of one BRIN with different vestigingen are two schools).
//! Rows of other municipalities (the national DUO, LRK and CBS files) are skipped and counted.
//!
//! Values are compared with what is stored before anything is written, so importing the same
//! file again changes nothing (`0 gewijzigd`) and `updated_at` only moves for a real change.
//! Columns a source does not have are left as they are (DUO has no pupil counts, the school list
//! has no addresses). Everything happens in one transaction; a dry run (`--dry-run`,
//! `proefimport`) rolls it back, and so does a strict import with reported rows.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, Row, Transaction};

// The doc comments of the wire types are their OpenAPI descriptions, so they are in Dutch.

/// Onderwijssector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sector {
    /// Primair onderwijs (basisschool).
    Po,
    /// Voortgezet onderwijs.
    Vo,
}

impl Sector {
    pub fn as_str(self) -> &'static str {
        match self {
            Sector::Po => "po",
            Sector::Vo => "vo",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "po" => Some(Sector::Po),
            "vo" => Some(Sector::Vo),
            _ => None,
        }
    }
}

/// De soort bronbestand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    /// DUO: adressen van alle vestigingen (PO of VO).
    DuoScholen,
    /// Landelijk Register Kinderopvang: de open-data-export van de locaties.
    Lrk,
    /// De scholenlijst van de gemeente (BRIN, naam, leerlingen, schoolscore, wijk).
    Scholenlijst,
    /// Postcode en huisnummer met de wijk (uit de CBS-tabel, met wijknamen).
    Postcodes,
}

impl ImportKind {
    pub const ALL: [ImportKind; 4] = [
        ImportKind::DuoScholen,
        ImportKind::Lrk,
        ImportKind::Scholenlijst,
        ImportKind::Postcodes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::DuoScholen => "duo-scholen",
            ImportKind::Lrk => "lrk",
            ImportKind::Scholenlijst => "scholenlijst",
            ImportKind::Postcodes => "postcodes",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Dutch label (web UI, reports).
    pub fn label(self) -> &'static str {
        match self {
            ImportKind::DuoScholen => "DUO: adressen van alle schoolvestigingen",
            ImportKind::Lrk => "LRK: kinderopvanglocaties met VVE-registratie",
            ImportKind::Scholenlijst => "Scholenlijst van de gemeente",
            ImportKind::Postcodes => "Postcodes en huisnummers met hun wijk",
        }
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Waarom een regel is gemeld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IssueKind {
    /// De regel is onjuist of onvolledig en is niet geïmporteerd.
    #[serde(rename = "afgewezen")]
    Rejected,
    /// Dezelfde sleutel staat meer dan eens in het bestand; geen van die regels is geïmporteerd.
    Conflict,
}

/// Een regel die niet is geïmporteerd, met de reden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RowIssue {
    /// Regelnummer in het bestand (de kopregel is regel 1).
    #[serde(rename = "regel")]
    pub line: u64,
    /// De sleutel van de regel voor zover leesbaar (BRIN+vestiging, LRK-nummer, postcode).
    #[serde(rename = "sleutel")]
    pub key: String,
    #[serde(rename = "naam")]
    pub name: String,
    #[serde(rename = "soort")]
    pub kind: IssueKind,
    #[serde(rename = "redenen")]
    pub reasons: Vec<String>,
}

impl fmt::Display for RowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            IssueKind::Rejected => "afgewezen",
            IssueKind::Conflict => "conflict",
        };
        write!(f, "regel {} ({}", self.line, self.key)?;
        if !self.name.is_empty() {
            write!(f, " {}", self.name)?;
        }
        write!(f, "): {kind}: {}", self.reasons.join("; "))
    }
}

/// Het verslag van een import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImportReport {
    #[serde(rename = "soort")]
    pub kind: ImportKind,
    /// CBS-gemeentecode.
    #[serde(rename = "gemeenteCode")]
    pub municipality: String,
    /// Een proefimport: niets is opgeslagen; de aantallen zijn wat een echte import zou doen.
    #[serde(rename = "proefimport")]
    pub dry_run: bool,
    /// Of de wijzigingen zijn opgeslagen.
    #[serde(rename = "toegepast")]
    pub applied: bool,
    /// Gelezen regels (zonder de kopregel).
    #[serde(rename = "rijen")]
    pub rows: usize,
    #[serde(rename = "toegevoegd")]
    pub inserted: usize,
    #[serde(rename = "bijgewerkt")]
    pub updated: usize,
    #[serde(rename = "ongewijzigd")]
    pub unchanged: usize,
    /// Regels van andere gemeenten of van soorten die niet worden geïmporteerd (zie de opmerkingen).
    #[serde(rename = "overgeslagen")]
    pub skipped: usize,
    /// Elke regel die niet is geïmporteerd, met de reden.
    #[serde(rename = "gemeld")]
    pub issues: Vec<RowIssue>,
    /// Opmerkingen over het hele bestand (aannames, overgeslagen regels).
    #[serde(rename = "opmerkingen")]
    pub notes: Vec<String>,
}

impl ImportReport {
    fn new(options: &ImportOptions) -> Self {
        ImportReport {
            kind: options.kind,
            municipality: options.municipality.clone(),
            dry_run: options.dry_run,
            applied: false,
            rows: 0,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            skipped: 0,
            issues: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Rows inserted or updated.
    pub fn changed(&self) -> usize {
        self.inserted + self.updated
    }

    /// Rows rejected (malformed, missing or invalid values).
    pub fn rejected(&self) -> impl Iterator<Item = &RowIssue> {
        self.issues.iter().filter(|i| i.kind == IssueKind::Rejected)
    }

    /// Rows whose key appears more than once.
    pub fn conflicts(&self) -> impl Iterator<Item = &RowIssue> {
        self.issues.iter().filter(|i| i.kind == IssueKind::Conflict)
    }

    fn count(&mut self, change: Change) {
        match change {
            Change::Inserted => self.inserted += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}{} voor gemeente {}: {} rijen gelezen: {} toegevoegd, {} bijgewerkt, {} ongewijzigd, \
             {} gemeld, {} overgeslagen ({} gewijzigd{}).",
            if self.dry_run { "proefimport " } else { "" },
            self.kind,
            self.municipality,
            self.rows,
            self.inserted,
            self.updated,
            self.unchanged,
            self.issues.len(),
            self.skipped,
            self.changed(),
            if self.applied {
                ""
            } else {
                ", niets opgeslagen"
            }
        )?;
        for issue in &self.issues {
            writeln!(f, "  {issue}")?;
        }
        for note in &self.notes {
            writeln!(f, "  let op: {note}")?;
        }
        Ok(())
    }
}

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub kind: ImportKind,
    /// CBS code of the municipality the rows are imported for (rows of others are skipped).
    pub municipality: String,
    /// Roll back at the end: report what would change.
    pub dry_run: bool,
    /// Import the valid rows when some are reported (`false`: nothing when any row is reported).
    pub skip_invalid: bool,
    /// The sector of a school file (default: from the file for DUO, `po` for the school list).
    pub sector: Option<Sector>,
}

impl ImportOptions {
    pub fn new(kind: ImportKind, municipality: &str) -> Self {
        ImportOptions {
            kind,
            municipality: municipality.to_owned(),
            dry_run: false,
            skip_invalid: true,
            sector: None,
        }
    }
}

/// Why a file as a whole cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file or the request (unknown municipality, a required column missing, not CSV).
    #[error("{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// Whether a stored row changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Inserted,
    Updated,
    Unchanged,
}

// ------------------------------------------------------------------------------------------
// Reading a CSV file

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

/// A postcode as `1234AB` (spaces removed, capitals), when it is one.
pub fn normalise_postcode(s: &str) -> Option<String> {
    let p: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let b = p.as_bytes();
    (b.len() == 6
        && (b'1'..=b'9').contains(&b[0])
        && b[1..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_uppercase))
    .then_some(p)
}

/// A CBS municipality code from `0546`, `546` or `GM0546`.
fn municipality_code(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_prefix("GM")
        .or_else(|| s.strip_prefix("gm"))
        .unwrap_or(s);
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{s:0>4}"))
}

/// The house number at the start of `12`, `12a`, `12-14`, `12 bis`.
fn leading_number(s: &str) -> Option<i32> {
    let digits: String = s.trim().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|n| *n > 0)
}

/// The house number of an address such as `Kerkstraat 12 A` (the last token starting with a
/// digit).
fn house_number_of(address: &str) -> Option<i32> {
    address
        .split_whitespace()
        .rev()
        .find(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        .and_then(leading_number)
}

/// The file as text: UTF-8 (without a byte-order mark), or Latin-1 when it is not UTF-8.
pub fn decode(content: &[u8]) -> (String, bool) {
    let content = content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(content);
    match std::str::from_utf8(content) {
        Ok(s) => (s.to_owned(), false),
        Err(_) => (content.iter().map(|&b| char::from(b)).collect(), true),
    }
}

fn normalise_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .trim_matches('_')
        .to_owned()
}

/// A CSV file: its header and, row by row, its fields.
struct Csv {
    headers: Vec<String>,
    text: String,
    delimiter: u8,
}

impl Csv {
    fn read(content: &[u8], notes: &mut Vec<String>) -> Result<Self, ImportError> {
        let (text, latin1) = decode(content);
        // Windows line ends as `\n`: the CSV reader counts lines of `\r\n` files one short.
        let text = if text.contains('\r') {
            text.replace("\r\n", "\n")
        } else {
            text
        };
        if latin1 {
            notes.push("het bestand is geen UTF-8 en is als Latin-1 gelezen".into());
        }
        let first = text.lines().next().unwrap_or("");
        if first.trim().is_empty() {
            return Err(ImportError::Invalid(
                "het bestand is leeg of begint met een lege regel (verwacht een kopregel)".into(),
            ));
        }
        let count = |c: char| first.matches(c).count();
        let delimiter = [(b';', count(';')), (b'\t', count('\t')), (b',', count(','))]
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(d, _)| d)
            .unwrap_or(b',');
        let mut reader = Self::reader_for(&text, delimiter);
        let headers = reader
            .headers()
            .map_err(|e| ImportError::Invalid(format!("de kopregel is niet leesbaar: {e}")))?
            .iter()
            .map(normalise_header)
            .collect();
        Ok(Csv {
            headers,
            text,
            delimiter,
        })
    }

    fn reader_for(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
        csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .delimiter(delimiter)
            .from_reader(text.as_bytes())
    }

    /// The first column with one of these names.
    fn col(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.headers.iter().position(|h| h == n))
    }

    /// The first column whose name starts with one of these prefixes (CBS: `wijk2024`).
    fn col_prefix(&self, prefixes: &[&str]) -> Option<usize> {
        prefixes
            .iter()
            .find_map(|p| self.headers.iter().position(|h| h.starts_with(p)))
    }

    fn require(&self, col: Option<usize>, name: &str) -> Result<usize, ImportError> {
        col.ok_or_else(|| {
            ImportError::Invalid(format!(
                "kolom {name} ontbreekt (gevonden: {})",
                self.headers.join(", ")
            ))
        })
    }

    /// Calls `f(line, fields)` for every data row; malformed rows (unreadable, a different
    /// number of fields than the header) are reported and not passed on.
    fn rows(&self, issues: &mut Vec<RowIssue>, mut f: impl FnMut(u64, &Fields<'_>)) -> usize {
        let mut reader = Self::reader_for(&self.text, self.delimiter);
        let mut n = 0;
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    n += 1;
                    let line = record.position().map(|p| p.line()).unwrap_or(0);
                    if record.len() != self.headers.len() {
                        issues.push(RowIssue {
                            line,
                            key: record.get(0).unwrap_or("-").chars().take(40).collect(),
                            name: String::new(),
                            kind: IssueKind::Rejected,
                            reasons: vec![format!(
                                "onleesbare regel: {} velden, de kopregel heeft er {}",
                                record.len(),
                                self.headers.len()
                            )],
                        });
                        continue;
                    }
                    f(line, &Fields(&record));
                }
                Err(e) => {
                    n += 1;
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    issues.push(RowIssue {
                        line,
                        key: "-".into(),
                        name: String::new(),
                        kind: IssueKind::Rejected,
                        reasons: vec![format!("onleesbare regel: {e}")],
                    });
                }
            }
        }
        n
    }
}

struct Fields<'a>(&'a csv::StringRecord);

impl Fields<'_> {
    fn get(&self, col: Option<usize>) -> &str {
        col.and_then(|i| self.0.get(i)).unwrap_or("").trim()
    }
}

/// Reports every row whose key appears more than once, and keeps the others.
fn split_conflicts<T>(
    rows: Vec<T>,
    key: impl Fn(&T) -> String,
    line: impl Fn(&T) -> u64,
    name: impl Fn(&T) -> String,
    describe: impl Fn(&str, &[u64]) -> String,
    issues: &mut Vec<RowIssue>,
) -> Vec<T> {
    let mut lines: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in &rows {
        lines.entry(key(r)).or_default().push(line(r));
    }
    let mut valid = Vec::new();
    for r in rows {
        let k = key(&r);
        let l = &lines[&k];
        if l.len() > 1 {
            issues.push(RowIssue {
                line: line(&r),
                key: k.clone(),
                name: name(&r),
                kind: IssueKind::Conflict,
                reasons: vec![describe(&k, l)],
            });
        } else {
            valid.push(r);
        }
    }
    valid
}

fn lines_text(lines: &[u64]) -> String {
    lines
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

// ------------------------------------------------------------------------------------------
// Parsing (pure: no database)

/// A school row. `None` in an `Option<Option<_>>` field: the source does not have that column
/// (the stored value stays).
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolRow {
    pub line: u64,
    pub brin: String,
    pub vestiging: String,
    pub name: String,
    pub pupils: Option<Option<i32>>,
    pub score: Option<Option<f64>>,
    pub district: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub postcode: Option<Option<String>>,
    /// For the district from the postcode table.
    pub house_number: Option<i32>,
}

impl SchoolRow {
    pub fn key(&self) -> String {
        format!("{}{}", self.brin, self.vestiging)
    }
}

/// A parsed file, before it touches the database.
#[derive(Debug)]
pub struct Parsed<T> {
    pub rows: usize,
    pub valid: Vec<T>,
    pub issues: Vec<RowIssue>,
    pub notes: Vec<String>,
    /// Rows of other municipalities or of kinds that are not imported.
    pub skipped: usize,
    /// DUO: the sector the file is of.
    pub sector: Option<Sector>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Parsed {
            rows: 0,
            valid: Vec::new(),
            issues: Vec::new(),
            notes: Vec::new(),
            skipped: 0,
            sector: None,
        }
    }
}

fn reject(issues: &mut Vec<RowIssue>, line: u64, key: &str, name: &str, reasons: Vec<String>) {
    issues.push(RowIssue {
        line,
        key: if key.is_empty() {
            "-".into()
        } else {
            key.into()
        },
        name: name.into(),
        kind: IssueKind::Rejected,
        reasons,
    });
}

/// Parses the municipality's school list (`leiden-basisscholen.csv`).
pub fn parse_school_list(content: &[u8]) -> Result<Parsed<SchoolRow>, ImportError> {
    let mut p = Parsed::default();
    let csv = Csv::read(content, &mut p.notes)?;
    let brin_col = csv.require(csv.col(&["brin", "brin_nummer", "brinnummer"]), "brin")?;
    let name_col = csv.require(csv.col(&["schoolnaam", "naam"]), "schoolnaam")?;
    let vestiging_col = csv.col(&["vestiging", "vestigingsnummer"]);
    let pupils_col = csv.col(&["leerlingen", "aantal_leerlingen"]);
    let score_col = csv.col(&["schoolscore_met_drempel", "schoolscore"]);
    let district_col = csv.col(&["wijk"]);
    let mut candidates = Vec::new();
    let mut bad = Vec::new();
    p.rows = csv.rows(&mut p.issues, |line, r| {
        let brin_raw = r.get(Some(brin_col));
        let brin = brin_raw.to_uppercase();
        let name = r.get(Some(name_col)).to_owned();
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
                let v = r.get(vestiging_col);
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
        let pupils = pupils_col.map(|_| match r.get(pupils_col) {
            v if is_missing(v) => None,
            v => match v.parse::<i32>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    reasons.push("aantal leerlingen is geen geheel getal van 0 of meer".to_owned());
                    None
                }
            },
        });
        let score = score_col.map(|_| match r.get(score_col) {
            v if is_missing(v) => None,
            v => match v.replace(',', ".").parse::<f64>() {
                Ok(x) if x >= 0.0 && x.is_finite() => Some(x),
                _ => {
                    reasons.push("schoolscore is geen getal van 0 of meer".to_owned());
                    None
                }
            },
        });
        let district = district_col.map(|_| {
            let d = r.get(district_col);
            if is_missing(d) {
                reasons.push(format!("wijk ontbreekt (de bron vermeldt {d:?})"));
                None
            } else {
                Some(d.to_owned())
            }
        });
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
                address: None,
                postcode: None,
                house_number: None,
            });
        } else {
            reject(
                &mut bad,
                line,
                if brin_raw.is_empty() { "" } else { &key },
                &name,
                reasons,
            );
        }
    });
    p.issues.extend(bad);
    let has_vestiging = vestiging_col.is_some();
    p.valid = split_conflicts(
        candidates,
        |r| {
            if has_vestiging {
                r.key()
            } else {
                r.brin.clone()
            }
        },
        |r| r.line,
        |r| r.name.clone(),
        |k, lines| {
            if has_vestiging {
                format!(
                    "BRIN {} vestiging {} komt {} keer voor (regels {})",
                    &k[..4],
                    &k[4..],
                    lines.len(),
                    lines_text(lines)
                )
            } else {
                format!(
                    "BRIN {k} komt {} keer voor (regels {}) en het bestand heeft geen \
                     vestigingsnummer om de scholen te onderscheiden; geen van deze rijen is \
                     geïmporteerd",
                    lines.len(),
                    lines_text(lines)
                )
            }
        },
        &mut p.issues,
    );
    if !has_vestiging {
        p.notes.push(
            "het bestand heeft geen kolom 'vestiging': elke school is als vestiging 00 \
             (hoofdvestiging) geregistreerd"
                .into(),
        );
    }
    p.issues.sort_by_key(|i| i.line);
    Ok(p)
}

/// Parses DUO's "adressen van alle vestigingen" for `municipality`.
pub fn parse_duo(content: &[u8], municipality: &str) -> Result<Parsed<SchoolRow>, ImportError> {
    let mut p = Parsed::default();
    let csv = Csv::read(content, &mut p.notes)?;
    let brin_col = csv.require(
        csv.col(&["brin_nummer", "instellingscode", "brin"]),
        "BRIN NUMMER",
    )?;
    let vestiging_col = csv.require(
        csv.col(&["vestigingsnummer", "vestigingscode", "brinvestigingsnummer"]),
        "VESTIGINGSNUMMER",
    )?;
    let name_col = csv.require(
        csv.col(&[
            "vestigingsnaam",
            "instellingsnaam_vestiging",
            "instellingsnaam",
            "naam",
        ]),
        "VESTIGINGSNAAM",
    )?;
    let municipality_col = csv.require(
        csv.col(&["gemeentenummer", "gemeentecode"]),
        "GEMEENTENUMMER",
    )?;
    let street_col = csv.col(&["straatnaam"]);
    let number_col = csv.col(&["huisnummer_toevoeging", "huisnummer"]);
    let postcode_col = csv.col(&["postcode"]);
    p.sector = Some(if csv.col(&["onderwijsstructuur"]).is_some() {
        Sector::Vo
    } else {
        Sector::Po
    });
    let mut candidates = Vec::new();
    let mut skipped = 0;
    let mut bad = Vec::new();
    p.rows = csv.rows(&mut p.issues, |line, r| {
        let brin = r.get(Some(brin_col)).to_uppercase();
        let name = r.get(Some(name_col)).to_owned();
        let raw_vestiging = r.get(Some(vestiging_col)).to_uppercase();
        let mut reasons = Vec::new();
        let gemeente = municipality_code(r.get(Some(municipality_col)));
        match &gemeente {
            None => reasons.push(format!(
                "gemeentenummer ongeldig ({:?})",
                r.get(Some(municipality_col))
            )),
            Some(g) if g != municipality => {
                skipped += 1;
                return;
            }
            Some(_) => {}
        }
        if !valid_brin(&brin) {
            reasons.push("BRIN-nummer ongeldig (verwacht twee cijfers en twee letters)".into());
        }
        let vestiging = match raw_vestiging.len() {
            6 if raw_vestiging.is_ascii() && raw_vestiging.starts_with(&brin) => {
                raw_vestiging[4..].to_owned()
            }
            1 => format!("0{raw_vestiging}"),
            _ => raw_vestiging.clone(),
        };
        if vestiging.len() != 2 || !vestiging.bytes().all(|b| b.is_ascii_digit()) {
            reasons.push(format!(
                "vestigingsnummer ongeldig ({raw_vestiging:?}; verwacht BRIN plus twee cijfers)"
            ));
        }
        if name.is_empty() {
            reasons.push("vestigingsnaam ontbreekt".into());
        }
        let raw_postcode = r.get(postcode_col);
        let postcode = if is_missing(raw_postcode) {
            None
        } else {
            match normalise_postcode(raw_postcode) {
                Some(pc) => Some(pc),
                None => {
                    reasons.push(format!("postcode ongeldig ({raw_postcode:?})"));
                    None
                }
            }
        };
        let number = r.get(number_col);
        let street = r.get(street_col);
        let address = format!("{street} {number}").trim().to_owned();
        if reasons.is_empty() {
            candidates.push(SchoolRow {
                line,
                brin: brin.clone(),
                vestiging,
                name,
                pupils: None,
                score: None,
                district: None,
                address: Some(Some(address).filter(|a| !a.is_empty())),
                postcode: Some(postcode),
                house_number: leading_number(number),
            });
        } else {
            // DUO writes the vestiging with or without its BRIN.
            let key = if raw_vestiging.starts_with(&brin) {
                raw_vestiging.clone()
            } else {
                format!("{brin}{raw_vestiging}")
            };
            reject(&mut bad, line, key.trim(), &name, reasons);
        }
    });
    p.issues.extend(bad);
    p.skipped = skipped;
    p.valid = split_conflicts(
        candidates,
        SchoolRow::key,
        |r| r.line,
        |r| r.name.clone(),
        |k, lines| {
            format!(
                "BRIN {} vestiging {} komt {} keer voor (regels {}); geen van deze rijen is \
                 geïmporteerd",
                &k[..4],
                &k[4..],
                lines.len(),
                lines_text(lines)
            )
        },
        &mut p.issues,
    );
    if skipped > 0 {
        p.notes.push(format!(
            "{skipped} vestigingen van andere gemeenten overgeslagen"
        ));
    }
    p.issues.sort_by_key(|i| i.line);
    Ok(p)
}

/// A childcare location row.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildcareRow {
    pub line: u64,
    pub lrk: String,
    pub name: String,
    pub vve: bool,
    pub location_type: Option<Option<String>>,
    pub district: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub postcode: Option<Option<String>>,
    pub house_number: Option<i32>,
    pub organisation: Option<Option<String>>,
}

/// Parses the LRK export (or the short `lrk,naam,vve` form) for `municipality`, whose name is
/// `municipality_name` (the export names the responsible municipality).
pub fn parse_lrk(
    content: &[u8],
    municipality: &str,
    municipality_name: &str,
) -> Result<Parsed<ChildcareRow>, ImportError> {
    let mut p = Parsed::default();
    let csv = Csv::read(content, &mut p.notes)?;
    let lrk_col = csv.require(
        csv.col(&[
            "lrk_id",
            "lrk",
            "lrk_nummer",
            "lrknummer",
            "registratienummer",
        ]),
        "lrk_id",
    )?;
    let name_col = csv.require(
        csv.col(&["actuele_naam_oko", "naam", "locatienaam", "naam_locatie"]),
        "actuele_naam_oko",
    )?;
    let vve_col = csv.require(csv.col(&["vve", "vve_erkend", "vve_aanbod"]), "vve")?;
    let type_col = csv.col(&["type_oko", "type"]);
    let status_col = csv.col(&["status"]);
    let code_col = csv.col(&["cbs_code", "gemeentecode", "gemeentenummer"]);
    let gemeente_name_col = csv.col(&["verantwoordelijke_gemeente", "gemeente", "gemeentenaam"]);
    let district_col = csv.col(&["wijk"]);
    let address_col = csv.col(&["opvanglocatie_adres", "adres"]);
    let postcode_col = csv.col(&["opvanglocatie_postcode", "postcode"]);
    let org_col = csv.col(&["organisatie", "organisatie_id"]);
    if code_col.is_none() && gemeente_name_col.is_none() {
        p.notes.push(format!(
            "het bestand noemt geen gemeente: alle locaties zijn als locaties van gemeente \
             {municipality} gelezen"
        ));
    }
    let mut other_municipality = 0;
    let mut not_registered = 0;
    let mut home_based = 0;
    let mut candidates = Vec::new();
    let mut bad = Vec::new();
    p.rows = csv.rows(&mut p.issues, |line, r| {
        let lrk = r.get(Some(lrk_col)).to_owned();
        let name = r.get(Some(name_col)).to_owned();
        let mut reasons = Vec::new();
        if let Some(c) = code_col {
            match municipality_code(r.get(Some(c))) {
                Some(g) if g == municipality => {}
                Some(_) => {
                    other_municipality += 1;
                    return;
                }
                None => reasons.push(format!("gemeentecode ongeldig ({:?})", r.get(Some(c)))),
            }
        } else if gemeente_name_col.is_some() {
            let g = r.get(gemeente_name_col);
            if !g.eq_ignore_ascii_case(municipality_name) {
                other_municipality += 1;
                return;
            }
        }
        let location_type = type_col.map(|_| r.get(type_col).to_uppercase());
        match location_type.as_deref() {
            None | Some("KDV") | Some("BSO") => {}
            Some("VGO") | Some("GOB") => {
                home_based += 1;
                return;
            }
            Some(t) => reasons.push(format!(
                "soort opvang {t:?} onbekend (verwacht KDV, BSO, VGO of GOB)"
            )),
        }
        if let Some(s) = status_col.map(|_| r.get(status_col)) {
            if !s.is_empty() && !s.eq_ignore_ascii_case("ingeschreven") {
                not_registered += 1;
                return;
            }
        }
        if lrk.len() < 9 || lrk.len() > 12 || !lrk.bytes().all(|b| b.is_ascii_digit()) {
            reasons.push("LRK-nummer ongeldig (verwacht 9 tot 12 cijfers)".to_owned());
        }
        if name.is_empty() {
            reasons.push("naam ontbreekt".to_owned());
        }
        let vve = match r.get(Some(vve_col)).to_lowercase().as_str() {
            "ja" | "j" | "true" | "1" | "yes" | "y" => Some(true),
            "nee" | "n" | "false" | "0" | "no" | "" => Some(false),
            v => {
                reasons.push(format!("vve is geen ja of nee ({v:?})"));
                None
            }
        };
        let district = district_col.map(|_| {
            let d = r.get(district_col);
            if is_missing(d) {
                reasons.push(format!("wijk ontbreekt (de bron vermeldt {d:?})"));
                None
            } else {
                Some(d.to_owned())
            }
        });
        let postcode = postcode_col.map(|_| {
            let raw = r.get(postcode_col);
            if is_missing(raw) {
                None
            } else {
                let pc = normalise_postcode(raw);
                if pc.is_none() {
                    reasons.push(format!("postcode ongeldig ({raw:?})"));
                }
                pc
            }
        });
        let address =
            address_col.map(|_| Some(r.get(address_col).to_owned()).filter(|a| !a.is_empty()));
        let house_number = address
            .clone()
            .flatten()
            .as_deref()
            .and_then(house_number_of);
        let organisation =
            org_col.map(|_| Some(r.get(org_col).to_owned()).filter(|o| !o.is_empty()));
        match (reasons.is_empty(), vve) {
            (true, Some(vve)) => candidates.push(ChildcareRow {
                line,
                lrk,
                name,
                vve,
                location_type: location_type.map(Some),
                district,
                address,
                postcode,
                house_number,
                organisation,
            }),
            _ => reject(&mut bad, line, &lrk, &name, reasons),
        }
    });
    p.issues.extend(bad);
    p.skipped = other_municipality + not_registered + home_based;
    p.valid = split_conflicts(
        candidates,
        |r| r.lrk.clone(),
        |r| r.line,
        |r| r.name.clone(),
        |k, lines| {
            format!(
                "LRK-nummer {k} komt {} keer voor (regels {}); geen van deze rijen is geïmporteerd",
                lines.len(),
                lines_text(lines)
            )
        },
        &mut p.issues,
    );
    if other_municipality > 0 {
        p.notes.push(format!(
            "{other_municipality} locaties van andere gemeenten overgeslagen"
        ));
    }
    if not_registered > 0 {
        p.notes.push(format!(
            "{not_registered} locaties met een andere status dan 'Ingeschreven' overgeslagen"
        ));
    }
    if home_based > 0 {
        p.notes.push(format!(
            "{home_based} voorzieningen voor gastouderopvang (VGO) en gastouderbureaus (GOB) \
             overgeslagen: zij bieden geen VVE en een gastouder staat vaak onder de eigen naam \
             in het register (een persoonsgegeven)"
        ));
    }
    p.issues.sort_by_key(|i| i.line);
    Ok(p)
}

/// A postcode row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostcodeRow {
    pub line: u64,
    pub postcode: String,
    pub house_number: Option<i32>,
    pub district: String,
}

/// Parses `postcode;huisnummer;wijknaam;gemeentecode` for `municipality`.
pub fn parse_postcodes(
    content: &[u8],
    municipality: &str,
) -> Result<Parsed<PostcodeRow>, ImportError> {
    let mut p = Parsed::default();
    let csv = Csv::read(content, &mut p.notes)?;
    let postcode_col = csv.require(csv.col(&["postcode", "pc6"]), "postcode")?;
    let number_col = csv.col(&["huisnummer", "huisnr"]);
    let district_col = csv.require(
        csv.col(&["wijknaam", "wijk"])
            .or_else(|| csv.col_prefix(&["wijknaam", "wijk"])),
        "wijknaam",
    )?;
    let code_col = csv.require(
        csv.col(&["gemeentecode", "gemeente", "gemeentenummer"])
            .or_else(|| csv.col_prefix(&["gemeentecode", "gemeente"])),
        "gemeentecode",
    )?;
    let mut candidates: Vec<PostcodeRow> = Vec::new();
    let mut skipped = 0;
    let mut bad = Vec::new();
    p.rows = csv.rows(&mut p.issues, |line, r| {
        let raw_pc = r.get(Some(postcode_col));
        let raw_nr = r.get(number_col);
        let key = format!("{raw_pc} {raw_nr}").trim().to_owned();
        let mut reasons = Vec::new();
        match municipality_code(r.get(Some(code_col))) {
            Some(g) if g == municipality => {}
            Some(_) => {
                skipped += 1;
                return;
            }
            None => reasons.push(format!(
                "gemeentecode ongeldig ({:?})",
                r.get(Some(code_col))
            )),
        }
        let postcode = normalise_postcode(raw_pc);
        if postcode.is_none() {
            reasons.push(format!("postcode ongeldig ({raw_pc:?}; verwacht 1234AB)"));
        }
        let house_number = if raw_nr.is_empty() {
            None
        } else {
            match raw_nr.parse::<i32>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    reasons.push(format!("huisnummer ongeldig ({raw_nr:?})"));
                    None
                }
            }
        };
        let district = r.get(Some(district_col)).to_owned();
        if is_missing(&district) {
            reasons.push(format!(
                "wijknaam ontbreekt (de bron vermeldt {district:?})"
            ));
        } else if district.len() == 8
            && district.starts_with("WK")
            && district[2..].bytes().all(|b| b.is_ascii_digit())
        {
            reasons.push(format!(
                "{district} is een CBS-wijkcode, geen wijknaam: zet de codes eerst om naar \
                 wijknamen (zie docs/operations.md)"
            ));
        }
        match (reasons.is_empty(), postcode) {
            (true, Some(postcode)) => candidates.push(PostcodeRow {
                line,
                postcode,
                house_number,
                district,
            }),
            _ => reject(&mut bad, line, &key, "", reasons),
        }
    });
    p.issues.extend(bad);
    p.skipped = skipped;
    // The same address twice with the same district is one fact; with another district a conflict.
    let mut seen: HashMap<(String, Option<i32>), (String, u64)> = HashMap::new();
    let mut repeated = 0;
    let mut deduped = Vec::new();
    for row in candidates {
        let k = (row.postcode.clone(), row.house_number);
        match seen.get(&k) {
            Some((d, _)) if d.eq_ignore_ascii_case(&row.district) => repeated += 1,
            _ => {
                seen.entry(k).or_insert((row.district.clone(), row.line));
                deduped.push(row);
            }
        }
    }
    p.valid = split_conflicts(
        deduped,
        |r| match r.house_number {
            Some(n) => format!("{} {n}", r.postcode),
            None => r.postcode.clone(),
        },
        |r| r.line,
        |r| r.district.clone(),
        |k, lines| {
            format!(
                "{k} staat {} keer in het bestand met verschillende wijken (regels {}); geen van \
                 deze rijen is geïmporteerd",
                lines.len(),
                lines_text(lines)
            )
        },
        &mut p.issues,
    );
    if repeated > 0 {
        p.notes.push(format!(
            "{repeated} herhaalde regels (zelfde adres, zelfde wijk) samengenomen"
        ));
    }
    if skipped > 0 {
        p.notes.push(format!(
            "{skipped} adressen van andere gemeenten overgeslagen"
        ));
    }
    p.issues.sort_by_key(|i| i.line);
    Ok(p)
}

// ------------------------------------------------------------------------------------------
// Importing

/// Imports `content` as `options` say: parses, compares with what is stored, writes the
/// changes in one transaction (rolled back for a dry run, or for a strict import with reported
/// rows), and reports every row that was not imported.
pub async fn import(
    pool: &PgPool,
    options: &ImportOptions,
    content: &[u8],
) -> Result<ImportReport, ImportError> {
    let municipality = options.municipality.as_str();
    let name: Option<(String,)> =
        sqlx::query_as("SELECT name FROM municipalities WHERE cbs_code = $1")
            .bind(municipality)
            .fetch_optional(pool)
            .await?;
    let Some((municipality_name,)) = name else {
        return Err(ImportError::Invalid(format!(
            "onbekende gemeentecode {municipality}"
        )));
    };
    let mut report = ImportReport::new(options);
    let districts: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM districts WHERE municipality = $1")
            .bind(municipality)
            .fetch_all(pool)
            .await?;
    let districts: HashMap<String, String> = districts
        .into_iter()
        .map(|(d,)| (d.to_lowercase(), d))
        .collect();
    let mut tx = pool.begin().await?;
    match options.kind {
        ImportKind::Scholenlijst | ImportKind::DuoScholen => {
            let parsed = if options.kind == ImportKind::Scholenlijst {
                parse_school_list(content)?
            } else {
                parse_duo(content, municipality)?
            };
            let sector = options.sector.or(parsed.sector).unwrap_or(Sector::Po);
            if options.kind == ImportKind::DuoScholen {
                report.notes.push(format!(
                    "sector {} ({})",
                    sector.as_str(),
                    if options.sector.is_some() {
                        "opgegeven"
                    } else {
                        "afgeleid uit de kolommen van het bestand"
                    }
                ));
            }
            take_parsed(&mut report, &parsed);
            apply_schools(&mut tx, &mut report, parsed.valid, sector, &districts).await?;
        }
        ImportKind::Lrk => {
            let parsed = parse_lrk(content, municipality, &municipality_name)?;
            take_parsed(&mut report, &parsed);
            apply_childcare(&mut tx, &mut report, parsed.valid, &districts).await?;
        }
        ImportKind::Postcodes => {
            let parsed = parse_postcodes(content, municipality)?;
            take_parsed(&mut report, &parsed);
            apply_postcodes(&mut tx, &mut report, parsed.valid, &districts).await?;
        }
    }
    report.issues.sort_by_key(|i| i.line);
    let refused = !options.skip_invalid && !report.issues.is_empty();
    if options.dry_run || refused {
        tx.rollback().await?;
        if refused {
            report.notes.push(
                "niets opgeslagen: er zijn gemelde regels en de import was 'alles of niets'".into(),
            );
        }
    } else {
        tx.commit().await?;
        report.applied = true;
        for (outcome, n) in [
            ("inserted", report.inserted),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("reported", report.issues.len()),
        ] {
            metrics::counter!("kansrijk_registry_import_rows_total", "kind" => options.kind.as_str(), "outcome" => outcome)
                .increment(n as u64);
        }
    }
    Ok(report)
}

fn take_parsed<T>(report: &mut ImportReport, parsed: &Parsed<T>) {
    report.rows = parsed.rows;
    report.skipped = parsed.skipped;
    report.issues.extend(parsed.issues.iter().cloned());
    report.notes.extend(parsed.notes.iter().cloned());
}

fn unknown_district(
    issues: &mut Vec<RowIssue>,
    line: u64,
    key: &str,
    name: &str,
    d: &str,
    m: &str,
) {
    reject(
        issues,
        line,
        key,
        name,
        vec![format!("wijk {d:?} is geen bekende wijk van gemeente {m}")],
    );
}

fn round2(x: Option<f64>) -> Option<i64> {
    x.map(|v| (v * 100.0).round() as i64)
}

/// The district of an address from the postcode table: the row of the house number, else the
/// row of the whole postcode, else (no house number asked) the one district every row of the
/// postcode names. `None` when the table does not say: never a guess.
pub async fn district_for_postcode<'e, E>(
    executor: E,
    municipality: &str,
    postcode: &str,
    house_number: Option<i32>,
) -> Result<Option<String>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    sqlx::query_scalar(
        "SELECT CASE \
           WHEN $3::int4 IS NOT NULL THEN \
             COALESCE(max(district) FILTER (WHERE house_number = $3), \
                      max(district) FILTER (WHERE house_number IS NULL)) \
           ELSE COALESCE(max(district) FILTER (WHERE house_number IS NULL), \
                         CASE WHEN count(DISTINCT district) = 1 THEN max(district) END) \
         END \
         FROM postcode_districts WHERE municipality = $1 AND postcode = $2",
    )
    .bind(municipality)
    .bind(postcode)
    .bind(house_number)
    .fetch_one(executor)
    .await
}

async fn apply_schools(
    tx: &mut Transaction<'_, Postgres>,
    report: &mut ImportReport,
    rows: Vec<SchoolRow>,
    sector: Sector,
    districts: &HashMap<String, String>,
) -> Result<(), ImportError> {
    let municipality = report.municipality.clone();
    // A municipality without districts (a new one) gets those the school list names.
    let create_districts = districts.is_empty();
    let mut added: Vec<String> = Vec::new();
    let mut without_district = 0;
    for mut row in rows {
        match &row.district {
            Some(Some(d)) => match districts.get(&d.to_lowercase()) {
                Some(canonical) => row.district = Some(Some(canonical.clone())),
                None if create_districts => {
                    sqlx::query(
                        "INSERT INTO districts (municipality, name) VALUES ($1, $2) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(&municipality)
                    .bind(d)
                    .execute(&mut **tx)
                    .await?;
                    if !added.contains(d) {
                        added.push(d.clone());
                    }
                }
                None => {
                    unknown_district(
                        &mut report.issues,
                        row.line,
                        &row.key(),
                        &row.name,
                        d,
                        &municipality,
                    );
                    continue;
                }
            },
            Some(None) => {}
            None => {
                // The source has no district column: from the postcode table, when it knows.
                if let Some(Some(pc)) = &row.postcode {
                    match district_for_postcode(&mut **tx, &municipality, pc, row.house_number)
                        .await?
                    {
                        Some(d) => row.district = Some(Some(d)),
                        None => without_district += 1,
                    }
                }
            }
        }
        let existing = sqlx::query(
            "SELECT sector, name, municipality::text AS municipality, district, pupils, \
             school_score::float8 AS score, address, postcode FROM schools \
             WHERE brin = $1 AND vestiging = $2 FOR UPDATE",
        )
        .bind(&row.brin)
        .bind(&row.vestiging)
        .fetch_optional(&mut **tx)
        .await?;
        let change = match existing {
            None => {
                sqlx::query(
                    "INSERT INTO schools (brin, vestiging, sector, name, municipality, district, \
                     pupils, school_score, address, postcode) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, CAST($8 AS float8), $9, $10)",
                )
                .bind(&row.brin)
                .bind(&row.vestiging)
                .bind(sector.as_str())
                .bind(&row.name)
                .bind(&municipality)
                .bind(row.district.clone().flatten())
                .bind(row.pupils.flatten())
                .bind(row.score.flatten())
                .bind(row.address.clone().flatten())
                .bind(row.postcode.clone().flatten())
                .execute(&mut **tx)
                .await?;
                Change::Inserted
            }
            Some(old) => {
                let district = row.district.clone().unwrap_or_else(|| old.get("district"));
                let pupils = row.pupils.unwrap_or_else(|| old.get("pupils"));
                let score = row.score.unwrap_or_else(|| old.get("score"));
                let address = row.address.clone().unwrap_or_else(|| old.get("address"));
                let postcode = row.postcode.clone().unwrap_or_else(|| old.get("postcode"));
                let same = old.get::<String, _>("sector") == sector.as_str()
                    && old.get::<String, _>("name") == row.name
                    && old.get::<String, _>("municipality") == municipality
                    && old.get::<Option<String>, _>("district") == district
                    && old.get::<Option<i32>, _>("pupils") == pupils
                    && round2(old.get("score")) == round2(score)
                    && old.get::<Option<String>, _>("address") == address
                    && old.get::<Option<String>, _>("postcode") == postcode;
                if same {
                    Change::Unchanged
                } else {
                    sqlx::query(
                        "UPDATE schools SET sector = $3, name = $4, municipality = $5, \
                         district = $6, pupils = $7, school_score = CAST($8 AS float8), \
                         address = $9, postcode = $10, updated_at = now() \
                         WHERE brin = $1 AND vestiging = $2",
                    )
                    .bind(&row.brin)
                    .bind(&row.vestiging)
                    .bind(sector.as_str())
                    .bind(&row.name)
                    .bind(&municipality)
                    .bind(district)
                    .bind(pupils)
                    .bind(score)
                    .bind(address)
                    .bind(postcode)
                    .execute(&mut **tx)
                    .await?;
                    Change::Updated
                }
            }
        };
        report.count(change);
    }
    if !added.is_empty() {
        report
            .notes
            .push(format!("nieuwe wijken toegevoegd: {}", added.join(", ")));
    }
    if without_district > 0 {
        report.notes.push(format!(
            "{without_district} vestigingen zonder wijk: hun postcode staat niet in de \
             postcodetabel (importeer eerst 'postcodes')"
        ));
    }
    Ok(())
}

async fn apply_childcare(
    tx: &mut Transaction<'_, Postgres>,
    report: &mut ImportReport,
    rows: Vec<ChildcareRow>,
    districts: &HashMap<String, String>,
) -> Result<(), ImportError> {
    let municipality = report.municipality.clone();
    let mut without_district = 0;
    for mut row in rows {
        let mut reasons = Vec::new();
        match &row.district {
            Some(Some(d)) => match districts.get(&d.to_lowercase()) {
                Some(canonical) => row.district = Some(Some(canonical.clone())),
                None => reasons.push(format!(
                    "wijk {d:?} is geen bekende wijk van gemeente {municipality}"
                )),
            },
            Some(None) => {}
            None => {
                if let Some(Some(pc)) = &row.postcode {
                    match district_for_postcode(&mut **tx, &municipality, pc, row.house_number)
                        .await?
                    {
                        Some(d) => row.district = Some(Some(d)),
                        None => without_district += 1,
                    }
                }
            }
        }
        if let Some(Some(org)) = &row.organisation {
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT id FROM organisations WHERE id = $1")
                    .bind(org)
                    .fetch_optional(&mut **tx)
                    .await?;
            if exists.is_none() {
                reasons.push(format!("organisatie {org} staat niet in het register"));
            }
        }
        if !reasons.is_empty() {
            reject(&mut report.issues, row.line, &row.lrk, &row.name, reasons);
            continue;
        }
        let existing = sqlx::query(
            "SELECT organisation_id, name, municipality::text AS municipality, district, vve, \
             location_type, address, postcode FROM childcare_locations WHERE lrk = $1 FOR UPDATE",
        )
        .bind(&row.lrk)
        .fetch_optional(&mut **tx)
        .await?;
        let change = match existing {
            None => {
                sqlx::query(
                    "INSERT INTO childcare_locations (lrk, organisation_id, name, municipality, \
                     district, vve, location_type, address, postcode) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&row.lrk)
                .bind(row.organisation.clone().flatten())
                .bind(&row.name)
                .bind(&municipality)
                .bind(row.district.clone().flatten())
                .bind(row.vve)
                .bind(row.location_type.clone().flatten())
                .bind(row.address.clone().flatten())
                .bind(row.postcode.clone().flatten())
                .execute(&mut **tx)
                .await?;
                Change::Inserted
            }
            Some(old) => {
                let organisation = row
                    .organisation
                    .clone()
                    .unwrap_or_else(|| old.get("organisation_id"));
                let district = row.district.clone().unwrap_or_else(|| old.get("district"));
                let location_type = row
                    .location_type
                    .clone()
                    .unwrap_or_else(|| old.get("location_type"));
                let address = row.address.clone().unwrap_or_else(|| old.get("address"));
                let postcode = row.postcode.clone().unwrap_or_else(|| old.get("postcode"));
                let same = old.get::<Option<String>, _>("organisation_id") == organisation
                    && old.get::<String, _>("name") == row.name
                    && old.get::<String, _>("municipality") == municipality
                    && old.get::<Option<String>, _>("district") == district
                    && old.get::<bool, _>("vve") == row.vve
                    && old.get::<Option<String>, _>("location_type") == location_type
                    && old.get::<Option<String>, _>("address") == address
                    && old.get::<Option<String>, _>("postcode") == postcode;
                if same {
                    Change::Unchanged
                } else {
                    sqlx::query(
                        "UPDATE childcare_locations SET organisation_id = $2, name = $3, \
                         municipality = $4, district = $5, vve = $6, location_type = $7, \
                         address = $8, postcode = $9, updated_at = now() WHERE lrk = $1",
                    )
                    .bind(&row.lrk)
                    .bind(organisation)
                    .bind(&row.name)
                    .bind(&municipality)
                    .bind(district)
                    .bind(row.vve)
                    .bind(location_type)
                    .bind(address)
                    .bind(postcode)
                    .execute(&mut **tx)
                    .await?;
                    Change::Updated
                }
            }
        };
        report.count(change);
    }
    if without_district > 0 {
        report.notes.push(format!(
            "{without_district} locaties zonder wijk: hun postcode staat niet in de \
             postcodetabel (importeer eerst 'postcodes')"
        ));
    }
    Ok(())
}

async fn apply_postcodes(
    tx: &mut Transaction<'_, Postgres>,
    report: &mut ImportReport,
    rows: Vec<PostcodeRow>,
    districts: &HashMap<String, String>,
) -> Result<(), ImportError> {
    let municipality = report.municipality.clone();
    // What is stored for this municipality, compared in memory: a CBS file has tens of
    // thousands of addresses per municipality.
    let stored: Vec<(String, Option<i32>, String, String)> = sqlx::query_as(
        "SELECT postcode::text, house_number, district, municipality::text \
         FROM postcode_districts WHERE postcode = ANY($1)",
    )
    .bind(rows.iter().map(|r| r.postcode.clone()).collect::<Vec<_>>())
    .fetch_all(&mut **tx)
    .await?;
    let stored: HashMap<(String, Option<i32>), (String, String)> = stored
        .into_iter()
        .map(|(pc, nr, d, m)| ((pc, nr), (d, m)))
        .collect();
    let (mut new_pc, mut new_nr, mut new_d) = (Vec::new(), Vec::new(), Vec::new());
    let (mut upd_pc, mut upd_nr, mut upd_d) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        let Some(district) = districts.get(&row.district.to_lowercase()) else {
            let key = match row.house_number {
                Some(n) => format!("{} {n}", row.postcode),
                None => row.postcode.clone(),
            };
            unknown_district(
                &mut report.issues,
                row.line,
                &key,
                "",
                &row.district,
                &municipality,
            );
            continue;
        };
        match stored.get(&(row.postcode.clone(), row.house_number)) {
            None => {
                new_pc.push(row.postcode);
                new_nr.push(row.house_number);
                new_d.push(district.clone());
                report.count(Change::Inserted);
            }
            Some((d, m)) if d == district && *m == municipality => report.count(Change::Unchanged),
            Some(_) => {
                upd_pc.push(row.postcode);
                upd_nr.push(row.house_number);
                upd_d.push(district.clone());
                report.count(Change::Updated);
            }
        }
    }
    if !new_pc.is_empty() {
        sqlx::query(
            "INSERT INTO postcode_districts (municipality, postcode, house_number, district) \
             SELECT $1, pc, nr, d FROM UNNEST($2::text[], $3::int4[], $4::text[]) AS u(pc, nr, d)",
        )
        .bind(&municipality)
        .bind(&new_pc)
        .bind(&new_nr)
        .bind(&new_d)
        .execute(&mut **tx)
        .await?;
    }
    if !upd_pc.is_empty() {
        sqlx::query(
            "UPDATE postcode_districts p SET municipality = $1, district = u.d, updated_at = now() \
             FROM UNNEST($2::text[], $3::int4[], $4::text[]) AS u(pc, nr, d) \
             WHERE p.postcode = u.pc AND COALESCE(p.house_number, 0) = COALESCE(u.nr, 0)",
        )
        .bind(&municipality)
        .bind(&upd_pc)
        .bind(&upd_nr)
        .bind(&upd_d)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A parsed school list in the shape of the first import (kept for callers of
/// [`parse_schools`]): valid rows, rejected rows, conflicting ("ambiguous") rows.
#[derive(Debug, Default)]
pub struct ParsedSchools {
    pub rows: usize,
    pub valid: Vec<SchoolRow>,
    pub rejected: Vec<RowIssue>,
    pub ambiguous: Vec<RowIssue>,
    pub notes: Vec<String>,
}

/// Parses a school list (see [`parse_school_list`]).
pub fn parse_schools(mut input: impl std::io::Read) -> anyhow::Result<ParsedSchools> {
    let mut content = Vec::new();
    input.read_to_end(&mut content)?;
    let p = parse_school_list(&content)?;
    let (ambiguous, rejected) = p
        .issues
        .into_iter()
        .partition(|i| i.kind == IssueKind::Conflict);
    Ok(ParsedSchools {
        rows: p.rows,
        valid: p.valid,
        rejected,
        ambiguous,
        notes: p.notes,
    })
}

/// A parsed childcare file: rows read, valid rows, rejected rows, conflicting rows.
pub type ParsedChildcare = (usize, Vec<ChildcareRow>, Vec<RowIssue>, Vec<RowIssue>);

/// Parses a childcare file without a municipality column (see [`parse_lrk`]).
pub fn parse_childcare(mut input: impl std::io::Read) -> anyhow::Result<ParsedChildcare> {
    let mut content = Vec::new();
    input.read_to_end(&mut content)?;
    let p = parse_lrk(&content, "0000", "")?;
    let (ambiguous, rejected) = p
        .issues
        .into_iter()
        .partition(|i| i.kind == IssueKind::Conflict);
    Ok((p.rows, p.valid, rejected, ambiguous))
}

/// Imports a school list (`scholenlijst`) for `municipality`, importing the valid rows.
pub async fn import_schools_csv(
    pool: &PgPool,
    input: impl std::io::Read,
    municipality: &str,
    sector: Sector,
) -> anyhow::Result<ImportReport> {
    let mut content = Vec::new();
    let mut input = input;
    input.read_to_end(&mut content)?;
    let mut options = ImportOptions::new(ImportKind::Scholenlijst, municipality);
    options.sector = Some(sector);
    Ok(import(pool, &options, &content).await?)
}

/// Imports a school list file.
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

/// Imports childcare locations (LRK) for `municipality`, importing the valid rows.
pub async fn import_childcare_csv(
    pool: &PgPool,
    input: impl std::io::Read,
    municipality: &str,
) -> anyhow::Result<ImportReport> {
    let mut content = Vec::new();
    let mut input = input;
    input.read_to_end(&mut content)?;
    let options = ImportOptions::new(ImportKind::Lrk, municipality);
    Ok(import(pool, &options, &content).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/registry")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn brin_format() {
        assert!(valid_brin("17MJ"));
        assert!(valid_brin("04PN"));
        assert!(!valid_brin("17mj"));
        assert!(!valid_brin("1MJ7"));
        assert!(!valid_brin("17MJ0"));
    }

    #[test]
    fn postcodes_and_codes_are_normalised() {
        assert_eq!(normalise_postcode("2316 ab").as_deref(), Some("2316AB"));
        assert_eq!(normalise_postcode("0316AB"), None);
        assert_eq!(normalise_postcode("2316A"), None);
        assert_eq!(municipality_code("546").as_deref(), Some("0546"));
        assert_eq!(municipality_code("GM0546").as_deref(), Some("0546"));
        assert_eq!(municipality_code("Leiden"), None);
        assert_eq!(house_number_of("Kerkstraat 12 A"), Some(12));
        assert_eq!(house_number_of("Plein 1940-1945 3"), Some(3));
        assert_eq!(leading_number("12-14"), Some(12));
    }

    #[test]
    fn quirks_of_a_spreadsheet_export() {
        let csv = "brin,schoolnaam,leerlingen,schoolscore_met_drempel,wijk\n\
                   20VF,De Singel,190,524.11,Leiden-Noord\n\
                   17MJ,De Springplank,237,455.29,Leiden-Noord\n\
                   15IC,Apollo,144,76.18,#N/B\n\
                   04PN,Haanstra,245,0,Binnenstad-Zuid\n\
                   17MJ,De Leidse Houtschool,231,0,Boerhaavedistrict\n\
                   XX,Kapot,abc,-1,Morsdistrict\n\
                   12AB,Te weinig velden\n";
        let p = parse_school_list(csv.as_bytes()).unwrap();
        assert_eq!(p.rows, 7);
        let valid: Vec<&str> = p.valid.iter().map(|r| r.brin.as_str()).collect();
        assert_eq!(valid, vec!["20VF", "04PN"]);
        assert_eq!(
            p.valid[1].score,
            Some(Some(0.0)),
            "0 is a value, not missing"
        );
        let conflicts: Vec<u64> = p
            .issues
            .iter()
            .filter(|i| i.kind == IssueKind::Conflict)
            .map(|i| i.line)
            .collect();
        assert_eq!(conflicts, vec![3, 6]);
        assert!(p.issues[0].reasons[0].contains("regels 3, 6"));
        let rejected: Vec<&RowIssue> = p
            .issues
            .iter()
            .filter(|i| i.kind == IssueKind::Rejected)
            .collect();
        assert_eq!(rejected.len(), 3);
        assert_eq!(rejected[0].line, 4);
        assert!(rejected[0].reasons[0].contains("#N/B"));
        assert_eq!(rejected[1].reasons.len(), 3, "{:?}", rejected[1]);
        assert_eq!(rejected[2].line, 8);
        assert!(rejected[2].reasons[0].contains("onleesbare regel"));
        assert_eq!(p.notes.len(), 1);
    }

    #[test]
    fn with_a_vestiging_column_the_same_brin_is_two_schools() {
        let csv = "brin,vestiging,naam,wijk\n17MJ,00,De Springplank,Leiden-Noord\n\
                   17MJ,1,De Leidse Houtschool,Boerhaavedistrict\n";
        let p = parse_school_list(csv.as_bytes()).unwrap();
        assert_eq!(p.valid.len(), 2);
        assert_eq!(p.valid[1].vestiging, "01");
        assert!(p.issues.is_empty() && p.notes.is_empty());
    }

    #[test]
    fn the_duo_file_of_school_locations() {
        let p = parse_duo(&fixture("duo-vestigingen-po.csv"), "0546").unwrap();
        let text = format!("{:?}", p.issues);
        assert_eq!(p.sector, Some(Sector::Po));
        assert_eq!(p.rows, 9, "{text}");
        assert_eq!(p.skipped, 1, "one school of Leiderdorp");
        let keys: Vec<String> = p.valid.iter().map(SchoolRow::key).collect();
        // 99XA has two vestigingen: two schools, both kept.
        assert_eq!(keys, vec!["99XA00", "99XA01", "99XB00", "99XE00"], "{text}");
        assert_eq!(p.valid[0].postcode, Some(Some("2316AB".into())));
        assert_eq!(p.valid[0].house_number, Some(12));
        assert_eq!(p.valid[0].address, Some(Some("Voorbeeldstraat 12".into())));
        // 99XC00 twice: a conflict, neither imported.
        let conflicts: Vec<u64> = p.conflict_lines();
        assert_eq!(conflicts, vec![5, 6], "{text}");
        // A malformed BRIN and a row with too few fields, each with its line.
        let rejected: Vec<u64> = p
            .issues
            .iter()
            .filter(|i| i.kind == IssueKind::Rejected)
            .map(|i| i.line)
            .collect();
        assert_eq!(rejected, vec![7, 8], "{text}");
    }

    #[test]
    fn the_lrk_export_of_childcare_locations() {
        let p = parse_lrk(&fixture("lrk-export.csv"), "0546", "Leiden").unwrap();
        let text = format!("{:?} {:?}", p.issues, p.notes);
        assert!(p.notes[0].contains("Latin-1"), "{text}");
        let lrks: Vec<&str> = p.valid.iter().map(|r| r.lrk.as_str()).collect();
        assert_eq!(lrks, vec!["900000001", "900000002"], "{text}");
        assert!(p.valid[0].vve && !p.valid[1].vve);
        assert_eq!(p.valid[0].name, "Peuteropvang Het Zonnetje (fictief)");
        assert_eq!(
            p.valid[1].name,
            "Kinderdagverblijf De Kraanvogel (fictief, één)"
        );
        assert_eq!(p.valid[0].location_type, Some(Some("KDV".into())));
        assert_eq!(p.valid[0].house_number, Some(12));
        // Skipped: another municipality, a childminder (VGO), a deregistered location.
        assert_eq!(p.skipped, 3, "{text}");
        assert_eq!(p.conflict_lines(), vec![6, 7], "{text}");
        let rejected: Vec<u64> = p
            .issues
            .iter()
            .filter(|i| i.kind == IssueKind::Rejected)
            .map(|i| i.line)
            .collect();
        assert_eq!(rejected, vec![8, 9], "{text}");
    }

    #[test]
    fn the_short_childcare_form_still_reads() {
        let csv = "lrk,naam,wijk,vve\n\
                   100000011,De Eikel,Leiden-Noord,ja\n\
                   100000012,De Beuk,#N/B,nee\n\
                   12,Kort,Morsdistrict,ja\n\
                   100000013,Twee keer,Morsdistrict,misschien\n\
                   100000014,Een,Morsdistrict,1\n\
                   100000014,Twee,Morsdistrict,0\n";
        let p = parse_lrk(csv.as_bytes(), "0546", "Leiden").unwrap();
        assert_eq!(p.rows, 6);
        assert_eq!(p.valid.len(), 1);
        assert!(p.valid[0].vve);
        assert_eq!(p.issues.len(), 5);
        assert_eq!(p.conflict_lines(), vec![6, 7]);
        assert!(p.issues[2].reasons[0].contains("ja of nee"));
    }

    #[test]
    fn the_postcode_table() {
        let p = parse_postcodes(&fixture("postcodes.csv"), "0546").unwrap();
        let text = format!("{:?} {:?}", p.issues, p.notes);
        assert_eq!(p.skipped, 1, "{text}");
        let valid: Vec<(String, Option<i32>)> = p
            .valid
            .iter()
            .map(|r| (r.postcode.clone(), r.house_number))
            .collect();
        assert_eq!(
            valid,
            vec![
                ("2316AB".to_owned(), Some(12)),
                ("2316AB".to_owned(), Some(14)),
                ("2312CD".to_owned(), None),
                ("2333EF".to_owned(), Some(1)),
            ],
            "{text}"
        );
        assert!(p.notes.iter().any(|n| n.contains("1 herhaalde")), "{text}");
        assert_eq!(p.conflict_lines(), vec![7, 8], "{text}");
        let rejected: Vec<(u64, &str)> = p
            .issues
            .iter()
            .filter(|i| i.kind == IssueKind::Rejected)
            .map(|i| (i.line, i.reasons[0].as_str()))
            .collect();
        assert_eq!(rejected.len(), 4, "{text}");
        assert!(rejected[0].1.contains("#N/B"), "{text}");
        assert!(rejected[1].1.contains("postcode ongeldig"), "{text}");
        assert!(rejected[2].1.contains("CBS-wijkcode"), "{text}");
        assert!(rejected[3].1.contains("onleesbare regel"), "{text}");
    }

    #[test]
    fn a_file_without_its_key_column_is_refused_as_a_whole() {
        let e = parse_postcodes(b"pc;nr\n2316AB;1\n", "0546").unwrap_err();
        assert!(e.to_string().contains("kolom postcode ontbreekt"), "{e}");
        assert!(parse_duo(b"", "0546").is_err());
    }

    impl<T> Parsed<T> {
        fn conflict_lines(&self) -> Vec<u64> {
            self.issues
                .iter()
                .filter(|i| i.kind == IssueKind::Conflict)
                .map(|i| i.line)
                .collect()
        }
    }
}
