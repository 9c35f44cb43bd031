//! Sign-in and the request context: staff by username and password (argon2), citizens by
//! IIN, password and a one-time code to their phone, other state systems by a bearer token.
//! Sessions are server-side rows keyed by the hash of the cookie's token.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use drn_core::{Iin, Lang};
use drn_engine::accounts::NewSession;
use drn_engine::{Actor, EngineError, Role, UnitId};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "drn_session";
pub const LANG_COOKIE: &str = "drn_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends after this long without a request.
pub const IDLE: SignedDuration = SignedDuration::from_mins(30);
/// And after this long in any case.
pub const ABSOLUTE: SignedDuration = SignedDuration::from_hours(12);
/// Failures before a lockout, and its length.
pub const MAX_FAILURES: i64 = 5;
pub const LOCKOUT: SignedDuration = SignedDuration::from_mins(15);

/// Lets a page's form send its CSRF token as a hidden `_csrf` field rather than in its
/// action's address, where it would show in the address bar, the history and the logs
/// (issue 28 item 11): a form-encoded POST without the header gets the field's value as
/// the header, which [`Ctx`] then checks as for any other request. The body is passed on
/// unchanged.
pub async fn csrf_from_form(req: Request, next: Next) -> Response {
    let form = req.method() == Method::POST
        && !req.headers().contains_key(CSRF_HEADER)
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::BODY_LIMIT).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    // The token is hex, so it needs no percent-decoding; anything else does not match.
    let token = std::str::from_utf8(&bytes).ok().and_then(|b| {
        b.split('&')
            .find_map(|kv| kv.strip_prefix("_csrf="))
            .and_then(|t| HeaderValue::from_str(t).ok())
    });
    if let Some(t) = token {
        parts.headers.insert(CSRF_HEADER, t);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A random token: 244 bits from the OS (two v4 UUIDs).
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> String {
    let mut salt_bytes = [0u8; 16];
    salt_bytes.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    // Sixteen bytes always encode; should they not, the empty hash never verifies.
    let Ok(salt) = SaltString::encode_b64(&salt_bytes) else {
        return String::new();
    };
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The caller's language: the `drn_lang` cookie, else `Accept-Language`, else Russian.
pub fn lang_of(parts: &Parts) -> Lang {
    if let Some(l) = cookie(parts, LANG_COOKIE) {
        match l.as_str() {
            "kk" => return Lang::Kk,
            "ru" => return Lang::Ru,
            "en" => return Lang::En,
            _ => {}
        }
    }
    parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::negotiate)
        .unwrap_or_default()
}

pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The language alone, for routes open to everyone.
pub struct LangOf(pub Lang);

impl FromRequestParts<AppState> for LangOf {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        Ok(LangOf(lang_of(parts)))
    }
}

/// The authenticated caller of a request and their language.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub lang: Lang,
    /// The session's hash, for cookie sessions.
    pub session: Option<String>,
    /// The session's CSRF token, for the forms of HTML pages.
    pub csrf: Option<String>,
}

