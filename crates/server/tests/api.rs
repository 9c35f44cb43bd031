//! The server over real HTTP on a free port: the passport flow with five roles, the
//! authorization matrix over every route of the OpenAPI document, sign-in rules, and the
//! error shape. SQLite always; PostgreSQL too when DRN_TEST_POSTGRES is set.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use drn_engine::demo::{DemoOptions, DemoReport};
use drn_engine::{catalog_files, Engine, ManualClock, Role};
use drn_server::{AppState, Config};
use drn_store::Db;
use reqwest::StatusCode;
use serde_json::{json, Value};

struct App {
    base: String,
    report: DemoReport,
    state: AppState,
    /// The engine's database, for the tests that read it directly.
    db: Db,
    clock: Arc<ManualClock>,
}

async fn fresh_urls(name: &str) -> Vec<String> {
    drn_store::testkit::fresh_urls(name).await.unwrap()
}

/// Starts a real server on a free port over a fresh database filled with a small demo.
async fn spawn_app(url: &str) -> App {
    spawn_app_at(url, "2019-04-02T10:00:00+06:00").await
}

/// [`spawn_app`] with the clock at `start`.
async fn spawn_app_at(url: &str, start: &str) -> App {
    let db = Db::open(url).await.unwrap();
    db.migrate().await.unwrap();
    let (cat, cal) = catalog_files::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../catalog"
    )))
    .unwrap();
    let clock = Arc::new(ManualClock::new(start.parse().unwrap()));
    let engine = Engine::new(db.clone(), cat, cal, clock.clone()).unwrap();
    let report = drn_engine::demo::seed(
        &engine,
        &DemoOptions {
            persons: 300,
            seed: 7,
        },
        &drn_server::auth::hash_password,
    )
    .await
    .unwrap();
    let pki_dir = std::env::temp_dir().join(format!("drn-api-pki-{}", uuid::Uuid::new_v4()));
    let pki = drn_docs::Pki::open_or_create(&pki_dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState {
        engine,
        config: Config {
            demo: true,
            secure_cookies: false,
            base_url: base.clone(),
        },
        pki: Arc::new(pki),
    };
    for (iin, pw, _) in &report.citizens {
        drn_server::auth::create_citizen_account(&state, iin, pw, "+7 701 234 56 78")
            .await
            .unwrap();
    }
    tokio::spawn(drn_server::serve_on(state.clone(), listener));
    App {
        base,
        report,
        state,
        db,
        clock,
    }
}

/// A signed-in browser-like client: a cookie jar and the session's CSRF token.
struct Client {
    http: reqwest::Client,
    csrf: String,
    base: String,
}

impl Client {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
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

fn jar_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

impl App {
    fn password(&self, user: &str) -> String {
        self.report
            .accounts
            .iter()
            .find(|a| a.username == user)
            .unwrap_or_else(|| panic!("no demo account {user}"))
            .password
            .clone()
    }

