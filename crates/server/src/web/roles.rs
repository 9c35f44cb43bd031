//! The supervisor's, the auditor's and the administrator's pages: open and overdue
//! applications by unit and by step with drill-down; the audit log with filters and the
//! chain's verification; units, users and the calendar's transfers of days off.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use drn_core::{Iin, Lang};
use drn_engine::setup::NewStaff;
use drn_engine::supervision::AuditFilter;
use drn_engine::{Role, Unit, UnitId, UnitKind};
use serde::Deserialize;

use super::{charts, error_page, i18n, kz, render, to_login, Nav, Tr};
use crate::auth::{self, Ctx};
use crate::error::ApiError;
use crate::AppState;

type Page = Result<Ctx, ApiError>;

// A redirect to the sign-in page; boxing it would only move the cost to every caller.
#[allow(clippy::result_large_err)]
fn staff(page: Page) -> Result<Ctx, Response> {
    match page {
        Ok(ctx) if ctx.actor.role != Role::Citizen => Ok(ctx),
        _ => Err(to_login(false)),
    }
}

/// Counts in a table row.
pub struct CountRow {
    pub id: String,
    pub label: String,
    pub detail: String,
    pub open: i64,
    pub due_today: i64,
    pub overdue: i64,
    /// Results waiting for the applicant to come (no clock: issue 30 item 12).
    pub awaiting_applicant: i64,
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct SupervisionPage {
    tr: Tr,
    nav: Nav,
    d: Dash,
    /// The query string of the filters, for the CSV links.
    query: String,
    trend_svg: String,
    times_svg: String,
}

impl SupervisionPage {
    /// The period as the page's other dates read (dd.mm.yyyy); the date fields keep ISO.
    fn period(&self) -> String {
        format!(
            "{} – {}",
            super::pages::dmy(&self.d.from),
            super::pages::dmy(&self.d.to)
        )
    }
}

/// Step times in a table row.
pub struct TimeRow {
    pub label: String,
    pub detail: String,
    pub completed: i64,
    pub within: i64,
    pub share: String,
    pub mean: String,
    pub p90: String,
    pub limit: String,
    pub mean_limit: String,
    pub mean_secs: i64,
    pub p90_secs: i64,
    pub limit_secs: i64,
}

/// What the supervisor's dashboard shows (and its CSV files export).
pub struct Dash {
    pub area: String,
    /// (id, label, selected) of the area's units, to narrow the view.
    pub unit_options: Vec<(String, String, bool)>,
    pub from: String,
    pub to: String,
    pub total: CountRow,
    pub regions: Vec<CountRow>,
    pub units: Vec<CountRow>,
    pub steps: Vec<CountRow>,
    pub times: Vec<TimeRow>,
    pub trend: Vec<drn_engine::supervision::DayTrend>,
}

#[derive(Deserialize, Default)]
pub struct SupervisionQuery {
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// For the CSV: regions, units, steps, times or trend.
    table: Option<String>,
}

/// A date as the rest of the pages write it (31.12.2019), not ISO.
fn dmy(d: jiff::civil::Date) -> String {
    super::pages::dmy(&d.to_string())
}

/// At most `n` characters, with an ellipsis when cut, at a word's end where one is near
/// (not "…экземпляром сводного р").
pub(crate) fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n).collect();
        if let Some(i) = out
            .rfind(char::is_whitespace)
            .filter(|i| *i > out.len() / 2)
        {
            out.truncate(i);
            out.truncate(out.trim_end_matches([',', ';', ':', ' ']).len());
        }
        out.push('…');
        out
    }
}

fn unit_label(tr: Tr, u: &Unit) -> String {
    format!("{} · {}", u.id, tr.text(&u.name))
}

/// A duration for people: minutes below two hours (steps measured in minutes read
/// "12 мин.", not "0.2 ч"), hours below two days, days from there.
fn span(tr: Tr, secs: i64) -> String {
    if secs >= 2 * 86_400 {
        format!("{:.1} {}", secs as f64 / 86_400.0, tr.t("days_short"))
    } else if secs >= 2 * 3_600 {
        format!("{:.1} {}", secs as f64 / 3_600.0, tr.t("hours_short"))
    } else {
        format!("{} {}", (secs + 30) / 60, tr.t("minutes_short"))
    }
}

