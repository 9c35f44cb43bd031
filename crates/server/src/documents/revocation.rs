//! Revocation lists fetched from the addresses an administrator configures (issue 33):
//! the НУЦ РК publishes its CRLs at distribution points over HTTP, and a list is current
//! only until its `nextUpdate`. DRN fetches each configured address at start, every
//! [`REFRESH_EVERY`] after, and on demand when a signature is checked while a list is
//! missing or out of date (at most once per [`RETRY_AFTER`], so an outage of the
//! distribution point does not make every signature wait). The last good copy of each list
//! is kept in memory and under the data directory, so a restart during an outage still has
//! it; whether an out-of-date list is enough is the signature policy's to say
//! (`--revocation-required` refuses it).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// How often the lists are fetched again while the server runs.
pub const REFRESH_EVERY: Duration = Duration::from_secs(15 * 60);
/// How soon after a failed fetch a signature may ask again.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Fetches of revocation lists by outcome (`ok`, `failed`), on `/metrics`.
pub const CRL_FETCHES: &str = "drn_crl_fetches";
/// A CRL larger than this is not a CRL we can hold (the НУЦ's are a few megabytes).
const MAX_CRL_BYTES: usize = 64 * 1024 * 1024;

/// One list as last fetched.
#[derive(Debug, Clone)]
struct Held {
    bytes: Vec<u8>,
    next_update: Option<Timestamp>,
}

/// The revocation lists of the configured distribution points.
#[derive(Debug, Default)]
pub struct CrlFeed {
    urls: Vec<String>,
    cache: Option<PathBuf>,
    lists: RwLock<HashMap<String, Held>>,
    last_attempt: Mutex<Option<Instant>>,
    client: reqwest::Client,
}

/// Why a fetch failed (logged; the signature's refusal says "cannot be checked").
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("answered {0}")]
    Status(reqwest::StatusCode),
    #[error("not a revocation list: {0}")]
    NotACrl(String),
    #[error("larger than {MAX_CRL_BYTES} bytes")]
    TooLarge,
}

impl CrlFeed {
    /// A feed of `urls`, keeping copies under `cache` (created when missing); the copies a
    /// previous run kept are read now.
    pub fn new(urls: Vec<String>, cache: Option<PathBuf>) -> CrlFeed {
        let mut lists = HashMap::new();
        if let Some(dir) = &cache {
            for url in &urls {
                if let Ok(bytes) = std::fs::read(dir.join(file_name(url))) {
                    if let Ok(next_update) = drn_docs::officer::crl_next_update(&bytes) {
                        lists.insert(url.clone(), Held { bytes, next_update });
                    }
                }
            }
        }
        CrlFeed {
            urls,
            cache,
            lists: RwLock::new(lists),
            last_attempt: Mutex::new(None),
            client: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .unwrap_or_default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// The lists held now (DER or PEM, as published).
    pub fn lists(&self) -> Vec<Vec<u8>> {
        match self.lists.read() {
            Ok(l) => l.values().map(|h| h.bytes.clone()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Is a configured list missing, or past its `nextUpdate` by the server's clock?
    pub fn wants_refresh(&self, now: Timestamp) -> bool {
        let Ok(l) = self.lists.read() else {
            return true;
        };
        self.urls.iter().any(|u| match l.get(u) {
            None => true,
            Some(h) => h.next_update.is_some_and(|n| n < now),
        })
    }

    /// Fetches when a list is missing or out of date and the last attempt is not too recent
    /// (a signature being checked asks this).
    pub async fn refresh_if_due(&self, now: Timestamp) {
        if self.urls.is_empty() || !self.wants_refresh(now) {
            return;
        }
        let due = match self.last_attempt.lock() {
            Ok(last) => last.is_none_or(|t| t.elapsed() >= RETRY_AFTER),
            Err(_) => true,
        };
        if due {
            self.refresh().await;
        }
    }

    /// Fetches every configured list; keeps the previous copy of one that fails. The
    /// number fetched.
    pub async fn refresh(&self) -> usize {
        if let Ok(mut last) = self.last_attempt.lock() {
            *last = Some(Instant::now());
        }
        let mut fetched = 0;
        for url in &self.urls {
            match self.fetch(url).await {
                Ok(held) => {
                    if let Some(dir) = &self.cache {
                        let keep = std::fs::create_dir_all(dir).and_then(|()| {
                            let tmp = dir.join(format!("{}.tmp", file_name(url)));
                            std::fs::write(&tmp, &held.bytes)?;
                            std::fs::rename(tmp, dir.join(file_name(url)))
                        });
                        if let Err(e) = keep {
                            tracing::warn!(url, error = %e, "revocation list not kept on disk");
                        }
                    }
                    if let Ok(mut l) = self.lists.write() {
                        l.insert(url.clone(), held);
                    }
                    drn_engine::metrics::global().inc(CRL_FETCHES, &[("outcome", "ok")], 1);
                    fetched += 1;
                }
                Err(e) => {
                    drn_engine::metrics::global().inc(CRL_FETCHES, &[("outcome", "failed")], 1);
                    tracing::warn!(url, error = %e, "revocation list not fetched");
                }
            }
        }
        fetched
    }

    async fn fetch(&self, url: &str) -> Result<Held, FetchError> {
        let resp = self.client.get(url).send().await?;
        if !resp.status().is_success() {
            return Err(FetchError::Status(resp.status()));
        }
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_CRL_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let bytes = resp.bytes().await?.to_vec();
        if bytes.len() > MAX_CRL_BYTES {
            return Err(FetchError::TooLarge);
        }
        let next_update = drn_docs::officer::crl_next_update(&bytes)
            .map_err(|e| FetchError::NotACrl(e.to_string()))?;
        Ok(Held { bytes, next_update })
    }
}

/// The cache file of a list: its address's hash (an address is not a file name).
fn file_name(url: &str) -> String {
    format!("{}.crl", hex::encode(&Sha256::digest(url.as_bytes())[..12]))
}

/// Fetches the feed's lists now and every [`REFRESH_EVERY`] while the server runs.
pub fn spawn_refresh(feed: std::sync::Arc<CrlFeed>) {
    if feed.is_empty() {
        return;
    }
    drn_engine::metrics::global().describe(
        CRL_FETCHES,
        "Fetches of officers' certificates' revocation lists by outcome (ok, failed).",
    );
    tokio::spawn(async move {
        loop {
            let n = feed.refresh().await;
            tracing::info!(fetched = n, of = feed.urls.len(), "revocation lists");
            tokio::time::sleep(REFRESH_EVERY).await;
        }
    });
}
