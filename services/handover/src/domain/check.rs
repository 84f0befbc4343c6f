//! Field checks of handover commands: every error of a request at once, never personal data in
//! a reason.

use chrono::{Datelike, Days, Months, NaiveDate};
use kansrijk_proto::handover::{
    Advice, ChildIdentity, OsoContent, ParentsResponse, PreschoolContent, Reconsideration,
    SchoolId, TestResult,
};
use kansrijk_proto::problem::FieldError;

/// Recorded facts may lie at most this far ahead (a meeting entered the evening before).
pub const FACT_HORIZON_DAYS: u64 = 1;
/// Planned dates may lie at most this far ahead.
pub const PLANNING_HORIZON_DAYS: u64 = 366;
/// No date lies further back than this.
pub const PAST_HORIZON_YEARS: u32 = 16;
/// Longest free text, in characters.
pub const MAX_TEXT: usize = 4000;

fn past_horizon(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_months(Months::new(12 * PAST_HORIZON_YEARS))
        .unwrap_or(NaiveDate::MIN)
}

/// A recorded fact: not ahead of today (beyond a day), not before the past horizon.
pub fn fact_date(errors: &mut Vec<FieldError>, field: &str, d: NaiveDate, today: NaiveDate) {
    if d > today + Days::new(FACT_HORIZON_DAYS) || d < past_horizon(today) {
        errors.push(FieldError::new(
            field,
            "datum-buiten-horizon",
            "Deze datum ligt in de toekomst of te ver in het verleden.",
        ));
    }
}

/// A planned date: at most a year ahead, not before the past horizon.
pub fn planned_date(errors: &mut Vec<FieldError>, field: &str, d: NaiveDate, today: NaiveDate) {
    if d > today + Days::new(PLANNING_HORIZON_DAYS) || d < past_horizon(today) {
        errors.push(FieldError::new(
            field,
            "datum-buiten-horizon",
            "Deze datum ligt meer dan een jaar vooruit of te ver in het verleden.",
        ));
    }
}

/// Free text that must be filled in.
pub fn required_text(errors: &mut Vec<FieldError>, field: &str, s: &str) {
    if s.trim().is_empty() {
        errors.push(FieldError::new(
            field,
            "verplicht",
            "Dit veld is verplicht.",
        ));
    } else {
        max_text(errors, field, s);
    }
}

pub fn max_text(errors: &mut Vec<FieldError>, field: &str, s: &str) {
    if s.chars().count() > MAX_TEXT {
        errors.push(FieldError::new(
            field,
            "te-lang",
            "Deze tekst is langer dan 4000 tekens.",
        ));
    }
}

fn optional_text(errors: &mut Vec<FieldError>, field: &str, s: &Option<String>) {
    if let Some(s) = s {
        max_text(errors, field, s);
    }
}

/// BSN: nine digits passing the 11-proef.
pub fn is_bsn(s: &str) -> bool {
    if s.len() != 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: i64 = s
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let w = if i == 8 { -1 } else { 9 - i as i64 };
            w * i64::from(b - b'0')
        })
        .sum();
    sum % 11 == 0 && sum != 0
}

/// The child's identity. `age_years` is the plausible age range on `on`.
pub fn identity(
    errors: &mut Vec<FieldError>,
    prefix: &str,
    id: &ChildIdentity,
    on: NaiveDate,
    age_years: (u32, u32),
    bsn_allowed: bool,
) {
    required_text(errors, &format!("{prefix}.voornaam"), &id.given_name);
    required_text(errors, &format!("{prefix}.achternaam"), &id.family_name);
    let youngest = on
        .checked_sub_months(Months::new(12 * age_years.0))
        .unwrap_or(NaiveDate::MIN);
    let oldest = on
        .checked_sub_months(Months::new(12 * age_years.1))
        .unwrap_or(NaiveDate::MIN);
    if id.birth_date > youngest || id.birth_date < oldest {
        errors.push(FieldError::new(
            format!("{prefix}.geboortedatum"),
            "leeftijd-onwaarschijnlijk",
            format!(
                "Het kind is op deze datum niet tussen {} en {} jaar oud.",
                age_years.0, age_years.1
            ),
        ));
    }
    match (&id.bsn, bsn_allowed) {
        (Some(_), false) => errors.push(FieldError::new(
            format!("{prefix}.bsn"),
            "bsn-niet-toegestaan",
            "Een kinderopvang mag het BSN niet in het overdrachtsformulier opnemen.",
        )),
        (Some(b), true) if !is_bsn(b) => errors.push(FieldError::new(
            format!("{prefix}.bsn"),
            "bsn-elfproef",
            "Dit BSN voldoet niet aan de elfproef.",
        )),
        _ => {}
    }
}

