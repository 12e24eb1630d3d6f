//! Small helpers for writing queries: `?` placeholders (as the SQLite backend writes them)
//! numbered for PostgreSQL, argument lists built at run time, and driver errors.

use crate::store::StoreError;
use bytes::BytesMut;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// One argument of a query built at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i64),
    Text(String),
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Int(v) => v.to_sql(ty, out),
            Val::Text(v) => v.to_sql(ty, out),
            Val::Ints(v) => v.to_sql(ty, out),
            Val::Texts(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty)
            || <String as ToSql>::accepts(ty)
            || <Vec<i64> as ToSql>::accepts(ty)
            || <Vec<String> as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}

/// Numbers each `?` in order (`$1`, `$2`, …), and makes `?N` (SQLite's numbered
/// placeholder, for an argument used twice) `$N`. Our queries hold no `?` inside literals.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '?' {
            out.push(ch);
            continue;
        }
        out.push('$');
        if chars.peek().is_some_and(char::is_ascii_digit) {
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                out.push(d);
            }
        } else {
            n += 1;
            out.push_str(&n.to_string());
        }
    }
    out
}

pub fn count(n: i64) -> u64 {
    n.max(0) as u64
}

/// A connection that can keep its statements prepared. The pool's connections do, so a
/// fixed query (a session's detail) is parsed and planned once per connection and later
/// sent in one round trip; a transaction prepares each time (it is the rare path).
pub trait Cached: Sync {
    type Client: tokio_postgres::GenericClient + Sync;
    fn client(&self) -> &Self::Client;
    fn statement(
        &self,
        sql: &str,
    ) -> impl Future<Output = Result<tokio_postgres::Statement, tokio_postgres::Error>> + Send;
}

impl Cached for deadpool_postgres::Client {
    type Client = tokio_postgres::Client;
    fn client(&self) -> &tokio_postgres::Client {
        self
    }
    fn statement(
        &self,
        sql: &str,
    ) -> impl Future<Output = Result<tokio_postgres::Statement, tokio_postgres::Error>> + Send {
        self.prepare_cached(sql)
    }
}

impl Cached for tokio_postgres::Client {
    type Client = Self;
    fn client(&self) -> &Self {
        self
    }
    fn statement(
        &self,
        sql: &str,
    ) -> impl Future<Output = Result<tokio_postgres::Statement, tokio_postgres::Error>> + Send {
        self.prepare(sql)
    }
}

impl Cached for tokio_postgres::Transaction<'_> {
    type Client = Self;
    fn client(&self) -> &Self {
        self
    }
    fn statement(
        &self,
        sql: &str,
    ) -> impl Future<Output = Result<tokio_postgres::Statement, tokio_postgres::Error>> + Send {
        self.prepare(sql)
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if e.code() == Some(&SqlState::QUERY_CANCELED) {
            return StoreError::Busy(
                "the database did not answer within the query budget; try again".into(),
            );
        }
        StoreError::Database(Box::new(e))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Timeout(_) => {
                StoreError::Busy("every database connection is busy; try again".into())
            }
            other => StoreError::Database(Box::new(other)),
        }
    }
}

/// Bulk work an operator starts on purpose (seeding, `db copy`, migrations, sealing the
/// history, a report) is not cut by the budget meant for reviewers' requests: no statement
/// timeout for the rest of the transaction `tx`.
pub async fn unbudgeted<C: tokio_postgres::GenericClient + Sync>(tx: &C) -> Result<(), StoreError> {
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    Ok(())
}

/// Numbers what is added after a load with its own ids after them: each table's identity
/// sequence set past its largest id.
pub async fn renumber(
    tx: &tokio_postgres::Transaction<'_>,
    tables: &[&str],
) -> Result<(), tokio_postgres::Error> {
    for table in tables {
        tx.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                               GREATEST((SELECT MAX(id) FROM {table}), 1))"
            ),
            &[],
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbered_placeholders_keep_their_numbers() {
        assert_eq!(
            super::numbered("a = ?1 OR b = ?1 AND c = ?12"),
            "a = $1 OR b = $1 AND c = $12"
        );
    }

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            super::numbered("a = ? AND (b, c) > (?, ?)"),
            "a = $1 AND (b, c) > ($2, $3)"
        );
    }
}
