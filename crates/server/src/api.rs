//! The JSON API under /api/v1. Every handler is in the OpenAPI document (utoipa); the
//! engine checks each command's unit scope, these handlers check the role first.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use drn_core::{Iin, Lang, Urgency};
use drn_engine::audit::{AuditRecord, Verification};
use drn_engine::commands::{Accept, Representative};
use drn_engine::queries::QueueItem;
use drn_engine::*;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{self, Ctx, LangOf};
use crate::documents::signing;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Body, PathOf, QueryOf};
use crate::AppState;

const STAFF: &[Role] = &[
    Role::CounterOperator,
    Role::DistrictOfficer,
    Role::RegionalOfficer,
    Role::CentralOfficer,
    Role::ProductionOperator,
    Role::Supervisor,
    Role::Auditor,
    Role::Administrator,
];
/// Staff who act on applications.
const OFFICERS: &[Role] = &[
    Role::CounterOperator,
    Role::DistrictOfficer,
    Role::RegionalOfficer,
    Role::CentralOfficer,
    Role::ProductionOperator,
];
const AUDITORS: &[Role] = &[Role::Auditor, Role::Administrator];

fn idem(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

async fn run(
    st: &AppState,
    ctx: &Ctx,
    cmd: Command,
    key: Option<String>,
) -> Result<Json<Outcome>, ApiError> {
    Ok(Json(st.execute(&ctx.actor, &cmd, key.as_deref()).await?))
}

// ---------------------------------------------------------------- sign-in

/// An IIN given by the caller: 422 when it is not one (not 12 digits, or its check digit
/// or date is wrong).
fn parse_iin(lang: Lang, s: &str) -> Result<Iin, ApiError> {
    Iin::parse(s).map_err(|e| ApiError::invalid_value(lang, Some("iin"), &e.to_string()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "op.astana.1")]
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    /// Send it back in the `X-CSRF-Token` header with every POST made with the cookie.
    pub csrf_token: String,
    pub actor: Actor,
}

/// Staff sign-in: sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = SessionInfo), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    addr: auth::ClientAddr,
    Body(req): Body<LoginRequest>,
) -> Result<Response, ApiError> {
    let (token, csrf, actor) = staff_login(&st, lang, addr, &req.username, &req.password).await?;
    Ok((
        [(
            header::SET_COOKIE,
            auth::session_cookie(&token, st.config.secure_cookies),
        )],
        Json(SessionInfo {
            csrf_token: csrf,
            actor,
        }),
    )
        .into_response())
}

/// Checks a staff member's credentials (with the lockout) and opens a session:
/// (cookie token, CSRF token, actor). Shared by the API and the sign-in page.
pub async fn staff_login(
    st: &AppState,
    lang: Lang,
    addr: auth::ClientAddr,
    username: &str,
    password: &str,
) -> Result<(String, String, Actor), ApiError> {
    let key = format!("staff:{username}");
    let attempt = auth::Attempt::reserve(st, lang, &key, addr).await?;
    let row = st.engine.staff_credentials(username).await?;
    let hash = row
        .as_ref()
        .filter(|r| r.active)
        .map(|r| r.password_hash.as_str());
    let ok = auth::verify_or_dummy(password, hash);
    let Some(row) = row.filter(|_| ok) else {
        st.audit_event(&key, "login_failed", &key).await;
        return Err(ApiError::bad_credentials(lang));
    };
    attempt.succeeded(st).await?;
    let role = Role::parse(&row.role)?;
    let unit = UnitId::parse(&row.unit)?;
    let (token, csrf) =
        auth::create_session(st, "staff", username, role, Some(&unit), None).await?;
    st.audit_event(username, "login", &key).await;
    Ok((token, csrf, Actor::staff(username, role, unit)))
}