/// A catalog step's limit as a person reads it in `lang` (by urgency where it differs):
/// "30 мин.", "2 рабочих дня", not the catalog's "30 min", "2 wd".
fn limit_text(
    st: &AppState,
    lang: Lang,
    service: &str,
    version: &str,
    process: &str,
    n: u32,
) -> String {
    use drn_core::catalog::StepLimit;
    let Some(step) = st
        .engine
        .locate(service, version, process)
        .ok()
        .and_then(|(_, p)| p.step(n).cloned())
    else {
        return String::new();
    };
    match &step.limit {
        StepLimit::Single(l) => l.amount.text(lang),
        StepLimit::ByUrgency(m) => m
            .iter()
            .map(|(u, l)| format!("{}: {}", i18n::urgency(lang, *u), l.amount.text(lang)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// A service's process as a table names it: "S1 (2018)" for its main process, the
/// way of another beside the version (through a counter), not the catalog's id.
fn process_label(lang: Lang, service: &str, version: &str, process: &str) -> String {
    if process == "main" {
        format!("{service} ({version})")
    } else {
        let p = i18n::label(lang, "proc_", process);
        format!("{service} ({version}, {p})")
    }
}

fn step_detail(
    st: &AppState,
    tr: Tr,
    service: &str,
    version: &str,
    process: &str,
    n: u32,
) -> String {
    format!(
        "{n}. {}",
        st.engine
            .locate(service, version, process)
            .ok()
            .and_then(|(_, p)| p.step(n))
            .map(|x| tr.text(&x.action).to_string())
            .unwrap_or_default()
    )
}

fn count_row(
    id: String,
    label: String,
    detail: String,
    c: &drn_engine::supervision::Counts,
) -> CountRow {
    CountRow {
        id,
        label,
        detail,
        open: c.open,
        due_today: c.due_today,
        overdue: c.overdue,
        awaiting_applicant: c.awaiting_applicant,
    }
}

/// The days shown when the filters give none: the last 30 days, today included.
const DEFAULT_DAYS: i64 = 30;

/// Everything the dashboard shows, for the supervisor's area or the part under `unit`.
async fn dashboard(st: &AppState, ctx: &Ctx, q: &SupervisionQuery) -> Result<Dash, ApiError> {
    let lang = ctx.lang;
    let tr = Tr { lang };
    let date = |field: &str, v: &Option<String>| -> Result<Option<jiff::civil::Date>, ApiError> {
        match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|e: jiff::Error| ApiError::bad_input(lang, Some(field), &e.to_string())),
        }
    };
    let today = st.engine.now().to_zoned(st.engine.tz.clone()).date();
    let to = date("to", &q.to)?.unwrap_or(today);
    let from = match date("from", &q.from)? {
        Some(f) => f,
        None => to
            .checked_sub(jiff::Span::new().days(DEFAULT_DAYS - 1))
            .map_err(|e| ApiError::bad_input(lang, Some("to"), &e.to_string()))?,
    };
    let unit = match q.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Some(UnitId::parse(u)?),
        None => None,
    };
    let e = &st.engine;
    let s = e.supervision_at(&ctx.actor, unit.as_ref()).await?;
    let area_units = e.supervision_area(&ctx.actor).await?;
    let times = e.step_times(&ctx.actor, unit.as_ref(), from, to).await?;
    let trend = e.trend(&ctx.actor, unit.as_ref(), from, to).await?;
    let loads = |v: &[drn_engine::supervision::UnitLoad]| -> Vec<CountRow> {
        v.iter()
            .map(|l| {
                count_row(
                    l.unit.id.to_string(),
                    unit_label(tr, &l.unit),
                    i18n::label(lang, "kind_", l.unit.kind.code()),
                    &l.counts,
                )
            })
            .collect()
    };
    let steps = s
        .by_step
        .iter()
        .map(|l| {
            count_row(
                String::new(),
                process_label(tr.lang, &l.service, &l.version, &l.process),
                step_detail(st, tr, &l.service, &l.version, &l.process, l.step),
                &l.counts,
            )
        })
        .collect();
    let times = times
        .iter()
        .map(|t| TimeRow {
            label: process_label(tr.lang, &t.service, &t.version, &t.process),
            detail: step_detail(st, tr, &t.service, &t.version, &t.process, t.step),
            completed: t.completed,
            within: t.within_limit,
            share: if t.completed > 0 {
                format!("{:.1}%", 100.0 * t.within_limit as f64 / t.completed as f64)
            } else {
                String::new()
            },
            mean: span(tr, t.mean_secs),
            p90: span(tr, t.p90_secs),
            limit: limit_text(st, tr.lang, &t.service, &t.version, &t.process, t.step),
            mean_limit: span(tr, t.mean_limit_secs),
            mean_secs: t.mean_secs,
            p90_secs: t.p90_secs,
            limit_secs: t.mean_limit_secs,
        })
        .collect();
    let selected = unit.as_ref().map(|u| u.to_string()).unwrap_or_default();
    Ok(Dash {
        area: unit_label(tr, &s.root),
        unit_options: area_units
            .iter()
            .map(|u| {
                let id = u.id.to_string();
                let sel = id == selected;
                (id, unit_label(tr, u), sel)
            })
            .collect(),
        from: from.to_string(),
        to: to.to_string(),
        total: count_row(
            String::new(),
            tr.t("total").to_string(),
            String::new(),
            &s.total,
        ),
        regions: loads(&s.by_region),
        units: loads(&s.by_unit),
        steps,
        times,
        trend,
    })
}

/// The filters as a query string (for the CSV links).
fn dash_query(d: &Dash, unit: Option<&str>) -> String {
    let mut q = format!("from={}&to={}", d.from, d.to);
    if let Some(u) = unit.map(str::trim).filter(|u| !u.is_empty()) {
        q.push_str(&format!("&unit={}", urlencode(u)));
    }
    q
}

pub async fn supervision(
    State(st): State<AppState>,
    page: Page,
    Query(q): Query<SupervisionQuery>,
) -> Response {
    let ctx = match staff(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let nav = Nav::for_ctx(&ctx, "/ws/supervision");
    let lang = ctx.lang;
    let tr = Tr { lang };
    if let Err(e) = ctx.require(&[Role::Supervisor]) {
        return error_page(nav, lang, e, "/");
    }
    let d = match dashboard(&st, &ctx, &q).await {
        Ok(d) => d,
        Err(e) => return error_page(nav, lang, e, "/ws/supervision"),
    };
    let days: Vec<String> = d.trend.iter().map(|t| t.day.to_string()).collect();
    let trend_svg = charts::lines(
        "trend-chart",
        &format!("{}: {} – {}", tr.t("trend_by_day"), d.from, d.to),
        tr.t("trend_desc"),
        &days,
        &[
            charts::Series {
                name: tr.t("accepted_n"),
                class: "s1",
                values: d.trend.iter().map(|t| t.accepted).collect(),
            },
            charts::Series {
                name: tr.t("issued_n"),
                class: "s2",
                values: d.trend.iter().map(|t| t.issued).collect(),
            },
            charts::Series {
                name: tr.t("late_steps"),
                class: "s3",
                values: d.trend.iter().map(|t| t.late).collect(),
            },
        ],
    );
    let bars: Vec<charts::TimeBar> = d
        .times
        .iter()
        .map(|t| charts::TimeBar {
            label: format!("{} · {}", t.label, t.detail),
            mean_secs: t.mean_secs,
            p90_secs: t.p90_secs,
            limit_secs: t.limit_secs,
            text: format!(
                "{} · {}: {} {}, {} {}, {} {}",
                t.label,
                t.detail,
                tr.t("mean_time"),
                t.mean,
                tr.t("p90_time"),
                t.p90,
                tr.t("mean_limit"),
                t.mean_limit
            ),
        })
        .collect();
    let times_svg = charts::time_bars(
        "times-chart",
        &format!("{}: {} – {}", tr.t("step_times"), d.from, d.to),
        tr.t("step_times_desc"),
        [tr.t("mean_time"), tr.t("p90_time"), tr.t("mean_limit")],
        &bars,
    );
    let query = dash_query(&d, q.unit.as_deref());
    render(
        &SupervisionPage {
            tr,
            nav,
            d,
            query,
            trend_svg,
            times_svg,
        },
        lang,
    )
}

/// A cell with a leading `=`, `+`, `-` or `@` defused (a spreadsheet would take it for a
/// formula); the quoting is the `csv` crate's.
fn defused(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The field separator of a CSV for `lang`: a semicolon for Kazakh and Russian (Excel in
/// those locales splits on `;`, its list separator, since the comma is their decimal
/// mark), a comma for English.
fn csv_delimiter(lang: Lang) -> u8 {
    if lang == Lang::En {
        b','
    } else {
        b';'
    }
}

/// Hours as a CSV number in `lang`'s spreadsheet convention (a decimal comma in kk/ru).
fn csv_hours(lang: Lang, secs: i64) -> String {
    let s = format!("{:.2}", secs as f64 / 3600.0);
    if lang == Lang::En {
        s
    } else {
        s.replace('.', ",")
    }
}

/// A CSV file: a BOM first (Excel then reads it as UTF-8: Cyrillic names), CRLF line ends,
/// fields quoted only when they must be, separated as `lang`'s Excel expects.
fn csv(
    lang: Lang,
    head: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<String, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(csv_delimiter(lang))
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer("\u{FEFF}".as_bytes().to_vec());
    w.write_record(head.iter().map(|h| defused(h)))?;
    for r in rows {
        w.write_record(r.iter().map(|c| defused(c)))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    // Only `String`s went in.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// GET /ws/supervision.csv?table=regions|units|steps|times|trend&unit=&from=&to=: one
/// table of the dashboard as CSV (UTF-8 with a BOM), headers in the session's language.
pub async fn supervision_csv(
    State(st): State<AppState>,
    page: Page,
    Query(q): Query<SupervisionQuery>,
) -> Response {
    let ctx = match page {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let lang = ctx.lang;
    let tr = Tr { lang };
    if let Err(e) = ctx.require(&[Role::Supervisor]) {
        return e.into_response();
    }
    let table = q.table.clone().unwrap_or_else(|| "units".into());
    if !["regions", "units", "steps", "times", "trend"].contains(&table.as_str()) {
        return ApiError::bad_input(lang, Some("table"), "regions, units, steps, times or trend")
            .into_response();
    }
    let d = match dashboard(&st, &ctx, &q).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let counts = |rows: &[CountRow], first: &str, second: &str| {
        csv(
            lang,
            &[
                first,
                second,
                tr.t("open"),
                tr.t("due_today"),
                tr.t("overdue"),
            ],
            rows.iter().map(|r| {
                vec![
                    r.label.clone(),
                    r.detail.clone(),
                    r.open.to_string(),
                    r.due_today.to_string(),
                    r.overdue.to_string(),
                ]
            }),
        )
    };
    let body = match table.as_str() {
        "regions" => counts(&d.regions, tr.t("unit"), tr.t("kind")),
        "units" => counts(&d.units, tr.t("unit"), tr.t("kind")),
        "steps" => counts(&d.steps, tr.t("service"), tr.t("step")),
        "times" => csv(
            lang,
            &[
                tr.t("service"),
                tr.t("step"),
                tr.t("completed_n"),
                tr.t("within_limit"),
                tr.t("share_within"),
                tr.t("mean_hours"),
                tr.t("p90_hours"),
                tr.t("limit"),
                tr.t("mean_limit_hours"),
            ],
            d.times.iter().map(|t| {
                vec![
                    t.label.clone(),
                    t.detail.clone(),
                    t.completed.to_string(),
                    t.within.to_string(),
                    t.share.clone(),
                    csv_hours(lang, t.mean_secs),
                    csv_hours(lang, t.p90_secs),
                    t.limit.clone(),
                    csv_hours(lang, t.limit_secs),
                ]
            }),
        ),
        _ => csv(
            lang,
            &[
                tr.t("day"),
                tr.t("accepted_n"),
                tr.t("issued_n"),
                tr.t("late_steps"),
            ],
            d.trend.iter().map(|t| {
                vec![
                    t.day.to_string(),
                    t.accepted.to_string(),
                    t.issued.to_string(),
                    t.late.to_string(),
                ]
            }),
        ),
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "supervision CSV");
            return ApiError::internal().into_response();
        }
    };
    let name = format!("supervision-{table}-{}-{}.csv", d.from, d.to);
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub struct OpenRow {
    pub id: String,
    pub number: String,
    pub service: String,
    pub step: String,
    pub status: String,
    pub applicant: String,
    pub due: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "supervision_unit.html")]
struct SupervisionUnitPage {
    tr: Tr,
    nav: Nav,
    unit: String,
    rows: Vec<OpenRow>,
}

pub async fn supervision_unit(
    State(st): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> Response {
    let ctx = match staff(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let path = format!("/ws/supervision/unit/{id}");
    let nav = Nav::for_ctx(&ctx, &path);
    let lang = ctx.lang;
    let tr = Tr { lang };
    if let Err(e) = ctx.require(&[Role::Supervisor]) {
        return error_page(nav, lang, e, "/");
    }
    let unit = match UnitId::parse(&id) {
        Ok(u) => u,
        Err(e) => return error_page(nav, lang, e, "/ws/supervision"),
    };
    let (u, items) = match st.engine.supervised_unit(&ctx.actor, &unit, 500).await {
        Ok(x) => x,
        Err(e) => return error_page(nav, lang, e, "/ws/supervision"),
    };
    let rows = items
        .into_iter()
        .map(|q| {
            let a = q.application;
            let action = st
                .engine
                .locate(&a.service, &a.version, &a.process)
                .ok()
                .and_then(|(_, p)| p.step(a.step))
                .map(|s| clip(&tr.text(&s.action), 140))
                .unwrap_or_default();
            OpenRow {
                id: a.id.to_string(),
                number: a.number,
                service: super::pages::service_name(&st, &a.service, lang),
                step: format!("{}. {action}", a.step),
                status: i18n::label(lang, "st_", a.status.code()),
                applicant: a.applicant,
                due: a.step_due_at.map(kz).unwrap_or_default(),
                overdue: q.overdue,
            }
        })
        .collect();
    render(
        &SupervisionUnitPage {
            tr,
            nav,
            unit: unit_label(tr, &u),
            rows,
        },
        lang,
    )
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    subject: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    tr: Tr,
    nav: Nav,
    whole: bool,
    records: i64,
    problem: String,
    subject: String,
    actor: String,
    action: String,
    from: String,
    to: String,
    limits: Vec<(i64, bool)>,
    shown: String,
    rows: Vec<AuditRow>,
    newer: Option<String>,
    older: Option<String>,
}

/// The query string of the audit page with another offset.
fn audit_link(q: &AuditQuery, limit: i64, offset: i64) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("subject", &q.subject),
        ("actor", &q.actor),
        ("action", &q.action),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            parts.push(format!("{k}={}", urlencode(v.trim())));
        }
    }
    parts.push(format!("limit={limit}"));
    parts.push(format!("offset={offset}"));
    format!("/ws/audit?{}", parts.join("&"))
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub async fn audit(
    State(st): State<AppState>,
    page: Page,
    Query(q): Query<AuditQuery>,
) -> Response {
    let ctx = match staff(page) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let nav = Nav::for_ctx(&ctx, "/ws/audit");
    let lang = ctx.lang;
    if let Err(e) = ctx.require(&[Role::Auditor, Role::Administrator]) {
        return error_page(nav, lang, e, "/");
    }
    let date = |field: &str, v: &Option<String>| -> Result<Option<jiff::civil::Date>, ApiError> {
        match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|e: jiff::Error| ApiError::bad_input(lang, Some(field), &e.to_string())),
        }
    };
    let (from, to) = match (date("from", &q.from), date("to", &q.to)) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return error_page(nav, lang, e, "/ws/audit"),
    };
    let filter = AuditFilter {
        subject: q.subject.clone(),
        actor: q.actor.clone(),
        action: q.action.clone(),
        from,
        to,
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let offset = q.offset.unwrap_or(0).max(0);
    let verification = match st.engine.verify_audit().await {
        Ok(v) => v,
        Err(e) => return error_page(nav, lang, e, "/"),
    };
    let (records, more) = match st
        .engine
        .audit_search(&ctx.actor, &filter, limit, offset)
        .await
    {
        Ok(x) => x,
        Err(e) => return error_page(nav, lang, e, "/ws/audit"),
    };
    let rows: Vec<AuditRow> = records
        .into_iter()
        .map(|r| AuditRow {
            seq: r.seq,
            at: kz(r.at),
            actor: r.actor,
            // A command the engine refused is kept as "denied:issue".
            action: match r.action.strip_prefix("denied:") {
                Some(c) => format!(
                    "{}: {}",
                    i18n::t(lang, "au_denied"),
                    i18n::label(lang, "au_", c)
                ),
                None => i18n::label(lang, "au_", &r.action),
            },
            subject: r.subject,
            detail: clip(&r.detail, 300),
        })
        .collect();
    let page = AuditPage {
        tr: Tr { lang },
        whole: verification.broken_at.is_none(),
        records: verification.records,
        problem: match (verification.broken_at, verification.problem) {
            (Some(at), Some(p)) => format!("{at}: {p}"),
            (Some(at), None) => at.to_string(),
            _ => String::new(),
        },
        subject: q.subject.clone().unwrap_or_default(),
        actor: q.actor.clone().unwrap_or_default(),
        action: q.action.clone().unwrap_or_default(),
        from: from.map(|d| d.to_string()).unwrap_or_default(),
        to: to.map(|d| d.to_string()).unwrap_or_default(),
        limits: [20, 50, 100, 200]
            .into_iter()
            .map(|n| (n, n == limit))
            .collect(),
        shown: format!("{}–{}", offset + 1, offset + rows.len() as i64),
        rows,
        newer: (offset > 0).then(|| audit_link(&q, limit, (offset - limit).max(0))),
        older: more.then(|| audit_link(&q, limit, offset + limit)),
        nav,
    };
    render(&page, lang)
}

pub struct UnitRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub parent: String,
    pub depth: usize,
}

pub struct RegionGroup {
    pub title: String,
    pub units: Vec<UnitRow>,
}

pub struct UserRow {
    pub username: String,
    pub name: String,
    pub role: String,
    pub unit: String,
    pub active: bool,
    pub is_me: bool,
}

pub struct TransferRow {
    pub year: i16,
    pub off: String,
    pub work: String,
    pub cite: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    tr: Tr,
    nav: Nav,
    regions: Vec<RegionGroup>,
    users: Vec<UserRow>,
    roles: Vec<(String, String)>,
    unit_options: Vec<(String, String)>,
    transfers: Vec<TransferRow>,
    /// Transfers an administrator added (in force from the next start).
    stored: Vec<TransferRow>,
    years: String,
    /// The online renewal pilot's last day in the catalog, and as extended.
    pilot_catalog_until: String,
    pilot_until: String,
    /// (until, cite, by, at) of each extension.
    pilot_extensions: Vec<(String, String, String, String)>,
}

/// The roles an administrator may give (not citizens, not the system).
const STAFF_ROLES: &[Role] = &[
    Role::CounterOperator,
    Role::DistrictOfficer,
    Role::RegionalOfficer,
    Role::CentralOfficer,
    Role::ProductionOperator,
    Role::Supervisor,
    Role::Auditor,
    Role::Administrator,
];

/// The unit tree: one group for the units above the regions (the centre, production),
/// then one per region with its units depth first.
fn unit_groups(tr: Tr, units: &[Unit]) -> Vec<RegionGroup> {
    fn walk(tr: Tr, units: &[Unit], at: &Unit, depth: usize, out: &mut Vec<UnitRow>) {
        out.push(UnitRow {
            id: at.id.to_string(),
            kind: i18n::label(tr.lang, "kind_", at.kind.code()),
            name: tr.text(&at.name).to_string(),
            parent: at
                .parent
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            depth,
        });
        for c in units.iter().filter(|u| u.parent.as_ref() == Some(&at.id)) {
            if c.kind != UnitKind::Region {
                walk(tr, units, c, depth + 1, out);
            }
        }
    }
    let mut top = Vec::new();
    for root in units.iter().filter(|u| u.parent.is_none()) {
        walk(tr, units, root, 0, &mut top);
    }
    let mut groups = vec![RegionGroup {
        title: tr.t("centre_units").to_string(),
        units: top,
    }];
    for r in units.iter().filter(|u| u.kind == UnitKind::Region) {
        let mut rows = Vec::new();
        walk(tr, units, r, 0, &mut rows);
        groups.push(RegionGroup {
            title: format!("{} · {}", r.id, tr.text(&r.name)),
            units: rows,
        });
    }
    groups
}

#[derive(Deserialize, Default)]
pub struct AdminQuery {
    created: Option<String>,
    deactivated: Option<String>,
}

pub async fn admin(
    State(st): State<AppState>,
    page: Page,
    Query(q): Query<AdminQuery>,
) -> Response {
    let (ctx, mut nav) = match administrator(page) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let tr = Tr { lang };
    let units = match st.engine.units().await {
        Ok(u) => u,
        Err(e) => return error_page(nav, lang, e, "/"),
    };
    let users = match st.engine.staff_users(&ctx.actor).await {
        Ok(u) => u,
        Err(e) => return error_page(nav, lang, e, "/"),
    };
    nav.flash = match (q.created, q.deactivated) {
        (Some(u), _) => Some(format!("{}: {u}", tr.t("user_created"))),
        (_, Some(u)) => Some(format!("{}: {u}", tr.t("user_deactivated"))),
        _ => None,
    };
    let users = users
        .into_iter()
        .map(|u| UserRow {
            is_me: u.username == ctx.actor.id,
            username: u.username,
            name: u.full_name,
            role: i18n::label(lang, "role_", u.role.code()),
            unit: u.unit.to_string(),
            active: u.active,
        })
        .collect();
    let (y0, y1) = st.engine.calendar.years();
    let pilot = match st.engine.pilot_period().await {
        Ok(p) => p,
        Err(e) => return error_page(nav, lang, e, "/"),
    };
    let pilot_extensions = match st.engine.pilot_extensions().await {
        Ok(x) => x
            .into_iter()
            .map(|x| (dmy(x.until), x.cite, x.added_by, kz(x.added_at)))
            .collect(),
        Err(e) => return error_page(nav, lang, e, "/"),
    };
    let transfers = st
        .engine
        .calendar
        .transfers()
        .iter()
        .map(|t| TransferRow {
            year: t.year,
            off: t.off.map(dmy).unwrap_or_default(),
            work: t.work.map(dmy).unwrap_or_default(),
            cite: t.cite.clone(),
        })
        .collect();
    let page = AdminPage {
        tr,
        regions: unit_groups(tr, &units),
        users,
        roles: STAFF_ROLES
            .iter()
            .map(|r| (r.code().to_string(), i18n::label(lang, "role_", r.code())))
            .collect(),
        unit_options: units
            .iter()
            .map(|u| (u.id.to_string(), unit_label(tr, u)))
            .collect(),
        transfers,
        stored: st
            .engine
            .stored_transfers()
            .await
            .unwrap_or_default()
            .iter()
            .map(|t| TransferRow {
                year: t.year,
                off: t.off.map(dmy).unwrap_or_default(),
                work: t.work.map(dmy).unwrap_or_default(),
                cite: t.cite.clone(),
            })
            .collect(),
        years: format!("{y0}–{y1}"),
        pilot_catalog_until: pilot.0.map(dmy).unwrap_or_default(),
        pilot_until: pilot.1.or(pilot.0).map(dmy).unwrap_or_default(),
        pilot_extensions,
        nav,
    };
    render(&page, lang)
}

/// The administrator's pages: a staff session with the administrator's role, and its frame.
#[allow(clippy::result_large_err)] // the Err is the page to send, built once
fn administrator(page: Page) -> Result<(Ctx, Nav), Response> {
    let ctx = staff(page)?;
    let nav = Nav::for_ctx(&ctx, "/ws/admin");
    match ctx.require(&[Role::Administrator]) {
        Ok(()) => Ok((ctx, nav)),
        Err(e) => Err(error_page(nav, ctx.lang, e, "/")),
    }
}

#[derive(Deserialize)]
pub struct PilotForm {
    until: String,
    cite: String,
}

/// An administrator extends the online renewal pilot's period (issue 6); audited.
pub async fn extend_pilot(
    State(st): State<AppState>,
    page: Page,
    Form(f): Form<PilotForm>,
) -> Response {
    let (ctx, nav) = match administrator(page) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let back = "/ws/admin#pilot";
    let until: jiff::civil::Date = match f.until.trim().parse() {
        Ok(d) => d,
        Err(e) => {
            let e: jiff::Error = e;
            return error_page(
                nav,
                lang,
                ApiError::bad_input(lang, Some("until"), &e.to_string()),
                back,
            );
        }
    };
    match st.engine.extend_pilot(&ctx.actor, until, &f.cite).await {
        Ok(()) => Redirect::to("/ws/admin#pilot").into_response(),
        Err(e) => error_page(nav, lang, e, back),
    }
}

#[derive(Deserialize)]
pub struct TransferForm {
    year: String,
    off: Option<String>,
    work: Option<String>,
    cite: String,
}

/// An administrator adds a transfer of a day off (a new decree); it applies from the next
/// start of the server, like an edit of catalog/calendar/kz.toml.
pub async fn add_transfer(
    State(st): State<AppState>,
    page: Page,
    Form(f): Form<TransferForm>,
) -> Response {
    let (ctx, nav) = match administrator(page) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let back = "/ws/admin#new-transfer";
    let date = |field: &str, v: Option<String>| -> Result<Option<jiff::civil::Date>, ApiError> {
        match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|e: jiff::Error| ApiError::bad_input(lang, Some(field), &e.to_string())),
        }
    };
    let parsed = (|| {
        let year: i16 = f
            .year
            .trim()
            .parse()
            .map_err(|_| ApiError::bad_input(lang, Some("year"), "a year like 2027"))?;
        Ok::<_, ApiError>(drn_core::calendar::TransferDef {
            year,
            off: date("off", f.off)?,
            work: date("work", f.work)?,
            cite: f.cite.trim().to_string(),
        })
    })();
    let t = match parsed {
        Ok(t) => t,
        Err(e) => return error_page(nav, lang, e, back),
    };
    match st.engine.add_transfer(&ctx.actor, t).await {
        Ok(()) => Redirect::to("/ws/admin#calendar").into_response(),
        Err(e) => error_page(nav, lang, e, back),
    }
}

