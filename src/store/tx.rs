//! A transaction written once for both databases. Shared store code is `async fn f(tx: &mut
//! impl Tx, …)` with SQL that both accept (`?N` or `?` placeholders, numbered for
//! PostgreSQL by `postgres::sql::numbered`); each backend implements [`Tx`] — how a query is
//! sent, how its rows are read, and the few things that truly differ (locks across servers,
//! search keys SQLite's triggers keep) — and keeps its own connection handling.
//!
//! SQLite's driver is synchronous: its `Tx` answers at once, so the backend runs shared code
//! on its writer thread with [`at_once`], which polls the future once.

use super::StoreError;
use super::cells::Cells;
use std::future::Future;

/// One argument of a query, as both drivers take it.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<u32> for Arg {
    fn from(v: u32) -> Self {
        Arg::Int(i64::from(v))
    }
}

impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::Real(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}

impl<T: Clone + Into<Arg>> From<&Option<T>> for Arg {
    fn from(v: &Option<T>) -> Self {
        v.clone().into()
    }
}

impl<T: Into<Arg>> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Null, Into::into)
    }
}

/// `args![a, b, c]`: a query's arguments.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$($crate::store::tx::Arg::from($a)),*] };
}

/// What a transaction must hold so that no other server's interleaves with it. SQLite has
/// one writer, so each is already held there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// LMS registrations (exams, attempts, deletions, retirements): each reads, then writes
    /// what it read was missing.
    Registrations,
    /// The decision history: appends stay in one line.
    History,
    /// No session changes until the transaction ends (a recount).
    Sessions,
    /// Recurring jobs: each kind is queued once.
    Schedule,
}

/// Every future is `Send`, so shared code generic over a backend's `Tx` is `Send` too and
/// can run on PostgreSQL's async pool; SQLite's side holds its connection by `&mut`, which
/// may move between threads, and answers at once ([`at_once`]).
pub trait Tx: Send {
    type Row: Cells + Send + Sync;
    /// A long read in progress (see [`Tx::cursor`]).
    type Cursor: Send + Sync;

    fn rows(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Vec<Self::Row>, StoreError>> + Send;

    /// Runs a statement; how many rows it changed.
    fn exec(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Runs a write whose answer nobody reads. A database that can send it together with
    /// the transaction's next statement (or its commit) does: a turn under a lock then
    /// costs one round trip, not one a statement. An error it meets fails that statement,
    /// and so the transaction.
    fn push(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            self.exec(sql, args).await?;
            Ok(())
        }
    }

    /// Takes `what` until the transaction ends; it may be taken as the next statement goes.
    fn lock(&mut self, what: Lock) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A read of many rows (`sql`, in a stable order) served as one query fetched a part
    /// at a time: PostgreSQL binds it to a portal planned once for all its rows, so the
    /// table is read in order rather than a row at a time through an index, part after
    /// part. `None` where keyset parts serve as well (SQLite: each part is a short walk
    /// along an index); the caller then reads those.
    fn cursor(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Option<Self::Cursor>, StoreError>> + Send;

    /// The next `part` rows of `cursor`; none once it has given them all.
    fn fetch(
        &mut self,
        cursor: &Self::Cursor,
        part: i64,
    ) -> impl Future<Output = Result<Vec<Self::Row>, StoreError>> + Send;

    /// A learner's name, username or email changed: SQLite's triggers refresh their search
    /// and sort keys; PostgreSQL writes them here.
    fn learner_changed(
        &mut self,
        learner: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session as Learner Detail shows it, read as this backend reads it.
    fn session_detail(
        &mut self,
        id: crate::domain::SessionId,
    ) -> impl Future<Output = Result<crate::domain::SessionDetail, StoreError>> + Send;

    /// What ends a `SELECT` whose rows must stay as read until the transaction ends: with
    /// SQLite's one writer, nothing.
    fn for_update(&self) -> &'static str {
        ""
    }

    /// What ends a `SELECT … LIMIT 1` that takes a row to work on: rows another server is
    /// taking are passed over. SQLite's one writer takes them in turn.
    fn skip_locked(&self) -> &'static str {
        ""
    }

    /// The first row, if any.
    fn row(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Option<Self::Row>, StoreError>> + Send
    where
        Self: Sized,
    {
        async move { Ok(self.rows(sql, args).await?.into_iter().next()) }
    }

    /// The only row a query always answers (an aggregate, an `EXISTS`).
    fn one(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Self::Row, StoreError>> + Send
    where
        Self: Sized,
    {
        async move {
            self.row(sql, args)
                .await?
                .ok_or_else(|| StoreError::Corrupt("a query that always answers did not".into()))
        }
    }
}

/// Runs a future that never waits — shared store code over SQLite's [`Tx`] — to its end.
pub fn at_once<T>(f: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => Err(StoreError::Corrupt(
            "a SQLite transaction waited for something; it cannot".into(),
        )),
    }
}
