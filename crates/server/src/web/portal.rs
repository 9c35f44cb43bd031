//! The citizen portal: sign-in with password and one-time code, my applications with
//! status and expected date, and who read my data.

use askama::Template;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Response};
use drn_core::Lang;
use drn_engine::Role;
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
    Form(f): Form<First>,
) -> Response {
    match crate::api::citizen_first_factor(&st, lang, &f.iin, &f.password).await {
        Ok(c) => login_page(lang, None, Some(c.challenge), c.phone),
        Err(e) => (
            e.status,
            login_page(lang, Some(e.message), None, String::new()),
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
    Form(f): Form<Second>,
) -> Response {
    match crate::api::citizen_second_factor(&st, lang, &f.challenge, &f.code).await {
        Ok((token, _, _)) => redirect_with_cookie(
            "/portal",
            auth::session_cookie(&token, st.config.secure_cookies),
        ),
        Err(e) => (
            e.status,
            login_page(lang, Some(e.message), Some(f.challenge), String::new()),
        )
            .into_response(),
    }
}

fn citizen(page: Result<Ctx, ApiError>) -> Result<Ctx, Response> {
    match page {
        Ok(c) if c.actor.role == Role::Citizen => Ok(c),
        _ => Err(to_login(true)),
    }
}

pub struct Row {
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
        Err(e) => return error_page(nav, ctx.lang, ctx.err(e), "/portal"),
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
    let records =
        match drn_engine::audit::list(&st.engine.db, Some(&format!("person:{iin}")), 500).await {
            Ok(r) => r,
            Err(e) => return error_page(nav, ctx.lang, ctx.err(e), "/portal"),
        };
    let rows = records
        .into_iter()
        .filter(|r| r.action.starts_with("read_"))
        .map(|r| (kz(r.at), r.actor, r.action))
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
