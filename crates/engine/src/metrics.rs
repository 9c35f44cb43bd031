//! A small process-wide metrics registry rendered in the Prometheus text format
//! (version 0.0.4): counters and histograms with labels, on atomics.
//!
//! Why not the `metrics` and `metrics-exporter-prometheus` crates: the exporter brings
//! `metrics-util`, `quanta`, `sketches-ddsketch`, `indexmap` and more for what is here a
//! few fixed series with small label sets; this registry is one file, has no global
//! recorder to install (tests in one process share it harmlessly) and renders exactly the
//! series and buckets we choose. Series are created once under a write lock and then
//! updated under a read lock with atomic adds, so the hot path takes no exclusive lock.
//!
//! Why not `prometheus-client` (0.26, measured 2026-12-07, issue 27): it writes the
//! OpenMetrics text, not this format. A counter family is named without its `_total`
//! (`# TYPE drn_http_requests counter`, and registering `drn_http_requests_total` panics
//! in debug builds), the exposition must end with `# EOF` (so the gauges read at scrape
//! time would have to become collectors), and its content type is
//! `application/openmetrics-text`: the `# TYPE` lines and the content type that /metrics
//! consumers and the server's tests read would change. It would also add 22 s of
//! compilation on the engine's critical path on 2 cores (syn 3.0 alone 17 s, which no
//! other dependency uses; its derive crate 2.4 s; the crate 2.5 s).
//!
//! Series recorded where they happen: HTTP requests (the server's middleware), engine
//! commands ([`Engine::execute`](crate::Engine::execute) through the writer) and calls to
//! the state systems (the online renewal's ports). Gauges that are a reading of the
//! current state (overdue counts, circuit breakers) are computed at scrape time by the
//! server and appended with [`gauge_family`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Duration;

/// Histogram buckets, in seconds.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    name: &'static str,
    labels: Labels,
}

#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket (not cumulative); the last is +Inf.
    counts: [AtomicU64; BUCKETS.len() + 1],
    /// Sum in microseconds.
    sum_us: AtomicU64,
}

/// The registry.
#[derive(Debug, Default)]
pub struct Registry {
    counters: RwLock<HashMap<Key, Arc<AtomicU64>>>,
    histograms: RwLock<HashMap<Key, Arc<Histogram>>>,
    help: RwLock<HashMap<&'static str, &'static str>>,
}

static GLOBAL: LazyLock<Registry> = LazyLock::new(Registry::default);

/// The process's registry.
pub fn global() -> &'static Registry {
    &GLOBAL
}

/// A series, if it was ever recorded.
fn get<T>(map: &RwLock<HashMap<Key, Arc<T>>>, key: &Key) -> Option<Arc<T>> {
    map.read()
        .unwrap_or_else(|p| p.into_inner())
        .get(key)
        .cloned()
}

fn get_or_make<T: Default>(map: &RwLock<HashMap<Key, Arc<T>>>, key: Key) -> Arc<T> {
    if let Some(v) = get(map, &key) {
        return v;
    }
    map.write()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default()
        .clone()
}

impl Key {
    fn new(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
        Key {
            name,
            labels: owned(labels),
        }
    }
}

