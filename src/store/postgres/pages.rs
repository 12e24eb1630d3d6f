//! Pages of the Sessions list read along the index of their order (keyset paging), as on
//! SQLite: the steps are `store::segments`'; here is how PostgreSQL is asked (arrays for
//! lists of values, learners found through the `pg_trgm` index).

use super::read::{ROW_COLUMN_COUNT, add_marks, session_row};
use super::sql::{Cached, Val, count, numbered};
use crate::domain::query::{Page, SessionFilter, SortValue};
use crate::domain::words::Word;
use crate::domain::{AttemptStatus, SessionRow};
use crate::store::segments::{self, Scope, Search, Source};
use crate::store::{StoreError, Tiers};
use tokio_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tokio_postgres::types::Type;

pub async fn page<C: Cached>(
    c: &C,
    scope: Scope<Val>,
    q: &SessionFilter,
) -> Result<Page<SessionRow>, StoreError> {
    segments::page(&Lists(c), scope, q).await
}

/// The sessions of `exams` with `statuses` (all when empty), from the counters table.
async fn counted<C: GenericClient + Sync>(
    c: &C,
    exams: &[i64],
    statuses: &[&str],
) -> Result<u64, StoreError> {
    let row = c
        .query_typed_one(
            "SELECT COALESCE(SUM(n), 0)::bigint FROM session_counts
             WHERE exam_id = ANY($1) AND (cardinality($2::text[]) = 0 OR status = ANY($2))",
            &[(&exams, Type::INT8_ARRAY), (&statuses, Type::TEXT_ARRAY)],
        )
        .await?;
    Ok(count(row.try_get(0)?))
}

/// A pooled connection, as keyset paging sends its queries: prepared once per connection
/// (a page's few shapes of query repeat, and planning one over the sessions' many indexes
/// costs more than running it), so each later goes out in one round trip.
struct Lists<'a, C>(&'a C);

impl<C: Cached> Source for Lists<'_, C> {
    type Arg = Val;

    fn with_statuses(filter: &mut String, args: &mut Vec<Val>, statuses: &[AttemptStatus]) {
        filter.push_str(" AND s.status = ANY(?)");
        args.push(Val::Texts(
            statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        ));
    }

    async fn search(&self, query: &str, tiers: Tiers) -> Result<Option<Search<Val>>, StoreError> {
        super::search::plan(self.0.client(), query, tiers).await
    }

    async fn counted(&self, exams: &[i64], statuses: &[&str]) -> Result<u64, StoreError> {
        counted(self.0.client(), exams, statuses).await
    }

    async fn add_marks(&self, rows: &mut [SessionRow]) -> Result<(), StoreError> {
        add_marks(self.0.client(), rows).await
    }

    async fn rows(
        &self,
        sql: &str,
        args: &[Val],
    ) -> Result<Vec<(SessionRow, SortValue)>, StoreError> {
        let stmt = self.0.statement(&numbered(sql)).await?;
        let rows = self.0.client().query(&stmt, &untyped(args)).await?;
        rows.iter()
            .map(|r| {
                let i = ROW_COLUMN_COUNT;
                let key = match r.columns()[i].type_() {
                    t if *t == Type::INT8 => r
                        .try_get::<_, Option<i64>>(i)?
                        .map_or(SortValue::Null, SortValue::Int),
                    _ => r
                        .try_get::<_, Option<String>>(i)?
                        .map_or(SortValue::Null, SortValue::Text),
                };
                Ok((session_row(r)?, key))
            })
            .collect()
    }

    async fn count(&self, sql: &str, args: &[Val]) -> Result<u64, StoreError> {
        let stmt = self.0.statement(&numbered(sql)).await?;
        let row = self.0.client().query_one(&stmt, &untyped(args)).await?;
        Ok(count(row.try_get(0)?))
    }
}

fn untyped(args: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}
