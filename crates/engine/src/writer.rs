//! Group commit: every write of the engine's commands and audited reads goes through a
//! queue to writer tasks, each of which takes what is queued and runs it as one
//! transaction:
//!
//! * each command runs inside its own `SAVEPOINT`; a command that fails is rolled back to
//!   it (so it changes nothing) and, when it was refused, its `denied:` audit record is
//!   written in the same batch;
//! * the audit records of the batch are appended at its end, in the order of the batch:
//!   one counter update, one read of the chain's head and multi-row inserts;
//! * the transaction commits once (one fsync for the batch, `synchronous=FULL` as before),
//!   and only then is any caller answered: an acknowledged command is on disk.
//!
//! If the batch fails as a whole (the audit append or `COMMIT` fails), nothing of it is
//! kept, and each of its jobs is run again alone, so that one job's trouble is not every
//! job's error. Not after a storage fault (SQLite, see [`drn_store::Fault`]): from then on
//! every job, the failed batch's too, is refused with [`EngineError::StorageFault`].
//!
//! Why this shape. A durable commit costs an fsync, and every statement on SQLite costs a
//! hop to sqlx's worker thread; per command there were about a dozen of those and one
//! commit. Batching shares the commit, and [`Ctx`] buffers a command's writes and sends
//! them, with the savepoint statements, in as few calls as it can (on SQLite one call for
//! several statements, see [`drn_store::run_many`]). A hot command (complete a step,
//! return) is two calls: savepoint + read, then its writes (units come from a cache).
//!
//! SQLite has one write connection, so one writer task. PostgreSQL has several server
//! processes and a pool: a few writer tasks there, each with its own batch on its own
//! connection. The audit chain stays one chain on both: a batch takes the audit counter's
//! row lock only at its end (the same lock `audit::append` takes), reads the head under
//! it and commits right after, so batches and other appenders are ordered by that lock.

use std::sync::Arc;

use drn_store::lite::LiteConn;
use drn_store::{Backend, Statement};
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::audit::{self, Entry};
use crate::error::EngineError;
use crate::model::*;
use crate::model::{Command, Outcome};
use crate::tx::{Ctx, Link};
use crate::Engine;

/// What a writer does for a caller.
pub(crate) enum Work {
    Command {
        actor: Actor,
        cmd: Command,
        key: Option<String>,
    },
    /// An audited read: only its audit record is written.
    Audit {
        actor: String,
        action: String,
        subject: String,
        detail: serde_json::Value,
    },
    /// A row made outside a command (a signed document): an insert that may find its row
    /// already there (`ON CONFLICT DO NOTHING`), and the audit record written only when it
    /// did not. Answers [`Reply::Recorded`].
    Record { insert: Statement, entry: Entry },
    /// Writes of the server's own bookkeeping (sessions, sign-in failures, one-time
    /// codes): its statements, all or none, without an audit record of their own (the
    /// caller audits the action they serve). Answers [`Reply::Written`].
    Bookkeeping { writes: Vec<Statement> },
}

/// A writer's answer to one job.
pub(crate) enum Reply {
    Outcome(Box<Outcome>),
    /// An audited read's record was written.
    Audited,
    /// A [`Work::Record`]: whether its row was inserted (false: it was there).
    Recorded(bool),
    /// A [`Work::Bookkeeping`]: the rows each statement changed.
    Written(Vec<u64>),
}

type Answer = Result<Reply, EngineError>;

pub(crate) struct Job {
    work: Work,
    reply: oneshot::Sender<Answer>,
}

/// The queue to the writer tasks.
pub(crate) type Queue = mpsc::Sender<Job>;

/// Jobs waiting in the queue at most (callers wait to enqueue beyond it).
const QUEUE: usize = 4096;

/// Jobs per batch at most. On PostgreSQL each command's savepoint is a subtransaction and
/// a backend caches 64 of them, so batches stay below that there.
fn max_batch(b: Backend) -> usize {
    match b {
        Backend::Sqlite => 256,
        Backend::Postgres => 48,
    }
}

fn writers(b: Backend) -> usize {
    match b {
        Backend::Sqlite => 1,
        Backend::Postgres => 4,
    }
}

fn stopped() -> EngineError {
    EngineError::Store(drn_store::StoreError::Db(
        drn_store::SqlxError::WorkerCrashed,
    ))
}

