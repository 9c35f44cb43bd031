//! The 2025 pilot's online ID-card renewal over HTTP (issue 6; the steps are in
//! [`drn_engine::online_renewal`]): the citizen's application, its status, the retry after
//! a technical failure, the payment, and the regional officer's review. Also how the
//! server gets its state systems ([`install`]).

use axum::extract::State;
use axum::Json;
use base64::Engine as _;
use drn_core::Iin;
use drn_engine::online_renewal::{self as orn, Eligibility, Renewal, RenewalRequest, Review};
use drn_engine::{Engine, EngineError, Outcome, Role};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Ctx;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Body, PathOf};
use crate::AppState;

/// Gives the engine its state systems: the HTTP clients when `DRN_REGISTRIES_URL` is set
/// (JSON over HTTP, timeouts, retries, breakers), else the sandbox fed from DRN's persons.
/// `ca`: the CA that issues citizens' signing certificates (the demo PKI's). Returns the
/// sandbox, when it is one (the demo mounts it under `/sandbox`).
pub async fn install(
    engine: &Engine,
    ca: Vec<u8>,
) -> Result<Option<drn_registries::Sandbox>, EngineError> {
    let clock = orn::bridge_clock(engine.clock.clone());
    if let Ok(url) = std::env::var("DRN_REGISTRIES_URL") {
        let http = drn_registries::HttpRegistries::new(
            drn_registries::HttpConfig::new(url),
            clock.clone(),
        )
        .map_err(|e| EngineError::Corrupt(format!("registries client: {e}")))?;
        let regs = drn_registries::Registries::from_one(std::sync::Arc::new(http));
        engine.set_online_renewal(orn::Setup::new(regs, clock).with_citizen_ca(ca));
        return Ok(None);
    }
    let persons = orn::sandbox_persons(engine).await?;
    let sandbox = drn_registries::Sandbox::new(persons, clock);
    engine.set_online_renewal(orn::Setup::sandboxed(sandbox.clone()).with_citizen_ca(ca));
    Ok(Some(sandbox))
}

fn citizen(ctx: &Ctx) -> Result<Iin, ApiError> {
    ctx.require(&[Role::Citizen])?;
    ctx.actor
        .iin
        .ok_or_else(|| ApiError::forbidden_role(ctx.lang))
}

/// The signed-in citizen's renewals and whether they may renew online today.
#[derive(Debug, Serialize, ToSchema)]
pub struct RenewalOverview {
    pub eligibility: Eligibility,
    pub renewals: Vec<Renewal>,
}

/// Whether the citizen may renew online today (the pilot's period, п. 7's window), and
/// their renewals.
#[utoipa::path(get, path = "/api/v1/online-renewal", tag = "portal",
    responses((status = 200, body = RenewalOverview), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn overview(
    State(st): State<AppState>,
    ctx: Ctx,
) -> Result<Json<RenewalOverview>, ApiError> {
    let iin = citizen(&ctx)?;
    let e = &st.engine;
    let eligibility = e.renewal_eligibility(&ctx.actor, &iin).await?;
    let renewals = e.renewals_of(&ctx.actor, &iin).await?;
    Ok(Json(RenewalOverview {
        eligibility,
        renewals,
    }))
}

/// Apply for the online renewal of the ID card (seed 001 п. 3): steps 1-16 run at once;
/// the answer says where it stopped (the payment, a retry, the counter with the reason,
/// or the regional review).
#[utoipa::path(post, path = "/api/v1/online-renewal", tag = "portal", request_body = RenewalRequest,
    responses((status = 200, body = Renewal), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Body(req): Body<RenewalRequest>,
) -> Result<Json<Renewal>, ApiError> {
    citizen(&ctx)?;
    Ok(Json(st.engine.renewal_submit(&ctx.actor, req).await?))
}

/// One renewal's status (the applicant's own).
#[utoipa::path(get, path = "/api/v1/online-renewal/{id}", tag = "portal", params(("id" = String, Path)),
    responses((status = 200, body = Renewal), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn status(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
) -> Result<Json<Renewal>, ApiError> {
    citizen(&ctx)?;
    Ok(Json(st.engine.renewal(&ctx.actor, &id).await?))
}

/// Retry the step that failed technically (within 10 minutes of the failure; later the
/// answer sends the person to the counter, п. 12).
#[utoipa::path(post, path = "/api/v1/online-renewal/{id}/retry", tag = "portal", params(("id" = String, Path)),
    responses((status = 200, body = Renewal), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retry(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
) -> Result<Json<Renewal>, ApiError> {
    citizen(&ctx)?;
    Ok(Json(st.engine.renewal_retry(&ctx.actor, &id).await?))
}

/// Step 15: confirm the duty's payment (asked of the payment service). In the demo the
/// sandbox's bank pays the invoice first.
#[utoipa::path(post, path = "/api/v1/online-renewal/{id}/pay", tag = "portal", params(("id" = String, Path)),
    responses((status = 200, body = Renewal), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pay(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
) -> Result<Json<Renewal>, ApiError> {
    citizen(&ctx)?;
    let r = if st.config.demo {
        st.engine.renewal_pay_in_sandbox(&ctx.actor, &id).await
    } else {
        st.engine.renewal_confirm_payment(&ctx.actor, &id).await
    };
    Ok(Json(r?))
}

/// Step 17: the regional officer approves (to production) or annuls (a paid duty is
/// refunded, п. 11).
#[utoipa::path(post, path = "/api/v1/applications/{id}/online-review", tag = "applications", params(("id" = String, Path)), request_body = Review,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn review(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
    Body(r): Body<Review>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(&[Role::RegionalOfficer])?;
    let id = drn_engine::ApplicationId::parse(&id)?;
    Ok(Json(st.engine.renewal_review(&ctx.actor, &id, &r).await?))
}

/// The demo's signing of a request with the citizen's certificate from the server's demo
/// CA (a real citizen signs with their own EDS key in NCALayer or the eGov app): the
/// request of [`orn::request_to_sign`] signed in the demo CA (base64 DER CMS).
pub fn demo_sign(
    st: &AppState,
    iin: &Iin,
    unit: &str,
    phone: &str,
    photo: &[u8],
    signature: &[u8],
) -> Result<String, EngineError> {
    let content = orn::request_to_sign(iin, unit, phone, photo, signature);
    let cert = st
        .pki
        .citizen(iin, &format!("Citizen {iin}"))
        .map_err(|e| EngineError::Corrupt(e.to_string()))?;
    let cms = drn_docs::cms::sign_detached_at(&content, &[&cert], st.engine.now())
        .map_err(|e| EngineError::Corrupt(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(cms))
}
