//! The Kansrijk web UI: server-rendered (maud), Dutch, accessible (WCAG 2.1 AA), working without
//! JavaScript. Screens per user group call the owning services over NATS with the actor of the
//! session, exactly as the gateway's `/v1` API does.
//!
//! The gateway mounts [`router`] at `/` beside its `/v1` API:
//! ```ignore
//! let sessions = kansrijk_web::SessionStore::new(gateway_pool.clone()); // migration 20005
//! let web = kansrijk_web::router(kansrijk_web::WebState::new(nats.clone(), kansrijk_web::WebConfig::from_env()?, sessions));
//! let app = api_router.merge(web);
//! ```
//! Routes: `/`, `/inloggen`, `/inloggen/terug`, `/uitloggen`, `/static/*`, `/privacy/*`,
//! `/jgz/*`, `/kinderopvang/*`, `/school/*`, `/jeugdteam/*`, `/gemeente/*`.

pub mod actions;
pub mod call;
pub mod charts;
pub mod config;
pub mod form;
pub mod layout;
pub mod oidc;
pub mod pages;
pub mod session;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::{Key, PrivateCookieJar};
use maud::html;
use serde::Deserialize;
use sha2::{Digest, Sha512};

pub use config::WebConfig;
use layout::{page, Ctx};
use oidc::{OidcClient, PendingLogin};
pub use session::SessionStore;
use session::{MaybeSession, Session, FLASH_COOKIE, LOGIN_COOKIE, SESSION_COOKIE};

struct Inner {
    nats: async_nats::Client,
    config: WebConfig,
    key: Key,
    oidc: OidcClient,
    sessions: SessionStore,
    csp: HeaderValue,
}

/// Everything the web UI needs. Cheap to clone.
#[derive(Clone)]
pub struct WebState(Arc<Inner>);

impl std::fmt::Debug for WebState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebState")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl WebState {
    pub fn new(nats: async_nats::Client, config: WebConfig, sessions: SessionStore) -> Self {
        // A 64-byte key for encryption and signing, derived from the configured secret.
        let key = Key::from(Sha512::digest(&config.session_secret).as_slice());
        let oidc = OidcClient::new(config.clone());
        let csp = content_security_policy(&config);
        WebState(Arc::new(Inner {
            nats,
            config,
            key,
            oidc,
            sessions,
            csp,
        }))
    }

    pub fn nats(&self) -> &async_nats::Client {
        &self.0.nats
    }

    pub fn config(&self) -> &WebConfig {
        &self.0.config
    }

    pub fn key(&self) -> &Key {
        &self.0.key
    }

    pub fn oidc(&self) -> &OidcClient {
        &self.0.oidc
    }

    /// The server-side sessions.
    pub fn sessions(&self) -> &SessionStore {
        &self.0.sessions
    }

    /// The page context of a request.
    pub fn ctx(&self, session: Option<&Session>, flash: Option<String>, path: &str) -> Ctx {
        Ctx {
            session: session.cloned(),
            dev: self.0.config.dev_issuer,
            flash,
            path: path.to_owned(),
        }
    }
}

/// The web UI's routes, to mount at `/` beside the gateway's `/v1`.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/inloggen", get(login))
        .route("/inloggen/terug", get(callback))
        .route("/uitloggen", post(logout))
        .route("/static/kansrijk.css", get(stylesheet))
        .merge(pages::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

/// The Content-Security-Policy of the web UI. `form-action` names the identity provider's
/// origin besides `'self'`: the logout form's redirect continues to its end-session endpoint.
fn content_security_policy(config: &WebConfig) -> HeaderValue {
    let provider = url::Url::parse(&config.issuer)
        .ok()
        .map(|u| u.origin())
        .filter(|o| o.is_tuple())
        .map(|o| format!(" {}", o.ascii_serialization()))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'{provider}; frame-ancestors 'none'; base-uri 'none'"
    ))
    .unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
    })
}

async fn security_headers(
    State(state): State<WebState>,
    req: axum::extract::Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, state.0.csp.clone());
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        layout::CSS,
    )
        .into_response()
}

/// Takes the one-shot message from the jar.
pub fn take_flash(jar: PrivateCookieJar) -> (PrivateCookieJar, Option<String>) {
    match jar.get(FLASH_COOKIE) {
        Some(c) => {
            let msg = c.value().to_owned();
            (jar.remove(session::removal(FLASH_COOKIE)), Some(msg))
        }
        None => (jar, None),
    }
}

/// Puts a one-shot message in the jar (shown on the next page).
pub fn with_flash(state: &WebState, jar: PrivateCookieJar, msg: &str) -> PrivateCookieJar {
    jar.add(session::cookie(
        FLASH_COOKIE,
        msg.to_owned(),
        state.config().secure_cookies,
    ))
}

async fn home(
    State(state): State<WebState>,
    MaybeSession(s): MaybeSession,
    jar: PrivateCookieJar,
) -> Response {
    if let Some(s) = s {
        return Redirect::to(layout::home_of(&s)).into_response();
    }
    let (jar, flash) = take_flash(jar);
    let ctx = state.ctx(None, flash, "/");
    let markup = page(
        &ctx,
        "Welkom",
        html! {
            h1 { "Welkom bij Kansrijk" }
            p class="lead" {
                "Kansrijk helpt jeugdgezondheidszorg, kinderopvang, scholen, jeugdteams en de gemeente "
                "om elk kind op tijd in beeld te hebben: van VVE-indicatie tot warme overdracht."
            }
            div class="card" {
                h2 { "Inloggen" }
                p { "U logt in met het account van uw organisatie." }
                p { a class="button" href="/inloggen" { "Inloggen" } }
            }
        },
    );
    (jar, markup).into_response()
}