impl Engine {
    /// Runs `work` through a writer, starting the writers on first use (they live on the
    /// tokio runtime of that first call, and end when the last clone of the engine is
    /// dropped).
    pub(crate) async fn submit(&self, work: Work) -> Answer {
        let queue = match self.writer.get() {
            Some(q) => q.clone(),
            None => {
                let rt = tokio::runtime::Handle::try_current().map_err(|_| stopped())?;
                self.writer.get_or_init(|| self.start_writers(&rt)).clone()
            }
        };
        let command = match &work {
            Work::Command { cmd, .. } => Some(cmd.name()),
            Work::Audit { .. } | Work::Record { .. } | Work::Bookkeeping { .. } => None,
        };
        let started = std::time::Instant::now();
        let (reply, answer) = oneshot::channel();
        queue
            .send(Job { work, reply })
            .await
            .map_err(|_| stopped())?;
        let answer = answer.await.map_err(|_| stopped())?;
        if let Some(name) = command {
            crate::metrics::command(name, answer.as_ref().map(|_| ()), started.elapsed());
        }
        answer
    }

    fn start_writers(&self, rt: &tokio::runtime::Handle) -> Queue {
        let (tx, rx) = mpsc::channel(QUEUE);
        // The writers' engine has no queue of its own: it must not keep the queue open,
        // or the writers would never end.
        let engine = Engine {
            writer: Default::default(),
            ..self.clone()
        };
        if self.db.backend == Backend::Sqlite {
            // One writer, on a thread of its own, calling SQLite directly.
            let spawned = std::thread::Builder::new()
                .name("drn-writer".into())
                .spawn(move || lite_writer(engine, rx));
            if let Err(e) = spawned {
                // The queue's receiver is gone with the closure: callers get `stopped`.
                tracing::error!(error = %e, "could not start the writer thread");
            }
            return tx;
        }
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers(self.db.backend) {
            rt.spawn(writer_loop(engine.clone(), rx.clone()));
        }
        tx
    }

    /// Runs a batch and answers its jobs, and records it in the writer's metrics.
    async fn run_jobs(&self, conn: &mut WriterConn, jobs: Vec<Job>) {
        let (started, n) = (std::time::Instant::now(), jobs.len());
        self.answer_jobs(conn, jobs).await;
        crate::metrics::writer_batch(n, started.elapsed());
    }

    /// Runs a batch and answers its jobs; when the batch fails as a whole, runs each job
    /// alone.
    async fn answer_jobs(&self, conn: &mut WriterConn, jobs: Vec<Job>) {
        if let Some(reason) = self.db.fault() {
            return refuse_all(jobs, &reason);
        }
        let works: Vec<&Work> = jobs.iter().map(|j| &j.work).collect();
        let result = self.run_batch(conn, &works).await;
        if let (Err(_), Some(reason)) = (&result, self.db.fault()) {
            // Rolled back; run alone, each job would only meet the fault again.
            return refuse_all(jobs, &reason);
        }
        match result {
            Ok(answers) => {
                let mut again = Vec::new();
                for (job, answer) in jobs.into_iter().zip(answers) {
                    match answer {
                        Err(e) if is_transient(&e) => again.push(job),
                        a => {
                            let _ = job.reply.send(a);
                        }
                    }
                }
                // A deadlock or serialization failure (PostgreSQL: another batch held
                // the rows): run those again, alone, now that this batch has committed.
                for job in again {
                    self.run_alone(conn, job).await;
                }
            }
            Err((e, _)) if jobs.len() > 1 => {
                tracing::warn!(error = %e, jobs = jobs.len(), "batch failed; running its jobs one by one");
                for job in jobs {
                    self.run_alone(conn, job).await;
                }
            }
            Err((e, partial)) => {
                if let Some(job) = jobs.into_iter().next() {
                    let _ = job.reply.send(Err(lone_failure(e, partial)));
                }
            }
        }
    }

    async fn run_alone(&self, conn: &mut WriterConn, job: Job) {
        let mut last = None;
        for _ in 0..3 {
            match self.run_batch(conn, &[&job.work]).await {
                Ok(mut a) => match a.pop() {
                    Some(Err(e)) if is_transient(&e) => last = Some(Err(e)),
                    Some(a) => {
                        let _ = job.reply.send(a);
                        return;
                    }
                    None => last = Some(Err(stopped())),
                },
                Err((e, partial)) => {
                    let e = match self.db.fault() {
                        Some(reason) => EngineError::StorageFault { reason },
                        None => lone_failure(e, partial),
                    };
                    let _ = job.reply.send(Err(e));
                    return;
                }
            }
        }
        let _ = job.reply.send(last.unwrap_or_else(|| Err(stopped())));
    }

