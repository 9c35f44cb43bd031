//! The audit log: every command and every read of a person's data appends a record that
//! carries the hash of the previous one, so a changed, deleted or reordered record breaks
//! the chain.

use drn_store::{next_counter, Conn, Db};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::EngineError;

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A record's hash: of its fields, length-prefixed, and the previous record's hash. Public
/// for tools that check (or tests that rewrite) the chain.
pub fn hash_of(
    seq: i64,
    at_us: i64,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    prev: &str,
) -> String {
    let mut h = Sha256::new();
    // Length-prefixed fields: no two different records share an encoding.
    for part in [
        seq.to_string().as_str(),
        at_us.to_string().as_str(),
        actor,
        action,
        subject,
        detail,
        prev,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends a record inside the caller's transaction. The counter row's lock orders
/// concurrent appenders on PostgreSQL; the last record's hash is read after taking it.
pub async fn append(
    tx: &mut Conn,
    at: Timestamp,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> Result<i64, EngineError> {
    let seq = next_counter(tx, "audit").await?;
    let prev: String = if seq == 1 {
        GENESIS.to_string()
    } else {
        sqlx_scalar(tx, seq - 1).await?
    };
    let detail = detail.to_string();
    let at_us = at.as_microsecond();
    let hash = hash_of(seq, at_us, actor, action, subject, &detail, &prev);
    drn_store::query(
        "INSERT INTO audit (seq, at, actor, action, subject, detail_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(detail)
    .bind(prev)
    .bind(hash)
    .execute(&mut *tx)
    .await?;
    Ok(seq)
}

/// An audit record to append.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// The detail, as JSON text.
    pub detail: String,
}

/// Audit rows per INSERT statement in `append_all` (8 parameters each).
const ROWS_PER_INSERT: usize = 64;

/// Appends records in order, inside a writer's batch: takes `entries.len()` numbers of the
/// audit counter at once (its row lock orders this batch after other appenders on
/// PostgreSQL until the batch commits), reads the head's hash under it and inserts the
/// records with multi-row statements.
pub(crate) async fn append_all(
    ctx: &mut crate::tx::Ctx<'_>,
    entries: &[Entry],
) -> Result<(), EngineError> {
    use drn_store::{Statement, Value};
    let n = entries.len() as i64;
    // The head's hash is read in the same call as the numbers are taken (see
    // `Ctx::take_counter_then`): the record before the first number taken.
    let head = Statement::new(
        "SELECT hash AS drn_head FROM audit WHERE seq = (SELECT value FROM counters WHERE name = $1) - $2",
        vec![Value::from("audit"), Value::from(n)],
    );
    let (last, head) = ctx.take_counter_then("audit", n, Some(head)).await?;
    let first = last - n + 1;
    let mut prev = if first == 1 {
        GENESIS.to_string()
    } else {
        match head.iter().find(|r| r.has("drn_head")) {
            Some(r) => r.try_get::<String, _>("drn_head")?,
            None => return Err(missing(first - 1)),
        }
    };
    for (chunk_no, chunk) in entries.chunks(ROWS_PER_INSERT).enumerate() {
        let mut sql = format!(
            "INSERT {}INTO audit (seq, at, actor, action, subject, detail_json, prev_hash, hash) VALUES ",
            ctx.backend().or_fail()
        );
        let mut args = Vec::with_capacity(chunk.len() * 8);
        for (i, e) in chunk.iter().enumerate() {
            let seq = first + (chunk_no * ROWS_PER_INSERT + i) as i64;
            let at_us = e.at.as_microsecond();
            let hash = hash_of(
                seq, at_us, &e.actor, &e.action, &e.subject, &e.detail, &prev,
            );
            if i > 0 {
                sql.push_str(", ");
            }
            let b = i * 8;
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            ));
            args.extend([
                Value::from(seq),
                Value::from(e.at),
                Value::from(e.actor.as_str()),
                Value::from(e.action.as_str()),
                Value::from(e.subject.as_str()),
                Value::from(e.detail.as_str()),
                Value::from(std::mem::replace(&mut prev, hash.clone())),
                Value::from(hash),
            ]);
        }
        ctx.push(sql, args);
    }
    ctx.flush().await
}

async fn sqlx_scalar(tx: &mut Conn, seq: i64) -> Result<String, EngineError> {
    let row = drn_store::query("SELECT hash FROM audit WHERE seq = $1")
        .bind(seq)
        .fetch_optional(&mut *tx)
        .await?;
    match row {
        Some(r) => Ok(r.try_get::<String, _>(0)?),
        None => Err(missing(seq)),
    }
}

fn missing(seq: i64) -> EngineError {
    EngineError::Corrupt(format!("audit record {seq} is missing"))
}

/// The result of verifying the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub records: i64,
    /// The first broken link, with what is wrong; `None` when the chain is whole.
    pub broken_at: Option<i64>,
    pub problem: Option<String>,
}

