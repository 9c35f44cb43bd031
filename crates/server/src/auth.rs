//! Sign-in and the request context: staff by username and password (argon2), citizens by
//! IIN, password and a one-time code to their phone, other state systems by a bearer token.
//! Sessions are server-side rows keyed by the hash of the cookie's token.

use std::net::{IpAddr, SocketAddr};
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
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
/// One-time codes sent to one citizen's phone in an hour at most (issue 31 item 8).
pub const CODES_PER_HOUR: i64 = 5;

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

/// Failed sign-ins from one source address before it is locked for [`LOCKOUT`]: more
/// than one account's worth, since staff of an office may share an address (a NAT).
pub const MAX_ADDRESS_FAILURES: i64 = 20;

/// The source address of the request (the TCP peer), when the server was started with
/// it, and whether the request says it came through a proxy.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr {
    pub ip: Option<IpAddr>,
    /// A `Forwarded` or `X-Forwarded-For` header: the peer is a proxy, not the client.
    pub proxied: bool,
}

impl ClientAddr {
    pub fn of(parts: &Parts) -> ClientAddr {
        ClientAddr {
            ip: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
            proxied: parts.headers.contains_key("forwarded")
                || parts.headers.contains_key("x-forwarded-for"),
        }
    }

    /// Whether the request came from this machine: over the loopback interface and not
    /// through a proxy (as `/metrics` decides, see [`crate::metrics`]).
    pub fn is_loopback(&self) -> bool {
        !self.proxied
            && self.ip.is_some_and(|a| match a {
                IpAddr::V4(v4) => v4.is_loopback(),
                IpAddr::V6(v6) => {
                    v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
                }
            })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr::of(parts))
    }
}

/// A sign-in attempt reserved before its secret is checked (issue 31 items 1 and 8): one
/// attempt of the account and one of the source address, each counted as a failure until
/// [`Attempt::succeeded`]. Parallel guesses cannot pass the limit: the reservation that
/// reaches it locks the key at once (see [`drn_engine::Engine::reserve_sign_in_attempt`]).
#[derive(Debug)]
pub struct Attempt {
    account: String,
    addr: Option<String>,
}

impl Attempt {
    /// Reserves the attempt, or answers 429 with the minutes left of the lock.
    pub async fn reserve(
        st: &AppState,
        lang: Lang,
        account: &str,
        addr: ClientAddr,
    ) -> Result<Attempt, ApiError> {
        let addr = addr.ip.map(|a| format!("addr:{a}"));
        if let Some(key) = &addr {
            reserve_key(st, lang, key, MAX_ADDRESS_FAILURES).await?;
        }
        if let Err(e) = reserve_key(st, lang, account, MAX_FAILURES).await {
            if let Some(key) = &addr {
                st.engine.release_sign_in_attempt(key).await?;
            }
            return Err(e);
        }
        Ok(Attempt {
            account: account.to_string(),
            addr,
        })
    }

    /// The first of two factors was right: both reservations are given back, the
    /// account's earlier failures stay.
    pub async fn release(self, st: &AppState) -> Result<(), ApiError> {
        st.engine.release_sign_in_attempt(&self.account).await?;
        if let Some(key) = &self.addr {
            st.engine.release_sign_in_attempt(key).await?;
        }
        Ok(())
    }

    /// The secret was right: the account's failures are forgotten and the address's
    /// reservation given back.
    pub async fn succeeded(self, st: &AppState) -> Result<(), ApiError> {
        st.engine.clear_sign_in_failures(&self.account).await?;
        if let Some(key) = &self.addr {
            st.engine.release_sign_in_attempt(key).await?;
        }
        Ok(())
    }
}

async fn reserve_key(st: &AppState, lang: Lang, key: &str, max: i64) -> Result<(), ApiError> {
    let now = st.engine.now();
    let until = now
        .checked_add(LOCKOUT)
        .map_err(|e| EngineError::Corrupt(e.to_string()))?;
    match st
        .engine
        .reserve_sign_in_attempt(key, max, now, until)
        .await?
    {
        None => Ok(()),
        Some(locked) => {
            let left = (locked.as_microsecond() - now.as_microsecond()).max(0);
            Err(ApiError::locked(lang, left / 60_000_000 + 1))
        }
    }
}