fn owned(labels: &[(&'static str, &str)]) -> Labels {
    labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect()
}

impl Registry {
    /// Describes a metric (the `# HELP` line).
    pub fn describe(&self, name: &'static str, help: &'static str) {
        self.help
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, help);
    }

    /// Adds `n` to a counter.
    pub fn inc(&self, name: &'static str, labels: &[(&'static str, &str)], n: u64) {
        let key = Key::new(name, labels);
        get_or_make(&self.counters, key).fetch_add(n, Ordering::Relaxed);
    }

    /// Records a duration in a histogram.
    pub fn observe(&self, name: &'static str, labels: &[(&'static str, &str)], d: Duration) {
        let key = Key::new(name, labels);
        let h = get_or_make(&self.histograms, key);
        let secs = d.as_secs_f64();
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        h.counts[i].fetch_add(1, Ordering::Relaxed);
        h.sum_us.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// A counter's value (0 when it was never incremented).
    pub fn counter(&self, name: &'static str, labels: &[(&'static str, &str)]) -> u64 {
        get(&self.counters, &Key::new(name, labels))
            .map(|c| c.load(Ordering::Relaxed))
            .unwrap_or(0)
    }

    /// A histogram's count and sum in seconds ((0, 0) when it was never observed).
    pub fn histogram_totals(
        &self,
        name: &'static str,
        labels: &[(&'static str, &str)],
    ) -> (u64, f64) {
        get(&self.histograms, &Key::new(name, labels))
            .map(|h| {
                let n = h.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum();
                (n, h.sum_us.load(Ordering::Relaxed) as f64 / 1e6)
            })
            .unwrap_or((0, 0.0))
    }

    /// Every series in the text format, by metric name.
    pub fn render(&self) -> String {
        let help = self.help.read().unwrap_or_else(|p| p.into_inner()).clone();
        let mut out = String::new();
        let mut counters: Vec<(Key, u64)> = self
            .counters
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.load(Ordering::Relaxed)))
            .collect();
        counters.sort();
        let mut last = "";
        for (k, v) in &counters {
            if k.name != last {
                header(&mut out, k.name, help.get(k.name).copied(), "counter");
                last = k.name;
            }
            let _ = writeln!(out, "{}{} {v}", k.name, label_text(&k.labels, None));
        }
        let mut hists: Vec<(Key, Arc<Histogram>)> = self
            .histograms
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        hists.sort_by(|a, b| a.0.cmp(&b.0));
        let mut last = "";
        for (k, h) in &hists {
            if k.name != last {
                header(&mut out, k.name, help.get(k.name).copied(), "histogram");
                last = k.name;
            }
            let mut cum = 0u64;
            for (i, c) in h.counts.iter().enumerate() {
                cum += c.load(Ordering::Relaxed);
                let le = BUCKETS
                    .get(i)
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "+Inf".into());
                let _ = writeln!(
                    out,
                    "{}_bucket{} {cum}",
                    k.name,
                    label_text(&k.labels, Some(&le))
                );
            }
            let sum = h.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
            let labels = label_text(&k.labels, None);
            let _ = writeln!(out, "{}_sum{labels} {sum}", k.name);
            let _ = writeln!(out, "{}_count{labels} {cum}", k.name);
        }
        out
    }
}

