//! Two `drn serve` processes over one PostgreSQL database (issue 32), as behind a load
//! balancer: concurrent intakes at the counters, step completions and registries formed,
//! signed, sent and received, each request through either server. Every acknowledged
//! command is there once, the numbers are unique, no request fails (a deadlock would
//! surface as a failed command), and the audit chain is whole.
//!
//! Runs when DRN_TEST_POSTGRES holds a URL (CI sets it); SQLite is one server's database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const CATALOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog");

/// A `drn serve` child, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `drn serve` and waits (up to 10 minutes: the demo loads first) until it listens.
fn serve(db: &str, data: &std::path::Path, extra: &[&str]) -> Server {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_drn"))
        .args(["serve", "--db", db, "--addr", &addr, "--data"])
        .arg(data)
        .args(extra)
        .env("DRN_CATALOG", CATALOG)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("DRN listening") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(600))
        .expect("the server did not start");
    Server {
        child,
        base: format!("http://{addr}"),
    }
}

/// A client of one role at one unit: its bearer token.
#[derive(Clone)]
struct Client {
    token: String,
}

/// POSTs `body` to `path` on `base`; the answer's JSON, or the status and body.
async fn post(
    http: &reqwest::Client,
    base: &str,
    who: &Client,
    path: &str,
    body: Value,
) -> Result<Value, String> {
    let r = http
        .post(format!("{base}{path}"))
        .bearer_auth(&who.token)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("{path}: {e}"))?;
    let status = r.status();
    let text = r.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{path}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}: {text}"))
}

