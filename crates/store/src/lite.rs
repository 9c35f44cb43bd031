//! SQLite through rusqlite, synchronously: the engine writer's connection (in the writer's
//! own thread, statements prepared once and cached), the read pool behind [`crate::Db::rows`]
//! and the WAL's [`Checkpointer`].
//!
//! Why not sqlx here. sqlx runs every SQLite connection on a worker thread of its own and
//! hands each call and each row across with channels. A profile of the month simulation
//! showed 30 % of the CPU in the kernel switching between those threads and 2 % in
//! SQLite's own VM. The writer is one thread that runs a batch of commands and commits
//! it; calling SQLite directly from it removes the hops. PostgreSQL, migrations and the
//! rarer reads and writes stay on sqlx.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};

use crate::row::DbRow;
use crate::{Fault, RunResult, Statement, StoreError, Value};

/// Every SQLite connection's settings, this module's and sqlx's pools' alike:
/// - WAL, so that readers read beside the writer; `synchronous=FULL`, so that a committed
///   (acknowledged) transaction survives a crash; foreign keys; a 10 s busy timeout;
/// - pages read through a memory map, not copied in by a read call each (a reader's page
///   cache is dropped whenever the writer commits), up to SQLite's cap of 2 GiB. Mapping
///   the whole file (a 64 GiB cap, tried on a year's 16 GiB database) made the system
///   time grow by half and the writer wait on page faults: 31–34 s for a week against
///   22–24 s with this map. On 2026-12-04 a 1 TiB cap (built with
///   `LIBSQLITE3_FLAGS=-DSQLITE_MAX_MMAP_SIZE=…`) ran weeks on a year's 16 GB database in
///   16.6–16.8 s against 16.6–18.1 s with this map, at three times the resident size
///   (2.2–2.4 GB against 0.75 GB), so the cap stays;
/// - a larger page cache (64 MiB; the engine writer's is larger still, [`WRITER_CACHE`]).
pub(crate) const CONNECTION_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA mmap_size=2147418112",
    "PRAGMA cache_size=-65536",
];

/// The writer connection's page cache (see [`LiteConn::open_writer`]), in KiB.
const WRITER_CACHE: &str = "PRAGMA cache_size=-1048576";

/// Statements kept prepared per connection (the engine has a few hundred distinct ones;
/// the multi-row audit inserts differ by size).
const CACHED_STATEMENTS: usize = 512;

/// A SQLite connection, set up as the sqlx pool's are ([`CONNECTION_PRAGMAS`]).
pub struct LiteConn {
    c: Connection,
    /// The writer's: refuses once set, and is set by a storage fault met here.
    fault: Option<Fault>,
}

impl std::fmt::Debug for LiteConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiteConn").finish_non_exhaustive()
    }
}

/// The file of a `sqlite://PATH[?options]` URL.
pub fn path_of(url: &str) -> Result<PathBuf, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::BadUrl(url.to_string()))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") {
        // Each connection to an in-memory database is a database of its own: the writer
        // and the readers would not see each other's rows.
        return Err(StoreError::BadUrl(url.to_string()));
    }
    Ok(PathBuf::from(path))
}

impl LiteConn {
    /// Opens (or creates) a database file.
    pub fn open(path: &Path) -> Result<LiteConn, StoreError> {
        let c = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        for pragma in CONNECTION_PRAGMAS {
            c.execute_batch(pragma)?;
        }
        c.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
        Ok(LiteConn { c, fault: None })
    }

