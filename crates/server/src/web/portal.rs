//! The citizen portal: sign-in with password and one-time code, my applications with
//! status and expected date, applying for the services open to the portal, my documents,
//! and who read my data.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use drn_core::{Channel, Iin, Lang, Urgency};
use drn_engine::commands::Accept;
use drn_engine::{Command, Outcome, Role, UnitKind};
use serde::Deserialize;

use super::{error_page, kz, redirect_with_cookie, render, to_login, Nav, Tr};
use crate::auth::{self, Ctx, LangOf};
use crate::error::ApiError;
use crate::AppState;

#[derive(Template)]
#[template(path = "portal_login.html")]
struct PortalLogin {
    tr: Tr,
    nav: Nav,
    error: Option<String>,
    challenge: Option<String>,
    phone: String,
}

fn login_page(
    lang: Lang,
    error: Option<String>,
    challenge: Option<String>,
    phone: String,
) -> Response {
    render(
        &PortalLogin {
            tr: Tr { lang },
            nav: Nav::anonymous("/portal/login"),
            error,
            challenge,
            phone,
        },
        lang,
    )
}

pub async fn login_form(LangOf(lang): LangOf) -> Response {
    login_page(lang, None, None, String::new())
}

#[derive(Deserialize)]
pub struct First {
    iin: String,
    password: String,
}

