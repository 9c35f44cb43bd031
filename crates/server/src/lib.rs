//! DRN's HTTP server: the JSON API under /api/v1 with its OpenAPI document, sign-in,
//! roles scoped by unit, security headers, limits and structured logs.

pub mod anchor;
pub mod api;
pub mod auth;
pub mod documents;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod renewal;
pub mod signer;
pub mod web;

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Request};
use axum::Router;
use drn_engine::Engine;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How the server runs.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Demo mode: the sandbox SMS outbox is readable.
    pub demo: bool,
    /// Mark cookies Secure (behind TLS).
    pub secure_cookies: bool,
    /// The public address of the server, printed in documents' QR codes as
    /// `{base_url}/verify/{id}` (default `http://ADDR`).
    pub base_url: String,
    /// The directory the signed heads of the audit chain are written to (outside the
    /// database; see [`anchor`]); `None`: not anchored.
    pub audit_anchors: Option<std::path::PathBuf>,
    /// Where a copy of each signed head is POSTed (JSON), if anywhere.
    pub audit_anchor_url: Option<String>,
    /// Officers' own signatures: whether required, what is trusted, where pages ask for
    /// them (issue 33).
    pub signatures: documents::signing::Signatures,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub config: Config,
    /// The PKI of the data directory that signs result documents.
    pub pki: std::sync::Arc<drn_docs::Pki>,
}

impl AppState {
    /// Runs a command through the engine, then makes the documents its outcome produces
    /// (talon, receipt, electronic result, signed registry): see [`documents`].
    pub async fn execute(
        &self,
        actor: &drn_engine::Actor,
        cmd: &drn_engine::Command,
        key: Option<&str>,
    ) -> Result<drn_engine::Outcome, drn_engine::EngineError> {
        let outcome = self.engine.execute(actor, cmd, key).await?;
        // An officer signs what they issue or refuse themself; a result the system gives at
        // the end of a step they completed is the system's (issue 33).
        let signed_by_actor = matches!(
            cmd,
            drn_engine::Command::Issue { .. } | drn_engine::Command::Refuse { .. }
        );
        documents::after_command(self, actor, &outcome, signed_by_actor).await;
        Ok(outcome)
    }

    /// Appends an audit record outside a command (sign-in, sign-out); failures are logged,
    /// not shown to the user.
    pub async fn audit_event(&self, actor: &str, action: &str, subject: &str) {
        let res = self
            .engine
            .audit_event(actor, action, subject, &serde_json::json!({}))
            .await;
        if let Err(e) = res {
            tracing::error!(error = %e, action, "audit append failed");
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "DRN API", description = "Documenting and registration of the population of Kazakhstan: applications through the units, registries, deadlines, the audit log.", version = "1"),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    tags((name = "auth"), (name = "catalog"), (name = "applications"), (name = "units"), (name = "registries"), (name = "persons"), (name = "addresses"), (name = "portal"), (name = "audit"), (name = "documents"), (name = "sandbox"), (name = "health"))
)]
struct ApiDoc;

