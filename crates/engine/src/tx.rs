//! A command's transaction context ([`Ctx`]): the connection of the writer's batch, the
//! command's buffered writes and its savepoint. A leaf of the engine: the writer makes one
//! per batch, and the commands, the services, the rows and the audit write through it.

use drn_store::lite::LiteConn;
use drn_store::{run_many, Backend, Conn, DbRow, Statement, Value};

use crate::error::EngineError;
use crate::model::ApplicationId;
/// A savepoint's place: queued (not yet sent; its index in `pending`) or open on the
/// connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sp {
    None,
    Queued(usize),
    Open,
    /// A command run without a savepoint: its writes start at `mark` in `pending`;
    /// `sent` once any of them reached the database (it can then not be undone alone).
    Unguarded {
        mark: usize,
        sent: bool,
    },
}

/// A write whose effect is checked: it must change exactly one row, or the command fails.
#[derive(Debug, Clone)]
pub(crate) enum Guard {
    /// The application's row at the expected revision (optimistic concurrency).
    Application { id: ApplicationId, expected: i64 },
}

/// A command's view of the batch's transaction: reads go to the connection at once (with
/// the writes buffered before them), writes are buffered and sent together.
pub(crate) struct Ctx<'a> {
    c: Link<'a>,
    backend: Backend,
    pending: Vec<(Statement, Option<Guard>)>,
    sp: Sp,
    /// Set when a call that carried savepoint statements failed, or a rollback to the
    /// savepoint did: the transaction's state is then unknown and the batch must stop.
    broken: bool,
    /// Each command in a savepoint of its own (false: see [`Engine::run_batch`]).
    pub(crate) savepoints: bool,
    /// Set when a command without a savepoint failed after its writes were sent.
    pub(crate) needs_savepoints: bool,
    /// The batch holds [`drn_store::COUNTERS_LOCK`] (PostgreSQL).
    counters_locked: bool,
}

