//! Sign-in and the request context: staff by username and password (argon2), citizens by
//! IIN, password and a one-time code to their phone, other state systems by a bearer token.
//! Sessions are server-side rows keyed by the hash of the cookie's token.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use drn_core::{Iin, Lang};
use drn_engine::{Actor, EngineError, Role, UnitId};
use drn_store::{Row, Statement, Value};
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

    pub fn err(&self, e: drn_engine::EngineError) -> ApiError {
        ApiError::engine(e, self.lang)
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let lang = lang_of(parts);
        let internal = |_| ApiError::internal(lang);
        if let Some(auth) = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            let token = auth
                .strip_prefix("Bearer ")
                .ok_or_else(|| ApiError::unauthenticated(lang))?;
            let row = st
                .engine
                .db
                .rows(Statement::new(
                    "SELECT name, role, unit_id FROM api_clients WHERE token_hash = $1",
                    vec![Value::from(sha256_hex(token.trim()))],
                ))
                .await
                .map_err(internal)?
                .pop()
                .ok_or_else(|| ApiError::unauthenticated(lang))?;
            let name: String = row.try_get(0).map_err(internal)?;
            let role = Role::parse(&row.try_get::<String, _>(1).map_err(internal)?)
                .map_err(|_| ApiError::internal(lang))?;
            let unit = UnitId::parse(&row.try_get::<String, _>(2).map_err(internal)?)
                .map_err(|_| ApiError::internal(lang))?;
            return Ok(Ctx {
                actor: Actor {
                    id: format!("client:{name}"),
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
            .db
            .rows(Statement::new(
                "SELECT kind, subject, role, unit_id, iin, csrf, created_at, last_seen FROM sessions WHERE id_hash = $1",
                vec![Value::from(hash.clone())],
            ))
            .await
            .map_err(internal)?
            .pop()
            .ok_or_else(|| ApiError::unauthenticated(lang))?;
        let now = st.engine.now();
        let created = Timestamp::from_microsecond(row.try_get(6).map_err(internal)?)
            .map_err(|_| ApiError::internal(lang))?;
        let last = Timestamp::from_microsecond(row.try_get(7).map_err(internal)?)
            .map_err(|_| ApiError::internal(lang))?;
        if now.duration_since(last) > IDLE || now.duration_since(created) > ABSOLUTE {
            let _ = end_session(st, &hash).await;
            return Err(ApiError::unauthenticated(lang));
        }
        let csrf: String = row.try_get(5).map_err(internal)?;
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
            let touch = vec![Value::from(now.as_microsecond()), Value::from(hash.clone())];
            let sql = "UPDATE sessions SET last_seen = $1 WHERE id_hash = $2";
            let _ = bookkeep(st, sql, touch).await;
        }
        let subject: String = row.try_get(1).map_err(internal)?;
        let role = Role::parse(&row.try_get::<String, _>(2).map_err(internal)?)
            .map_err(|_| ApiError::internal(lang))?;
        let unit = row
            .try_get::<Option<String>, _>(3)
            .map_err(internal)?
            .map(|u| UnitId::parse(&u))
            .transpose()
            .map_err(|_| ApiError::internal(lang))?;
        let iin = row
            .try_get::<Option<String>, _>(4)
            .map_err(internal)?
            .map(|i| Iin::parse(&i))
            .transpose()
            .map_err(|_| ApiError::internal(lang))?;
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

/// Is the account locked; records nothing.
pub async fn locked_for(st: &AppState, key: &str) -> Result<Option<i64>, drn_store::SqlxError> {
    let row = drn_store::query("SELECT locked_until FROM login_attempts WHERE key = $1")
        .bind(key.to_string())
        .fetch_optional(st.engine.db.reader())
        .await?;
    let now = st.engine.now().as_microsecond();
    Ok(row
        .and_then(|r| r.try_get::<Option<i64>, _>(0).ok().flatten())
        .filter(|until| *until > now)
        .map(|until| (until - now) / 60_000_000 + 1))
}

/// One statement of the server's bookkeeping through the engine's writer (see
/// [`drn_engine::Engine::write_bookkeeping`]).
async fn bookkeep(st: &AppState, sql: &str, args: Vec<Value>) -> Result<(), EngineError> {
    st.engine
        .write_bookkeeping(vec![Statement::new(sql, args)])
        .await
        .map(|_| ())
}

/// Counts a failure; locks after MAX_FAILURES (the count then starts again). One upsert
/// through the engine's writer: the read and the write cannot interleave with another
/// failure's.
pub async fn record_failure(st: &AppState, key: &str) -> Result<(), EngineError> {
    let until = st.engine.now().as_microsecond() + LOCKOUT.as_micros() as i64;
    let sql = "INSERT INTO login_attempts (key, failures, locked_until) \
        VALUES ($1, CASE WHEN 1 >= $2 THEN 0 ELSE 1 END, CASE WHEN 1 >= $2 THEN $3 END) \
        ON CONFLICT (key) DO UPDATE SET \
        failures = CASE WHEN login_attempts.failures + 1 >= $2 THEN 0 ELSE login_attempts.failures + 1 END, \
        locked_until = CASE WHEN login_attempts.failures + 1 >= $2 THEN $3 END";
    let args = vec![
        Value::from(key),
        Value::from(MAX_FAILURES),
        Value::from(until),
    ];
    bookkeep(st, sql, args).await
}

pub async fn clear_failures(st: &AppState, key: &str) -> Result<(), EngineError> {
    bookkeep(
        st,
        "DELETE FROM login_attempts WHERE key = $1",
        vec![Value::from(key)],
    )
    .await
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
    let now = st.engine.now().as_microsecond();
    let sql = "INSERT INTO sessions (id_hash, kind, subject, role, unit_id, iin, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let args = vec![
        Value::from(sha256_hex(&token)),
        Value::from(kind),
        Value::from(subject),
        Value::from(role.code()),
        Value::from(unit.map(|u| u.as_str().to_string())),
        Value::from(iin.map(|i| i.to_string())),
        Value::from(csrf.clone()),
        Value::from(now),
        Value::from(now),
    ];
    bookkeep(st, sql, args).await?;
    Ok((token, csrf))
}

/// Ends a session (sign-out).
pub async fn end_session(st: &AppState, id_hash: &str) -> Result<(), EngineError> {
    bookkeep(
        st,
        "DELETE FROM sessions WHERE id_hash = $1",
        vec![Value::from(id_hash)],
    )
    .await
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
    let sql = "INSERT INTO citizen_accounts (iin, password_hash, phone) VALUES ($1, $2, $3) \
        ON CONFLICT (iin) DO UPDATE SET password_hash = excluded.password_hash, phone = excluded.phone";
    let args = vec![
        Value::from(iin.to_string()),
        Value::from(hash_password(password)),
        Value::from(phone),
    ];
    bookkeep(st, sql, args).await
}

/// Registers an API client of another state system; returns its bearer token (shown once).
pub async fn create_api_client(
    st: &AppState,
    name: &str,
    role: Role,
    unit: &UnitId,
) -> Result<String, EngineError> {
    let token = random_token();
    bookkeep(
        st,
        "INSERT INTO api_clients (token_hash, name, role, unit_id) VALUES ($1, $2, $3, $4)",
        vec![
            Value::from(sha256_hex(&token)),
            Value::from(name),
            Value::from(role.code()),
            Value::from(unit.as_str()),
        ],
    )
    .await?;
    Ok(token)
}
