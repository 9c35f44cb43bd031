//! Staff pages: sign-in, the counter's and the officers' workstation, the application
//! card, registries.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use drn_core::catalog::{BranchKind, StepHook};
use drn_core::{Channel, Iin, Lang, Urgency};
use drn_engine::commands::{Accept, Representative};
use drn_engine::{
    ApplicationId, Command, EventKind, Outcome, RegistryId, Role, Status, UnitId, UnitKind,
};
use serde::Deserialize;

use super::{error_page, i18n, kz, redirect_with_cookie, render, to_login, Nav, Tr};
use crate::auth::{self, Ctx, LangOf};
use crate::documents::signing;
use crate::error::ApiError;
use crate::AppState;

type Page = Result<Ctx, ApiError>;

const STAFF_ACTING: &[Role] = &[
    Role::CounterOperator,
    Role::DistrictOfficer,
    Role::RegionalOfficer,
    Role::CentralOfficer,
    Role::ProductionOperator,
];

// A redirect to the sign-in page; boxing it would only move the cost to every caller.
#[allow(clippy::result_large_err)]
fn signed_in(page: Page) -> Result<Ctx, Response> {
    match page {
        Ok(ctx) if ctx.actor.role != Role::Citizen => Ok(ctx),
        _ => Err(to_login(false)),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    nav: Nav,
    error: Option<String>,
}

pub async fn root(page: Page) -> Response {
    match page {
        Ok(ctx) if ctx.actor.role == Role::Citizen => Redirect::to("/portal").into_response(),
        Ok(ctx) => Redirect::to(home_of(ctx.actor.role)).into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

/// An address no route answers: a page in the visitor's language with a way back to their
/// home (not the browser's own English error page); the API keeps its JSON error.
pub async fn not_found(uri: axum::http::Uri, LangOf(lang): LangOf, page: Page) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::not_found(lang).into_response();
    }
    let (nav, back) = match &page {
        Ok(ctx) => (Nav::for_ctx(ctx, uri.path()), home_of(ctx.actor.role)),
        Err(_) => (Nav::anonymous(uri.path()), "/"),
    };
    let e = ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        i18n::t(lang, "page_not_found"),
        None,
    );
    error_page(nav, lang, e, back)
}

fn home_of(role: Role) -> &'static str {
    match role {
        Role::Supervisor => "/ws/supervision",
        Role::Auditor => "/ws/audit",
        Role::Administrator => "/ws/admin",
        Role::Citizen => "/portal",
        _ => "/ws",
    }
}

