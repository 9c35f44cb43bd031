//! The workstation's pages and pieces for the services other than passports: the service
//! journals, the counter's tasks (the chip rewrite after a portal registration, S3) and the
//! address search of the counter's S3 and S5 forms.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use drn_core::{Iin, Lang};
use drn_engine::services::JOURNALS;
use drn_engine::{Actor, ApplicationId, Role, UnitId};
use serde::Deserialize;

use super::{error_page, i18n, kz, render, to_login, Nav, Tr};
use crate::auth::Ctx;
use crate::error::ApiError;
use crate::AppState;

type Page = Result<Ctx, ApiError>;

/// Staff who read journals: the acting units (their own unit's) and the centre, supervisors
/// and auditors (every unit's, or one).
const JOURNAL_READERS: &[Role] = &[
    Role::CounterOperator,
    Role::DistrictOfficer,
    Role::RegionalOfficer,
    Role::CentralOfficer,
    Role::Supervisor,
    Role::Auditor,
];

/// Whether the role reads every unit's journal (the API's scope).
fn reads_all(role: Role) -> bool {
    matches!(
        role,
        Role::CentralOfficer | Role::Supervisor | Role::Auditor | Role::System
    )
}

pub struct JournalRow {
    pub number: String,
    pub at: String,
    pub service: String,
    pub unit: String,
    pub subject: String,
    pub application: Option<String>,
    pub details: String,
}

