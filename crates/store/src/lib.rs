//! DRN storage: one schema and one set of queries over SQLite (the embedded default) and
//! PostgreSQL, chosen by the URL scheme (as atuin chooses its server database). Every
//! query is written once ([`query`], [`Statement`], [`run_many`]) and its values say what
//! they are ([`Value`]: text, an integer, an instant, a date, a JSON document …), so each
//! backend stores them in its own types: SQLite (through rusqlite, and sqlx's `Any` driver
//! elsewhere) as integers and text, PostgreSQL (through sqlx's own driver, `pg.rs`) as
//! `timestamptz`, `date` and `jsonb` (migration 28), an identifier that is always a UUID
//! as `uuid` (migration 32). Rows read back the same on both
//! ([`DbRow`]: an instant as its microseconds, a date and a document as text). Where the
//! SQL itself must differ, the fragment comes from [`Backend`], nowhere else.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::Executor;

pub mod backup;
mod conn;
mod fault;
pub mod lite;
mod pg;
mod row;
pub mod testkit;

pub use conn::{Conn, Connection, Pool, PoolConn, Tx};
pub use fault::Fault;
pub use row::{ColumnRef, DbRow, FromCell};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://…")]
    BadUrl(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration {version}: {source}")]
    Migration { version: i64, source: sqlx::Error },
    #[error("database: {0}")]
    Lite(#[from] rusqlite::Error),
    #[error("database row: {0}")]
    Decode(String),
    /// Refused: the database's storage failed earlier (see [`Fault`]).
    #[error("storage fault, writes are stopped: {0}")]
    Fault(String),
    /// A backup or a restore could not be made (see [`backup`]); the message says which.
    #[error("{0}")]
    Backup(String),
}

impl StoreError {
    /// A deadlock or serialization failure (PostgreSQL): the same work may succeed when
    /// run again.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("40P01") | Some("40001"))
            }
            _ => false,
        }
    }

    /// A unique-constraint violation (two writers raced for one key).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => {
                e.is_unique_violation() || e.message().contains("UNIQUE constraint failed")
            }
            StoreError::Lite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a connection talks to: for code given only a connection (a transaction
    /// made outside the engine's writer, see [`next_counter`]).
    pub fn of(conn: &Conn) -> Backend {
        conn.backend()
    }

    /// The conflict clause a write that may change many rows takes, put after its verb
    /// (`INSERT OR FAIL INTO`, `UPDATE OR FAIL t`). On SQLite a statement that changes
    /// several rows and may abort copies every page it changes into a statement journal,
    /// to undo itself alone; with `OR FAIL` (and foreign keys deferred, see
    /// [`lite::LiteConn::begin`]) it cannot abort, so it does not. Callers fail their
    /// command, savepoint or transaction on any error, so no statement needs undoing
    /// alone. PostgreSQL has no such clause (nor journal): nothing there.
    ///
    /// It does not help a statement that writes a foreign-key column (a multi-row insert
    /// into `registry_items`, an update of `applications.holder_unit`): SQLite decides at
    /// compile time, from the schema, and a key not declared `DEFERRABLE` may abort
    /// whatever `defer_foreign_keys` says. Those journals stay in the writer's memory
    /// (`temp_store=MEMORY`, see [`lite::LiteConn::open_writer`]).
    /// Whole seconds from the instant `earlier` to the instant `later` (two SQL
    /// expressions), truncated toward zero: on SQLite instants are microseconds, on
    /// PostgreSQL `timestamptz`.
    pub fn seconds_between(self, later: &str, earlier: &str) -> String {
        match self {
            Backend::Sqlite => format!("(({later}) - ({earlier})) / 1000000"),
            Backend::Postgres => {
                format!("CAST(TRUNC(EXTRACT(EPOCH FROM ({later}) - ({earlier}))) AS BIGINT)")
            }
        }
    }

    /// Whole days (of 24 hours) from the instant `earlier` to the instant `later`,
    /// truncated toward zero (see [`Backend::seconds_between`]).
    pub fn days_between(self, later: &str, earlier: &str) -> String {
        match self {
            Backend::Sqlite => format!("CAST((({later}) - ({earlier})) / 86400000000 AS BIGINT)"),
            Backend::Postgres => format!(
                "CAST(TRUNC(EXTRACT(EPOCH FROM ({later}) - ({earlier})) / 86400) AS BIGINT)"
            ),
        }
    }

    /// Whether the JSON document in the column `col` holds an object under `key` (a plain
    /// word): SQLite keeps the document as the engine wrote it (compact text), PostgreSQL
    /// as `jsonb`.
    pub fn json_has_object(self, col: &str, key: &str) -> String {
        match self {
            Backend::Sqlite => format!("{col} LIKE '%\"{key}\":{{%'"),
            Backend::Postgres => format!("jsonb_typeof({col} -> '{key}') = 'object'"),
        }
    }

    /// The JSON document in the column `col` as text, for `LIKE` (see
    /// [`Backend::json_pair_pattern`]).
    pub fn json_text(self, col: &str) -> String {
        match self {
            Backend::Sqlite => col.to_string(),
            Backend::Postgres => format!("CAST({col} AS text)"),
        }
    }

    /// A `LIKE` pattern for [`Backend::json_text`] that matches a document holding the
    /// member `"key": "value"` at any depth (`key` and `value` hold no quote, `%` or `_`):
    /// the engine writes compact JSON, PostgreSQL prints `jsonb` with a space after each
    /// colon.
    pub fn json_pair_pattern(self, key: &str, value: &str) -> String {
        match self {
            Backend::Sqlite => format!("%\"{key}\":\"{value}\"%"),
            Backend::Postgres => format!("%\"{key}\": \"{value}\"%"),
        }
    }

    pub fn or_fail(self) -> &'static str {
        match self {
            Backend::Sqlite => "OR FAIL ",
            Backend::Postgres => "",
        }
    }
}

