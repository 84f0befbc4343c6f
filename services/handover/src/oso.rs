//! The JSON mapping of a PO-VO file to the categories of the OSO data set (Overstapservice
//! Onderwijs), documented in `OSO.md`: [`export`] writes a document, [`import`] reads one back
//! with every field error at once. Both are pure.

use chrono::NaiveDate;
use kansrijk_proto::handover::InformedHow;
use kansrijk_proto::handover::{
    Absence, Advice, AdviceLevel, ChildIdentity, HandoverEvent, OsoContent, ParentsResponse,
    Reconsideration, SchoolId, TestResult,
};
use kansrijk_proto::problem::FieldError;
use kansrijk_runtime::crypto::{CryptoError, SubjectKey};

use crate::domain::Command;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The value of `osoVersie` this mapping writes and reads.
pub const FORMAT: &str = "kansrijk-oso-json/1";

/// A PO-VO file with its sealed parts opened: what the mapping exchanges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsoFile {
    pub school: SchoolId,
    pub child_id: Option<Uuid>,
    pub school_year: String,
    pub pupil: ChildIdentity,
    pub content: OsoContent,
    pub provisional: Option<Advice>,
    pub test: Option<TestResult>,
    pub reconsideration: Option<Reconsideration>,
    pub final_advice: Option<Advice>,
    /// When the parents were shown the file, and their last response.
    pub parents_review: Option<ParentsReview>,
}

/// The OSO "inzage ouders" block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentsReview {
    pub on: NaiveDate,
    pub response: Option<ParentsResponse>,
}

