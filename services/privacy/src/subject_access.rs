//! Subject access (AVG art. 15): everything Kansrijk holds about one subject, in one JSON
//! document and a readable text.
//!
//! The privacy service asks every configured service on `kansrijk.qry.<service>.inzage` with a
//! [`SubjectAccessRequest`] (the privacy officer's actor in the header, so each service checks its
//! own policy and logs the export), waits at most the configured timeout per service (all in
//! parallel), adds its own part (key state, legal hold, retention periods, the access log about the
//! subject) and reports which services did not answer, and why.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use kansrijk_proto::actor::Actor;
use kansrijk_proto::category::DataCategory;
use kansrijk_proto::privacy::{
    subjects, SubjectAccessPart, SubjectAccessRequest, SubjectAccessSection,
};
use kansrijk_proto::problem::Problem;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::Row;
use uuid::Uuid;

use crate::access_log;
use crate::config::Months;
use crate::domain::retain_until;
use crate::error::db_problem;
use crate::subjects::Privacy;

/// A service that did not deliver its part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MissingPart {
    pub service: String,
    /// `geen-antwoord` (timeout), `niet-bereikbaar` (no responders), or the problem's code.
    pub reason: String,
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessDocument {
    pub subject: Uuid,
    pub generated_at: DateTime<Utc>,
    /// `true` when every service answered.
    pub complete: bool,
    pub parts: Vec<SubjectAccessPart>,
    pub missing: Vec<MissingPart>,
}

/// Reply of `kansrijk.qry.privacy.inzageverzoek`: the document and its readable form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectAccessReply {
    pub document: SubjectAccessDocument,
    pub text: String,
}

/// The privacy service's own part.
pub async fn own_part(privacy: &Privacy, subject: Uuid) -> Result<SubjectAccessPart, Problem> {
    let row = sqlx::query(
        "SELECT s.subject_kind, s.municipality, s.created_at, s.hold_reason, s.hold_since,
                s.erased_at, s.erasure_grounds, k.subject IS NOT NULL AS has_key
         FROM subjects s LEFT JOIN subject_keys k ON k.subject = s.subject WHERE s.subject = $1",
    )
    .bind(subject)
    .fetch_optional(privacy.pool())
    .await
    .map_err(|e| db_problem(&e))?;
    let mut sections = Vec::new();
    let Some(row) = row else {
        return Ok(SubjectAccessPart {
            service: "privacy".into(),
            subject,
            sections: vec![SubjectAccessSection {
                title: "Sleutel".into(),
                category: DataCategory::Administrative,
                data: json!({ "status": "onbekend" }),
            }],
        });
    };
    let get = |name: &str| -> Result<Value, Problem> {
        Ok(match row.try_get::<Option<String>, _>(name) {
            Ok(v) => v.map(Value::from).unwrap_or(Value::Null),
            Err(_) => row
                .try_get::<Option<DateTime<Utc>>, _>(name)
                .map_err(|e| db_problem(&e))?
                .map(|t| Value::from(t.to_rfc3339()))
                .unwrap_or(Value::Null),
        })
    };
    let has_key: bool = row.try_get("has_key").map_err(|e| db_problem(&e))?;
    let erased = !get("erased_at")?.is_null();
    sections.push(SubjectAccessSection {
        title: "Sleutel".into(),
        category: DataCategory::Administrative,
        data: json!({
            "status": if erased { "gewist" } else if has_key { "actief" } else { "geen sleutel" },
            "soortBetrokkene": get("subject_kind")?,
            "gemeente": get("municipality")?,
            "aangemaaktOp": get("created_at")?,
            "gewistOp": get("erased_at")?,
            "grondslagWissen": get("erasure_grounds")?,
        }),
    });
    sections.push(SubjectAccessSection {
        title: "Bewaarplicht".into(),
        category: DataCategory::Safety,
        data: json!({
            "reden": get("hold_reason")?,
            "sinds": get("hold_since")?,
        }),
    });
    let periods = sqlx::query(
        "SELECT data_kind, start_date, ended_at FROM retention_periods WHERE subject = $1 ORDER BY data_kind",
    )
    .bind(subject)
    .fetch_all(privacy.pool())
    .await
    .map_err(|e| db_problem(&e))?;
    let mut list = Vec::new();
    for p in periods {
        let kind: String = p.try_get("data_kind").map_err(|e| db_problem(&e))?;
        let start: chrono::NaiveDate = p.try_get("start_date").map_err(|e| db_problem(&e))?;
        let ended: Option<DateTime<Utc>> = p.try_get("ended_at").map_err(|e| db_problem(&e))?;
        let months = kansrijk_proto::privacy::DataKind::parse(&kind)
            .map(|k| privacy.config().retention.months(k))
            .unwrap_or(Months(0));
        list.push(json!({
            "soortGegevens": kind,
            "startdatum": start,
            "bewarenTot": retain_until(start, months),
            "verstrekenOp": ended,
        }));
    }
    sections.push(SubjectAccessSection {
        title: "Bewaartermijnen".into(),
        category: DataCategory::Administrative,
        data: Value::Array(list),
    });
    let log = access_log::extract_for_subject(privacy.pool(), subject)
        .await
        .map_err(|e| db_problem(&e))?;
    sections.push(SubjectAccessSection {
        title: "Toegangslog (wie heeft uw gegevens ingezien)".into(),
        category: DataCategory::Administrative,
        data: serde_json::to_value(log).map_err(|_| Problem::internal())?,
    });
    Ok(SubjectAccessPart {
        service: "privacy".into(),
        subject,
        sections,
    })
}