pub async fn login_form(LangOf(lang): LangOf) -> Response {
    render(
        &LoginPage {
            tr: Tr { lang },
            nav: Nav::anonymous("/login"),
            error: None,
        },
        lang,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn login_submit(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    addr: auth::ClientAddr,
    Form(f): Form<LoginForm>,
) -> Response {
    match crate::api::staff_login(&st, lang, addr, &f.username, &f.password).await {
        Ok((token, _, actor)) => redirect_with_cookie(
            home_of(actor.role),
            auth::session_cookie(&token, st.config.secure_cookies),
        ),
        Err(e) => {
            let status = e.status();
            (
                status,
                render(
                    &LoginPage {
                        tr: Tr { lang },
                        nav: Nav::anonymous("/login"),
                        error: Some(e.message(lang)),
                    },
                    lang,
                ),
            )
                .into_response()
        }
    }
}

pub async fn logout(State(st): State<AppState>, page: Page) -> Response {
    let citizen = matches!(&page, Ok(c) if c.actor.role == Role::Citizen);
    if let Ok(ctx) = page {
        if let Some(h) = &ctx.session {
            let _ = auth::end_session(&st, h).await;
        }
        st.audit_event(&ctx.actor.id, "logout", &ctx.actor.id).await;
    }
    redirect_with_cookie(
        if citizen { "/portal/login" } else { "/login" },
        auth::clear_cookie(),
    )
}

#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// Switches the language (remembered in a cookie) and returns to the page.
pub async fn set_lang(
    State(st): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<Back>,
) -> Response {
    let code = match code.as_str() {
        "kk" | "ru" | "en" => code,
        _ => "ru".to_string(),
    };
    // Only a page of this site: never an open redirect (issue 31 item 3).
    let back = auth::local_path(q.back.as_deref());
    redirect_with_cookie(
        back,
        format!(
            "{}={code}; Path=/; SameSite=Strict; Max-Age=31536000{}",
            auth::LANG_COOKIE,
            if st.config.secure_cookies {
                "; Secure"
            } else {
                ""
            }
        ),
    )
}

/// A row of a queue.
pub struct QueueRow {
    pub id: String,
    pub number: String,
    /// "S1 · Выдача паспортов…": the code alone tells a new operator nothing.
    pub service: String,
    pub step: u32,
    pub step_action: String,
    pub applicant: String,
    pub due: String,
    pub overdue: bool,
    pub is_last: bool,
    pub by_registry: bool,
}

#[derive(Template)]
#[template(path = "ws_home.html")]
struct HomePage {
    tr: Tr,
    nav: Nav,
    unit_name: String,
    /// S9 is open on this desk's channel: the intake form of a foreigner without an IIN.
    foreigners: bool,
    /// The foreigner's intake form's one-time idempotency key (a form sent twice takes in once).
    idem: String,
    rows: Vec<QueueRow>,
    /// The district's and the counter's search by IIN (a person's page) and by a
    /// foreigner's passport (their applications): the way in to S6-S9 (issue 29).
    can_find: bool,
    passport: String,
    found: Option<Result<Vec<QueueRow>, String>>,
    /// The S9 form sent back with what is wrong (its field named as the form names it).
    error: Option<FormError>,
}

/// The S9 form's fields, as the form names them: an error of one of these is shown beside
/// it, any other at the top of the form.
const FOREIGNER_FIELDS: &[&str] = &[
    "surname",
    "given_name",
    "birth_date",
    "sex",
    "citizenship",
    "passport",
    "migration_card",
    "missing",
];

impl HomePage {
    /// What was typed into `name` when the S9 form came back with an error.
    fn typed(&self, name: &str) -> String {
        FormError::typed(self.error.as_ref(), None, name)
            .unwrap_or_default()
            .to_string()
    }

    /// The error to show beside field `name`, if it is the one at fault.
    fn error_at(&self, name: &str) -> Option<&str> {
        FormError::at(self.error.as_ref(), name)
    }

    /// The error to show at the top of the form: one of no field of it.
    fn error_top(&self) -> Option<&str> {
        FormError::top(self.error.as_ref(), FOREIGNER_FIELDS)
    }
}

#[derive(Deserialize)]
pub struct FindQuery {
    passport: Option<String>,
}

pub async fn workstation(
    State(st): State<AppState>,
    page: Page,
    Query(fq): Query<FindQuery>,
) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    home_page(&st, &ctx, fq.passport.unwrap_or_default(), None).await
}

/// The workstation's home, with the S9 form's error when it came back with one.
async fn home_page(
    st: &AppState,
    ctx: &Ctx,
    passport: String,
    error: Option<FormError>,
) -> Response {
    let nav = Nav::for_ctx(ctx, "/ws");
    if !STAFF_ACTING.contains(&ctx.actor.role) {
        return Redirect::to(home_of(ctx.actor.role)).into_response();
    }
    let Some(unit) = ctx.actor.unit.clone() else {
        return to_login(false);
    };
    let tr = Tr { lang: ctx.lang };
    let items = match st.engine.queue(&ctx.actor, &unit, 300).await {
        Ok(i) => i,
        Err(e) => return error_page(nav, ctx.lang, e, "/"),
    };
    let row = |a: drn_engine::Application, overdue: bool| {
        let applicant = applicant_label(&a);
        let step = st
            .engine
            .locate(&a.service, &a.version, &a.process)
            .ok()
            .map(|(_, p)| p);
        QueueRow {
            step_action: step
                .and_then(|p| p.step(a.step))
                .map(|s| tr.text(&s.action).to_string())
                .unwrap_or_default(),
            is_last: step.is_some_and(|p| p.gives_result_at(a.step)),
            by_registry: step.is_some_and(|p| p.handover_after(a.step).is_some()),
            id: a.id.to_string(),
            number: a.number,
            service: service_name(st, &a.service, ctx.lang),
            step: a.step,
            applicant,
            due: a.step_due_at.map(kz).unwrap_or_default(),
            overdue,
        }
    };
    let passport = passport.trim().to_string();
    let found = if passport.is_empty() {
        None
    } else {
        Some(
            match st
                .engine
                .applications_by_passport(&ctx.actor, &passport)
                .await
            {
                Ok(apps) => Ok(apps.into_iter().map(|a| row(a, false)).collect()),
                Err(e) => Err(ApiError::from(e).message(ctx.lang)),
            },
        )
    };
    let rows = items
        .into_iter()
        .map(|q| row(q.application, q.overdue))
        .collect();
    let unit_name = st
        .engine
        .units()
        .await
        .ok()
        .and_then(|us| us.into_iter().find(|u| u.id == unit))
        .map(|u| tr.text(&u.name).to_string())
        .unwrap_or_else(|| unit.to_string());
    let status = error
        .as_ref()
        .map_or(axum::http::StatusCode::OK, |e| e.status);
    let page = render(
        &HomePage {
            tr,
            nav,
            unit_name,
            foreigners: match ctx.actor.role {
                Role::CounterOperator => Some(Channel::Counter),
                Role::DistrictOfficer => Some(Channel::Unit),
                _ => None,
            }
            .is_some_and(|ch| {
                services_open(st, ch, ctx.lang)
                    .iter()
                    .any(|s| s.code == drn_engine::services::applied_for_without_iin())
            }),
            idem: format!("ws-foreigner-{}", auth::random_token()),
            rows,
            can_find: match ctx.actor.role {
                Role::CounterOperator | Role::DistrictOfficer => true,
                // Where an act in force gives the region a counter's intake.
                Role::RegionalOfficer => !staff_services(st, ctx).await.is_empty(),
                _ => false,
            },
            passport,
            found,
            error,
        },
        ctx.lang,
    );
    (status, page).into_response()
}

pub struct PersonView {
    pub iin: String,
    pub name: String,
    pub birth: String,
    pub registration: String,
    pub documents: Vec<String>,
}

pub struct ServiceOption {
    pub code: String,
    pub name: String,
    pub version: String,
    pub urgencies: Vec<(String, String)>,
    pub documents: Vec<String>,
    /// The channel the intake form sends.
    pub channel: &'static str,
    /// The State Corporation counters to take the application in at, where the intake is a
    /// migration unit officer's (S2 and S3 of 2018): the counters of the officer's unit.
    pub counters: Vec<(String, String)>,
    /// The catalog's processes of this channel whose intake is the actor's (id, name): a
    /// choice where the act describes the counter's work twice, as the basic process and
    /// as the electronic service through the State Corporation (annex 3 table 2).
    pub processes: Vec<(String, String)>,
    /// The officer certifies this intake's formulary with their own ЭЦП (issue 33).
    pub certify: bool,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    tr: Tr,
    nav: Nav,
    p: PersonView,
    services: Vec<ServiceOption>,
    /// The address search of the S3 and S5 forms: the query, its matches or its error.
    addr_q: String,
    addresses: Vec<super::services::AddressRow>,
    addr_error: Option<String>,
    /// The address chosen from the matches: its РКА fills the forms' code fields.
    picked: String,
    /// Whether S3 or S5 is offered here (the search is shown then).
    address_services: bool,
    /// The person's waiting and done counter tasks (the chip rewrite).
    tasks: Vec<super::services::TaskView>,
    can_rewrite: bool,
    /// A one-time idempotency key for this rendering of the accept forms (each form adds
    /// its service's code): sending the same form again is one intake, not two.
    idem: String,
    /// The intake form that came back with an error: its message and what was typed.
    error: Option<FormError>,
}

#[derive(Deserialize)]
pub struct IinQuery {
    iin: String,
    /// The address search field (a GET form: works without JavaScript).
    addr_q: Option<String>,
    /// The РКА chosen from the search's matches.
    rka: Option<String>,
}

/// The services a channel offers today, with their checklists.
pub fn services_open(st: &AppState, channel: Channel, lang: Lang) -> Vec<ServiceOption> {
    let tr = Tr { lang };
    let today = st.engine.now().to_zoned(st.engine.tz.clone()).date();
    st.engine
        .catalog
        .services
        .values()
        // The online renewal has its own pages (issue 6).
        .filter(|s| s.code != drn_engine::online_renewal::SERVICE)
        .filter_map(|s| {
            let v = s.version_on(today)?;
            v.process_for(channel)?;
            Some(ServiceOption {
                code: s.code.clone(),
                name: tr.text(&s.name).to_string(),
                version: format!(
                    "{} · № {} {}",
                    v.id,
                    v.act.number,
                    dmy(&v.act.date.0.to_string())
                ),
                urgencies: v
                    .urgencies
                    .iter()
                    .map(|u| (u.code().to_string(), super::i18n::urgency(lang, *u)))
                    .collect(),
                documents: v.documents.iter().map(|d| tr.text(d).to_string()).collect(),
                channel: channel.code(),
                counters: vec![],
                processes: v
                    .processes
                    .iter()
                    .filter(|p| p.channel == channel)
                    .map(|p| (p.id.clone(), tr.text(&p.name).to_string()))
                    .collect(),
                certify: false,
            })
        })
        .collect()
}

/// The services a counter operator or a district officer takes in today, each on its
/// channel: a counter's where the catalog gives its intake to the actor's role
/// ([`drn_core::catalog::Process::counter_intake`]): the operator's at their counter, or the
/// district officer's at a State Corporation counter of their unit, chosen on the form (S2
/// and S3 of 2018: «на рабочих местах в Государственной корпорации», seed 000 para 7);
/// else the district officer's at the unit's own intake.
async fn staff_services(st: &AppState, ctx: &Ctx) -> Vec<ServiceOption> {
    let today = st.engine.now().to_zoned(st.engine.tz.clone()).date();
    let role = ctx.actor.role;
    let counters: Vec<(String, String)> = match (&ctx.actor.unit, st.engine.units().await) {
        (Some(mine), Ok(units))
            if matches!(role, Role::DistrictOfficer | Role::RegionalOfficer) =>
        {
            // The counters of the officer's unit: a district's own, a region's through its
            // districts.
            let parent_of = |id: &UnitId| units.iter().find(|u| &u.id == id)?.parent.clone();
            units
                .iter()
                .filter(|u| u.kind == UnitKind::Counter)
                .filter(|u| {
                    u.parent.as_ref() == Some(mine)
                        || (role == Role::RegionalOfficer
                            && u.parent.as_ref().and_then(parent_of).as_ref() == Some(mine))
                })
                .map(|u| {
                    let name = Tr { lang: ctx.lang }.text(&u.name).to_string();
                    (u.id.to_string(), format!("{} · {name}", u.id))
                })
                .collect()
        }
        _ => vec![],
    };
    // The counter's processes of a service whose intake is this role's.
    let mine = |code: &str| -> Vec<String> {
        st.engine
            .catalog
            .service(code)
            .and_then(|s| s.version_on(today))
            .map(|v| {
                v.processes
                    .iter()
                    .filter(|p| p.channel == Channel::Counter)
                    .filter(|p| Role::for_step(p.counter_intake()) == role)
                    .map(|p| p.id.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out: Vec<ServiceOption> = services_open(st, Channel::Counter, ctx.lang)
        .into_iter()
        .filter_map(|mut s| {
            let ids = mine(&s.code);
            s.processes.retain(|(id, _)| ids.contains(id));
            if s.processes.is_empty() {
                return None;
            }
            if role != Role::CounterOperator {
                s.counters = counters.clone();
            }
            Some(s)
        })
        .collect();
    if role == Role::DistrictOfficer {
        for s in services_open(st, Channel::Unit, ctx.lang) {
            if !out.iter().any(|o| o.code == s.code) {
                out.push(s);
            }
        }
    }
    for s in &mut out {
        s.certify = signing::certifies_formulary(st, &ctx.actor, &s.code);
    }
    out
}

pub async fn person(State(st): State<AppState>, page: Page, Query(q): Query<IinQuery>) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    person_page(&st, &ctx, q, None).await
}

/// An intake form sent back with what is wrong: the service whose form it was, the field at
/// fault (the form's name, `d.rka`), the message, and what was typed (issue 29: the error
/// beside the form, the input kept).
pub struct FormError {
    pub status: axum::http::StatusCode,
    pub service: String,
    pub field: String,
    pub message: String,
    pub typed: Vec<(String, String)>,
}

impl FormError {
    /// What was typed into field `name` when the form came back refused; `service` names
    /// the form where a page has one per service (`None`: the page's only form).
    pub fn typed<'a>(
        error: Option<&'a FormError>,
        service: Option<&str>,
        name: &str,
    ) -> Option<&'a str> {
        error
            .filter(|e| service.is_none_or(|s| e.service == s))
            .and_then(|e| e.typed.iter().find(|(n, _)| n == name))
            .map(|(_, v)| v.as_str())
    }

    /// The refusal beside field `name`, when that field is at fault.
    pub fn at<'a>(error: Option<&'a FormError>, name: &str) -> Option<&'a str> {
        error
            .filter(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    /// The refusal of a form whose own fields are `fields` that is of none of them: shown
    /// at the form's top.
    pub fn top<'a>(error: Option<&'a FormError>, fields: &[&str]) -> Option<&'a str> {
        error
            .filter(|e| !fields.contains(&e.field.as_str()))
            .map(|e| e.message.as_str())
    }
}

