//! The views service: projections that keep the GDPR-scoped read models of each partner, and the
//! queries that answer from them.

pub mod casework;
pub mod handover;
pub mod service;
pub mod vve;

pub use service::{run, Config};
