//! The screens per user group.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;

use crate::session::Session;
use crate::WebState;

pub mod childcare;
pub mod childcare_handover;
pub mod jgz;
pub mod municipality;
pub mod po_vo;
pub mod privacy;
pub mod registry;
pub mod school;
pub mod youth_team;

pub(crate) fn router() -> Router<WebState> {
    Router::new()
        .merge(privacy::router())
        .merge(jgz::router())
        .merge(childcare::router())
        .merge(childcare_handover::router())
        .merge(municipality::router())
        .merge(school::router())
        .merge(po_vo::router())
        .merge(youth_team::router())
        .merge(registry::router())
}

/// The answer when a user opens a screen of another user group.
pub fn forbidden(state: &WebState, s: &Session) -> Response {
    crate::error_page(
        state,
        Some(s),
        StatusCode::FORBIDDEN,
        "Geen toegang",
        "Deze pagina hoort bij een andere gebruikersgroep. Gebruik het menu om naar uw eigen werk te gaan.",
    )
}

/// A notice that a service did not answer (or refused), in place of its data.
pub fn unavailable(p: &kansrijk_proto::problem::Problem) -> maud::Markup {
    maud::html! {
        div class="notice notice-danger" role="alert" {
            p {
                strong { "De gegevens konden niet worden opgehaald. " }
                (p.detail.clone().unwrap_or_else(|| p.title.clone()))
            }
        }
    }
}