impl PersonPage {
    /// What was typed into `name` of `service`'s form when it came back with an error.
    fn typed(&self, service: &str, name: &str) -> String {
        FormError::typed(self.error.as_ref(), Some(service), name)
            .unwrap_or_default()
            .to_string()
    }

    /// Whether `name` of `service`'s form is the field at fault.
    fn bad(&self, service: &str, name: &str) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.service == service && e.field == name)
    }

    /// The error of `service`'s form, if it came back with one.
    fn error_of(&self, service: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|e| e.service == service)
            .map(|e| e.message.as_str())
    }
}

/// The person page, with an intake form's error when it came back with one (422 then).
async fn person_page(st: &AppState, ctx: &Ctx, q: IinQuery, error: Option<FormError>) -> Response {
    let st = st.clone();
    let ctx = ctx.clone();
    let nav = Nav::for_ctx(&ctx, "/ws");
    // The regional officer takes in where the act gives the counter's intake to the region
    // (S1 of 2014 as the electronic service through the ЦОН, annex 3 table 2 row 1).
    if let Err(e) = ctx.require(&[
        Role::CounterOperator,
        Role::DistrictOfficer,
        Role::RegionalOfficer,
    ]) {
        return error_page(nav, ctx.lang, e, "/ws");
    }
    let iin = match Iin::parse(q.iin.trim()) {
        Ok(i) => i,
        Err(_) => {
            let typed: String = q.iin.trim().chars().take(20).collect();
            return error_page(
                nav,
                ctx.lang,
                ApiError::bad_iin(ctx.lang, "iin", &typed),
                "/ws",
            );
        }
    };
    let p = match st.engine.person(&ctx.actor, &iin, "ws:person").await {
        Ok(p) => p,
        Err(e) => return error_page(nav, ctx.lang, e, "/ws"),
    };
    let registration = p
        .data
        .pointer("/registration/address")
        .and_then(|v| v.as_str())
        .unwrap_or("—")
        .to_string();
    let documents = p
        .data
        .get("documents")
        .and_then(|d| d.as_array())
        .map(|ds| {
            ds.iter()
                .map(|d| {
                    format!(
                        "{} № {} · {} {}",
                        i18n::label(ctx.lang, "dk_", d["kind"].as_str().unwrap_or("")),
                        d["number"].as_str().unwrap_or(""),
                        i18n::t(ctx.lang, "expires"),
                        dmy(d["expires"].as_str().unwrap_or(""))
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let view = PersonView {
        iin: p.iin.to_string(),
        name: [
            p.surname.as_str(),
            p.given_name.as_str(),
            p.patronymic.as_deref().unwrap_or(""),
        ]
        .join(" ")
        .trim()
        .to_string(),
        birth: p.birth_date.strftime("%d.%m.%Y").to_string(),
        registration,
        documents,
    };
    // A person found by IIN has one: the IIN for foreigners (S9) is taken from a
    // foreigner's passport data on the workstation's home page, not offered here.
    let services: Vec<ServiceOption> = staff_services(&st, &ctx)
        .await
        .into_iter()
        .filter(|s| s.code != drn_engine::services::applied_for_without_iin())
        .collect();
    let addr_q = q.addr_q.unwrap_or_default().trim().to_string();
    let (addresses, addr_error) = match super::services::search_addresses(&st, &ctx, &addr_q).await
    {
        Ok(v) => (v, None),
        Err(m) => (vec![], Some(m)),
    };
    let tasks = super::services::tasks_of(&st, &ctx.actor, ctx.lang, &view.iin, None).await;
    let status = error
        .as_ref()
        .map_or(axum::http::StatusCode::OK, |e| e.status);
    let page = render(
        &PersonPage {
            error,
            tr: Tr { lang: ctx.lang },
            address_services: services
                .iter()
                .any(|s| drn_engine::services::uses_address_register(&s.code)),
            nav,
            p: view,
            services,
            picked: super::services::rka_picked(q.rka),
            addr_q,
            addresses,
            addr_error,
            tasks,
            can_rewrite: ctx.actor.role == Role::CounterOperator,
            idem: format!("ws-accept-{}", auth::random_token()),
        },
        ctx.lang,
    );
    (status, page).into_response()
}

/// The form's fields; `doc` repeats, so the body is read as pairs.
pub async fn accept(
    State(st): State<AppState>,
    page: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let nav = Nav::for_ctx(&ctx, "/ws");
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let lang = ctx.lang;
    let applicant = match Iin::parse(&field("iin")) {
        Ok(i) => i,
        Err(e) => {
            return error_page(
                nav,
                lang,
                ApiError::bad_input(lang, Some("iin"), &e.to_string()),
                "/ws",
            )
        }
    };
    let service = field("service");
    // A refusal of the form's content comes back on the person page, beside the form, with
    // what was typed; the page's other forms as they were.
    let back_to_form = |e: ApiError| {
        let st = st.clone();
        let ctx = ctx.clone();
        let typed: Vec<(String, String)> = pairs
            .iter()
            .filter(|(n, _)| n.starts_with("d.") || n == "missing" || n == "urgency")
            .cloned()
            .collect();
        let field = e
            .field()
            .map(|f| match f.strip_prefix("data.") {
                Some(rest) => format!("d.{rest}"),
                None => f.to_string(),
            })
            .unwrap_or_default();
        let error = FormError {
            status: e.status(),
            service: service.clone(),
            field,
            message: e.message(lang),
            typed,
        };
        async move {
            person_page(
                &st,
                &ctx,
                IinQuery {
                    iin: applicant.to_string(),
                    addr_q: None,
                    rka: None,
                },
                Some(error),
            )
            .await
        }
    };
    let urgency = match Urgency::parse(&field("urgency")) {
        Ok(u) => u,
        Err(e) => {
            return back_to_form(ApiError::bad_input(lang, Some("urgency"), &e.to_string())).await
        }
    };
    let documents_presented = pairs
        .iter()
        .filter(|(n, _)| n == "doc")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let missing: Vec<String> = Some(field("missing"))
        .filter(|m| !m.is_empty())
        .into_iter()
        .collect();
    // The form says its channel (a district officer takes S2 and S3 of 2018 in at a
    // counter); without it, the role's own.
    let channel = match Channel::parse(&field("channel")) {
        Ok(c) => c,
        Err(_) if ctx.actor.role == Role::DistrictOfficer => Channel::Unit,
        Err(_) => Channel::Counter,
    };
    let mut accept = Accept {
        process: Some(field("process")).filter(|p| !p.is_empty()),
        service: service.clone(),
        channel,
        urgency,
        applicant,
        documents_presented,
        missing,
        data: form_data(&pairs),
    };
    // The officer certifies the electronic formulary with their own ЭЦП (issue 33): the
    // page first asks for the bytes to sign (`certify=prepare`), then sends the form again
    // with the signature, checked over the same intake before it is accepted.
    if field("certify") == "prepare" && signing::certifies_formulary(&st, &ctx.actor, &service) {
        let bytes = match signing::formulary_of(lang, &mut accept) {
            Ok((b, _)) => b,
            Err(e) => return back_to_form(e).await,
        };
        let iin = match st.engine.officer_on_record(&ctx.actor.id).await {
            Ok(Some(o)) => o.iin.map(|i| i.to_string()).unwrap_or_default(),
            Ok(None) => String::new(),
            Err(e) => return ApiError::from(e).into_response(),
        };
        return axum::Json(signing::prepared_json(&st, &bytes, &iin)).into_response();
    }
    let signature = Some(field("signature")).filter(|s| !s.is_empty());
    if let Err(e) = signing::certify_intake(&st, &ctx.actor, lang, &mut accept, signature).await {
        return back_to_form(e).await;
    }
    let cmd = Command::Accept(accept);
    submit_form(&st, &ctx, nav, &cmd, &field("idem"), back_to_form).await
}

/// Sends an intake from a page's form with the form's one-time idempotency key, so that the
/// same form sent twice (a reload, a double click, the back button) answers the first
/// intake instead of making a second application; and answers Post/Redirect/Get: 303 to the
/// application's page showing its talon or receipt. A refusal goes `back` to the form.
async fn submit_form<F, Fut>(
    st: &AppState,
    ctx: &Ctx,
    nav: Nav,
    cmd: &Command,
    key: &str,
    back: F,
) -> Response
where
    F: FnOnce(ApiError) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let key = Some(key).filter(|k| !k.is_empty() && k.len() <= 200);
    match st.execute(&ctx.actor, cmd, key).await {
        Ok(
            Outcome::Accepted { application: a } | Outcome::IntakeRefused { application: a, .. },
        ) => Redirect::to(&format!("/ws/applications/{}?intake=1", a.id)).into_response(),
        Ok(_) => error_page(nav, ctx.lang, ApiError::internal(), "/ws"),
        Err(e) => back(ApiError::from(e)).await,
    }
}

/// S9: intake of a foreigner who has no IIN (at a counter, or at the migration unit).
pub async fn accept_foreigner(
    State(st): State<AppState>,
    page: Page,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let nav = Nav::for_ctx(&ctx, "/ws");
    let lang = ctx.lang;
    if let Err(e) = ctx.require(&[Role::CounterOperator, Role::DistrictOfficer]) {
        return error_page(nav, lang, e, "/ws");
    }
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    // A refusal comes back on the workstation's home, beside the field at fault, with what
    // was typed (issue 29), as the person page's intake forms do.
    let back_to_form = |e: ApiError| {
        let typed: Vec<(String, String)> = pairs
            .iter()
            .filter(|(n, _)| FOREIGNER_FIELDS.contains(&n.as_str()))
            .cloned()
            .collect();
        let field = e.field().map_or_else(String::new, |f| {
            let f = f.strip_prefix("data.").unwrap_or(f);
            f.strip_prefix("foreigner.").unwrap_or(f).to_string()
        });
        let error = FormError {
            status: e.status(),
            service: drn_engine::services::applied_for_without_iin().into(),
            field,
            message: e.message(lang),
            typed,
        };
        let (st, ctx) = (st.clone(), ctx.clone());
        async move { home_page(&st, &ctx, String::new(), Some(error)).await }
    };
    let birth_date: jiff::civil::Date = match field("birth_date").parse() {
        Ok(d) => d,
        Err(e) => {
            return back_to_form(ApiError::bad_input(
                lang,
                Some("birth_date"),
                &e.to_string(),
            ))
            .await
        }
    };
    let sex = match field("sex").as_str() {
        "M" => drn_core::Sex::Male,
        "F" => drn_core::Sex::Female,
        _ => return back_to_form(ApiError::bad_input(lang, Some("sex"), "M or F")).await,
    };
    let channel = if ctx.actor.role == Role::DistrictOfficer {
        Channel::Unit
    } else {
        Channel::Counter
    };
    let mut data = serde_json::json!({});
    let card = field("migration_card");
    if !card.is_empty() {
        data["migration_card"] = serde_json::json!(card);
    }
    let cmd = Command::AcceptForeigner(drn_engine::services::AcceptForeigner {
        service: drn_engine::services::applied_for_without_iin().into(),
        channel,
        urgency: Urgency::General,
        foreigner: drn_engine::services::Foreigner {
            surname: field("surname"),
            given_name: field("given_name"),
            birth_date,
            sex,
            citizenship: field("citizenship").to_uppercase(),
            passport: field("passport").to_uppercase(),
        },
        documents_presented: vec![],
        missing: Some(field("missing"))
            .filter(|m| !m.is_empty())
            .into_iter()
            .collect(),
        data,
    });
    submit_form(&st, &ctx, nav, &cmd, &field("idem"), back_to_form).await
}

/// A date as people in Kazakhstan write it (31.12.2019), from the ISO form; as it is when
/// it is not one.
pub fn dmy(iso: &str) -> String {
    iso.parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%d.%m.%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

/// The units' names in `lang`, by id: what a person reads where a unit is named (a code
/// such as C71-1-1 only where no name is known).
pub async fn unit_names(st: &AppState, lang: Lang) -> std::collections::HashMap<String, String> {
    st.engine
        .units()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id.to_string(), u.name.get(lang).to_string()))
        .collect()
}

/// Who did an event, as the card's reader reads it: an officer's account name, the
/// applicant on the portal, the system.
pub fn actor_label(lang: Lang, actor: &str) -> String {
    if actor.starts_with("citizen:") {
        i18n::t(lang, "by_applicant").to_string()
    } else if actor == "system" {
        i18n::t(lang, "by_system").to_string()
    } else if let Some(officer) = actor.strip_prefix("system:mvd-operator:") {
        format!("{} ({officer})", i18n::t(lang, "mvd_operator"))
    } else if actor.starts_with("system:") {
        i18n::t(lang, "by_system").to_string()
    } else {
        actor.strip_prefix("staff:").unwrap_or(actor).to_string()
    }
}

/// A unit's name from [`unit_names`], its id when unknown.
pub fn unit_name(names: &std::collections::HashMap<String, String>, id: &str) -> String {
    names.get(id).cloned().unwrap_or_else(|| id.to_string())
}

/// How a list or card names the applicant: the IIN, or for a foreigner without one (S9,
/// whose key is `F:<citizenship>:<passport>`) the name and passport from the intake.
pub fn applicant_label(a: &drn_engine::Application) -> String {
    match drn_engine::services::applicant_foreigner(a) {
        Ok(Some(f)) => format!(
            "{} {} · {} {}",
            f.surname, f.given_name, f.citizenship, f.passport
        ),
        _ => a.applicant.clone(),
    }
}

/// The case as an officer reads it on the card: who applied (name, date of birth,
/// registration or passport) and what was entered at intake, each with its label and
/// values in the reader's language (issue 29).
async fn case_fields(
    st: &AppState,
    a: &drn_engine::Application,
    lang: Lang,
    units: &std::collections::HashMap<String, String>,
    with_missing: bool,
) -> (String, Vec<(String, String)>) {
    let t = |k: &str| i18n::t(lang, k).to_string();
    let mut out: Vec<(String, String)> = Vec::new();
    let foreign_applicant = a.applicant.starts_with("F:");
    let name = match drn_engine::services::applicant_foreigner(a) {
        Ok(Some(f)) => {
            out.push((t("f_surname"), f.surname.clone()));
            out.push((t("f_given_name"), f.given_name.clone()));
            out.push((t("birth"), f.birth_date.strftime("%d.%m.%Y").to_string()));
            out.push((t("f_sex"), i18n::label(lang, "sex_", f.sex.code())));
            out.push((t("f_citizenship"), f.citizenship.clone()));
            out.push((t("f_passport"), f.passport.clone()));
            format!("{} {}", f.surname, f.given_name)
        }
        _ => match st.engine.person_line(&a.applicant).await {
            Ok(p) => {
                out.push((t("iin"), a.applicant.clone()));
                out.push((t("birth"), p.birth.clone()));
                if let Some(addr) = p.address {
                    out.push((t("registration"), addr));
                }
                p.name
            }
            Err(_) => a.applicant.clone(),
        },
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(true) => t("yes"),
        serde_json::Value::Bool(false) => t("no"),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    // What was entered at intake (`input`; the documents and what was missing beside it).
    let data = a
        .data
        .get("input")
        .filter(|d| d.is_object())
        .unwrap_or(&a.data);
    // S9's foreigner is the applicant, shown above; S6-S8 name a foreigner beside the host.
    if let Some(f) = data
        .get("foreigner")
        .filter(|f| f.is_object() && !foreign_applicant)
    {
        for (k, label) in [
            ("surname", "f_surname"),
            ("given_name", "f_given_name"),
            ("birth_date", "birth"),
            ("citizenship", "f_citizenship"),
            ("passport", "f_passport"),
        ] {
            if let Some(v) = f.get(k) {
                let v = text(v);
                out.push((t(label), if k == "birth_date" { dmy(&v) } else { v }));
            }
        }
        if let Some(v) = f.get("sex").and_then(|v| v.as_str()) {
            out.push((t("f_sex"), i18n::label(lang, "sex_", v)));
        }
    }
    // (key, label, the prefix of the value's own label where the value is a code)
    const KEYS: &[(&str, &str, &str)] = &[
        ("unit", "counter_workstation", ""),
        ("kind", "f_reg_kind", "reg_"),
        ("ground", "f_ground", "ground_"),
        ("reason", "f_reason", ""),
        ("zone", "f_zone", ""),
        ("purpose", "f_purpose", ""),
        ("address", "f_address", ""),
        ("rka", "rka", ""),
        ("from", "f_from", ""),
        ("until", "f_until", ""),
        ("valid_until", "f_valid_until", ""),
        ("owner_iin", "f_owner_iin", ""),
        ("owner_id_document", "f_owner_id_document", ""),
        ("owner_consent", "f_owner_consent", ""),
        ("court_decision", "f_court_decision", ""),
        ("destination", "f_destination", ""),
        ("bin", "f_bin", ""),
        ("migration_card", "f_migration_card", ""),
    ];
    for (key, label, prefix) in KEYS {
        let Some(v) = data.get(*key).filter(|v| !v.is_null()) else {
            continue;
        };
        let value = match (*key, v.as_str()) {
            ("unit", Some(u)) => unit_name(units, u),
            ("from" | "until" | "valid_until", Some(d)) => dmy(d),
            (_, Some(code)) if !prefix.is_empty() => i18n::label(lang, prefix, code),
            _ => text(v),
        };
        // The РКА of an intake with a BIN is the legal entity's (S5), else the dwelling's.
        let label = if *key == "rka" && data.get("bin").is_some_and(|b| !b.is_null()) {
            t("f_entity_rka")
        } else {
            t(label)
        };
        out.push((label, value));
    }
    // The formulary certified with the officer's own ЭЦП at intake (issue 33).
    if let Some(sig) = data.get(drn_engine::services::FORMULARY_SIGNATURE) {
        let name = sig["name"].as_str().unwrap_or_default();
        let position = sig["position"][lang.code()].as_str().unwrap_or_default();
        let when = sig["signing_time"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map(kz)
            .unwrap_or_default();
        out.push((
            t("sig_formulary_done"),
            format!("{name}, {position}, {when}"),
        ));
    }
    // What was missing (an intake refusal's), unless the receipt above lists it.
    if let Some(m) = a
        .data
        .get("missing")
        .and_then(|m| m.as_array())
        .filter(|_| with_missing)
    {
        let m: Vec<String> = m
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect();
        if !m.is_empty() {
            out.push((t("missing"), m.join("; ")));
        }
    }
    (name, out)
}

pub(crate) fn service_name(st: &AppState, code: &str, lang: Lang) -> String {
    st.engine
        .catalog
        .service(code)
        .map(|s| format!("{code} · {}", Tr { lang }.text(&s.name)))
        .unwrap_or_else(|| code.to_string())
}

pub struct StepView {
    pub n: u32,
    pub unit_name: String,
    pub action: String,
    pub form: String,
    pub limit: String,
    pub cite: String,
}

pub struct TimelineRow {
    pub at: String,
    pub kind: String,
    pub step: String,
    pub actor: String,
    pub unit: String,
    pub due: String,
    pub late: bool,
    /// The reason the event records (a refusal's, an annulment's, an error message's, a
    /// return's), in the reader's language.
    pub reason: String,
}

#[derive(Template)]
#[template(path = "application.html")]
struct ApplicationPage {
    tr: Tr,
    nav: Nav,
    a: drn_engine::Application,
    service_name: String,
    act: String,
    status: String,
    overall_due: String,
    step: Option<StepView>,
    step_due: String,
    overdue: bool,
    open: bool,
    can_act: bool,
    is_last: bool,
    by_registry: bool,
    can_refuse: bool,
    can_annul: bool,
    earlier: Vec<u32>,
    timeline: Vec<TimelineRow>,
    /// How the application ended after intake: the label (refusal, annulment, error
    /// message) and the reason.
    closing: Option<(&'static str, String)>,
    docs: Vec<crate::documents::DocLink>,
    extra: CardExtra,
    /// An online renewal's photo, signature and the regional review (issue 6).
    online: Option<super::renewal::OnlineReview>,
    /// Right after the intake: its talon or receipt.
    intake: Option<IntakeView>,
    /// The applicant's name (a foreigner's from the passport data).
    applicant_name: String,
    /// The case: the applicant's data and what was entered at intake, labelled.
    case: Vec<(String, String)>,
    /// The issue form offers a representative's power of attorney (not where the result is
    /// issued in person only: S1E).
    proxy_allowed: bool,
    /// The title of the document waiting for the signed-in officer's own signature.
    sign_awaiting: Option<String>,
    /// A refused action: its form shows why, with what was typed.
    card_error: Option<CardError>,
    /// The units' names: holder, intake unit.
    holder_name: String,
    accepted_name: String,
}

impl ApplicationPage {
    /// The message of the refused action `action`, for the line beside its form.
    fn err(&self, action: &str) -> Option<&str> {
        self.card_error
            .as_ref()
            .filter(|e| e.action == action)
            .map(|e| e.message.as_str())
    }

    /// The message of a refused action whose form is not on the card now (the application
    /// moved on meanwhile, or an action without a form of its own): shown at the top.
    fn err_elsewhere(&self) -> Option<&str> {
        let e = self.card_error.as_ref()?;
        let acting = self.open && self.can_act;
        let shown = match e.action.as_str() {
            "issue" => acting && self.is_last,
            "complete" => acting && !self.is_last && !self.by_registry,
            "refuse" => acting && self.can_refuse,
            "annul" => acting && self.can_annul,
            "return" => acting && (!self.earlier.is_empty() || self.extra.detour.is_some()),
            _ => false,
        };
        (!shown).then_some(e.message.as_str())
    }

    /// What was typed in `field` of the refused action `action` ("" otherwise).
    fn typed(&self, action: &str, field: &str) -> &str {
        match self.card_error.as_ref().filter(|e| e.action == action) {
            Some(e) => match field {
                "reason" => &e.reason,
                "receiver" => &e.receiver,
                "authority" => &e.authority,
                "note" => &e.note,
                _ => "",
            },
            None => "",
        }
    }
}

/// The talon of an accepted application, or the receipt of an intake refusal.
struct IntakeView {
    title: String,
    refused: bool,
    /// The talon's number (the application's) or the receipt's.
    number: String,
    missing: Vec<String>,
}

/// The service-specific part of the card (issue 7): the step's check and its last result,
/// the detour to the district, the note a step records, the MVD operator's step, the
/// counter's tasks of the application, the service's journal.
#[derive(Default)]
pub struct CardExtra {
    /// "address_data", "special_records" or "wanted_persons" when the step needs a check
    /// before it is done.
    pub check: &'static str,
    /// The last check at this step: passed, and what it found.
    pub checked: Option<(bool, String)>,
    /// The detour step a `return` branch of this step leads to (S5: the district corrects).
    pub detour: Option<u32>,
    /// The i18n key of the note the step records (S5 correction: the РКА; S9: the consent).
    pub note: &'static str,
    /// The step is the MVD information system operator's (S9), done from the holder's desk.
    pub operator: bool,
    pub tasks: Vec<super::services::TaskView>,
    /// A counter operator may do the tasks (rewrite the chip).
    pub can_rewrite: bool,
    /// The service's journal: its code and name.
    pub journal: Option<(&'static str, &'static str)>,
    /// The result waits for the applicant to come (no clock yet): the holder records the
    /// arrival (issue 30 item 12).
    pub awaiting_applicant: bool,
}

/// The card's words for a result that waits for the applicant.
pub(crate) fn awaiting_applicant_text() -> &'static drn_core::Text {
    static T: std::sync::LazyLock<drn_core::Text> = std::sync::LazyLock::new(|| {
        drn_core::Text::new(
            "Нәтиже дайын және өтініш берушінің келуін күтуде: беру мерзімі ол келген кезде басталады.",
            "Результат готов и ожидает явки заявителя: срок выдачи начинается с его явки.",
            "The result is ready and waits for the applicant: the time to hand it over starts when they come.",
        )
    });
    &T
}

/// The supervision's count of results waiting for the applicant.
pub(crate) fn awaiting_applicant_label() -> &'static drn_core::Text {
    static T: std::sync::LazyLock<drn_core::Text> = std::sync::LazyLock::new(|| {
        drn_core::Text::new(
            "Өтініш берушінің келуін күтуде",
            "Ожидают явки заявителя",
            "Waiting for the applicant",
        )
    });
    &T
}

/// The button that records the applicant's arrival.
pub(crate) fn applicant_arrived_text() -> &'static drn_core::Text {
    static T: std::sync::LazyLock<drn_core::Text> = std::sync::LazyLock::new(|| {
        drn_core::Text::new(
            "Өтініш беруші келді",
            "Заявитель явился",
            "The applicant has come",
        )
    });
    &T
}

/// The card's service-specific part for the application at its current step.
async fn card_extra(
    st: &AppState,
    ctx: &Ctx,
    a: &drn_engine::Application,
    p: &drn_core::catalog::Process,
    events: &[drn_engine::Event],
    holds: bool,
) -> CardExtra {
    let cur = p.step(a.step);
    let open = a.status == Status::InProgress;
    let checked = events
        .iter()
        .rev()
        .find(|e| {
            e.kind == EventKind::Checked && e.step == Some(a.step) && e.at >= a.step_entered_at
        })
        .map(|e| {
            let d = &e.data["detail"];
            // Each detail under its name in the officer's language, and the engine's
            // sentences for S5's mismatches in words (seed 000, S5: the district corrects
            // the address data when they do not match), not "mismatch: the person's …".
            let tr = Tr { lang: ctx.lang };
            let text = ["address", "rka", "mismatch", "reason", "iin", "bin"]
                .iter()
                .filter_map(|k| {
                    let v = d[*k].as_str()?;
                    Some(match *k {
                        "mismatch" => match v {
                            "the address is not in the register" => tr.t("chk_not_in_register").to_string(),
                            "the person's registered address has no valid code in the address register" => {
                                tr.t("chk_no_rka").to_string()
                            }
                            other => other.to_string(),
                        },
                        "rka" => format!("РКА: {v}"),
                        "bin" => format!("{}: {v}", tr.t("f_bin")),
                        k => format!("{}: {v}", tr.t(k)),
                    })
                })
                .collect::<Vec<_>>()
                .join(" · ");
            (e.data["passed"].as_bool().unwrap_or(false), text)
        });
    let detour = cur.and_then(|s| {
        s.branches
            .iter()
            .filter(|b| b.kind == drn_core::catalog::BranchKind::Return)
            .filter_map(|b| b.to)
            .find(|to| p.step(*to).is_some_and(|d| d.detour))
    });
    // What the step's note records, by the hook the catalog gives the step.
    let note = match cur.and_then(|s| s.hook) {
        Some(StepHook::AddressCorrection) => "corrected_rka",
        Some(StepHook::WrittenConsent) => "written_consent",
        _ => "",
    };
    let operator = open
        && holds
        && cur.is_some_and(|s| s.hook == Some(StepHook::FormIin))
        && matches!(
            ctx.actor.role,
            Role::CounterOperator | Role::DistrictOfficer
        );
    let tasks = if drn_engine::services::leaves_counter_tasks(&a.service) {
        super::services::tasks_of(st, &ctx.actor, ctx.lang, &a.applicant, Some(&a.id)).await
    } else {
        vec![]
    };
    CardExtra {
        check: if open {
            st.engine.check_needed(a).unwrap_or("")
        } else {
            ""
        },
        checked,
        detour: if open { detour } else { None },
        note,
        operator,
        tasks,
        can_rewrite: ctx.actor.role == Role::CounterOperator,
        journal: drn_engine::services::journal_of(&a.service)
            .map(|j| (j, i18n::t(ctx.lang, &format!("journal_{j}")))),
        awaiting_applicant: open && holds && st.engine.awaits_applicant(a),
    }
}

/// `?intake=1`: the page an intake's form redirects to shows its talon or receipt first.
#[derive(Deserialize)]
pub struct CardQuery {
    intake: Option<String>,
}

pub async fn application(
    State(st): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Query(q): Query<CardQuery>,
) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    card_page(&st, &ctx, id, q, None).await
}

/// A card's action refused: which form, the message beside it, and what was typed there
/// (issue 29: the error beside its field, the input kept).
#[derive(Debug, Clone, Default)]
pub struct CardError {
    pub action: String,
    pub message: String,
    pub reason: String,
    pub receiver: String,
    pub authority: String,
    pub note: String,
}

/// The application's card; with `card_error`, a refused action's form shows why and keeps
/// what was typed.
async fn card_page(
    st: &AppState,
    ctx: &Ctx,
    id: String,
    q: CardQuery,
    card_error: Option<CardError>,
) -> Response {
    let ctx = ctx.clone();
    let st = st.clone();
    let path = format!("/ws/applications/{id}");
    let nav = Nav::for_ctx(&ctx, &path);
    let lang = ctx.lang;
    let tr = Tr { lang };
    let id = match ApplicationId::parse(&id) {
        Ok(i) => i,
        Err(e) => return error_page(nav, lang, e, "/ws"),
    };
    let a = match st.engine.application(&ctx.actor, &id, "ws:card").await {
        Ok(a) => a,
        Err(e) => return error_page(nav, lang, e, "/ws"),
    };
    let events = st
        .engine
        .timeline(&ctx.actor, &id)
        .await
        .unwrap_or_default();
    let (ver, p) = match st.engine.locate(&a.service, &a.version, &a.process) {
        Ok(x) => x,
        Err(e) => return error_page(nav, lang, e, "/ws"),
    };
    let cur = p.step(a.step);
    let step = cur.map(|s| StepView {
        n: s.n,
        unit_name: tr.text(&s.unit_name).to_string(),
        action: tr.text(&s.action).to_string(),
        form: tr.text(&s.form).to_string(),
        limit: s
            .limit
            .for_urgency(a.urgency)
            .map(|l| l.text(lang))
            .unwrap_or_default(),
        cite: s.cite.legal_text(
            st.engine
                .catalog
                .act_of_seed(&s.cite.seed)
                .unwrap_or(&ver.act),
            lang,
        ),
    });
    let now = st.engine.now();
    let units = unit_names(&st, lang).await;
    let (applicant_name, case) = case_fields(&st, &a, lang, &units, q.intake.is_none()).await;
    let timeline = events
        .iter()
        .map(|e| TimelineRow {
            at: kz(e.at),
            kind: i18n::label(lang, "ev_", e.kind.code()),
            step: e.step.map(|s| s.to_string()).unwrap_or_default(),
            actor: actor_label(lang, &e.actor),
            unit: e
                .unit
                .as_ref()
                .map(|u| unit_name(&units, u.as_str()))
                .unwrap_or_default(),
            due: e.due_at.map(kz).unwrap_or_default(),
            late: e.kind == EventKind::StepCompleted && e.due_at.is_some_and(|d| d < e.at),
            reason: event_reason(e, lang),
        })
        .collect();
    // The last ending event's reason: shown on the card of a closed application.
    let closing = if a.status.is_open() {
        None
    } else {
        events.iter().rev().find_map(|e| {
            let label = match e.kind {
                EventKind::Refused => "reason_refused",
                EventKind::Annulled => "reason_annulled",
                EventKind::ErrorMessage => "reason_error_message",
                _ => return None,
            };
            Some((label, event_reason(e, lang)))
        })
    };
    let holds = ctx.actor.unit.as_ref() == Some(&a.holder_unit);
    let step_role_ok = st.engine.may_do_step(&ctx.actor, &a).await;
    let open = a.status == Status::InProgress;
    let docs = crate::documents::links(&st, &a, lang).await;
    let extra = card_extra(&st, &ctx, &a, p, &events, holds).await;
    let online = super::renewal::card_review(&st, &ctx, &a).await;
    // Who may end it, and where: the engine's one rule (`ending`).
    let can_refuse = st.engine.may_end(&ctx.actor, &a, BranchKind::Refusal).await;
    let can_annul = st
        .engine
        .may_end(&ctx.actor, &a, BranchKind::Annulment)
        .await;
    // The talon (or the receipt of an intake refusal) of the intake just made.
    let intake = q.intake.is_some().then(|| {
        let receipt = events
            .iter()
            .find(|e| e.kind == drn_engine::EventKind::IntakeRefused)
            .and_then(|e| e.data["receipt"].as_str().map(String::from));
        IntakeView {
            title: i18n::t(
                lang,
                receipt.as_ref().map_or("accepted", |_| "intake_refused"),
            )
            .to_string(),
            refused: receipt.is_some(),
            number: receipt.unwrap_or_else(|| a.number.clone()),
            missing: a.data["missing"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
        }
    });
    let sign_awaiting = if holds
        && st.config.signatures.required
        && crate::documents::signing::signs_personally(&ctx.actor)
    {
        match crate::documents::signing::awaiting(&st, &a).await {
            Ok(Some((kind, number))) => Some(format!("{} № {number}", kind.title().get(lang))),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "awaiting signature not read");
                None
            }
        }
    } else {
        None
    };
    let page = ApplicationPage {
        card_error,
        sign_awaiting,
        holder_name: unit_name(&units, a.holder_unit.as_str()),
        accepted_name: unit_name(&units, a.accepted_unit.as_str()),
        applicant_name,
        case,
        proxy_allowed: drn_engine::services::representative_may_receive(&a.service),
        intake,
        // S1E's step 17 is decided by the online review, not by "complete step".
        can_act: holds && step_role_ok && !online.as_ref().is_some_and(|o| o.can_review),
        online,
        extra,
        docs,
        tr,
        service_name: service_name(&st, &a.service, lang),
        act: format!(
            "{} · № {} {}",
            ver.id,
            ver.act.number,
            dmy(&ver.act.date.0.to_string())
        ),
        status: i18n::label(lang, "st_", a.status.code()),
        overall_due: a.due_at.map(kz).unwrap_or_default(),
        step_due: a.step_due_at.map(kz).unwrap_or_default(),
        overdue: open && a.step_due_at.is_some_and(|d| d < now),
        open,
        is_last: p.gives_result_at(a.step),
        by_registry: p.handover_after(a.step).is_some(),
        can_refuse,
        can_annul,
        earlier: p
            .main_path()
            .iter()
            .map(|s| s.n)
            .filter(|n| *n < a.step && *n > 1)
            .collect(),
        step,
        timeline,
        closing,
        nav,
        a,
    };
    render(&page, lang)
}

/// The reason an event of the timeline records, in `lang`; empty when it records none.
fn event_reason(e: &drn_engine::Event, lang: Lang) -> String {
    match drn_engine::services::print::closing_reason(e.kind, &e.data) {
        Some(t) => t.get(lang).to_string(),
        None if e.kind == EventKind::Returned => {
            e.data["reason"].as_str().unwrap_or_default().to_string()
        }
        None => String::new(),
    }
}

#[derive(Deserialize)]
pub struct ActForm {
    revision: i64,
    /// The officer's signature of the document waiting for it (issue 33).
    draft: Option<String>,
    signature: Option<String>,
    reason: Option<String>,
    to_step: Option<u32>,
    receiver: Option<String>,
    authority: Option<String>,
    note: Option<String>,
}

/// One of the card's buttons: complete, refuse, annul, return, issue.
pub async fn act(
    State(st): State<AppState>,
    page: Page,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<ActForm>,
) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let back = format!("/ws/applications/{id}");
    let nav = Nav::for_ctx(&ctx, &back);
    let lang = ctx.lang;
    let application = match ApplicationId::parse(&id) {
        Ok(i) => i,
        Err(e) => return error_page(nav, lang, e, "/ws"),
    };
    if action == "sign-document" {
        let result = async {
            let app = st
                .engine
                .application(&ctx.actor, &application, "ws:signature")
                .await?;
            let submitted = crate::documents::signing::Submitted {
                draft: f.draft.clone(),
                signature: f.signature.clone(),
            };
            crate::documents::signing::sign_application_document(
                &st, &ctx.actor, lang, &app, &submitted,
            )
            .await
        }
        .await;
        return match result {
            Ok(_) => Redirect::to(&back).into_response(),
            Err(e) => error_page(nav, lang, e, &back),
        };
    }
    // A refusal comes back on the card, beside the form, with what was typed (issue 29).
    let refused = |message: String| CardError {
        action: action.clone(),
        message,
        reason: f.reason.clone().unwrap_or_default(),
        receiver: f.receiver.clone().unwrap_or_default(),
        authority: f.authority.clone().unwrap_or_default(),
        note: f.note.clone().unwrap_or_default(),
    };
    let back_to_card = |e: ApiError| {
        let (st, ctx, id) = (st.clone(), ctx.clone(), id.clone());
        let error = refused(e.message(lang));
        let status = e.status();
        async move {
            let mut r = card_page(&st, &ctx, id, CardQuery { intake: None }, Some(error)).await;
            if r.status().is_success() {
                *r.status_mut() = status;
            }
            r
        }
    };
    let reason = f.reason.clone().unwrap_or_default();
    let note = f
        .note
        .clone()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let mut actor = ctx.actor.clone();
    let cmd = match action.as_str() {
        "complete" => Command::CompleteStep {
            application,
            revision: f.revision,
            note,
        },
        "check" => Command::Check {
            application,
            revision: f.revision,
        },
        "arrived" => Command::ApplicantArrived {
            application,
            revision: f.revision,
        },
        "operator" => {
            // S9 para 6.3 / 9.5: the application is passed to the MVD information system,
            // whose operator processes it. The demo has no separate operator's desk: the
            // holder's staff run the system's processing, recorded as the system's under
            // their name, and only for the system's step of an application their unit holds.
            let ok = match st
                .engine
                .application(&ctx.actor, &application, "ws:operator")
                .await
            {
                Ok(a) => {
                    ctx.actor.unit.as_ref() == Some(&a.holder_unit)
                        && st
                            .engine
                            .locate(&a.service, &a.version, &a.process)
                            .ok()
                            .and_then(|(_, p)| p.step(a.step))
                            .is_some_and(|s| s.hook == Some(StepHook::FormIin))
                        && matches!(
                            ctx.actor.role,
                            Role::CounterOperator | Role::DistrictOfficer
                        )
                }
                Err(e) => return error_page(nav, lang, e, &back),
            };
            if !ok {
                return error_page(nav, lang, ApiError::forbidden_role(lang), &back);
            }
            actor = drn_engine::Actor {
                id: format!("system:mvd-operator:{}", ctx.actor.id),
                ..drn_engine::Actor::system()
            };
            Command::CompleteStep {
                application,
                revision: f.revision,
                note: None,
            }
        }
        "refuse" => Command::Refuse {
            application,
            revision: f.revision,
            reason,
        },
        "annul" => Command::Annul {
            application,
            revision: f.revision,
            reason,
        },
        "return" => Command::Return {
            application,
            revision: f.revision,
            to_step: f.to_step.unwrap_or(0),
            reason,
        },
        "issue" => {
            let typed = f.receiver.as_deref().unwrap_or("").trim();
            let receiver = match Iin::parse(typed) {
                Ok(i) => i,
                Err(_) => {
                    let typed: String = typed.chars().take(20).collect();
                    return back_to_card(ApiError::bad_iin(lang, "receiver", &typed)).await;
                }
            };
            let authority = f.authority.clone().unwrap_or_default();
            let representative = (!authority.trim().is_empty()).then_some(Representative {
                iin: receiver,
                authority,
            });
            Command::Issue {
                application,
                revision: f.revision,
                receiver,
                representative,
            }
        }
        _ => return error_page(nav, lang, ApiError::not_found(lang), &back),
    };
    match st.execute(&actor, &cmd, None).await {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e) => back_to_card(ApiError::from(e)).await,
    }
}

