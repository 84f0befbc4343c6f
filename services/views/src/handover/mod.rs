//! Handover views: the sender's outbox, the receiving school's inbox, one opened file, and the
//! municipality's monitor (aggregates only, small cells suppressed).
//!
//! Read models (tables `ho_*` in the views schema, migration 22001) hold no personal data in
//! plaintext: the child's identity and the file's content stay sealed with the file's own key and
//! are opened at query time. A school's inbox lists only files sent to that school location, and
//! a preschool file only with the parents' consent. On `nl.privacy.betrokkene-gewist` (of the file
//! or of the child it refers to) and on the end of a file's retention, its rows are deleted; the
//! monitor keeps only anonymous process facts.
//!
//! - [`projections`]: what the views service runs.
//! - [`queries`]: [`HandoverViews`] with the query functions, and [`endpoints`] (NATS subjects
//!   in [`kansrijk_proto::handover::subjects`]: `kansrijk.qry.overdracht.{uitgaand,inbox,dossier,monitor}`).
//! - [`monitor`]: the pure computation of the monitor, with the shared suppression.

pub mod monitor;
pub mod projection;
pub mod queries;

use std::sync::Arc;

use kansrijk_runtime::projection::Projection;

pub use queries::{endpoints, HandoverViews};

/// The handover projections: the files and the erasures.
pub fn projections() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(projection::FilesProjection),
        Arc::new(projection::ErasureProjection),
    ]
}

/// Names of the projections a handover command's read-your-writes wait should name.
pub const PROJECTION_NAMES: &[&str] = &[projection::FilesProjection::NAME];