/// A hash no password matches in practice, checked when the account does not exist so
/// that a wrong name takes as long as a wrong password (issue 31 item 4).
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&format!("no-account-{}", random_token())));

/// Checks `password` against the account's hash, or against a dummy hash when there is
/// no account (or it may not sign in): the same argon2 work either way.
pub fn verify_or_dummy(password: &str, hash: Option<&str>) -> bool {
    match hash {
        Some(h) => verify_password(password, h),
        None => {
            verify_password(password, &DUMMY_HASH);
            false
        }
    }
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
/// `bin`: the BIN its organisation's signing certificate carries, when it signs under its
/// own certificate (issue 33).
pub async fn create_api_client(
    engine: &drn_engine::Engine,
    name: &str,
    role: Role,
    unit: &UnitId,
    bin: Option<&drn_core::Bin>,
) -> Result<String, EngineError> {
    let token = random_token();
    engine
        .add_api_client(&sha256_hex(&token), name, role.code(), unit.as_str(), bin)
        .await?;
    Ok(token)
}

/// The first segments of the pages a redirect may go back to.
const LOCAL_PREFIXES: &[&str] = &["", "ws", "portal", "login", "verify"];

/// `back` when it is a path of one of this site's pages, else `/` (issue 31 item 3). A
/// path parses as a URI's path and query, starts with one `/` followed by a known first
/// segment, and neither it nor its percent-decoded forms hold a backslash, a control
/// character or a leading `//` (which browsers read as another host).
pub fn local_path(back: Option<&str>) -> &str {
    back.filter(|b| is_local_path(b)).unwrap_or("/")
}

fn is_local_path(b: &str) -> bool {
    if b.parse::<axum::http::uri::PathAndQuery>().is_err() {
        return false;
    }
    let mut text = b.to_string();
    // Twice encoded is as bad as once: decode until nothing changes (a few rounds).
    for _ in 0..4 {
        if !text.starts_with('/')
            || text.starts_with("//")
            || text.contains('\\')
            || text.chars().any(char::is_control)
        {
            return false;
        }
        match percent_decode(&text) {
            Some(d) if d != text => text = d,
            Some(_) => break,
            None => return false,
        }
    }
    let first = text[1..].split(['/', '?', '#']).next().unwrap_or_default();
    LOCAL_PREFIXES.contains(&first)
}

/// Percent-decodes `s` (`None` when the result is not UTF-8).
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied(), b.get(i + 2).copied()) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Refuses a state-changing request a browser sent from another site (issue 31 item 7),
/// the sign-in forms included (no session, so no CSRF token yet): by `Sec-Fetch-Site`
/// when the browser sends it (only `same-origin` and `none`, a typed address, pass), else
/// by `Origin`, whose host must be the request's `Host` or the configured public
/// address's. A request with neither header is not a browser's cross-site one (programs,
/// other state systems) and passes; SameSite=Strict cookies and the CSRF token still
/// guard sessions.
pub async fn same_origin(
    axum::extract::State(base_url): axum::extract::State<std::sync::Arc<str>>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let h = req.headers();
    let text = |name| h.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let ok = match (text("sec-fetch-site"), text(header::ORIGIN.as_str())) {
        (Some(site), _) => matches!(site, "same-origin" | "none"),
        (None, Some(origin)) => {
            let host_of = |u: &str| {
                u.parse::<axum::http::Uri>()
                    .ok()
                    .and_then(|u| u.authority().map(|a| a.as_str().to_ascii_lowercase()))
            };
            let origin = host_of(origin);
            let own = text(header::HOST.as_str()).map(str::to_ascii_lowercase);
            origin.is_some() && (origin == own || origin == host_of(&base_url))
        }
        (None, None) => true,
    };
    if ok {
        next.run(req).await
    } else {
        let (parts, _) = req.into_parts();
        ApiError::cross_site(lang_of(&parts)).into_response()
    }
}

/// Answers 404 to a request that did not come over the loopback interface (the demo's
/// sandboxed state systems, issue 31 item 12).
pub async fn loopback_only(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if ClientAddr::of(&parts).is_loopback() {
        next.run(Request::from_parts(parts, body)).await
    } else {
        ApiError::not_found(lang_of(&parts)).into_response()
    }
}
