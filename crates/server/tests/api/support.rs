//! The test world of the server's tests, shared with the load bench (`#[path]` from
//! `benches/load.rs`): a demo server on a fresh database per scenario, served over real
//! HTTP on a free loopback port (`demo_server`, `spawn_app`); signed-in clients; and
//! `on_both!`, which runs a scenario on SQLite and, when DRN_TEST_POSTGRES holds a URL, on
//! PostgreSQL.

use std::path::Path;
use std::sync::Arc;

use drn_engine::demo::{DemoOptions, DemoReport};
use drn_engine::{catalog_files, Clock, Engine, ManualClock};
use drn_server::{AppState, Config};
use drn_store::Db;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub struct App {
    /// The engine's database, for the tests that read it directly.
    pub db: Db,
    pub base: String,
    pub report: DemoReport,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
}

pub async fn fresh_urls(name: &str) -> Vec<String> {
    drn_store::testkit::fresh_urls(name).await.unwrap()
}

/// Starts a real server on a free port over a fresh database filled with a small demo.
pub async fn spawn_app(url: &str) -> App {
    spawn_app_at(url, "2019-04-02T10:00:00+06:00").await
}

/// A demo server ready to be served: the engine over `url` (migrated) on `clock`, the demo
/// seeded with `persons` persons, a PKI in `pki_dir` and a listener on a free loopback port.
pub struct Demo {
    /// The engine's database, for the tests and benches that read it directly.
    pub db: Db,
    pub state: AppState,
    pub report: DemoReport,
    pub listener: tokio::net::TcpListener,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

/// See [`Demo`].
pub async fn demo_server(url: &str, clock: Arc<dyn Clock>, persons: usize, pki_dir: &Path) -> Demo {
    let db = Db::open(url).await.unwrap();
    db.migrate().await.unwrap();
    let (cat, cal) = catalog_files::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../catalog"
    )))
    .unwrap();
    let engine = Engine::new(db.clone(), cat, cal, clock).unwrap();
    let report = drn_engine::demo::seed(
        &engine,
        &DemoOptions { persons, seed: 7 },
        &drn_server::auth::hash_password,
    )
    .await
    .unwrap();
    let pki = drn_docs::Pki::open_or_create(pki_dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState {
        engine,
        config: Config {
            demo: true,
            secure_cookies: false,
            base_url: base.clone(),
            audit_anchors: Some(pki_dir.with_extension("anchors")),
            audit_anchor_url: None,
            signatures: Default::default(),
        },
        pki: Arc::new(pki),
    };
    Demo {
        db,
        state,
        report,
        listener,
        base,
    }
}

/// [`spawn_app`] with the clock at `start`.
pub async fn spawn_app_at(url: &str, start: &str) -> App {
    spawn_app_with(url, start, |_| {}).await
}

/// [`spawn_app_at`] with the server's configuration changed by `configure`.
pub async fn spawn_app_with(url: &str, start: &str, configure: impl FnOnce(&mut Config)) -> App {
    let clock = Arc::new(ManualClock::new(start.parse().unwrap()));
    let pki_dir = std::env::temp_dir().join(format!("drn-api-pki-{}", uuid::Uuid::new_v4()));
    let Demo {
        db,
        state,
        report,
        listener,
        base,
    } = demo_server(url, clock.clone(), 300, &pki_dir).await;
    let mut state = state;
    configure(&mut state.config);
    for (iin, pw, _) in &report.citizens {
        drn_server::auth::create_citizen_account(&state, iin, pw, "+7 701 234 56 78")
            .await
            .unwrap();
    }
    tokio::spawn(drn_server::serve_on(state.clone(), listener));
    App {
        db,
        base,
        report,
        state,
        clock,
    }
}

/// A signed-in browser-like client: a cookie jar and the session's CSRF token.
pub struct Client {
    pub http: reqwest::Client,
    pub csrf: String,
    pub base: String,
}