    /// The connection of a writer whose WAL is checkpointed by a [`Checkpointer`]: it
    /// checkpoints itself only when the WAL has grown far (the checkpointer fell behind).
    /// It stops at the database's first storage fault (see [`Fault`]).
    pub fn open_writer(path: &Path, fault: Fault) -> Result<LiteConn, StoreError> {
        let mut c = LiteConn::open(path)?;
        c.fault = Some(fault);
        // The WAL file is cut back to 64 MiB when it is reused (a registry of thousands
        // of applications makes a large transaction).
        c.c.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_FRAMES}; PRAGMA journal_size_limit=67108864;"
        ))?;
        // The writer's page cache up to 1 GiB (the others keep 64 MiB): its commands touch
        // the open applications, their index entries and events all over the file, and
        // it alone keeps its cache across commits (a reader's is dropped when the writer
        // commits). In a 10-day simulation on a 3 GB database its SQL took 8 % less time.
        c.c.execute_batch(WRITER_CACHE)?;
        // Sub-journals in memory: a command's savepoint (when a batch runs again with
        // savepoints) and any statement that must undo itself alone copy the pages they
        // change there, and past 64 KiB SQLite spills them to a temporary file, one
        // `pwrite` a page (7 % of the writer's time in a 20-day simulation).
        c.c.execute_batch("PRAGMA temp_store=MEMORY")?;
        Ok(c)
    }

    /// Starts a write transaction, taking the write lock at once (a deferred one could
    /// fail to upgrade when another connection wrote in between). Its foreign keys are
    /// checked at `COMMIT`: an immediate check makes every write that changes several
    /// rows keep a statement journal (a copy of each page it changes), about a tenth of
    /// the writer's time in the simulation. A violation still fails the transaction.
    /// The cost: SQLite clears the pragma at each `COMMIT`, and setting it expires every
    /// prepared statement, so each batch prepares its statements again (2 % of the
    /// writer's time); foreign keys declared `DEFERRABLE INITIALLY DEFERRED` would not,
    /// but on SQLite that means rebuilding the tables.
    pub fn begin(&self) -> Result<(), StoreError> {
        self.watched("begin", || {
            Ok(self
                .c
                .execute_batch("BEGIN IMMEDIATE; PRAGMA defer_foreign_keys=ON;")?)
        })
    }

    /// Runs one statement with one text parameter (`?1`), outside the caller's
    /// statements (a backup's `VACUUM INTO ?1`).
    pub(crate) fn execute_batch_with(&self, sql: &str, arg: &str) -> Result<(), StoreError> {
        self.c.execute(sql, [arg])?;
        Ok(())
    }

    /// `PRAGMA integrity_check`: "ok", or the first problems it found.
    pub(crate) fn integrity_check(&self) -> Result<String, StoreError> {
        let mut stmt = self.c.prepare("PRAGMA integrity_check(10)")?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        Ok(lines.join("; "))
    }

    /// Commits; refused after a storage fault (the caller rolls back).
    pub fn commit(&self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        self.watched("commit", || Ok(self.c.execute_batch("COMMIT")?))?;
        let took = started.elapsed();
        if took >= slow_statement() {
            // The WAL's fsync: every command of the batch, and all behind it, waited.
            tracing::warn!(ms = took.as_secs_f64() * 1e3, "slow commit");
        }
        Ok(())
    }

    /// Rolls back the open transaction, if any (after a failure, SQLite may have rolled
    /// it back itself).
    pub fn rollback(&self) {
        if !self.c.is_autocommit() {
            if let Err(e) = self.c.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "rollback failed");
                if let Some(f) = &self.fault {
                    f.record("rollback", e.into());
                }
            }
        }
    }

    /// Runs statements in order, as [`crate::run_many`] does: the rows each changed and
    /// the rows they returned. When one fails, the ones before it have run.
    pub fn run_many(&self, stmts: &[Statement]) -> Result<RunResult, StoreError> {
        self.watched("statement", || {
            let mut out = RunResult::default();
            for s in stmts {
                self.run_one(s, &mut out)?;
            }
            Ok(out)
        })
    }

    /// Runs `f` on a writer's connection unless the storage has failed, and keeps a
    /// storage fault that `f` meets (see [`Fault`]). Other connections just run `f`.
    fn watched<T>(
        &self,
        during: &str,
        f: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Some(fault) = &self.fault else {
            return f();
        };
        fault.refuse()?;
        f().map_err(|e| fault.record(during, e))
    }

    /// Reads in one transaction, each statement's rows apart.
    fn read_together(&self, stmts: &[Statement]) -> Result<Vec<Vec<DbRow>>, StoreError> {
        self.c.execute_batch("BEGIN")?;
        let mut all = Vec::with_capacity(stmts.len());
        let mut failed = None;
        for s in stmts {
            let mut out = RunResult::default();
            if let Err(e) = self.run_one(s, &mut out) {
                failed = Some(e);
                break;
            }
            all.push(out.rows);
        }
        // Nothing was written: ending the transaction either way only releases the
        // snapshot.
        self.rollback();
        match failed {
            Some(e) => Err(e),
            None => Ok(all),
        }
    }

    fn run_one(&self, s: &Statement, out: &mut RunResult) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        self.step_all(s, out)?;
        let took = started.elapsed();
        if took >= slow_statement() {
            // What grows with the data shows here first (a read that walks a table).
            tracing::warn!(
                ms = took.as_secs_f64() * 1e3,
                sql = %s.sql.chars().take(300).collect::<String>(),
                "slow statement"
            );
        }
        Ok(())
    }

    fn step_all(&self, s: &Statement, out: &mut RunResult) -> Result<(), StoreError> {
        let sql = numbered(&s.sql);
        let mut stmt = self.c.prepare_cached(&sql)?;
        for (i, a) in s.args.iter().enumerate() {
            // `?N` binds parameter N; a statement may not use every argument.
            if i < stmt.parameter_count() {
                stmt.raw_bind_parameter(i + 1, Bind(a))?;
            }
        }
        let columns = stmt.column_count();
        if columns == 0 {
            stmt.raw_execute()?;
            out.changed.push(self.c.changes());
            return Ok(());
        }
        let names: Arc<[String]> = stmt.column_names().iter().map(|n| n.to_string()).collect();
        let mut rows = stmt.raw_query();
        while let Some(r) = rows.next()? {
            let mut cells = Vec::with_capacity(columns);
            for i in 0..columns {
                cells.push(cell(r.get_ref(i)?));
            }
            out.rows.push(DbRow::new(names.clone(), cells));
        }
        drop(rows);
        // A statement that returns rows and writes (`UPDATE … RETURNING`).
        out.changed.push(self.c.changes());
        Ok(())
    }
}