/// Walks the whole chain in order of `seq`, in pages.
pub async fn verify(db: &Db) -> Result<Verification, EngineError> {
    let expected_last: i64 = drn_store::query("SELECT value FROM counters WHERE name = 'audit'")
        .fetch_optional(db.reader())
        .await?
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?
        .unwrap_or(0);
    let mut prev_hash = GENESIS.to_string();
    let mut expect_seq = 1i64;
    let broken = |at: i64, p: String, n: i64| Verification {
        records: n,
        broken_at: Some(at),
        problem: Some(p),
    };
    loop {
        let rows = drn_store::query(
            "SELECT seq, at, actor, action, subject, detail_json, prev_hash, hash FROM audit WHERE seq >= $1 ORDER BY seq LIMIT 5000",
        )
        .bind(expect_seq)
        .fetch_all(db.reader())
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in rows {
            let seq: i64 = r.try_get(0)?;
            let at: i64 = r.try_get(1)?;
            let actor: String = r.try_get(2)?;
            let action: String = r.try_get(3)?;
            let subject: String = r.try_get(4)?;
            let detail: String = r.try_get(5)?;
            let prev: String = r.try_get(6)?;
            let hash: String = r.try_get(7)?;
            if seq != expect_seq {
                return Ok(broken(
                    expect_seq,
                    format!("record {expect_seq} is missing (next is {seq})"),
                    expect_seq - 1,
                ));
            }
            if prev != prev_hash {
                return Ok(broken(
                    seq,
                    "its previous-hash does not match the record before it".into(),
                    seq - 1,
                ));
            }
            if hash_of(seq, at, &actor, &action, &subject, &detail, &prev) != hash {
                return Ok(broken(
                    seq,
                    "its content does not match its hash (changed)".into(),
                    seq - 1,
                ));
            }
            prev_hash = hash;
            expect_seq += 1;
        }
    }
    let records = expect_seq - 1;
    if records != expected_last {
        return Ok(broken(
            records + 1,
            format!("the log ends at {records} but {expected_last} records were written (records removed from the end)"),
            records,
        ));
    }
    Ok(Verification {
        records,
        broken_at: None,
        problem: None,
    })
}

/// Reads audit records, newest first, optionally for one subject.
pub async fn list(
    db: &Db,
    subject: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRecord>, EngineError> {
    let rows = match subject {
        Some(s) => drn_store::query(
            "SELECT seq, at, actor, action, subject, detail_json, prev_hash, hash FROM audit WHERE subject = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(s.to_string())
        .bind(limit)
        .fetch_all(db.reader())
        .await?,
        None => drn_store::query(
            "SELECT seq, at, actor, action, subject, detail_json, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(db.reader())
        .await?,
    };
    rows.into_iter()
        .map(|r| {
            Ok(AuditRecord {
                seq: r.try_get(0)?,
                at: Timestamp::from_microsecond(r.try_get(1)?)
                    .map_err(|e| EngineError::Corrupt(e.to_string()))?,
                actor: r.try_get(2)?,
                action: r.try_get(3)?,
                subject: r.try_get(4)?,
                detail: r.try_get(5)?,
                prev_hash: r.try_get(6)?,
                hash: r.try_get(7)?,
            })
        })
        .collect()
}

/// An audit record's fields, for a command.
pub(crate) fn entry(
    at: Timestamp,
    actor: &str,
    action: String,
    subject: String,
    detail: &serde_json::Value,
) -> Entry {
    Entry {
        at,
        actor: actor.to_string(),
        action,
        subject,
        detail: detail.to_string(),
    }
}

/// The head of the chain: the last record's number and hash (`(0, GENESIS)` when empty).
/// What a signed head anchors outside the database (see `drn_server::anchor`).
pub async fn head(db: &Db) -> Result<(i64, String), EngineError> {
    let row = drn_store::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(db.reader())
        .await?;
    Ok(match row {
        Some(r) => (r.try_get(0)?, r.try_get(1)?),
        None => (0, GENESIS.to_string()),
    })
}

/// Checks that the chain extends each signed head `(seq, hash)` kept outside the
/// database (issue 31 item 5): record `seq` is there with that hash. With [`verify`]
/// (every record links to the one before) this finds a chain rewritten from some record
/// on, every later hash recomputed, and records dropped from the end with the counter
/// lowered: neither can keep the hash of a head signed before. The first head the chain
/// does not extend, with what is wrong; `None` when it extends them all.
pub async fn check_heads(
    db: &Db,
    heads: &[(i64, String)],
) -> Result<Option<(i64, String)>, EngineError> {
    for (seq, hash) in heads {
        let row = drn_store::query("SELECT hash FROM audit WHERE seq = $1")
            .bind(*seq)
            .fetch_optional(db.reader())
            .await?;
        match row {
            None => {
                return Ok(Some((
                    *seq,
                    format!("record {seq} of a signed head is missing (the log was cut back)"),
                )))
            }
            Some(r) if r.try_get::<String, _>(0)? != *hash => {
                return Ok(Some((
                    *seq,
                    format!("record {seq} differs from its signed head (the log was rewritten)"),
                )))
            }
            Some(_) => {}
        }
    }
    Ok(None)
}
