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
    clock: Arc<ManualClock>,
}

async fn fresh_urls(name: &str) -> Vec<String> {
    drn_store::testkit::fresh_urls(name).await.unwrap()
}

/// Starts a real server on a free port over a fresh database filled with a small demo.
async fn spawn_app(url: &str) -> App {
    let db = Db::open(url).await.unwrap();
    db.migrate().await.unwrap();
    let (cat, cal) = catalog_files::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../catalog"
    )))
    .unwrap();
    let start = "2019-04-02T10:00:00+06:00".parse().unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::new(db, cat, cal, clock.clone()).unwrap();
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
    let state = AppState {
        engine,
        config: Config {
            demo: true,
            secure_cookies: false,
        },
    };
    for (iin, pw, _) in &report.citizens {
        drn_server::auth::create_citizen_account(&state, iin, pw, "+7 701 234 56 78")
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(drn_server::serve_on(state.clone(), listener));
    App {
        base,
        report,
        state,
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
    let big = "x".repeat(300 * 1024);
    let r = c
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .header("x-csrf-token", &c.csrf)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    // Security headers and a request id on every response.
    let r = c
        .http
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
        vec![DistrictOfficer, RegionalOfficer, CentralOfficer],
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
        vec![CounterOperator],
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
                    "/api/v1/applications/{id}/issue" => {
                        json!({ "revision": 1, "receiver": iin.to_string() })
                    }
                    "/api/v1/registries" => {
                        json!({ "service": "S1", "version": "2018", "process": "main", "step": 3 })
                    }
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