/// The database: a pool for writes and one for reads. On SQLite the write pool has one
/// connection, so writers queue in the process instead of failing with SQLITE_BUSY, and
/// WAL lets readers run beside the writer.
#[derive(Clone, Debug)]
pub struct Db {
    pub backend: Backend,
    write: Pool,
    read: Pool,
    /// The SQLite file, for connections of the engine's writer ([`lite::LiteConn`]).
    file: Option<std::path::PathBuf>,
    /// SQLite: reads through rusqlite ([`Db::rows`]).
    lite_read: Option<lite::LitePool>,
    /// SQLite: the first storage fault, shared with the engine writer's connection and
    /// the checkpointer.
    fault: Fault,
}

/// Schema migrations, in order. Each is portable SQL with `@ID@` for the key type; where
/// the backends cannot share a statement (SQLite rebuilds a table to change a column),
/// `-- @sqlite` and `-- @postgres` start a part for one backend and `-- @both` ends it.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_auth.sql")),
    (3, include_str!("../migrations/0003_documents.sql")),
    (4, include_str!("../migrations/0004_online_renewal.sql")),
    (5, include_str!("../migrations/0005_addresses.sql")),
    (6, include_str!("../migrations/0006_calendar.sql")),
    (7, include_str!("../migrations/0007_pilot_extension.sql")),
    (8, include_str!("../migrations/0008_supervision.sql")),
    (9, include_str!("../migrations/0009_queue_order.sql")),
    (10, include_str!("../migrations/0010_journal_lookups.sql")),
    (11, include_str!("../migrations/0011_registry_events.sql")),
    (12, include_str!("../migrations/0012_one_open_index.sql")),
    (13, include_str!("../migrations/0013_step_entries.sql")),
    (14, include_str!("../migrations/0014_open_work_index.sql")),
    (
        15,
        include_str!("../migrations/0015_transit_by_registry.sql"),
    ),
    (
        16,
        include_str!("../migrations/0016_registry_items_clustered.sql"),
    ),
    (
        17,
        include_str!("../migrations/0017_open_index_registry.sql"),
    ),
    (
        18,
        include_str!("../migrations/0018_idempotency_request.sql"),
    ),
    (19, include_str!("../migrations/0019_registry_numbers.sql")),
    (21, include_str!("../migrations/0021_dwelling_owners.sql")),
    (23, include_str!("../migrations/0023_dba_views.sql")),
    (
        27,
        include_str!("../migrations/0027_officer_signatures.sql"),
    ),
    (
        28,
        include_str!("../migrations/0028_postgres_native_types.sql"),
    ),
    (
        31,
        include_str!("../migrations/0031_api_client_certificates.sql"),
    ),
    (32, include_str!("../migrations/0032_postgres_uuid_ids.sql")),
];