fn header(out: &mut String, name: &str, help: Option<&str>, kind: &str) {
    if let Some(h) = help {
        let _ = writeln!(out, "# HELP {name} {h}");
    }
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value escaped for the text format.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn label_text(labels: &[(&str, String)], le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// A gauge family computed at scrape time, in the text format.
pub fn gauge_family(name: &str, help: &str, series: &[(Vec<(&str, String)>, f64)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, v) in series {
        let _ = writeln!(out, "{name}{} {v}", label_text(labels, None));
    }
    out
}

/// Names of the series the engine records.
pub const COMMANDS: &str = "drn_commands_total";
pub const COMMAND_SECONDS: &str = "drn_command_duration_seconds";
pub const PORT_CALLS: &str = "drn_state_system_calls_total";
pub const WRITER_BATCH_SECONDS: &str = "drn_writer_batch_duration_seconds";
pub const WRITER_JOBS: &str = "drn_writer_jobs_total";

/// Records a writer's batch: its jobs and the time from taking them to answering them
/// (the transaction and its durable commit). The sum of the times over the wall time is
/// how busy the writer was; jobs over batches is how much each commit was shared.
pub(crate) fn writer_batch(jobs: usize, took: Duration) {
    let r = global();
    r.inc(WRITER_JOBS, &[], jobs as u64);
    r.observe(WRITER_BATCH_SECONDS, &[], took);
}

/// The CPU time this process has used so far: (user, system) seconds, read from
/// `/proc/self/stat` (Linux; `None` elsewhere or when it cannot be read). Its resolution is
/// the kernel's clock tick, 10 ms (`USER_HZ` is 100 on every architecture Linux exports
/// `/proc` for), so it suits totals over many commands, not one command. PostgreSQL's own
/// CPU is not in it (the server is another process); SQLite's is.
pub fn process_cpu() -> Option<(f64, f64)> {
    cpu_of_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// (utime, stime) in seconds from a `/proc/PID/stat` line: fields 14 and 15, counted after
/// the command name, which may hold spaces and parentheses (it ends at the last `)`).
fn cpu_of_stat(stat: &str) -> Option<(f64, f64)> {
    const TICKS_PER_SECOND: f64 = 100.0;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((
        user as f64 / TICKS_PER_SECOND,
        system as f64 / TICKS_PER_SECOND,
    ))
}

/// The writers' totals so far: batches, jobs and seconds busy.
pub fn writer_totals() -> (u64, u64, f64) {
    let r = global();
    let (batches, busy) = r.histogram_totals(WRITER_BATCH_SECONDS, &[]);
    (batches, r.counter(WRITER_JOBS, &[]), busy)
}

/// Records a command's outcome and latency: `ok`, `denied` (the engine refused it: not
/// allowed, stale, wrong step, invalid input...) or `error` (a fault of the system).
pub(crate) fn command(name: &str, ok: Result<(), &crate::EngineError>, took: Duration) {
    let r = global();
    let outcome = match ok {
        Ok(()) => "ok",
        Err(e) if matches!(e.code(), "internal" | "storage_fault") => "error",
        Err(_) => "denied",
    };
    r.inc(COMMANDS, &[("command", name), ("outcome", outcome)], 1);
    r.observe(COMMAND_SECONDS, &[("command", name)], took);
}

/// Records a call to a state system and its result (`ok` or the error's kind).
pub(crate) fn port_call(port: &str, result: &str) {
    global().inc(PORT_CALLS, &[("port", port), ("result", result)], 1);
}

/// Describes the engine's series (idempotent).
pub fn describe_engine() {
    let r = global();
    r.describe(
        COMMANDS,
        "Engine commands by name and outcome (ok, denied, error).",
    );
    r.describe(
        COMMAND_SECONDS,
        "Engine command latency, queue and durable commit included.",
    );
    r.describe(
        WRITER_BATCH_SECONDS,
        "Writer batches: the time of each (its transaction and durable commit).",
    );
    r.describe(
        WRITER_JOBS,
        "Jobs the writers ran (commands, audited reads, records).",
    );
    r.describe(
        PORT_CALLS,
        "Calls to the state systems by port and result (ok or the error kind).",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_times_from_a_stat_line() {
        let line = "4242 (drn (sim) x) R 1 4242 4242 0 -1 4194560 1021 0 0 0 1234 56 0 0 20 0 3 0 99 1000 200";
        assert_eq!(cpu_of_stat(line), Some((12.34, 0.56)));
        assert_eq!(cpu_of_stat("4242 (drn) R 1"), None);
        // Work on the CPU shows in this process's user time within a few ticks.
        let (user, _) = process_cpu().unwrap();
        let started = std::time::Instant::now();
        let mut x = 1u64;
        while process_cpu().unwrap().0 < user + 0.02 {
            assert!(started.elapsed().as_secs() < 10, "no CPU time counted");
            for i in 0..100_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
    }

    #[test]
    fn renders_counters_and_histograms() {
        let r = Registry::default();
        r.describe("t_total", "Test.");
        r.inc("t_total", &[("a", "x\"y")], 2);
        r.observe("t_seconds", &[("route", "/r")], Duration::from_millis(3));
        r.observe("t_seconds", &[("route", "/r")], Duration::from_secs(60));
        let text = r.render();
        assert!(text.contains("# HELP t_total Test.\n# TYPE t_total counter\n"));
        assert!(text.contains("t_total{a=\"x\\\"y\"} 2\n"), "{text}");
        assert!(text.contains("t_seconds_bucket{route=\"/r\",le=\"0.0025\"} 0\n"));
        assert!(text.contains("t_seconds_bucket{route=\"/r\",le=\"0.005\"} 1\n"));
        assert!(text.contains("t_seconds_bucket{route=\"/r\",le=\"+Inf\"} 2\n"));
        assert!(text.contains("t_seconds_count{route=\"/r\"} 2\n"));
        assert!(
            text.contains("t_seconds_sum{route=\"/r\"} 60.003\n"),
            "{text}"
        );
        assert_eq!(r.counter("t_total", &[("a", "x\"y")]), 2);
        let (n, secs) = r.histogram_totals("t_seconds", &[("route", "/r")]);
        assert_eq!(n, 2);
        assert!((secs - 60.003).abs() < 1e-9, "{secs}");
        assert_eq!(
            r.histogram_totals("t_seconds", &[("route", "/other")]),
            (0, 0.0)
        );
        let g = gauge_family("g", "G.", &[(vec![("kind", "district".into())], 3.0)]);
        assert_eq!(g, "# HELP g G.\n# TYPE g gauge\ng{kind=\"district\"} 3\n");
    }
}