pub fn preschool_content(
    errors: &mut Vec<FieldError>,
    c: &PreschoolContent,
    drafted_on: NaiveDate,
    today: NaiveDate,
) {
    required_text(errors, "inhoud.sociaalEmotioneel", &c.socio_emotional);
    required_text(errors, "inhoud.taal", &c.language);
    required_text(errors, "inhoud.motoriek", &c.motor);
    required_text(errors, "inhoud.cognitief", &c.cognitive);
    required_text(
        errors,
        "inhoud.interessesEnTalenten",
        &c.interests_and_talents,
    );
    required_text(errors, "inhoud.ondersteuningsbehoeften", &c.support_needs);
    optional_text(errors, "inhoud.thuissituatie", &c.home_situation);
    optional_text(errors, "inhoud.aanpak", &c.approach);
    if let Some(v) = &c.vve {
        required_text(errors, "inhoud.vve.programma", &v.programme);
        if v.from > drafted_on {
            errors.push(FieldError::new(
                "inhoud.vve.vanaf",
                "na-opsteldatum",
                "Het VVE-programma begon niet na de datum van het formulier.",
            ));
        }
        if v.until.is_some_and(|u| u < v.from) {
            errors.push(FieldError::new(
                "inhoud.vve.totEnMet",
                "voor-begin",
                "Het einde van het VVE-programma ligt voor het begin.",
            ));
        }
        if v.hours_per_week.is_some_and(|h| h > 40) {
            errors.push(FieldError::new(
                "inhoud.vve.urenPerWeek",
                "uren-buiten-bereik",
                "Het aantal uren per week ligt tussen 0 en 40.",
            ));
        }
    }
    if let Some(o) = &c.observation {
        fact_date(errors, "inhoud.observatie.datum", o.on, today);
        required_text(errors, "inhoud.observatie.uitkomst", &o.outcome);
    }
}

pub fn oso_content(errors: &mut Vec<FieldError>, c: &OsoContent) {
    required_text(errors, "inhoud.ondersteuning", &c.support);
    if c.absence.authorised_days > 366 || c.absence.unauthorised_days > 366 {
        errors.push(FieldError::new(
            "inhoud.verzuim",
            "dagen-buiten-bereik",
            "Verzuim telt hoogstens 366 dagen per jaar.",
        ));
    }
    optional_text(errors, "inhoud.schoolloopbaan", &c.school_history);
    optional_text(errors, "inhoud.vveHistorie", &c.vve_history);
    optional_text(errors, "inhoud.handelingsplannen", &c.action_plans);
}

pub fn school(errors: &mut Vec<FieldError>, field: &str, s: &SchoolId) {
    if !s.is_well_formed() {
        errors.push(FieldError::new(
            field,
            "school-ongeldig",
            "Een school is een BRIN-nummer (2 cijfers en 2 tekens) met een vestigingsnummer van 2 cijfers.",
        ));
    }
}

/// `YYYY-YYYY` with consecutive years, the second between `today`'s year - 1 and + 1.
pub fn school_year(errors: &mut Vec<FieldError>, field: &str, s: &str, today: NaiveDate) {
    let ok = s
        .split_once('-')
        .and_then(|(a, b)| Some((a.parse::<i32>().ok()?, b.parse::<i32>().ok()?)))
        .is_some_and(|(a, b)| {
            s.len() == 9 && b == a + 1 && (today.year() - 1..=today.year() + 1).contains(&b)
        });
    if !ok {
        errors.push(FieldError::new(
            field,
            "schooljaar-ongeldig",
            "Een schooljaar schrijft u als JJJJ-JJJJ, bijvoorbeeld 2025-2026.",
        ));
    }
}

pub fn advice(errors: &mut Vec<FieldError>, a: &Advice) {
    optional_text(errors, "advies.toelichting", &a.explanation);
}

pub fn test_result(errors: &mut Vec<FieldError>, r: &TestResult) {
    required_text(errors, "uitslag.toets", &r.test);
}

pub fn reconsideration(errors: &mut Vec<FieldError>, r: &Reconsideration) {
    required_text(errors, "heroverweging.motivatie", &r.motivation);
}

pub fn parents_response(errors: &mut Vec<FieldError>, r: &ParentsResponse) {
    required_text(errors, "reactie.toelichting", &r.text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsn_passes_the_elfproef() {
        assert!(is_bsn("111222333"));
        assert!(is_bsn("123456782"));
        assert!(!is_bsn("123456789"));
        assert!(!is_bsn("000000000"));
        assert!(!is_bsn("12345678"));
    }

    #[test]
    fn school_years_are_consecutive() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        let mut e = Vec::new();
        school_year(&mut e, "s", "2025-2026", today);
        assert!(e.is_empty());
        school_year(&mut e, "s", "2025-2027", today);
        school_year(&mut e, "s", "2010-2011", today);
        school_year(&mut e, "s", "abcd-efgh", today);
        assert_eq!(e.len(), 3);
    }
}