/// The WAL's length (frames, 4 KiB pages) at which the writer checkpoints in its commit.
/// Only a checkpoint that finds nothing newer in the WAL lets the writer start the WAL
/// over; the [`Checkpointer`]'s never does while commits keep coming, so this one is
/// what bounds the file.
const WRITER_CHECKPOINT_FRAMES: i64 = 16384;

/// The [`Checkpointer`]'s pause between checkpoints.
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Its pause once the WAL is past half of [`WRITER_CHECKPOINT_FRAMES`]: it then keeps the
/// copy close behind the commits, so that the writer's checkpoint, near, has little left
/// to copy and to fsync.
const CHECKPOINT_PAUSE_NEAR: std::time::Duration = std::time::Duration::from_millis(10);

/// How long the [`Checkpointer`] waits after a checkpoint that found `frames` in the WAL
/// (`None`: it failed).
///
/// Under HTTP load (512 connections, 2,000 requests/s) the WAL grew by 64 MiB every
/// 0.6 s, and every 0.6 s the writer's checkpoint copied the last 100 ms of it and
/// fsynced the file: a commit of 40-90 ms, which every write behind it waited for (p99
/// of the cell 64-74 ms). Checkpointing every 10 ms in the WAL's second half: 29-35 ms,
/// with the closed loop's throughput unchanged (10,589-10,749 against 10,798 requests/s),
/// on 2026-12-03; on 2026-12-04, a slower hour of the VM, 44.7 ms.
fn checkpoint_pause(frames: Option<i64>) -> std::time::Duration {
    match frames {
        Some(n) if n >= WRITER_CHECKPOINT_FRAMES / 2 => CHECKPOINT_PAUSE_NEAR,
        _ => CHECKPOINT_PAUSE,
    }
}