pub struct PendingRow {
    pub service: String,
    /// The code with the service's name, as the queue and the card show it.
    pub service_name: String,
    pub version: String,
    pub process: String,
    pub step: u32,
    pub action: String,
    pub count: i64,
}

pub struct RegistryRow {
    pub id: String,
    pub number: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub count: usize,
    pub status: String,
    pub incoming: Option<String>,
    pub revision: i64,
    /// The registry's documents (its signed registry, or the cover letter).
    pub docs: Vec<crate::documents::DocLink>,
    pub can_sign: bool,
    /// Signing asks the officer's signing application (NCALayer) first.
    pub officer_signs: bool,
    /// Why its last action was refused, beside its actions (issue 29).
    pub error: Option<String>,
    /// The incoming number typed with a refused receipt.
    pub incoming_typed: String,
    pub can_send: bool,
    pub can_receive: bool,
}

#[derive(Template)]
#[template(path = "registries.html")]
struct RegistriesPage {
    tr: Tr,
    nav: Nav,
    pending: Vec<PendingRow>,
    regs: Vec<RegistryRow>,
}

pub async fn registries(State(st): State<AppState>, page: Page) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    registries_page(&st, &ctx, None).await
}

/// A registry's action refused: the registry, the message beside its actions, the incoming
/// number typed (issue 29).
pub struct RegistryError {
    pub registry: String,
    pub message: String,
    pub incoming: String,
}

