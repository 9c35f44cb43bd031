//! Fail-stop on storage faults (SQLite).
//!
//! When the disk under the database fails (an I/O error, a full disk) or the file is found
//! corrupt, writing on could make it worse, and a write that seems to succeed may not be
//! durable. So the first such error, met by the engine writer's connection or by the WAL's
//! checkpointer, is kept in a [`Fault`] shared by the [`crate::Db`] handle: from then on
//! the writer's connection refuses every statement, the checkpointer stops, and
//! [`crate::Db::begin`] refuses too. Reads go on. What was committed before stays in the
//! WAL.
//!
//! A restart does not clear it: the fault is also written to a marker file beside the
//! database, `<database file>.fault` (when it was recorded, during what, and why), and a
//! [`crate::Db`] opened on a file with a marker starts with the fault set, saying it was
//! recorded before the restart. The administrator checks or restores the database and
//! then deletes the marker; the next start writes again. (If the marker cannot be written,
//! a full disk say, the error is logged and the fault holds in memory only, as before.)
//!
//! PostgreSQL keeps its own files and reports its own trouble: nothing there is a fault in
//! this sense.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rusqlite::ffi;

use crate::StoreError;

/// A database's first storage fault, if any (see the module). Clones share it.
#[derive(Clone, Debug, Default)]
pub struct Fault(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    reason: OnceLock<String>,
    /// The marker file that keeps the fault across restarts; `None`: in memory only.
    marker: Option<PathBuf>,
}

impl Fault {
    /// The fault of the SQLite database in the file `db`: already set when its marker is
    /// there (recorded before a restart, or unreadable: refusing is the safe side), and
    /// written to the marker when recorded.
    pub fn of_file(db: &Path) -> Fault {
        let marker = Fault::marker_path(db);
        let reason = OnceLock::new();
        if let Some(r) = read_marker(&marker) {
            tracing::error!(
                marker = %marker.display(),
                reason = %r,
                "storage fault recorded before the restart: the database accepts no writes until the marker is deleted"
            );
            let _ = reason.set(r);
        }
        Fault(Arc::new(Inner {
            reason,
            marker: Some(marker),
        }))
    }

    /// The marker file of the database in the file `db`: `<db>.fault`.
    pub fn marker_path(db: &Path) -> PathBuf {
        let mut p = db.as_os_str().to_owned();
        p.push(".fault");
        PathBuf::from(p)
    }

    /// What failed first, once something has.
    pub fn get(&self) -> Option<&str> {
        self.0.reason.get().map(String::as_str)
    }

    /// `Err` once faulted: nothing more may be written.
    pub fn refuse(&self) -> Result<(), StoreError> {
        match self.get() {
            Some(reason) => Err(StoreError::Fault(reason.to_string())),
            None => Ok(()),
        }
    }

    /// Keeps `e` when it is a storage fault (the first one only, logged once) and returns
    /// the error to pass on: [`StoreError::Fault`] for a fault, `e` as it was otherwise.
    pub fn record(&self, during: &str, e: StoreError) -> StoreError {
        if !e.is_storage_fault() {
            return e;
        }
        let reason = match &e {
            StoreError::Lite(rusqlite::Error::SqliteFailure(f, _)) => {
                format!("{during}: {e} (SQLite code {})", f.extended_code)
            }
            _ => format!("{during}: {e}"),
        };
        self.set(during, reason)
    }

    /// Keeps a fault found otherwise than by an error of a statement (the start-up check,
    /// see [`crate::Db::migrate`]): the first one only, logged once and written to the
    /// marker.
    pub fn set(&self, during: &str, reason: String) -> StoreError {
        let mut first = false;
        let reason = self.0.reason.get_or_init(|| {
            first = true;
            reason
        });
        if first {
            tracing::error!(
                during,
                reason = %reason,
                "storage fault: the database stops accepting writes"
            );
            if let Some(marker) = &self.0.marker {
                if let Err(io) = write_marker(marker, during, reason) {
                    tracing::error!(
                        marker = %marker.display(),
                        error = %io,
                        "could not write the storage fault's marker: a restart would clear the fault"
                    );
                }
            }
        }
        StoreError::Fault(reason.clone())
    }
}

/// Writes the marker of a fault: to a temporary file, synced, renamed over the marker, and
/// the directory synced (where it can be opened), so that a crash leaves either no marker
/// or a whole one.
fn write_marker(marker: &Path, during: &str, reason: &str) -> std::io::Result<()> {
    use std::io::Write;
    // One line each, so that `read_marker` finds them.
    let one_line = |s: &str| s.replace(['\n', '\r'], " ");
    let text = format!(
        "# A storage fault stopped DRN's writes to this database. Check or restore the\n\
         # database, then delete this file: DRN refuses every change while it is here.\n\
         at: {}\nduring: {}\nreason: {}\n",
        jiff::Timestamp::now(),
        one_line(during),
        one_line(reason),
    );
    let mut tmp = marker.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, marker)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let dir = match marker.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Not every platform opens a directory as a file (Windows does not).
    match std::fs::File::open(dir) {
        Ok(d) => d.sync_all(),
        Err(_) => Ok(()),
    }
}

