//! Load over HTTP: a demo server on SQLite (started here, on loopback) and a mixed
//! workload of virtual users, each on its own keep-alive connection: intake (S1 at a
//! counter), step completions (the counter's step 2 of an application the user accepted),
//! queue queries (a counter's queue, 20 items) and portal status checks (a citizen's
//! applications), a quarter each. Prints throughput and p50/p99 latency per request kind
//! for 64 and 512 connections, two ways:
//!
//! * closed loop: each user sends its next request when the last is answered, so the
//!   table shows the most the server does (and latency grows with the connections);
//! * open loop at a fixed rate (as wrk2 does): the users together send `rate` requests a
//!   second on a schedule, and latency counts from the scheduled instant, so a server
//!   that falls behind shows it in p99 instead of slowing the driver down.
//!
//!     cargo bench -p drn-server --bench load
//!
//! Knobs: DRN_BENCH_SECONDS (per cell, default 10), DRN_BENCH_CONNECTIONS (default
//! "64,512"), DRN_BENCH_RATES (open-loop rates, default "500,1000,2000"; "" for none),
//! DRN_BENCH_DIR (the SQLite file's directory, default the system temp dir).
//! The driver and the server share this machine's cores.
//!
//! Each intake's talon (a signed PDF) is made after its answer, two at a time; a closed
//! loop accepts faster than that, and the talons left to make would load the next cell.
//! So each cell starts when the server has no document left to make
//! ([`drn_server::documents::documents_pending`]), and the table shows how long that
//! wait was ("wait s": the backlog the cell before left).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::error::Error;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drn_core::Iin;
use drn_engine::demo::SplitMix64;
use drn_engine::{Role, ShiftedClock, UnitId};
use serde_json::{json, Value};

/// The test world's demo server, shared with the server's tests.
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../tests/api/support.rs"]
mod support;
use support::{demo_server, Demo};

type BoxError = Box<dyn Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Intake,
    Complete,
    Queue,
    Portal,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Intake => "intake",
            Kind::Complete => "step completion",
            Kind::Queue => "queue query",
            Kind::Portal => "portal status",
        }
    }
}

/// The server and what the users need.
struct Setup {
    base: String,
    /// Bearer tokens of counter operators (API clients) and their counters.
    operators: Vec<(String, UnitId)>,
    /// Session cookies of citizens.
    citizens: Vec<String>,
    applicants: Vec<Iin>,
    documents: usize,
    /// The database file and PKI directory, removed at the end.
    files: (std::path::PathBuf, std::path::PathBuf),
}

async fn setup(dir: &Path) -> Res<Setup> {
    let file = dir.join(format!("drn-load-{}.db", std::process::id()));
    let url = format!("sqlite://{}", file.display());
    // The demo's date: S1 of the 2018 regulations is in force.
    let start: jiff::Timestamp = "2019-11-20T09:30:00+06:00".parse()?;
    let pki_dir = dir.join(format!("drn-load-pki-{}", std::process::id()));
    let Demo {
        db,
        state,
        report,
        listener,
        base,
    } = demo_server(
        &url,
        Arc::new(ShiftedClock::starting_at(start)),
        10_000,
        &pki_dir,
    )
    .await;
    let engine = state.engine.clone();
    let mut operators = Vec::new();
    for (i, a) in report
        .accounts
        .iter()
        .filter(|a| a.role == Role::CounterOperator)
        .enumerate()
    {
        let token = drn_server::auth::create_api_client(
            &state.engine,
            &format!("load-op-{i}"),
            Role::CounterOperator,
            &a.unit,
            None,
        )
        .await?;
        operators.push((token, a.unit.clone()));
    }
    let rows = drn_store::query(
        "SELECT iin FROM persons WHERE birth_date < '2001-01-01' ORDER BY iin LIMIT 2000",
    )
    .fetch_all(db.reader())
    .await?;
    let mut applicants = Vec::new();
    for r in &rows {
        applicants.push(Iin::parse(&r.try_get::<String, _>(0)?)?);
    }
    let mut citizens = Vec::new();
    for iin in applicants.iter().take(512) {
        let (token, _) = drn_server::auth::create_session(
            &state,
            "citizen",
            &iin.to_string(),
            Role::Citizen,
            None,
            Some(iin),
        )
        .await?;
        citizens.push(format!("{}={token}", drn_server::auth::SESSION_COOKIE));
    }
    let documents = engine
        .catalog
        .service("S1")
        .and_then(|s| s.version("2018"))
        .map(|v| v.documents.len())
        .unwrap_or(0);
    tokio::spawn(drn_server::serve_on(state, listener));
    Ok(Setup {
        base,
        operators,
        citizens,
        applicants,
        documents,
        files: (file, pki_dir),
    })
}

