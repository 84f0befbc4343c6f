//! VVE reach views: the JGZ worklist, the childcare overview and the municipality's quarterly
//! monitor with its exports.
//!
//! Read models (tables `vve_*` in the views schema, migration 21001) hold no personal data in
//! plaintext: the sealed parts of the events (BSN, name, postcode; birth date; indication
//! criteria) are stored as they came and opened at query time with the child's key, so that
//! destroying the key makes them unreadable here as well. On `nl.privacy.betrokkene-gewist` every
//! row about the child is deleted. The monitor needs birth dates for the age window: it opens the
//! separately sealed birth date of each indicated child when it computes a quarter, and keeps no
//! derived date (not even the window dates, which would give the birth date away) in plaintext.
//!
//! - [`projections`]: what the views service runs.
//! - [`queries`]: [`queries::VveViews`] with the query functions, and [`queries::endpoints`].
//! - [`monitor`], [`suppression`]: the pure computation of the quarterly figures.
//! - [`export`]: CSV and XLSX.

pub mod export;
pub mod monitor;
pub mod projection;
pub mod queries;
pub mod suppression;

use std::sync::Arc;

use kansrijk_runtime::projection::Projection;

pub use queries::{endpoints, VveViews};

/// The VVE projections: the children's records and the erasures.
pub fn projections() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(projection::ChildrenProjection),
        Arc::new(projection::ErasureProjection),
    ]
}

/// The views crate's migrations (the VVE tables are 21001).
pub fn migrations() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations")
}