/// The last part of `path` (all of it when it has none).
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The reason of a fault kept in `marker` (see [`write_marker`]), for a database opened
/// after a restart; `None` when there is no marker.
fn read_marker(marker: &Path) -> Option<String> {
    // The file's name, not its path: the reason is shown to whoever probes `/readyz`
    // (the full path is in the log line of the start).
    let delete = format!(
        "delete {} beside the database file once the database is checked or restored",
        file_name(marker)
    );
    let text = match std::fs::read_to_string(marker) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            return Some(format!(
                "a storage fault was recorded before the restart, its marker unreadable ({e}); {delete}"
            ))
        }
    };
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    let reason = field("reason:").unwrap_or(text.trim());
    let at = field("at:").unwrap_or("an unknown time");
    Some(format!(
        "recorded before the restart, at {at}: {reason}; {delete}"
    ))
}

impl StoreError {
    /// The storage under a SQLite database failed: an I/O error, a corrupt file or not a
    /// database at all, a full disk, a file SQLite could not open beside an open database
    /// (its WAL or a journal), or the file moved away. None of these passes by itself, and
    /// writing on may lose what is written; a full disk is one too, since no write can be
    /// durable until an administrator frees space. (`SQLITE_CANTOPEN` when opening is a
    /// wrong path, but a fault is kept only from statements on an open connection.) Not
    /// faults: constraint violations (the command's own), `SQLITE_BUSY`/`SQLITE_LOCKED`
    /// (another connection; passes), nor anything on PostgreSQL.
    pub fn is_storage_fault(&self) -> bool {
        match self {
            StoreError::Fault(_) => true,
            StoreError::Lite(rusqlite::Error::SqliteFailure(e, _)) => {
                is_fault_code(e.extended_code)
            }
            StoreError::Db(e) | StoreError::Migration { source: e, .. } => is_sqlx_fault(e),
            _ => false,
        }
    }
}

/// An error of sqlx's SQLite driver with a fault's code.
fn is_sqlx_fault(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(e) = e else {
        return false;
    };
    // The driver's code is SQLite's extended result code, in decimal.
    e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        && e.code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(is_fault_code)
}