/// The lines of a migration for `backend` (see [`MIGRATIONS`]).
fn for_backend(sql: &str, backend: Backend) -> String {
    let mut keep = true;
    let mut out = String::new();
    for line in sql.lines() {
        match line.trim() {
            "-- @sqlite" => keep = backend == Backend::Sqlite,
            "-- @postgres" => keep = backend == Backend::Postgres,
            "-- @both" => keep = true,
            _ if keep => {
                out.push_str(line);
                out.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// The largest SQLite file `PRAGMA quick_check` runs on at start (it reads every page;
/// a national database is checked by its probe write alone).
pub const QUICK_CHECK_MAX_BYTES: u64 = 1 << 30;

impl Db {
    /// Opens `sqlite://PATH` (created if missing) or `postgres://…`.
    pub async fn open(url: &str) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::BadUrl(url.to_string()));
        };
        let file = match backend {
            Backend::Sqlite => Some(lite::path_of(url)?),
            Backend::Postgres => None,
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let (writers, readers) = match backend {
            Backend::Sqlite => (1, 4),
            Backend::Postgres => (16, 16),
        };
        let (write, read) = match backend {
            Backend::Sqlite => {
                let opts = AnyConnectOptions::from_str(&url)?;
                let make = |n: u32| {
                    AnyPoolOptions::new()
                        .max_connections(n)
                        .acquire_timeout(Duration::from_secs(30))
                        .after_connect(move |conn, _meta| {
                            Box::pin(async move {
                                for pragma in lite::CONNECTION_PRAGMAS {
                                    conn.execute(*pragma).await?;
                                }
                                Ok(())
                            })
                        })
                };
                (
                    Pool::Any(make(writers).connect_with(opts.clone()).await?),
                    Pool::Any(make(readers).connect_with(opts).await?),
                )
            }
            Backend::Postgres => {
                // See `SLOW_CALL`.
                let opts = sqlx::ConnectOptions::disable_statement_logging(
                    PgConnectOptions::from_str(&url)?,
                );
                let make = |n: u32| {
                    PgPoolOptions::new()
                        .max_connections(n)
                        .acquire_timeout(Duration::from_secs(30))
                        .after_connect(move |conn, _meta| {
                            Box::pin(async move {
                                // What `inline` relies on; instants read as text (a simple
                                // query's rows) are in UTC.
                                conn.execute(
                                    "SET standard_conforming_strings = on; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'",
                                )
                                .await?;
                                Ok(())
                            })
                        })
                };
                (
                    Pool::Pg(make(writers).connect_with(opts.clone()).await?),
                    Pool::Pg(make(readers).connect_with(opts).await?),
                )
            }
        };
        let lite_read = file
            .clone()
            .map(|f| lite::LitePool::new(f, readers as usize));
        Ok(Db {
            backend,
            write,
            read,
            lite_read,
            // A fault recorded before a restart stands (see `Fault::of_file`).
            fault: file.as_deref().map(Fault::of_file).unwrap_or_default(),
            file,
        })
    }

    /// Applies the migrations not yet applied; returns how many ran. Refused when one is
    /// to be applied after a storage fault (see [`Fault`]).
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let mut conn = self.write.acquire().await?;
        conn.run_simple(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .await?;
        let mut ran = 0;
        for (version, sql) in MIGRATIONS {
            let done = query("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *conn)
                .await?;
            if done.is_some() {
                continue;
            }
            let id = match self.backend {
                Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
                Backend::Postgres => "BIGSERIAL PRIMARY KEY",
            };
            let blob = match self.backend {
                Backend::Sqlite => "BLOB",
                Backend::Postgres => "BYTEA",
            };
            let sql = for_backend(sql, self.backend)
                .replace("@ID@", id)
                .replace("@BLOB@", blob);
            // Not into a file whose storage failed (a fault kept from before a restart).
            self.fault.refuse()?;
            let mut tx = conn.begin().await?;
            for stmt in split_statements(&sql) {
                tx.run_simple(stmt.as_str()).await.map_err(|e| match e {
                    StoreError::Db(source) => StoreError::Migration {
                        version: *version,
                        source,
                    },
                    e => e,
                })?;
            }
            query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(format!("{:?}", std::time::SystemTime::now()))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(version, "migration applied");
            ran += 1;
        }
        drop(conn);
        self.check_at_start().await;
        Ok(ran)
    }

    /// SQLite: looks for a storage fault at start (issue 31 item 6), since its marker may
    /// not have been written (a full disk) before a restart: `PRAGMA quick_check` (on
    /// files up to [`QUICK_CHECK_MAX_BYTES`]: it reads every page) and a probe write,
    /// committed, of a row it then removes. A fault found is kept as any other (see
    /// [`Fault`]): the database accepts no writes and the server answers 503.
    async fn check_at_start(&self) {
        let Some(file) = self.file.as_deref() else {
            return;
        };
        if self.fault.get().is_some() {
            return;
        }
        let small = std::fs::metadata(file).is_ok_and(|m| m.len() <= QUICK_CHECK_MAX_BYTES);
        if small {
            let lines = query("PRAGMA quick_check")
                .fetch_all(&self.write)
                .await
                .and_then(|rows| {
                    rows.iter()
                        .map(|r| r.try_get::<String, _>(0))
                        .collect::<Result<Vec<String>, _>>()
                });
            match lines {
                Ok(lines) if lines.first().map(String::as_str) == Some("ok") => {}
                Ok(lines) => {
                    let mut reason = lines.join("; ");
                    reason.truncate(500);
                    self.fault
                        .set("start-up check", format!("PRAGMA quick_check: {reason}"));
                    return;
                }
                Err(e) => {
                    self.fault.record("start-up check", e);
                    return;
                }
            }
        }
        let probe = async {
            let mut tx = self.write.begin().await?;
            query(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (-1, 'start-up probe')",
            )
            .execute(&mut *tx)
            .await?;
            query("DELETE FROM schema_migrations WHERE version = -1")
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map_err(StoreError::from)
        };
        if let Err(e) = probe.await {
            let e = self.fault.record("start-up probe write", e);
            tracing::error!(error = %e, "the start-up probe write failed");
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once: the engine's
    /// writer has a connection of its own ([`Db::open_lite_writer`]), and a deferred transaction
    /// that read before that writer committed could not then write (`SQLITE_BUSY`).
    /// Refused after a storage fault.
    pub async fn begin(&self) -> Result<Tx<'static>, StoreError> {
        self.fault.refuse()?;
        Ok(self.transaction().await?)
    }

    /// [`Db::begin`], with sqlx's error.
    pub async fn transaction(&self) -> Result<Tx<'static>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.write.begin().await,
        }
    }

    /// The engine writer's SQLite connection and the checkpointer that goes with it;
    /// `None` on PostgreSQL.
    pub fn open_lite_writer(
        &self,
    ) -> Result<Option<(lite::LiteConn, lite::Checkpointer)>, StoreError> {
        let Some(f) = self.file.as_deref() else {
            return Ok(None);
        };
        Ok(Some((
            lite::LiteConn::open_writer(f, self.fault.clone())?,
            lite::Checkpointer::start(f, self.fault.clone())?,
        )))
    }

    /// Whether the storage failed, and how (see [`Fault`]): the writer then refuses every
    /// change. Always `None` on PostgreSQL.
    pub fn fault(&self) -> Option<String> {
        self.fault.get().map(String::from)
    }

    /// Runs one bounded read (by key, or with a `LIMIT`) and returns its rows: on SQLite
    /// through rusqlite on the calling thread, on PostgreSQL through the read pool. A read
    /// that scans goes through [`Db::reader`] instead (see [`lite::LitePool::rows`]).
    pub async fn rows(&self, stmt: Statement) -> Result<Vec<DbRow>, StoreError> {
        match &self.lite_read {
            Some(p) => p.rows(stmt).await,
            None => {
                let mut c = self.read.acquire().await?;
                fetch(&mut c, &stmt).await
            }
        }
    }

    /// Runs several reads in one snapshot and returns each one's rows: on SQLite in one
    /// read transaction on one connection, on PostgreSQL in one repeatable-read,
    /// read-only transaction.
    pub async fn rows_together(
        &self,
        stmts: Vec<Statement>,
    ) -> Result<Vec<Vec<DbRow>>, StoreError> {
        match &self.lite_read {
            Some(p) => p.rows_together(stmts).await,
            None => {
                let mut tx = self.read.begin().await?;
                tx.run_simple("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?;
                let mut all = Vec::with_capacity(stmts.len());
                for s in &stmts {
                    all.push(fetch(&mut tx, s).await?);
                }
                tx.rollback().await?;
                Ok(all)
            }
        }
    }

    /// The pool for reads.
    pub fn reader(&self) -> &Pool {
        &self.read
    }

    /// The pool for writes (one connection on SQLite).
    pub fn writer(&self) -> &Pool {
        &self.write
    }

    /// The pool for writes, refused after a storage fault (see [`Fault`]): for writes made
    /// outside the engine's writer and [`Db::begin`].
    pub fn writable(&self) -> Result<&Pool, StoreError> {
        self.fault.refuse()?;
        Ok(&self.write)
    }

    /// True when the database has no units yet (a fresh database).
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        let n: i64 = query("SELECT COUNT(*) FROM units")
            .fetch_one(&self.read)
            .await?
            .try_get(0)?;
        Ok(n == 0)
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Splits a migration into statements: on `;` at the end of a line, skipping comments,
/// and not inside a `$$ … $$` body (a PostgreSQL `DO` block's statements end in `;` too).
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_body = false;
    for line in sql.lines() {
        let code = line.split("--").next().unwrap_or("").trim_end();
        if code.trim().is_empty() {
            continue;
        }
        cur.push_str(code);
        cur.push('\n');
        if code.matches("$$").count() % 2 == 1 {
            in_body = !in_body;
        }
        if code.ends_with(';') && !in_body {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// The key of the transaction-level advisory lock under which every PostgreSQL transaction
/// takes numbering counters ("drnctr" in ASCII). Transactions take counters' rows in their
/// own orders (a talon number at one counter, then another's, then the audit's) and hold
/// them to commit: two taking two counters in opposite orders would each wait for the
/// other, a deadlock PostgreSQL breaks only after its `deadlock_timeout` (1 s) by failing
/// one. Under one lock, taken before the first counter and held to commit, they queue
/// instead. Taking it again in the same transaction succeeds at once.
pub const COUNTERS_LOCK: i64 = 0x0000_6472_6e63_7472;

/// The name of the one column of [`lock_counters`]'s row, by which a caller that sends it
/// with other reads tells its row apart.
pub const COUNTERS_LOCK_COLUMN: &str = "drn_counters_lock";

/// The statement that takes [`COUNTERS_LOCK`] (PostgreSQL only).
pub fn lock_counters() -> Statement {
    Statement::new(
        format!("SELECT pg_advisory_xact_lock($1) AS {COUNTERS_LOCK_COLUMN}"),
        vec![Value::from(COUNTERS_LOCK)],
    )
}

/// Takes the next value of a named counter inside a transaction (one made outside the
/// engine's writer, whose batches take theirs through their own context). On PostgreSQL
/// it first takes [`COUNTERS_LOCK`], as the writer's batches do, so that it cannot
/// deadlock with one over two counters; the row's update lock then serialises writers of
/// one counter. SQLite has one writer anyway.
pub async fn next_counter(tx: &mut Conn, name: &str) -> Result<i64, StoreError> {
    if tx.backend() == Backend::Postgres {
        fetch(tx, &lock_counters()).await?;
    }
    let name = [Value::from(name)];
    let v = tx
        .run(
            "UPDATE counters SET value = value + 1 WHERE name = $1 RETURNING value",
            &name,
        )
        .await?;
    if let Some(v) = v.rows.first() {
        return v.try_get(0);
    }
    tx.run("INSERT INTO counters (name, value) VALUES ($1, 1)", &name)
        .await?;
    Ok(1)
}

/// A value bound to a parameter of a [`Statement`]. The typed kinds (an instant, a date, a
/// JSON document) say what a value IS, so that each backend stores it in its own type:
/// SQLite as an integer or text, as the portable kinds are stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Blob(Vec<u8>),
    /// A real number (read from aggregates).
    Real(f64),
    /// A NULL read from the database (a NULL bound as a parameter carries its type:
    /// `Text(None)`, `Int(None)`, …).
    Null,
    /// An instant, in microseconds since the Unix epoch (SQLite: an integer).
    Instant(Option<i64>),
    /// A calendar date, `YYYY-MM-DD` (SQLite: text).
    Date(Option<String>),
    /// A JSON document's text (SQLite: text).
    Json(Option<String>),
    /// An identifier that is always a UUID, as its hyphenated text (SQLite: text;
    /// PostgreSQL: `uuid`, migration 32). Its text must be a UUID: PostgreSQL refuses
    /// the statement otherwise, so callers parse what they were given first.
    Uuid(Option<String>),
}

/// A value as SQLite stores it (and as a row reads it): typed kinds become the portable
/// kind that holds them.
pub(crate) enum Portable<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Blob(&'a [u8]),
    Real(f64),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Value::Null
                | Value::Text(None)
                | Value::Int(None)
                | Value::Instant(None)
                | Value::Date(None)
                | Value::Json(None)
                | Value::Uuid(None)
        )
    }

    /// The kind of value, for errors.
    pub fn kind(&self) -> &'static str {
        match self {
            _ if self.is_null() => "NULL",
            Value::Text(_) => "text",
            Value::Int(_) => "an integer",
            Value::Blob(_) => "bytes",
            Value::Real(_) => "a real",
            Value::Null => "NULL",
            Value::Instant(_) => "an instant",
            Value::Date(_) => "a date",
            Value::Json(_) => "a JSON document",
            Value::Uuid(_) => "a UUID",
        }
    }

    /// A JSON document, given as its text.
    pub fn json(text: impl Into<String>) -> Value {
        Value::Json(Some(text.into()))
    }

    /// A JSON document or NULL.
    pub fn json_opt(text: Option<String>) -> Value {
        Value::Json(text)
    }

    /// An identifier that is always a UUID, given as its hyphenated text (checked where it
    /// is parsed, not here).
    pub fn uuid(text: impl Into<String>) -> Value {
        Value::Uuid(Some(text.into()))
    }

    /// An identifier that is always a UUID, or NULL.
    pub fn uuid_opt(text: Option<String>) -> Value {
        Value::Uuid(text)
    }

    /// A date given as `YYYY-MM-DD` text (checked where it is parsed, not here).
    pub fn date_text(text: impl Into<String>) -> Value {
        Value::Date(Some(text.into()))
    }

    /// The portable kind that holds this value.
    pub(crate) fn portable(&self) -> Portable<'_> {
        match self {
            Value::Text(t) | Value::Date(t) | Value::Json(t) | Value::Uuid(t) => {
                Portable::Text(t.as_deref())
            }
            Value::Int(i) | Value::Instant(i) => Portable::Int(*i),
            Value::Blob(b) => Portable::Blob(b),
            Value::Real(f) => Portable::Real(*f),
            Value::Null => Portable::Text(None),
        }
    }
}

impl From<jiff::Timestamp> for Value {
    fn from(t: jiff::Timestamp) -> Value {
        Value::Instant(Some(t.as_microsecond()))
    }
}

impl From<Option<jiff::Timestamp>> for Value {
    fn from(t: Option<jiff::Timestamp>) -> Value {
        Value::Instant(t.map(|t| t.as_microsecond()))
    }
}

impl From<&jiff::Timestamp> for Value {
    fn from(t: &jiff::Timestamp) -> Value {
        Value::from(*t)
    }
}

impl From<jiff::civil::Date> for Value {
    fn from(d: jiff::civil::Date) -> Value {
        Value::Date(Some(d.to_string()))
    }
}

impl From<Option<jiff::civil::Date>> for Value {
    fn from(d: Option<jiff::civil::Date>) -> Value {
        Value::Date(d.map(|d| d.to_string()))
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(Some(i64::from(i)))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Value {
        Value::Int(Some(i64::from(i)))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Int(Some(i64::from(b)))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Real(f)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(Some(s.clone()))
    }
}

impl From<Option<&str>> for Value {
    fn from(s: Option<&str>) -> Value {
        Value::Text(s.map(str::to_string))
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Value {
        Value::Blob(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(Some(s.to_string()))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(Some(s))
    }
}

impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Value {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(Some(i))
    }
}

impl From<Option<i64>> for Value {
    fn from(i: Option<i64>) -> Value {
        Value::Int(i)
    }
}

/// One statement with its own parameters `$1`, `$2` …
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub args: Vec<Value>,
}

impl Statement {
    pub fn new(sql: impl Into<String>, args: Vec<Value>) -> Statement {
        Statement {
            sql: sql.into(),
            args,
        }
    }
}

/// What [`run_many`] returns: the rows each statement changed, in order (one entry per
/// statement that completed), and the rows the statements returned.
#[derive(Debug, Default)]
pub struct RunResult {
    pub changed: Vec<u64>,
    pub rows: Vec<DbRow>,
}

/// Runs statements in order on one connection (inside the caller's transaction).
///
/// On SQLite they go to the database as one multi-statement text with the parameters
/// renumbered (`$1` of the second statement becomes `$k+1`, and so on): sqlx runs every
/// SQLite call on a worker thread, and the hop there and back costs more than a small
/// statement itself, so this is one hop instead of one per statement. On PostgreSQL a
/// prepared statement is one round trip to the server, and a command's buffered writes with
/// the read that follows them were a round trip each (12 a command in the simulation);
/// several statements go instead as one simple query, their parameters written in as typed
/// literals ([`inline`]): one round trip. One statement alone stays prepared. When a
/// statement fails, the ones before it have run: the caller rolls back (to a savepoint).
pub async fn run_many(
    conn: &mut Conn,
    backend: Backend,
    stmts: &[Statement],
) -> Result<RunResult, StoreError> {
    let mut out = RunResult::default();
    match backend {
        Backend::Sqlite if stmts.len() == 1 => {
            out = conn.run(&stmts[0].sql, &stmts[0].args).await?;
        }
        Backend::Sqlite => {
            let mut sql = String::new();
            let mut offset = 0;
            for s in stmts {
                sql.push_str(&renumber(s.sql.trim_end().trim_end_matches(';'), offset));
                sql.push_str(";\n");
                offset += s.args.len();
            }
            let args: Vec<Value> = stmts.iter().flat_map(|s| s.args.iter().cloned()).collect();
            out = conn.run(&sql, &args).await?;
        }
        Backend::Postgres if stmts.len() > 1 => {
            let mut sql = String::new();
            for s in stmts {
                sql.push_str(&inline(s)?);
                sql.push_str(";\n");
            }
            let started = std::time::Instant::now();
            out = conn.run_simple(&sql).await?;
            log_if_slow(started, stmts);
        }
        Backend::Postgres => {
            for s in stmts {
                let started = std::time::Instant::now();
                let done = conn.run(&s.sql, &s.args).await?;
                out.changed.extend(done.changed);
                out.rows.extend(done.rows);
                log_if_slow(started, std::slice::from_ref(s));
            }
        }
    }
    Ok(out)
}

/// A call to PostgreSQL slower than this is logged, with its statements' text and not their
/// values (sqlx's own log of slow statements is off on PostgreSQL: an inlined statement's
/// text holds its values, persons' data among them).
const SLOW_CALL: std::time::Duration = std::time::Duration::from_secs(1);

fn log_if_slow(started: std::time::Instant, stmts: &[Statement]) {
    let elapsed = started.elapsed();
    if elapsed >= SLOW_CALL {
        let sql: Vec<&str> = stmts.iter().map(|s| s.sql.trim()).collect();
        tracing::warn!(
            elapsed_secs = elapsed.as_secs_f64(),
            statements = stmts.len(),
            sql = %sql.join("; "),
            "slow call to PostgreSQL"
        );
    }
}

/// A statement with its parameters written in as literals of the types they are bound as
/// (`pg.rs`: text, `int8`, `float8`, `bytea`, `timestamptz`, `date`, `jsonb`, `uuid`), for
/// PostgreSQL's simple query protocol: text in single quotes with each quote doubled (the
/// connection sets `standard_conforming_strings`, so a backslash is itself), in
/// `CAST(… AS text)` (`date`, `jsonb`, `uuid`), an instant as the epoch plus its microseconds
/// (exact), so that a statement means what it means with the value bound. Refused: text
/// holding a NUL, which PostgreSQL cannot store either way.
fn inline(stmt: &Statement) -> Result<String, StoreError> {
    use std::fmt::Write as _;
    let sql = stmt.sql.trim_end().trim_end_matches(';');
    let mut out = String::with_capacity(sql.len() + 16 * stmt.args.len());
    let mut chars = sql.char_indices().peekable();
    while let Some((_, ch)) = chars.next() {
        if ch != '$' {
            out.push(ch);
            continue;
        }
        let mut n = String::new();
        while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
            n.push(d);
            chars.next();
        }
        let Some(v) = n
            .parse::<usize>()
            .ok()
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| stmt.args.get(i))
        else {
            return Err(StoreError::Decode(format!(
                "parameter ${n} of a statement with {} parameters",
                stmt.args.len()
            )));
        };
        if let Some(lit) = pg::literal(v) {
            out.push_str(&lit);
            continue;
        }
        // Writing into a String cannot fail.
        let _ = match v.portable() {
            Portable::Real(f) if f.is_finite() => write!(out, "CAST('{f:e}' AS float8)"),
            Portable::Real(f) => write!(out, "CAST('{f}' AS float8)"),
            Portable::Text(Some(t)) => {
                if t.contains('\0') {
                    return Err(StoreError::Decode("text holding a NUL character".into()));
                }
                write!(
                    out,
                    "CAST('{}' AS {})",
                    t.replace('\'', "''"),
                    pg::literal_type(v)
                )
            }
            Portable::Text(None) => write!(out, "CAST(NULL AS text)"),
            Portable::Int(Some(i)) => write!(out, "CAST({i} AS int8)"),
            Portable::Int(None) => write!(out, "CAST(NULL AS int8)"),
            Portable::Blob(b) => {
                out.push_str("CAST('\\x");
                for byte in b {
                    let _ = write!(out, "{byte:02x}");
                }
                write!(out, "' AS bytea)")
            }
        };
    }
    Ok(out)
}

