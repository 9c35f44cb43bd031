//! Fresh databases for tests: a SQLite file always, and a new PostgreSQL database when
//! `DRN_TEST_POSTGRES` holds a URL (CI sets it). One suite runs on both.
//!
//! Each database is named after the test process; the first call in a process removes
//! those of processes that have ended (a developer's cluster had gathered a thousand).

use crate::{Db, StoreError};

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
        crate::query(&format!("CREATE DATABASE {db}"))
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
        let Ok(name) = sqlx::Row::try_get::<String, _>(&r, 0) else {
            continue;
        };
        let parts: Vec<&str> = name.split('_').collect();
        let leftover = match parts.as_slice() {
            ["drn", pid, hex] => ended(pid) && hex.chars().all(|c| c.is_ascii_hexdigit()),
            ["drn", hex] => hex.len() > 16 && hex.chars().all(|c| c.is_ascii_hexdigit()),
            _ => false,
        };
        if leftover {
            let _ = crate::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(admin.writer())
                .await;
        }
    }
}
