//! Fresh databases for tests: a SQLite file always, and a new PostgreSQL database when
//! `DRN_TEST_POSTGRES` holds a URL (CI sets it). One suite runs on both.
//!
//! Each database is named after the test process; the first call in a process removes
//! those of processes that have ended (a developer's cluster had gathered a thousand).

use crate::{Db, StoreError};

/// Runs a scenario (`async fn(url: &str)`) as a test named `$name` on each backend
/// [`fresh_urls`] gives, a fresh database each (the engine's and the server's suites).
#[macro_export]
macro_rules! on_both {
    ($name:ident, $scenario:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for url in $crate::testkit::fresh_urls(stringify!($name))
                .await
                .unwrap()
            {
                eprintln!("backend: {}", $crate::testkit::backend_name(&url));
                $scenario(&url).await;
            }
        }
    };
}

/// URLs of fresh, empty databases, one per backend available.
pub async fn fresh_urls(name: &str) -> Result<Vec<String>, StoreError> {
    let dir = std::env::temp_dir().join(format!(
        "drn-test-{}-{name}-{}",
        std::process::id(),
        unique()
    ));
    static SWEPT_FILES: std::sync::Once = std::sync::Once::new();
    SWEPT_FILES.call_once(sweep_files);
    std::fs::create_dir_all(&dir)
        .map_err(|e| StoreError::BadUrl(format!("{}: {e}", dir.display())))?;
    let mut urls = vec![format!("sqlite://{}", dir.join("drn.db").display())];
    if let Some(pg) = std::env::var("DRN_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
    {
        let db = format!("drn_{}_{}", std::process::id(), unique());
        let admin = Db::open(&pg).await?;
        static SWEPT_DATABASES: std::sync::atomic::AtomicBool =
            std::sync::atomic::AtomicBool::new(false);
        if !SWEPT_DATABASES.swap(true, std::sync::atomic::Ordering::Relaxed) {
            sweep_databases(&admin).await;
        }
        crate::query(format!("CREATE DATABASE {db}"))
            .execute(admin.writer())
            .await?;
        admin.close().await;
        let base = pg.rsplit_once('/').map(|(b, _)| b).unwrap_or(&pg);
        urls.push(format!("{base}/{db}"));
    }
    Ok(urls)
}

/// The backend of a URL, for test output.
pub fn backend_name(url: &str) -> &str {
    url.split(':').next().unwrap_or(url)
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{t:x}{:x}", N.fetch_add(1, Ordering::Relaxed))
}

/// Whether the test process `pid` has ended (false where that cannot be told).
fn ended(pid: &str) -> bool {
    let proc = std::path::Path::new("/proc");
    proc.join("self").exists()
        && pid.parse::<u32>().is_ok_and(|p| p != std::process::id())
        && !proc.join(pid).exists()
}

/// Removes the SQLite directories of test processes that have ended.
fn sweep_files() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("drn-test-")) else {
            continue;
        };
        if rest.split('-').next().is_some_and(ended) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Drops the PostgreSQL databases of test processes that have ended (`drn_PID_…`), and
/// those named before the process was part of the name (`drn_HEX`).
async fn sweep_databases(admin: &Db) {
    let Ok(rows) =
        crate::query("SELECT CAST(datname AS TEXT) FROM pg_database WHERE datname LIKE 'drn\\_%'")
            .fetch_all(admin.reader())
            .await
    else {
        return;
    };
    for r in rows {
        let Ok(name) = r.try_get::<String, _>(0) else {
            continue;
        };
        let parts: Vec<&str> = name.split('_').collect();
        let leftover = match parts.as_slice() {
            ["drn", pid, hex] => ended(pid) && hex.chars().all(|c| c.is_ascii_hexdigit()),
            ["drn", hex] => hex.len() > 16 && hex.chars().all(|c| c.is_ascii_hexdigit()),
            _ => false,
        };
        if leftover {
            let _ = crate::query(format!("DROP DATABASE IF EXISTS {name}"))
                .execute(admin.writer())
                .await;
        }
    }
}

/// A SQLite database file made corrupt in place, as a failing disk returns it (fault
/// injection for tests of [`crate::Fault`]); [`Corruption::restore`] puts the bytes back.
#[derive(Debug)]
pub struct Corruption {
    path: std::path::PathBuf,
    saved: Vec<u8>,
}

/// Copies everything committed into the database file and empties the WAL (a `TRUNCATE`
/// checkpoint: every connection then reads its pages from the file, none from its cache),
/// then overwrites all but the file's 100-byte header with bytes that are no page, keeping
/// its size (the connections map the file, and a shorter one would fault them). The next
/// statement that reads a table fails with `SQLITE_CORRUPT`.
pub fn corrupt_sqlite(path: &std::path::Path) -> std::io::Result<Corruption> {
    corrupt_sqlite_from(path, |_| 100)
}

/// [`corrupt_sqlite`] from the offset `from(file length)` on: the pages before it (the
/// schema, the first tables made) stay whole, so the database still opens and a start-up
/// check has to find the damage.
pub fn corrupt_sqlite_from(
    path: &std::path::Path,
    from: impl Fn(u64) -> u64,
) -> std::io::Result<Corruption> {
    use std::io::{Seek, SeekFrom, Write};
    let c = rusqlite::Connection::open(path).map_err(std::io::Error::other)?;
    c.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(std::io::Error::other)?;
    // 0 when the checkpoint was complete (1: a reader or the writer was in the way).
    let mut busy = 1;
    for _ in 0..100 {
        busy = c
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(std::io::Error::other)?;
        if busy == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if busy != 0 {
        return Err(std::io::Error::other("the WAL could not be checkpointed"));
    }
    drop(c);
    let saved = std::fs::read(path)?;
    let start = from(saved.len() as u64).min(saved.len() as u64);
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.seek(SeekFrom::Start(start))?;
    f.write_all(&vec![0xA5; saved.len() - start as usize])?;
    f.sync_all()?;
    Ok(Corruption {
        path: path.to_path_buf(),
        saved,
    })
}

impl Corruption {
    /// Writes the file's bytes back as they were.
    pub fn restore(self) -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).open(&self.path)?;
        f.write_all(&self.saved)?;
        f.sync_all()
    }
}