/// Folds a PO-VO file's events and opens the sealed parts with the file's key.
pub fn open_file(events: &[HandoverEvent], key: &SubjectKey) -> Result<OsoFile, CryptoError> {
    let mut file: Option<OsoFile> = None;
    for e in events {
        match e {
            HandoverEvent::OsoCreated(c) => {
                file = Some(OsoFile {
                    school: c.school.clone(),
                    child_id: c.child_id,
                    school_year: c.school_year.clone(),
                    pupil: key.open(&c.pupil)?,
                    content: key.open(&c.content)?,
                    provisional: None,
                    test: None,
                    reconsideration: None,
                    final_advice: None,
                    parents_review: None,
                });
            }
            other => {
                let Some(f) = file.as_mut() else { continue };
                match other {
                    HandoverEvent::OsoUpdated(u) => f.content = key.open(&u.content)?,
                    HandoverEvent::ProvisionalAdvice(a) => {
                        f.provisional = Some(key.open(&a.advice)?)
                    }
                    HandoverEvent::TestResult(t) => f.test = Some(key.open(&t.result)?),
                    HandoverEvent::Reconsidered(r) => {
                        f.reconsideration = Some(key.open(&r.reconsideration)?)
                    }
                    HandoverEvent::FinalAdvice(a) => f.final_advice = Some(key.open(&a.advice)?),
                    HandoverEvent::ParentsInformed(i) => {
                        f.parents_review = Some(ParentsReview {
                            on: i.on,
                            response: None,
                        })
                    }
                    HandoverEvent::ParentsResponse(r) => {
                        let response = key.open(&r.response)?;
                        if let Some(review) = f.parents_review.as_mut() {
                            review.response = Some(response);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    file.ok_or(CryptoError::Malformed)
}

fn advice_json(a: &Advice) -> Value {
    let mut m = Map::new();
    m.insert("niveau".into(), json!(a.level.as_str()));
    if let Some(t) = &a.explanation {
        m.insert("toelichting".into(), json!(t));
    }
    Value::Object(m)
}

fn put_opt(m: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(k.into(), v);
    }
}

/// Writes the OSO JSON document of a file (see OSO.md for every field and its OSO category).
pub fn export(f: &OsoFile) -> Value {
    let mut leerling = Map::new();
    put_opt(&mut leerling, "bsn", f.pupil.bsn.as_ref().map(|b| json!(b)));
    leerling.insert("voornaam".into(), json!(f.pupil.given_name));
    leerling.insert("achternaam".into(), json!(f.pupil.family_name));
    leerling.insert("geboortedatum".into(), json!(f.pupil.birth_date));
    put_opt(
        &mut leerling,
        "kansrijkKindId",
        f.child_id.map(|c| json!(c)),
    );

    let mut advies = Map::new();
    put_opt(
        &mut advies,
        "voorlopigAdvies",
        f.provisional.as_ref().map(advice_json),
    );
    put_opt(
        &mut advies,
        "herzienAdvies",
        f.reconsideration
            .as_ref()
            .map(|r| json!({"niveau": r.level.as_str(), "motivatie": r.motivation})),
    );
    put_opt(
        &mut advies,
        "definitiefAdvies",
        f.final_advice.as_ref().map(advice_json),
    );
    put_opt(
        &mut advies,
        "wensOuders",
        f.content.parents_wish.map(|l| json!(l.as_str())),
    );
    put_opt(
        &mut advies,
        "wensLeerling",
        f.content.pupil_wish.map(|l| json!(l.as_str())),
    );
    advies.insert("contactGewenst".into(), json!(f.content.contact_wanted));

    let mut zorg = Map::new();
    zorg.insert("ondersteuning".into(), json!(f.content.support));
    put_opt(
        &mut zorg,
        "handelingsplannen",
        f.content.action_plans.as_ref().map(|t| json!(t)),
    );

    let mut doc = Map::new();
    doc.insert("osoVersie".into(), json!(FORMAT));
    doc.insert(
        "school".into(),
        json!({"brin": f.school.brin, "vestiging": f.school.location}),
    );
    doc.insert("leerling".into(), Value::Object(leerling));
    doc.insert("schooljaar".into(), json!(f.school_year));
    put_opt(
        &mut doc,
        "vveHistorie",
        f.content
            .vve_history
            .as_ref()
            .map(|t| json!({"omschrijving": t})),
    );
    put_opt(
        &mut doc,
        "schoolloopbaan",
        f.content
            .school_history
            .as_ref()
            .map(|t| json!({"omschrijving": t})),
    );
    doc.insert("advies".into(), Value::Object(advies));
    doc.insert("zorg".into(), Value::Object(zorg));
    doc.insert(
        "verzuim".into(),
        json!({
            "geoorloofdDagen": f.content.absence.authorised_days,
            "ongeoorloofdDagen": f.content.absence.unauthorised_days,
        }),
    );
    doc.insert(
        "toetsresultaten".into(),
        Value::Array(
            f.test
                .iter()
                .map(|t| json!({"toets": t.test, "toetsadvies": t.level.as_str()}))
                .collect(),
        ),
    );
    if let Some(r) = &f.parents_review {
        let mut m = Map::new();
        m.insert("ingezien".into(), json!(true));
        m.insert("datum".into(), json!(r.on));
        if let Some(resp) = &r.response {
            put_opt(&mut m, "akkoord", resp.agrees.map(|a| json!(a)));
            m.insert("opmerkingen".into(), json!(resp.text));
        }
        doc.insert("inzageOuders".into(), Value::Object(m));
    }
    Value::Object(doc)
}

/// Reads values from a JSON document, collecting every field error.
struct Reader<'a> {
    errors: Vec<FieldError>,
    root: &'a Value,
}

impl<'a> Reader<'a> {
    fn get(&self, path: &str) -> Option<&'a Value> {
        let mut v = self.root;
        for part in path.split('.') {
            v = match (v, part.parse::<usize>()) {
                (Value::Array(items), Ok(i)) => items.get(i)?,
                _ => v.get(part)?,
            };
        }
        (!v.is_null()).then_some(v)
    }

    fn error(&mut self, path: &str, code: &str, reason: &str) {
        self.errors.push(FieldError::new(path, code, reason));
    }

    fn string(&mut self, path: &str, required: bool) -> Option<String> {
        match self.get(path) {
            None if required => {
                self.error(path, "verplicht", "Dit veld is verplicht.");
                None
            }
            None => None,
            Some(Value::String(s)) if required && s.trim().is_empty() => {
                self.error(path, "verplicht", "Dit veld is verplicht.");
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.error(path, "geen-tekst", "Dit veld moet een tekst zijn.");
                None
            }
        }
    }

    fn date(&mut self, path: &str, required: bool) -> Option<NaiveDate> {
        let s = self.string(path, required)?;
        match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.error(
                    path,
                    "datum-ongeldig",
                    "Een datum schrijft u als JJJJ-MM-DD.",
                );
                None
            }
        }
    }

    fn level(&mut self, path: &str, required: bool) -> Option<AdviceLevel> {
        let s = self.string(path, required)?;
        let l = AdviceLevel::parse(&s);
        if l.is_none() {
            self.error(path, "niveau-onbekend", "Dit is geen bekend adviesniveau.");
        }
        l
    }

    fn days(&mut self, path: &str) -> Option<u16> {
        match self.get(path) {
            None => {
                self.error(path, "verplicht", "Dit veld is verplicht.");
                None
            }
            Some(v) => match v
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| *n <= 366)
            {
                Some(n) => Some(n),
                None => {
                    self.error(
                        path,
                        "dagen-ongeldig",
                        "Een aantal dagen is een geheel getal van 0 tot en met 366.",
                    );
                    None
                }
            },
        }
    }

    fn boolean(&mut self, path: &str, required: bool) -> Option<bool> {
        match self.get(path) {
            None if required => {
                self.error(path, "verplicht", "Dit veld is verplicht.");
                None
            }
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.error(path, "geen-waarheidswaarde", "Dit veld is true of false.");
                None
            }
        }
    }

    fn advice(&mut self, path: &str) -> Option<Advice> {
        self.get(path)?;
        let level = self.level(&format!("{path}.niveau"), true)?;
        let explanation = self.string(&format!("{path}.toelichting"), false);
        Some(Advice { level, explanation })
    }
}