/// The router and the OpenAPI document of every route in it.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    use api::*;
    let state_for_web = state.clone();
    let state_for_layers = state.clone();
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(citizen_login))
        .routes(routes!(citizen_verify))
        .routes(routes!(me))
        .routes(routes!(catalog))
        .routes(routes!(catalog_show))
        .routes(routes!(catalog_plan))
        .routes(routes!(calendar))
        .routes(routes!(accept))
        .routes(routes!(formulary))
        .routes(routes!(application))
        .routes(routes!(timeline))
        .routes(routes!(complete))
        .routes(routes!(refuse))
        .routes(routes!(annul))
        .routes(routes!(return_to))
        .routes(routes!(issue))
        .routes(routes!(my_applications))
        .routes(routes!(my_reads))
        .routes(routes!(units))
        .routes(routes!(queue))
        .routes(routes!(overdue))
        .routes(routes!(unit_registries))
        .routes(routes!(form_registry))
        .routes(routes!(registry))
        .routes(routes!(sign_registry))
        .routes(routes!(registry_signature_draft))
        .routes(routes!(application_signature_draft))
        .routes(routes!(sign_application_document))
        .routes(routes!(send_registry))
        .routes(routes!(receive_registry))
        .routes(routes!(person))
        .routes(routes!(addresses))
        .routes(routes!(address))
        .routes(routes!(check))
        .routes(routes!(applicant_arrived))
        .routes(routes!(accept_foreigner))
        .routes(routes!(journal))
        .routes(routes!(audit_log))
        .routes(routes!(audit_verify))
        .routes(routes!(audit_anchor))
        .routes(routes!(sandbox_sms))
        .routes(routes!(documents::handlers::application_documents))
        .routes(routes!(documents::handlers::registry_documents))
        .routes(routes!(documents::handlers::download))
        .routes(routes!(documents::handlers::revoke_api))
        .routes(routes!(documents::verify::verify_api))
        .routes(routes!(renewal::overview, renewal::submit))
        .routes(routes!(renewal::status))
        .routes(routes!(renewal::retry))
        .routes(routes!(renewal::pay))
        .routes(routes!(renewal::review))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .with_state(state)
        .split_for_parts();
    let mut doc = doc;
    document_common_statuses(&mut doc);
    let json = serde_json::to_string(&doc).unwrap_or_default();
    let router = router.route(
        "/api/openapi.json",
        axum::routing::get(move || {
            let json = json.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], json) }
        }),
    );
    // Demo: the sandboxed state systems over HTTP under /sandbox (faults from outside).
    let sandbox = state_for_web
        .engine
        .online_renewal()
        .ok()
        .and_then(|s| s.sandbox.clone())
        .filter(|_| state_for_web.config.demo);
    // Only over the loopback interface: it serves persons' data to anyone who asks
    // (issue 31 item 12).
    let router = match sandbox {
        Some(sb) => router.merge(
            drn_registries::server::router(sb)
                .layer(axum::middleware::from_fn(auth::loopback_only)),
        ),
        None => router,
    };
    let router = router
        .merge(web_routes(state_for_web.clone()))
        // The server-wide body limit, for every route so far ...
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        // ... and a larger one for the copy of a document checked at /verify/{id}
        // (registries can exceed the server-wide limit).
        .merge(verify_routes(state_for_web));
    (with_layers(router, &state_for_layers), doc)
}

/// Documents on each operation the statuses the server's layers answer before (or
/// beside) its handler, in the one error shape (issue 31 item 10): for every request that
/// changes something, 403 `cross_site` (another site's browser), 503 `storage_fault` (the
/// storage failed) and 422 (JSON that is not what the operation takes, or input the rules
/// refuse); with a body, 400 (not JSON) and 413 (over the limit); for a read with
/// parameters, 422.
fn document_common_statuses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        // A read whose parameters the rules refuse (an id of no known shape, a date that
        // is none): 422.
        if let Some(op) = item.get.as_mut() {
            if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                op.responses
                    .responses
                    .entry("422".to_string())
                    .or_insert_with(|| error("A parameter is refused by the rules").into());
            }
        }
        let writes = [
            item.post.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ];
        for op in writes.into_iter().flatten() {
            let mut add = |code: &str, what: &str| {
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| error(what).into());
            };
            add(
                "403",
                "Refused: the role, the CSRF token, or a request from another site",
            );
            add("422", "The input is refused by the rules");
            add(
                "503",
                "The storage failed: no change is accepted (`storage_fault`)",
            );
            if op.request_body.is_some() {
                add("400", "The body is not what the operation takes");
                add("413", "The body is over the limit");
            }
        }
    }
}

/// The server-wide limit of a request body.
pub const BODY_LIMIT: usize = 256 * 1024;

