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

    /// A catalog text in the reader's language. The Kazakh of the legal acts sometimes
    /// writes the letter і as the Latin i (an old keyboard's habit: «жерiнің»); inside a
    /// Kazakh word it is read as і, so a kk page shows no Latin letter there.
    pub fn text<'a>(&self, t: &'a Text) -> std::borrow::Cow<'a, str> {
        let s = t.get(self.lang);
        if self.lang == Lang::Kk {
            kk_letters(s)
        } else {
            std::borrow::Cow::Borrowed(s)
        }
    }
}

/// `s` with each Latin i (or I) that stands beside a Cyrillic letter made the Kazakh і (І).
pub fn kk_letters(s: &str) -> std::borrow::Cow<'_, str> {
    let cyr = |c: Option<&char>| c.is_some_and(|c| ('\u{0400}'..='\u{04FF}').contains(c));
    let chars: Vec<char> = s.chars().collect();
    let fix = |i: usize| {
        matches!(chars[i], 'i' | 'I')
            && (cyr(i.checked_sub(1).and_then(|j| chars.get(j))) || cyr(chars.get(i + 1)))
    };
    if !(0..chars.len()).any(fix) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        (0..chars.len())
            .map(|i| match chars[i] {
                'i' if fix(i) => 'і',
                'I' if fix(i) => 'І',
                c => c,
            })
            .collect(),
    )
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
            // A citizen's account is their IIN; the prefix is the audit log's.
            user: ctx
                .actor
                .id
                .strip_prefix("citizen:")
                .unwrap_or(&ctx.actor.id)
                .to_string(),
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
        // Not found: what a mistyped or stale address answers, said as such; anything else
        // was not done (not «Действия»).
        title: i18n::t(
            lang,
            if status == StatusCode::NOT_FOUND {
                "not_found"
            } else {
                "not_done"
            },
        )
        .to_string(),
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

#[cfg(test)]
mod tests {
    use super::kk_letters;

    /// The acts' Kazakh with a Latin i inside a word reads with the Kazakh і; Latin words
    /// and codes stay as they are.
    #[test]
    fn latin_i_in_kazakh_words() {
        assert_eq!(kk_letters("тұрғылықты жерiнің"), "тұрғылықты жерінің");
        assert_eq!(kk_letters("Iшкі істер"), "Ішкі істер");
        assert_eq!(kk_letters("S1E · iin · PDF"), "S1E · iin · PDF");
    }
}