impl Client {
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

pub fn jar_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

/// [`jar_client`] that does not follow redirects (to see a Post/Redirect/Get's 303).
pub fn jar_client_no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl App {
    pub fn password(&self, user: &str) -> String {
        self.report
            .accounts
            .iter()
            .find(|a| a.username == user)
            .unwrap_or_else(|| panic!("no demo account {user}"))
            .password
            .clone()
    }

    /// The Astana chain of S1, signed in: counter, district, region, centre, production.
    pub async fn s1_chain(&self) -> [Client; 5] {
        [
            self.login("op.astana.1").await,
            self.login("district.astana").await,
            self.login("region.astana").await,
            self.login("centre").await,
            self.login("production").await,
        ]
    }

    /// A registered API client of another state system acting as `role` at `unit`, its
    /// requests carrying its bearer token; `bin`, when it signs under its own certificate.
    pub async fn api_client(
        &self,
        name: &str,
        role: drn_engine::Role,
        unit: &drn_engine::UnitId,
        bin: Option<&drn_core::Bin>,
    ) -> Client {
        let token = drn_server::auth::create_api_client(&self.state.engine, name, role, unit, bin)
            .await
            .unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        Client {
            http: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap(),
            csrf: String::new(),
            base: self.base.clone(),
        }
    }

    /// The unit of a demo account.
    pub fn unit_of(&self, user: &str) -> drn_engine::UnitId {
        self.report
            .accounts
            .iter()
            .find(|a| a.username == user)
            .unwrap_or_else(|| panic!("no demo account {user}"))
            .unit
            .clone()
    }

    pub async fn login(&self, user: &str) -> Client {
        self.login_on(jar_client(), user).await
    }

    /// [`App::login`] on a client of the caller's making (one that does not follow
    /// redirects, say).
    pub async fn login_on(&self, http: reqwest::Client, user: &str) -> Client {
        let r = http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({ "username": user, "password": self.password(user) }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login {user}");
        let cookie = r
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let v: Value = r.json().await.unwrap();
        Client {
            http,
            csrf: v["csrf_token"].as_str().unwrap().to_string(),
            base: self.base.clone(),
        }
    }
}

pub fn outcome_app(v: &Value) -> &Value {
    &v["application"]
}

/// Accepts an S1 application at `c`'s counter (general urgency) for `applicant`, through
/// the API: the application.
pub async fn accept_s1(c: &Client, applicant: &impl std::fmt::Display) -> Value {
    let (s, v) = c
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": applicant.to_string() }))
        .await;
    assert_eq!(s, 200, "{v}");
    outcome_app(&v).clone()
}

/// Completes the application's current step: the application after it.
pub async fn complete_step(c: &Client, a: &Value) -> Value {
    let (s, v) = try_complete_step(c, a).await;
    assert_eq!(s, 200, "{v}");
    outcome_app(&v).clone()
}

/// Asks to complete the application's current step: the status and the answer.
pub async fn try_complete_step(c: &Client, a: &Value) -> (StatusCode, Value) {
    let (s, v) = c
        .post(
            &format!(
                "/api/v1/applications/{}/complete",
                a["id"].as_str().unwrap()
            ),
            json!({ "revision": a["revision"] }),
        )
        .await;
    (s, v)
}

/// Forms and signs a registry at `from`'s unit for the application's step: its id and
/// the signed registry.
pub async fn form_and_sign(from: &Client, app: &Value) -> (String, Value) {
    let (s, v) = from
        .post("/api/v1/registries", json!({ "service": app["service"], "version": app["version"], "process": app["process"], "step": app["step"] }))
        .await;
    assert_eq!(s, 200, "{v}");
    let reg = &v["registries"][0];
    let id = reg["id"].as_str().unwrap().to_string();
    let (s, v) = from
        .post(
            &format!("/api/v1/registries/{id}/sign"),
            json!({ "revision": reg["revision"] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    (id, v["registry"].clone())
}

/// Sends a signed registry and receives it at `to` under `incoming`: the receipt's answer.
pub async fn send_and_receive(
    from: &Client,
    to: &Client,
    id: &str,
    signed: &Value,
    incoming: &str,
) -> (reqwest::StatusCode, Value) {
    let (s, v) = from
        .post(
            &format!("/api/v1/registries/{id}/send"),
            json!({ "revision": signed["revision"] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    to.post(
        &format!("/api/v1/registries/{id}/receive"),
        json!({ "revision": v["registry"]["revision"], "incoming_number": incoming }),
    )
    .await
}

/// The application as `c` reads it now.
pub async fn app_now(c: &Client, app: &Value) -> Value {
    let (s, a) = c
        .get(&format!(
            "/api/v1/applications/{}",
            app["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200, "{a}");
    a
}

/// A page's HTML (answered 200).
pub async fn page(c: &Client, path: &str) -> String {
    let r = c
        .http
        .get(format!("{}{path}", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// The citizen's applications of `service`, as the API lists them to them.
pub async fn my_applications(citizen: &Client, service: &str) -> Vec<Value> {
    let (s, mine) = citizen.get("/api/v1/my/applications").await;
    assert_eq!(s, 200, "{mine}");
    mine.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["service"] == service)
        .cloned()
        .collect()
}

/// Sends the portal's apply form as `citizen` (with their session's CSRF token).
pub async fn portal_apply(
    citizen: &Client,
    form: Vec<(&'static str, String)>,
) -> reqwest::Result<reqwest::Response> {
    citizen
        .http
        .post(format!(
            "{}/portal/apply?_csrf={}",
            citizen.base, citizen.csrf
        ))
        .form(&form)
        .send()
        .await
}

/// The portal's S8 form as a citizen sends it: the counter `unit`, the form's one-time key
/// `idem`, the foreigner (surname, given name, citizenship, passport; a woman born
/// 18.04.1992) and the last day of the stay `until`.
pub fn s8_portal_form(
    unit: &str,
    idem: &str,
    foreigner: [&str; 4],
    until: &str,
) -> Vec<(&'static str, String)> {
    let [surname, given_name, citizenship, passport] = foreigner;
    [
        ("service", "S8"),
        ("idem", idem),
        ("unit", unit),
        ("urgency", "general"),
        ("d.foreigner.surname", surname),
        ("d.foreigner.given_name", given_name),
        ("d.foreigner.birth_date", "1992-04-18"),
        ("d.foreigner.sex", "F"),
        ("d.foreigner.citizenship", citizenship),
        ("d.foreigner.passport", passport),
        ("d.until", until),
    ]
    .into_iter()
    .map(|(n, v)| (n, v.to_string()))
    .collect()
}

/// `on_both!(test_name, scenario)`: the scenario on each backend, a fresh database each.
pub(crate) use drn_store::on_both;

/// A citizen signed in with password and the one-time code from the sandbox outbox.
pub async fn citizen_client(app: &App, idx: usize) -> Client {
    citizen_client_on(app, idx, jar_client()).await
}

/// The first factor of the demo's citizen `idx` (their password): the one-time code's
/// challenge.
pub async fn citizen_challenge(app: &App, idx: usize, http: &reqwest::Client) -> String {
    let (ciin, cpw, _) = &app.report.citizens[idx];
    let r: Value = http
        .post(format!("{}/api/v1/auth/citizen/login", app.base))
        .json(&json!({ "iin": ciin.to_string(), "password": cpw }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["challenge"].as_str().unwrap().to_string()
}

/// [`citizen_client`] on a client of the caller's making (one that does not follow
/// redirects, to see a Post/Redirect/Get).
pub async fn citizen_client_on(app: &App, idx: usize, http: reqwest::Client) -> Client {
    let challenge = citizen_challenge(app, idx, &http).await;
    let sms: Value = http
        .get(format!("{}/api/v1/sandbox/sms", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = sms[0]["text"]
        .as_str()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let r = http
        .post(format!("{}/api/v1/auth/citizen/verify", app.base))
        .json(&json!({ "challenge": challenge, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    Client {
        csrf: r.json::<Value>().await.unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .into(),
        http,
        base: app.base.clone(),
    }
}

impl Client {
    pub async fn bytes(&self, path: &str) -> (StatusCode, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.bytes().await.unwrap().to_vec())
    }
}

pub fn have_tool(tool: &str) -> bool {
    let ok = std::process::Command::new(tool)
        .arg(if tool == "openssl" { "version" } else { "-v" })
        .output()
        .is_ok();
    if !ok {
        println!("SKIP: `{tool}` is not installed; its check is skipped (apt-get install poppler-utils openssl)");
    }
    ok
}