async fn count(db: &drn_store::Db, sql: &str) -> i64 {
    drn_store::query(sql)
        .fetch_one(db.reader())
        .await
        .map(|r| r.get::<i64, _>(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_over_one_postgres_database() {
    let urls = drn_store::testkit::fresh_urls("two_servers").await.unwrap();
    let Some(url) = urls.into_iter().find(|u| u.starts_with("postgres")) else {
        eprintln!("DRN_TEST_POSTGRES is not set: two servers need PostgreSQL, skipped");
        return;
    };
    let data = std::env::temp_dir().join(format!("drn-two-servers-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();

    // Server A loads the demo (and makes the PKI both sign with); B starts over the same
    // database and data directory, its clock set to A's (the demo runs as of a past day).
    // The API clients here have no signing certificates: officers' signatures are optional
    // (they are tested in the API suite's `signatures`).
    let a_started = Instant::now();
    let a = serve(
        &url,
        &data,
        &[
            "--demo",
            "--persons",
            "500",
            "--officer-signatures",
            "optional",
        ],
    );
    let since = a_started.elapsed().as_secs();
    let as_of = format!(
        "2019-11-20T09:{:02}:{:02}+05:00",
        30 + since / 60,
        since % 60
    );
    assert!(since < 29 * 60);
    let b = serve(
        &url,
        &data,
        &["--as-of", &as_of, "--officer-signatures", "optional"],
    );
    let bases = [a.base.clone(), b.base.clone()];

    // API clients at the units of region 75: its counters, districts and the region.
    let db = drn_store::Db::open(&url).await.unwrap();
    let (cat, cal) = drn_engine::catalog_files::load(std::path::Path::new(CATALOG)).unwrap();
    let engine =
        drn_engine::Engine::new(db.clone(), cat, cal, Arc::new(drn_engine::SystemClock)).unwrap();
    let units = drn_store::query(
        "SELECT id, kind FROM units WHERE region_code = '75' AND kind IN ('counter', 'district', 'region') ORDER BY id",
    )
    .fetch_all(db.reader())
    .await
    .unwrap();
    let mut clients: BTreeMap<String, (String, Client)> = BTreeMap::new();
    for (i, r) in units.iter().enumerate() {
        let id: String = r.get(0);
        let kind: String = r.get(1);
        let role = match kind.as_str() {
            "counter" => "counter_operator",
            "district" => "district_officer",
            _ => "regional_officer",
        };
        let token = format!("two-servers-{i}-{}", std::process::id());
        engine
            .add_api_client(
                &drn_server::auth::sha256_hex(&token),
                &format!("two-servers {id}"),
                role,
                &id,
                None,
            )
            .await
            .unwrap();
        clients.insert(id, (kind, Client { token }));
    }
    let counters: Vec<Client> = clients
        .values()
        .filter(|(k, _)| k == "counter")
        .map(|(_, c)| c.clone())
        .collect();
    assert!(counters.len() >= 2, "region 75 has counters");
    let applicants: Vec<String> = drn_store::query(format!(
        "SELECT iin FROM persons WHERE birth_date < '2001-01-01' AND {} ORDER BY iin LIMIT 50",
        db.backend.json_has_object("data_json", "registration")
    ))
    .fetch_all(db.reader())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect();
    assert!(!applicants.is_empty());

    let before = count(&db, "SELECT COUNT(*) FROM applications").await;
    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    let started = Instant::now();

    // 1. Intakes, 200 at once over the counters, alternating between the servers, then the
    //    counter's step completed through the other server.
    const INTAKES: usize = 200;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..INTAKES {
        let (http, bases) = (http.clone(), bases.clone());
        let who = counters[i % counters.len()].clone();
        let applicant = applicants[i % applicants.len()].clone();
        tasks.spawn(async move {
            let body = json!({
                "service": "S1", "channel": "counter", "urgency": "general",
                "applicant": applicant, "documents_presented": [], "missing": [], "data": {}
            });
            let accepted = post(&http, &bases[i % 2], &who, "/api/v1/applications", body).await?;
            let app = accepted["application"].clone();
            let done = post(
                &http,
                &bases[(i + 1) % 2],
                &who,
                &format!(
                    "/api/v1/applications/{}/complete",
                    app["id"].as_str().unwrap()
                ),
                json!({ "revision": app["revision"] }),
            )
            .await
            .map(|o| o["application"].clone());
            Ok::<_, String>((app, done))
        });
    }
    let mut accepted: BTreeMap<String, String> = BTreeMap::new();
    let mut completed: BTreeMap<String, i64> = BTreeMap::new();
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok((app, done)) => {
                accepted.insert(
                    app["id"].as_str().unwrap().into(),
                    app["number"].as_str().unwrap().into(),
                );
                match done {
                    Ok(d) => {
                        completed.insert(
                            d["id"].as_str().unwrap().into(),
                            d["revision"].as_i64().unwrap(),
                        );
                    }
                    Err(e) => failures.push(e),
                }
            }
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(accepted.len(), INTAKES);

    // 2. Each district forms, signs and sends its registry of the step it holds now, each
    //    command through the other server than the one before; the region receives them,
    //    alternating too.
    let mut registries = Vec::new();
    let districts: Vec<(String, Client)> = clients
        .iter()
        .filter(|(_, (k, _))| k == "district")
        .map(|(id, (_, c))| (id.clone(), c.clone()))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (_, who)) in districts.into_iter().enumerate() {
        let (http, bases) = (http.clone(), bases.clone());
        tasks.spawn(async move {
            let formed = post(
                &http,
                &bases[i % 2],
                &who,
                "/api/v1/registries",
                json!({ "service": "S1", "version": "2018", "process": "main", "step": 3 }),
            )
            .await;
            let mut sent = Vec::new();
            let formed = match formed {
                Ok(f) => f,
                // A district none of whose counters took an intake has nothing to send.
                Err(e) if e.contains("400") || e.contains("422") => return Ok(sent),
                Err(e) => return Err(e),
            };
            for reg in formed["registries"].as_array().cloned().unwrap_or_default() {
                let id = reg["id"].as_str().unwrap().to_string();
                let signed = post(
                    &http,
                    &bases[(i + 1) % 2],
                    &who,
                    &format!("/api/v1/registries/{id}/sign"),
                    json!({ "revision": reg["revision"] }),
                )
                .await?;
                let s = post(
                    &http,
                    &bases[i % 2],
                    &who,
                    &format!("/api/v1/registries/{id}/send"),
                    json!({ "revision": signed["registry"]["revision"] }),
                )
                .await?;
                sent.push(s["registry"].clone());
            }
            Ok::<_, String>(sent)
        });
    }
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(sent) => registries.extend(sent),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(registries.len() >= 2, "{registries:#?}");
    // Each completed application in one registry (beside the demo's history, whose
    // applications of region 75 may wait at the same step).
    let mut in_registries: Vec<&str> = registries
        .iter()
        .flat_map(|r| r["applications"].as_array().unwrap())
        .map(|a| a.as_str().unwrap())
        .filter(|a| completed.contains_key(*a))
        .collect();
    in_registries.sort();
    assert_eq!(
        in_registries,
        completed.keys().map(String::as_str).collect::<Vec<_>>()
    );
    let mut tasks = tokio::task::JoinSet::new();
    for (i, reg) in registries.iter().enumerate() {
        let (http, bases) = (http.clone(), bases.clone());
        let who = clients[reg["to_unit"].as_str().unwrap()].1.clone();
        let (id, revision) = (
            reg["id"].as_str().unwrap().to_string(),
            reg["revision"].clone(),
        );
        tasks.spawn(async move {
            post(
                &http,
                &bases[i % 2],
                &who,
                &format!("/api/v1/registries/{id}/receive"),
                json!({ "revision": revision }),
            )
            .await
            .map(|r| r["registry"]["id"].as_str().unwrap().to_string())
        });
    }
    let mut received = BTreeSet::new();
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(id) => {
                received.insert(id);
            }
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(received.len(), registries.len());
    eprintln!(
        "two servers: {} intakes, {} completions, {} registries through both in {:.1} s",
        accepted.len(),
        completed.len(),
        registries.len(),
        started.elapsed().as_secs_f64()
    );

    // Every acknowledged command is there once: each accepted application with its
    // number, at the region's step now; numbers unique; one audited accept each.
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM applications").await - before,
        accepted.len() as i64
    );
    let sys = drn_engine::Actor::system();
    for (id, number) in &accepted {
        let app = engine
            .application(&sys, &drn_engine::ApplicationId::parse(id).unwrap(), "test")
            .await
            .unwrap();
        assert_eq!(&app.number, number);
        assert!(app.revision > completed[id], "{app:?}");
        assert_eq!(app.step, 4, "received by the region: {app:?}");
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM (SELECT number FROM applications GROUP BY number HAVING COUNT(*) > 1) d"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM (SELECT number FROM registries GROUP BY number HAVING COUNT(*) > 1) d"
        )
        .await,
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM audit WHERE action = 'accept'").await,
        count(&db, "SELECT COUNT(*) FROM applications").await
    );
    let v = engine.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
    // Each server answers with what the other wrote.
    let (id, number) = accepted.iter().next().unwrap();
    for base in &bases {
        let r = http
            .get(format!("{base}/api/v1/applications/{id}"))
            .bearer_auth(&clients["R75"].1.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let app: Value = r.json().await.unwrap();
        assert_eq!(app["number"].as_str(), Some(number.as_str()));
        assert_eq!(app["step"].as_i64(), Some(4));
    }
    db.close().await;
    drop((a, b));
    let _ = std::fs::remove_dir_all(&data);
}