/// One virtual user: its own connection, its applications waiting at step 2.
struct User {
    http: reqwest::Client,
    token: String,
    unit: UnitId,
    cookie: String,
    waiting: Vec<(String, i64)>,
    rng: SplitMix64,
}

/// Sends a request and reads the whole answer; parses it as JSON only when `parse` (the
/// driver shares the cores with the server: it parses only what it needs).
async fn send(req: reqwest::RequestBuilder, parse: bool) -> Option<Value> {
    let r = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            note(format!("request: {e}"));
            return None;
        }
    };
    let status = r.status();
    let bytes = r.bytes().await.unwrap_or_default();
    if !status.is_success() {
        note(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
        return None;
    }
    if !parse {
        return Some(Value::Null);
    }
    serde_json::from_slice(&bytes).ok()
}

/// The first few errors, printed once.
static NOTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn note(e: String) {
    if NOTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 3 {
        eprintln!("error: {e}");
    }
}

impl User {
    async fn one(&mut self, s: &Setup) -> (Kind, bool) {
        let mut kind = match self.rng.below(4) {
            0 => Kind::Intake,
            1 => Kind::Complete,
            2 => Kind::Queue,
            _ => Kind::Portal,
        };
        if kind == Kind::Complete && self.waiting.is_empty() {
            kind = Kind::Intake;
        }
        let ok = match kind {
            Kind::Intake => {
                let applicant = *self.rng.pick(&s.applicants);
                let body = json!({
                    "service": "S1", "channel": "counter", "urgency": "general",
                    "applicant": applicant.to_string(),
                    "documents_presented": (0..s.documents).collect::<Vec<_>>(),
                });
                let req = self
                    .http
                    .post(format!("{}/api/v1/applications", s.base))
                    .bearer_auth(&self.token)
                    .json(&body);
                match send(req, true).await {
                    Some(v) => {
                        let a = &v["application"];
                        if let (Some(id), Some(rev)) = (a["id"].as_str(), a["revision"].as_i64()) {
                            self.waiting.push((id.to_string(), rev));
                        }
                        true
                    }
                    None => false,
                }
            }
            Kind::Complete => {
                let Some((id, rev)) = self.waiting.pop() else {
                    return (kind, false);
                };
                let req = self
                    .http
                    .post(format!("{}/api/v1/applications/{id}/complete", s.base))
                    .bearer_auth(&self.token)
                    .json(&json!({ "revision": rev }));
                send(req, false).await.is_some()
            }
            Kind::Queue => {
                let req = self
                    .http
                    .get(format!(
                        "{}/api/v1/units/{}/queue?limit=20",
                        s.base, self.unit
                    ))
                    .bearer_auth(&self.token);
                send(req, false).await.is_some()
            }
            Kind::Portal => {
                let req = self
                    .http
                    .get(format!("{}/api/v1/my/applications", s.base))
                    .header("cookie", &self.cookie);
                send(req, false).await.is_some()
            }
        };
        (kind, ok)
    }
}

struct Cell {
    connections: usize,
    /// The open loop's rate; `None` for the closed loop.
    rate: Option<f64>,
    secs: f64,
    lat: BTreeMap<Kind, Vec<Duration>>,
    errors: usize,
    /// Seconds waited before the cell for the documents left to make (see [`quiet`]).
    waited: f64,
}