/// Copies the WAL's committed pages into the database file from a thread of its own
/// (`PRAGMA wal_checkpoint(PASSIVE)` every 100 ms, more often as the WAL nears the
/// writer's checkpoint: see [`checkpoint_pause`]), so that the writer does not: a
/// checkpoint in the writer's commit (SQLite's default, every 1,000 pages) stopped every
/// command behind it for the time of the copy and an fsync. Stops when dropped.
///
/// A storage fault here stops the writer (see [`Fault`]); after any storage fault of the
/// database the checkpointer stops too: nothing more is copied into a file on failing
/// storage, and what was committed stays in the WAL.
pub struct Checkpointer {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Checkpointer {
    pub fn start(path: &Path, fault: Fault) -> Result<Checkpointer, StoreError> {
        let c = LiteConn::open(path)?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("drn-checkpoint".into())
            .spawn(move || {
                let mut pause = CHECKPOINT_PAUSE;
                while !flag.load(std::sync::atomic::Ordering::Relaxed) && fault.get().is_none() {
                    std::thread::sleep(pause);
                    // Its row: busy, the WAL's frames, the frames checkpointed.
                    let frames =
                        c.c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1));
                    pause = checkpoint_pause(frames.as_ref().ok().copied());
                    if let Err(e) = frames {
                        let e = fault.record("checkpoint", e.into());
                        if !e.is_storage_fault() {
                            tracing::warn!(error = %e, "checkpoint failed");
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Decode(format!("checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Read connections to the SQLite file, used from async code, each read with a connection
/// taken from the idle ones: a bounded read on the calling thread ([`LitePool::rows`]),
/// several in one snapshot on tokio's blocking pool ([`LitePool::rows_together`]). sqlx
/// made a hop to its worker thread per row besides.
#[derive(Clone)]
pub struct LitePool {
    path: Arc<PathBuf>,
    idle: Arc<std::sync::Mutex<Vec<LiteConn>>>,
    permits: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for LitePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LitePool")
            .field("path", &self.path)
            .finish()
    }
}

impl LitePool {
    /// At most `size` reads at once.
    pub fn new(path: PathBuf, size: usize) -> LitePool {
        LitePool {
            path: Arc::new(path),
            idle: Arc::new(std::sync::Mutex::new(Vec::new())),
            permits: Arc::new(tokio::sync::Semaphore::new(size)),
        }
    }

    /// Runs one statement and returns its rows, on the calling thread. For bounded reads
    /// (by key, or with a `LIMIT`): they take tens to hundreds of microseconds, and the hop
    /// to the blocking pool and back (a futex wake and two context switches each way) cost
    /// more than that. Under the HTTP load bench's mix, reading here rather than on the
    /// blocking pool served 2,600-2,900 requests a second instead of 1,960-2,010 (three
    /// alternating pairs of runs). Reads that scan go through [`LitePool::rows_together`]
    /// or the sqlx read pool, which do not hold up the caller's worker thread.
    pub async fn rows(&self, stmt: Statement) -> Result<Vec<DbRow>, StoreError> {
        let _permit = self.permit().await?;
        let c = self.take()?;
        let out = c.run_many(std::slice::from_ref(&stmt)).map(|r| r.rows);
        self.give(c);
        out
    }

    /// Runs several reads on one connection in one read transaction: they see one
    /// snapshot, and the pages the first one brings in serve the others (a read that
    /// starts after a commit finds its connection's page cache and map dropped).
    pub async fn rows_together(
        &self,
        stmts: Vec<Statement>,
    ) -> Result<Vec<Vec<DbRow>>, StoreError> {
        self.on_conn(move |c| c.read_together(&stmts)).await
    }

    /// Runs `f` with an idle connection on the blocking pool.
    async fn on_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&LiteConn) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let _permit = self.permit().await?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let c = pool.take()?;
            let out = f(&c);
            pool.give(c);
            out
        })
        .await
        .map_err(|e| StoreError::Decode(format!("a read failed: {e}")))?
    }

    async fn permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, StoreError> {
        self.permits
            .acquire()
            .await
            .map_err(|_| StoreError::Decode("the read pool is closed".into()))
    }

    fn take(&self) -> Result<LiteConn, StoreError> {
        let idle = match self.idle.lock() {
            Ok(mut g) => g.pop(),
            Err(p) => p.into_inner().pop(),
        };
        match idle {
            Some(c) => Ok(c),
            None => {
                let c = LiteConn::open(&self.path)?;
                // A reader never writes: a mistake is an error, not a write.
                c.c.execute_batch("PRAGMA query_only=ON")?;
                Ok(c)
            }
        }
    }

    fn give(&self, c: LiteConn) {
        match self.idle.lock() {
            Ok(mut g) => g.push(c),
            Err(p) => p.into_inner().push(c),
        }
    }
}

fn cell(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(Some(i)),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(Some(String::from_utf8_lossy(t).into_owned())),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

struct Bind<'a>(&'a Value);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use crate::Portable;
        Ok(match self.0.portable() {
            Portable::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Portable::Int(Some(i)) => ToSqlOutput::Borrowed(ValueRef::Integer(i)),
            Portable::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(f)),
            Portable::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Portable::Text(None) | Portable::Int(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// A statement that takes this long is logged: `DRN_SLOW_STATEMENT_MS`, 250 ms unless set.
fn slow_statement() -> std::time::Duration {
    static SLOW: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();
    *SLOW.get_or_init(|| {
        let ms = std::env::var("DRN_SLOW_STATEMENT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(250);
        std::time::Duration::from_millis(ms)
    })
}

/// `$N` parameters (the engine's SQL, written for both backends) as SQLite's `?N`, which
/// bind by number whatever their order or repetition in the text.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkpointer_hurries_in_the_second_half_of_the_wal() {
        let ms = |f| checkpoint_pause(f).as_millis();
        assert_eq!(ms(None), 100, "after a failed checkpoint");
        assert_eq!(ms(Some(-1)), 100, "not in WAL mode");
        assert_eq!(ms(Some(0)), 100);
        assert_eq!(ms(Some(8191)), 100);
        assert_eq!(ms(Some(8192)), 10);
        assert_eq!(ms(Some(16384)), 10);
        assert_eq!(ms(Some(100_000)), 10);
    }

    fn db() -> (tempdir::Dir, LiteConn) {
        let d = tempdir::Dir::new();
        let c = LiteConn::open(&d.0.join("t.db")).unwrap();
        c.c.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, b BLOB)")
            .unwrap();
        (d, c)
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let p = std::env::temp_dir().join(format!(
                    "drn-lite-{}-{:?}",
                    std::process::id(),
                    std::thread::current().id()
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn the_writer_keeps_its_sub_journals_in_memory_and_its_large_cache() {
        let d = tempdir::Dir::new();
        let pragma = |c: &LiteConn, p: &str| c.c.query_row(p, [], |r| r.get::<_, i64>(0)).unwrap();
        let w = LiteConn::open_writer(&d.0.join("w.db"), crate::Fault::default()).unwrap();
        assert_eq!(pragma(&w, "PRAGMA temp_store"), 2, "MEMORY");
        assert_eq!(pragma(&w, "PRAGMA cache_size"), -1_048_576);
        // Other connections keep the defaults.
        let r = LiteConn::open(&d.0.join("w.db")).unwrap();
        assert_eq!(pragma(&r, "PRAGMA temp_store"), 0, "DEFAULT");
    }

    #[test]
    fn runs_writes_and_reads_with_numbered_parameters() {
        let (_d, c) = db();
        c.begin().unwrap();
        let out = c
            .run_many(&[
                Statement::new(
                    "INSERT INTO t (id, n, b) VALUES ($2, $1, $3)",
                    vec![Value::from(5), Value::from("a"), Value::Blob(vec![1, 2])],
                ),
                Statement::new(
                    "UPDATE t SET n = n + $1 WHERE id = $2 RETURNING n",
                    vec![Value::from(2), Value::from("a")],
                ),
                Statement::new(
                    "SELECT id, n, b, NULL AS z FROM t WHERE id = $1 OR id = $1",
                    vec![Value::from("a")],
                ),
            ])
            .unwrap();
        c.commit().unwrap();
        assert_eq!(out.changed, vec![1, 1, 1]);
        assert_eq!(out.rows.len(), 2);
        assert_eq!(out.rows[0].try_get::<i64, _>(0).unwrap(), 7);
        let r = &out.rows[1];
        assert_eq!(r.try_get::<String, _>("id").unwrap(), "a");
        assert_eq!(r.try_get::<Vec<u8>, _>("b").unwrap(), vec![1, 2]);
        assert_eq!(r.try_get::<Option<String>, _>("z").unwrap(), None);
    }

    #[test]
    fn a_failing_statement_is_an_error_and_rollback_undoes_the_rest() {
        let (_d, c) = db();
        c.begin().unwrap();
        let e = c
            .run_many(&[
                Statement::new("INSERT INTO t (id) VALUES ($1)", vec![Value::from("a")]),
                Statement::new("INSERT INTO t (id) VALUES ($1)", vec![Value::from("a")]),
            ])
            .unwrap_err();
        assert!(e.is_unique_violation(), "{e}");
        c.rollback();
        let out = c
            .run_many(&[Statement::new("SELECT COUNT(*) FROM t", vec![])])
            .unwrap();
        assert_eq!(out.rows[0].try_get::<i64, _>(0).unwrap(), 0);
    }

    #[test]
    fn a_foreign_key_violation_fails_the_commit_and_keeps_nothing() {
        let (_d, c) = db();
        c.c.execute_batch(
            "CREATE TABLE child (id TEXT PRIMARY KEY, t_id TEXT NOT NULL REFERENCES t(id))",
        )
        .unwrap();
        c.begin().unwrap();
        let multi = format!(
            "INSERT {}INTO child (id, t_id) VALUES ($1, $2), ($3, $4)",
            crate::Backend::Sqlite.or_fail()
        );
        c.run_many(&[
            Statement::new("INSERT INTO t (id) VALUES ($1)", vec![Value::from("a")]),
            Statement::new(
                multi,
                vec![
                    Value::from("c1"),
                    Value::from("a"),
                    Value::from("c2"),
                    Value::from("missing"),
                ],
            ),
        ])
        .unwrap();
        // Checked at the commit (deferred), which fails.
        assert!(c.commit().is_err());
        c.rollback();
        let out = c
            .run_many(&[Statement::new(
                "SELECT (SELECT COUNT(*) FROM t) + (SELECT COUNT(*) FROM child)",
                vec![],
            )])
            .unwrap();
        assert_eq!(out.rows[0].try_get::<i64, _>(0).unwrap(), 0);
        // A transaction without a violation commits.
        c.begin().unwrap();
        c.run_many(&[
            Statement::new("INSERT INTO t (id) VALUES ($1)", vec![Value::from("a")]),
            Statement::new(
                "INSERT INTO child (id, t_id) VALUES ($1, $2)",
                vec![Value::from("c1"), Value::from("a")],
            ),
        ])
        .unwrap();
        c.commit().unwrap();
    }

    #[tokio::test]
    async fn the_read_pool_reads_what_the_writer_committed() {
        let (d, c) = db();
        c.run_many(&[Statement::new(
            "INSERT INTO t (id, n) VALUES ($1, $2)",
            vec![Value::from("a"), Value::from(1)],
        )])
        .unwrap();
        let pool = LitePool::new(d.0.join("t.db"), 2);
        let rows = pool
            .rows(Statement::new(
                "SELECT n FROM t WHERE id = $1",
                vec![Value::from("a")],
            ))
            .await
            .unwrap();
        assert_eq!(rows[0].try_get::<i64, _>(0).unwrap(), 1);
        // Readers cannot write.
        assert!(pool
            .rows(Statement::new("DELETE FROM t", vec![]))
            .await
            .is_err());
        // Several reads in one transaction answer each one's rows apart; a failing one
        // fails them all, and the connection is usable after it.
        let count = || Statement::new("SELECT COUNT(*) FROM t", vec![]);
        let all = pool
            .rows_together(vec![count(), Statement::new("SELECT n + 1 FROM t", vec![])])
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0][0].try_get::<i64, _>(0).unwrap(), 1);
        assert_eq!(all[1][0].try_get::<i64, _>(0).unwrap(), 2);
        assert!(pool
            .rows_together(vec![count(), Statement::new("SELECT nope FROM t", vec![])])
            .await
            .is_err());
        let again = pool.rows_together(vec![count()]).await.unwrap();
        assert_eq!(again[0][0].try_get::<i64, _>(0).unwrap(), 1);
    }

    #[test]
    fn in_memory_urls_are_refused() {
        assert!(path_of("sqlite::memory:").is_err());
        assert_eq!(
            path_of("sqlite:///tmp/x.db?mode=rwc").unwrap(),
            PathBuf::from("/tmp/x.db")
        );
        assert_eq!(path_of("sqlite://drn.db").unwrap(), PathBuf::from("drn.db"));
    }
}
