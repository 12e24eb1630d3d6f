//! Pages of the Sessions list read straight from the index of their order (keyset paging):
//! a page after, before or at the end of the list costs the same as the first one, however
//! many sessions the exam holds. The steps are `store::segments`'; here is how SQLite is
//! asked (indexes in migration 0011, learners found through the FTS5 trigram index).

use super::read::session_row;
use crate::domain::query::{Page, SessionFilter, SortValue};
use crate::domain::words::Word;
use crate::domain::{AttemptStatus, SessionRow};
use crate::store::segments::{self, Scope, Search, Source};
use crate::store::tx::at_once;
use crate::store::{StoreError, Tiers};
use rusqlite::Connection;
use rusqlite::types::Value;
use std::future::Future;

pub fn page(
    c: &Connection,
    scope: Scope<Value>,
    q: &SessionFilter,
) -> Result<Page<SessionRow>, StoreError> {
    at_once(segments::page(&Lists(c), scope, q))
}

fn marks(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// A reader connection, as keyset paging sends its queries.
struct Lists<'a>(&'a Connection);

impl Source for Lists<'_> {
    type Arg = Value;
    const BY_LEARNER: &'static str = "sessions s INDEXED BY sessions_by_learner";

    fn with_statuses(filter: &mut String, args: &mut Vec<Value>, statuses: &[AttemptStatus]) {
        filter.push_str(&format!(" AND s.status IN ({})", marks(statuses.len())));
        args.extend(statuses.iter().map(|s| Value::Text(s.as_str().to_owned())));
    }

    fn search(
        &self,
        query: &str,
        tiers: Tiers,
    ) -> impl Future<Output = Result<Option<Search<Value>>, StoreError>> {
        std::future::ready(super::search::plan(self.0, query, tiers).map_err(StoreError::from))
    }

    fn counted(
        &self,
        exams: &[i64],
        statuses: &[&str],
    ) -> impl Future<Output = Result<u64, StoreError>> {
        std::future::ready(self.counted_now(exams, statuses))
    }

    fn add_marks(&self, rows: &mut [SessionRow]) -> impl Future<Output = Result<(), StoreError>> {
        std::future::ready(super::read::add_marks(self.0, rows))
    }

    fn rows(
        &self,
        sql: &str,
        args: &[Value],
    ) -> impl Future<Output = Result<Vec<(SessionRow, SortValue)>, StoreError>> {
        std::future::ready(self.rows_now(sql, args))
    }

    fn count(&self, sql: &str, args: &[Value]) -> impl Future<Output = Result<u64, StoreError>> {
        let n = self
            .0
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0)))
            .map(|n: i64| n.max(0) as u64)
            .map_err(StoreError::from);
        std::future::ready(n)
    }
}

impl Lists<'_> {
    fn counted_now(&self, exams: &[i64], statuses: &[&str]) -> Result<u64, StoreError> {
        let mut sql = format!(
            "SELECT COALESCE(SUM(n), 0) FROM session_counts WHERE exam_id IN ({})",
            marks(exams.len())
        );
        let mut args: Vec<Value> = exams.iter().map(|e| Value::Integer(*e)).collect();
        if !statuses.is_empty() {
            sql.push_str(&format!(" AND status IN ({})", marks(statuses.len())));
            args.extend(statuses.iter().map(|s| Value::Text((*s).to_owned())));
        }
        let n: i64 = self
            .0
            .query_row(&sql, rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    fn rows_now(
        &self,
        sql: &str,
        args: &[Value],
    ) -> Result<Vec<(SessionRow, SortValue)>, StoreError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let key = match r.get::<_, Value>(super::read::ROW_COLUMN_COUNT)? {
                Value::Integer(i) => SortValue::Int(i),
                Value::Text(t) => SortValue::Text(t),
                Value::Null => SortValue::Null,
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "unexpected sort value {other:?} in database"
                    )));
                }
            };
            out.push((session_row(r)?, key));
        }
        Ok(out)
    }
}