/// The unit's registries page; with `error`, the refused registry's row says why and keeps
/// the incoming number typed.
async fn registries_page(st: &AppState, ctx: &Ctx, error: Option<RegistryError>) -> Response {
    let nav = Nav::for_ctx(ctx, "/ws/registries");
    let lang = ctx.lang;
    let tr = Tr { lang };
    let Some(unit) = ctx.actor.unit.clone() else {
        return to_login(false);
    };
    if let Err(e) = ctx.require(STAFF_ACTING) {
        return error_page(nav, lang, e, "/");
    }
    let pending = match st.engine.waiting_for_registry(&ctx.actor, &unit).await {
        Ok(p) => p,
        Err(e) => return error_page(nav, lang, e, "/ws"),
    };
    let pending = pending
        .into_iter()
        .map(|(service, version, process, step, count)| PendingRow {
            action: st
                .engine
                .locate(&service, &version, &process)
                .ok()
                .and_then(|(_, p)| p.step(step))
                .map(|s| super::roles::clip(&tr.text(&s.action), 120))
                .unwrap_or_default(),
            service_name: service_name(st, &service, lang),
            service,
            version,
            process,
            step,
            count,
        })
        .collect();
    let regs = st
        .engine
        .registries(&ctx.actor, &unit, 100)
        .await
        .unwrap_or_default();
    let mut rows = Vec::with_capacity(regs.len());
    for r in regs {
        let mut row = registry_row(st, &ctx.actor, Some(&unit), r, lang).await;
        if let Some(e) = error.as_ref().filter(|e| e.registry == row.id) {
            row.error = Some(e.message.clone());
            row.incoming_typed = e.incoming.clone();
        }
        rows.push(row);
    }
    let regs = rows;
    render(
        &RegistriesPage {
            tr,
            nav,
            pending,
            regs,
        },
        lang,
    )
}