/// Runs one statement on a connection and returns its rows.
pub async fn fetch(conn: &mut Conn, stmt: &Statement) -> Result<Vec<DbRow>, StoreError> {
    Ok(conn.run(&stmt.sql, &stmt.args).await?.rows)
}

/// Adds `offset` to every `$N` parameter of `sql` (the engine's SQL has no `$` in its
/// literals).
fn renumber(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, ch)) = chars.next() {
        out.push(ch);
        if ch != '$' {
            continue;
        }
        let mut n = String::new();
        while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
            n.push(d);
            chars.next();
        }
        match n.parse::<usize>() {
            Ok(v) => out.push_str(&(v + offset).to_string()),
            Err(_) => out.push_str(&n),
        }
    }
    out
}

/// The underlying database error, for layers that convert it.
pub use sqlx::Error as SqlxError;

/// A query on either backend (`$1`, `$2` … placeholders on both), shaped like sqlx's:
/// `query(sql).bind(a).bind(b).fetch_all(db.reader())`. Its values are [`Value`]s, so the
/// store, not the caller, decides how each backend stores them; its rows are [`DbRow`]s.
pub fn query(sql: impl Into<String>) -> Statement {
    Statement::new(sql, Vec::new())
}

/// Where a [`query`] runs: a pool (a connection taken for the call) or a connection (a
/// transaction's).
pub enum On<'c> {
    Pool(&'c Pool),
    Conn(&'c mut Conn),
}

impl<'c> From<&'c Pool> for On<'c> {
    fn from(p: &'c Pool) -> On<'c> {
        On::Pool(p)
    }
}

impl<'c> From<&'c mut Conn> for On<'c> {
    fn from(c: &'c mut Conn) -> On<'c> {
        On::Conn(c)
    }
}

impl<'c> From<&'c mut Tx<'_>> for On<'c> {
    fn from(c: &'c mut Tx<'_>) -> On<'c> {
        On::Conn(&mut **c)
    }
}

