//! PostgreSQL's side of [`Tx`]: statements numbered from their `?`s, arguments converted to
//! the types the server asks for, advisory locks for what SQLite's single writer orders,
//! and the search keys SQLite's triggers keep.

use super::sql::numbered;
use crate::args;
use crate::domain::text::search_key;
use crate::store::StoreError;
use crate::store::tx::{Arg, Lock, Tx};
use bytes::BytesMut;
use deadpool_postgres::StatementCache;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{GenericClient, Statement};

/// Orders registrations (exams, attempts, deletions, retirements) across servers.
const REGISTRATION_LOCK: i64 = 0x7072_6f63_746f_7203;
/// Orders the decision history across servers (any number; ours).
const HISTORY_LOCK: i64 = 0x7072_6f63_746f_7201;
/// Orders the queueing of recurring jobs across servers.
const SCHEDULE_LOCK: i64 = 0x7072_6f63_746f_7204;

/// A connection shared code runs on, with the pool's statement cache where there is one:
/// a statement the connection has prepared before goes out in one round trip, not two.
pub struct Pg<'a, C> {
    conn: &'a C,
    cache: Option<&'a StatementCache>,
    /// Locks and writes whose answers nobody reads, waiting to go out with the next
    /// statement (see [`Tx::push`]): in a transaction with a statement cache only.
    queued: Vec<(Statement, Vec<Arg>)>,
}

/// A connection shared code runs on: a pooled one (reads) or a transaction.
pub trait Conn: GenericClient + super::sql::Cached + Sync {
    /// The connection under it, which the statement cache prepares on.
    fn connection(&self) -> &tokio_postgres::Client;

    /// The transaction, where portals (cursors) can be bound.
    fn transaction(&self) -> Option<&tokio_postgres::Transaction<'_>>;
}

impl Conn for tokio_postgres::Transaction<'_> {
    fn connection(&self) -> &tokio_postgres::Client {
        self.client()
    }

    fn transaction(&self) -> Option<&tokio_postgres::Transaction<'_>> {
        Some(self)
    }
}

impl Conn for tokio_postgres::Client {
    fn connection(&self) -> &tokio_postgres::Client {
        self
    }

    fn transaction(&self) -> Option<&tokio_postgres::Transaction<'_>> {
        None
    }
}

impl<'a, C: Conn> Pg<'a, C> {
    pub fn new(conn: &'a C, cache: Option<&'a StatementCache>) -> Self {
        Pg {
            conn,
            cache,
            queued: Vec::new(),
        }
    }

    async fn statement(&self, sql: &str) -> Result<Option<Statement>, StoreError> {
        match self.cache {
            Some(cache) => Ok(Some(cache.prepare(self.conn.connection(), sql).await?)),
            None => Ok(None),
        }
    }

