//! `/metrics` in the Prometheus text format, and the middleware that counts HTTP requests.
//!
//! The registry is [`drn_engine::metrics`] (hand-written, on atomics: see there why).
//! Recorded as they happen: HTTP requests and latencies by method, route (the matched
//! route pattern, never the raw path, so ids do not make new series) and status; engine
//! commands by name and outcome and their latency; calls to the state systems by port
//! and result. Read at scrape time: open overdue applications by the kind of unit holding
//! them, the state of each port's circuit breaker (0 closed, 1 half-open, 2 open), the
//! documents queued to be made after their command's answer (`drn_documents_pending`),
//! and whether the database's storage failed (`drn_storage_fault`, 0 or 1).
//!
//! Who may scrape: a request from the loopback interface that did not come through a
//! proxy (no `Forwarded` / `X-Forwarded-For` header), a request with
//! `Authorization: Bearer <DRN_METRICS_TOKEN>` when that variable is set, or a signed-in
//! administrator or auditor. Anyone else gets 404, as if there were no such page.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use drn_engine::metrics::{self, gauge_family};
use drn_engine::Role;
use drn_registries::{BreakerState, Port};
use sha2::{Digest, Sha256};

use crate::auth::Ctx;
use crate::error::ApiError;
use crate::AppState;

pub const HTTP_REQUESTS: &str = "drn_http_requests_total";
pub const HTTP_SECONDS: &str = "drn_http_request_duration_seconds";

/// Counts a request and its latency by method, route and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [
        ("method", method.as_str()),
        ("route", route.as_str()),
        ("status", status.as_str()),
    ];
    let r = metrics::global();
    r.inc(HTTP_REQUESTS, &labels, 1);
    r.observe(HTTP_SECONDS, &labels, started.elapsed());
    resp
}

/// Whether the request may read the metrics.
fn allowed(headers: &HeaderMap, peer: Option<SocketAddr>, page: &Result<Ctx, ApiError>) -> bool {
    let proxied = headers.contains_key("forwarded") || headers.contains_key("x-forwarded-for");
    if !proxied && peer.is_some_and(|p| p.ip().is_loopback()) {
        return true;
    }
    if let Ok(token) = std::env::var("DRN_METRICS_TOKEN") {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        // Compared as hashes: the time taken tells nothing of the token.
        if !token.is_empty()
            && given
                .is_some_and(|g| Sha256::digest(g.as_bytes()) == Sha256::digest(token.as_bytes()))
        {
            return true;
        }
    }
    matches!(page, Ok(ctx) if matches!(ctx.actor.role, Role::Administrator | Role::Auditor))
}

/// Describes the series (idempotent).
pub fn describe() {
    let r = metrics::global();
    r.describe(HTTP_REQUESTS, "HTTP requests by method, route and status.");
    r.describe(
        HTTP_SECONDS,
        "HTTP request latency by method, route and status.",
    );
    metrics::describe_engine();
}

/// GET /metrics.
pub async fn scrape(
    State(st): State<AppState>,
    page: Result<Ctx, ApiError>,
    req: Request,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if !allowed(req.headers(), peer, &page) {
        return StatusCode::NOT_FOUND.into_response();
    }
    describe();
    let mut out = metrics::global().render();
    match st.engine.overdue_by_unit_kind().await {
        Ok(by) => {
            let series: Vec<_> = by
                .into_iter()
                .map(|(k, n)| (vec![("kind", k.code().to_string())], n as f64))
                .collect();
            out.push_str(&gauge_family(
                "drn_overdue_applications",
                "Open applications past their step's due instant, by the kind of unit holding them.",
                &series,
            ));
        }
        Err(e) => tracing::error!(error = %e, "metrics: overdue counts"),
    }
    if let Ok(setup) = st.engine.online_renewal() {
        let series: Vec<_> = Port::ALL
            .iter()
            .filter_map(|p| {
                setup.breaker(*p).map(|b| {
                    let v = match b.state() {
                        BreakerState::Closed => 0.0,
                        BreakerState::HalfOpen => 1.0,
                        BreakerState::Open => 2.0,
                    };
                    (vec![("port", p.code().to_string())], v)
                })
            })
            .collect();
        out.push_str(&gauge_family(
            "drn_circuit_breaker_state",
            "Circuit breaker of each state system's port: 0 closed, 1 half-open, 2 open.",
            &series,
        ));
    }
    out.push_str(&gauge_family(
        "drn_documents_pending",
        "Documents (talons, results) queued or being made after their command was answered.",
        &[(Vec::new(), crate::documents::documents_pending() as f64)],
    ));
    out.push_str(&gauge_family(
        "drn_storage_fault",
        "1 once the database's storage failed and the writer refuses every change (see /readyz), else 0.",
        &[(Vec::new(), f64::from(u8::from(st.engine.storage_fault().is_some())))],
    ));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