/// Asks every service for its part and assembles the document.
pub async fn assemble(
    privacy: &Privacy,
    nats: &async_nats::Client,
    actor: &Actor,
    traceparent: Option<&str>,
    subject: Uuid,
) -> Result<SubjectAccessDocument, Problem> {
    let timeout = privacy.config().inzage_timeout;
    let services = privacy.config().inzage_services.clone();
    let asks = services.iter().map(|service| {
        let service = service.clone();
        async move {
            let r = ask(nats, actor, traceparent, &service, subject, timeout).await;
            (service, r)
        }
    });
    let (answers, own) = tokio::join!(join_all(asks), own_part(privacy, subject));
    let mut parts = vec![own?];
    let mut missing = Vec::new();
    for (service, r) in answers {
        match r {
            Ok(part) if part.subject == subject => parts.push(part),
            Ok(_) => missing.push(MissingPart {
                service,
                reason: "ander-onderwerp".into(),
            }),
            Err(p) => missing.push(MissingPart {
                service,
                reason: match p.status {
                    504 => "geen-antwoord".into(),
                    503 => "niet-bereikbaar".into(),
                    _ => p.code.unwrap_or_else(|| p.status.to_string()),
                },
            }),
        }
    }
    Ok(SubjectAccessDocument {
        subject,
        generated_at: Utc::now(),
        complete: missing.is_empty(),
        parts,
        missing,
    })
}

async fn ask(
    nats: &async_nats::Client,
    actor: &Actor,
    traceparent: Option<&str>,
    service: &str,
    subject: Uuid,
    timeout: Duration,
) -> Result<SubjectAccessPart, Problem> {
    let body = SubjectAccessRequest { subject };
    let req = kansrijk_runtime::nats::request(
        nats,
        subjects::subject_access_part(service),
        kansrijk_runtime::nats::request_headers(actor, None, traceparent),
        &body,
        timeout,
    );
    // The request's own timeout covers the reply; this one bounds the whole exchange.
    match tokio::time::timeout(timeout + Duration::from_millis(200), req).await {
        Ok(r) => r,
        Err(_) => Err(Problem::timeout("De dienst antwoordde niet op tijd.")),
    }
}

/// The readable form: plain text, one block per service and section.
pub fn render_text(doc: &SubjectAccessDocument) -> String {
    let mut out = String::new();
    out.push_str("INZAGE IN PERSOONSGEGEVENS (AVG artikel 15)\n");
    out.push_str(&format!("Betrokkene (pseudoniem): {}\n", doc.subject));
    out.push_str(&format!(
        "Opgesteld op: {}\n",
        doc.generated_at.format("%d-%m-%Y %H:%M UTC")
    ));
    if doc.complete {
        out.push_str("Alle diensten hebben geantwoord.\n");
    } else {
        out.push_str(
            "LET OP: niet alle diensten hebben geantwoord; dit overzicht is onvolledig.\n",
        );
        for m in &doc.missing {
            out.push_str(&format!("  - {}: {}\n", m.service, m.reason));
        }
    }
    for part in &doc.parts {
        out.push_str(&format!("\n=== Dienst: {} ===\n", part.service));
        if part.sections.is_empty() {
            out.push_str("(geen gegevens)\n");
        }
        for s in &part.sections {
            out.push_str(&format!(
                "\n--- {} (categorie: {}) ---\n",
                s.title,
                s.category.as_str()
            ));
            write_value(&mut out, &s.data, 0);
        }
    }
    out
}

fn write_value(out: &mut String, v: &Value, depth: usize) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str(&format!("{pad}(leeg)\n"));
            }
            for (k, v) in map {
                match v {
                    Value::Object(_) | Value::Array(_) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        write_value(out, v, depth + 1);
                    }
                    _ => out.push_str(&format!("{pad}{k}: {}\n", scalar(v))),
                }
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str(&format!("{pad}(geen)\n"));
            }
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::Object(_) | Value::Array(_) => {
                        out.push_str(&format!("{pad}{}.\n", i + 1));
                        write_value(out, item, depth + 1);
                    }
                    _ => out.push_str(&format!("{pad}- {}\n", scalar(item))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Bool(true) => "ja".into(),
        Value::Bool(false) => "nee".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readable_form_names_missing_services_and_every_value() {
        let subject = Uuid::from_u128(5);
        let doc = SubjectAccessDocument {
            subject,
            generated_at: DateTime::from_timestamp(1_770_000_000, 0).unwrap(),
            complete: false,
            parts: vec![SubjectAccessPart {
                service: "vve".into(),
                subject,
                sections: vec![SubjectAccessSection {
                    title: "Kind".into(),
                    category: DataCategory::Identifying,
                    data: json!({"naam": "Test Kind", "indicaties": [{"criterium": "taal"}], "actief": true}),
                }],
            }],
            missing: vec![MissingPart {
                service: "casework".into(),
                reason: "geen-antwoord".into(),
            }],
        };
        let text = render_text(&doc);
        assert!(text.contains("onvolledig"));
        assert!(text.contains("casework: geen-antwoord"));
        assert!(text.contains("naam: Test Kind"));
        assert!(text.contains("criterium: taal"));
        assert!(text.contains("actief: ja"));
        assert!(text.contains("categorie: identifying"));
    }
}