/// Sign out: ends the session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn logout(State(st): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    if let Some(h) = &ctx.session {
        auth::end_session(&st, h)
            .await
            .map_err(|_| ApiError::internal())?;
    }
    st.audit_event(&ctx.actor.id, "logout", &ctx.actor.id).await;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, auth::clear_cookie())],
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CitizenLogin {
    #[schema(pattern = "^[0-9]{12}$", example = "871008401427")]
    pub iin: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OtpChallenge {
    pub challenge: String,
    /// The phone the code went to, masked.
    pub phone: String,
}

/// Citizen sign-in, first factor: IIN and password; a one-time code goes to the phone.
#[utoipa::path(post, path = "/api/v1/auth/citizen/login", tag = "auth", request_body = CitizenLogin,
    responses((status = 200, body = OtpChallenge), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn citizen_login(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    addr: auth::ClientAddr,
    Body(req): Body<CitizenLogin>,
) -> Result<Json<OtpChallenge>, ApiError> {
    citizen_first_factor(&st, lang, addr, &req.iin, &req.password)
        .await
        .map(Json)
}

/// Checks a citizen's IIN and password (with the lockout) and sends a one-time code to
/// their phone through the SMS gateway (the sandbox outbox). Shared by API and portal.
pub async fn citizen_first_factor(
    st: &AppState,
    lang: Lang,
    addr: auth::ClientAddr,
    iin: &str,
    password: &str,
) -> Result<OtpChallenge, ApiError> {
    let iin = parse_iin(lang, iin)?;
    let key = format!("citizen:{iin}");
    let attempt = auth::Attempt::reserve(st, lang, &key, addr).await?;
    let row = st.engine.citizen_account(&iin.to_string()).await?;
    let ok = auth::verify_or_dummy(password, row.as_ref().map(|r| r.password_hash.as_str()));
    let Some(row) = row.filter(|_| ok) else {
        st.audit_event(&key, "login_failed", &format!("person:{iin}"))
            .await;
        return Err(ApiError::bad_credentials(lang));
    };
    // The password was right: its attempt is given back, but the account's failures stay
    // until the code is right too (a wrong code counts toward the account's lock and the
    // password does not wipe it, issue 31 item 8).
    attempt.release(st).await?;
    let phone = row.phone;
    let challenge = uuid::Uuid::new_v4().simple().to_string();
    let code = format!("{:06}", uuid::Uuid::new_v4().as_u128() % 1_000_000);
    let now = st.engine.now();
    // The challenge, and the sandbox SMS gateway's message (stored in the outbox the demo
    // shows), in one transaction.
    let expires = jiff::Timestamp::from_microsecond(now.as_microsecond() + 5 * 60 * 1_000_000)
        .map_err(|_| ApiError::internal())?;
    let sent = st
        .engine
        .start_otp_challenge(drn_engine::accounts::NewOtp {
            id: &challenge,
            iin: &iin.to_string(),
            code_hash: &auth::sha256_hex(&format!("{challenge}:{code}")),
            expires_at: expires,
            phone: &phone,
            text: &format!("DRN: кіру коды / код входа / sign-in code {code}"),
            at: now,
            per_hour: auth::CODES_PER_HOUR,
        })
        .await?;
    if !sent {
        st.audit_event(&key, "login_codes_exhausted", &format!("person:{iin}"))
            .await;
        return Err(ApiError::too_many_codes(lang));
    }
    let masked = format!(
        "{}****{}",
        &phone[..phone.len().min(4)],
        &phone[phone.len().saturating_sub(2)..]
    );
    Ok(OtpChallenge {
        challenge,
        phone: masked,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CitizenVerify {
    pub challenge: String,
    pub code: String,
}

/// Citizen sign-in, second factor: the one-time code. Sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/citizen/verify", tag = "auth", request_body = CitizenVerify,
    responses((status = 200, body = SessionInfo), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn citizen_verify(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    addr: auth::ClientAddr,
    Body(req): Body<CitizenVerify>,
) -> Result<Response, ApiError> {
    let (token, csrf, actor) =
        citizen_second_factor(&st, lang, addr, &req.challenge, &req.code).await?;
    Ok((
        [(
            header::SET_COOKIE,
            auth::session_cookie(&token, st.config.secure_cookies),
        )],
        Json(SessionInfo {
            csrf_token: csrf,
            actor,
        }),
    )
        .into_response())
}

/// Checks the one-time code and opens the citizen's session. Shared by API and portal.
pub async fn citizen_second_factor(
    st: &AppState,
    lang: Lang,
    addr: auth::ClientAddr,
    challenge: &str,
    code: &str,
) -> Result<(String, String, Actor), ApiError> {
    let row = st
        .engine
        .otp_challenge(challenge)
        .await?
        .ok_or_else(|| ApiError::bad_code(lang))?;
    let iin = Iin::parse(&row.iin).map_err(|_| ApiError::internal())?;
    // Each try at a code is an attempt of the account, reserved before the code is
    // compared: wrong codes count toward the account's lock (issue 31 item 8).
    let attempt = auth::Attempt::reserve(st, lang, &format!("citizen:{iin}"), addr).await?;
    let good = row.code_hash == auth::sha256_hex(&format!("{challenge}:{}", code.trim()));
    if !good || row.expires_at < st.engine.now().as_microsecond() || row.attempts >= 5 {
        st.engine.count_otp_attempt(challenge).await?;
        st.audit_event(
            &format!("citizen:{iin}"),
            "login_failed",
            &format!("person:{iin}"),
        )
        .await;
        return Err(ApiError::bad_code(lang));
    }
    st.engine.end_otp_challenge(challenge).await?;
    attempt.succeeded(st).await?;
    let (token, csrf) = auth::create_session(
        st,
        "citizen",
        &iin.to_string(),
        Role::Citizen,
        None,
        Some(&iin),
    )
    .await?;
    let actor = Actor::citizen(iin);
    st.audit_event(&actor.id, "login", &format!("person:{iin}"))
        .await;
    Ok((token, csrf, actor))
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Actor), (status = 401, body = ErrorBody)))]
pub async fn me(ctx: Ctx) -> Json<Actor> {
    Json(ctx.actor)
}

// ---------------------------------------------------------------- catalog and calendar

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceSummary {
    pub code: String,
    pub name: drn_core::Text,
    pub versions: Vec<VersionSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    pub id: String,
    pub act: String,
    #[schema(format = Date)]
    pub effective_from: String,
    #[schema(format = Date)]
    pub effective_to: Option<String>,
    pub channels: Vec<drn_core::Channel>,
}

/// Every service and its versions.
#[utoipa::path(get, path = "/api/v1/catalog", tag = "catalog", responses((status = 200, body = Vec<ServiceSummary>)))]
pub async fn catalog(State(st): State<AppState>) -> Json<Vec<ServiceSummary>> {
    Json(
        st.engine
            .catalog
            .services
            .values()
            .map(|s| ServiceSummary {
                code: s.code.clone(),
                name: s.name.clone(),
                versions: s
                    .versions
                    .iter()
                    .map(|v| VersionSummary {
                        id: v.id.clone(),
                        act: format!("No {} of {}", v.act.number, v.act.date.0),
                        effective_from: v.effective_from.to_string(),
                        effective_to: v.effective_to.map(|d| d.to_string()),
                        channels: v.channels.clone(),
                    })
                    .collect(),
            })
            .collect(),
    )
}

/// One service (`S1`) or one version (`S1@2018`) with its steps, units, limits and citations.
#[utoipa::path(get, path = "/api/v1/catalog/{spec}", tag = "catalog", params(("spec" = String, Path, example = "S1@2018")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn catalog_show(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    PathOf(spec): PathOf<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (svc, ver) = st
        .engine
        .catalog
        .resolve(&spec)
        .map_err(|_| ApiError::not_found(lang))?;
    let mut v = match ver {
        Some(v) => serde_json::to_value(v),
        None => serde_json::to_value(svc),
    }
    .map_err(|_| ApiError::internal())?;
    // Not where the catalog's file lies on the server's disk (issue 31 item 11).
    if let Some(o) = v.as_object_mut() {
        o.remove("file");
    }
    Ok(Json(v))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// 1, 2, 3 or general.
    pub urgency: Option<String>,
    /// RFC 3339 instant with offset, e.g. 2019-03-20T10:00:00+06:00.
    pub accepted: String,
    pub process: Option<String>,
}

/// The plan of an application: version in force, each step's due instant.
#[utoipa::path(get, path = "/api/v1/catalog/{spec}/plan", tag = "catalog", params(("spec" = String, Path, example = "S1"), PlanQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn catalog_plan(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    PathOf(spec): PathOf<String>,
    QueryOf(q): QueryOf<PlanQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let urgency = Urgency::parse(q.urgency.as_deref().unwrap_or("general"))
        .map_err(|e| ApiError::invalid_value(lang, Some("urgency"), &e.to_string()))?;
    let accepted: jiff::Timestamp = q.accepted.parse().map_err(|e: jiff::Error| {
        ApiError::invalid_value(lang, Some("accepted"), &e.to_string())
    })?;
    // The units' standard hours, as `drn catalog plan` (one computation with the talon's).
    let hours = drn_core::UnitHours::standard();
    let d = drn_core::PlanBasis {
        calendar: &st.engine.calendar,
        hours: &hours,
        tz: &st.engine.tz,
    };
    let p = drn_core::plan(
        &st.engine.catalog,
        &spec,
        urgency,
        accepted,
        q.process.as_deref(),
        &d,
    )
    .map_err(EngineError::from)?;
    serde_json::to_value(p)
        .map(Json)
        .map_err(|_| ApiError::internal())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// YYYY-MM-DD
    pub from: String,
    /// YYYY-MM-DD (at most 400 days after `from`)
    pub to: String,
}

/// The national calendar: each day, working or not, and why.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "catalog", params(DaysQuery),
    responses((status = 200, body = Vec<Object>), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn calendar(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    QueryOf(q): QueryOf<DaysQuery>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let from: jiff::civil::Date = q
        .from
        .parse()
        .map_err(|e: jiff::Error| ApiError::invalid_value(lang, Some("from"), &e.to_string()))?;
    let to: jiff::civil::Date =
        q.to.parse()
            .map_err(|e: jiff::Error| ApiError::invalid_value(lang, Some("to"), &e.to_string()))?;
    if to < from || (to - from).get_days() > 400 {
        return Err(ApiError::invalid_value(
            lang,
            Some("to"),
            "from <= to, at most 400 days",
        ));
    }
    let days = st
        .engine
        .calendar
        .days(from, to)
        .map_err(EngineError::from)?;
    Ok(Json(
        days.into_iter()
            .filter_map(|d| serde_json::to_value(d).ok())
            .collect(),
    ))
}

// ---------------------------------------------------------------- applications

/// Accept an application (counter, the unit's own intake, or the applicant on the portal).
/// An incomplete package is refused at intake with a receipt.
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications", request_body = Accept,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first answer")),
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Body(mut a): Body<Accept>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(&[Role::CounterOperator, Role::DistrictOfficer, Role::Citizen])?;
    // The formulary certified with the signer's own key where the service's rules ask
    // (issue 33): its signature in `data.formulary_signature`, over the bytes that
    // `POST /api/v1/applications/formulary` gives for the same intake.
    signing::certify_intake(&st, &ctx.actor, ctx.lang, &mut a, None).await?;
    run(&st, &ctx, Command::Accept(a), idem(&headers)).await
}