/// The connection a [`Ctx`] writes through.
pub(crate) enum Link<'a> {
    Sqlx(&'a mut Conn),
    Lite(&'a mut LiteConn),
}

const SAVEPOINT: &str = "SAVEPOINT drn_cmd";
const RELEASE: &str = "RELEASE SAVEPOINT drn_cmd";

impl<'a> Ctx<'a> {
    pub(crate) fn new(c: Link<'a>, backend: Backend) -> Ctx<'a> {
        Ctx {
            c,
            backend,
            pending: Vec::new(),
            sp: Sp::None,
            savepoints: true,
            needs_savepoints: false,
            counters_locked: false,
            broken: false,
        }
    }

    /// The database the batch writes to.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// Buffers a write.
    pub(crate) fn push(&mut self, sql: impl Into<String>, args: Vec<Value>) {
        self.pending.push((Statement::new(sql, args), None));
    }

    /// Buffers a write that must change exactly one row.
    pub(crate) fn push_guarded(&mut self, sql: impl Into<String>, args: Vec<Value>, g: Guard) {
        self.pending.push((Statement::new(sql, args), Some(g)));
    }

    /// Sends the buffered writes.
    pub(crate) async fn flush(&mut self) -> Result<(), EngineError> {
        self.run(None).await.map(|_| ())
    }

    /// A read, sent together with the writes buffered before it.
    pub(crate) async fn fetch_optional(
        &mut self,
        sql: &str,
        args: Vec<Value>,
    ) -> Result<Option<DbRow>, EngineError> {
        Ok(self
            .run(Some(Statement::new(sql, args)))
            .await?
            .into_iter()
            .next())
    }

    /// Sends the buffered writes and `stmt`; returns the rows `stmt` changed.
    pub(crate) async fn execute_counted(&mut self, stmt: Statement) -> Result<u64, EngineError> {
        self.pending.push((stmt, None));
        let n = self.pending.len();
        let done = self.send(None).await?;
        Ok(done.changed.get(n - 1).copied().unwrap_or(0))
    }

    /// A read of many rows, sent together with the writes buffered before it.
    pub(crate) async fn fetch_all(
        &mut self,
        sql: &str,
        args: Vec<Value>,
    ) -> Result<Vec<DbRow>, EngineError> {
        self.run(Some(Statement::new(sql, args))).await
    }

    /// Sends the buffered writes when there are many (a command that writes for each of
    /// thousands of applications keeps its calls few but bounded in size).
    pub(crate) async fn flush_if_many(&mut self) -> Result<(), EngineError> {
        if self.pending.len() >= 1024 {
            self.flush().await?;
        }
        Ok(())
    }

    async fn run(&mut self, read: Option<Statement>) -> Result<Vec<DbRow>, EngineError> {
        Ok(self.send(read).await?.rows)
    }

    async fn send(&mut self, read: Option<Statement>) -> Result<drn_store::RunResult, EngineError> {
        if self.pending.is_empty() && read.is_none() {
            return Ok(Default::default());
        }
        let pending = std::mem::take(&mut self.pending);
        let carries_sp = pending
            .iter()
            .any(|(s, _)| s.sql == SAVEPOINT || s.sql == RELEASE);
        match &mut self.sp {
            Sp::Queued(_) => self.sp = Sp::Open,
            Sp::Unguarded { mark, sent } => {
                // Writes from before the command may go first; its own start at `mark`,
                // and once `pending` is sent, its later writes start at 0.
                if pending.len() > *mark {
                    *sent = true;
                }
                *mark = 0;
            }
            _ => {}
        }
        let mut stmts = Vec::with_capacity(pending.len() + 1);
        let mut guards = Vec::with_capacity(pending.len());
        for (s, g) in pending {
            stmts.push(s);
            guards.push(g);
        }
        stmts.extend(read);
        let done = match self.call(&stmts).await {
            Ok(d) => d,
            Err(e) => {
                if carries_sp {
                    self.broken = true;
                }
                return Err(e);
            }
        };
        for (i, g) in guards.iter().enumerate() {
            let Some(Guard::Application { id, expected }) = g else {
                continue;
            };
            if done.changed.get(i).copied() != Some(1) {
                let read = Statement::new(
                    "SELECT revision FROM applications WHERE id = $1",
                    vec![Value::from(id)],
                );
                let current = self
                    .call(std::slice::from_ref(&read))
                    .await?
                    .rows
                    .first()
                    .map(|r| r.try_get::<i64, _>(0))
                    .transpose()?
                    .unwrap_or(-1);
                return Err(EngineError::Conflict {
                    what: "application",
                    current,
                    expected: *expected,
                });
            }
        }
        Ok(done)
    }

    /// One call to the connection.
    async fn call(&mut self, stmts: &[Statement]) -> Result<drn_store::RunResult, EngineError> {
        Ok(match &mut self.c {
            Link::Sqlx(c) => run_many(&mut **c, self.backend, stmts).await?,
            Link::Lite(c) => c.run_many(stmts)?,
        })
    }

    /// Takes the next value of a named counter (see [`drn_store::next_counter`]).
    pub(crate) async fn next_counter(&mut self, name: &str) -> Result<i64, EngineError> {
        self.take_counter(name, 1).await
    }

    /// Takes the next `n` values of a named counter at once; returns the last of them.
    /// The row's update lock orders this transaction after others that took values of
    /// the same counter, until it commits (PostgreSQL).
    pub(crate) async fn take_counter(&mut self, name: &str, n: i64) -> Result<i64, EngineError> {
        Ok(self.take_counter_then(name, n, None).await?.0)
    }

    /// [`Ctx::take_counter`], then the read `then` in the same call (its statements see the
    /// counter taken, and on PostgreSQL everything committed before the counters' lock was
    /// granted: each statement of a simple query takes its own snapshot). Returns the last
    /// value taken and `then`'s rows. One round trip where there were up to three (the
    /// lock, the counter, the read), all while the batch holds the lock to its commit.
    pub(crate) async fn take_counter_then(
        &mut self,
        name: &str,
        n: i64,
        then: Option<Statement>,
    ) -> Result<(i64, Vec<DbRow>), EngineError> {
        let locking = self.backend == Backend::Postgres && !self.counters_locked;
        if locking {
            // Batches take counters' rows in the order of their commands and hold them to
            // commit, so a batch takes every counter under the one lock that other
            // transactions take theirs under too (see `drn_store::COUNTERS_LOCK`), until
            // it commits; the batches' other work still runs side by side.
            let lock = drn_store::lock_counters();
            self.push(lock.sql, lock.args);
        }
        self.push(
            "UPDATE counters SET value = value + $1 WHERE name = $2 RETURNING value AS drn_counter",
            vec![Value::from(n), Value::from(name)],
        );
        let rows = match then {
            Some(read) => self.run(Some(read)).await?,
            None => self.run(None).await?,
        };
        if locking {
            self.counters_locked = true;
        }
        let mut last = None;
        let mut read = Vec::new();
        for r in rows {
            if r.has("drn_counter") {
                last = Some(r.try_get::<i64, _>("drn_counter")?);
            } else if !r.has(drn_store::COUNTERS_LOCK_COLUMN) {
                read.push(r);
            }
        }
        match last {
            Some(v) => Ok((v, read)),
            None => {
                self.push(
                    "INSERT INTO counters (name, value) VALUES ($1, $2)",
                    vec![Value::from(name), Value::from(n)],
                );
                Ok((n, read))
            }
        }
    }

    /// Starts a command: its savepoint goes with its first call to the database.
    pub(crate) fn begin_command(&mut self) {
        if !self.savepoints {
            self.sp = Sp::Unguarded {
                mark: self.pending.len(),
                sent: false,
            };
            return;
        }
        self.sp = Sp::Queued(self.pending.len());
        self.push(SAVEPOINT, Vec::new());
    }

    /// Ends a command whose writes were all sent and checked: it is kept.
    pub(crate) fn keep_command(&mut self) {
        match self.sp {
            Sp::Open => self.push(RELEASE, Vec::new()),
            // It never reached the database.
            Sp::Queued(mark) => self.pending.truncate(mark),
            Sp::None | Sp::Unguarded { .. } => {}
        }
        self.sp = Sp::None;
    }

    /// Undoes a failed command. `Err` when the transaction cannot go on.
    pub(crate) async fn undo_command(&mut self) -> Result<(), EngineError> {
        if self.broken {
            return Err(EngineError::Corrupt(
                "the batch's transaction failed while it set a savepoint".into(),
            ));
        }
        match self.sp {
            Sp::Queued(mark) | Sp::Unguarded { mark, sent: false } => self.pending.truncate(mark),
            Sp::Unguarded { sent: true, .. } => {
                // Its writes are in the batch's transaction: the batch is run again, each
                // command with a savepoint.
                self.needs_savepoints = true;
                self.sp = Sp::None;
                return Err(EngineError::Corrupt(
                    "a command failed after its writes were sent; the batch runs again with savepoints".into(),
                ));
            }
            Sp::Open => {
                self.pending.clear();
                let undo = Statement::new("ROLLBACK TO SAVEPOINT drn_cmd", Vec::new());
                let r = self.call(std::slice::from_ref(&undo)).await;
                if let Err(e) = r {
                    self.broken = true;
                    return Err(e);
                }
                self.push(RELEASE, Vec::new());
            }
            Sp::None => {}
        }
        self.sp = Sp::None;
        Ok(())
    }
}
