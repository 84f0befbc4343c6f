//! Pure domain: no I/O. The family's case as a state machine ([`case`]) and the consent
//! lifecycle that decides, on a given day, which parts of the plan an organisation may see
//! ([`consent`]).

pub mod case;
pub mod consent;

pub use case::{decide, Case, Command, Ctx, DomainError};
pub use consent::{Consent, ConsentState};
