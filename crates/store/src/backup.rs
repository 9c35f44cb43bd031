//! Backups of a running database (`drn backup`, `drn restore`).
//!
//! - SQLite: `VACUUM INTO FILE` from a connection of its own. It reads the whole database
//!   in one read transaction, so the copy is the database as of one commit: every
//!   transaction committed (every command acknowledged) before it began is in it, none
//!   half. In WAL mode it runs beside the writer and the readers of a running server; the
//!   writer only waits for the checkpointer, which cannot reset the WAL past a reader.
//!   The copy is a compact, ordinary SQLite file; restoring copies it into place.
//! - PostgreSQL: `pg_dump --format=custom` (one repeatable-read snapshot of the database:
//!   the same guarantee), restored with `pg_restore --single-transaction` into an empty
//!   database. Both are PostgreSQL's client programs and must be on `PATH` (Debian:
//!   `postgresql-client`); their major version must be at least the server's. For a
//!   cluster-wide copy with point-in-time recovery, `pg_basebackup` plus WAL archiving is
//!   PostgreSQL's own tool (see the README, Deployment); DRN adds nothing to it.

use std::path::{Path, PathBuf};

use crate::{lite, Backend, StoreError};

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub backend: Backend,
    pub file: PathBuf,
    pub bytes: u64,
}

fn backend_of(url: &str) -> Result<Backend, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::BadUrl(url.to_string()))
    }
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backup(format!("{what} {}: {e}", path.display()))
}

/// Writes a consistent copy of the database at `url` to `to`, which must not exist (a
/// backup never overwrites another one).
pub async fn backup(url: &str, to: &Path) -> Result<BackupInfo, StoreError> {
    let backend = backend_of(url)?;
    if to.exists() {
        return Err(StoreError::Backup(format!(
            "{} exists: a backup is written to a new file",
            to.display()
        )));
    }
    match backend {
        Backend::Sqlite => {
            let from = lite::path_of(url)?;
            if !from.exists() {
                return Err(StoreError::Backup(format!(
                    "{}: no such database",
                    from.display()
                )));
            }
            let target = to.to_path_buf();
            tokio::task::spawn_blocking(move || vacuum_into(&from, &target))
                .await
                .map_err(|e| StoreError::Backup(format!("backup task: {e}")))??;
        }
        Backend::Postgres => {
            let to_arg = to.as_os_str().to_string_lossy().into_owned();
            run_tool(
                "pg_dump",
                &[
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    &to_arg,
                    "--dbname",
                    url,
                ],
            )
            .await?;
        }
    }
    let bytes = std::fs::metadata(to)
        .map_err(|e| io("reading", to, e))?
        .len();
    Ok(BackupInfo {
        backend,
        file: to.to_path_buf(),
        bytes,
    })
}

/// The copy of `from` as of one read transaction, into `to` (then synced to disk).
fn vacuum_into(from: &Path, to: &Path) -> Result<(), StoreError> {
    let c = lite::LiteConn::open(from)?;
    let to_text = to.to_string_lossy().into_owned();
    c.execute_batch_with("VACUUM INTO ?1", &to_text)?;
    drop(c);
    // Durable before the backup is reported done.
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("syncing", to, e))
}

/// The first bytes of a SQLite database file and of a `pg_dump` custom archive.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PGDUMP_MAGIC: &[u8] = b"PGDMP";

/// Brings a backup made by [`backup`] back into the database at `url`, which must be
/// empty: a SQLite file that does not exist yet (or is empty), or a PostgreSQL database
/// without tables. The caller then migrates (a backup of an older schema is brought up to
/// date) and verifies the audit chain.
pub async fn restore(from: &Path, url: &str) -> Result<(), StoreError> {
    let backend = backend_of(url)?;
    let mut head = [0u8; 16];
    {
        use std::io::Read;
        let mut f = std::fs::File::open(from).map_err(|e| io("opening", from, e))?;
        let n = f.read(&mut head).map_err(|e| io("reading", from, e))?;
        if n < PGDUMP_MAGIC.len() {
            return Err(StoreError::Backup(format!(
                "{} is not a DRN backup (too short)",
                from.display()
            )));
        }
    }
    let kind = if head.starts_with(SQLITE_MAGIC) {
        Backend::Sqlite
    } else if head.starts_with(PGDUMP_MAGIC) {
        Backend::Postgres
    } else {
        return Err(StoreError::Backup(format!(
            "{} is neither a SQLite backup nor a pg_dump archive",
            from.display()
        )));
    };
    if kind != backend {
        return Err(StoreError::Backup(format!(
            "{} is a backup of a {} database and cannot be restored into {url}",
            from.display(),
            match kind {
                Backend::Sqlite => "SQLite",
                Backend::Postgres => "PostgreSQL",
            }
        )));
    }
    match backend {
        Backend::Sqlite => {
            let to = lite::path_of(url)?;
            let from = from.to_path_buf();
            tokio::task::spawn_blocking(move || copy_into_place(&from, &to))
                .await
                .map_err(|e| StoreError::Backup(format!("restore task: {e}")))?
        }
        Backend::Postgres => {
            let db = crate::Db::open(url).await?;
            let tables: i64 = crate::query(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_one(db.reader())
            .await?
            .try_get(0)?;
            db.close().await;
            if tables > 0 {
                return Err(StoreError::Backup(format!(
                    "the database {} has {tables} tables: restore into an empty database (createdb)",
                    redact(url)
                )));
            }
            let from_arg = from.as_os_str().to_string_lossy().into_owned();
            run_tool(
                "pg_restore",
                &[
                    "--single-transaction",
                    "--exit-on-error",
                    "--no-owner",
                    "--no-privileges",
                    "--dbname",
                    url,
                    &from_arg,
                ],
            )
            .await
        }
    }
}

/// Copies a SQLite backup to `to` through a temporary file beside it, synced, then
/// renamed into place: a crash leaves either no database or the whole copy.
fn copy_into_place(from: &Path, to: &Path) -> Result<(), StoreError> {
    let occupied = std::fs::metadata(to).is_ok_and(|m| m.len() > 0);
    let wal = PathBuf::from(format!("{}-wal", to.display()));
    if occupied || std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(StoreError::Backup(format!(
            "{} exists: restore into a new file (move the old database away first)",
            to.display()
        )));
    }
    let tmp = PathBuf::from(format!("{}.restoring", to.display()));
    std::fs::copy(from, &tmp).map_err(|e| io("copying to", &tmp, e))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("syncing", &tmp, e))?;
    for leftover in [wal, PathBuf::from(format!("{}-shm", to.display()))] {
        let _ = std::fs::remove_file(leftover);
    }
    std::fs::rename(&tmp, to).map_err(|e| io("renaming to", to, e))?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself durable.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    // The copy must be a whole database.
    let c = lite::LiteConn::open(to)?;
    let check = c.integrity_check()?;
    if check != "ok" {
        return Err(StoreError::Backup(format!(
            "the restored database {} fails its integrity check: {check}",
            to.display()
        )));
    }
    Ok(())
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Runs one of PostgreSQL's client programs; a clear error when it is not installed or
/// fails (its own message).
async fn run_tool(program: &str, args: &[&str]) -> Result<(), StoreError> {
    let out = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                StoreError::Backup(format!(
                    "{program} not found on PATH: install PostgreSQL's client programs (Debian: apt-get install postgresql-client), of the server's major version or newer"
                ))
            } else {
                StoreError::Backup(format!("{program}: {e}"))
            }
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(StoreError::Backup(format!(
            "{program} failed ({}): {}",
            out.status,
            err.trim()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_password() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
