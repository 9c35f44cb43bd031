//! Fresh databases for tests: a SQLite file always, and a new PostgreSQL database when
//! `DRN_TEST_POSTGRES` holds a URL (CI sets it). One suite runs on both.

use crate::{Db, StoreError};

/// URLs of fresh, empty databases, one per backend available.
pub async fn fresh_urls(name: &str) -> Result<Vec<String>, StoreError> {
    let dir = std::env::temp_dir().join(format!(
        "drn-test-{}-{name}-{}",
        std::process::id(),
        unique()
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| StoreError::BadUrl(format!("{}: {e}", dir.display())))?;
    let mut urls = vec![format!("sqlite://{}", dir.join("drn.db").display())];
    if let Some(pg) = std::env::var("DRN_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
    {
        let db = format!("drn_{}", unique());
        let admin = Db::open(&pg).await?;
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