/// A registry as a page lists it, with the actions the unit may take and its documents.
async fn registry_row(
    st: &AppState,
    actor: &drn_engine::Actor,
    unit: Option<&UnitId>,
    r: drn_engine::Registry,
    lang: Lang,
) -> RegistryRow {
    let docs = crate::documents::registry_links(st, &r, lang).await;
    let names = unit_names(st, lang).await;
    let can_sign = unit == Some(&r.from_unit) && r.status == "formed";
    RegistryRow {
        error: None,
        incoming_typed: String::new(),
        // The officer signs the registry's document with their own key (issue 33).
        officer_signs: can_sign
            && st.config.signatures.required
            && crate::documents::signing::signs_personally(actor),
        can_sign,
        can_send: unit == Some(&r.from_unit) && r.status == "signed",
        can_receive: unit == Some(&r.to_unit) && r.status == "sent",
        id: r.id.to_string(),
        number: r.number,
        kind: i18n::label(lang, "rk_", &r.kind),
        from: unit_name(&names, r.from_unit.as_str()),
        to: unit_name(&names, r.to_unit.as_str()),
        count: r.applications.len(),
        status: i18n::label(lang, "rs_", &r.status),
        incoming: r.incoming_number,
        revision: r.revision,
        docs,
    }
}

/// One application as a registry's page lists it.
pub struct RegistryLine {
    pub id: String,
    pub number: String,
    pub service: String,
    pub step: u32,
    pub status: String,
}