impl Ctx {
    /// Refuses unless the actor has one of these roles.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.actor.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden_role(self.lang))
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let lang = lang_of(parts);
        let internal = |_| ApiError::internal();
        if let Some(auth) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            let token = auth
                .strip_prefix("Bearer ")
                .ok_or_else(|| ApiError::unauthenticated(lang))?;
            let client = st
                .engine
                .api_client(&sha256_hex(token.trim()))
                .await
                .map_err(internal)?
                .ok_or_else(|| ApiError::unauthenticated(lang))?;
            let role = Role::parse(&client.role).map_err(internal)?;
            let unit = UnitId::parse(&client.unit).map_err(internal)?;
            return Ok(Ctx {
                actor: Actor {
                    id: format!("client:{}", client.name),
                    role,
                    unit: Some(unit),
                    iin: None,
                },
                lang,
                session: None,
                csrf: None,
            });
        }
        let token = cookie(parts, SESSION_COOKIE).ok_or_else(|| ApiError::unauthenticated(lang))?;
        let hash = sha256_hex(&token);
        // Every request reads its session: through the read side's fast path.
        let row = st
            .engine
            .session(&hash)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::unauthenticated(lang))?;
        let now = st.engine.now();
        let created =
            Timestamp::from_microsecond(row.created_at).map_err(|_| ApiError::internal())?;
        let last = Timestamp::from_microsecond(row.last_seen).map_err(|_| ApiError::internal())?;
        if now.duration_since(last) > IDLE || now.duration_since(created) > ABSOLUTE {
            let _ = end_session(st, &hash).await;
            return Err(ApiError::unauthenticated(lang));
        }
        let csrf = row.csrf;
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method {
            // The header (API clients, htmx) or, for plain HTML forms, the `_csrf` query
            // parameter of the form's action.
            let from_query = parts.uri.query().and_then(|q| {
                q.split('&')
                    .find_map(|kv| kv.strip_prefix("_csrf="))
                    .map(String::from)
            });
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(String::from)
                .or(from_query)
                .unwrap_or_default();
            if sent != csrf {
                return Err(ApiError::csrf(lang));
            }
        }
        // Touch the session at most once a minute: sliding expiry without a write per request.
        if now.duration_since(last) > SignedDuration::from_mins(1) {
            let _ = st.engine.touch_session(&hash, now).await;
        }
        let subject = row.subject;
        let role = Role::parse(&row.role).map_err(internal)?;
        let unit = row
            .unit
            .map(|u| UnitId::parse(&u))
            .transpose()
            .map_err(internal)?;
        let iin = row
            .iin
            .map(|i| Iin::parse(&i))
            .transpose()
            .map_err(|_| ApiError::internal())?;
        let id = if role == Role::Citizen {
            format!("citizen:{subject}")
        } else {
            subject
        };
        Ok(Ctx {
            actor: Actor {
                id,
                role,
                unit,
                iin,
            },
            lang,
            session: Some(hash),
            csrf: Some(csrf),
        })
    }
}

/// Is the account locked: for how many more minutes; records nothing.
pub async fn locked_for(st: &AppState, key: &str) -> Result<Option<i64>, EngineError> {
    let now = st.engine.now().as_microsecond();
    Ok(st
        .engine
        .locked_until(key)
        .await?
        .map(|t| t.as_microsecond())
        .filter(|until| *until > now)
        .map(|until| (until - now) / 60_000_000 + 1))
}

/// Counts a failure; locks after MAX_FAILURES (the count then starts again).
pub async fn record_failure(st: &AppState, key: &str) -> Result<(), EngineError> {
    let until = st.engine.now().as_microsecond() + LOCKOUT.as_micros() as i64;
    let until =
        Timestamp::from_microsecond(until).map_err(|e| EngineError::Corrupt(e.to_string()))?;
    st.engine
        .record_sign_in_failure(key, MAX_FAILURES, until)
        .await
}

pub async fn clear_failures(st: &AppState, key: &str) -> Result<(), EngineError> {
    st.engine.clear_sign_in_failures(key).await
}

/// Creates a session; returns (cookie token, csrf token).
pub async fn create_session(
    st: &AppState,
    kind: &str,
    subject: &str,
    role: Role,
    unit: Option<&UnitId>,
    iin: Option<&Iin>,
) -> Result<(String, String), EngineError> {
    let token = random_token();
    let csrf = random_token();
    st.engine
        .create_session(NewSession {
            id_hash: &sha256_hex(&token),
            kind,
            subject,
            role: role.code(),
            unit: unit.map(|u| u.as_str().to_string()),
            iin: iin.map(|i| i.to_string()),
            csrf: &csrf,
            at: st.engine.now(),
        })
        .await?;
    Ok((token, csrf))
}

/// Ends a session (sign-out).
pub async fn end_session(st: &AppState, id_hash: &str) -> Result<(), EngineError> {
    st.engine.end_session(id_hash).await
}

/// The Set-Cookie value of a session (Secure behind TLS).
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        ABSOLUTE.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Opens a citizen's portal account (the demo, or the e-government identity provider),
/// or replaces its password and phone.
pub async fn create_citizen_account(
    st: &AppState,
    iin: &Iin,
    password: &str,
    phone: &str,
) -> Result<(), EngineError> {
    st.engine
        .put_citizen_account(&iin.to_string(), &hash_password(password), phone)
        .await
}

/// Registers an API client of another state system; returns its bearer token (shown once).
pub async fn create_api_client(
    st: &AppState,
    name: &str,
    role: Role,
    unit: &UnitId,
) -> Result<String, EngineError> {
    let token = random_token();
    st.engine
        .add_api_client(&sha256_hex(&token), name, role.code(), unit.as_str())
        .await?;
    Ok(token)
}
