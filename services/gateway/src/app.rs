//! The axum application: state, the router built from the route table, and the middleware that
//! every response passes (API-Version, security headers, problems for bare errors, metrics).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, on, MethodFilter, MethodRouter};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::dev_oidc::DevIssuer;
use crate::openapi::{self, API_VERSION};
use crate::routes::{self, HttpMethod, Route};

struct Inner {
    config: Config,
    nats: Option<async_nats::Client>,
    db: Option<sqlx::PgPool>,
    auth: Authenticator,
    dev: Option<Arc<DevIssuer>>,
    metrics: PrometheusHandle,
    routes: Vec<&'static Route>,
    openapi: OnceLock<serde_json::Value>,
}

/// Everything a request needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_url", &self.0.config.public_url)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Validates the configuration (a production configuration with the development issuer is
    /// refused here too) and builds the state.
    pub fn new(
        config: Config,
        nats: Option<async_nats::Client>,
        db: Option<sqlx::PgPool>,
    ) -> anyhow::Result<Self> {
        Self::with_routes(config, nats, db, routes::all())
    }

    /// The state with another route table (tests add routes of their own).
    pub fn with_routes(
        config: Config,
        nats: Option<async_nats::Client>,
        db: Option<sqlx::PgPool>,
        routes: Vec<&'static Route>,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        let issuer = config.trusted_issuer();
        let dev = if config.dev_issuer {
            Some(Arc::new(DevIssuer::new(
                config.dev_issuer_url(),
                config.oidc.audience.clone(),
            )?))
        } else {
            None
        };
        // The development issuer is this process: when clients reach it on another URL than
        // the listening address (a container, a proxy), fetch its keys on the listening address.
        let local = crate::config::default_public_url(config.http_addr);
        let jwks_uri = match &config.oidc.jwks_uri {
            Some(u) => Some(u.clone()),
            None if config.dev_issuer
                && config.oidc.issuer.is_none()
                && config.public_url != local =>
            {
                Some(format!("{local}{}/jwks", crate::config::DEV_ISSUER_PATH))
            }
            None => None,
        };
        let auth = Authenticator::new(
            issuer,
            config.oidc.audience.clone(),
            jwks_uri,
            config.oidc.jwks_refetch_interval,
            config.oidc.jwks_max_age,
        );
        Ok(AppState(Arc::new(Inner {
            config,
            nats,
            db,
            auth,
            dev,
            metrics: kansrijk_runtime::telemetry::init_metrics(),
            routes,
            openapi: OnceLock::new(),
        })))
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    pub fn nats(&self) -> Option<&async_nats::Client> {
        self.0.nats.as_ref()
    }

    pub fn db(&self) -> Option<&sqlx::PgPool> {
        self.0.db.as_ref()
    }

    pub fn auth(&self) -> &Authenticator {
        &self.0.auth
    }

    /// The development issuer, when enabled.
    pub fn dev_issuer(&self) -> Option<&Arc<DevIssuer>> {
        self.0.dev.as_ref()
    }

    /// The routes this gateway serves.
    pub fn routes(&self) -> &[&'static Route] {
        &self.0.routes
    }

    /// The OpenAPI document (built once).
    pub fn openapi(&self) -> &serde_json::Value {
        self.0.openapi.get_or_init(|| {
            openapi::document_for(
                &self.0.routes,
                &self.0.config.public_url,
                &self.0.config.trusted_issuer(),
            )
        })
    }
}

fn filter(m: HttpMethod) -> MethodFilter {
    match m {
        HttpMethod::Get => MethodFilter::GET,
        HttpMethod::Post => MethodFilter::POST,
        HttpMethod::Put => MethodFilter::PUT,
        HttpMethod::Patch => MethodFilter::PATCH,
        HttpMethod::Delete => MethodFilter::DELETE,
    }
}

fn route_handler(route: &'static Route) -> MethodRouter<AppState> {
    on(
        filter(route.method),
        move |State(state): State<AppState>,
              path: Result<Path<std::collections::HashMap<String, String>>, _>,
              uri: Uri,
              headers: HeaderMap,
              body: Bytes| async move {
            crate::forward::handle(state, route, path, uri, headers, body).await
        },
    )
}

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole HTTP application.
pub fn build_router(state: AppState) -> Router {
    build_router_with(state, Router::new())
}

/// The whole HTTP application with more routes (the web UI's pages): they pass the same
/// middleware (API-Version, security headers, metrics). HTML pages set their own
/// `Content-Security-Policy` (the default is `default-src 'none'`) and keep their own error
/// pages (only bare plain-text errors become problems).
pub fn build_router_with(state: AppState, extra: Router) -> Router {
    let mut by_path: BTreeMap<&'static str, Vec<&'static Route>> = BTreeMap::new();
    for r in state.routes().iter().copied() {
        by_path.entry(r.path).or_default().push(r);
    }
    let mut api: Router<AppState> = Router::new();
    for (path, routes) in by_path {
        let mut mr: MethodRouter<AppState> = MethodRouter::new();
        for r in routes {
            mr = mr.merge(route_handler(r));
        }
        api = api.route(path, mr);
    }
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::OPTIONS])
        .expose_headers([HeaderName::from_static("api-version")]);
    api = api.route(
        "/v1/openapi.json",
        get(|State(s): State<AppState>| async move { axum::Json(s.openapi().clone()) }).layer(cors),
    );

    let ready: kansrijk_runtime::health::ReadyCheck = {
        let s = state.clone();
        Arc::new(move || {
            let s = s.clone();
            Box::pin(async move {
                if let Some(pool) = s.db() {
                    sqlx::query("SELECT 1")
                        .execute(pool)
                        .await
                        .map_err(|_| "postgresql unreachable".to_string())?;
                }
                match s.nats() {
                    Some(n) if n.connection_state() == async_nats::connection::State::Connected => {
                        Ok(())
                    }
                    Some(_) => Err("nats disconnected".to_string()),
                    None => Err("no nats connection".to_string()),
                }
            })
                as std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>
        })
    };
    let ops = kansrijk_runtime::health::router(state.0.metrics.clone(), ready);
    let dev = state.dev_issuer().cloned();

    let mut app: Router = api.fallback(crate::problem::not_found).with_state(state);
    if let Some(dev) = dev {
        app = app.nest(crate::config::DEV_ISSUER_PATH, crate::dev_oidc::router(dev));
    }
    app.merge(ops)
        .merge(extra)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn(
            crate::problem::problems_for_bare_errors,
        ))
        .layer(middleware::from_fn(response_headers))
        .layer(middleware::from_fn(http_metrics))
}

/// The headers of every response: API-Version and the security headers of the API Design Rules.
async fn response_headers(req: Request<Body>, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        HeaderName::from_static("api-version"),
        HeaderValue::from_static(API_VERSION),
    );
    let defaults = [
        (
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    resp
}

/// Counts requests by area (never the concrete path: it may carry ids; per-action numbers are
/// recorded by the route handler).
async fn http_metrics(req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path();
    let route = if path.starts_with("/v1/") {
        "api"
    } else if path.starts_with(crate::config::DEV_ISSUER_PATH) {
        "dev-oidc"
    } else if matches!(path, "/livez" | "/readyz" | "/metrics") {
        "ops"
    } else {
        "other"
    };
    let method = req.method().as_str().to_owned();
    let resp = next.run(req).await;
    metrics::counter!("kansrijk_http_requests_total",
        "route" => route, "method" => method, "status" => resp.status().as_u16().to_string())
    .increment(1);
    resp.into_response()
}