/// Reads an OSO JSON document. Every malformed or missing field is reported at once.
pub fn import(doc: &Value) -> Result<OsoFile, Vec<FieldError>> {
    let mut r = Reader {
        errors: Vec::new(),
        root: doc,
    };
    if !doc.is_object() {
        return Err(vec![FieldError::new(
            "document",
            "geen-object",
            "Een OSO-dossier is een JSON-object.",
        )]);
    }
    match r.string("osoVersie", true) {
        Some(v) if v != FORMAT => r.error(
            "osoVersie",
            "versie-onbekend",
            "Deze versie van het OSO-formaat wordt niet ondersteund.",
        ),
        _ => {}
    }
    let brin = r.string("school.brin", true);
    let location = r.string("school.vestiging", true);
    let school = match (brin, location) {
        (Some(b), Some(l)) => {
            let s = SchoolId::new(b, l);
            if !s.is_well_formed() {
                r.error(
                    "school",
                    "school-ongeldig",
                    "BRIN en vestiging zijn niet geldig.",
                );
            }
            Some(s)
        }
        _ => None,
    };
    let bsn = r.string("leerling.bsn", false);
    let given_name = r.string("leerling.voornaam", true);
    let family_name = r.string("leerling.achternaam", true);
    let birth_date = r.date("leerling.geboortedatum", true);
    let child_id = r.string("leerling.kansrijkKindId", false).and_then(|s| {
        let id = s.parse::<Uuid>().ok();
        if id.is_none() {
            r.error(
                "leerling.kansrijkKindId",
                "geen-uuid",
                "Dit is geen geldige id.",
            );
        }
        id
    });
    let school_year = r.string("schooljaar", true);
    let vve_history = r.string("vveHistorie.omschrijving", false);
    let school_history = r.string("schoolloopbaan.omschrijving", false);
    let provisional = r.advice("advies.voorlopigAdvies");
    let reconsideration = if r.get("advies.herzienAdvies").is_some() {
        let level = r.level("advies.herzienAdvies.niveau", true);
        let motivation = r.string("advies.herzienAdvies.motivatie", true);
        level
            .zip(motivation)
            .map(|(level, motivation)| Reconsideration { level, motivation })
    } else {
        None
    };
    let final_advice = r.advice("advies.definitiefAdvies");
    let parents_wish = r.level("advies.wensOuders", false);
    let pupil_wish = r.level("advies.wensLeerling", false);
    let contact_wanted = r.boolean("advies.contactGewenst", true);
    let support = r.string("zorg.ondersteuning", true);
    let action_plans = r.string("zorg.handelingsplannen", false);
    let authorised = r.days("verzuim.geoorloofdDagen");
    let unauthorised = r.days("verzuim.ongeoorloofdDagen");
    let mut test = None;
    match r.get("toetsresultaten") {
        None => {}
        Some(Value::Array(items)) if items.is_empty() => {}
        Some(Value::Array(items)) if items.len() == 1 => {
            let t = r.string("toetsresultaten.0.toets", true);
            let l = r.level("toetsresultaten.0.toetsadvies", true);
            test = t.zip(l).map(|(test, level)| TestResult { test, level });
        }
        Some(_) => r.error(
            "toetsresultaten",
            "toetsresultaten-ongeldig",
            "Toetsresultaten zijn een lijst met hoogstens één doorstroomtoets.",
        ),
    }
    let parents_review = if r.get("inzageOuders").is_some() {
        let seen = r.boolean("inzageOuders.ingezien", true);
        let on = r.date("inzageOuders.datum", seen == Some(true));
        let agrees = r.boolean("inzageOuders.akkoord", false);
        let text = r.string("inzageOuders.opmerkingen", false);
        if agrees == Some(false) && text.as_deref().is_none_or(|t| t.trim().is_empty()) {
            r.error(
                "inzageOuders.opmerkingen",
                "reden-verplicht",
                "Als de ouders het niet eens zijn, staat hun reden erbij.",
            );
        }
        on.map(|on| ParentsReview {
            on,
            response: text.map(|text| ParentsResponse { agrees, text }),
        })
    } else {
        None
    };
    if !r.errors.is_empty() {
        return Err(r.errors);
    }
    let (
        Some(school),
        Some(given_name),
        Some(family_name),
        Some(birth_date),
        Some(school_year),
        Some(contact_wanted),
        Some(support),
        Some(authorised),
        Some(unauthorised),
    ) = (
        school,
        given_name,
        family_name,
        birth_date,
        school_year,
        contact_wanted,
        support,
        authorised,
        unauthorised,
    )
    else {
        return Err(vec![FieldError::new(
            "document",
            "onvolledig",
            "Het OSO-dossier is onvolledig.",
        )]);
    };
    Ok(OsoFile {
        school,
        child_id,
        school_year,
        pupil: ChildIdentity {
            given_name,
            family_name,
            birth_date,
            bsn,
        },
        content: OsoContent {
            support,
            absence: Absence {
                authorised_days: authorised,
                unauthorised_days: unauthorised,
            },
            parents_wish,
            pupil_wish,
            contact_wanted,
            school_history,
            vve_history,
            action_plans,
        },
        provisional,
        test,
        reconsideration,
        final_advice,
        parents_review,
    })
}

