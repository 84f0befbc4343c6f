//! Casework views ("1 gezin 1 plan").
//!
//! - [`projection`]: the `cw_` read models (migration `23001_casework_read_models.sql`), kept by
//!   [`CaseProjection`] and [`CaseErasure`].
//! - [`queries`]: [`CaseworkViews`] with the four queries and their response types.
//! - [`monitor`]: the municipality's aggregates, suppressed.
//!
//! Query subjects (request body → reply, every reply a `Reply<T>` with a problem on refusal):
//! - `kansrijk.qry.casework.werklijst` (youth team): [`queries::CaseloadQuery`] (or empty) →
//!   [`queries::Caseload`]
//! - `kansrijk.qry.casework.acties` (partners): `{}` → [`queries::OwnActions`]
//! - `kansrijk.qry.casework.casus` (partners): [`queries::CaseQuery`] → [`queries::CaseView`]
//! - `kansrijk.qry.casework.monitor` (municipality): `{}` → [`queries::Monitor`]

pub mod disclosure;
pub mod monitor;
pub mod projection;
pub mod queries;

use std::sync::Arc;

use kansrijk_proto::casework::subjects;
use kansrijk_runtime::projection::Projection;
use kansrijk_runtime::service::{handler, Endpoints, Request};

pub use projection::{CaseErasure, CaseProjection};
pub use queries::CaseworkViews;

/// The names of the projections a casework write should be waited for (read-your-writes).
pub const PROJECTIONS: &[&str] = &[projection::CASES];

/// The casework projections. `views` (when given) drops its cached key of an erased family.
pub fn projections(views: Option<Arc<CaseworkViews>>) -> Vec<Arc<dyn Projection>> {
    let on_erased: Option<projection::OnErased> = views.map(|v| {
        let f: projection::OnErased = Arc::new(move |subject| v.forget_key(subject));
        f
    });
    vec![
        Arc::new(CaseProjection),
        Arc::new(CaseErasure { on_erased }),
    ]
}

/// The casework query endpoints, by subject, for the views service's NATS service.
pub fn endpoints(views: &Arc<CaseworkViews>) -> Endpoints {
    let mut e = Endpoints::new();
    let v = views.clone();
    e.insert(
        subjects::QUERY_CASELOAD.into(),
        handler(move |req: Request| {
            let v = v.clone();
            async move {
                let q: queries::CaseloadQuery = if req.body.iter().all(u8::is_ascii_whitespace) {
                    queries::CaseloadQuery::default()
                } else {
                    req.json()?
                };
                v.caseload(&req.actor, &q, req.traceparent.as_deref()).await
            }
        }),
    );
    let v = views.clone();
    e.insert(
        subjects::QUERY_ACTIONS.into(),
        handler(move |req: Request| {
            let v = v.clone();
            async move { v.actions(&req.actor, req.traceparent.as_deref()).await }
        }),
    );
    let v = views.clone();
    e.insert(
        subjects::QUERY_CASE.into(),
        handler(move |req: Request| {
            let v = v.clone();
            async move {
                let q: queries::CaseQuery = req.json()?;
                v.case(&req.actor, q.casus_id, req.traceparent.as_deref())
                    .await
            }
        }),
    );
    let v = views.clone();
    e.insert(
        subjects::QUERY_MONITOR.into(),
        handler(move |req: Request| {
            let v = v.clone();
            async move { v.monitor(&req.actor).await }
        }),
    );
    e
}
