//! What the server keeps of the people and systems that sign in: staff credentials,
//! sessions, failed sign-ins (the lockout), citizens' portal accounts, one-time codes and
//! the sandbox SMS outbox, API clients of other state systems; and the few reads the
//! server needs beside them (readiness, the audit log). The server holds no SQL: each of
//! these is a named read or write here.
//!
//! Writes go through the writers as bookkeeping ([`Engine::write_bookkeeping`]): no audit
//! record, one transaction per call.

use drn_store::{Statement, Value};
use jiff::Timestamp;

use crate::audit::{self, AuditRecord, Verification};
use crate::error::EngineError;
use crate::Engine;

/// An API client of another state system, by its token's hash.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub name: String,
    /// The role's code (as stored).
    pub role: String,
    /// The unit's id (as stored).
    pub unit: String,
    /// The BIN its organisation's signing certificate carries (`OU=BIN…`), when the
    /// client signs under its own certificate (issue 33).
    pub bin: Option<drn_core::Bin>,
}

fn client(r: &drn_store::DbRow) -> Result<ApiClient, EngineError> {
    Ok(ApiClient {
        name: r.try_get(0)?,
        role: r.try_get(1)?,
        unit: r.try_get(2)?,
        bin: r
            .try_get::<Option<String>, _>(3)?
            .map(|b| drn_core::Bin::parse(&b))
            .transpose()
            .map_err(|e| EngineError::Corrupt(format!("api client's BIN: {e}")))?,
    })
}

/// A stored session (сессия), by the hash of its cookie's token.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// `staff` or `citizen`.
    pub kind: String,
    pub subject: String,
    pub role: String,
    pub unit: Option<String>,
    pub iin: Option<String>,
    pub csrf: String,
    /// Microseconds since the epoch.
    pub created_at: i64,
    /// Microseconds since the epoch.
    pub last_seen: i64,
}

/// A new session to store.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub role: &'a str,
    pub unit: Option<String>,
    pub iin: Option<String>,
    pub csrf: &'a str,
    pub at: Timestamp,
}

/// A staff member's credentials.
#[derive(Debug, Clone)]
pub struct StaffCredentials {
    pub password_hash: String,
    pub role: String,
    pub unit: String,
    pub active: bool,
}

/// A citizen's portal account.
#[derive(Debug, Clone)]
pub struct CitizenAccount {
    pub password_hash: String,
    pub phone: String,
}

/// A one-time code sent to a citizen's phone (the second factor).
#[derive(Debug, Clone)]
pub struct OtpChallenge {
    pub iin: String,
    pub code_hash: String,
    /// Microseconds since the epoch.
    pub expires_at: i64,
    pub attempts: i64,
}

/// A new one-time code, and the sandbox SMS gateway's message that carries it.
#[derive(Debug, Clone)]
pub struct NewOtp<'a> {
    pub id: &'a str,
    pub iin: &'a str,
    pub code_hash: &'a str,
    pub expires_at: Timestamp,
    pub phone: &'a str,
    pub text: &'a str,
    pub at: Timestamp,
    /// Codes the account may be sent within an hour (this one included).
    pub per_hour: i64,
}

/// A message in the sandbox SMS outbox.
#[derive(Debug, Clone)]
pub struct SmsRow {
    pub id: i64,
    pub phone: String,
    pub text: String,
    /// Microseconds since the epoch.
    pub at: i64,
}

/// The attempts count of a used one-time code: more than any code allows.
pub const SPENT_OTP: i64 = 1_000;

impl Engine {
    /// One bounded read on the read side, its first row.
    async fn first_row(
        &self,
        sql: &str,
        args: Vec<Value>,
    ) -> Result<Option<drn_store::DbRow>, EngineError> {
        Ok(self
            .db
            .rows(Statement::new(sql, args))
            .await?
            .into_iter()
            .next())
    }

    /// Bookkeeping statements in one transaction (see [`Engine::write_bookkeeping`]).
    async fn bookkeep(&self, writes: Vec<Statement>) -> Result<(), EngineError> {
        self.write_bookkeeping(writes).await.map(|_| ())
    }

    // ------------------------------------------------------------ API clients

    /// The API client whose bearer token hashes to `token_hash`.
    pub async fn api_client(&self, token_hash: &str) -> Result<Option<ApiClient>, EngineError> {
        self.api_client_where("token_hash", token_hash).await
    }

    /// The API client named `name`.
    pub async fn api_client_named(&self, name: &str) -> Result<Option<ApiClient>, EngineError> {
        self.api_client_where("name", name).await
    }