/// /verify/{id}: the public page, and the upload of a copy to compare (up to
/// [`documents::MAX_UPLOAD`], larger than [`BODY_LIMIT`]: a registry's PDF can be).
fn verify_routes(state: AppState) -> Router {
    use axum::extract::DefaultBodyLimit;
    use axum::routing::get;
    Router::new()
        .route(
            "/verify/{id}",
            get(documents::verify::verify_page).post(documents::verify::verify_upload),
        )
        .layer(DefaultBodyLimit::max(documents::MAX_UPLOAD))
        .layer(RequestBodyLimitLayer::new(documents::MAX_UPLOAD))
        .with_state(state)
}

/// The pages (not in the API document: they are HTML for people, not an API).
fn web_routes(state: AppState) -> Router {
    use axum::routing::{get, post};
    use web::{pages, portal, renewal as orn_pages, roles, services};
    Router::new()
        .route("/", get(pages::root))
        .route("/login", get(pages::login_form).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(pages::set_lang))
        .route("/ws", get(pages::workstation))
        .route("/ws/person", get(pages::person))
        .route("/ws/applications", post(pages::accept))
        .route("/ws/applications/{id}", get(pages::application))
        .route("/ws/applications/{id}/{action}", post(pages::act))
        .route("/ws/foreigners", post(pages::accept_foreigner))
        .route("/ws/journals", get(services::journals))
        .route("/ws/tasks/{id}/complete", post(services::complete_task))
        .route(
            "/ws/registries",
            get(pages::registries).post(pages::form_registry),
        )
        .route("/ws/registries/{id}", get(pages::registry))
        .route(
            "/ws/registries/{id}/signature-draft",
            post(pages::registry_signature_draft),
        )
        .route(
            "/ws/applications/{id}/signature-draft",
            post(pages::application_signature_draft),
        )
        .route("/ws/registries/{id}/{action}", post(pages::registry_act))
        .route("/ws/supervision", get(roles::supervision))
        .route("/ws/supervision.csv", get(roles::supervision_csv))
        .route("/metrics", get(crate::metrics::scrape))
        .route("/ws/supervision/unit/{id}", get(roles::supervision_unit))
        .route("/ws/audit", get(roles::audit))
        .route("/ws/admin", get(roles::admin))
        .route("/ws/admin/users", post(roles::create_user))
        .route("/ws/admin/transfers", post(roles::add_transfer))
        .route("/ws/admin/pilot", post(roles::extend_pilot))
        .route("/ws/online-review/{id}", post(orn_pages::review))
        .route(
            "/ws/admin/users/{username}/deactivate",
            post(roles::deactivate_user),
        )
        .route("/portal", get(portal::home))
        .route(
            "/portal/apply",
            get(portal::apply_form).post(portal::apply_submit),
        )
        .route("/portal/applications/{id}", get(portal::applied))
        .route("/portal/documents", get(portal::documents))
        .route(
            "/portal/renewal",
            get(orn_pages::entry).post(orn_pages::submit),
        )
        .route("/portal/renewal/{id}", get(orn_pages::status))
        .route("/portal/renewal/{id}/{action}", post(orn_pages::act))
        .route(
            "/portal/login",
            get(portal::login_form).post(portal::login_submit),
        )
        .route("/portal/verify", post(portal::verify_submit))
        .route("/portal/reads", get(portal::reads))
        .route(
            "/static/app.css",
            get(|| async {
                static_file("text/css; charset=utf-8", include_str!("../static/app.css"))
            }),
        )
        .route(
            "/static/app.js",
            get(|| async {
                static_file(
                    "text/javascript; charset=utf-8",
                    include_str!("../static/app.js"),
                )
            }),
        )
        .route(
            "/static/ncalayer-client.js",
            get(|| async {
                static_file(
                    "text/javascript; charset=utf-8",
                    include_str!("../static/ncalayer-client.js"),
                )
            }),
        )
        .route(
            "/static/sign.js",
            get(|| async {
                static_file(
                    "text/javascript; charset=utf-8",
                    include_str!("../static/sign.js"),
                )
            }),
        )
        .route(
            "/static/htmx.min.js",
            get(|| async {
                static_file(
                    "text/javascript; charset=utf-8",
                    include_str!("../static/htmx.min.js"),
                )
            }),
        )
        // Any other address: a page in the visitor's language (the API's: its JSON error).
        .fallback(pages::not_found)
        // A page's form may send its CSRF token as a hidden field (see the function).
        .layer(axum::middleware::from_fn(auth::csrf_from_form))
        .with_state(state)
}