/// What an intake's formulary is signed over (issue 33): the intake as the server reads
/// it, without `data.formulary_signature`. Sign these bytes (a detached CMS, as NCALayer
/// makes it) and send the intake again with the base64 CMS in `data.formulary_signature`.
#[utoipa::path(post, path = "/api/v1/applications/formulary", tag = "applications", request_body = Accept,
    responses((status = 200, body = FormularyToSign), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn formulary(
    State(st): State<AppState>,
    ctx: Ctx,
    Body(mut a): Body<Accept>,
) -> Result<Json<FormularyToSign>, ApiError> {
    ctx.require(&[Role::CounterOperator, Role::DistrictOfficer])?;
    let (bytes, _) = signing::formulary_of(ctx.lang, &mut a)?;
    let signer = st.engine.officer_on_record(&ctx.actor.id).await?;
    Ok(Json(FormularyToSign {
        data: base64::engine::general_purpose::STANDARD.encode(&bytes),
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        signer: signer
            .map(|o| match (o.iin, o.bin) {
                (Some(i), _) => i.to_string(),
                (None, Some(b)) => format!("BIN{b}"),
                (None, None) => String::new(),
            })
            .unwrap_or_default(),
        required: signing::certifies_formulary(&st, &ctx.actor, &a.service),
    }))
}

/// The bytes of an intake's formulary to sign.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FormularyToSign {
    /// The bytes, base64.
    pub data: String,
    /// Their SHA-256, hex (for signing by hash).
    pub sha256: String,
    /// Whose certificate must sign: the officer's IIN, or `BIN…` for an API client's
    /// system (empty: none on record, ask the administrator).
    pub signer: String,
    /// Whether this intake is refused without the signature.
    pub required: bool,
}