    /// Runs `last` after what is queued, all sent at once: the connection writes each
    /// request as its future is first polled, in order, and the server runs them in that
    /// order, each with a snapshot taken as it starts, so one round trip serves them all.
    async fn after_queued<T>(
        &mut self,
        last: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, StoreError> {
        let queued = std::mem::take(&mut self.queued);
        if queued.is_empty() {
            return Ok(last.await?);
        }
        let conn = self.conn;
        let sent = futures_util::future::try_join_all(
            queued
                .iter()
                .map(|(st, args)| async move { conn.execute(st, &params(args)).await }),
        );
        let (_, out) = futures_util::future::try_join(sent, last).await?;
        Ok(out)
    }

    /// Sends what is queued; before the commit, which must not go without it.
    pub async fn flush(&mut self) -> Result<(), StoreError> {
        self.after_queued(std::future::ready(Ok(()))).await
    }

    /// Whether a write can wait for the next statement: only inside a transaction, whose
    /// commit flushes it, and only prepared, so that sending it costs no round trip.
    fn queues(&self) -> bool {
        self.cache.is_some() && self.conn.transaction().is_some()
    }
}

impl ToSql for Arg {
    /// As the statement's parameter type asks: the server infers it from the SQL, so an
    /// integer may be bound to a `SMALLINT`, a `BOOLEAN` or a `DOUBLE PRECISION` column.
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (self, ty) {
            (Arg::Null, _) => Ok(IsNull::Yes),
            (Arg::Int(v), &Type::INT2) => i16::try_from(*v)?.to_sql(ty, out),
            (Arg::Int(v), &Type::INT4) => i32::try_from(*v)?.to_sql(ty, out),
            (Arg::Int(v), &Type::FLOAT8) => (*v as f64).to_sql(ty, out),
            (Arg::Int(v), &Type::BOOL) => (*v != 0).to_sql(ty, out),
            (Arg::Int(v), &Type::TEXT | &Type::VARCHAR) => v.to_string().to_sql(ty, out),
            (Arg::Int(v), _) => v.to_sql(ty, out),
            (Arg::Real(v), &Type::FLOAT4) => (*v as f32).to_sql(ty, out),
            (Arg::Real(v), _) => v.to_sql(ty, out),
            (Arg::Bool(v), &Type::INT2 | &Type::INT4 | &Type::INT8) => {
                i64::from(*v).to_sql(&Type::INT8, out)
            }
            (Arg::Bool(v), _) => v.to_sql(ty, out),
            (Arg::Text(v), _) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn params(args: &[Arg]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl<C: Conn> Tx for Pg<'_, C> {
    type Row = tokio_postgres::Row;
    type Cursor = tokio_postgres::Portal;

    /// Outside a transaction a portal cannot live, and the caller reads keyset parts.
    fn cursor(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Option<Self::Cursor>, StoreError>> + Send {
        let sql = numbered(sql);
        async move {
            let Some(tx) = self.conn.transaction() else {
                return Ok(None);
            };
            self.flush().await?;
            Ok(Some(match self.statement(&sql).await? {
                Some(st) => tx.bind(&st, &params(&args)).await?,
                None => tx.bind(sql.as_str(), &params(&args)).await?,
            }))
        }
    }

    async fn fetch(
        &mut self,
        cursor: &Self::Cursor,
        part: i64,
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        self.flush().await?;
        let tx = self.conn.transaction().ok_or_else(|| {
            StoreError::Corrupt("a cursor was read outside its transaction".into())
        })?;
        let part = i32::try_from(part).unwrap_or(i32::MAX);
        Ok(tx.query_portal(cursor, part).await?)
    }

    fn rows(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Vec<tokio_postgres::Row>, StoreError>> + Send {
        let sql = numbered(sql);
        async move {
            let conn = self.conn;
            let args = params(&args);
            match self.statement(&sql).await? {
                Some(st) => self.after_queued(conn.query(&st, &args)).await,
                None => self.after_queued(conn.query(&sql, &args)).await,
            }
        }
    }

    fn exec(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let sql = numbered(sql);
        async move {
            let conn = self.conn;
            let args = params(&args);
            match self.statement(&sql).await? {
                Some(st) => self.after_queued(conn.execute(&st, &args)).await,
                None => self.after_queued(conn.execute(&sql, &args)).await,
            }
        }
    }

    async fn push(&mut self, sql: &str, args: Vec<Arg>) -> Result<(), StoreError> {
        let queued = if self.queues() {
            self.statement(&numbered(sql)).await?
        } else {
            None
        };
        match queued {
            Some(st) => self.queued.push((st, args)),
            None => {
                self.exec(sql, args).await?;
            }
        }
        Ok(())
    }

    async fn session_detail(
        &mut self,
        id: crate::domain::SessionId,
    ) -> Result<crate::domain::SessionDetail, StoreError> {
        self.flush().await?;
        super::read::session(self.conn, id).await
    }

    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn for_update(&self) -> &'static str {
        " FOR UPDATE"
    }

    async fn lock(&mut self, what: Lock) -> Result<(), StoreError> {
        let key = match what {
            Lock::Registrations => REGISTRATION_LOCK,
            Lock::History => HISTORY_LOCK,
            Lock::Schedule => SCHEDULE_LOCK,
            Lock::Sessions => {
                // Sessions change under a shared lock: this waits for those in flight.
                self.flush().await?;
                self.conn
                    .batch_execute("LOCK TABLE sessions IN SHARE MODE")
                    .await?;
                return Ok(());
            }
        };
        // Taken when the next statement goes, in the same round trip: the turn starts
        // with the work it is for, not with an answer travelling back first.
        self.push("SELECT pg_advisory_xact_lock(?)", args![key])
            .await
    }

    /// Writes the learner's folded search key and the sort keys their sessions carry: on
    /// SQLite triggers do this with the program's own function, which PostgreSQL cannot call.
    async fn learner_changed(&mut self, learner: i64) -> Result<(), StoreError> {
        self.flush().await?;
        let Some(r) = self
            .conn
            .query_opt(
                "SELECT username, email, full_name FROM learners WHERE id = $1",
                &[&learner],
            )
            .await?
        else {
            return Ok(());
        };
        let (username, email, name): (String, String, String) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        self.conn
            .execute(
                "UPDATE learners SET search_key = $2 WHERE id = $1",
                &[&learner, &search_key(&format!("{username} {email} {name}"))],
            )
            .await?;
        self.conn
            .execute(
                "UPDATE sessions SET sort_name = $2, sort_username = $3
                     WHERE learner_id = $1 AND (sort_name <> $2 OR sort_username <> $3)",
                &[&learner, &search_key(&name), &username],
            )
            .await?;
        Ok(())
    }
}
