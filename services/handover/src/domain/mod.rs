//! Pure domain: no I/O. One handover file (either kind) as a state machine ([`file`]), and the
//! field checks its commands share ([`check`]).
//!
//! The decisions seal new personal content with the file's own key (passed in [`Ctx`]) and open
//! earlier advice with it where a rule compares advice levels ("an advice is never lowered").
//! Sealing and opening are local computations; fetching the key is the handler's job.

pub mod check;
pub mod file;

pub use file::{decide, Command, Ctx, DomainError, File, Status};