/// One application.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications", params(("id" = String, Path)),
    responses((status = 200, body = Application), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn application(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
) -> Result<Json<Application>, ApiError> {
    let id = ApplicationId::parse(&id)?;
    Ok(Json(
        st.engine
            .application(&ctx.actor, &id, "api:application")
            .await?,
    ))
}

/// The application's history: every step with actor, unit, instant, due and actual times.
#[utoipa::path(get, path = "/api/v1/applications/{id}/timeline", tag = "applications", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Event>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn timeline(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
) -> Result<Json<Vec<Event>>, ApiError> {
    let id = ApplicationId::parse(&id)?;
    Ok(Json(st.engine.timeline(&ctx.actor, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// The revision you saw (optimistic concurrency).
    pub revision: i64,
    pub note: Option<String>,
}

/// Complete the current step; the application enters the next one.
#[utoipa::path(post, path = "/api/v1/applications/{id}/complete", tag = "applications", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = StepRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn complete(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    PathOf(id): PathOf<String>,
    Body(r): Body<StepRequest>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(OFFICERS)?;
    let cmd = Command::CompleteStep {
        application: ApplicationId::parse(&id)?,
        revision: r.revision,
        note: r.note,
    };
    run(&st, &ctx, cmd, idem(&headers)).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    pub revision: i64,
    /// The motivated reason.
    /// At most 1000 characters (it is printed whole on the refusal's document).
    #[schema(max_length = 1000)]
    pub reason: String,
}

/// The roles that may end an application by a refusal or an annulment somewhere; the
/// engine decides where (`ending`): the counter refuses where the step it holds has a
/// refusal branch and annuls its own mistaken intake, the district annuls a mistaken intake
/// below it, the migration units refuse what they hold, the region and centre annul it.
const ENDERS: &[Role] = &[
    Role::CounterOperator,
    Role::DistrictOfficer,
    Role::RegionalOfficer,
    Role::CentralOfficer,
];

/// Motivated refusal.
#[utoipa::path(post, path = "/api/v1/applications/{id}/refuse", tag = "applications", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = ReasonRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn refuse(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    PathOf(id): PathOf<String>,
    Body(r): Body<ReasonRequest>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(ENDERS)?;
    let cmd = Command::Refuse {
        application: ApplicationId::parse(&id)?,
        revision: r.revision,
        reason: r.reason,
    };
    run(&st, &ctx, cmd, idem(&headers)).await
}

/// Annulment.
#[utoipa::path(post, path = "/api/v1/applications/{id}/annul", tag = "applications", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = ReasonRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn annul(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    PathOf(id): PathOf<String>,
    Body(r): Body<ReasonRequest>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(ENDERS)?;
    let cmd = Command::Annul {
        application: ApplicationId::parse(&id)?,
        revision: r.revision,
        reason: r.reason,
    };
    run(&st, &ctx, cmd, idem(&headers)).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub revision: i64,
    pub to_step: u32,
    /// At most 1000 characters (it is printed whole on the refusal's document).
    #[schema(max_length = 1000)]
    pub reason: String,
}