#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    tr: Tr,
    nav: Nav,
    r: RegistryRow,
    lines: Vec<RegistryLine>,
    docs: Vec<crate::documents::DocLink>,
}

/// A registry's page: its units, state and applications, its documents (PDF and
/// verification), and the actions the caller's unit may take; for whoever may see it.
pub async fn registry(State(st): State<AppState>, page: Page, Path(id): Path<String>) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let nav = Nav::for_ctx(&ctx, "/ws/registries");
    let lang = ctx.lang;
    let tr = Tr { lang };
    let reg = match RegistryId::parse(&id) {
        Ok(id) => st.engine.registry(&ctx.actor, &id).await,
        Err(e) => Err(e),
    };
    let reg = match reg {
        Ok(r) => r,
        Err(e) => return error_page(nav, lang, e, "/ws/registries"),
    };
    let apps = match st.engine.registry_applications(&ctx.actor, &reg.id).await {
        Ok(a) => a,
        Err(e) => return error_page(nav, lang, e, "/ws/registries"),
    };
    let lines = apps
        .into_iter()
        .map(|a| RegistryLine {
            id: a.id.to_string(),
            number: a.number,
            service: service_name(&st, &a.service, lang),
            step: a.step,
            status: i18n::label(lang, "st_", a.status.code()),
        })
        .collect();
    let mut r = registry_row(&st, &ctx.actor, ctx.actor.unit.as_ref(), reg, lang).await;
    let docs = std::mem::take(&mut r.docs);
    render(
        &RegistryPage {
            tr,
            nav,
            r,
            lines,
            docs,
        },
        lang,
    )
}