pub async fn login_submit(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    addr: auth::ClientAddr,
    Form(f): Form<First>,
) -> Response {
    match crate::api::citizen_first_factor(&st, lang, addr, &f.iin, &f.password).await {
        Ok(c) => login_page(lang, None, Some(c.challenge), c.phone),
        Err(e) => (
            e.status(),
            login_page(lang, Some(e.message(lang)), None, String::new()),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub struct Second {
    challenge: String,
    code: String,
}

pub async fn verify_submit(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    addr: auth::ClientAddr,
    Form(f): Form<Second>,
) -> Response {
    match crate::api::citizen_second_factor(&st, lang, addr, &f.challenge, &f.code).await {
        Ok((token, _, _)) => redirect_with_cookie(
            "/portal",
            auth::session_cookie(&token, st.config.secure_cookies),
        ),
        Err(e) => (
            e.status(),
            login_page(
                lang,
                Some(e.message(lang)),
                Some(f.challenge),
                String::new(),
            ),
        )
            .into_response(),
    }
}

// A redirect to the sign-in page; boxing it would only move the cost to every caller.
#[allow(clippy::result_large_err)]
pub(super) fn citizen(page: Result<Ctx, ApiError>) -> Result<Ctx, Response> {
    match page {
        Ok(c) if c.actor.role == Role::Citizen => Ok(c),
        _ => Err(to_login(true)),
    }
}

pub struct Row {
    /// The application's id: its number links to its own page (status, talon, documents).
    pub id: String,
    pub number: String,
    pub service: String,
    pub status: String,
    pub step: u32,
    pub expected: String,
}

#[derive(Template)]
#[template(path = "portal_home.html")]
struct Home {
    tr: Tr,
    nav: Nav,
    rows: Vec<Row>,
}

pub async fn home(State(st): State<AppState>, page: Result<Ctx, ApiError>) -> Response {
    let ctx = match citizen(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let nav = Nav::for_ctx(&ctx, "/portal");
    let Some(iin) = ctx.actor.iin else {
        return to_login(true);
    };
    let apps = match st.engine.applications_of(&ctx.actor, &iin).await {
        Ok(a) => a,
        Err(e) => return error_page(nav, ctx.lang, e, "/portal"),
    };
    let rows = apps
        .into_iter()
        .map(|a| Row {
            service: st
                .engine
                .catalog
                .service(&a.service)
                .map(|s| s.name.get(ctx.lang).to_string())
                .unwrap_or_else(|| a.service.clone()),
            id: a.id.to_string(),
            number: a.number,
            status: super::i18n::label(ctx.lang, "st_", a.status.code()),
            step: a.step,
            expected: a.due_at.map(kz).unwrap_or_default(),
        })
        .collect();
    render(
        &Home {
            tr: Tr { lang: ctx.lang },
            nav,
            rows,
        },
        ctx.lang,
    )
}

#[derive(Template)]
#[template(path = "portal_reads.html")]
struct Reads {
    tr: Tr,
    nav: Nav,
    rows: Vec<(String, String, String)>,
}

pub async fn reads(State(st): State<AppState>, page: Result<Ctx, ApiError>) -> Response {
    let ctx = match citizen(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let nav = Nav::for_ctx(&ctx, "/portal/reads");
    let Some(iin) = ctx.actor.iin else {
        return to_login(true);
    };
    let records = match st
        .engine
        .audit_log(Some(&format!("person:{iin}")), 500)
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(nav, ctx.lang, e, "/portal"),
    };
    let rows = records
        .into_iter()
        .filter(|r| r.action.starts_with("read_"))
        .map(|r| {
            // Who read, as the citizen reads it: they themself, the system, or the
            // officer's account name (an identifier).
            let who = if r.actor == format!("citizen:{iin}") {
                super::i18n::t(ctx.lang, "by_you").to_string()
            } else if r.actor == "system" || r.actor.starts_with("system:") {
                super::i18n::t(ctx.lang, "by_system").to_string()
            } else {
                r.actor
                    .strip_prefix("staff:")
                    .unwrap_or(&r.actor)
                    .to_string()
            };
            (
                kz(r.at),
                who,
                super::i18n::label(ctx.lang, "au_", &r.action),
            )
        })
        .collect();
    render(
        &Reads {
            tr: Tr { lang: ctx.lang },
            nav,
            rows,
        },
        ctx.lang,
    )
}

pub struct DocumentRow {
    pub number: String,
    pub kind: String,
    pub date: String,
}

#[derive(Template)]
#[template(path = "portal_documents.html")]
struct Documents {
    tr: Tr,
    nav: Nav,
    rows: Vec<DocumentRow>,
    docs: Vec<crate::documents::DocLink>,
}

/// My documents: what DRN issued to me.
pub async fn documents(State(st): State<AppState>, page: Result<Ctx, ApiError>) -> Response {
    let ctx = match citizen(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let nav = Nav::for_ctx(&ctx, "/portal/documents");
    let Some(iin) = ctx.actor.iin else {
        return to_login(true);
    };
    let docs = match st.engine.documents_of(&ctx.actor, &iin).await {
        Ok(d) => d,
        Err(e) => return error_page(nav, ctx.lang, e, "/portal"),
    };
    let rows = docs
        .into_iter()
        .map(|d| DocumentRow {
            kind: st
                .engine
                .catalog
                .service(&d.kind)
                .map(|s| format!("{} · {}", d.kind, s.name.get(ctx.lang)))
                .unwrap_or_else(|| d.kind.clone()),
            number: d.number,
            date: kz(d.issued_at),
        })
        .collect();
    // The signed PDFs of the citizen's applications (talons, receipts, results).
    let docs = match st.engine.documents_of_person(&iin.to_string()).await {
        Ok(ds) => ds
            .iter()
            .map(|d| crate::documents::DocLink::of(d, ctx.lang))
            .collect(),
        Err(e) => return error_page(nav, ctx.lang, e, "/portal"),
    };
    render(
        &Documents {
            tr: Tr { lang: ctx.lang },
            nav,
            rows,
            docs,
        },
        ctx.lang,
    )
}

#[derive(Template)]
#[template(path = "portal_apply.html")]
struct Apply {
    tr: Tr,
    nav: Nav,
    services: Vec<super::pages::ServiceOption>,
    counters: Vec<(String, String)>,
    /// The forms' one-time idempotency key (a form sent twice applies once).
    idem: String,
    /// The form that came back refused, with what was typed (issue 29).
    error: Option<super::pages::FormError>,
    /// The online ID-card renewal (S1E) is in force today: the page points to it, which
    /// has a page of its own (in 2025 the apply page had nothing else to offer).
    renewal_open: bool,
    /// The first day an end of a stay may fall on (S8's `until`: a day after the day of
    /// application, as the engine checks it), for the date field's `min`.
    tomorrow: String,
    /// The address register's search in the S3 form: no citizen knows their flat's
    /// 16-digit code (РКА), so they find the address and choose it.
    addr: AddressSearch,
}

/// A search of the address register on the apply page, and the code chosen from it.
#[derive(Default)]
struct AddressSearch {
    q: String,
    found: Vec<super::services::AddressRow>,
    error: Option<String>,
    /// The code chosen (16 digits), which the S3 form carries.
    picked: String,
}

/// The apply page's query: a search of the address register and the code chosen.
#[derive(Deserialize, Default)]
pub struct ApplyQuery {
    addr_q: Option<String>,
    rka: Option<String>,
}

/// The names of the portal form's fields (`d.` for the service's own data).
const APPLY_FIELDS: &[&str] = &[
    "unit",
    "urgency",
    "d.kind",
    "d.rka",
    "d.until",
    "d.foreigner.surname",
    "d.foreigner.given_name",
    "d.foreigner.birth_date",
    "d.foreigner.sex",
    "d.foreigner.citizenship",
    "d.foreigner.passport",
];

impl Apply {
    /// What was typed into `name` of `service`'s form when it came back refused.
    fn typed(&self, service: &str, name: &str) -> String {
        super::pages::FormError::typed(self.error.as_ref(), Some(service), name)
            .unwrap_or_default()
            .to_string()
    }

    /// Whether a box of `service`'s form was ticked when it came back refused (all are
    /// ticked on a fresh form).
    fn ticked(&self, service: &str, name: &str, value: &str) -> bool {
        match self.error.as_ref().filter(|e| e.service == service) {
            Some(e) => e.typed.iter().any(|(n, v)| n == name && v == value),
            None => true,
        }
    }

    /// The refusal beside `name` of `service`'s form, when that field is at fault.
    fn error_at(&self, service: &str, name: &str) -> Option<&str> {
        let e = self.error.as_ref().filter(|e| e.service == service);
        super::pages::FormError::at(e, name)
    }

    /// The refusal of `service`'s form that is of no one field: at the form's top.
    fn error_top(&self, service: &str) -> Option<&str> {
        let e = self.error.as_ref().filter(|e| e.service == service);
        super::pages::FormError::top(e, APPLY_FIELDS)
    }
}

/// The form field an error names: the engine's `data.x` is the form's `d.x`.
fn form_field(field: Option<&str>) -> String {
    match field {
        Some("data.unit") | Some("unit") => "unit".into(),
        Some(f) => match f.strip_prefix("data.") {
            Some(rest) => format!("d.{rest}"),
            None => f.to_string(),
        },
        None => String::new(),
    }
}

/// The counters where a citizen may collect a result: those of the region they are
/// registered in (all counters when the registration names no region); with `at_home`,
/// those of the district they are registered in, where an act in force gives its service
/// at the place of registration (the catalog's `provided_at`: S1, S2, S4 of 2014), so the
/// form offers no counter the intake would refuse.
pub(super) async fn counters_for(
    st: &AppState,
    ctx: &Ctx,
    iin: &Iin,
    at_home: bool,
) -> Result<Vec<(String, String)>, ApiError> {
    let person = st.engine.person(&ctx.actor, iin, "portal:apply").await?;
    let region = person
        .data
        .pointer("/registration/region")
        .and_then(|v| v.as_str())
        .map(String::from);
    let district = person
        .data
        .pointer("/registration/district")
        .and_then(|v| v.as_str())
        .filter(|_| at_home)
        .map(String::from);
    let units = st.engine.units().await?;
    let tr = Tr { lang: ctx.lang };
    let of_kind = |u: &&drn_engine::Unit| u.kind == UnitKind::Counter;
    let mut out: Vec<(String, String)> = units
        .iter()
        .filter(of_kind)
        .filter(|u| region.is_none() || u.region_code == region)
        .filter(|u| {
            district.is_none() || u.parent.as_ref().map(|p| p.as_str()) == district.as_deref()
        })
        .map(|u| (u.id.to_string(), tr.text(&u.name).to_string()))
        .collect();
    if out.is_empty() {
        out = units
            .iter()
            .filter(of_kind)
            .map(|u| (u.id.to_string(), tr.text(&u.name).to_string()))
            .collect();
    }
    Ok(out)
}

/// Apply: the services the catalog opens to the portal today.
pub async fn apply_form(
    State(st): State<AppState>,
    page: Result<Ctx, ApiError>,
    axum::extract::Query(q): axum::extract::Query<ApplyQuery>,
) -> Response {
    let ctx = match citizen(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let addr_q = q.addr_q.unwrap_or_default().trim().to_string();
    let (found, error) = match super::services::search_addresses(&st, &ctx, &addr_q).await {
        // Only what S3 registers at: a building or a premise (a settlement or a street
        // chosen would be refused as not a dwelling).
        Ok(v) => (
            v.into_iter()
                .filter(|a| matches!(a.kind.as_str(), "building" | "premise"))
                .collect(),
            None,
        ),
        Err(m) => (vec![], Some(m)),
    };
    let addr = AddressSearch {
        q: addr_q,
        found,
        error,
        picked: super::services::rka_picked(q.rka),
    };
    apply_page(&st, &ctx, None, addr).await
}

/// The apply page; with a refused form's error and what was typed, answered with the
/// refusal's status (422, 409, 403).
async fn apply_page(
    st: &AppState,
    ctx: &Ctx,
    error: Option<super::pages::FormError>,
    addr: AddressSearch,
) -> Response {
    let nav = Nav::for_ctx(ctx, "/portal/apply");
    let Some(iin) = ctx.actor.iin else {
        return to_login(true);
    };
    let services = super::pages::services_open(st, Channel::Portal, ctx.lang);
    let today = st.engine.now().to_zoned(st.engine.tz.clone()).date();
    let counters = if services.is_empty() {
        Vec::new()
    } else {
        let at_home = services.iter().any(|s| {
            st.engine
                .catalog
                .service(&s.code)
                .and_then(|svc| svc.version_on(today))
                .is_some_and(|v| v.provided_at.is_some())
        });
        match counters_for(st, ctx, &iin, at_home).await {
            Ok(c) => c,
            Err(e) => return error_page(nav, ctx.lang, e, "/portal"),
        }
    };
    let status = error.as_ref().map(|e| e.status);
    let page = render(
        &Apply {
            tr: Tr { lang: ctx.lang },
            nav,
            services,
            counters,
            idem: format!("portal-apply-{}", auth::random_token()),
            error,
            renewal_open: st
                .engine
                .catalog
                .service(drn_engine::online_renewal::SERVICE)
                .and_then(|s| s.version_on(today))
                .is_some(),
            tomorrow: today.tomorrow().map(|d| d.to_string()).unwrap_or_default(),
            addr,
        },
        ctx.lang,
    );
    match status {
        Some(s) => (s, page).into_response(),
        None => page,
    }
}

#[derive(Template)]
#[template(path = "portal_applied.html")]
struct Applied {
    tr: Tr,
    nav: Nav,
    title: String,
    refused: bool,
    number: String,
    service: String,
    unit: String,
    at: String,
    /// Where the application stands now (the page is where "my applications" lead).
    status: String,
    expected: String,
    missing: Vec<String>,
    docs: Vec<crate::documents::DocLink>,
}

async fn unit_name(st: &AppState, id: &drn_engine::UnitId, lang: Lang) -> String {
    st.engine
        .units()
        .await
        .ok()
        .and_then(|us| us.into_iter().find(|u| &u.id == id))
        .map(|u| format!("{} · {}", u.id, u.name.get(lang)))
        .unwrap_or_else(|| id.to_string())
}

/// The S1 portal form's statement of the only reason the 2014 portal takes (seed 002
/// para 6); unticked, the engine refuses the request with the rule.
pub(crate) fn s1_portal_reason() -> &'static drn_core::Text {
    static T: std::sync::LazyLock<drn_core::Text> = std::sync::LazyLock::new(|| {
        drn_core::Text::new(
            "Жеке басын куәландыратын құжатты құжат дайындаудың жаңа технологиясына сәйкес оның түрінің өзгеруіне байланысты ауыстыру (порталдың қабылдайтын жалғыз себебі)",
            "Замена документа, удостоверяющего личность, в связи с изменением его вида в соответствии с новой технологией изготовления документов (единственная причина, принимаемая порталом)",
            "Replacement of the identity document because its type changed with the new technology of making documents (the only reason the portal takes)",
        )
    });
    &T
}

/// Submits an application through the portal as the citizen; `doc` repeats, so the body
/// is read as pairs. Post/Redirect/Get: the talon (or the receipt) is a page of its own
/// ([`applied`]), and the form's one-time key makes a repeated post answer the first
/// application. A refusal comes back on the form, beside the field at fault, with what
/// was typed (issue 29).
pub async fn apply_submit(
    State(st): State<AppState>,
    page: Result<Ctx, ApiError>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let ctx = match citizen(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let Some(iin) = ctx.actor.iin else {
        return to_login(true);
    };
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let back = |e: ApiError| {
        let error = super::pages::FormError {
            status: e.status(),
            service: field("service"),
            field: form_field(e.field()),
            message: e.message(lang),
            typed: pairs
                .iter()
                .filter(|(n, _)| APPLY_FIELDS.contains(&n.as_str()) || n == "doc" || n == "reason")
                .map(|(n, v)| (n.clone(), v.chars().take(300).collect()))
                .collect(),
        };
        let (st, ctx) = (st.clone(), ctx.clone());
        async move { apply_page(&st, &ctx, Some(error), AddressSearch::default()).await }
    };
    let urgency = match Urgency::parse(&field("urgency")) {
        Ok(u) => u,
        Err(e) => {
            return back(ApiError::invalid_value(
                lang,
                Some("urgency"),
                &e.to_string(),
            ))
            .await;
        }
    };
    let unit = field("unit");
    // Only a counter the form offered: one of the citizen's region.
    match counters_for(&st, &ctx, &iin, false).await {
        Ok(cs) if cs.iter().any(|(id, _)| *id == unit) => {}
        Ok(_) => {
            return back(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                super::i18n::t(lang, "portal_choose_unit"),
                Some("unit"),
            ))
            .await
        }
        Err(e) => return back(e).await,
    }
    let cmd = Command::Accept(Accept {
        process: None,
        service: field("service"),
        channel: Channel::Portal,
        urgency,
        applicant: iin,
        documents_presented: pairs
            .iter()
            .filter(|(n, _)| n == "doc")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        missing: vec![],
        // The service's own fields (S3's address, S8's foreigner and the last day of the
        // stay) and the chosen unit.
        data: {
            let mut data = super::pages::form_data(&pairs);
            data["unit"] = serde_json::json!(unit);
            // S1 of 2014: the reason the portal takes (seed 002 para 6), when the form
            // asked for it.
            let reason = field("reason");
            if !reason.is_empty() {
                data["reason"] = serde_json::json!(reason);
            }
            data
        },
    });
    let idem = field("idem");
    let key = Some(idem.as_str()).filter(|k| !k.is_empty() && k.len() <= 200);
    match st.execute(&ctx.actor, &cmd, key).await {
        Ok(
            Outcome::Accepted { application: a } | Outcome::IntakeRefused { application: a, .. },
        ) => Redirect::to(&format!("/portal/applications/{}", a.id)).into_response(),
        Ok(_) => back(ApiError::internal()).await,
        Err(e) => back(ApiError::from(e)).await,
    }
}

/// The talon of an application made through the portal (or the receipt of its refused
/// intake), as a page of its own: where the form's post leads (Post/Redirect/Get).
pub async fn applied(
    State(st): State<AppState>,
    page: Result<Ctx, ApiError>,
    Path(id): Path<String>,
) -> Response {
    let ctx = match citizen(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let a = match drn_engine::ApplicationId::parse(&id) {
        Ok(id) => match st
            .engine
            .application(&ctx.actor, &id, "portal:applied")
            .await
        {
            Ok(a) => a,
            Err(e) => return error_page(Nav::for_ctx(&ctx, "/portal"), lang, e, "/portal"),
        },
        Err(e) => return error_page(Nav::for_ctx(&ctx, "/portal"), lang, e, "/portal"),
    };
    // The language switch comes back to this page (it led to the list).
    let nav = Nav::for_ctx(&ctx, &format!("/portal/applications/{}", a.id));
    let events = st
        .engine
        .timeline(&ctx.actor, &a.id)
        .await
        .unwrap_or_default();
    let receipt = events
        .iter()
        .find(|e| e.kind == drn_engine::EventKind::IntakeRefused)
        .and_then(|e| e.data["receipt"].as_str().map(String::from));
    let service = st
        .engine
        .catalog
        .service(&a.service)
        .map(|s| format!("{} · {}", a.service, s.name.get(lang)))
        .unwrap_or_else(|| a.service.clone());
    render(
        &Applied {
            docs: crate::documents::links(&st, &a, lang).await,
            tr: Tr { lang },
            title: super::i18n::t(
                lang,
                receipt.as_ref().map_or("applied", |_| "intake_refused"),
            )
            .to_string(),
            refused: receipt.is_some(),
            number: receipt.unwrap_or_else(|| a.number.clone()),
            service,
            unit: unit_name(&st, &a.accepted_unit, lang).await,
            at: kz(a.accepted_at),
            status: super::i18n::label(lang, "st_", a.status.code()),
            expected: if a.status == drn_engine::Status::InProgress {
                a.due_at.map(kz).unwrap_or_default()
            } else {
                String::new()
            },
            missing: a.data["missing"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            nav,
        },
        lang,
    )
}