/// The commands that turn an imported document into a file, dated `on` (the parents' review
/// keeps its own date).
pub fn import_commands(f: OsoFile, on: NaiveDate) -> Vec<Command> {
    let mut cmds = vec![Command::CreateOso {
        child_id: f.child_id,
        school_year: f.school_year,
        created_on: on,
        pupil: f.pupil,
        content: f.content,
    }];
    if let Some(advice) = f.provisional {
        cmds.push(Command::ProvisionalAdvice { on, advice });
    }
    if let Some(result) = f.test {
        cmds.push(Command::RecordTestResult { on, result });
    }
    if let Some(reconsideration) = f.reconsideration {
        cmds.push(Command::Reconsider {
            on,
            reconsideration,
        });
    }
    if let Some(advice) = f.final_advice {
        cmds.push(Command::FinalAdvice { on, advice });
    }
    if let Some(review) = f.parents_review {
        cmds.push(Command::InformParents {
            on: review.on.max(on),
            how: InformedHow::Gesprek,
        });
        if let Some(response) = review.response {
            cmds.push(Command::AddParentsResponse {
                on: review.on.max(on),
                response,
            });
        }
    }
    cmds
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn example() -> OsoFile {
        OsoFile {
            school: SchoolId::new("12AB", "00"),
            child_id: Some(Uuid::from_u128(5)),
            school_year: "2025-2026".into(),
            pupil: ChildIdentity {
                given_name: "Noah".into(),
                family_name: "de Vries".into(),
                birth_date: NaiveDate::from_ymd_opt(2014, 5, 1).unwrap(),
                bsn: Some("111222333".into()),
            },
            content: OsoContent {
                support: "Extra instructie rekenen.".into(),
                absence: Absence {
                    authorised_days: 4,
                    unauthorised_days: 1,
                },
                parents_wish: Some(AdviceLevel::Havo),
                pupil_wish: Some(AdviceLevel::HavoVwo),
                contact_wanted: true,
                school_history: Some("Groep 3 gedoubleerd.".into()),
                vve_history: Some("Peuterspeelzaal met Piramide.".into()),
                action_plans: None,
            },
            provisional: Some(Advice {
                level: AdviceLevel::VmboGt,
                explanation: Some("Werkt zelfstandig.".into()),
            }),
            test: Some(TestResult {
                test: "route-8".into(),
                level: AdviceLevel::Havo,
            }),
            reconsideration: Some(Reconsideration {
                level: AdviceLevel::VmboGtHavo,
                motivation: "Toets en werkhouding samen.".into(),
            }),
            final_advice: Some(Advice {
                level: AdviceLevel::VmboGtHavo,
                explanation: None,
            }),
            parents_review: Some(ParentsReview {
                on: NaiveDate::from_ymd_opt(2026, 3, 21).unwrap(),
                response: Some(ParentsResponse {
                    agrees: Some(false),
                    text: "Wij zien havo.".into(),
                }),
            }),
        }
    }

    #[test]
    fn export_then_import_gives_the_same_file() {
        let f = example();
        let doc = export(&f);
        assert_eq!(doc["osoVersie"], FORMAT);
        assert_eq!(doc["advies"]["herzienAdvies"]["niveau"], "vmbo-gt-havo");
        assert_eq!(import(&doc).unwrap(), f);
    }

    #[test]
    fn import_reports_every_field_error_at_once() {
        let mut doc = export(&example());
        doc["osoVersie"] = json!("iets-anders");
        doc["leerling"]["voornaam"] = json!("");
        doc["leerling"]["geboortedatum"] = json!("01-05-2014");
        doc["advies"]["definitiefAdvies"]["niveau"] = json!("gymnasium-plus");
        doc["verzuim"]["ongeoorloofdDagen"] = json!(-3);
        doc["inzageOuders"]["opmerkingen"] = json!(" ");
        doc.as_object_mut().unwrap().remove("zorg");
        let errors = import(&doc).unwrap_err();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "osoVersie",
                "leerling.voornaam",
                "leerling.geboortedatum",
                "advies.definitiefAdvies.niveau",
                "zorg.ondersteuning",
                "verzuim.ongeoorloofdDagen",
                "inzageOuders.opmerkingen",
            ]
        );
        assert!(import(&json!([1, 2])).is_err());
        assert!(import(&json!({})).unwrap_err().len() > 5);
    }

    fn arb_level() -> impl Strategy<Value = AdviceLevel> {
        proptest::sample::select(AdviceLevel::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn round_trips_for_any_content(
            name in "[A-Za-zé' -]{1,20}",
            text in "\\PC{1,60}",
            levels in proptest::collection::vec(arb_level(), 4),
            days in (0u16..=366, 0u16..=366),
            flags in (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        ) {
            prop_assume!(!name.trim().is_empty() && !text.trim().is_empty());
            let mut f = example();
            f.pupil.given_name = name.clone();
            f.pupil.bsn = flags.0.then(|| "111222333".to_string());
            f.content.support = text.clone();
            f.content.absence = Absence { authorised_days: days.0, unauthorised_days: days.1 };
            f.content.parents_wish = flags.1.then_some(levels[0]);
            f.content.contact_wanted = flags.2;
            f.content.school_history = flags.3.then(|| text.clone());
            f.provisional = Some(Advice { level: levels[1], explanation: flags.1.then(|| text.clone()) });
            f.final_advice = flags.2.then_some(Advice { level: levels[2], explanation: None });
            f.test = flags.3.then(|| TestResult { test: "iep".into(), level: levels[3] });
            f.reconsideration = None;
            f.parents_review = flags.0.then(|| ParentsReview {
                on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                response: Some(ParentsResponse { agrees: Some(true), text: text.clone() }),
            });
            prop_assert_eq!(import(&export(&f)).unwrap(), f);
        }
    }
}