#[derive(Template)]
#[template(path = "journals.html")]
struct JournalsPage {
    tr: Tr,
    nav: Nav,
    journals: Vec<(&'static str, String)>,
    journal: String,
    all_units: bool,
    units: Vec<(String, String)>,
    unit: String,
    /// The unit by name ("Алматы ауданы", not "D71-1").
    unit_name: String,
    rows: Vec<JournalRow>,
}

#[derive(Deserialize)]
pub struct JournalQuery {
    journal: Option<String>,
    unit: Option<String>,
}

/// A short line of an entry's data: its scalar fields, `field: value` with the field's name
/// in the reader's language, the foreigner's name.
fn details(d: &serde_json::Value, lang: drn_core::Lang) -> String {
    let Some(o) = d.as_object() else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (k, v) in o {
        let k = super::i18n::label(lang, "f_", k);
        match v {
            serde_json::Value::String(s) => parts.push(format!("{k}: {s}")),
            serde_json::Value::Number(n) => parts.push(format!("{k}: {n}")),
            serde_json::Value::Bool(b) => parts.push(format!("{k}: {b}")),
            serde_json::Value::Array(a) => parts.push(format!(
                "{k}: {}",
                a.iter()
                    .map(|x| x
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| x.to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            serde_json::Value::Object(f) if f.contains_key("passport") => parts.push(format!(
                "{} {} ({} {})",
                f.get("surname").and_then(|x| x.as_str()).unwrap_or(""),
                f.get("given_name").and_then(|x| x.as_str()).unwrap_or(""),
                f.get("citizenship").and_then(|x| x.as_str()).unwrap_or(""),
                f.get("passport").and_then(|x| x.as_str()).unwrap_or("")
            )),
            _ => {}
        }
    }
    let s = parts.join(" · ");
    if s.chars().count() > 300 {
        s.chars().take(300).chain(std::iter::once('…')).collect()
    } else {
        s
    }
}

/// The journals screen: a journal chosen from the list, the unit's own (or, for the centre,
/// supervisors and auditors, every unit's or one).
pub async fn journals(
    State(st): State<AppState>,
    page: Page,
    Query(q): Query<JournalQuery>,
) -> Response {
    let ctx = match page {
        Ok(c) if c.actor.role != Role::Citizen => c,
        _ => return to_login(false),
    };
    let nav = Nav::for_ctx(&ctx, "/ws/journals");
    let lang = ctx.lang;
    let tr = Tr { lang };
    if let Err(e) = ctx.require(JOURNAL_READERS) {
        return error_page(nav, lang, e, "/");
    }
    let journal = q
        .journal
        .filter(|j| JOURNALS.iter().any(|(k, _)| k == j))
        .unwrap_or_else(|| JOURNALS[0].0.to_string());
    let all_units = reads_all(ctx.actor.role);
    let unit: Option<UnitId> = if all_units {
        q.unit
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .and_then(|u| UnitId::parse(u).ok())
    } else {
        ctx.actor.unit.clone()
    };
    let entries = match st
        .engine
        .journal(&ctx.actor, &journal, unit.as_ref(), 200)
        .await
    {
        Ok(e) => e,
        Err(e) => return error_page(nav, lang, e, "/ws"),
    };
    let units = if all_units {
        st.engine
            .units()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|u| (u.id.to_string(), tr.text(&u.name).to_string()))
            .collect()
    } else {
        vec![]
    };
    let names = super::pages::unit_names(&st, lang).await;
    let name_of = |id: String| names.get(&id).cloned().unwrap_or(id);
    let rows = entries
        .into_iter()
        .map(|e| JournalRow {
            number: e.number,
            at: kz(e.at),
            service: e.service,
            unit: name_of(e.unit.to_string()),
            subject: e.subject,
            application: e.application.map(|a| a.to_string()),
            details: details(&e.data, ctx.lang),
        })
        .collect();
    render(
        &JournalsPage {
            journals: JOURNALS
                .iter()
                .map(|(j, s)| (*j, format!("{s} · {}", tr.t(&format!("journal_{j}")))))
                .collect(),
            journal,
            all_units,
            units,
            unit_name: unit
                .as_ref()
                .map(|u| name_of(u.to_string()))
                .unwrap_or_default(),
            unit: unit.map(|u| u.to_string()).unwrap_or_default(),
            rows,
            tr,
            nav,
        },
        lang,
    )
}

/// A counter task as a page shows it.
pub struct TaskView {
    pub id: String,
    pub kind: String,
    pub application: Option<String>,
    pub created: String,
    pub done: Option<String>,
    pub address: String,
}

/// The counter tasks of a person (all, or those of one application), newest first.
pub async fn tasks_of(
    st: &AppState,
    actor: &Actor,
    lang: drn_core::Lang,
    person: &str,
    application: Option<&ApplicationId>,
) -> Vec<TaskView> {
    let Ok(iin) = Iin::parse(person) else {
        return vec![];
    };
    st.engine
        .counter_tasks(actor, &iin)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|t| application.is_none() || t.application.as_ref() == application)
        .map(|t| TaskView {
            id: t.id,
            kind: i18n::label(lang, "task_", &t.kind),
            application: t.application.map(|a| a.to_string()),
            created: kz(t.created_at),
            done: t
                .done_at
                .map(|d| format!("{} · {}", kz(d), t.done_by.unwrap_or_default())),
            address: t.data["address"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct TaskForm {
    back: Option<String>,
}

/// The counter does a waiting task (rewrites the chip), then returns to the page it came from.
pub async fn complete_task(
    State(st): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    Form(f): Form<TaskForm>,
) -> Response {
    let ctx = match page {
        Ok(c) if c.actor.role != Role::Citizen => c,
        _ => return to_login(false),
    };
    // Only local paths: never an open redirect.
    let back = f
        .back
        .filter(|b| b.starts_with("/ws") && !b.starts_with("//"))
        .unwrap_or_else(|| "/ws".into());
    let nav = Nav::for_ctx(&ctx, &back);
    match st.engine.complete_counter_task(&ctx.actor, &id).await {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => error_page(nav, ctx.lang, e, &back),
    }
}

/// An address found by the counter's search.
pub struct AddressRow {
    pub rka: String,
    pub full: String,
    pub kind: String,
    /// The district the address is in, in the reader's language.
    pub district: String,
}

/// The code chosen from the address register's search (16 digits), or none.
pub fn rka_picked(rka: Option<String>) -> String {
    rka.filter(|r| r.len() == 16 && r.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or_default()
}

/// The address register's matches for the counter's search field (none for an empty query;
/// the error's text for a query the register refuses).
pub async fn search_addresses(
    st: &AppState,
    ctx: &Ctx,
    q: &str,
) -> Result<Vec<AddressRow>, String> {
    if q.trim().is_empty() {
        return Ok(vec![]);
    }
    let msg = |e: drn_engine::EngineError| ApiError::from(e).message(ctx.lang);
    let found = st
        .engine
        .search_addresses(&ctx.actor, q, 20)
        .await
        .map_err(msg)?;
    let mut katos: Vec<String> = found.iter().map(|a| a.kato.clone()).collect();
    katos.sort();
    katos.dedup();
    let names = st
        .engine
        .district_names(&ctx.actor, &katos)
        .await
        .map_err(msg)?;
    let lang = match ctx.lang {
        Lang::Kk => 0,
        Lang::Ru => 1,
        Lang::En => 2,
    };
    Ok(found
        .into_iter()
        .map(|a| AddressRow {
            district: names
                .get(&a.kato)
                .map(|n| n[lang].clone())
                .unwrap_or_default(),
            rka: a.rka,
            full: a.full,
            kind: a.kind,
        })
        .collect())
}
