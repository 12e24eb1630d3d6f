//! SQLite's side of [`Tx`]: statements on the writer's connection (inside an IMMEDIATE
//! transaction, so the locks are already held), rows copied out as values.

use crate::store::StoreError;
use crate::store::cells::{Cell, Cells};
use crate::store::tx::{Arg, Lock, Tx};
use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

/// By `&mut`: a connection is `Send` but not `Sync`, so shared code holding this may be
/// `Send` (see [`Tx`]).
pub struct Lite<'c>(pub &'c mut Connection);

pub struct LiteRow(Vec<Value>);

impl Cells for LiteRow {
    fn cell<T: Cell>(&self, i: usize) -> Result<T, StoreError> {
        let v = self
            .0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("no column {i} in the row")))?;
        <T as rusqlite::types::FromSql>::column_result(ValueRef::from(v))
            .map_err(|e| StoreError::failed(format!("column {i}"), e))
    }
}

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Null => ToSqlOutput::Owned(Value::Null),
            Arg::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Arg::Real(v) => ToSqlOutput::Owned(Value::Real(*v)),
            Arg::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Arg::Bool(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
        })
    }
}

impl Lite<'_> {
    fn rows_now(&self, sql: &str, args: &[Arg]) -> Result<Vec<LiteRow>, StoreError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(LiteRow(
                (0..n)
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<Result<_, _>>()?,
            ));
        }
        Ok(out)
    }
}

impl Tx for Lite<'_> {
    type Row = LiteRow;
    type Cursor = std::convert::Infallible;

    fn cursor(
        &mut self,
        _: &str,
        _: Vec<Arg>,
    ) -> impl Future<Output = Result<Option<Self::Cursor>, StoreError>> + Send {
        std::future::ready(Ok(None))
    }

    fn fetch(
        &mut self,
        cursor: &Self::Cursor,
        _: i64,
    ) -> impl Future<Output = Result<Vec<LiteRow>, StoreError>> + Send {
        // SQLite never opens one.
        let never = *cursor;
        async move { match never {} }
    }

    fn rows(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Vec<LiteRow>, StoreError>> + Send {
        std::future::ready(self.rows_now(sql, &args))
    }

    fn exec(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let done = self
            .0
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(rusqlite::params_from_iter(args.iter())))
            .map(|n| n as u64)
            .map_err(StoreError::from);
        std::future::ready(done)
    }

    fn lock(&mut self, _: Lock) -> impl Future<Output = Result<(), StoreError>> + Send {
        std::future::ready(Ok(()))
    }

    fn session_detail(
        &mut self,
        id: crate::domain::SessionId,
    ) -> impl Future<Output = Result<crate::domain::SessionDetail, StoreError>> + Send {
        std::future::ready(super::read::session(&mut *self.0, id))
    }

    fn learner_changed(&mut self, _: i64) -> impl Future<Output = Result<(), StoreError>> + Send {
        std::future::ready(Ok(()))
    }
}
