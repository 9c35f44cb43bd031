//! The pages of the 2025 pilot's online ID-card renewal (issue 6; the steps are in
//! [`drn_engine::online_renewal`]): the entry with the window and the pilot's period, the
//! form (a `multipart/form-data` upload of the photo and the signature sample, which works
//! without JavaScript), the status of a renewal with its steps, the duty and its payment,
//! the retry; and the regional officer's review on the application card (step 17).

use askama::Template;
use axum::extract::{Form, Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use drn_core::{Channel, Lang};
use drn_engine::online_renewal::{
    self as orn, AnnulGround, CheckOutcome, PhotoOnRecord, RenewalRequest, RenewalStatus, Review,
};
use drn_engine::{ApplicationId, Role, Status};
use serde::Deserialize;

use super::portal::{citizen, counters_for};
use super::{error_page, i18n, kz, render, to_login, Nav, Tr};
use crate::auth::Ctx;
use crate::documents::signing;
use crate::error::ApiError;
use crate::AppState;

const HOME: &str = "/portal/renewal";

pub struct RenewalRow {
    pub id: String,
    pub created: String,
    pub status: String,
    pub talon: String,
}

#[derive(Template)]
#[template(path = "portal_renewal.html")]
struct Entry {
    tr: Tr,
    nav: Nav,
    /// The form is offered (in the window, in the pilot, nothing under way).
    available: bool,
    /// Why not, in the page's language.
    message: String,
    card_expires: String,
    pilot_until: String,
    duty: String,
    active: Option<String>,
    counters: Vec<(String, String)>,
    phone: String,
    demo: bool,
    renewals: Vec<RenewalRow>,
    /// The form came back refused: the reason beside its field, what was typed kept
    /// (issue 29; files cannot be kept by a browser: the page asks for them again).
    error: Option<super::pages::FormError>,
}

/// The renewal form's fields that show their own error.
const RENEWAL_FIELDS: &[&str] = &[
    "photo",
    "signature_sample",
    "unit",
    "phone",
    "consent",
    "request_signature",
];

impl Entry {
    fn error_at(&self, name: &str) -> Option<&str> {
        super::pages::FormError::at(self.error.as_ref(), name)
    }

    fn error_top(&self) -> Option<&str> {
        super::pages::FormError::top(self.error.as_ref(), RENEWAL_FIELDS)
    }

    fn typed(&self, name: &str) -> Option<&str> {
        super::pages::FormError::typed(self.error.as_ref(), None, name)
    }

    /// The phone to show: as typed when the form came back, else the one on record.
    fn phone_shown(&self) -> &str {
        self.typed("phone").unwrap_or(&self.phone)
    }

    /// The counter to select: as chosen when the form came back, else the first.
    fn unit_chosen(&self, id: &str) -> bool {
        self.typed("unit") == Some(id)
    }
}

fn status_label(lang: Lang, s: RenewalStatus) -> String {
    i18n::label(lang, "orn_st_", s.code())
}

/// The entry: the window, the pilot's period, whether the citizen may renew today, the
/// form, and their renewals.
pub async fn entry(State(st): State<AppState>, page: Result<Ctx, ApiError>) -> Response {
    let ctx = match citizen(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    entry_page(&st, &ctx, None).await
}

/// The entry page; with a refused form's error, answered with the refusal's status.
async fn entry_page(st: &AppState, ctx: &Ctx, error: Option<super::pages::FormError>) -> Response {
    let st = st.clone();
    let ctx = ctx.clone();
    let nav = Nav::for_ctx(&ctx, HOME);
    let lang = ctx.lang;
    let tr = Tr { lang };
    let Some(iin) = ctx.actor.iin else {
        return to_login(true);
    };
    let e = &st.engine;
    let el = match e.renewal_eligibility(&ctx.actor, &iin).await {
        Ok(el) => el,
        Err(x) => return error_page(nav, lang, x, "/portal"),
    };
    let renewals = match e.renewals_of(&ctx.actor, &iin).await {
        Ok(r) => r,
        Err(x) => return error_page(nav, lang, x, "/portal"),
    };
    let active = renewals
        .iter()
        .find(|r| r.status.is_active())
        .map(|r| r.id.clone());
    let (counters, phone) = if el.available && active.is_none() {
        // Seed 001 para 10: the applicant chooses the region (and the counter) where the
        // card is issued: every region's counters, the home region's first.
        let home = match counters_for(&st, &ctx, &iin, false).await {
            Ok(c) => c,
            Err(x) => return error_page(nav, lang, x, "/portal"),
        };
        let counters = counters_of_every_region(&st, lang, home).await;
        let phone = e
            .person(&ctx.actor, &iin, "portal:renewal")
            .await
            .ok()
            .and_then(|p| p.data["phone"].as_str().map(String::from))
            .unwrap_or_default();
        (counters, phone)
    } else {
        (Vec::new(), String::new())
    };
    let page = Entry {
        tr,
        available: el.available && active.is_none(),
        message: el
            .message
            .as_ref()
            .map(|m| tr.text(m).to_string())
            .unwrap_or_default(),
        // Dates as the rest of the pages write them (dd.mm.yyyy), not ISO.
        card_expires: el
            .card_expires
            .map(|d| d.strftime("%d.%m.%Y").to_string())
            .unwrap_or_default(),
        pilot_until: el
            .pilot_until
            .map(|d| d.strftime("%d.%m.%Y").to_string())
            .unwrap_or_default(),
        duty: el.duty_tenge.map(|d| d.to_string()).unwrap_or_default(),
        active,
        counters,
        phone,
        demo: st.config.demo,
        renewals: renewals
            .iter()
            .map(|r| RenewalRow {
                id: r.id.clone(),
                created: kz(r.created_at),
                status: status_label(lang, r.status),
                talon: r.talon.clone().unwrap_or_default(),
            })
            .collect(),
        nav,
        error,
    };
    let status = page.error.as_ref().map(|e| e.status);
    let out = render(&page, lang);
    match status {
        Some(s) => (s, out).into_response(),
        None => out,
    }
}

/// The form's fields, read from `multipart/form-data`.
#[derive(Default)]
struct Upload {
    photo: Vec<u8>,
    signature: Vec<u8>,
    request_signature: Vec<u8>,
    unit: String,
    phone: String,
    consent: bool,
}

async fn read_upload(mut m: Multipart, lang: Lang) -> Result<Upload, ApiError> {
    let bad = |f: &str, e: String| ApiError::bad_input(lang, Some(f), &e);
    let mut u = Upload::default();
    while let Some(field) = m
        .next_field()
        .await
        .map_err(|e| bad("form", e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| bad(&name, e.body_text()))?
            .to_vec();
        let text = || String::from_utf8_lossy(&bytes).trim().to_string();
        match name.as_str() {
            "photo" => u.photo = bytes,
            "signature_sample" => u.signature = bytes,
            "request_signature" => u.request_signature = bytes,
            "unit" => u.unit = text(),
            "phone" => u.phone = text(),
            "consent" => u.consent = !bytes.is_empty(),
            _ => {}
        }
    }
    Ok(u)
}

/// The citizen's signed request: the uploaded CMS (DER, or its base64), or in the demo the
/// server's signature with the sandbox citizen CA ([`crate::renewal::demo_sign`]).
fn request_signature(st: &AppState, iin: &drn_core::Iin, u: &Upload) -> Result<String, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    if !u.request_signature.is_empty() {
        let s = String::from_utf8_lossy(&u.request_signature);
        return Ok(match b64.decode(s.trim()) {
            Ok(_) => s.trim().to_string(),
            Err(_) => b64.encode(&u.request_signature),
        });
    }
    if st.config.demo {
        return crate::renewal::demo_sign(st, iin, &u.unit, &u.phone, &u.photo, &u.signature)
            .map_err(|e| e.to_string());
    }
    Err("attach the CMS signature of the request".into())
}

/// Submits the renewal (steps 1-16 run at once) and shows its status (Post/Redirect/Get).
/// A refusal comes back on the form, beside the field at fault, with the counter, the
/// phone and the consent as they were (issue 29).
pub async fn submit(
    State(st): State<AppState>,
    page: Result<Ctx, ApiError>,
    m: Multipart,
) -> Response {
    let ctx = match citizen(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let Some(iin) = ctx.actor.iin else {
        return to_login(true);
    };
    let u = match read_upload(m, lang).await {
        Ok(u) => u,
        Err(e) => return back(&st, &ctx, &Upload::default(), e).await,
    };
    let refuse = |field: &str, key: &str| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            i18n::t(lang, key),
            Some(field),
        )
    };
    // Seed 001 para 10: the applicant chooses the region, so any counter the form offers.
    let home = match counters_for(&st, &ctx, &iin, false).await {
        Ok(cs) => cs,
        Err(e) => return back(&st, &ctx, &u, e).await,
    };
    let offered = counters_of_every_region(&st, lang, home).await;
    if !offered.iter().any(|(id, _)| *id == u.unit) {
        return back(&st, &ctx, &u, refuse("unit", "portal_choose_unit")).await;
    }
    if !u.consent {
        return back(&st, &ctx, &u, refuse("consent", "renewal_consent_required")).await;
    }
    let signature = match request_signature(&st, &iin, &u) {
        Ok(s) => s,
        Err(_) => {
            return back(
                &st,
                &ctx,
                &u,
                refuse("request_signature", "renewal_attach_cms"),
            )
            .await
        }
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let req = RenewalRequest {
        channel: Channel::Portal,
        reason: "expiry".into(),
        phone: u.phone.clone(),
        unit: u.unit.clone(),
        photo: b64.encode(&u.photo),
        signature_sample: b64.encode(&u.signature),
        selfie: None,
        request_signature: signature,
    };
    match st.engine.renewal_submit(&ctx.actor, req).await {
        Ok(r) => Redirect::to(&format!("{HOME}/{}", r.id)).into_response(),
        Err(e) => back(&st, &ctx, &u, ApiError::from(e)).await,
    }
}

/// The entry page with the form's refusal and what was typed (the files excepted).
async fn back(st: &AppState, ctx: &Ctx, u: &Upload, e: ApiError) -> Response {
    let error = super::pages::FormError {
        status: e.status(),
        service: orn::SERVICE.into(),
        field: e.field().unwrap_or_default().to_string(),
        message: e.message(ctx.lang),
        typed: vec![
            ("unit".into(), u.unit.clone()),
            ("phone".into(), u.phone.chars().take(40).collect()),
            ("consent".into(), if u.consent { "yes" } else { "" }.into()),
        ],
    };
    entry_page(st, ctx, Some(error)).await
}

pub struct CheckRow {
    pub step: u32,
    pub action: String,
    pub outcome: String,
    pub passed: bool,
    pub at: String,
}

#[derive(Template)]
#[template(path = "portal_renewal_status.html")]
struct StatusPage {
    tr: Tr,
    nav: Nav,
    id: String,
    code: &'static str,
    status: String,
    step: u32,
    reason: String,
    to_counter: bool,
    /// The photo failed: the citizen may apply online again at once.
    photo_again: bool,
    retry: bool,
    pay: bool,
    demo: bool,
    talon: String,
    unit: String,
    /// (year, МРП, amount, status, invoice, exempt by)
    duty: Option<(i16, u64, u64, String, String, String)>,
    checks: Vec<CheckRow>,
}

/// The action of step `n` of S1E's portal process, from the catalog.
fn step_action(st: &AppState, n: u32, lang: Lang) -> String {
    st.engine
        .catalog
        .service(orn::SERVICE)
        .and_then(|s| s.versions.iter().max_by_key(|v| v.effective_from))
        .and_then(|v| v.process_for(Channel::Portal))
        .and_then(|p| p.step(n))
        .map(|s| s.action.get(lang).to_string())
        .unwrap_or_default()
}

/// The counters of every region, each named with its region ("Город Астана · ЦОН №1"):
/// `home` (the counters of the applicant's region) first, then the others by region.
async fn counters_of_every_region(
    st: &AppState,
    lang: drn_core::Lang,
    home: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let Ok(units) = st.engine.units().await else {
        return home;
    };
    let tr = Tr { lang };
    let region_name = |code: &Option<String>| {
        units
            .iter()
            .find(|u| u.kind == drn_engine::UnitKind::Region && &u.region_code == code)
            .map(|u| tr.text(&u.name).to_string())
            .unwrap_or_default()
    };
    let mut rest: Vec<(String, String, String)> = units
        .iter()
        .filter(|u| u.kind == drn_engine::UnitKind::Counter)
        .map(|u| {
            (
                region_name(&u.region_code),
                u.id.to_string(),
                tr.text(&u.name).to_string(),
            )
        })
        .collect();
    rest.sort();
    let label = |region: &str, name: &str| {
        if region.is_empty() {
            name.to_string()
        } else {
            format!("{region} · {name}")
        }
    };
    let mut out: Vec<(String, String)> = rest
        .iter()
        .filter(|(_, id, _)| home.iter().any(|(h, _)| h == id))
        .map(|(r, id, n)| (id.clone(), label(r, n)))
        .collect();
    out.extend(
        rest.iter()
            .filter(|(_, id, _)| !home.iter().any(|(h, _)| h == id))
            .map(|(r, id, n)| (id.clone(), label(r, n))),
    );
    out
}

/// The step of S1E that checks the attached photo (seed 001 п. 3 step 10).
const PHOTO_STEP: u32 = 10;

/// A renewal's status: each step with its result, the duty and the payment, the reason.
pub async fn status(
    State(st): State<AppState>,
    page: Result<Ctx, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let ctx = match citizen(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let path = format!("{HOME}/{id}");
    let nav = Nav::for_ctx(&ctx, &path);
    let lang = ctx.lang;
    let tr = Tr { lang };
    let r = match st.engine.renewal(&ctx.actor, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(nav, lang, e, HOME),
    };
    let unit = st
        .engine
        .units()
        .await
        .ok()
        .and_then(|us| us.into_iter().find(|u| u.id == r.unit))
        .map(|u| format!("{} · {}", u.id, tr.text(&u.name)))
        .unwrap_or_else(|| r.unit.to_string());
    let checks = r
        .checks
        .iter()
        .map(|c| CheckRow {
            step: c.step,
            action: step_action(&st, c.step, lang),
            outcome: i18n::label(
                lang,
                "orn_",
                match c.outcome {
                    CheckOutcome::Passed => "passed",
                    CheckOutcome::Failed => "failed",
                    CheckOutcome::Technical => "technical",
                },
            ),
            passed: c.outcome == CheckOutcome::Passed,
            // The check's detail (the state systems' answers as JSON, keys and ids) is the
            // officer's, on the review card and in the API; the citizen reads the reason.
            at: kz(c.at),
        })
        .collect();
    let page = StatusPage {
        tr,
        id: r.id.clone(),
        code: r.status.code(),
        status: status_label(lang, r.status),
        step: r.step,
        reason: r
            .reason
            .as_ref()
            .map(|t| tr.text(t).to_string())
            .unwrap_or_default(),
        to_counter: matches!(r.status, RenewalStatus::ToCounter | RenewalStatus::Refused),
        // Seed 001 п. 3 step 10: a photo that fails the requirements ends this application,
        // but nothing stops a new one online at once with another photo (issue 29).
        photo_again: matches!(r.status, RenewalStatus::ToCounter | RenewalStatus::Refused)
            && r.checks
                .iter()
                .any(|c| c.step == PHOTO_STEP && c.outcome == CheckOutcome::Failed),
        retry: r.status == RenewalStatus::Retry,
        pay: r.status == RenewalStatus::AwaitingPayment,
        demo: st.config.demo,
        talon: r.talon.clone().unwrap_or_default(),
        unit,
        duty: r.duty.as_ref().map(|d| {
            (
                d.year,
                d.mrp,
                d.amount_tenge,
                i18n::label(lang, "orn_duty_", &d.status),
                d.invoice.clone().unwrap_or_default(),
                d.exempt_by.clone().unwrap_or_default(),
            )
        }),
        checks,
        nav,
    };
    render(&page, lang)
}

/// Pays the duty (in the demo at the sandbox's bank) or confirms the payment, or retries
/// the step that failed technically; back to the status.
pub async fn act(
    State(st): State<AppState>,
    page: Result<Ctx, ApiError>,
    Path((id, action)): Path<(String, String)>,
) -> Response {
    let ctx = match citizen(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let path = format!("{HOME}/{id}");
    let nav = Nav::for_ctx(&ctx, &path);
    let lang = ctx.lang;
    let e = &st.engine;
    let done = match action.as_str() {
        "pay" if st.config.demo => e.renewal_pay_in_sandbox(&ctx.actor, &id).await,
        "pay" => e.renewal_confirm_payment(&ctx.actor, &id).await,
        "retry" => e.renewal_retry(&ctx.actor, &id).await,
        _ => return error_page(nav, lang, ApiError::not_found(lang), &path),
    };
    match done {
        Ok(_) => Redirect::to(&path).into_response(),
        Err(x) => error_page(nav, lang, x, &path),
    }
}

/// The review part of an S1E application's card for the regional officer (step 17).
pub struct OnlineReview {
    pub revision: i64,
    /// The officer may decide now.
    pub can_review: bool,
    /// The approval is certified with the officer's own ЭЦП (issue 33).
    pub certify: bool,
    /// The applicant as ГБД ФЛ gave them at step 2: full name, birth date (dd.mm.yyyy), IIN.
    pub name: String,
    pub birth: String,
    pub iin: String,
    pub photo: String,
    /// The photo of the current document from ГБД ФЛ (a `data:` URI), when it has one.
    pub on_record: Option<String>,
    /// Why there is no photo on record to show, in the page's language ("" when there is).
    pub no_photo: &'static str,
    pub signature: String,
    pub renewal_status: String,
    pub grounds: Vec<(&'static str, &'static str)>,
}

fn data_uri(b64: &str) -> String {
    let mime = if b64.starts_with("iVBOR") {
        "image/png"
    } else {
        "image/jpeg"
    };
    format!("data:{mime};base64,{b64}")
}

/// What the card shows of an online renewal to the regional officer: the applicant's name
/// and birth date as ГБД ФЛ gave them, the attached photo beside the photo of the current
/// document from ГБД ФЛ (or why there is none), the signature sample, and the review's form
/// while the application is at step 17 (issue 29).
pub async fn card_review(
    st: &AppState,
    ctx: &Ctx,
    a: &drn_engine::Application,
) -> Option<OnlineReview> {
    if a.service != orn::SERVICE || ctx.actor.role != Role::RegionalOfficer {
        return None;
    }
    let r = st
        .engine
        .renewal_of_application(&ctx.actor, &a.id)
        .await
        .ok()??;
    let m = st
        .engine
        .renewal_review_material(&ctx.actor, &r.id)
        .await
        .ok()?;
    let name = [&m.surname, &m.given_name, &m.patronymic]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    let (on_record, no_photo) = match &m.on_record {
        PhotoOnRecord::Found { mime, base64 } => (Some(format!("data:{mime};base64,{base64}")), ""),
        PhotoOnRecord::Missing => (None, i18n::t(ctx.lang, "online_no_photo_on_record")),
        PhotoOnRecord::Unavailable => (None, i18n::t(ctx.lang, "online_photo_unavailable")),
    };
    Some(OnlineReview {
        revision: a.revision,
        can_review: a.status == Status::InProgress
            && drn_engine::online_renewal::awaits_review(a)
            && ctx.actor.unit.as_ref() == Some(&a.holder_unit),
        certify: st.config.signatures.required
            && crate::documents::signing::signs_personally(&ctx.actor),
        name,
        birth: m
            .birth_date
            .map(|d| d.strftime("%d.%m.%Y").to_string())
            .unwrap_or_default(),
        iin: m.iin.to_string(),
        photo: data_uri(&m.photo),
        on_record,
        no_photo,
        signature: data_uri(&m.signature),
        renewal_status: status_label(ctx.lang, r.status),
        grounds: vec![
            (
                "photo_or_signature",
                i18n::t(ctx.lang, "online_ground_photo_or_signature"),
            ),
            (
                "further_checks",
                i18n::t(ctx.lang, "online_ground_further_checks"),
            ),
        ],
    })
}

#[derive(Deserialize)]
pub struct ReviewForm {
    decision: String,
    revision: i64,
    ground: Option<String>,
    reason: Option<String>,
    /// `prepare`: answer what the officer signs (the page's first call).
    certify: Option<String>,
    /// The officer's signature of the approval (issue 33).
    signature: Option<String>,
}

/// The regional officer's decision at step 17: approve to production, or annul with a
/// reason (a paid duty is refunded).
pub async fn review(
    State(st): State<AppState>,
    page: Result<Ctx, ApiError>,
    Path(id): Path<String>,
    Form(f): Form<ReviewForm>,
) -> Response {
    let ctx = match page {
        Ok(c) if c.actor.role != Role::Citizen => c,
        _ => return to_login(false),
    };
    let back = format!("/ws/applications/{id}");
    let nav = Nav::for_ctx(&ctx, &back);
    let lang = ctx.lang;
    let app = match ApplicationId::parse(&id) {
        Ok(a) => a,
        Err(e) => return error_page(nav, lang, e, "/ws"),
    };
    let r = match f.decision.as_str() {
        "approve" => Review::Approve {
            revision: f.revision,
        },
        "annul" => Review::Annul {
            revision: f.revision,
            ground: match f.ground.as_deref() {
                Some("further_checks") => AnnulGround::FurtherChecks,
                _ => AnnulGround::PhotoOrSignature,
            },
            reason: f.reason.unwrap_or_default().trim().to_string(),
        },
        _ => {
            return error_page(
                nav,
                lang,
                ApiError::bad_input(lang, Some("decision"), "approve or annul"),
                &back,
            )
        }
    };
    // Seed 001 п. 3.17: the regional officer certifies the request with their ЭЦП and sends
    // it to production: the page signs the approval through NCALayer (issue 33).
    let mut certified = None;
    if matches!(r, Review::Approve { .. })
        && st.config.signatures.required
        && signing::signs_personally(&ctx.actor)
    {
        let number = match st
            .engine
            .application(&ctx.actor, &app, "ws:online-review")
            .await
        {
            Ok(a) => a.number,
            Err(e) => return error_page(nav, lang, e, &back),
        };
        let bytes = signing::approval_bytes(&app, &number, f.revision);
        if f.certify.as_deref() == Some("prepare") {
            let iin = match st.engine.officer_on_record(&ctx.actor.id).await {
                Ok(Some(o)) => o.iin.map(|i| i.to_string()).unwrap_or_default(),
                Ok(None) => String::new(),
                Err(e) => return ApiError::from(e).into_response(),
            };
            return axum::Json(signing::prepared_json(&st, &bytes, &iin)).into_response();
        }
        let subject = format!("application:{app}");
        match signing::certify_statement(
            &st,
            &ctx.actor,
            lang,
            &bytes,
            f.signature.as_deref().unwrap_or_default(),
            &subject,
        )
        .await
        {
            Ok(v) => certified = Some(v),
            Err(e) => return error_page(nav, lang, e, &back),
        }
    }
    match st
        .engine
        .renewal_review_certified(&ctx.actor, &app, &r, certified.as_ref())
        .await
    {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) => error_page(nav, lang, e, &back),
    }
}
