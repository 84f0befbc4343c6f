//! Error policy: domain refusals become problems with a Dutch title and detail and a stable code;
//! infrastructure failures are logged here (without personal data: only error kinds, never
//! payloads) and become a 500 or 503 problem that says nothing about the cause.

use kansrijk_proto::problem::{FieldError, Problem};
use kansrijk_runtime::crypto::CryptoError;
use kansrijk_runtime::store::StoreError;

use crate::domain::DomainError;

impl DomainError {
    pub fn to_problem(&self) -> Problem {
        match self {
            DomainError::Erased => Problem::gone("De gegevens van deze betrokkene zijn gewist."),
            DomainError::Unknown => Problem::not_found("Onbekende betrokkene."),
            DomainError::OnHold { reason } => Problem::conflict(
                "bewaarplicht",
                format!(
                    "Op deze betrokkene rust een bewaarplicht (reden: {reason}). \
                     Wissen kan pas nadat de bewaarplicht is opgeheven."
                ),
            ),
            DomainError::NoHold => Problem::conflict(
                "geen-bewaarplicht",
                "Op deze betrokkene rust geen bewaarplicht.",
            ),
            DomainError::InvalidReason => Problem::invalid(vec![FieldError::new(
                "reason",
                "reden-code",
                "Geef een redencode in kleine letters met koppeltekens, geen vrije tekst.",
            )]),
            DomainError::RetentionNotStarted => Problem::conflict(
                "bewaartermijn-niet-gestart",
                "De bewaartermijn van dit soort gegevens is niet geregistreerd.",
            ),
        }
    }
}

/// A database failure: logged by kind, answered with a 500 problem.
pub fn db_problem(e: &sqlx::Error) -> Problem {
    tracing::error!(error = %db_error_kind(e), "database error");
    Problem::internal()
}

/// A store failure: conflicts are 409, the rest 500.
pub fn store_problem(e: &StoreError) -> Problem {
    match e {
        StoreError::Concurrency { .. } => Problem::conflict(
            "versieconflict",
            "De betrokkene is tegelijk door een ander gewijzigd. Probeer het opnieuw.",
        ),
        StoreError::Database(d) => db_problem(d),
        other => {
            tracing::error!(error = %other, "event store error");
            Problem::internal()
        }
    }
}

/// A key that cannot be unwrapped: the master key ring is wrong or the row is damaged.
pub fn crypto_problem(e: &CryptoError) -> Problem {
    tracing::error!(error = %e, "subject key could not be unwrapped");
    Problem::internal()
}

fn db_error_kind(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => format!(
            "database error {} {}",
            d.code().unwrap_or_default(),
            d.constraint().unwrap_or_default()
        ),
        other => other.to_string(),
    }
}
