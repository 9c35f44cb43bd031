//! Durable step transitions per second, beside the machine's raw single-row durable commit
//! rate, on SQLite (a temp file with `Db::open`'s defaults: WAL, synchronous=FULL) and on
//! PostgreSQL (when DRN_BENCH_POSTGRES or DRN_TEST_POSTGRES holds a URL; a fresh database
//! is created for the run and dropped after it).
//!
//! A transition is one successful command committed: S1 (version 2018) counter step 2 -> 3
//! (`CompleteStep` by the counter operator) and back 3 -> 2 (`Return` by the district
//! officer), alternately, each writer on an application of its own. The raw rate is
//! `BEGIN; INSERT one row; COMMIT` through the same write pool.
//!
//!     cargo bench -p drn-engine --bench transitions
//!
//! Knobs: DRN_BENCH_SECONDS (per cell, default 5), DRN_BENCH_WRITERS (default "1,8,64"),
//! DRN_BENCH_DIR (where the SQLite file goes, default the system temp dir), DRN_BENCH_DIAG=1
//! (adds a non-durable diagnostic run on SQLite with synchronous=OFF: the cost of the
//! statements without the fsync of each commit).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::error::Error;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use drn_core::{Channel, Urgency};
use drn_engine::commands::Accept;
use drn_engine::*;
use drn_store::{Backend, Db};

/// The test world (`world`, `app_of`), shared with the engine's tests.
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../tests/engine/support.rs"]
mod support;
use support::{app_of, world, World};

type BoxError = Box<dyn Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

/// The engine over a fresh database with the units, staff and persons of the tests, on
/// Wed 20.03.2019 10:00 Astana (S1 version 2018: the counter's step 2 comes first).
async fn bench_world(url: &str) -> World {
    world(url, "2019-03-20T10:00").await
}

async fn accept(w: &World) -> Res<Application> {
    // Present the whole checklist of S1@2018, so that intake is not refused.
    let ver = w
        .engine
        .catalog
        .service("S1")
        .and_then(|s| s.version("2018"))
        .ok_or("S1@2018 is not in the catalog")?;
    let cmd = Command::Accept(Accept {
        process: None,
        service: "S1".into(),
        channel: Channel::Counter,
        urgency: Urgency::General,
        applicant: w.applicant,
        documents_presented: (0..ver.documents.len()).collect(),
        missing: vec![],
        data: serde_json::json!({}),
    });
    let a = app_of(&w.engine.execute(&w.counter, &cmd, None).await?);
    if (a.version.as_str(), a.step, a.status) != ("2018", 2, Status::InProgress) {
        return Err(format!("unexpected application after intake: {a:?}").into());
    }
    Ok(a)
}

/// Latencies of one cell's successful operations, and its wall time.
struct Cell {
    backend: &'static str,
    workload: &'static str,
    writers: usize,
    lat: Vec<Duration>,
    secs: f64,
    errors: usize,
}

impl Cell {
    fn ops(&self) -> usize {
        self.lat.len()
    }

    fn rate(&self) -> f64 {
        self.ops() as f64 / self.secs
    }

    fn pct(&self, p: f64) -> f64 {
        if self.lat.is_empty() {
            return f64::NAN;
        }
        let i = ((self.lat.len() as f64 - 1.0) * p).round() as usize;
        self.lat[i].as_secs_f64() * 1e3
    }
}

