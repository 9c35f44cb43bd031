//! Anchors of the audit chain outside the database (issue 31 item 5), as Certificate
//! Transparency's signed tree heads: the server signs the chain's head (the last record's
//! number and hash) with the MVD's key of its PKI, at intervals and on demand, and writes
//! each signed head to a directory outside the database (`head-SEQ.json` and its detached
//! CMS signature `head-SEQ.json.p7s`), and optionally POSTs a copy to a configured
//! address. Whoever can write the database can recompute the chain, but not the heads
//! signed before: `drn audit verify --anchors DIR` ([`verify_with_anchors`]) fails when
//! the chain does not extend every one of them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use drn_engine::audit::Verification;
use serde::{Deserialize, Serialize};

use crate::AppState;

/// A signed head of the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedHead {
    /// The last record's number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When it was signed (RFC 3339).
    pub signed_at: String,
}

/// Why an anchor could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Sign(#[from] drn_docs::Error),
    #[error("{0}")]
    Engine(#[from] drn_engine::EngineError),
    #[error("{path}: {reason}")]
    Bad { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AnchorError + '_ {
    move |source| AnchorError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Signs the chain's head now and writes it into `dir` (made if missing), then sends a
/// copy to `copy_to` when set (a failure to send is logged: the directory holds it).
/// `None` when the chain is empty. A head already anchored is written again, unchanged.
pub async fn anchor_now(st: &AppState) -> Result<Option<SignedHead>, AnchorError> {
    let Some(dir) = st.config.audit_anchors.clone() else {
        return Ok(None);
    };
    let (seq, hash) = st.engine.audit_head().await?;
    if seq == 0 {
        return Ok(None);
    }
    let head = SignedHead {
        seq,
        hash,
        signed_at: st.engine.now().to_string(),
    };
    let json = serde_json::to_vec_pretty(&head).map_err(|e| AnchorError::Bad {
        path: dir.clone(),
        reason: e.to_string(),
    })?;
    let p7s = drn_docs::cms::sign_detached(&json, &[st.pki.authority(drn_docs::Authority::Mvd)])?;
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let name = format!("head-{seq:012}.json");
    // The signature first, the head last: a head file is always whole and signed.
    write_atomically(&dir.join(format!("{name}.p7s")), &p7s)?;
    write_atomically(&dir.join(&name), &json)?;
    tracing::info!(seq, dir = %dir.display(), "audit head anchored");
    if let Some(url) = &st.config.audit_anchor_url {
        let body = serde_json::json!({
            "head": head,
            "p7s": base64::engine::general_purpose::STANDARD.encode(&p7s),
        });
        let sent = reqwest::Client::new()
            .post(url)
            .timeout(Duration::from_secs(10))
            .json(&body)
            .send()
            .await
            .and_then(|r| r.error_for_status());
        if let Err(e) = sent {
            tracing::error!(url, error = %e, "the signed audit head could not be sent");
        }
    }
    Ok(Some(head))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AnchorError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Anchors the head every `every` while the server runs (and once at start).
pub fn spawn_periodic(st: AppState, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = anchor_now(&st).await {
                tracing::error!(error = %e, "the audit head could not be anchored");
            }
        }
    });
}

/// The signed heads in `dir`, oldest first, each checked against the CA certificate
/// (`ca`, PEM or DER): a head whose signature is not genuine is an error.
pub fn read_heads(dir: &Path, ca: &[u8]) -> Result<Vec<SignedHead>, AnchorError> {
    let mut heads = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let is_head = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("head-") && n.ends_with(".json"));
        if !is_head {
            continue;
        }
        let json = std::fs::read(&path).map_err(io(&path))?;
        let sig_path = PathBuf::from(format!("{}.p7s", path.display()));
        let p7s = std::fs::read(&sig_path).map_err(io(&sig_path))?;
        let v = drn_docs::verify_detached(&json, &p7s, ca)?;
        if !v.genuine {
            return Err(AnchorError::Bad {
                path,
                reason: format!(
                    "the signature is not genuine{}",
                    v.error.map(|e| format!(" ({e})")).unwrap_or_default()
                ),
            });
        }
        let head: SignedHead = serde_json::from_slice(&json).map_err(|e| AnchorError::Bad {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        heads.push(head);
    }
    heads.sort_by_key(|h| h.seq);
    Ok(heads)
}

/// The whole chain verified, then checked to extend every signed head in `dir`: the
/// first problem found, as [`Verification`] reports it (`broken_at` the record).
pub async fn verify_with_anchors(
    engine: &drn_engine::Engine,
    dir: &Path,
    ca: &[u8],
) -> Result<(Verification, usize), AnchorError> {
    let heads = read_heads(dir, ca)?;
    let mut v = engine.verify_audit().await?;
    if v.broken_at.is_none() {
        let pairs: Vec<(i64, String)> = heads.iter().map(|h| (h.seq, h.hash.clone())).collect();
        if let Some((at, problem)) = engine.check_audit_heads(&pairs).await? {
            v.broken_at = Some(at);
            v.problem = Some(problem);
        }
    }
    Ok((v, heads.len()))
}