fn static_file(content_type: &'static str, body: &'static str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

fn with_layers(router: Router, state: &AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let base_url: std::sync::Arc<str> = state.config.base_url.as_str().into();
    // Pages may connect to the officer's signing application (NCALayer's loopback
    // WebSocket, or the demo's signer), and nowhere else but here (issue 33).
    let signer = state.config.signatures.signer_url();
    let signer = if signer.chars().all(|c| c.is_ascii_graphic()) && !signer.contains(';') {
        signer
    } else {
        documents::signing::NCALAYER_URL
    };
    let csp = HeaderValue::from_str(&format!("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self' {signer}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"));
    // Behind TLS: browsers keep to HTTPS for a year (issue 31 item 9).
    let hsts = state.config.secure_cookies.then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    router
        // Innermost: an engine's error is written in the request's language.
        .layer(axum::middleware::from_fn(error::with_lang))
        // No state-changing request from another site (issue 31 item 7).
        .layer(axum::middleware::from_fn_with_state(base_url, auth::same_origin))
        // While the storage has failed, every request gets 503 `storage_fault` (item 6).
        .layer(axum::middleware::from_fn_with_state(state.clone(), error::while_faulted))
        .layer(tower::util::option_layer(hsts))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        // Outside the timeout, so requests that timed out are counted (as 408).
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_string();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// Binds and serves until Ctrl-C / SIGTERM.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let (app, _) = router(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Starts the server on an already bound listener (tests use a free port).
pub async fn serve_on(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let (app, _) = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

/// JSON logs with the request id, filtered by RUST_LOG (default info).
pub fn init_logging() {
    init_logging_at("info")
}

/// The allocator of `drn` and of the load bench: glibc's spent a fifth of the SQLite
/// writer's time in its free lists (`unlink_chunk`, `malloc_consolidate`) under the
/// simulation's load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long freed memory stays with the allocator before it goes back to the OS.
/// mimalloc's default (1 s) is shorter than the gaps in a batch-shaped load (a writer's
/// batch, a slot of the simulation): memory went back between batches and was faulted in
/// again, zeroed, 2 MiB at a time (transparent huge pages). That was 8 % of the writer
/// thread's time and a third of the tokio workers' in a 20-day simulation; a minute
/// halves the page faults (405,555 to 190,574) and still returns what a spike took.
const FREED_MEMORY_KEPT_MS: std::ffi::c_long = 60_000;

/// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h` (`enum mi_option_e`): the
/// bindings of libmimalloc-sys 0.1 do not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets the allocator's options; called first thing in `main`.
pub fn tune_allocator() {
    // SAFETY: `mi_option_set` only stores an option's value in mimalloc's option table;
    // it may be called at any time from any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, FREED_MEMORY_KEPT_MS) }
}

/// The allocator's purge delay in force, in milliseconds (what [`tune_allocator`] sets).
pub fn freed_memory_kept_ms() -> i64 {
    // SAFETY: `mi_option_get` reads an option's value; any time, any thread.
    unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }
}

/// JSON logs on stderr, filtered by RUST_LOG (default `level`).
pub fn init_logging_at(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_current_span(true)
        .try_init();
}