/// SQLite's (extended) result codes of a storage fault (see [`StoreError::is_storage_fault`]).
fn is_fault_code(extended: i32) -> bool {
    matches!(
        extended & 0xff,
        ffi::SQLITE_IOERR
            | ffi::SQLITE_CORRUPT
            | ffi::SQLITE_NOTADB
            | ffi::SQLITE_FULL
            | ffi::SQLITE_CANTOPEN
    ) || extended == ffi::SQLITE_READONLY_DBMOVED
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lite::{Checkpointer, LiteConn};
    use crate::{Statement, Value};

    /// A fresh database file with a table (named so that `testkit` sweeps it up after a
    /// crash).
    fn db(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("drn-test-{}-fault-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        LiteConn::open(&path)
            .unwrap()
            .run_many(&[Statement::new(
                "CREATE TABLE t (id TEXT PRIMARY KEY, b BLOB)",
                vec![],
            )])
            .unwrap();
        path
    }

    fn sql(s: &str) -> Statement {
        Statement::new(s, vec![])
    }

    fn insert(id: &str, bytes: usize) -> Statement {
        Statement::new(
            "INSERT INTO t (id, b) VALUES ($1, $2)",
            vec![Value::from(id), Value::Blob(vec![7; bytes])],
        )
    }

    /// A writer's connection to a fresh database, with its fault, after one committed row.
    fn writer_with_a_row(name: &str) -> (std::path::PathBuf, Fault, LiteConn) {
        let path = db(name);
        let fault = Fault::default();
        let w = LiteConn::open_writer(&path, fault.clone()).unwrap();
        w.begin().unwrap();
        w.run_many(&[insert("a", 10)]).unwrap();
        w.commit().unwrap();
        (path, fault, w)
    }

    /// Lets the database grow by a few pages only (`max_page_count`: SQLite's
    /// `SQLITE_FULL`, as from a full disk) and writes in a transaction until a statement
    /// fails; returns its error, the transaction left open.
    fn fill_up(w: &LiteConn) -> StoreError {
        let pages: i64 = w.run_many(&[sql("PRAGMA page_count")]).unwrap().rows[0]
            .try_get(0)
            .unwrap();
        w.run_many(&[sql(&format!("PRAGMA max_page_count = {}", pages + 4))])
            .unwrap();
        w.begin().unwrap();
        for i in 0..100 {
            if let Err(e) = w.run_many(&[insert(&format!("big{i}"), 8192)]) {
                return e;
            }
        }
        panic!("the database never filled up");
    }

    fn count(path: &std::path::Path) -> i64 {
        LiteConn::open(path)
            .unwrap()
            .run_many(&[sql("SELECT COUNT(*) FROM t")])
            .unwrap()
            .rows[0]
            .try_get(0)
            .unwrap()
    }

    fn sqlite_error(code: i32) -> StoreError {
        StoreError::Lite(rusqlite::Error::SqliteFailure(ffi::Error::new(code), None))
    }

    #[test]
    fn faults_are_io_corruption_and_full_disk_not_busy_nor_constraints() {
        for code in [
            ffi::SQLITE_IOERR,
            ffi::SQLITE_IOERR_SHORT_READ,
            ffi::SQLITE_IOERR_FSYNC,
            ffi::SQLITE_CORRUPT,
            ffi::SQLITE_NOTADB,
            ffi::SQLITE_FULL,
            ffi::SQLITE_CANTOPEN,
            ffi::SQLITE_READONLY_DBMOVED,
        ] {
            assert!(sqlite_error(code).is_storage_fault(), "{code}");
        }
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_BUSY_SNAPSHOT,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_CONSTRAINT_UNIQUE,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY,
            ffi::SQLITE_ERROR,
            ffi::SQLITE_READONLY,
        ] {
            assert!(!sqlite_error(code).is_storage_fault(), "{code}");
        }
        assert!(!StoreError::Decode("x".into()).is_storage_fault());
    }

    /// Errors of sqlx's SQLite driver are told apart too (the sqlx pools: `Db::begin`,
    /// migrations).
    #[tokio::test]
    async fn sqlx_errors_of_a_corrupt_file_are_faults_and_a_unique_violation_is_not() {
        let path = db("sqlx");
        let db = crate::Db::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let insert = || crate::query("INSERT INTO t (id) VALUES ('a')").execute(db.writer());
        insert().await.unwrap();
        let dup = insert().await.unwrap_err();
        assert!(
            dup.is_unique_violation() && !dup.is_storage_fault(),
            "{dup}"
        );
        let broken = crate::testkit::corrupt_sqlite(&path).unwrap();
        let e = crate::query("SELECT COUNT(*) FROM t WHERE b IS NULL")
            .fetch_one(db.reader())
            .await
            .map(|_| ())
            .unwrap_err();
        broken.restore().unwrap();
        assert!(e.is_storage_fault(), "{e}");
        // Only the writer's connection and the checkpointer keep a fault.
        assert_eq!(db.fault(), None);
        db.close().await;
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    /// The database reaches its largest size (`max_page_count`: SQLite's `SQLITE_FULL`,
    /// as from a full disk) in the middle of a transaction: the statement fails as a
    /// fault, the transaction is rolled back, and the writer refuses everything after,
    /// while a unique violation before it stopped nothing.
    #[test]
    fn a_full_disk_stops_the_writer() {
        let (path, fault, w) = writer_with_a_row("full");
        w.begin().unwrap();
        let dup = w.run_many(&[insert("a", 10)]).unwrap_err();
        assert!(
            dup.is_unique_violation() && !dup.is_storage_fault(),
            "{dup}"
        );
        w.rollback();
        assert_eq!(fault.get(), None);

        let e = fill_up(&w);
        assert!(
            matches!(&e, StoreError::Fault(r) if r.contains("full")),
            "{e}"
        );
        let reason = fault.get().unwrap().to_string();
        assert!(reason.starts_with("statement: "), "{reason}");
        assert!(w.commit().is_err());
        w.rollback();
        // Refused from now on, whatever the statement; the first reason stays.
        assert!(matches!(w.begin(), Err(StoreError::Fault(r)) if r == reason));
        assert!(matches!(
            w.run_many(&[insert("b", 1)]),
            Err(StoreError::Fault(_))
        ));
        assert_eq!(fault.get(), Some(reason.as_str()));
        // Nothing of the failed transaction was kept; reads go on.
        assert_eq!(count(&path), 1);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    /// A fault outlives the process: recorded on a `Db`'s file (it fills up), it is kept
    /// in `<file>.fault`, and a `Db` opened on the file again starts with it, saying so:
    /// its writer's connection, `Db::begin` and a migration left to apply are refused.
    /// Once the marker is deleted, the next `Db` writes.
    #[tokio::test]
    async fn a_fault_outlives_a_restart_until_its_marker_is_deleted() {
        let path = db("restart");
        let url = format!("sqlite://{}", path.display());
        let marker = Fault::marker_path(&path);
        let db = crate::Db::open(&url).await.unwrap();
        db.migrate().await.unwrap();
        // As if the next start brought a new migration.
        crate::query("DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)")
            .execute(db.writer())
            .await
            .unwrap();
        let (w, checkpointer) = db.open_lite_writer().unwrap().unwrap();
        assert!(!marker.exists());
        let e = fill_up(&w);
        w.rollback();
        assert!(matches!(e, StoreError::Fault(_)), "{e}");
        let reason = db.fault().unwrap();
        let kept = std::fs::read_to_string(&marker).unwrap();
        assert!(
            kept.contains("\nduring: statement\n")
                && kept.contains(&format!("\nreason: {reason}\n")),
            "{kept}"
        );
        drop((w, checkpointer));
        db.close().await;
        drop(db);

        // The restart.
        let db = crate::Db::open(&url).await.unwrap();
        let again = db.fault().expect("the restart cleared the fault");
        assert!(
            again.contains("before the restart") && again.contains(&reason),
            "{again}"
        );
        // It names the marker to delete, not the directory it is in (`/readyz` shows it
        // to anyone).
        let dir = path.parent().unwrap().display().to_string();
        assert!(
            again.contains(&file_name(&marker)) && !again.contains(&dir),
            "{again}"
        );
        assert!(matches!(db.begin().await, Err(StoreError::Fault(r)) if r == again));
        assert!(matches!(db.migrate().await, Err(StoreError::Fault(_))));
        let (w, checkpointer) = db.open_lite_writer().unwrap().unwrap();
        assert!(matches!(w.begin(), Err(StoreError::Fault(r)) if r == again));
        assert!(matches!(
            w.run_many(&[insert("b", 1)]),
            Err(StoreError::Fault(_))
        ));
        drop((w, checkpointer));
        db.close().await;
        drop(db);
        assert_eq!(count(&path), 0);

        // The administrator has checked the database and deletes the marker.
        std::fs::remove_file(&marker).unwrap();
        let db = crate::Db::open(&url).await.unwrap();
        assert_eq!(db.fault(), None);
        let (w, _checkpointer) = db.open_lite_writer().unwrap().unwrap();
        w.begin().unwrap();
        w.run_many(&[insert("b", 1)]).unwrap();
        w.commit().unwrap();
        assert_eq!(count(&path), 1);
        db.begin().await.unwrap().rollback().await.unwrap();
        assert!(!marker.exists());
        db.close().await;
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    /// A marker that cannot be read still stops the writes (the safe side).
    #[test]
    fn an_unreadable_marker_is_a_fault() {
        let path = db("unreadable");
        // A directory where the marker's file would be: it exists, but is no file.
        std::fs::create_dir(Fault::marker_path(&path)).unwrap();
        let fault = Fault::of_file(&path);
        assert!(
            fault.get().is_some_and(|r| r.contains("unreadable")),
            "{:?}",
            fault.get()
        );
        assert!(fault.refuse().is_err());
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    /// The file's pages turn to garbage under an open writer: its next statement fails
    /// with `SQLITE_CORRUPT`, and the writer stays stopped when the file is whole again.
    #[test]
    fn a_corrupt_file_stops_the_writer() {
        let (path, fault, w) = writer_with_a_row("corrupt");
        let broken = crate::testkit::corrupt_sqlite(&path).unwrap();
        let e = w
            .begin()
            .and_then(|()| w.run_many(&[insert("b", 10)]))
            .unwrap_err();
        w.rollback();
        assert!(
            matches!(&e, StoreError::Fault(r) if r.contains("malformed")),
            "{e}"
        );
        assert!(fault.get().is_some_and(|r| r.contains("malformed")));
        broken.restore().unwrap();
        assert!(matches!(w.begin(), Err(StoreError::Fault(_))));
        assert_eq!(count(&path), 1);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    /// The WAL loses its committed frames before they are checkpointed (cut short, as a
    /// failing disk may): the checkpointer's read of them fails with an I/O error, which
    /// stops it and the writer.
    #[test]
    fn a_checkpoint_that_cannot_read_the_wal_stops_the_writer() {
        // Frames in the WAL, not yet checkpointed (the writer checkpoints only past
        // 16,384 pages; no checkpointer runs yet).
        let (path, fault, w) = writer_with_a_row("checkpoint");
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        let wal = std::fs::OpenOptions::new().write(true).open(wal).unwrap();
        wal.set_len(0).unwrap();
        let _checkpointer = Checkpointer::start(&path, fault.clone()).unwrap();
        let started = std::time::Instant::now();
        while fault.get().is_none() && started.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let reason = fault
            .get()
            .expect("the checkpoint did not fail")
            .to_string();
        assert!(
            reason.starts_with("checkpoint: ") && reason.contains("I/O"),
            "{reason}"
        );
        assert!(matches!(w.begin(), Err(StoreError::Fault(_))));
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
