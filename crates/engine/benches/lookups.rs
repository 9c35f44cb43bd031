//! Lookups of persons by IIN after a national-size load: p50/p99 latency of the store's
//! query (the one behind `Engine::person`) and of `Engine::person` itself (which also
//! writes the read's audit record, a durable group commit), on random IINs of the
//! database.
//!
//!     drn demo seed --persons 20000000 --db sqlite:///big/drn-scale.db
//!     DRN_BENCH_DB=sqlite:///big/drn-scale.db cargo bench -p drn-engine --bench lookups
//!
//! Knobs: DRN_BENCH_DB (required: a loaded database; SQLite), DRN_BENCH_LOOKUPS (per
//! cell, default 100000; the audited cells do a tenth of it), DRN_BENCH_TASKS (default
//! "1,4").

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drn_core::Iin;
use drn_engine::demo::SplitMix64;
use drn_engine::{Actor, Engine, SystemClock};
use drn_store::Db;

/// The test world's catalog loader, shared with the engine's tests.
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../tests/engine/support.rs"]
mod support;

type BoxError = Box<dyn Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

struct Cell {
    what: &'static str,
    tasks: usize,
    lat: Vec<Duration>,
    secs: f64,
    misses: usize,
}

impl Cell {
    fn pct(&self, p: f64) -> f64 {
        if self.lat.is_empty() {
            return f64::NAN;
        }
        let i = ((self.lat.len() as f64 - 1.0) * p).round() as usize;
        self.lat[i].as_secs_f64() * 1e3
    }
}

/// Random IINs of the database: random rowids (not timed).
async fn sample(db: &Db, n: usize, seed: u64) -> Res<Vec<String>> {
    let max: i64 = drn_store::query("SELECT MAX(rowid) FROM persons")
        .fetch_one(db.reader())
        .await?
        .try_get(0)?;
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let id = 1 + rng.below(max as u64) as i64;
        if let Some(r) = drn_store::query("SELECT iin FROM persons WHERE rowid = $1")
            .bind(id)
            .fetch_optional(db.reader())
            .await?
        {
            out.push(r.try_get::<String, _>(0)?);
        }
    }
    Ok(out)
}

async fn run<F, Fut>(what: &'static str, tasks: usize, iins: Arc<Vec<String>>, op: F) -> Cell
where
    F: Fn(String) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let op = op.clone();
        let iins = iins.clone();
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut misses = 0;
            for iin in iins.iter().skip(t).step_by(tasks) {
                let s = Instant::now();
                if op(iin.clone()).await {
                    lat.push(s.elapsed());
                } else {
                    misses += 1;
                }
            }
            (lat, misses)
        }));
    }
    let mut lat = Vec::new();
    let mut misses = 0;
    for h in handles {
        if let Ok((l, m)) = h.await {
            lat.extend(l);
            misses += m;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    Cell {
        what,
        tasks,
        lat,
        secs,
        misses,
    }
}

fn main() -> Res<()> {
    let url = std::env::var("DRN_BENCH_DB")
        .map_err(|_| "set DRN_BENCH_DB to a database loaded by `drn demo seed`")?;
    let n: usize = std::env::var("DRN_BENCH_LOOKUPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let tasks: Vec<usize> = std::env::var("DRN_BENCH_TASKS")
        .unwrap_or_else(|_| "1,4".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let db = Db::open(&url).await?;
        let persons: i64 = drn_store::query("SELECT COUNT(*) FROM persons")
            .fetch_one(db.reader())
            .await?
            .try_get(0)?;
        eprintln!("{persons} persons in {url}; sampling {n} random IINs ...");
        let iins = Arc::new(sample(&db, n, 7).await?);
        let audited = Arc::new(iins[..(n / 10).max(1)].to_vec());
        let (cat, cal) = support::load_catalog();
        let engine = Engine::new(db.clone(), cat, cal, Arc::new(SystemClock))?;
        let mut cells = Vec::new();
        for &t in &tasks {
            let db2 = db.clone();
            cells.push(
                run("store query", t, iins.clone(), move |iin| {
                    let db = db2.clone();
                    async move {
                        drn_store::query("SELECT iin, surname, given_name, patronymic, birth_date, sex, citizenship, data_json FROM persons WHERE iin = $1")
                            .bind(iin)
                            .fetch_optional(db.reader())
                            .await
                            .is_ok_and(|r| r.is_some())
                    }
                })
                .await,
            );
            let e = engine.clone();
            cells.push(
                run("engine.person (audited)", t * 4, audited.clone(), move |iin| {
                    let e = e.clone();
                    async move {
                        let Ok(iin) = Iin::parse(&iin) else { return false };
                        e.person(&Actor::system(), &iin, "bench").await.is_ok()
                    }
                })
                .await,
            );
        }
        println!();
        println!("Lookups by IIN over {persons} persons (random IINs of the database)");
        println!(
            "{:<24} {:>6} {:>8} {:>10} {:>9} {:>9} {:>9} {:>6}",
            "workload", "tasks", "lookups", "per s", "p50 ms", "p99 ms", "max ms", "miss"
        );
        for c in &cells {
            println!(
                "{:<24} {:>6} {:>8} {:>10.0} {:>9.3} {:>9.3} {:>9.3} {:>6}",
                c.what,
                c.tasks,
                c.lat.len(),
                c.lat.len() as f64 / c.secs,
                c.pct(0.5),
                c.pct(0.99),
                c.lat.last().map(|d| d.as_secs_f64() * 1e3).unwrap_or(f64::NAN),
                c.misses
            );
        }
        Ok::<(), BoxError>(())
    })
}