fn pct(v: &[Duration], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

/// Waits until the server has made every document queued after an answer (at most two
/// minutes); answers how long it waited.
async fn quiet() -> Res<f64> {
    let started = Instant::now();
    while drn_server::documents::documents_pending() > 0 {
        if started.elapsed() > Duration::from_secs(120) {
            return Err("documents still pending after two minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(started.elapsed().as_secs_f64())
}

async fn cell(s: Arc<Setup>, connections: usize, rate: Option<f64>, secs: f64) -> Res<Cell> {
    let waited = quiet().await?;
    let mut users = Vec::new();
    for i in 0..connections {
        let (token, unit) = s.operators[i % s.operators.len()].clone();
        users.push(User {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?,
            token,
            unit,
            cookie: s.citizens[i % s.citizens.len()].clone(),
            waiting: Vec::new(),
            rng: SplitMix64::new(i as u64 + 1),
        });
    }
    // Warm up: every user opens its connection.
    for u in &mut users {
        let _ = u.one(&s).await;
    }
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    // Open loop: each user's share of the rate, the users' schedules staggered.
    let interval = rate.map(|r| Duration::from_secs_f64(connections as f64 / r));
    for (i, mut u) in users.into_iter().enumerate() {
        let s = s.clone();
        let mut next = interval.map(|iv| start + iv.mul_f64(i as f64 / connections as f64));
        tasks.push(tokio::spawn(async move {
            let mut lat: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
            let mut errors = 0;
            loop {
                // The instant the request is due: now (closed loop) or its slot.
                let t = match (next, interval) {
                    (Some(due), Some(iv)) => {
                        if due >= end {
                            break;
                        }
                        tokio::time::sleep_until(due.into()).await;
                        next = Some(due + iv);
                        due
                    }
                    _ => {
                        if Instant::now() >= end {
                            break;
                        }
                        Instant::now()
                    }
                };
                let (k, ok) = u.one(&s).await;
                if ok {
                    lat.entry(k).or_default().push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut lat: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        for (k, v) in l {
            lat.entry(k).or_default().extend(v);
        }
        errors += e;
    }
    let secs = start.elapsed().as_secs_f64();
    for v in lat.values_mut() {
        v.sort_unstable();
    }
    Ok(Cell {
        connections,
        rate,
        secs,
        lat,
        errors,
        waited,
    })
}

fn main() -> Res<()> {
    // `drn serve`'s allocator (drn-server's) and its options.
    drn_server::tune_allocator();
    // Warnings (a slow statement or commit: what a stall in the table was) on stderr.
    drn_server::init_logging_at("warn");
    let secs: f64 = std::env::var("DRN_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    let conns: Vec<usize> = std::env::var("DRN_BENCH_CONNECTIONS")
        .unwrap_or_else(|_| "64,512".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rates: Vec<f64> = std::env::var("DRN_BENCH_RATES")
        .unwrap_or_else(|_| "500,1000,2000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter(|r| *r > 0.0)
        .collect();
    let dir = std::env::var("DRN_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    // The server on a runtime of its own (as if another process), the driver on another:
    // a profile tells their threads apart ("drn-server", "drn-writer", "bench-driver").
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("drn-server")
        .enable_all()
        .build()?;
    eprintln!("setting up the demo server (10,000 persons) ...");
    let s = Arc::new(server_rt.block_on(setup(&dir))?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("bench-driver")
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut cells = Vec::new();
        for &c in &conns {
            eprintln!("{c} connections, closed loop, {secs} s ...");
            cells.push(cell(s.clone(), c, None, secs).await?);
            for &r in &rates {
                eprintln!("{c} connections, {r} requests/s, {secs} s ...");
                cells.push(cell(s.clone(), c, Some(r), secs).await?);
            }
        }
        println!();
        println!("HTTP load on SQLite (loopback, driver and server on the same {} cores), {secs} s per cell", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
        println!("load: closed loop, or the open loop's offered requests/s (latency from the scheduled instant)");
        println!(
            "{:>5}  {:>6}  {:<16} {:>8} {:>9} {:>8} {:>8} {:>8} {:>7}",
            "conns", "load", "request", "count", "req/s", "p50 ms", "p99 ms", "errors", "wait s"
        );
        for c in &cells {
            let mut all: Vec<Duration> = c.lat.values().flatten().copied().collect();
            all.sort_unstable();
            let load = c.rate.map_or("closed".to_string(), |r| format!("{r:.0}"));
            for (k, v) in &c.lat {
                println!(
                    "{:>5}  {:>6}  {:<16} {:>8} {:>9.0} {:>8.2} {:>8.2} {:>8}",
                    c.connections,
                    load,
                    k.name(),
                    v.len(),
                    v.len() as f64 / c.secs,
                    pct(v, 0.5),
                    pct(v, 0.99),
                    ""
                );
            }
            println!(
                "{:>5}  {:>6}  {:<16} {:>8} {:>9.0} {:>8.2} {:>8.2} {:>8} {:>7.1}",
                c.connections,
                load,
                "all",
                all.len(),
                all.len() as f64 / c.secs,
                pct(&all, 0.5),
                pct(&all, 0.99),
                c.errors,
                c.waited
            );
        }
        let (file, pki) = &s.files;
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
        }
        let _ = std::fs::remove_dir_all(pki);
        Ok::<(), BoxError>(())
    })
}