    /// One transaction for the batch. `Err` when it failed as a whole (nothing kept), with
    /// the answers the jobs had before it failed.
    async fn run_batch(
        &self,
        conn: &mut WriterConn,
        works: &[&Work],
    ) -> Result<Vec<Answer>, (EngineError, Vec<Answer>)> {
        match conn {
            WriterConn::Pool => {
                let mut tx = match self.db.begin().await {
                    Ok(tx) => tx,
                    Err(e) => return Err((e.into(), Vec::new())),
                };
                let mut ctx = Ctx::new(Link::Sqlx(&mut tx), self.db.backend);
                let answers = self.batch_body(&mut ctx, works).await?;
                drop(ctx);
                // On an error the transaction is dropped: rolled back.
                match tx.commit().await {
                    Ok(()) => Ok(answers),
                    Err(e) => Err((drn_store::StoreError::from(e).into(), answers)),
                }
            }
            WriterConn::Lite(c) => {
                // First without a savepoint per command: on SQLite a savepoint copies every
                // page a command changes into the sub-journal (a temporary file), a fifth
                // of the writer's time in the month simulation. A command that fails before
                // its writes reach the database (validation, the usual case) is undone by
                // dropping its buffered writes; one that fails after them fails the batch,
                // which is rolled back and run again with savepoints, as before.
                let mut answers = None;
                for savepoints in [false, true] {
                    if let Err(e) = c.begin() {
                        return Err((e.into(), Vec::new()));
                    }
                    let mut ctx = Ctx::new(Link::Lite(&mut *c), Backend::Sqlite);
                    ctx.savepoints = savepoints;
                    let body = self.batch_body(&mut ctx, works).await;
                    let again = ctx.needs_savepoints;
                    drop(ctx);
                    match body {
                        Ok(a) => {
                            answers = Some(a);
                            break;
                        }
                        Err(_) if again && !savepoints => {
                            tracing::debug!("a command failed after its writes; the batch runs again with savepoints");
                            c.rollback();
                        }
                        Err(e) => {
                            c.rollback();
                            return Err(e);
                        }
                    }
                }
                let Some(answers) = answers else {
                    return Err((stopped(), Vec::new()));
                };
                match c.commit() {
                    Ok(()) => Ok(answers),
                    Err(e) => {
                        c.rollback();
                        Err((e.into(), answers))
                    }
                }
            }
        }
    }

    /// The batch's jobs and audit records, inside its transaction.
    async fn batch_body(
        &self,
        ctx: &mut Ctx<'_>,
        works: &[&Work],
    ) -> Result<Vec<Answer>, (EngineError, Vec<Answer>)> {
        let mut answers = Vec::with_capacity(works.len());
        let mut entries = Vec::new();
        for w in works {
            let now = self.now();
            match w {
                Work::Audit {
                    actor,
                    action,
                    subject,
                    detail,
                } => {
                    entries.push(Entry {
                        at: now,
                        actor: actor.clone(),
                        action: action.clone(),
                        subject: subject.clone(),
                        detail: detail.to_string(),
                    });
                    answers.push(Ok(Reply::Audited));
                }
                Work::Record { insert, entry } => {
                    // One statement, no savepoint: on conflict it changes nothing, and any
                    // other failure fails the batch (its jobs are then run alone).
                    let inserted = match ctx.execute_counted(insert.clone()).await {
                        Ok(n) => n == 1,
                        Err(e) => return Err((e, answers)),
                    };
                    if inserted {
                        entries.push(Entry {
                            at: now,
                            ..entry.clone()
                        });
                    }
                    answers.push(Ok(Reply::Recorded(inserted)));
                }
                Work::Bookkeeping { writes } => {
                    // No savepoint: a failure fails the batch, and its jobs then run
                    // alone, each in a transaction of its own.
                    let mut counts = Vec::with_capacity(writes.len());
                    for w in writes {
                        match ctx.execute_counted(w.clone()).await {
                            Ok(n) => counts.push(n),
                            Err(e) => return Err((e, answers)),
                        }
                    }
                    answers.push(Ok(Reply::Written(counts)));
                }
                Work::Command { actor, cmd, key } => {
                    match self
                        .run_command(ctx, actor, cmd, key.as_deref(), now, &mut entries)
                        .await
                    {
                        Ok(a) => answers.push(a.map(|o| Reply::Outcome(Box::new(o)))),
                        Err(e) => return Err((e, answers)),
                    }
                }
            }
        }
        if !entries.is_empty() {
            if let Err(e) = audit::append_all(ctx, &entries).await {
                return Err((e, answers));
            }
        }
        if let Err(e) = ctx.flush().await {
            return Err((e, answers));
        }
        Ok(answers)
    }
}