/// Return for correction to an earlier step.
#[utoipa::path(post, path = "/api/v1/applications/{id}/return", tag = "applications", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = ReturnRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn return_to(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    PathOf(id): PathOf<String>,
    Body(r): Body<ReturnRequest>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(OFFICERS)?;
    let cmd = Command::Return {
        application: ApplicationId::parse(&id)?,
        revision: r.revision,
        to_step: r.to_step,
        reason: r.reason,
    };
    run(&st, &ctx, cmd, idem(&headers)).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub revision: i64,
    /// Who receives the result (the applicant, or the representative).
    pub receiver: Iin,
    pub representative: Option<Representative>,
}

/// Hand the result over (the last step, at the counter).
#[utoipa::path(post, path = "/api/v1/applications/{id}/issue", tag = "applications", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = IssueRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    PathOf(id): PathOf<String>,
    Body(r): Body<IssueRequest>,
) -> Result<Json<Outcome>, ApiError> {
    // The district issues where its step is the last (S3, S4, S6-S9).
    ctx.require(&[Role::CounterOperator, Role::DistrictOfficer])?;
    let cmd = Command::Issue {
        application: ApplicationId::parse(&id)?,
        revision: r.revision,
        receiver: r.receiver,
        representative: r.representative,
    };
    run(&st, &ctx, cmd, idem(&headers)).await
}

/// The signed-in citizen's applications.
#[utoipa::path(get, path = "/api/v1/my/applications", tag = "portal", responses((status = 200, body = Vec<Application>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn my_applications(
    State(st): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<Application>>, ApiError> {
    ctx.require(&[Role::Citizen])?;
    let iin = ctx
        .actor
        .iin
        .ok_or_else(|| ApiError::forbidden_role(ctx.lang))?;
    Ok(Json(st.engine.applications_of(&ctx.actor, &iin).await?))
}

/// Who read the signed-in citizen's data, and when.
#[utoipa::path(get, path = "/api/v1/my/reads", tag = "portal", responses((status = 200, body = Vec<AuditRecord>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn my_reads(
    State(st): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<AuditRecord>>, ApiError> {
    ctx.require(&[Role::Citizen])?;
    let iin = ctx
        .actor
        .iin
        .ok_or_else(|| ApiError::forbidden_role(ctx.lang))?;
    let all = st
        .engine
        .audit_log(Some(&format!("person:{iin}")), 500)
        .await?;
    Ok(Json(
        all.into_iter()
            .filter(|r| r.action.starts_with("read_"))
            .collect(),
    ))
}

// ---------------------------------------------------------------- units, queues, registries