#[derive(Deserialize)]
pub struct NewUserForm {
    username: String,
    full_name: String,
    role: String,
    unit: String,
    password: String,
    /// The officer's IIN: the one their signing certificate carries (issue 33).
    #[serde(default)]
    iin: String,
    /// Their position, in Kazakh and in Russian (printed beside their signature).
    #[serde(default)]
    position_kk: String,
    #[serde(default)]
    position_ru: String,
}

/// The shortest password an administrator may set.
pub const MIN_PASSWORD: usize = 10;

fn valid_username(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

pub async fn create_user(
    State(st): State<AppState>,
    page: Page,
    Form(f): Form<NewUserForm>,
) -> Response {
    let (ctx, nav) = match administrator(page) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let bad = |field: &str, why: &str| {
        error_page(
            nav.clone(),
            lang,
            ApiError::bad_input(lang, Some(field), why),
            "/ws/admin#new-user",
        )
    };
    let username = f.username.trim().to_string();
    if !valid_username(&username) {
        return bad(
            "username",
            "3 to 64 characters: lower-case Latin letters, digits, '.', '_', '-'",
        );
    }
    let full_name = f.full_name.trim().to_string();
    if full_name.is_empty() {
        return bad("full_name", "the name is required");
    }
    let role = match Role::parse(&f.role) {
        Ok(r) if STAFF_ROLES.contains(&r) => r,
        _ => return bad("role", "choose a staff role"),
    };
    let unit = match UnitId::parse(f.unit.trim()) {
        Ok(u) => u,
        Err(e) => return error_page(nav, lang, e, "/ws/admin#new-user"),
    };
    match st.engine.units().await {
        Ok(us) if us.iter().any(|u| u.id == unit) => {}
        Ok(_) => return bad("unit", "no such unit"),
        Err(e) => return error_page(nav, lang, e, "/ws/admin"),
    }
    if f.password.chars().count() < MIN_PASSWORD {
        return bad("password", "at least 10 characters");
    }
    let iin = match f.iin.trim() {
        "" => None,
        s => match Iin::parse(s) {
            Ok(i) => Some(i.to_string()),
            Err(e) => {
                return error_page(
                    nav,
                    lang,
                    ApiError::invalid_value(lang, Some("iin"), &e.to_string()),
                    "/ws/admin#new-user",
                )
            }
        },
    };
    let (kk, ru) = (f.position_kk.trim(), f.position_ru.trim());
    if kk.chars().count() > 200 || ru.chars().count() > 200 {
        return bad("position", "at most 200 characters");
    }
    let position = (!kk.is_empty() || !ru.is_empty()).then(|| {
        let (kk, ru) = (
            if kk.is_empty() { ru } else { kk },
            if ru.is_empty() { kk } else { ru },
        );
        drn_core::Text::new(kk, ru, ru)
    });
    let new = NewStaff {
        id: username.clone(),
        username: username.clone(),
        full_name,
        role,
        unit,
        iin,
        position,
        password_hash: auth::hash_password(&f.password),
    };
    match st.engine.create_staff(&ctx.actor, &[new]).await {
        Ok(()) => {
            Redirect::to(&format!("/ws/admin?created={}", urlencode(&username))).into_response()
        }
        Err(e) => error_page(nav, lang, e, "/ws/admin#new-user"),
    }
}

pub async fn deactivate_user(
    State(st): State<AppState>,
    page: Page,
    Path(username): Path<String>,
) -> Response {
    let (ctx, nav) = match administrator(page) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    match st.engine.deactivate_staff(&ctx.actor, &username).await {
        Ok(()) => {
            Redirect::to(&format!("/ws/admin?deactivated={}", urlencode(&username))).into_response()
        }
        Err(e) => error_page(nav, lang, e, "/ws/admin"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_links() {
        assert!(valid_username("op.astana.9"));
        assert!(!valid_username("Op Astana"));
        assert!(!valid_username("ab"));
        assert_eq!(urlencode("person:1 2/ж"), "person:1%202%2F%D0%B6");
        let q = AuditQuery {
            actor: Some("admin".into()),
            subject: Some(" ".into()),
            ..AuditQuery::default()
        };
        assert_eq!(
            audit_link(&q, 50, 100),
            "/ws/audit?actor=admin&limit=50&offset=100"
        );
    }
}