/// What a writer writes through: a transaction from the write pool per batch (PostgreSQL),
/// or its own SQLite connection.
enum WriterConn {
    Pool,
    Lite(LiteConn),
}

/// What a job that ran alone answers when its transaction failed: a refused or failed
/// command its own error (only its denial record is lost, as before when that failed), a
/// command that had succeeded the transaction's error.
fn lone_failure(e: EngineError, partial: Vec<Answer>) -> EngineError {
    match partial.into_iter().next() {
        Some(Err(own)) => {
            tracing::error!(error = %e, "could not record a refused or failed command");
            own
        }
        _ => e,
    }
}

/// Refuses every job after a storage fault: nothing of them was written.
fn refuse_all(jobs: Vec<Job>, reason: &str) {
    for job in jobs {
        let _ = job.reply.send(Err(EngineError::StorageFault {
            reason: reason.to_string(),
        }));
    }
}

fn is_transient(e: &EngineError) -> bool {
    matches!(e, EngineError::Store(s) if s.is_transient())
}

async fn writer_loop(engine: Engine, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let max = max_batch(engine.db.backend);
    loop {
        let mut jobs = Vec::new();
        {
            let mut rx = rx.lock().await;
            match rx.recv().await {
                Some(j) => jobs.push(j),
                None => return,
            }
            // Let callers woken by the previous batch's answers enqueue their next job.
            tokio::task::yield_now().await;
            while jobs.len() < max {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
        }
        engine.run_jobs(&mut WriterConn::Pool, jobs).await;
    }
}

/// The SQLite writer's thread: its own connection, and a runtime of its own to drive the
/// commands (their calls to SQLite do not wait; the runtime is there for what a command
/// may await besides).
fn lite_writer(engine: Engine, mut rx: mpsc::Receiver<Job>) {
    let max = max_batch(Backend::Sqlite);
    let started = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| EngineError::Corrupt(format!("writer runtime: {e}")))
        .and_then(|rt| match engine.db.open_lite_writer() {
            Ok(Some((c, checkpointer))) => Ok((rt, WriterConn::Lite(c), Some(checkpointer))),
            Ok(None) => Ok((rt, WriterConn::Pool, None)),
            Err(e) => Err(e.into()),
        });
    // The checkpointer lives as long as this thread.
    let (rt, mut conn, _checkpointer) = match started {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "the writer could not start");
            // Every job gets the error; the callers are not left waiting.
            while let Some(j) = rx.blocking_recv() {
                let _ = j.reply.send(Err(stopped()));
            }
            return;
        }
    };
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < max {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        rt.block_on(engine.run_jobs(&mut conn, jobs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drn_store::Value;

    fn conn(name: &str) -> (std::path::PathBuf, LiteConn) {
        let dir = std::env::temp_dir().join(format!("drn-ctx-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let c = LiteConn::open(&dir.join("t.db")).unwrap();
        c.run_many(&[Statement::new(
            "CREATE TABLE t (id TEXT PRIMARY KEY)",
            vec![],
        )])
        .unwrap();
        (dir, c)
    }

    fn count(c: &mut LiteConn) -> i64 {
        c.run_many(&[Statement::new("SELECT COUNT(*) FROM t", vec![])])
            .unwrap()
            .rows[0]
            .try_get(0)
            .unwrap()
    }

    fn insert(ctx: &mut Ctx<'_>, id: &str) {
        ctx.push("INSERT INTO t (id) VALUES ($1)", vec![Value::from(id)]);
    }

    /// A command that succeeds: as `attempt` does, its writes are sent (and checked)
    /// before it is kept.
    async fn kept_command(ctx: &mut Ctx<'_>, id: &str) {
        ctx.begin_command();
        insert(ctx, id);
        ctx.flush().await.unwrap();
        ctx.keep_command();
    }

    async fn read(ctx: &mut Ctx<'_>) {
        ctx.fetch_all("SELECT id FROM t", vec![]).await.unwrap();
    }

    /// Without savepoints, a failed command whose writes were only buffered is undone by
    /// dropping them; one whose writes reached the database asks for the batch to run
    /// again with savepoints, and with them it is undone alone.
    #[tokio::test]
    async fn a_failed_command_is_undone_with_or_without_a_savepoint() {
        let (dir, mut c) = conn("undo");
        c.begin().unwrap();
        let mut ctx = Ctx::new(Link::Lite(&mut c), Backend::Sqlite);
        ctx.savepoints = false;
        kept_command(&mut ctx, "kept").await;
        ctx.begin_command();
        insert(&mut ctx, "buffered");
        ctx.undo_command().await.unwrap();
        assert!(!ctx.needs_savepoints);
        // A write buffered before a command goes out with the command's first read; the
        // command's own write after it is still undone by dropping it.
        insert(&mut ctx, "before");
        ctx.begin_command();
        read(&mut ctx).await;
        insert(&mut ctx, "dropped");
        ctx.undo_command().await.unwrap();
        assert!(!ctx.needs_savepoints);
        ctx.flush().await.unwrap();
        assert_eq!(
            ctx.fetch_all("SELECT id FROM t", vec![])
                .await
                .unwrap()
                .len(),
            2
        );
        ctx.begin_command();
        insert(&mut ctx, "sent");
        read(&mut ctx).await;
        assert!(ctx.undo_command().await.is_err());
        assert!(ctx.needs_savepoints);
        drop(ctx);
        c.rollback();

        // The batch again, with savepoints.
        c.begin().unwrap();
        let mut ctx = Ctx::new(Link::Lite(&mut c), Backend::Sqlite);
        kept_command(&mut ctx, "kept").await;
        ctx.begin_command();
        insert(&mut ctx, "sent");
        read(&mut ctx).await;
        ctx.undo_command().await.unwrap();
        ctx.flush().await.unwrap();
        drop(ctx);
        c.commit().unwrap();
        assert_eq!(count(&mut c), 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Two PostgreSQL transactions that take the same two counters in opposite orders: a
    /// batch, and another batch or a transaction outside the writer (with
    /// `drn_store::next_counter`, as `audit::append` does). Without the counters' lock each
    /// would hold one row and wait for the other's, a deadlock that PostgreSQL breaks after
    /// a second by failing one of them. With it, the second waits for the first to commit,
    /// and both succeed.
    async fn counters_in_opposite_orders(name: &str, outside_the_writer: bool) {
        let urls = drn_store::testkit::fresh_urls(name).await.unwrap();
        let Some(url) = urls.iter().find(|u| u.starts_with("postgres")) else {
            eprintln!("skipped: DRN_TEST_POSTGRES is not set");
            return;
        };
        let db = drn_store::Db::open(url).await.unwrap();
        db.migrate().await.unwrap();
        // Rows to lock (a counter's first value is inserted, not locked).
        drn_store::query("INSERT INTO counters (name, value) VALUES ('x', 0), ('y', 0)")
            .execute(db.writer())
            .await
            .unwrap();
        let mut a = db.begin().await.unwrap();
        let mut ctx = Ctx::new(Link::Sqlx(&mut a), Backend::Postgres);
        assert_eq!(ctx.next_counter("x").await.unwrap(), 1);
        let other = db.clone();
        let b = tokio::spawn(async move {
            let mut b = other.begin().await.unwrap();
            let (y, x) = if outside_the_writer {
                let y = drn_store::next_counter(&mut b, "y").await?;
                (y, drn_store::next_counter(&mut b, "x").await?)
            } else {
                let mut ctx = Ctx::new(Link::Sqlx(&mut b), Backend::Postgres);
                let y = ctx.next_counter("y").await?;
                let x = ctx.next_counter("x").await?;
                ctx.flush().await?;
                (y, x)
            };
            b.commit().await.map_err(drn_store::StoreError::from)?;
            Ok::<_, EngineError>((x, y))
        });
        // Let the other transaction reach its first counter (and, without the lock, take
        // it).
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let y = ctx.next_counter("y").await.unwrap();
        ctx.flush().await.unwrap();
        drop(ctx);
        a.commit().await.unwrap();
        assert_eq!(y, 1);
        assert_eq!(b.await.unwrap().unwrap(), (2, 2));
        db.close().await;
    }

    #[tokio::test]
    async fn postgres_batches_take_counters_without_deadlock() {
        counters_in_opposite_orders("counters-lock", false).await;
    }

    #[tokio::test]
    async fn postgres_batch_and_a_transaction_outside_the_writer_take_counters_without_deadlock() {
        counters_in_opposite_orders("counters-lock-outside", true).await;
    }
}
