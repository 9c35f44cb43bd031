//! Pools, connections and transactions on either backend: sqlx's `Any` driver over SQLite
//! and its own PostgreSQL driver over PostgreSQL (whose native types `Any` can neither
//! bind nor read, see [`crate::pg`]). The engine holds them as one type each ([`Pool`],
//! [`PoolConn`], [`Tx`]) and runs statements on a [`Conn`].

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;

use futures_util::TryStreamExt;
use sqlx::{Acquire as _, Executor as _};

use crate::{pg, Backend, DbRow, RunResult, StoreError, Value};

type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A connection on either backend (see [`Conn`]).
pub trait Connection: Send {
    /// The backend it talks to.
    fn backend(&self) -> Backend;

    /// Runs one statement, prepared, with its parameters.
    fn run<'a>(&'a mut self, sql: &'a str, args: &'a [Value]) -> Fut<'a, RunResult>;

    /// Runs statements without parameters as one simple query (not prepared).
    fn run_simple<'a>(&'a mut self, sql: &'a str) -> Fut<'a, RunResult>;
}

/// What a statement's steps give, on either driver: the rows each statement changed, and
/// its rows read as [`DbRow`]s.
async fn collect<D, R>(
    mut steps: impl futures_util::Stream<Item = Result<sqlx::Either<D, R>, sqlx::Error>> + Unpin,
    changed: impl Fn(&D) -> u64,
    row: impl Fn(&R) -> Result<DbRow, StoreError>,
) -> Result<RunResult, StoreError> {
    let mut out = RunResult::default();
    while let Some(step) = steps.try_next().await? {
        match step {
            sqlx::Either::Left(done) => out.changed.push(changed(&done)),
            sqlx::Either::Right(r) => out.rows.push(row(&r)?),
        }
    }
    Ok(out)
}

/// A connection the engine runs statements on: a transaction's or a pool's.
pub type Conn = dyn Connection;

impl Connection for sqlx::AnyConnection {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn run<'a>(&'a mut self, sql: &'a str, args: &'a [Value]) -> Fut<'a, RunResult> {
        Box::pin(async move {
            let mut q = sqlx::query(sql);
            for a in args {
                q = match a.portable() {
                    crate::Portable::Text(t) => q.bind(t.map(str::to_string)),
                    crate::Portable::Int(i) => q.bind(i),
                    crate::Portable::Blob(b) => q.bind(b.to_vec()),
                    crate::Portable::Real(f) => q.bind(f),
                };
            }
            collect(self.fetch_many(q), |d| d.rows_affected(), DbRow::from_any).await
        })
    }

    fn run_simple<'a>(&'a mut self, sql: &'a str) -> Fut<'a, RunResult> {
        Box::pin(async move {
            collect(self.fetch_many(sql), |d| d.rows_affected(), DbRow::from_any).await
        })
    }
}

impl Connection for sqlx::PgConnection {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn run<'a>(&'a mut self, sql: &'a str, args: &'a [Value]) -> Fut<'a, RunResult> {
        Box::pin(async move {
            let mut q = sqlx::query(sql);
            for a in args {
                q = q.bind(pg::Bind(a));
            }
            collect(self.fetch_many(q), |d| d.rows_affected(), pg::row).await
        })
    }

    fn run_simple<'a>(&'a mut self, sql: &'a str) -> Fut<'a, RunResult> {
        Box::pin(async move { collect(self.fetch_many(sql), |d| d.rows_affected(), pg::row).await })
    }
}

/// A pool of connections to either backend.
#[derive(Clone, Debug)]
pub enum Pool {
    Any(sqlx::AnyPool),
    Pg(sqlx::PgPool),
}

impl Pool {
    /// A connection from the pool.
    pub async fn acquire(&self) -> Result<PoolConn, sqlx::Error> {
        Ok(match self {
            Pool::Any(p) => PoolConn::Any(p.acquire().await?),
            Pool::Pg(p) => PoolConn::Pg(p.acquire().await?),
        })
    }

    /// A transaction on a connection from the pool.
    pub async fn begin(&self) -> Result<Tx<'static>, sqlx::Error> {
        Ok(match self {
            Pool::Any(p) => Tx::Any(p.begin().await?),
            Pool::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// A transaction started with `sql` (SQLite's `BEGIN IMMEDIATE`).
    pub(crate) async fn begin_with(&self, sql: &'static str) -> Result<Tx<'static>, sqlx::Error> {
        Ok(match self {
            Pool::Any(p) => Tx::Any(p.begin_with(sql).await?),
            Pool::Pg(p) => Tx::Pg(p.begin_with(sql).await?),
        })
    }

    /// The most connections it holds.
    pub fn max_connections(&self) -> u32 {
        match self {
            Pool::Any(p) => p.options().get_max_connections(),
            Pool::Pg(p) => p.options().get_max_connections(),
        }
    }

    pub async fn close(&self) {
        match self {
            Pool::Any(p) => p.close().await,
            Pool::Pg(p) => p.close().await,
        }
    }
}

/// A connection taken from a [`Pool`]; a [`Conn`].
#[derive(Debug)]
pub enum PoolConn {
    Any(sqlx::pool::PoolConnection<sqlx::Any>),
    Pg(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl PoolConn {
    /// A transaction on this connection.
    pub async fn begin(&mut self) -> Result<Tx<'_>, sqlx::Error> {
        Ok(match self {
            PoolConn::Any(c) => Tx::Any(c.begin().await?),
            PoolConn::Pg(c) => Tx::Pg(c.begin().await?),
        })
    }
}

impl Deref for PoolConn {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        match self {
            PoolConn::Any(c) => &**c,
            PoolConn::Pg(c) => &**c,
        }
    }
}

impl DerefMut for PoolConn {
    fn deref_mut(&mut self) -> &mut Conn {
        match self {
            PoolConn::Any(c) => &mut **c,
            PoolConn::Pg(c) => &mut **c,
        }
    }
}

/// A transaction on either backend; a [`Conn`]. Dropped without a commit, it rolls back.
#[derive(Debug)]
pub enum Tx<'a> {
    Any(sqlx::Transaction<'a, sqlx::Any>),
    Pg(sqlx::Transaction<'a, sqlx::Postgres>),
}

impl Tx<'_> {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Any(t) => t.commit().await,
            Tx::Pg(t) => t.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Any(t) => t.rollback().await,
            Tx::Pg(t) => t.rollback().await,
        }
    }
}

impl Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        match self {
            Tx::Any(t) => &**t,
            Tx::Pg(t) => &**t,
        }
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        match self {
            Tx::Any(t) => &mut **t,
            Tx::Pg(t) => &mut **t,
        }
    }
}

impl Connection for Tx<'_> {
    fn backend(&self) -> Backend {
        (**self).backend()
    }
    fn run<'a>(&'a mut self, sql: &'a str, args: &'a [Value]) -> Fut<'a, RunResult> {
        (**self).run(sql, args)
    }
    fn run_simple<'a>(&'a mut self, sql: &'a str) -> Fut<'a, RunResult> {
        (**self).run_simple(sql)
    }
}

impl Connection for PoolConn {
    fn backend(&self) -> Backend {
        (**self).backend()
    }
    fn run<'a>(&'a mut self, sql: &'a str, args: &'a [Value]) -> Fut<'a, RunResult> {
        (**self).run(sql, args)
    }
    fn run_simple<'a>(&'a mut self, sql: &'a str) -> Fut<'a, RunResult> {
        (**self).run_simple(sql)
    }
}