impl<'c> From<&'c mut PoolConn> for On<'c> {
    fn from(c: &'c mut PoolConn) -> On<'c> {
        On::Conn(&mut **c)
    }
}

impl On<'_> {
    async fn run(self, stmt: Statement) -> Result<RunResult, StoreError> {
        match self {
            On::Pool(p) => {
                let mut c = p.acquire().await?;
                c.run(&stmt.sql, &stmt.args).await
            }
            On::Conn(c) => c.run(&stmt.sql, &stmt.args).await,
        }
    }
}

/// What a statement run by [`Statement::execute`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed(u64);

impl Changed {
    /// The rows the statement inserted, updated or deleted.
    pub fn rows_affected(self) -> u64 {
        self.0
    }
}

impl Statement {
    /// The statement with one more parameter (`$N` for the N-th bound).
    pub fn bind(mut self, v: impl Into<Value>) -> Statement {
        self.args.push(v.into());
        self
    }

    /// Runs it and returns its rows.
    pub async fn fetch_all<'c>(self, on: impl Into<On<'c>>) -> Result<Vec<DbRow>, StoreError> {
        Ok(on.into().run(self).await?.rows)
    }

    /// Runs it and returns its first row, if any.
    pub async fn fetch_optional<'c>(
        self,
        on: impl Into<On<'c>>,
    ) -> Result<Option<DbRow>, StoreError> {
        Ok(on.into().run(self).await?.rows.into_iter().next())
    }

    /// Runs it and returns its first row; an error when it returned none.
    pub async fn fetch_one<'c>(self, on: impl Into<On<'c>>) -> Result<DbRow, StoreError> {
        self.fetch_optional(on)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    /// Runs it and returns how many rows it changed.
    pub async fn execute<'c>(self, on: impl Into<On<'c>>) -> Result<Changed, StoreError> {
        Ok(Changed(on.into().run(self).await?.changed.iter().sum()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_and_skips_comments() {
        let s =
            split_statements("-- c\nCREATE TABLE a (x TEXT); -- t\nCREATE INDEX i\n ON a (x);\n");
        assert_eq!(s.len(), 2);
        assert!(s[1].contains("ON a (x);"));
        let s = split_statements("DO $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\nSELECT 2;\n");
        assert_eq!(s.len(), 2);
        assert!(s[0].contains("PERFORM 1;\nEND\n$$;"));
    }

    #[test]
    fn keeps_each_backends_part_of_a_migration() {
        let sql = "CREATE TABLE a (x TEXT);\n-- @sqlite\nL;\n-- @postgres\nP;\n-- @both\nB;\n";
        assert_eq!(
            for_backend(sql, Backend::Sqlite),
            "CREATE TABLE a (x TEXT);\nL;\nB;\n"
        );
        assert_eq!(
            for_backend(sql, Backend::Postgres),
            "CREATE TABLE a (x TEXT);\nP;\nB;\n"
        );
    }

    /// `next_counter` numbers from 1 on both backends, and on PostgreSQL waits for the
    /// counters' lock: while another transaction holds it, a transaction with a short
    /// `lock_timeout` fails to take a counter (55P03); once it is released, it succeeds.
    #[tokio::test]
    async fn next_counter_takes_the_counters_lock_on_postgres() {
        for url in testkit::fresh_urls("next-counter").await.unwrap() {
            let db = Db::open(&url).await.unwrap();
            db.migrate().await.unwrap();
            let mut tx = db.begin().await.unwrap();
            assert_eq!(next_counter(&mut tx, "x").await.unwrap(), 1);
            assert_eq!(next_counter(&mut tx, "x").await.unwrap(), 2);
            tx.commit().await.unwrap();
            if db.backend != Backend::Postgres {
                db.close().await;
                continue;
            }
            let mut holder = db.begin().await.unwrap();
            fetch(&mut holder, &lock_counters()).await.unwrap();
            let mut waiter = db.begin().await.unwrap();
            query("SET LOCAL lock_timeout = '200ms'")
                .execute(&mut *waiter)
                .await
                .unwrap();
            let e = next_counter(&mut waiter, "x").await.unwrap_err();
            assert!(
                matches!(&e, StoreError::Db(sqlx::Error::Database(d)) if d.code().as_deref() == Some("55P03")),
                "{e}"
            );
            waiter.rollback().await.unwrap();
            holder.commit().await.unwrap();
            let mut tx = db.begin().await.unwrap();
            assert_eq!(next_counter(&mut tx, "x").await.unwrap(), 3);
            tx.commit().await.unwrap();
            db.close().await;
        }
    }

    #[test]
    fn inlines_parameters_as_typed_literals() {
        let s = Statement::new(
            "UPDATE t SET a = $1, b = $2, c = $3, d = $4, e = $10 WHERE f = $1;",
            vec![
                Value::from("O'Brien \\ x"),
                Value::from(-7),
                Value::Int(None),
                Value::Blob(vec![0, 255]),
                Value::Null,
                Value::Text(None),
                Value::Real(1.5),
                Value::Null,
                Value::Null,
                Value::Real(0.25),
            ],
        );
        assert_eq!(
            inline(&s).unwrap(),
            "UPDATE t SET a = CAST('O''Brien \\ x' AS text), b = CAST(-7 AS int8), \
             c = CAST(NULL AS int8), d = CAST('\\x00ff' AS bytea), e = CAST('2.5e-1' AS float8) \
             WHERE f = CAST('O''Brien \\ x' AS text)"
        );
        let missing = Statement::new("SELECT $2", vec![Value::from(1)]);
        assert!(inline(&missing).is_err());
        let nul = Statement::new("SELECT $1", vec![Value::from("a\0b")]);
        assert!(inline(&nul).is_err());
    }

    #[test]
    fn inlines_typed_values_in_postgres_types() {
        let s = Statement::new(
            "SELECT $1, $2, $3, $4, $5, $6, $7, $8",
            vec![
                Value::Instant(Some(-5)),
                Value::Instant(None),
                Value::date_text("2019-03-08"),
                Value::Date(None),
                Value::json(r#"{"a":"O'B"}"#),
                Value::Json(None),
                Value::uuid("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
                Value::Uuid(None),
            ],
        );
        assert_eq!(
            inline(&s).unwrap(),
            "SELECT (CAST('epoch' AS timestamptz) + CAST(-5 AS int8) * interval '1 microsecond'), \
             CAST(NULL AS timestamptz), CAST('2019-03-08' AS date), CAST(NULL AS date), \
             CAST('{\"a\":\"O''B\"}' AS jsonb), CAST(NULL AS jsonb), \
             CAST('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' AS uuid), CAST(NULL AS uuid)"
        );
    }

    /// Several statements in one call on PostgreSQL (inlined into one simple query) change,
    /// count and return what they do one by one: quotes, backslashes, NULLs, bytes and a
    /// guard's count of changed rows.
    #[tokio::test]
    async fn several_statements_in_one_call_keep_their_values() {
        for url in testkit::fresh_urls("run-many").await.unwrap() {
            let db = Db::open(&url).await.unwrap();
            db.migrate().await.unwrap();
            let mut tx = db.begin().await.unwrap();
            let odd = "O'Brien \\n ' -- ; $1 😀";
            let stmts = vec![
                Statement::new(
                    "INSERT INTO counters (name, value) VALUES ($1, $2)",
                    vec![Value::from(odd), Value::from(i64::MIN)],
                ),
                Statement::new(
                    "UPDATE counters SET value = value + $1 WHERE name = $2",
                    vec![Value::from(i64::MAX), Value::from(odd)],
                ),
                Statement::new(
                    "UPDATE counters SET value = 0 WHERE name = $1",
                    vec![Value::from("none")],
                ),
                Statement::new(
                    "SELECT name, value, $2, $3 FROM counters WHERE name = $1",
                    vec![
                        Value::from(odd),
                        Value::Blob(vec![0, 1, 254]),
                        Value::Text(None),
                    ],
                ),
            ];
            let done = run_many(&mut tx, db.backend, &stmts).await.unwrap();
            assert_eq!(&done.changed[..3], &[1, 1, 0]);
            assert_eq!(done.rows.len(), 1);
            let r = &done.rows[0];
            assert_eq!(r.try_get::<String, _>(0).unwrap(), odd);
            assert_eq!(r.try_get::<i64, _>(1).unwrap(), -1);
            assert_eq!(r.try_get::<Vec<u8>, _>(2).unwrap(), vec![0, 1, 254]);
            assert_eq!(r.try_get::<Option<String>, _>(3).unwrap(), None);
            tx.rollback().await.unwrap();
            db.close().await;
        }
    }

    /// An instant (to the microsecond), a date and a JSON document bound by the engine
    /// read back as they were written, on both backends, whether the statement goes alone
    /// (prepared: PostgreSQL's binary types) or with others (inlined literals, rows in
    /// text), NULLs included.
    #[tokio::test]
    async fn typed_values_read_back_as_written() {
        for url in testkit::fresh_urls("typed-values").await.unwrap() {
            let db = Db::open(&url).await.unwrap();
            db.migrate().await.unwrap();
            let at = 1_553_061_600_123_456i64;
            let insert = |id: i64, at: Value, day: Value| {
                Statement::new(
                    "INSERT INTO calendar_transfers (id, year, off_day, work_day, cite, added_by, added_at) VALUES ($1, 2019, $2, NULL, 'c', 'a', $3)",
                    vec![Value::from(id), day, at],
                )
            };
            let read = Statement::new(
                "SELECT added_at, off_day, work_day FROM calendar_transfers WHERE id = $1",
                vec![Value::from(1)],
            );
            let mut tx = db.begin().await.unwrap();
            run_many(
                &mut tx,
                db.backend,
                &[insert(
                    1,
                    Value::Instant(Some(at)),
                    Value::date_text("2019-03-08"),
                )],
            )
            .await
            .unwrap();
            let alone = fetch(&mut tx, &read).await.unwrap();
            let together = run_many(
                &mut tx,
                db.backend,
                &[
                    insert(2, Value::Instant(Some(-1)), Value::Date(None)),
                    read.clone(),
                ],
            )
            .await
            .unwrap()
            .rows;
            for rows in [alone, together] {
                let r = &rows[0];
                assert_eq!(r.try_get::<i64, _>(0).unwrap(), at, "{url}");
                assert_eq!(r.try_get::<String, _>(1).unwrap(), "2019-03-08");
                assert_eq!(r.try_get::<Option<String>, _>(2).unwrap(), None);
            }
            let before_1970 = run_many(
                &mut tx,
                db.backend,
                &[
                    Statement::new("SELECT 1", vec![]),
                    Statement::new(
                        "SELECT added_at, off_day FROM calendar_transfers WHERE id = $1",
                        vec![Value::from(2)],
                    ),
                ],
            )
            .await
            .unwrap()
            .rows;
            assert_eq!(before_1970[1].try_get::<i64, _>(0).unwrap(), -1);
            assert!(before_1970[1]
                .try_get::<Option<String>, _>(1)
                .unwrap()
                .is_none());
            let doc = r#"{"a":[1,2.5,"O'Brien \\ \u00e9 $1"],"b":{"c":null}}"#;
            let want: serde_json::Value = serde_json::from_str(doc).unwrap();
            for (k, together) in [(1, false), (2, true)] {
                let iin = Value::from(format!("87100840000{k}"));
                let ins = Statement::new(
                    "INSERT INTO persons (iin, surname, given_name, patronymic, birth_date, sex, citizenship, data_json) VALUES ($1, 'S', 'G', NULL, $2, 'M', 'KAZ', $3)",
                    vec![iin.clone(), Value::date_text("1987-10-08"), Value::json(doc)],
                );
                let rd = Statement::new(
                    "SELECT data_json, birth_date FROM persons WHERE iin = $1",
                    vec![iin],
                );
                let rows = if together {
                    run_many(&mut tx, db.backend, &[ins, rd])
                        .await
                        .unwrap()
                        .rows
                } else {
                    run_many(&mut tx, db.backend, &[ins]).await.unwrap();
                    fetch(&mut tx, &rd).await.unwrap()
                };
                let got: serde_json::Value =
                    serde_json::from_str(&rows[0].try_get::<String, _>(0).unwrap()).unwrap();
                assert_eq!(got, want, "{url}");
                assert_eq!(rows[0].try_get::<String, _>(1).unwrap(), "1987-10-08");
            }
            tx.rollback().await.unwrap();
            db.close().await;
        }
    }

    /// A UUID bound by the engine (migration 32) reads back as the same text on both
    /// backends, prepared or inlined, NULL included; PostgreSQL has it as a `uuid`.
    #[tokio::test]
    async fn uuids_read_back_as_written() {
        for url in testkit::fresh_urls("uuid-values").await.unwrap() {
            let db = Db::open(&url).await.unwrap();
            db.migrate().await.unwrap();
            let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
            let read = Statement::new("SELECT $1, $2", vec![Value::uuid(id), Value::Uuid(None)]);
            let mut tx = db.begin().await.unwrap();
            let alone = run_many(&mut tx, db.backend, std::slice::from_ref(&read))
                .await
                .unwrap()
                .rows;
            let together = run_many(
                &mut tx,
                db.backend,
                &[Statement::new("SELECT 1", vec![]), read],
            )
            .await
            .unwrap()
            .rows;
            for r in [&alone[0], &together[1]] {
                assert_eq!(r.try_get::<String, _>(0).unwrap(), id, "{url}");
                assert_eq!(r.try_get::<Option<String>, _>(1).unwrap(), None);
            }
            if db.backend == Backend::Postgres {
                let ty = fetch(
                    &mut tx,
                    &Statement::new("SELECT CAST(pg_typeof($1) AS text)", vec![Value::uuid(id)]),
                )
                .await
                .unwrap();
                assert_eq!(ty[0].try_get::<String, _>(0).unwrap(), "uuid");
            }
            tx.rollback().await.unwrap();
            db.close().await;
        }
    }

    #[test]
    fn renumbers_parameters() {
        assert_eq!(
            renumber("UPDATE t SET a = $1, b = $12 WHERE c = $2", 3),
            "UPDATE t SET a = $4, b = $15 WHERE c = $5"
        );
        assert_eq!(renumber("SELECT $1", 0), "SELECT $1");
    }
}