    /// The API client whose unique `column` (`token_hash` or `name`) holds `value`.
    async fn api_client_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<Option<ApiClient>, EngineError> {
        let Some(r) = self
            .first_row(
                &format!("SELECT name, role, unit_id, bin FROM api_clients WHERE {column} = $1"),
                vec![Value::from(value)],
            )
            .await?
        else {
            return Ok(None);
        };
        client(&r).map(Some)
    }

    /// Registers an API client by its token's hash; `bin`, when it signs under its
    /// organisation's certificate.
    pub async fn add_api_client(
        &self,
        token_hash: &str,
        name: &str,
        role: &str,
        unit: &str,
        bin: Option<&drn_core::Bin>,
    ) -> Result<(), EngineError> {
        let insert = Statement::new(
            "INSERT INTO api_clients (token_hash, name, role, unit_id, bin) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Value::from(token_hash),
                Value::from(name),
                Value::from(role),
                Value::from(unit),
                Value::from(bin.map(|b| b.to_string())),
            ],
        );
        let detail = serde_json::json!({
            "role": role,
            "unit": unit,
            "bin": bin.map(|b| b.to_string()),
        });
        self.record_made(
            insert,
            &crate::Actor::system(),
            "api_client_registered",
            &format!("client:{name}"),
            detail,
        )
        .await
        .map(|_| ())
    }

    // ------------------------------------------------------------ sessions

    /// The session whose cookie's token hashes to `id_hash`. Every request reads its
    /// session: through the read side's fast path.
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, EngineError> {
        let Some(r) = self
            .first_row(
                "SELECT kind, subject, role, unit_id, iin, csrf, created_at, last_seen FROM sessions WHERE id_hash = $1",
                vec![Value::from(id_hash)],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(SessionRow {
            kind: r.try_get(0)?,
            subject: r.try_get(1)?,
            role: r.try_get(2)?,
            unit: r.try_get(3)?,
            iin: r.try_get(4)?,
            csrf: r.try_get(5)?,
            created_at: r.try_get(6)?,
            last_seen: r.try_get(7)?,
        }))
    }

    /// Stores a new session.
    pub async fn create_session(&self, s: NewSession<'_>) -> Result<(), EngineError> {
        self.bookkeep(vec![Statement::new(
            "INSERT INTO sessions (id_hash, kind, subject, role, unit_id, iin, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                Value::from(s.id_hash),
                Value::from(s.kind),
                Value::from(s.subject),
                Value::from(s.role),
                Value::from(s.unit),
                Value::from(s.iin),
                Value::from(s.csrf),
                Value::from(s.at),
                Value::from(s.at),
            ],
        )])
        .await
    }

    /// Marks a session seen at `at` (its sliding expiry).
    pub async fn touch_session(&self, id_hash: &str, at: Timestamp) -> Result<(), EngineError> {
        self.bookkeep(vec![Statement::new(
            "UPDATE sessions SET last_seen = $1 WHERE id_hash = $2",
            vec![Value::from(at), Value::from(id_hash)],
        )])
        .await
    }

    /// Ends a session (sign-out, expiry).
    pub async fn end_session(&self, id_hash: &str) -> Result<(), EngineError> {
        self.bookkeep(vec![Statement::new(
            "DELETE FROM sessions WHERE id_hash = $1",
            vec![Value::from(id_hash)],
        )])
        .await
    }

    // ------------------------------------------------------------ failed sign-ins

    /// Until when the sign-in `key` (`staff:NAME`, `citizen:IIN`) is locked, as stored (it
    /// may be past).
    pub async fn locked_until(&self, key: &str) -> Result<Option<Timestamp>, EngineError> {
        let row = self
            .first_row(
                "SELECT locked_until FROM login_attempts WHERE key = $1",
                vec![Value::from(key)],
            )
            .await?;
        Ok(row
            .and_then(|r| r.try_get::<Option<i64>, _>(0).ok().flatten())
            .and_then(|us| Timestamp::from_microsecond(us).ok()))
    }

    /// Reserves one sign-in attempt of `key` (`staff:NAME`, `citizen:IIN`, `addr:IP`)
    /// before its password is checked (issue 31 item 1): `None` when reserved, else until
    /// when the key is locked. The reservation counts as a failure until the sign-in
    /// succeeds ([`Engine::clear_sign_in_failures`], [`Engine::release_sign_in_attempt`]);
    /// the reservation that makes `max_failures` locks the key until `until` at once, so
    /// no number of parallel attempts gets more than `max_failures` passwords checked.
    /// An expired lock starts the count again. The check and the count are one
    /// conditional UPDATE (its row locked on PostgreSQL, the one writer on SQLite).
    pub async fn reserve_sign_in_attempt(
        &self,
        key: &str,
        max_failures: i64,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Option<Timestamp>, EngineError> {
        let next = "CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failures + 1 END";
        let written = self
            .write_bookkeeping(vec![
                Statement::new(
                    "INSERT INTO login_attempts (key, failures, locked_until) VALUES ($1, 0, NULL) ON CONFLICT (key) DO NOTHING",
                    vec![Value::from(key)],
                ),
                Statement::new(
                    format!(
                        "UPDATE login_attempts SET failures = {next}, \
                        locked_until = CASE WHEN {next} >= $2 THEN $3 ELSE NULL END \
                        WHERE key = $1 AND (locked_until IS NULL OR locked_until <= $4)"
                    ),
                    vec![
                        Value::from(key),
                        Value::from(max_failures),
                        Value::from(until),
                        Value::from(now),
                    ],
                ),
            ])
            .await?;
        if written.get(1).copied().unwrap_or(0) > 0 {
            return Ok(None);
        }
        Ok(Some(self.locked_until(key).await?.unwrap_or(until)))
    }

    /// Gives back one reserved attempt of `key` (a sign-in that succeeded, for the keys
    /// its success does not clear: the source address).
    pub async fn release_sign_in_attempt(&self, key: &str) -> Result<(), EngineError> {
        self.bookkeep(vec![Statement::new(
            "UPDATE login_attempts SET failures = failures - 1 WHERE key = $1 AND failures > 0 AND locked_until IS NULL",
            vec![Value::from(key)],
        )])
        .await
    }

    /// Forgets the failed sign-ins of `key` (after a successful one).
    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<(), EngineError> {
        self.bookkeep(vec![Statement::new(
            "DELETE FROM login_attempts WHERE key = $1",
            vec![Value::from(key)],
        )])
        .await
    }

    // ------------------------------------------------------------ staff and citizens

    /// A staff member's credentials by username.
    pub async fn staff_credentials(
        &self,
        username: &str,
    ) -> Result<Option<StaffCredentials>, EngineError> {
        let Some(r) = self
            .first_row(
                "SELECT password_hash, role, unit_id, active FROM staff WHERE username = $1",
                vec![Value::from(username)],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(StaffCredentials {
            password_hash: r.try_get::<String, _>(0).unwrap_or_default(),
            active: r.try_get::<i64, _>(3).unwrap_or(0) == 1,
            role: r.try_get(1)?,
            unit: r.try_get(2)?,
        }))
    }

    /// A citizen's portal account by IIN.
    pub async fn citizen_account(&self, iin: &str) -> Result<Option<CitizenAccount>, EngineError> {
        let Some(r) = self
            .first_row(
                "SELECT password_hash, phone FROM citizen_accounts WHERE iin = $1",
                vec![Value::from(iin)],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(CitizenAccount {
            password_hash: r.try_get::<String, _>(0).unwrap_or_default(),
            phone: r.try_get(1)?,
        }))
    }

    /// Opens a citizen's portal account, or replaces its password hash and phone.
    pub async fn put_citizen_account(
        &self,
        iin: &str,
        password_hash: &str,
        phone: &str,
    ) -> Result<(), EngineError> {
        self.bookkeep(vec![Statement::new(
            "INSERT INTO citizen_accounts (iin, password_hash, phone) VALUES ($1, $2, $3) \
            ON CONFLICT (iin) DO UPDATE SET password_hash = excluded.password_hash, phone = excluded.phone",
            vec![Value::from(iin), Value::from(password_hash), Value::from(phone)],
        )])
        .await
    }

    // ------------------------------------------------------------ one-time codes

    /// Stores a one-time code and the sandbox SMS gateway's message that carries it (the
    /// outbox the demo shows), in one transaction, unless the account was sent
    /// `per_hour` codes within the hour before `at` (false then, nothing stored). A used
    /// code stays (spent, see [`Engine::end_otp_challenge`]) so that it is counted; codes
    /// older than an hour are removed here.
    pub async fn start_otp_challenge(&self, o: NewOtp<'_>) -> Result<bool, EngineError> {
        let hour = 3_600_000_000i64;
        // A code lives 5 minutes: one that expires after `at - 55 min` was sent within the
        // hour (a code's lifetime is the caller's; the window is counted by its end).
        let window = o.expires_at.as_microsecond() - hour;
        let written = self
            .write_bookkeeping(vec![
                Statement::new(
                    "DELETE FROM otp_challenges WHERE expires_at < $1",
                    vec![Value::Instant(Some(o.at.as_microsecond() - hour))],
                ),
                Statement::new(
                    "INSERT INTO otp_challenges (id, iin, code_hash, expires_at, attempts) \
                    SELECT $1, $2, $3, $4, 0 WHERE \
                    (SELECT COUNT(*) FROM otp_challenges WHERE iin = $5 AND expires_at > $6) < $7",
                    vec![
                        o.id.into(),
                        o.iin.into(),
                        o.code_hash.into(),
                        Value::from(o.expires_at),
                        o.iin.into(),
                        Value::Instant(Some(window)),
                        o.per_hour.into(),
                    ],
                ),
                Statement::new(
                    "INSERT INTO sms_outbox (phone, text, at) \
                    SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM otp_challenges WHERE id = $4)",
                    vec![
                        o.phone.into(),
                        o.text.into(),
                        Value::from(o.at),
                        o.id.into(),
                    ],
                ),
            ])
            .await?;
        Ok(written.get(1).copied().unwrap_or(0) > 0)
    }

    /// A one-time code's challenge by id.
    pub async fn otp_challenge(&self, id: &str) -> Result<Option<OtpChallenge>, EngineError> {
        let Some(r) = self
            .first_row(
                "SELECT iin, code_hash, expires_at, attempts FROM otp_challenges WHERE id = $1",
                vec![Value::from(id)],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(OtpChallenge {
            iin: r.try_get(0)?,
            code_hash: r.try_get(1)?,
            expires_at: r.try_get(2)?,
            attempts: r.try_get(3)?,
        }))
    }

    /// Counts a wrong attempt at a challenge.
    pub async fn count_otp_attempt(&self, id: &str) -> Result<(), EngineError> {
        self.bookkeep(vec![Statement::new(
            "UPDATE otp_challenges SET attempts = attempts + 1 WHERE id = $1",
            vec![id.into()],
        )])
        .await
    }

    /// Spends a challenge (used): it can never be used again, and it stays counted in
    /// the hour's codes of its account (see [`Engine::start_otp_challenge`]).
    pub async fn end_otp_challenge(&self, id: &str) -> Result<(), EngineError> {
        self.bookkeep(vec![Statement::new(
            "UPDATE otp_challenges SET attempts = $2, code_hash = '' WHERE id = $1",
            vec![id.into(), SPENT_OTP.into()],
        )])
        .await
    }

    /// The sandbox SMS outbox, newest first (the last 50).
    pub async fn sms_outbox(&self) -> Result<Vec<SmsRow>, EngineError> {
        let rows = self
            .db
            .rows(Statement::new(
                "SELECT id, phone, text, at FROM sms_outbox ORDER BY id DESC LIMIT 50",
                Vec::new(),
            ))
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(SmsRow {
                    id: r.try_get(0).ok()?,
                    phone: r.try_get(1).ok()?,
                    text: r.try_get(2).ok()?,
                    at: r.try_get(3).ok()?,
                })
            })
            .collect())
    }

    // ------------------------------------------------------------ health and the audit log

    /// Does the database answer a trivial read (readiness).
    pub async fn ping(&self) -> Result<(), EngineError> {
        drn_store::query("SELECT 1")
            .fetch_one(self.db.reader())
            .await?;
        Ok(())
    }

    /// Whether the storage failed, and how (see [`drn_store::Fault`]).
    pub fn storage_fault(&self) -> Option<String> {
        self.db.fault()
    }

    /// True when the database has no units yet (a fresh database).
    pub async fn is_empty(&self) -> Result<bool, EngineError> {
        Ok(self.db.is_empty().await?)
    }

    /// Appends one audit record outside a command (sign-in, sign-out), in its own
    /// transaction.
    pub async fn audit_event(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &serde_json::Value,
    ) -> Result<(), EngineError> {
        let mut tx = self.db.begin().await?;
        audit::append(&mut tx, self.now(), actor, action, subject, detail).await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }

    /// Audit records, newest first, optionally for one subject (see [`audit::list`]).
    pub async fn audit_log(
        &self,
        subject: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, EngineError> {
        audit::list(&self.db, subject, limit).await
    }

    /// The audit chain's head (see [`audit::head`]).
    pub async fn audit_head(&self) -> Result<(i64, String), EngineError> {
        audit::head(&self.db).await
    }

    /// Does the chain extend every signed head (see [`audit::check_heads`]).
    pub async fn check_audit_heads(
        &self,
        heads: &[(i64, String)],
    ) -> Result<Option<(i64, String)>, EngineError> {
        audit::check_heads(&self.db, heads).await
    }

    /// Verifies the whole audit chain (see [`audit::verify`]).
    pub async fn verify_audit(&self) -> Result<Verification, EngineError> {
        audit::verify(&self.db).await
    }

    /// The calendar's transfers kept in the database (see
    /// [`crate::calendar_admin::stored_transfers`]).
    pub async fn stored_transfers(
        &self,
    ) -> Result<Vec<drn_core::calendar::TransferDef>, EngineError> {
        crate::calendar_admin::stored_transfers(&self.db).await
    }
}