    async fn login(&self, user: &str) -> Client {
        let http = jar_client();
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

fn outcome_app(v: &Value) -> &Value {
    &v["application"]
}

async fn hand_over(from: &Client, to: &Client, app: &Value) -> Value {
    let (s, v) = from
        .post("/api/v1/registries", json!({ "service": app["service"], "version": app["version"], "process": app["process"], "step": app["step"] }))
        .await;
    assert_eq!(s, 200, "{v}");
    let reg = &v["registries"][0];
    let id = reg["id"].as_str().unwrap();
    let (s, v) = from
        .post(
            &format!("/api/v1/registries/{id}/sign"),
            json!({ "revision": reg["revision"] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = from
        .post(
            &format!("/api/v1/registries/{id}/send"),
            json!({ "revision": v["registry"]["revision"] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = to
        .post(
            &format!("/api/v1/registries/{id}/receive"),
            json!({ "revision": v["registry"]["revision"], "incoming_number": "ВХ-17" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, a) = to
        .get(&format!(
            "/api/v1/applications/{}",
            app["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200, "{a}");
    a
}

async fn passport_flow(url: &str) {
    let app = spawn_app(url).await;
    let counter = app.login("op.astana.1").await;
    let district = app.login("district.astana").await;
    let region = app.login("region.astana").await;
    let centre = app.login("centre").await;
    let production = app.login("production").await;
    let (iin, _, _) = &app.report.citizens[0];
    let (s, v) = counter.get(&format!("/api/v1/persons/{iin}")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin.to_string() }))
        .await;
    assert_eq!(s, 200, "{v}");
    let a = outcome_app(&v).clone();
    assert_eq!(a["step"], 2);
    let (s, v) = counter
        .post(
            &format!(
                "/api/v1/applications/{}/complete",
                a["id"].as_str().unwrap()
            ),
            json!({ "revision": a["revision"] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let a = outcome_app(&v).clone();
    assert_eq!(
        (a["step"].as_i64(), a["holder_unit"].as_str()),
        (Some(3), Some("D71-1"))
    );
    let a = hand_over(&district, &region, &a).await;
    let a = hand_over(&region, &centre, &a).await;
    let a = hand_over(&centre, &production, &a).await;
    let a = hand_over(&production, &centre, &a).await;
    let a = hand_over(&centre, &region, &a).await;
    let a = hand_over(&region, &district, &a).await;
    let a = hand_over(&district, &counter, &a).await;
    assert_eq!(a["step"], 10);
    let (s, v) = counter
        .post(
            &format!("/api/v1/applications/{}/issue", a["id"].as_str().unwrap()),
            json!({ "revision": a["revision"], "receiver": iin.to_string() }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(outcome_app(&v)["status"], "issued");
    let (s, tl) = centre
        .get(&format!(
            "/api/v1/applications/{}/timeline",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200);
    assert!(tl.as_array().unwrap().len() > 20);
    // The citizen signs in with password and one-time code and sees it, and who read their data.
    let (ciin, cpw, _) = &app.report.citizens[0];
    let http = jar_client();
    let r: Value = http
        .post(format!("{}/api/v1/auth/citizen/login", app.base))
        .json(&json!({ "iin": ciin.to_string(), "password": cpw }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let challenge = r["challenge"].as_str().unwrap().to_string();
    let sms: Value = http
        .get(format!("{}/api/v1/sandbox/sms", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = sms[0]["text"].as_str().unwrap();
    let code = text.rsplit(' ').next().unwrap();
    let r = http
        .post(format!("{}/api/v1/auth/citizen/verify", app.base))
        .json(&json!({ "challenge": challenge, "code": "000000x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(format!("{}/api/v1/auth/citizen/verify", app.base))
        .json(&json!({ "challenge": challenge, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let citizen = Client {
        csrf: r.json::<Value>().await.unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .into(),
        http,
        base: app.base.clone(),
    };
    let (s, mine) = citizen.get("/api/v1/my/applications").await;
    assert_eq!(s, 200);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["status"], "issued");
    let (s, reads) = citizen.get("/api/v1/my/reads").await;
    assert_eq!(s, 200);
    assert!(
        reads
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["actor"] == "op.astana.1"),
        "{reads}"
    );
    // The audit chain verifies.
    let auditor = app.login("auditor").await;
    let (s, v) = auditor.get("/api/v1/audit/verify").await;
    assert_eq!(s, 200);
    assert!(v["broken_at"].is_null(), "{v}");
}

async fn sign_in_rules(url: &str) {
    let app = spawn_app(url).await;
    let http = jar_client();
    let login = |pw: &str| {
        http.post(format!("{}/api/v1/auth/login", app.base))
            .header("accept-language", "kk")
            .json(&json!({ "username": "op.astana.1", "password": pw }))
            .send()
    };
    for _ in 0..5 {
        let r = login("wrong").await.unwrap();
        assert_eq!(r.status(), 401);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "bad_credentials");
        assert!(v["error"]["message"].as_str().unwrap().contains("қате"));
    }
    // Locked: even the right password waits.
    let r = login(&app.password("op.astana.1")).await.unwrap();
    assert_eq!(r.status(), 429);
    app.clock.advance(jiff::SignedDuration::from_mins(16));
    assert_eq!(
        login(&app.password("op.astana.1")).await.unwrap().status(),
        200
    );
    // Without the CSRF header a cookie session cannot write.
    let c = app.login("op.astana.1").await;
    let r = c
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Malformed input is a 4xx in the one error shape, never a 5xx.
    let r = c
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .header("x-csrf-token", &c.csrf)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "invalid");
    // A body over the limit is refused; the server may close the connection before the
    // client has sent it all, which the client sees as a failed send.
    let big = "x".repeat(300 * 1024);
    match c
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .header("x-csrf-token", &c.csrf)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
    {
        Ok(r) => assert!(r.status().is_client_error(), "{}", r.status()),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    // Security headers and a request id on every response (a fresh connection: the one
    // above may have been closed).
    let r = reqwest::Client::new()
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "x-request-id",
    ] {
        assert!(r.headers().contains_key(h), "missing {h}");
    }
    // Sessions expire after inactivity.
    app.clock.advance(jiff::SignedDuration::from_mins(31));
    assert_eq!(c.get("/api/v1/me").await.0, 401);
    // Sign-out ends the session.
    let c = app.login("centre").await;
    assert_eq!(c.post("/api/v1/auth/logout", json!({})).await.0, 204);
    assert_eq!(c.get("/api/v1/me").await.0, 401);
    let _ = &app.state;
}

/// Who may call what: for each route of the OpenAPI document, the roles this issue
/// allows. Unit-scoped routes are tried on the caller's own unit and on another unit.
async fn authorization_matrix(url: &str) {
    let app = spawn_app(url).await;
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let users: &[(&str, Role, &str)] = &[
        ("op.astana.1", Role::CounterOperator, "C71-1-1"),
        ("district.astana", Role::DistrictOfficer, "D71-1"),
        ("region.astana", Role::RegionalOfficer, "R71"),
        ("centre", Role::CentralOfficer, "KZ"),
        ("production", Role::ProductionOperator, "IPC"),
        ("supervisor.astana", Role::Supervisor, "R71"),
        ("auditor", Role::Auditor, "KZ"),
        ("admin", Role::Administrator, "KZ"),
    ];
    use Role::*;
    let officers = vec![
        CounterOperator,
        DistrictOfficer,
        RegionalOfficer,
        CentralOfficer,
        ProductionOperator,
    ];
    let staff = vec![
        CounterOperator,
        DistrictOfficer,
        RegionalOfficer,
        CentralOfficer,
        ProductionOperator,
        Supervisor,
        Auditor,
        Administrator,
    ];
    let public: Vec<Role> = staff.clone();
    // (method, path) -> roles allowed past the role check.
    let mut allowed: BTreeMap<(&str, &str), Vec<Role>> = BTreeMap::new();
    allowed.insert(("post", "/api/v1/auth/login"), public.clone());
    allowed.insert(("post", "/api/v1/auth/logout"), staff.clone());
    allowed.insert(("post", "/api/v1/auth/citizen/login"), public.clone());
    allowed.insert(("post", "/api/v1/auth/citizen/verify"), public.clone());
    allowed.insert(("get", "/api/v1/me"), staff.clone());
    allowed.insert(("get", "/api/v1/catalog"), public.clone());
    allowed.insert(("get", "/api/v1/catalog/{spec}"), public.clone());
    allowed.insert(("get", "/api/v1/catalog/{spec}/plan"), public.clone());
    allowed.insert(("get", "/api/v1/calendar"), public.clone());
    allowed.insert(
        ("post", "/api/v1/applications"),
        vec![CounterOperator, DistrictOfficer],
    );
    allowed.insert(("get", "/api/v1/applications/{id}"), staff.clone());
    allowed.insert(("get", "/api/v1/applications/{id}/timeline"), staff.clone());
    allowed.insert(
        ("post", "/api/v1/applications/{id}/complete"),
        officers.clone(),
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/refuse"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
        ],
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/check"),
        vec![CounterOperator, DistrictOfficer],
    );
    allowed.insert(
        ("post", "/api/v1/foreigners/applications"),
        vec![CounterOperator, DistrictOfficer],
    );
    let address_readers = vec![
        CounterOperator,
        DistrictOfficer,
        RegionalOfficer,
        CentralOfficer,
        Supervisor,
    ];
    allowed.insert(("get", "/api/v1/addresses"), address_readers.clone());
    allowed.insert(("get", "/api/v1/addresses/{rka}"), address_readers);
    allowed.insert(
        ("get", "/api/v1/journals/{journal}"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
            Supervisor,
            Auditor,
        ],
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/annul"),
        vec![RegionalOfficer, CentralOfficer],
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/return"),
        officers.clone(),
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/issue"),
        vec![CounterOperator, DistrictOfficer],
    );
    allowed.insert(("get", "/api/v1/my/applications"), vec![]);
    allowed.insert(("get", "/api/v1/my/reads"), vec![]);
    allowed.insert(("get", "/api/v1/units"), staff.clone());
    allowed.insert(("get", "/api/v1/units/{id}/queue"), officers.clone());
    allowed.insert(
        ("get", "/api/v1/units/{id}/overdue"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
            ProductionOperator,
            Supervisor,
        ],
    );
    allowed.insert(("get", "/api/v1/units/{id}/registries"), officers.clone());
    allowed.insert(("post", "/api/v1/registries"), officers.clone());
    allowed.insert(("get", "/api/v1/registries/{id}"), staff.clone());
    allowed.insert(("post", "/api/v1/registries/{id}/sign"), officers.clone());
    allowed.insert(("post", "/api/v1/registries/{id}/send"), officers.clone());
    allowed.insert(
        ("post", "/api/v1/registries/{id}/receive"),
        officers.clone(),
    );
    allowed.insert(
        ("get", "/api/v1/persons/{iin}"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
        ],
    );
    allowed.insert(("get", "/api/v1/audit"), vec![Auditor, Administrator]);
    allowed.insert(
        ("get", "/api/v1/audit/verify"),
        vec![Auditor, Administrator],
    );
    allowed.insert(("get", "/api/v1/sandbox/sms"), public.clone());
    allowed.insert(("get", "/api/v1/online-renewal"), vec![]);
    allowed.insert(("post", "/api/v1/online-renewal"), vec![]);
    allowed.insert(("get", "/api/v1/online-renewal/{id}"), vec![]);
    allowed.insert(("post", "/api/v1/online-renewal/{id}/retry"), vec![]);
    allowed.insert(("post", "/api/v1/online-renewal/{id}/pay"), vec![]);
    allowed.insert(
        ("post", "/api/v1/applications/{id}/online-review"),
        vec![RegionalOfficer],
    );
    allowed.insert(
        ("get", "/api/v1/applications/{id}/documents"),
        staff.clone(),
    );
    allowed.insert(("get", "/api/v1/documents/{file}"), staff.clone());
    allowed.insert(
        ("post", "/api/v1/documents/{file}/revoke"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
        ],
    );
    allowed.insert(("get", "/api/v1/verify/{id}"), public.clone());
    allowed.insert(("get", "/healthz"), public.clone());
    allowed.insert(("get", "/readyz"), public.clone());
    // Every route of the document is in the matrix, and nothing else.
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    let listed: Vec<(String, String)> = allowed
        .keys()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    assert_eq!(
        documented, listed,
        "the matrix must list exactly the documented routes"
    );
    let (iin, _, _) = &app.report.citizens[0];
    // Unit scope: own unit is allowed past the role check, another unit is not.
    let other_unit = |own: &str| {
        if own.starts_with("C75") || own == "R75" {
            "C71-1-1"
        } else {
            "C75-1-1"
        }
    };
    for (user, role, own) in users {
        let c = app.login(user).await;
        for ((method, path), roles) in &allowed {
            let units: Vec<&str> = if path.starts_with("/api/v1/units/{id}") {
                vec![own, other_unit(own)]
            } else {
                vec![own]
            };
            for unit in units {
                let concrete = path
                    .replace("{spec}", "S1")
                    .replace("{iin}", &iin.to_string())
                    .replace("{file}", "00000000-0000-0000-0000-000000000000.pdf")
                    .replace(
                        "{id}",
                        if path.starts_with("/api/v1/units") {
                            unit
                        } else {
                            "00000000-0000-0000-0000-000000000000"
                        },
                    );
                let concrete = if path.ends_with("/plan") {
                    format!("{concrete}?accepted=2019-04-02T10:00:00%2B06:00")
                } else if *path == "/api/v1/calendar" {
                    format!("{concrete}?from=2019-01-01&to=2019-01-31")
                } else {
                    concrete
                };
                if path.contains("logout") {
                    continue; // would end this session; covered in sign_in_rules
                }
                let payload = match *path {
                    "/api/v1/auth/login" => json!({ "username": "nobody", "password": "x" }),
                    "/api/v1/auth/citizen/login" => {
                        json!({ "iin": iin.to_string(), "password": "x" })
                    }
                    "/api/v1/auth/citizen/verify" => json!({ "challenge": "x", "code": "1" }),
                    "/api/v1/applications" => {
                        json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin.to_string() })
                    }
                    "/api/v1/applications/{id}/refuse" | "/api/v1/applications/{id}/annul" => {
                        json!({ "revision": 1, "reason": "причина решения" })
                    }
                    "/api/v1/applications/{id}/return" => {
                        json!({ "revision": 1, "to_step": 1, "reason": "исправить данные" })
                    }
                    "/api/v1/foreigners/applications" => {
                        json!({ "service": "S9", "channel": "counter", "urgency": "general", "foreigner": { "surname": "Ivanov", "given_name": "Petr", "birth_date": "1990-05-17", "sex": "M", "citizenship": "RU", "passport": "75AB12345" } })
                    }
                    "/api/v1/applications/{id}/issue" => {
                        json!({ "revision": 1, "receiver": iin.to_string() })
                    }
                    "/api/v1/registries" => {
                        json!({ "service": "S1", "version": "2018", "process": "main", "step": 3 })
                    }
                    "/api/v1/documents/{file}/revoke" => {
                        json!({ "reason": "выдан по ошибке" })
                    }
                    "/api/v1/applications/{id}/online-review" => {
                        json!({ "decision": "approve", "revision": 1 })
                    }
                    "/api/v1/online-renewal" => json!({
                        "channel": "portal", "phone": "+7 701 000 00 00", "unit": "C71-1-1",
                        "photo": "", "signature_sample": "", "request_signature": ""
                    }),
                    _ => json!({ "revision": 1 }),
                };
                let (status, body) = if *method == "get" {
                    c.get(&concrete).await
                } else {
                    c.post(&concrete, payload).await
                };
                if path.starts_with("/api/v1/auth/") {
                    continue; // open to all: its answers are about credentials, not roles
                }
                assert!(
                    status.as_u16() < 500,
                    "{user} {method} {concrete}: {status} {body}"
                );
                let role_ok = roles.contains(role);
                let scoped_out = path.starts_with("/api/v1/units/{id}")
                    && unit != *own
                    && !matches!(role, CentralOfficer | Auditor);
                let code = body["error"]["code"].as_str().unwrap_or("");
                let role_denied = status == StatusCode::UNAUTHORIZED || code == "forbidden_role";
                if !role_ok {
                    assert!(
                        role_denied,
                        "{user} must not {method} {concrete}: {status} {body}"
                    );
                } else if scoped_out {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{user} must not {method} {concrete} of another unit: {body}"
                    );
                } else {
                    let unit_denied =
                        path.starts_with("/api/v1/units/{id}") && status == StatusCode::FORBIDDEN;
                    assert!(
                        !(role_denied || unit_denied),
                        "{user} may {method} {concrete}: {status} {body}"
                    );
                }
            }
        }
    }
}

macro_rules! on_both {
    ($name:ident, $scenario:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for url in fresh_urls(stringify!($name)).await {
                eprintln!("backend: {}", drn_store::testkit::backend_name(&url));
                $scenario(&url).await;
            }
        }
    };
}

on_both!(
    passport_flow_over_http_with_five_roles_and_the_citizen,
    passport_flow
);
on_both!(sign_in_lockout_csrf_errors_headers_expiry, sign_in_rules);
on_both!(
    authorization_matrix_every_route_every_role,
    authorization_matrix
);

/// A citizen signed in with password and the one-time code from the sandbox outbox.
async fn citizen_client(app: &App, idx: usize) -> Client {
    let (ciin, cpw, _) = &app.report.citizens[idx];
    let http = jar_client();
    let r: Value = http
        .post(format!("{}/api/v1/auth/citizen/login", app.base))
        .json(&json!({ "iin": ciin.to_string(), "password": cpw }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let challenge = r["challenge"].as_str().unwrap().to_string();
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
    async fn bytes(&self, path: &str) -> (StatusCode, Vec<u8>) {
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

fn have_tool(tool: &str) -> bool {
    let ok = std::process::Command::new(tool)
        .arg(if tool == "openssl" { "version" } else { "-v" })
        .output()
        .is_ok();
    if !ok {
        println!("SKIP: `{tool}` is not installed; its check is skipped (apt-get install poppler-utils openssl)");
    }
    ok
}

/// Documents in the running system: the talon made on acceptance verifies with the CA
/// (our verifier, openssl and pdfsig), the public verification says so and shows no
/// personal data, a one-byte-changed copy fails, the receipt of an intake refusal and a
/// signed registry have their documents, and no one else downloads a person's documents.
async fn documents_flow(url: &str) {
    let app = spawn_app(url).await;
    let counter = app.login("op.astana.1").await;
    let (iin, _, _) = &app.report.citizens[0];
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin.to_string() }))
        .await;
    assert_eq!(s, 200, "{v}");
    let a = outcome_app(&v).clone();
    let app_id = a["id"].as_str().unwrap().to_string();
    let (s, docs) = counter
        .get(&format!("/api/v1/applications/{app_id}/documents"))
        .await;
    assert_eq!(s, 200, "{docs}");
    let docs = docs.as_array().unwrap().clone();
    assert_eq!(docs.len(), 1, "{docs:?}");
    let talon = &docs[0];
    assert_eq!(talon["kind"], "e_registration_talon");
    assert_eq!(talon["number"], a["number"]);
    let doc_id = talon["id"].as_str().unwrap().to_string();
    // The talon is made after the intake's answer, or by the listing if that came first:
    // once either way, with one audit record (the one whose insert won).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let made = drn_store::query(
        "SELECT (SELECT COUNT(*) FROM documents WHERE application_id = $1), (SELECT COUNT(*) FROM audit WHERE action = 'document_issued' AND subject = $2)",
    )
    .bind(app_id.clone())
    .bind(format!("application:{app_id}"))
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    {
        use drn_store::Row;
        assert_eq!(made.try_get::<i64, _>(0).unwrap(), 1);
        assert_eq!(made.try_get::<i64, _>(1).unwrap(), 1);
    }
    assert_eq!(
        talon["verify"].as_str().unwrap(),
        format!("{}/verify/{doc_id}", app.base)
    );
    // The PDF and its detached signature verify against the PKI's CA.
    let (s, pdf) = counter.bytes(talon["pdf"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    assert!(pdf.starts_with(b"%PDF-"));
    eprintln!("talon PDF: {} bytes", pdf.len());
    let (s, p7s) = counter.bytes(talon["p7s"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    let ca = app.state.pki.ca_der();
    let v = drn_docs::verify(&pdf, ca).unwrap();
    assert!(v.genuine, "{v:?}");
    assert!(drn_docs::verify_detached(&pdf, &p7s, ca).unwrap().genuine);
    // Standard tools agree.
    let dir = std::env::temp_dir().join(format!("drn-api-docs-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (pdf_path, p7s_path) = (dir.join("talon.pdf"), dir.join("talon.p7s"));
    std::fs::write(&pdf_path, &pdf).unwrap();
    std::fs::write(&p7s_path, &p7s).unwrap();
    if have_tool("openssl") {
        let out = std::process::Command::new("openssl")
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
            .arg(&p7s_path)
            .arg("-content")
            .arg(&pdf_path)
            .arg("-CAfile")
            .arg(app.state.pki.ca_path())
            .args(["-purpose", "any", "-out", "/dev/null"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl cms -verify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if have_tool("pdfsig") {
        let out = std::process::Command::new("pdfsig")
            .arg(&pdf_path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Signature Validation: Signature is Valid"),
            "pdfsig: {text}"
        );
    }
    // Anyone (no sign-in) learns that it is genuine, and nothing personal.
    let anon = reqwest::Client::new();
    let r = anon
        .get(format!("{}/api/v1/verify/{doc_id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&v["valid"], &v["genuine"], &v["unchanged"], &v["revoked"]),
        (&json!(true), &json!(true), &json!(true), &json!(false)),
        "{v}"
    );
    assert_eq!(v["number"], a["number"]);
    assert!(!text.contains(&iin.to_string()), "no IIN in {text}");
    let r = anon
        .get(format!("{}/verify/{doc_id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-verdict=\"valid\""), "{html}");
    assert!(!html.contains(&iin.to_string()));
    let r = anon
        .get(format!(
            "{}/api/v1/verify/00000000-0000-4000-8000-000000000000",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The very file is identical and genuine; a copy with one byte changed is not.
    let upload = |body: Vec<u8>| {
        anon.post(format!("{}/verify/{doc_id}", app.base))
            .header("content-type", "application/pdf")
            .body(body)
            .send()
    };
    let v: Value = upload(pdf.clone()).await.unwrap().json().await.unwrap();
    assert_eq!((&v["identical"], &v["valid"]), (&json!(true), &json!(true)));
    let mut changed = pdf.clone();
    changed[pdf.len() / 3] ^= 0x01;
    let v: Value = upload(changed.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(
        (&v["identical"], &v["genuine"], &v["valid"]),
        (&json!(false), &json!(false), &json!(false)),
        "{v}"
    );
    assert!(!drn_docs::verify(&changed, ca).unwrap().genuine);
    let r = anon
        .post(format!("{}/verify/{doc_id}", app.base))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // The applicant downloads it; another citizen and staff of an unrelated unit do not.
    let owner = citizen_client(&app, 0).await;
    let pdf_url = format!("/api/v1/documents/{doc_id}.pdf");
    assert_eq!(owner.bytes(&pdf_url).await, (StatusCode::OK, pdf.clone()));
    let (s, mine) = owner
        .get(&format!("/api/v1/applications/{app_id}/documents"))
        .await;
    assert_eq!(
        (s, mine.as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    let stranger = citizen_client(&app, 1).await;
    assert_eq!(stranger.bytes(&pdf_url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        stranger
            .get(&format!("/api/v1/applications/{app_id}/documents"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let production = app.login("production").await;
    assert_eq!(production.bytes(&pdf_url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        production
            .bytes(&format!("/api/v1/documents/{doc_id}.p7s"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let anon_dl = anon
        .get(format!("{}{pdf_url}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anon_dl.status(), 401);
    // The download was an audited read of the applicant's data.
    let auditor = app.login("auditor").await;
    let (_, log) = auditor
        .get(&format!("/api/v1/audit?subject=person:{iin}"))
        .await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "read_application"
                && r["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains(&format!("document:{doc_id}"))),
        "{log}"
    );
    // An incomplete package: the receipt of refusal is a document too.
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": app.report.citizens[1].0.to_string(), "missing": ["фотография 3x4"] }))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["outcome"], "intake_refused", "{v}");
    let (s, docs) = counter
        .get(&format!(
            "/api/v1/applications/{}/documents",
            v["application"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(docs[0]["kind"], "refusal_receipt", "{docs}");
    assert_eq!(docs[0]["number"], v["receipt"]);
    // A signed registry is a document of its units.
    let (s, v) = counter
        .post(
            &format!("/api/v1/applications/{app_id}/complete"),
            json!({ "revision": a["revision"] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let a = outcome_app(&v).clone();
    let district = app.login("district.astana").await;
    let (s, v) = district
        .post("/api/v1/registries", json!({ "service": a["service"], "version": a["version"], "process": a["process"], "step": a["step"] }))
        .await;
    assert_eq!(s, 200, "{v}");
    let reg = &v["registries"][0];
    let reg_id = reg["id"].as_str().unwrap().to_string();
    let (s, v) = district
        .post(
            &format!("/api/v1/registries/{reg_id}/sign"),
            json!({ "revision": reg["revision"] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let row = drn_store::query("SELECT id, kind FROM documents WHERE registry_id = $1")
        .bind(reg_id.clone())
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    use drn_store::Row;
    let (rid, kind): (String, String) = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
    assert_eq!(kind, "district_registry");
    let (s, reg_pdf) = district
        .bytes(&format!("/api/v1/documents/{rid}.pdf"))
        .await;
    assert_eq!(s, 200);
    assert!(drn_docs::verify(&reg_pdf, ca).unwrap().genuine);
    assert_eq!(
        owner.bytes(&format!("/api/v1/documents/{rid}.pdf")).await.0,
        StatusCode::NOT_FOUND,
        "a citizen is refused a registry"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

on_both!(
    documents_talon_receipt_registry_verify_and_access,
    documents_flow
);

// ---------------------------------------------------------------------------------------
// Issue 8: the result document of every service, and revocation.

/// The text of a PDF as `pdftotext` reads it, whitespace runs collapsed to one space.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("drn-api-text-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext failed");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `pdfsig`'s report on a PDF.
fn pdfsig_report(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("drn-api-sig-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdfsig")
        .arg(&path)
        .output()
        .expect("pdfsig (poppler-utils) is installed");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The application's document of `kind`: its listing, its PDF (genuine) and its text.
async fn doc_of(app: &App, c: &Client, app_id: &str, kind: &str) -> (Value, Vec<u8>, String) {
    let (s, docs) = c
        .get(&format!("/api/v1/applications/{app_id}/documents"))
        .await;
    assert_eq!(s, 200, "{docs}");
    let d = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {docs}"))
        .clone();
    let (s, pdf) = c.bytes(d["pdf"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    let v = drn_docs::verify(&pdf, app.state.pki.ca_der()).unwrap();
    assert!(v.genuine, "{kind}: {v:?}");
    let text = pdf_text(&pdf);
    (d, pdf, text)
}

fn has_all(kind: &str, text: &str, words: &[&str]) {
    for w in words {
        assert!(text.contains(w), "{kind}: no {w:?} in {text}");
    }
}

async fn step(c: &Client, a: &Value, action: &str, extra: Value) -> Value {
    let mut body = json!({ "revision": a["revision"] });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (s, v) = c
        .post(
            &format!(
                "/api/v1/applications/{}/{action}",
                a["id"].as_str().unwrap()
            ),
            body,
        )
        .await;
    assert_eq!(s, 200, "{action} {}: {v}", a["service"]);
    outcome_app(&v).clone()
}

async fn accept_at(c: &Client, service: &str, channel: &str, iin: &str, data: Value) -> Value {
    let (s, v) = c
        .post(
            "/api/v1/applications",
            json!({ "service": service, "channel": channel, "urgency": "general", "applicant": iin, "data": data }),
        )
        .await;
    assert_eq!(s, 200, "{service}: {v}");
    outcome_app(&v).clone()
}

/// Every service's result is a signed PDF with its own content in Kazakh and Russian;
/// the address certificate carries two signatures (pdfsig); a revoked document is said
/// to be revoked by the public verification; the upload at /verify/{id} takes more than
/// the server-wide body limit.
async fn service_results(url: &str) {
    let app = spawn_app_at(url, "2014-06-02T10:00:00+06:00").await;
    let iin = app.report.citizens[2].0.to_string();
    let district = app.login("district.astana").await;
    let foreigner = |passport: &str| json!({ "surname": "Ivanov", "given_name": "Petr", "birth_date": "1990-05-17", "sex": "M", "citizenship": "RU", "passport": passport });
    // 2014: the services for foreigners, at the unit.
    let mut foreign = Vec::new();
    for (service, data) in [
        (
            "S6",
            json!({ "foreigner": foreigner("S6000001"), "zone": "Кордай, участок 3", "until": "2014-07-15" }),
        ),
        (
            "S7",
            json!({ "foreigner": foreigner("S7000001"), "purpose": "воссоединение семьи", "until": "2014-09-01" }),
        ),
        (
            "S8",
            json!({ "foreigner": foreigner("S8000001"), "until": "2014-08-01" }),
        ),
    ] {
        let a = accept_at(&district, service, "unit", &iin, data).await;
        let a = step(&district, &a, "complete", json!({})).await;
        let a = step(&district, &a, "check", json!({})).await;
        let a = step(&district, &a, "issue", json!({ "receiver": iin })).await;
        assert_eq!(a["status"], "issued", "{a}");
        foreign.push(a);
    }
    let (pass, _, t) = doc_of(
        &app,
        &district,
        foreign[0]["id"].as_str().unwrap(),
        "border_zone_pass",
    )
    .await;
    has_all(
        "pass",
        &t,
        &[
            "Шекаралық аймаққа кіруге рұқсатнама",
            "Пропуск на въезд в пограничную зону",
            "Шекаралық аймақ",
            "Пограничная зона",
            "Кордай, участок 3",
            "Срок действия",
            "Жарамдылық мерзімі",
            "02.06.2014 – 15.07.2014",
            "IVANOV PETR",
            "S6000001",
            "BZP",
        ],
    );
    let (_, _, t) = doc_of(
        &app,
        &district,
        foreign[1]["id"].as_str().unwrap(),
        "invitation",
    )
    .await;
    has_all(
        "invitation",
        &t,
        &[
            "Қазақстан Республикасына келуге шақыру",
            "Приглашение на въезд в Республику Казахстан",
            "Шақырушы тарап",
            "Приглашающая сторона",
            &iin,
            "воссоединение семьи",
            "Срок пребывания",
            "01.09.2014",
            "IVANOV PETR",
            "INV",
        ],
    );
    let (_, _, t) = doc_of(
        &app,
        &district,
        foreign[2]["id"].as_str().unwrap(),
        "foreigner_registration_insert",
    )
    .await;
    has_all(
        "insert",
        &t,
        &[
            "Шетелдікті тіркеу туралы паспортқа қосымша парақ",
            "Вкладыш к паспорту о регистрации иностранца",
            "Тіркелген мерзімі",
            "Срок регистрации",
            "02.06.2014 – 01.08.2014",
            "Принимающая сторона",
            "S8000001",
            "FR",
        ],
    );
    // Five years on: the other services (2018 rules), and S9 (2019).
    app.clock.set("2019-04-02T10:00:00+06:00".parse().unwrap());
    let counter = app.login("op.astana.1").await;
    let district = app.login("district.astana").await;
    let row = drn_store::query("SELECT a.rka, a.full_text FROM ar_addresses a JOIN ar_ate t ON t.kato = a.ate_kato WHERE t.unit_id = 'D71-1' AND a.kind = 'premise' AND a.active = 1 ORDER BY a.rka LIMIT 1")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    use drn_store::Row;
    let (rka, full): (String, String) = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
    // S3: registration at the place of residence.
    let a = accept_at(
        &counter,
        "S3",
        "counter",
        &iin,
        json!({ "kind": "permanent", "rka": rka, "owner_iin": iin }),
    )
    .await;
    let s3 = step(&district, &a, "issue", json!({ "receiver": iin })).await;
    let (_, _, t) = doc_of(
        &app,
        &district,
        s3["id"].as_str().unwrap(),
        "residence_registration_notice",
    )
    .await;
    let street = full
        .split(", ")
        .find(|p| p.starts_with("ул."))
        .unwrap_or(&full)
        .to_string();
    has_all(
        "notice",
        &t,
        &[
            "Тұрғылықты жері бойынша тіркеу туралы хабарлама",
            "Уведомление о регистрации по месту жительства",
            "Регистрационный код адреса (РКА)",
            "Мекенжайдың тіркеу коды",
            &rka,
            &street,
            "постоянная (по месту жительства)",
            "Дата регистрации",
            "02.04.2019",
        ],
    );
    // S5: the address certificate, signed by the MVD and the Ministry of Justice.
    let a = accept_at(&counter, "S5", "counter", &iin, json!({})).await;
    let a = step(&counter, &a, "check", json!({})).await;
    let s5 = step(&counter, &a, "issue", json!({ "receiver": iin })).await;
    let (cert, cert_pdf, t) = doc_of(
        &app,
        &counter,
        s5["id"].as_str().unwrap(),
        "address_certificate",
    )
    .await;
    has_all(
        "certificate",
        &t,
        &[
            "Тұрғылықты жерінен мекенжай анықтамасы",
            "Адресная справка с места жительства",
            &iin,
            &rka,
            &street,
            "РКА",
            "AS",
            "Министерства юстиции",
            "Әділет министрлігінің",
        ],
    );
    let v = drn_docs::verify(&cert_pdf, app.state.pki.ca_der()).unwrap();
    assert_eq!(v.signatures.len(), 2, "{v:?}");
    if have_tool("pdfsig") {
        let report = pdfsig_report(&cert_pdf);
        assert_eq!(
            report
                .matches("Signature Validation: Signature is Valid")
                .count(),
            2,
            "pdfsig: {report}"
        );
    }
    // S2: the temporary ID card.
    let a = accept_at(
        &counter,
        "S2",
        "counter",
        &iin,
        json!({ "reason": "утеря удостоверения личности", "valid_until": "2019-05-02" }),
    )
    .await;
    let a = step(&district, &a, "complete", json!({})).await;
    let s2 = step(&counter, &a, "issue", json!({ "receiver": iin })).await;
    let (_, _, t) = doc_of(
        &app,
        &counter,
        s2["id"].as_str().unwrap(),
        "temporary_id_card",
    )
    .await;
    has_all(
        "temporary id",
        &t,
        &[
            "Уақытша жеке куәлік",
            "Временное удостоверение личности",
            "Основание выдачи",
            "Беру негізі",
            "утеря удостоверения личности",
            "Действительно до",
            "02.05.2019",
            &iin,
            "TID",
        ],
    );
    // S4: deregistration, with the departure address sheet.
    let a = accept_at(
        &counter,
        "S4",
        "counter",
        &iin,
        json!({ "ground": "abroad", "destination": "Германия" }),
    )
    .await;
    let s4 = step(&district, &a, "issue", json!({ "receiver": iin })).await;
    let (sheet, _, t) = doc_of(
        &app,
        &district,
        s4["id"].as_str().unwrap(),
        "departure_sheet",
    )
    .await;
    has_all(
        "departure sheet",
        &t,
        &[
            "Мекенжайдан кету парағы",
            "Адресный листок убытия",
            "Основание снятия с регистрации",
            "Тіркеуден шығару негізі",
            "выезд на постоянное жительство",
            "шетелге тұрақты тұруға",
            "Германия",
            &rka,
            &street,
            "ALU",
        ],
    );
    // S9: the IIN formed for a foreigner; the talon of acceptance first.
    let (s, v) = counter
        .post("/api/v1/foreigners/applications", json!({ "service": "S9", "channel": "counter", "urgency": "general", "foreigner": { "surname": "Smith", "given_name": "John", "birth_date": "1988-12-12", "sex": "M", "citizenship": "GB", "passport": "GB1234567" } }))
        .await;
    assert_eq!(s, 200, "{v}");
    let a = outcome_app(&v).clone();
    let (_, _, t) = doc_of(
        &app,
        &counter,
        a["id"].as_str().unwrap(),
        "acceptance_talon",
    )
    .await;
    has_all(
        "acceptance talon",
        &t,
        &[
            "Құжаттарды қабылдау туралы талон",
            "Талон о приеме документов",
            "SMITH JOHN",
            "GB1234567",
            "Гражданство",
            "GB",
        ],
    );
    let a = step(&counter, &a, "complete", json!({})).await;
    let a = step(
        &counter,
        &a,
        "complete",
        json!({ "note": "consent form No 17" }),
    )
    .await;
    let a = step(&counter, &a, "complete", json!({})).await;
    let sys = drn_engine::Actor::system();
    let o = app
        .state
        .execute(
            &sys,
            &drn_engine::Command::CompleteStep {
                application: drn_engine::ApplicationId::parse(a["id"].as_str().unwrap()).unwrap(),
                revision: a["revision"].as_i64().unwrap(),
                note: None,
            },
            None,
        )
        .await
        .unwrap();
    let a = serde_json::to_value(&o).unwrap()["application"].clone();
    let formed = a["applicant"].as_str().unwrap().to_string();
    assert_eq!(formed.len(), 12, "{a}");
    let s9 = step(&district, &a, "issue", json!({ "receiver": formed })).await;
    let (_, _, t) = doc_of(
        &app,
        &district,
        s9["id"].as_str().unwrap(),
        "iin_certificate",
    )
    .await;
    has_all(
        "IIN certificate",
        &t,
        &[
            "Жеке сәйкестендіру нөмірін қалыптастыру туралы куәлік",
            "Свидетельство о формировании индивидуального идентификационного номера",
            "Индивидуальный идентификационный номер (ИИН)",
            &formed,
            "SMITH JOHN",
            "12.12.1988",
            "GB1234567",
            "Дата формирования ИИН",
            "02.04.2019",
        ],
    );
    // Revocation: not by a role that does not revoke, nor by another unit; by the centre.
    let cert_id = cert["id"].as_str().unwrap();
    let revoke = |id: &str| format!("/api/v1/documents/{id}/revoke");
    let production = app.login("production").await;
    let (s, v) = production
        .post(&revoke(cert_id), json!({ "reason": "выдана по ошибке" }))
        .await;
    assert_eq!(
        (s, &v["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("forbidden_role")),
        "{v}"
    );
    let pass_id = pass["id"].as_str().unwrap();
    let (s, v) = counter
        .post(&revoke(pass_id), json!({ "reason": "выдан по ошибке" }))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another unit's document: {v}");
    let centre = app.login("centre").await;
    let (s, v) = centre
        .post(&revoke(cert_id), json!({ "reason": "x" }))
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required: {v}"
    );
    let (s, v) = centre
        .post(
            &revoke(cert_id),
            json!({ "reason": "адрес указан с ошибкой" }),
        )
        .await;
    assert_eq!((s, &v["revoked"]), (StatusCode::OK, &json!(true)), "{v}");
    let (s, _) = centre
        .post(
            &revoke(cert_id),
            json!({ "reason": "адрес указан с ошибкой" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "revoked once");
    // The issuing unit revokes its own.
    let (s, v) = district
        .post(
            &revoke(sheet["id"].as_str().unwrap()),
            json!({ "reason": "ошибка в основании" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let anon = reqwest::Client::new();
    let v: Value = anon
        .get(format!("{}/api/v1/verify/{cert_id}", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&v["revoked"], &v["valid"], &v["genuine"], &v["unchanged"]),
        (&json!(true), &json!(false), &json!(true), &json!(true)),
        "{v}"
    );
    let html = anon
        .get(format!("{}/verify/{cert_id}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Документ отозван")
            || html.contains("Құжаттың күші жойылған")
            || html.contains("revoked"),
        "{html}"
    );
    let (n,): (i64,) = {
        let r = drn_store::query("SELECT COUNT(*) FROM audit WHERE action = 'document_revoked'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
        (r.try_get(0).unwrap(),)
    };
    assert_eq!(n, 2, "each revocation is audited");
    // The upload of a copy may exceed the server-wide limit; other routes keep it.
    let upload = |body: Vec<u8>| {
        anon.post(format!("{}/verify/{cert_id}", app.base))
            .header("content-type", "application/pdf")
            .body(body)
            .send()
    };
    let mut big = cert_pdf.clone();
    big.resize(1024 * 1024, b' ');
    let r = upload(big).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["identical"], &v["revoked"]),
        (&json!(false), &json!(true)),
        "{v}"
    );
    let r = upload(cert_pdf.clone()).await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["identical"], &v["genuine"], &v["valid"]),
        (&json!(true), &json!(true), &json!(false)),
        "{v}"
    );
    // Too large: 413, or the connection closed before the whole body was sent.
    let refused = |r: Result<reqwest::Response, reqwest::Error>| match r {
        Ok(r) => r.status() == StatusCode::PAYLOAD_TOO_LARGE,
        Err(e) => e.is_request(),
    };
    assert!(refused(upload(vec![b' '; 6 * 1024 * 1024]).await));
    let r = anon
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("content-type", "application/json")
        .body(vec![b' '; 300 * 1024])
        .send()
        .await;
    assert!(refused(r), "the server-wide limit stays");
    let r = anon
        .post(format!("{}/portal/verify", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 300 * 1024])
        .send()
        .await;
    assert!(refused(r), "the server-wide limit stays for the pages");
}

on_both!(
    service_results_pdf_content_signatures_and_revocation,
    service_results
);

/// The supervisor's dashboard with its SVG charts and CSV export, and /metrics after
/// requests and commands (who may read it, and the series).
async fn supervision_and_metrics(url: &str) {
    let app = spawn_app(url).await;
    let n = drn_engine::demo::seed_history(&app.state.engine, &app.report)
        .await
        .unwrap();
    assert!(n > 0);
    let sup = app.login("supervisor").await;
    let r = sup
        .http
        .get(format!("{}/ws/supervision", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<svg") && html.contains("id=\"trend-chart\""),
        "{html}"
    );
    assert!(html.contains("<title id=\"trend-chart-t\">"));
    assert!(html.contains("supervision.csv?table=trend"));
    // CSV: a BOM, a translated header, one row per unit with numbers.
    let csv = |table: &str| {
        let http = sup.http.clone();
        let url = format!("{}/ws/supervision.csv?table={table}", app.base);
        async move {
            let r = http.get(url).send().await.unwrap();
            let status = r.status();
            let ct = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, ct, r.bytes().await.unwrap().to_vec())
        }
    };
    let (s, ct, body) = csv("units").await;
    assert_eq!(s, 200);
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert_eq!(&body[..3], b"\xEF\xBB\xBF", "a BOM for Excel");
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    let head: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(head.len(), 5, "{}", lines[0]);
    assert!(
        ["Просрочено", "Overdue", "Мерзімі өткен"].contains(&head[4]),
        "{head:?}"
    );
    assert!(lines.len() > 1, "the demo has open applications: {text}");
    let row: Vec<&str> = lines[1].rsplitn(4, ',').collect();
    let nums: Vec<i64> = row[..3].iter().map(|n| n.parse().unwrap()).collect();
    assert!(nums[2] > 0 || nums[1] >= 0, "{row:?}");
    let (s, _, body) = csv("trend").await;
    assert_eq!(s, 200);
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert_eq!(text.split("\r\n").filter(|l| !l.is_empty()).count(), 31);
    assert_eq!(csv("nope").await.0, 400);
    // A unit outside the area of a regional supervisor is refused.
    let ast = app.login("supervisor.astana").await;
    let r = ast
        .http
        .get(format!(
            "{}/ws/supervision.csv?table=units&unit=R75",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Requests and a denied command, then the scrape.
    let (s, _) = sup.get("/api/v1/me").await;
    assert_eq!(s, 200);
    let denied = drn_engine::Command::CompleteStep {
        application: drn_engine::ApplicationId::new(),
        revision: 1,
        note: None,
    };
    let op = drn_engine::Actor::staff(
        "op.astana.1",
        Role::CounterOperator,
        drn_engine::UnitId::parse("C71-1").unwrap(),
    );
    assert!(app.state.engine.execute(&op, &denied, None).await.is_err());
    let plain = reqwest::Client::new();
    let r = plain
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "loopback may scrape");
    assert!(r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let m = r.text().await.unwrap();
    for series in [
        "# TYPE drn_http_requests_total counter",
        "drn_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"}",
        "drn_http_request_duration_seconds_bucket{method=\"GET\",route=\"/ws/supervision\",status=\"200\",le=\"+Inf\"}",
        "drn_commands_total{command=\"accept\",outcome=\"ok\"}",
        "drn_commands_total{command=\"complete_step\",outcome=\"denied\"}",
        "drn_command_duration_seconds_count{command=\"accept\"}",
        "# TYPE drn_overdue_applications gauge",
        "drn_overdue_applications{kind=\"district\"}",
        "drn_storage_fault 0",
        "# TYPE drn_documents_pending gauge",
    ] {
        assert!(m.contains(series), "{series} missing in\n{m}");
    }
    // A count (other tests of this binary may be making documents at the moment).
    let pending = m
        .lines()
        .find_map(|l| l.strip_prefix("drn_documents_pending "))
        .and_then(|v| v.parse::<f64>().ok());
    assert!(pending.is_some_and(|n| n >= 0.0 && n.fract() == 0.0), "{m}");
    // The route pattern, never the raw path.
    assert!(!m.contains("route=\"/ws/supervision/unit/"), "{m}");
    // Through a proxy: only an administrator or auditor session (or the token).
    let proxied = |c: &reqwest::Client| {
        c.get(format!("{}/metrics", app.base))
            .header("x-forwarded-for", "203.0.113.9")
            .send()
    };
    assert_eq!(proxied(&plain).await.unwrap().status(), 404);
    assert_eq!(proxied(&sup.http).await.unwrap().status(), 404);
    let auditor = app.login("auditor").await;
    assert_eq!(proxied(&auditor.http).await.unwrap().status(), 200);
}

on_both!(
    supervision_dashboard_csv_and_metrics,
    supervision_and_metrics
);

/// After a storage fault (SQLite: the file turned corrupt under the writer, see
/// `testkit::corrupt_sqlite`) the server is not ready (`/readyz` 503 `storage_fault` with
/// the reason), refuses a change with 503 in the caller's language, and says so in the
/// metrics; reads go on. Also once the file is whole again: an administrator must look.
/// The option's number is mimalloc 3's: before the tuning it reads that version's default
/// purge delay (1 s), after it a minute.
#[test]
fn the_allocator_keeps_freed_memory_for_a_minute() {
    assert_eq!(drn_server::freed_memory_kept_ms(), 1_000);
    drn_server::tune_allocator();
    assert_eq!(drn_server::freed_memory_kept_ms(), 60_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_fault_makes_the_server_unready_and_refuses_changes() {
    let url = fresh_urls("storage_fault").await.remove(0);
    let app = spawn_app(&url).await;
    let counter = app.login("op.astana.1").await;
    let plain = reqwest::Client::new();
    let get = |path: &str| plain.get(format!("{}{path}", app.base)).send();
    assert_eq!(get("/readyz").await.unwrap().status(), 200);

    let path = drn_store::lite::path_of(&url).unwrap();
    let broken = drn_store::testkit::corrupt_sqlite(&path).unwrap();
    // A write through the writer meets the corrupt pages.
    let e = app
        .state
        .engine
        .write_bookkeeping(vec![drn_store::Statement::new(
            "DELETE FROM sessions WHERE id_hash = $1",
            vec![drn_store::Value::from("nobody")],
        )])
        .await
        .unwrap_err();
    assert!(
        matches!(e, drn_engine::EngineError::StorageFault { .. }),
        "{e}"
    );
    broken.restore().unwrap();

    let r = get("/readyz").await.unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "storage_fault", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("malformed"), "{message}");

    let (iin, _, _) = &app.report.citizens[0];
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin.to_string() }))
        .await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["error"]["code"], "storage_fault", "{v}");
    let refused = drn_engine::EngineError::StorageFault {
        reason: String::new(),
    };
    assert_eq!(v["error"]["message"], refused.message(drn_core::Lang::Ru));
    assert_eq!(counter.get("/api/v1/units").await.0, 200);
    let m = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(m.contains("drn_storage_fault 1"), "{m}");
}
