//! Pure domain: no I/O. The child's record as a state machine ([`child`]), the BSN ([`bsn`]) and
//! the municipalities' target-group definitions ([`criteria`]).

pub mod bsn;
pub mod child;
pub mod criteria;

pub use bsn::{Bsn, BsnError};
pub use child::{decide, Child, Command, Ctx, DomainError};
pub use criteria::Catalogue;