async fn login(State(state): State<WebState>, jar: PrivateCookieJar) -> Response {
    match state.oidc().start().await {
        Ok((url, pending)) => {
            let value = serde_json::to_string(&pending).unwrap_or_default();
            let jar = jar.add(session::cookie(
                LOGIN_COOKIE,
                value,
                state.config().secure_cookies,
            ));
            (jar, Redirect::to(&url)).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "login could not start");
            error_page(
                &state,
                None,
                StatusCode::SERVICE_UNAVAILABLE,
                "Inloggen lukt nu niet",
                "De inlogdienst is op dit moment niet bereikbaar. Probeer het over enkele minuten opnieuw.",
            )
        }
    }
}

#[derive(Debug, Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<WebState>,
    jar: PrivateCookieJar,
    Query(p): Query<CallbackParams>,
) -> Response {
    let pending: Option<PendingLogin> = jar
        .get(LOGIN_COOKIE)
        .and_then(|c| serde_json::from_str(c.value()).ok());
    let jar = jar.remove(session::removal(LOGIN_COOKIE));
    let fail = |detail: &str| {
        error_page(
            &state,
            None,
            StatusCode::BAD_REQUEST,
            "Inloggen is niet gelukt",
            detail,
        )
    };
    let Some(pending) = pending else {
        return (
            jar,
            fail("Uw inlogpoging is verlopen. Begin opnieuw bij Inloggen."),
        )
            .into_response();
    };
    if p.error.is_some() {
        return (
            jar,
            fail("Het inloggen is afgebroken. Begin opnieuw bij Inloggen."),
        )
            .into_response();
    }
    let (Some(code), Some(st)) = (p.code, p.state) else {
        return (jar, fail("Het antwoord van de inlogdienst is onvolledig.")).into_response();
    };
    if st != pending.state {
        return (
            jar,
            fail("Het antwoord van de inlogdienst hoort niet bij deze inlogpoging."),
        )
            .into_response();
    }
    match state.oidc().finish(&code, &pending).await {
        Ok((claims, id_token)) => {
            let Some(organisation_type) =
                kansrijk_proto::actor::OrganisationType::parse(&claims.organisation_type)
            else {
                return (jar, fail("Uw organisatie is niet bekend.")).into_response();
            };
            let expires = claims.exp.min(chrono::Utc::now().timestamp() + 8 * 3600);
            let s = Session {
                person: claims.sub,
                organisation: claims.organisation,
                organisation_type,
                role: claims.role,
                municipality: claims.municipality,
                name: claims.name.unwrap_or_else(|| "Ingelogde gebruiker".into()),
                csrf: session::random_token(),
                expires,
            };
            tracing::info!(organisation_type = organisation_type.as_str(), "web login");
            let home = layout::home_of(&s);
            let id = match state.sessions().create(&s, Some(&id_token)).await {
                Ok(id) => id,
                Err(e) => {
                    tracing::error!(error = %e, "session could not be stored");
                    return (
                        jar,
                        error_page(
                            &state,
                            None,
                            StatusCode::SERVICE_UNAVAILABLE,
                            "Inloggen lukt nu niet",
                            "Kansrijk kan uw sessie nu niet bewaren. Probeer het over enkele minuten opnieuw.",
                        ),
                    )
                        .into_response();
                }
            };
            let jar = jar.add(session::cookie(
                SESSION_COOKIE,
                id,
                state.config().secure_cookies,
            ));
            (jar, Redirect::to(home)).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "login refused");
            (
                jar,
                fail("De inlogdienst heeft uw inlogpoging niet bevestigd. Probeer het opnieuw."),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<WebState>,
    jar: PrivateCookieJar,
    session: Session,
    axum::Form(f): axum::Form<LogoutForm>,
) -> Response {
    if !session.csrf_ok(&f.csrf) {
        return csrf_refused(&state, Some(&session));
    }
    // The server-side session ends first: a copy of the cookie no longer works from here on.
    let id_token = match jar.get(SESSION_COOKIE) {
        Some(c) => match state.sessions().end(c.value()).await {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "session could not be ended");
                return error_page(
                    &state,
                    Some(&session),
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Uitloggen lukt nu niet",
                    "Kansrijk kan uw sessie nu niet beëindigen. Probeer het opnieuw of sluit de browser.",
                );
            }
        },
        None => None,
    };
    let jar = jar.remove(session::removal(SESSION_COOKIE));
    let jar = with_flash(&state, jar, "U bent uitgelogd.");
    // Then the identity provider's session, so that the next sign-in on this computer asks who
    // is signing in.
    let target = state
        .oidc()
        .logout_url(id_token.as_deref())
        .await
        .unwrap_or_else(|| "/".into());
    (jar, Redirect::to(&target)).into_response()
}

/// A full error page.
pub fn error_page(
    state: &WebState,
    session: Option<&Session>,
    status: StatusCode,
    title: &str,
    detail: &str,
) -> Response {
    let ctx = state.ctx(session, None, "");
    (
        status,
        page(
            &ctx,
            title,
            html! {
                h1 { (title) }
                p class="lead" { (detail) }
                p { a href="/" { "Naar de startpagina" } }
            },
        ),
    )
        .into_response()
}

/// The answer to a form without a valid CSRF token.
pub fn csrf_refused(state: &WebState, session: Option<&Session>) -> Response {
    error_page(
        state,
        session,
        StatusCode::FORBIDDEN,
        "Formulier verlopen",
        "Dit formulier is verlopen of niet door Kansrijk verstuurd. Open de pagina opnieuw en probeer het nog eens.",
    )
}