/// Runs `writers` tasks for `secs`, each calling `op` in a loop; `op` returns true when it
/// committed (counted with its latency), false when it failed (counted as an error).
async fn run_cell<S, F, Fut>(
    backend: &'static str,
    workload: &'static str,
    states: Vec<S>,
    secs: f64,
    op: F,
) -> Cell
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (S, bool)> + Send,
{
    let writers = states.len();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::with_capacity(writers);
    for s in states {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = s;
            let mut lat = Vec::with_capacity(1 << 14);
            let mut errors = 0;
            while Instant::now() < end {
                let t = Instant::now();
                let (next, ok) = op(s).await;
                s = next;
                if ok {
                    lat.push(t.elapsed());
                } else {
                    errors += 1;
                    if errors > 100 {
                        break;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        match t.await {
            Ok((l, e)) => {
                lat.extend(l);
                errors += e;
            }
            Err(e) => {
                eprintln!("writer task failed: {e}");
                errors += 1;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    Cell {
        backend,
        workload,
        writers,
        lat,
        secs,
        errors,
    }
}

/// One writer's application and what to do to it next.
struct Writer {
    engine: Engine,
    counter: Actor,
    district: Actor,
    app: Application,
}

/// One transition: at step 2 the counter completes it (-> 3); at step 3 the district
/// returns it (-> 2).
async fn transition(mut w: Writer) -> (Writer, bool) {
    let (actor, cmd) = if w.app.step == 2 {
        (
            &w.counter,
            Command::CompleteStep {
                application: w.app.id.clone(),
                revision: w.app.revision,
                note: None,
            },
        )
    } else {
        (
            &w.district,
            Command::Return {
                application: w.app.id.clone(),
                revision: w.app.revision,
                to_step: 2,
                reason: "Переснять фотографию".into(),
            },
        )
    };
    match w.engine.execute(actor, &cmd, None).await {
        Ok(o) => {
            w.app = app_of(&o);
            (w, true)
        }
        Err(e) => {
            eprintln!("transition: {e}");
            // Re-read the application so that the next round starts from its state.
            if let Ok(a) = w.engine.application(&w.counter, &w.app.id, "bench").await {
                w.app = a;
            }
            (w, false)
        }
    }
}

async fn transitions(backend: &'static str, w: &World, writers: usize, secs: f64) -> Res<Cell> {
    let mut states = Vec::with_capacity(writers);
    for _ in 0..writers {
        states.push(Writer {
            engine: w.engine.clone(),
            counter: w.counter.clone(),
            district: w.district.clone(),
            app: accept(w).await?,
        });
    }
    // Warm up: one round trip (2 -> 3 -> 2) per writer, not measured.
    let mut warm = Vec::with_capacity(writers);
    for s in states {
        let (s, ok1) = transition(s).await;
        let (s, ok2) = transition(s).await;
        if !(ok1 && ok2) {
            return Err("warm-up transition failed".into());
        }
        warm.push(s);
    }
    Ok(run_cell(backend, "transition", warm, secs, transition).await)
}

/// The raw durable commit: BEGIN; INSERT one row into a scratch table; COMMIT.
struct Raw {
    db: Db,
    run: i64,
    writer: i64,
    n: i64,
}

async fn raw_commit(mut r: Raw) -> (Raw, bool) {
    r.n += 1;
    let res: Result<(), drn_store::StoreError> = async {
        let mut tx = r.db.begin().await?;
        drn_store::query(
            "INSERT INTO bench_scratch (run, writer, n, payload) VALUES ($1, $2, $3, $4)",
        )
        .bind(r.run)
        .bind(r.writer)
        .bind(r.n)
        .bind("x".repeat(64))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    match res {
        Ok(()) => (r, true),
        Err(e) => {
            eprintln!("raw commit: {e}");
            (r, false)
        }
    }
}

async fn raw(backend: &'static str, db: &Db, run: i64, writers: usize, secs: f64) -> Cell {
    let states = (0..writers)
        .map(|w| Raw {
            db: db.clone(),
            run,
            writer: w as i64,
            n: 0,
        })
        .collect();
    run_cell(backend, "raw commit", states, secs, raw_commit).await
}

/// The durability settings actually in force, for the header.
async fn settings(db: &Db) -> Res<String> {
    let mut conn = db.writer().acquire().await?;
    match db.backend {
        Backend::Sqlite => {
            let jm: String = drn_store::query("PRAGMA journal_mode")
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            let sync: i64 = drn_store::query("PRAGMA synchronous")
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            let sync = match sync {
                0 => "OFF",
                1 => "NORMAL",
                2 => "FULL",
                3 => "EXTRA",
                _ => "?",
            };
            Ok(format!(
                "journal_mode={jm} synchronous={sync}, write pool {} connection(s)",
                db.writer().max_connections()
            ))
        }
        Backend::Postgres => {
            let rows = drn_store::query(
                "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay', 'commit_siblings') ORDER BY name",
            )
            .fetch_all(&mut *conn)
            .await?;
            let mut out = Vec::new();
            for r in rows {
                let (n, v): (String, String) = (r.try_get(0)?, r.try_get(1)?);
                out.push(format!("{n}={v}"));
            }
            let version: String = drn_store::query("SELECT version()")
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            let version = version.split(" on ").next().unwrap_or("").to_string();
            Ok(format!(
                "{version}; {}, write pool {} connection(s)",
                out.join(" "),
                db.writer().max_connections()
            ))
        }
    }
}

async fn bench_backend(
    backend: &'static str,
    url: &str,
    writers: &[usize],
    secs: f64,
    cells: &mut Vec<Cell>,
    no_sync: bool,
) -> Res<()> {
    let w = bench_world(url).await;
    let db = w.db.clone();
    if no_sync {
        // Diagnostic only: the one write connection stops syncing, so the rate shows the
        // statements' own cost without the fsync of each commit. Not durable.
        drn_store::query("PRAGMA synchronous=OFF")
            .execute(db.writer())
            .await?;
    }
    drn_store::query(
        "CREATE TABLE bench_scratch (run BIGINT NOT NULL, writer BIGINT NOT NULL, n BIGINT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (run, writer, n))",
    )
    .execute(db.writer())
    .await?;
    eprintln!("{backend}: {}", settings(&db).await?);
    for (run, &n) in writers.iter().enumerate() {
        eprintln!("{backend}: raw commit, {n} writer(s) ...");
        let c = raw(backend, &db, run as i64, n, secs).await;
        eprintln!("  {:.0} ops/s", c.rate());
        cells.push(c);
        eprintln!("{backend}: transitions, {n} writer(s) ...");
        let c = transitions(backend, &w, n, secs).await?;
        eprintln!("  {:.0} ops/s", c.rate());
        cells.push(c);
    }
    let v = audit::verify(&db).await?;
    if v.broken_at.is_some() {
        return Err(format!("{backend}: the audit chain is broken after the run: {v:?}").into());
    }
    eprintln!("{backend}: audit chain whole, {} records", v.records);
    db.close().await;
    Ok(())
}

/// A new PostgreSQL database next to the one `pg` names; returns its name and URL.
async fn fresh_postgres(pg: &str) -> Res<(String, String)> {
    let name = format!("drn_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Db::open(pg).await?;
    drn_store::query(format!("CREATE DATABASE {name}"))
        .execute(admin.writer())
        .await?;
    admin.close().await;
    let base = pg
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .ok_or("a PostgreSQL URL ends in /DATABASE")?;
    let url = format!("{base}/{name}");
    Ok((name, url))
}

async fn drop_postgres(pg: &str, name: &str) {
    if let Ok(admin) = Db::open(pg).await {
        let q = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if let Err(e) = drn_store::query(&q).execute(admin.writer()).await {
            eprintln!("could not drop {name}: {e}");
        }
        admin.close().await;
    }
}

fn print_table(cells: &[Cell]) {
    let header = [
        "backend", "workload", "writers", "ops", "seconds", "ops/s", "p50 ms", "p99 ms",
    ];
    let rows: Vec<[String; 8]> = cells
        .iter()
        .map(|c| {
            [
                c.backend.to_string(),
                c.workload.to_string(),
                c.writers.to_string(),
                c.ops().to_string(),
                format!("{:.2}", c.secs),
                format!("{:.0}", c.rate()),
                format!("{:.2}", c.pct(0.50)),
                format!("{:.2}", c.pct(0.99)),
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for r in &rows {
        for (w, s) in width.iter_mut().zip(r) {
            *w = (*w).max(s.len());
        }
    }
    let line = |cols: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(width).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            // Text columns to the left, numbers to the right.
            if i < 2 {
                s.push_str(&format!("{c:<w$}"));
            } else {
                s.push_str(&format!("{c:>w$}"));
            }
        }
        println!("{}", s.trim_end());
    };
    line(&header.map(String::from));
    line(&width.map(|w| "-".repeat(w)));
    for r in &rows {
        line(r);
    }
    let errors: usize = cells.iter().map(|c| c.errors).sum();
    if errors > 0 {
        println!("failed operations (not counted): {errors}");
    }
}

fn main() -> Res<()> {
    // `cargo bench` passes `--bench`; filters are not supported.
    let secs: f64 = match std::env::var("DRN_BENCH_SECONDS") {
        Ok(s) if !s.is_empty() => s.parse()?,
        _ => 5.0,
    };
    let writers: Vec<usize> = match std::env::var("DRN_BENCH_WRITERS") {
        Ok(s) if !s.is_empty() => s
            .split(',')
            .map(|x| x.trim().parse())
            .collect::<Result<_, _>>()?,
        _ => vec![1, 8, 64],
    };
    let pg = ["DRN_BENCH_POSTGRES", "DRN_TEST_POSTGRES"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    let diag = std::env::var("DRN_BENCH_DIAG").is_ok_and(|v| !v.is_empty() && v != "0");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let base: PathBuf = std::env::var_os("DRN_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("drn-bench-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        let sqlite = format!("sqlite://{}", dir.join("drn.db").display());
        eprintln!(
            "{secs} s per cell, writers {writers:?}, {} worker threads; SQLite file {}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            dir.join("drn.db").display()
        );
        let mut cells = Vec::new();
        let started = Instant::now();
        let r = bench_backend("sqlite", &sqlite, &writers, secs, &mut cells, false).await;
        let _ = std::fs::remove_dir_all(&dir);
        r?;
        if diag {
            std::fs::create_dir_all(&dir)?;
            let r = bench_backend("sqlite sync=OFF", &sqlite, &writers, secs, &mut cells, true)
                .await;
            let _ = std::fs::remove_dir_all(&dir);
            r?;
        }
        match &pg {
            Some(pg) => {
                let (name, url) = fresh_postgres(pg).await?;
                let r = bench_backend("postgres", &url, &writers, secs, &mut cells, false).await;
                drop_postgres(pg, &name).await;
                r?;
            }
            None => eprintln!(
                "postgres: skipped (set DRN_BENCH_POSTGRES or DRN_TEST_POSTGRES to a URL)"
            ),
        }
        println!();
        println!(
            "DRN durable commits (transition = one committed CompleteStep or Return; raw commit = BEGIN; INSERT 1 row; COMMIT)"
        );
        print_table(&cells);
        println!("total {:.0} s", started.elapsed().as_secs_f64());
        Ok::<(), BoxError>(())
    })
}