#[derive(Deserialize)]
pub struct FormRegistry {
    service: String,
    version: String,
    process: String,
    step: u32,
}

pub async fn form_registry(
    State(st): State<AppState>,
    page: Page,
    Form(f): Form<FormRegistry>,
) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let cmd = Command::FormRegistry {
        service: f.service,
        version: f.version,
        process: f.process,
        step: f.step,
    };
    match st.execute(&ctx.actor, &cmd, None).await {
        Ok(_) => Redirect::to("/ws/registries").into_response(),
        Err(e) => error_page(
            Nav::for_ctx(&ctx, "/ws/registries"),
            ctx.lang,
            e,
            "/ws/registries",
        ),
    }
}

#[derive(Deserialize)]
pub struct RegistryForm {
    revision: i64,
    incoming_number: Option<String>,
    /// The officer's signature of the registry's document (issue 33).
    draft: Option<String>,
    signature: Option<String>,
}

pub async fn registry_act(
    State(st): State<AppState>,
    page: Page,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<RegistryForm>,
) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let nav = Nav::for_ctx(&ctx, "/ws/registries");
    // A refusal comes back on the registries page, beside the registry (issue 29).
    let back_to_page = |e: ApiError| {
        let (st, ctx) = (st.clone(), ctx.clone());
        let error = RegistryError {
            registry: id.clone(),
            message: e.message(ctx.lang),
            incoming: f.incoming_number.clone().unwrap_or_default(),
        };
        let status = e.status();
        async move {
            let mut r = registries_page(&st, &ctx, Some(error)).await;
            if r.status().is_success() {
                *r.status_mut() = status;
            }
            r
        }
    };
    let registry = match RegistryId::parse(&id) {
        Ok(r) => r,
        Err(e) => return error_page(nav, ctx.lang, e, "/ws/registries"),
    };
    let cmd = match action.as_str() {
        "sign" => Command::SignRegistry {
            registry,
            revision: f.revision,
        },
        "send" => Command::SendRegistry {
            registry,
            revision: f.revision,
        },
        "receive" => Command::ReceiveRegistry {
            registry,
            revision: f.revision,
            incoming_number: f.incoming_number.clone().filter(|n| !n.trim().is_empty()),
        },
        _ => {
            return error_page(
                nav,
                ctx.lang,
                ApiError::not_found(ctx.lang),
                "/ws/registries",
            )
        }
    };
    if let Command::SignRegistry { registry, .. } | Command::SendRegistry { registry, .. } = &cmd {
        let submitted = crate::documents::signing::Submitted {
            draft: f.draft.clone().filter(|d| !d.is_empty()),
            signature: f.signature.clone().filter(|s| !s.is_empty()),
        };
        if let Err(e) = crate::documents::signing::gate_registry(
            &st, &ctx.actor, ctx.lang, registry, &submitted,
        )
        .await
        {
            return back_to_page(e).await;
        }
    }
    match st.execute(&ctx.actor, &cmd, None).await {
        Ok(_) => Redirect::to("/ws/registries").into_response(),
        Err(e) => back_to_page(ApiError::from(e)).await,
    }
}

/// A signing page's first call (issue 33): the registry's document rendered for the
/// signed-in officer's signature, as JSON (the bytes to sign, the draft); an error as
/// `{"message": …}` in the officer's language.
pub async fn registry_signature_draft(
    State(st): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let result = async {
        let reg = st
            .engine
            .registry(&ctx.actor, &RegistryId::parse(&id)?)
            .await?;
        crate::documents::signing::prepare_registry(&st, &ctx.actor, lang, &reg).await
    }
    .await;
    signature_json(&st, lang, result)
}

/// The application's document waiting for the signed-in officer's signature, rendered for
/// it (see [`registry_signature_draft`]).
pub async fn application_signature_draft(
    State(st): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    let ctx = match signed_in(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let result = async {
        let app = st
            .engine
            .application(&ctx.actor, &ApplicationId::parse(&id)?, "ws:signature")
            .await?;
        crate::documents::signing::prepare_application(&st, &ctx.actor, lang, &app).await
    }
    .await;
    signature_json(&st, lang, result)
}

fn signature_json(
    st: &AppState,
    lang: Lang,
    result: Result<crate::documents::signing::Prepared, ApiError>,
) -> Response {
    match result {
        Ok(p) => axum::Json(serde_json::json!({
            "draft": p.draft,
            "data": p.data,
            "iin": p.iin,
            "signer": st.config.signatures.signer_url(),
        }))
        .into_response(),
        Err(e) => (
            e.status(),
            axum::Json(serde_json::json!({ "message": e.message(lang) })),
        )
            .into_response(),
    }
}

/// Keeps a typed unit id in scope for pages that add unit filters later.
pub fn unit_param(s: &str) -> Option<UnitId> {
    UnitId::parse(s).ok()
}

/// The service-specific fields of the accept form (`d.KEY`, `d.KEY.SUB`) as the intake's
/// data; empty fields are left out, "true" is a yes. The portal's form sends the same.
pub(crate) fn form_data(pairs: &[(String, String)]) -> serde_json::Value {
    let mut data = serde_json::json!({});
    for (name, value) in pairs {
        let Some(path) = name.strip_prefix("d.") else {
            continue;
        };
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        let v = if v == "true" {
            serde_json::Value::Bool(true)
        } else {
            serde_json::Value::String(v.to_string())
        };
        match path.split_once('.') {
            Some((outer, inner)) => {
                if !data[outer].is_object() {
                    data[outer] = serde_json::json!({});
                }
                data[outer][inner] = v;
            }
            None => data[path] = v,
        }
    }
    data
}