/// All units (the tree by region).
#[utoipa::path(get, path = "/api/v1/units", tag = "units", responses((status = 200, body = Vec<Unit>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn units(State(st): State<AppState>, ctx: Ctx) -> Result<Json<Vec<Unit>>, ApiError> {
    ctx.require(STAFF)?;
    Ok(Json(st.engine.units().await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// At most this many (1 to 1000, default 200).
    pub limit: Option<i64>,
}

fn limit_of(q: &LimitQuery) -> i64 {
    q.limit.unwrap_or(200).clamp(1, 1000)
}

/// The unit's queue: applications it holds, earliest due first, overdue marked.
#[utoipa::path(get, path = "/api/v1/units/{id}/queue", tag = "units", params(("id" = String, Path), LimitQuery),
    responses((status = 200, body = Vec<QueueItem>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn queue(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
    QueryOf(q): QueryOf<LimitQuery>,
) -> Result<Json<Vec<QueueItem>>, ApiError> {
    ctx.require(OFFICERS)?;
    let u = UnitId::parse(&id)?;
    Ok(Json(st.engine.queue(&ctx.actor, &u, limit_of(&q)).await?))
}

/// Overdue applications held by the unit.
#[utoipa::path(get, path = "/api/v1/units/{id}/overdue", tag = "units", params(("id" = String, Path), LimitQuery),
    responses((status = 200, body = Vec<QueueItem>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn overdue(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
    QueryOf(q): QueryOf<LimitQuery>,
) -> Result<Json<Vec<QueueItem>>, ApiError> {
    ctx.require(&[
        Role::CounterOperator,
        Role::DistrictOfficer,
        Role::RegionalOfficer,
        Role::CentralOfficer,
        Role::ProductionOperator,
        Role::Supervisor,
    ])?;
    let u = UnitId::parse(&id)?;
    let now = st.engine.now();
    Ok(Json(
        st.engine
            .due_before(&ctx.actor, Some(&u), now, limit_of(&q))
            .await?,
    ))
}

/// Registries the unit sent or is to receive.
#[utoipa::path(get, path = "/api/v1/units/{id}/registries", tag = "registries", params(("id" = String, Path), LimitQuery),
    responses((status = 200, body = Vec<Registry>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn unit_registries(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
    QueryOf(q): QueryOf<LimitQuery>,
) -> Result<Json<Vec<Registry>>, ApiError> {
    ctx.require(OFFICERS)?;
    let u = UnitId::parse(&id)?;
    Ok(Json(
        st.engine.registries(&ctx.actor, &u, limit_of(&q)).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormRegistryRequest {
    #[schema(example = "S1")]
    pub service: String,
    #[schema(example = "2018")]
    pub version: String,
    #[schema(example = "main")]
    pub process: String,
    #[schema(example = 3)]
    pub step: u32,
}

/// Form registries of the applications waiting at your unit at a handover step.
#[utoipa::path(post, path = "/api/v1/registries", tag = "registries", params(("Idempotency-Key" = Option<String>, Header)), request_body = FormRegistryRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn form_registry(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Body(r): Body<FormRegistryRequest>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(OFFICERS)?;
    let cmd = Command::FormRegistry {
        service: r.service,
        version: r.version,
        process: r.process,
        step: r.step,
    };
    run(&st, &ctx, cmd, idem(&headers)).await
}

/// One registry.
#[utoipa::path(get, path = "/api/v1/registries/{id}", tag = "registries", params(("id" = String, Path)),
    responses((status = 200, body = Registry), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn registry(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
) -> Result<Json<Registry>, ApiError> {
    let id = RegistryId::parse(&id)?;
    Ok(Json(st.engine.registry(&ctx.actor, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionRequest {
    pub revision: i64,
}

/// A registry's sign or send, with the officer's signature of its document when it leaves
/// "formed" (issue 33): the draft from `signature-draft` and the CMS over its bytes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryActRequest {
    pub revision: i64,
    /// The draft signed (`POST /api/v1/registries/{id}/signature-draft`).
    pub draft: Option<String>,
    /// The detached CMS (CAdES) over the draft's `data`, base64.
    pub signature: Option<String>,
}

/// The officer's signature of a document waiting for it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureRequest {
    pub draft: String,
    /// The detached CMS (CAdES) over the draft's `data`, base64.
    pub signature: String,
}

/// The document made from a signed draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedDocument {
    pub document: String,
}

/// Render a formed registry's document for the signed-in officer's signature: the bytes to
/// sign (a detached CMS over them, by their own key) and the draft to send back with
/// `sign` or `send`.
#[utoipa::path(post, path = "/api/v1/registries/{id}/signature-draft", tag = "registries", params(("id" = String, Path)),
    responses((status = 200, body = crate::documents::signing::Prepared), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn registry_signature_draft(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
) -> Result<Json<crate::documents::signing::Prepared>, ApiError> {
    ctx.require(OFFICERS)?;
    let reg = st
        .engine
        .registry(&ctx.actor, &RegistryId::parse(&id)?)
        .await?;
    Ok(Json(
        crate::documents::signing::prepare_registry(&st, &ctx.actor, ctx.lang, &reg).await?,
    ))
}

/// Render the application's document waiting for its officer's signature (a result after
/// its issue, a motivated refusal): the bytes to sign and the draft.
#[utoipa::path(post, path = "/api/v1/applications/{id}/signature-draft", tag = "applications", params(("id" = String, Path)),
    responses((status = 200, body = crate::documents::signing::Prepared), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn application_signature_draft(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
) -> Result<Json<crate::documents::signing::Prepared>, ApiError> {
    ctx.require(OFFICERS)?;
    let app = st
        .engine
        .application(&ctx.actor, &ApplicationId::parse(&id)?, "api:signature")
        .await?;
    Ok(Json(
        crate::documents::signing::prepare_application(&st, &ctx.actor, ctx.lang, &app).await?,
    ))
}

/// Sign the application's waiting document: the signature is checked (chain, key usage,
/// validity at the signing time, revocation, the officer's IIN) and the document is
/// released with the officer's and the authorities' signatures.
#[utoipa::path(post, path = "/api/v1/applications/{id}/signature", tag = "applications", params(("id" = String, Path)), request_body = SignatureRequest,
    responses((status = 200, body = SignedDocument), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn sign_application_document(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
    Body(r): Body<SignatureRequest>,
) -> Result<Json<SignedDocument>, ApiError> {
    ctx.require(OFFICERS)?;
    let app = st
        .engine
        .application(&ctx.actor, &ApplicationId::parse(&id)?, "api:signature")
        .await?;
    let submitted = crate::documents::signing::Submitted {
        draft: Some(r.draft),
        signature: Some(r.signature),
    };
    let document = crate::documents::signing::sign_application_document(
        &st, &ctx.actor, ctx.lang, &app, &submitted,
    )
    .await?;
    Ok(Json(SignedDocument { document }))
}

/// Sign a formed registry.
#[utoipa::path(post, path = "/api/v1/registries/{id}/sign", tag = "registries", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = RegistryActRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn sign_registry(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    PathOf(id): PathOf<String>,
    Body(r): Body<RegistryActRequest>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(OFFICERS)?;
    let registry = RegistryId::parse(&id)?;
    let submitted = crate::documents::signing::Submitted {
        draft: r.draft,
        signature: r.signature,
    };
    crate::documents::signing::gate_registry(&st, &ctx.actor, ctx.lang, &registry, &submitted)
        .await?;
    run(
        &st,
        &ctx,
        Command::SignRegistry {
            registry,
            revision: r.revision,
        },
        idem(&headers),
    )
    .await
}

/// Send a signed registry to the next unit.
#[utoipa::path(post, path = "/api/v1/registries/{id}/send", tag = "registries", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = RegistryActRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn send_registry(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    PathOf(id): PathOf<String>,
    Body(r): Body<RegistryActRequest>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(OFFICERS)?;
    let registry = RegistryId::parse(&id)?;
    let submitted = crate::documents::signing::Submitted {
        draft: r.draft,
        signature: r.signature,
    };
    crate::documents::signing::gate_registry(&st, &ctx.actor, ctx.lang, &registry, &submitted)
        .await?;
    run(
        &st,
        &ctx,
        Command::SendRegistry {
            registry,
            revision: r.revision,
        },
        idem(&headers),
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveRequest {
    pub revision: i64,
    /// The incoming number; given by the system when absent.
    pub incoming_number: Option<String>,
}

/// Receive a registry with an incoming number: its applications enter the next step.
#[utoipa::path(post, path = "/api/v1/registries/{id}/receive", tag = "registries", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = ReceiveRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn receive_registry(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    PathOf(id): PathOf<String>,
    Body(r): Body<ReceiveRequest>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(OFFICERS)?;
    let cmd = Command::ReceiveRegistry {
        registry: RegistryId::parse(&id)?,
        revision: r.revision,
        incoming_number: r.incoming_number,
    };
    run(&st, &ctx, cmd, idem(&headers)).await
}

// ---------------------------------------------------------------- persons and audit

/// A person's record (audited read).
#[utoipa::path(get, path = "/api/v1/persons/{iin}", tag = "persons", params(("iin" = String, Path, pattern = "^[0-9]{12}$", example = "871008401427")),
    responses((status = 200, body = Person), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn person(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(iin): PathOf<String>,
) -> Result<Json<Person>, ApiError> {
    ctx.require(&[
        Role::CounterOperator,
        Role::DistrictOfficer,
        Role::RegionalOfficer,
        Role::CentralOfficer,
        Role::Citizen,
    ])?;
    let iin = parse_iin(ctx.lang, &iin)?;
    Ok(Json(
        st.engine.person(&ctx.actor, &iin, "api:person").await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// e.g. person:871008401427 or application:ID
    pub subject: Option<String>,
    pub limit: Option<i64>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditRecord>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit_log(
    State(st): State<AppState>,
    ctx: Ctx,
    QueryOf(q): QueryOf<AuditQuery>,
) -> Result<Json<Vec<AuditRecord>>, ApiError> {
    ctx.require(AUDITORS)?;
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    Ok(Json(
        st.engine.audit_log(q.subject.as_deref(), limit).await?,
    ))
}

/// Verify the audit chain.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = Verification), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit_verify(
    State(st): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Verification>, ApiError> {
    ctx.require(AUDITORS)?;
    Ok(Json(st.engine.verify_audit().await?))
}

/// Sign the audit chain's head now and keep it outside the database (the configured
/// anchors directory; see `drn audit verify --anchors`). 404 when anchoring is not
/// configured or the chain is empty.
#[utoipa::path(post, path = "/api/v1/audit/anchor", tag = "audit", responses((status = 200, body = crate::anchor::SignedHead), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn audit_anchor(
    State(st): State<AppState>,
    ctx: Ctx,
) -> Result<Json<crate::anchor::SignedHead>, ApiError> {
    ctx.require(AUDITORS)?;
    match crate::anchor::anchor_now(&st).await {
        Ok(Some(head)) => {
            st.audit_event(
                &ctx.actor.id,
                "audit_anchor",
                &format!("audit:{}", head.seq),
            )
            .await;
            Ok(Json(head))
        }
        Ok(None) => Err(ApiError::not_found(ctx.lang)),
        Err(crate::anchor::AnchorError::Engine(e)) => Err(e.into()),
        Err(e) => {
            tracing::error!(error = %e, "the audit head could not be anchored");
            Err(ApiError::internal())
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Sms {
    pub id: i64,
    pub phone: String,
    pub text: String,
    #[schema(format = DateTime)]
    pub at: String,
}

/// The sandbox SMS outbox (demo mode only, and only over the loopback interface, issue
/// 31 item 12): where one-time codes "arrive".
#[utoipa::path(get, path = "/api/v1/sandbox/sms", tag = "sandbox", responses((status = 200, body = Vec<Sms>), (status = 404, body = ErrorBody)))]
pub async fn sandbox_sms(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    addr: auth::ClientAddr,
) -> Result<Json<Vec<Sms>>, ApiError> {
    if !st.config.demo || !addr.is_loopback() {
        return Err(ApiError::not_found(lang));
    }
    let rows = st.engine.sms_outbox().await?;
    Ok(Json(
        rows.into_iter()
            .filter_map(|r| {
                Some(Sms {
                    id: r.id,
                    phone: r.phone,
                    text: r.text,
                    at: jiff::Timestamp::from_microsecond(r.at).ok()?.to_string(),
                })
            })
            .collect(),
    ))
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers and its storage has not failed. After a storage fault
/// (`storage_fault`, with the reason) the system takes no changes, so it is not ready.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = String), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(st): State<AppState>) -> Result<&'static str, ApiError> {
    if let Some(reason) = st.engine.storage_fault() {
        let e = EngineError::StorageFault { reason };
        // For the operator's probe: the reason, not the user's sentence.
        let message = e.to_string();
        let e = ApiError::from(e);
        return Err(ApiError::new(e.status(), e.code(), message, None));
    }
    st.engine.ping().await.map(|_| "ready").map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "database unavailable",
            None,
        )
    })
}

// ---------------------------------------------------------------- issue 7: registers

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddressQuery {
    /// Words of the address ("Абая 12 кв. 5") or a code (РКА) prefix: 2 to 200 characters.
    #[param(min_length = 2, max_length = 200)]
    pub q: Option<String>,
    pub limit: Option<i64>,
}

/// Search the address register by text or by code.
#[utoipa::path(get, path = "/api/v1/addresses", tag = "addresses", params(AddressQuery),
    responses((status = 200, body = Vec<drn_engine::services::Address>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn addresses(
    State(st): State<AppState>,
    ctx: Ctx,
    QueryOf(q): QueryOf<AddressQuery>,
) -> Result<Json<Vec<drn_engine::services::Address>>, ApiError> {
    ctx.require(&[
        Role::CounterOperator,
        Role::DistrictOfficer,
        Role::RegionalOfficer,
        Role::CentralOfficer,
        Role::Supervisor,
        Role::Citizen,
    ])?;
    Ok(Json(
        st.engine
            .search_addresses(
                &ctx.actor,
                q.q.as_deref().unwrap_or(""),
                q.limit.unwrap_or(20),
            )
            .await?,
    ))
}

/// One address by its registration code (РКА).
#[utoipa::path(get, path = "/api/v1/addresses/{rka}", tag = "addresses", params(("rka" = String, Path, example = "7102000000000005")),
    responses((status = 200, body = drn_engine::services::Address), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn address(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(rka): PathOf<String>,
) -> Result<Json<drn_engine::services::Address>, ApiError> {
    ctx.require(&[
        Role::CounterOperator,
        Role::DistrictOfficer,
        Role::RegionalOfficer,
        Role::CentralOfficer,
        Role::Supervisor,
        Role::Citizen,
    ])?;
    Ok(Json(st.engine.address(&ctx.actor, &rka).await?))
}

/// Run the service's check at the current step (S5 address data, S6-S8 special records,
/// S1's wanted persons at the centre); its outcome is recorded in the timeline.
#[utoipa::path(post, path = "/api/v1/applications/{id}/check", tag = "applications", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = RevisionRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn check(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    PathOf(id): PathOf<String>,
    Body(r): Body<RevisionRequest>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(&[
        Role::CounterOperator,
        Role::DistrictOfficer,
        Role::CentralOfficer,
    ])?;
    let cmd = Command::Check {
        application: ApplicationId::parse(&id)?,
        revision: r.revision,
    };
    run(&st, &ctx, cmd, idem(&headers)).await
}

/// The applicant came for the result: the hand-over step's limit starts now (issue 30
/// item 12); until then the application waits for the applicant with no clock.
#[utoipa::path(post, path = "/api/v1/applications/{id}/applicant-arrived", tag = "applications", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = RevisionRequest,
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn applicant_arrived(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    PathOf(id): PathOf<String>,
    Body(r): Body<RevisionRequest>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(&[Role::CounterOperator, Role::DistrictOfficer])?;
    let cmd = Command::ApplicantArrived {
        application: ApplicationId::parse(&id)?,
        revision: r.revision,
    };
    run(&st, &ctx, cmd, idem(&headers)).await
}

/// Accept an application of a foreigner who has no IIN (S9).
#[utoipa::path(post, path = "/api/v1/foreigners/applications", tag = "applications", request_body = drn_engine::services::AcceptForeigner,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = Outcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept_foreigner(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Body(a): Body<drn_engine::services::AcceptForeigner>,
) -> Result<Json<Outcome>, ApiError> {
    ctx.require(&[Role::CounterOperator, Role::DistrictOfficer])?;
    run(&st, &ctx, Command::AcceptForeigner(a), idem(&headers)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JournalQuery {
    /// The unit (your own); the centre, supervisors and auditors may leave it out.
    pub unit: Option<String>,
    pub limit: Option<i64>,
}

/// A service journal: temporary_id, chip_rewrite, departure_sheets, address_certificates,
/// border_passes, invitations, foreigner_registration, iin_formed.
#[utoipa::path(get, path = "/api/v1/journals/{journal}", tag = "units", params(("journal" = String, Path, example = "temporary_id"), JournalQuery),
    responses((status = 200, body = Vec<drn_engine::services::JournalEntry>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn journal(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(journal): PathOf<String>,
    QueryOf(q): QueryOf<JournalQuery>,
) -> Result<Json<Vec<drn_engine::services::JournalEntry>>, ApiError> {
    ctx.require(&[
        Role::CounterOperator,
        Role::DistrictOfficer,
        Role::RegionalOfficer,
        Role::CentralOfficer,
        Role::Supervisor,
        Role::Auditor,
    ])?;
    let unit = q.unit.as_deref().map(UnitId::parse).transpose()?;
    Ok(Json(
        st.engine
            .journal(&ctx.actor, &journal, unit.as_ref(), q.limit.unwrap_or(100))
            .await?,
    ))
}
