//! The browser interface: server-rendered pages (askama) that work without JavaScript,
//! with htmx where it helps. The operator workstation by role, and the sign-in pages.
//! Each page calls the same engine commands and queries as the JSON API.

pub mod charts;
pub mod i18n;
pub mod pages;
pub mod portal;
pub mod renewal;
pub mod roles;
pub mod services;

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use drn_core::{Lang, Text};
use drn_engine::Role;
use jiff::Timestamp;

use crate::auth::Ctx;
use crate::error::ApiError;

/// Translation access for templates.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn text<'a>(&self, t: &'a Text) -> &'a str {
        t.get(self.lang)
    }
}

/// What the page frame shows: who is signed in, the menu, the CSRF token for forms.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    pub user: String,
    pub role: String,
    pub unit: String,
    pub csrf: String,
    pub links: Vec<(String, &'static str)>,
    pub path: String,
    pub flash: Option<String>,
}

impl Nav {
    /// The frame for a signed-in user: the menu their role has.
    pub fn for_ctx(ctx: &Ctx, path: &str) -> Nav {
        let links: Vec<(&str, &'static str)> = match ctx.actor.role {
            Role::CounterOperator => vec![
                ("/ws", "workstation"),
                ("/ws/registries", "registries"),
                ("/ws/journals", "journals"),
            ],
            Role::DistrictOfficer | Role::RegionalOfficer | Role::CentralOfficer => vec![
                ("/ws", "queue"),
                ("/ws/registries", "registries"),
                ("/ws/journals", "journals"),
            ],
            Role::ProductionOperator => {
                vec![("/ws", "queue"), ("/ws/registries", "registries")]
            }
            Role::Supervisor => vec![
                ("/ws/supervision", "supervision"),
                ("/ws/journals", "journals"),
            ],
            Role::Auditor => vec![("/ws/audit", "audit_log"), ("/ws/journals", "journals")],
            Role::Administrator => {
                vec![("/ws/admin", "administration"), ("/ws/audit", "audit_log")]
            }
            Role::Citizen => vec![
                ("/portal", "my_applications"),
                ("/portal/apply", "apply"),
                ("/portal/renewal", "renew_online"),
                ("/portal/documents", "my_documents"),
                ("/portal/reads", "data_reads"),
            ],
            Role::System => vec![],
        };
        Nav {
            user: ctx.actor.id.clone(),
            role: i18n::label(ctx.lang, "role_", ctx.actor.role.code()),
            unit: ctx
                .actor
                .unit
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_default(),
            csrf: ctx.csrf.clone().unwrap_or_default(),
            links: links.into_iter().map(|(h, l)| (h.to_string(), l)).collect(),
            path: path.to_string(),
            flash: None,
        }
    }

    /// The frame for a visitor who has not signed in.
    pub fn anonymous(path: &str) -> Nav {
        Nav {
            path: path.to_string(),
            ..Nav::default()
        }
    }
}

/// Renders a template into a response (500 with the error shape if rendering fails, in
/// the request's language: see [`crate::error::with_lang`]).
pub fn render<T: Template>(t: &T, _lang: Lang) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template");
            ApiError::internal().into_response()
        }
    }
}

/// Kazakhstan local time, to the minute, as people there write it (20.11.2019 09:30).
pub fn kz(ts: Timestamp) -> String {
    drn_core::kz_tz()
        .map(|tz| ts.to_zoned(tz).strftime("%d.%m.%Y %H:%M").to_string())
        .unwrap_or_else(|_| ts.to_string())
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub tr: Tr,
    pub nav: Nav,
    pub title: String,
    pub message: String,
    pub back: String,
}

/// A page telling what went wrong, with the error's own status.
pub fn error_page(nav: Nav, lang: Lang, e: impl Into<ApiError>, back: &str) -> Response {
    let e = e.into();
    let status = e.status();
    let page = MessagePage {
        tr: Tr { lang },
        nav,
        title: i18n::t(lang, "actions").to_string(),
        message: e.message(lang),
        back: back.to_string(),
    };
    (status, render(&page, lang)).into_response()
}

/// Where a page sends a visitor who is not signed in (or whose session ended).
pub fn to_login(citizen: bool) -> Response {
    Redirect::to(if citizen { "/portal/login" } else { "/login" }).into_response()
}

/// A redirect that also sets a cookie.
pub fn redirect_with_cookie(to: &str, cookie: String) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, to.to_string()),
            (header::SET_COOKIE, cookie),
        ],
    )
        .into_response()
}
