//! Pages of the Sessions list read along the index of their order (keyset paging), as on
//! SQLite: segments, cursors and the page's shape are `store::keyset`'s.

use super::read::{ROW_COLUMN_COUNT, ROW_COLUMNS, add_marks, session_row};
use super::search::Search;
use super::sql::{Val, count, numbered, typed};
use crate::domain::query::{Cursor, Page, SessionFilter, SortKey, SortValue};
use crate::domain::{AttemptStatus, SessionRow};
use crate::store::StoreError;
use crate::store::Tiers;
use crate::store::keyset::{self, Read, Segment, Walk, key_column};
use tokio_postgres::GenericClient;
use tokio_postgres::types::Type;

/// Which sessions a list holds before the query's own filters: SQL over `s` and its args.
pub struct Scope {
    pub filter: String,
    pub args: Vec<Val>,
    /// Every row is Require Attention (the queue).
    pub attention_only: bool,
    /// The exams whose counters give the total when there is no search.
    pub exams: Vec<i64>,
    pub tiers: Tiers,
}

pub async fn page<C: GenericClient + Sync>(
    c: &C,
    scope: Scope,
    q: &SessionFilter,
) -> Result<Page<SessionRow>, StoreError> {
    let mut filter = scope.filter.clone();
    let mut args = scope.args.clone();
    if !q.statuses.is_empty() {
        filter.push_str(" AND s.status = ANY(?)");
        args.push(Val::Texts(
            q.statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        ));
    }
    let segments = keyset::segments(q, scope.attention_only);
    let mut at_least = false;
    let total = match super::search::plan(c, &q.search, scope.tiers).await? {
        None => counted(c, &scope.exams, &q.statuses, scope.attention_only).await?,
        Some(Search::Nobody) => return Ok(Page::empty()),
        Some(Search::Few(sql, arg)) => {
            filter.push_str(&sql);
            args.push(arg);
            count_where(c, &filter, &args).await?
        }
        Some(Search::Many { test, arg, counted }) => {
            let mut some = filter.clone();
            some.push_str(&counted.0);
            let mut some_args = args.clone();
            some_args.push(counted.1);
            filter.push_str(&test);
            args.push(arg);
            at_least = true;
            count_where(c, &some, &some_args).await?
        }
    };
    let reader = Reader {
        c,
        filter: &filter,
        args: &args,
        sort: q.sort,
        desc: q.desc,
    };
    let want = q.limit as usize + 1;
    let rows = match keyset::read_for(&q.from) {
        Read::Walk(walk, from) => reader.walk(&segments, from, walk, want).await?,
        Read::Skip(n) => reader.skip(&segments, n, want).await?,
    };
    let mut page = keyset::assemble(q, total, at_least, rows);
    add_marks(c, &mut page.items).await?;
    Ok(page)
}

async fn count_where<C: GenericClient + Sync>(
    c: &C,
    filter: &str,
    args: &[Val],
) -> Result<u64, StoreError> {
    // Counting filters never name the learner's own columns.
    let sql = numbered(&format!("SELECT COUNT(*) FROM sessions s WHERE {filter}"));
    Ok(count(
        c.query_typed_one(&sql, &typed(args)).await?.try_get(0)?,
    ))
}

/// The sessions of `exams` with `statuses` (all when empty), from the counters table.
async fn counted<C: GenericClient + Sync>(
    c: &C,
    exams: &[i64],
    statuses: &[AttemptStatus],
    attention_only: bool,
) -> Result<u64, StoreError> {
    if exams.is_empty() {
        return Ok(0);
    }
    let statuses: Vec<String> = if attention_only {
        vec![AttemptStatus::SecondReviewRequired.as_str().to_owned()]
    } else {
        statuses.iter().map(|s| s.as_str().to_owned()).collect()
    };
    let row = c
        .query_typed_one(
            "SELECT COALESCE(SUM(n), 0)::bigint FROM session_counts
             WHERE exam_id = ANY($1) AND (cardinality($2::text[]) = 0 OR status = ANY($2))",
            &[(&exams, Type::INT8_ARRAY), (&statuses, Type::TEXT_ARRAY)],
        )
        .await?;
    Ok(count(row.try_get(0)?))
}

struct Reader<'a, C> {
    c: &'a C,
    filter: &'a str,
    args: &'a [Val],
    sort: SortKey,
    desc: bool,
}

impl<C: GenericClient + Sync> Reader<'_, C> {
    async fn walk(
        &self,
        segments: &[Segment],
        from: Option<&Cursor>,
        walk: Walk,
        want: usize,
    ) -> Result<Vec<(SessionRow, SortValue)>, StoreError> {
        let mut out = Vec::new();
        for (seg, bound) in keyset::walk_from(segments, from, walk) {
            let (sql, args) = self.segment_sql(seg, bound, walk);
            let rows = self
                .rows(&format!("{sql} LIMIT {}", want - out.len()), &args)
                .await?;
            out.extend(rows);
            if out.len() >= want {
                break;
            }
        }
        Ok(out)
    }

    /// The rows of one segment past `bound`, in `walk` order, read along its index.
    fn segment_sql(&self, seg: Segment, bound: Option<&Cursor>, walk: Walk) -> (String, Vec<Val>) {
        let key = key_column(self.sort);
        let asc = (!self.desc) ^ (walk == Walk::Backward);
        let (dir, op) = if asc { ("ASC", ">") } else { ("DESC", "<") };
        let mut sql = format!(
            "SELECT {ROW_COLUMNS}, {key} FROM sessions s JOIN learners l ON l.id = s.learner_id
             WHERE {} AND s.attention_rank = {}",
            self.filter,
            u8::from(!seg.attention)
        );
        let mut args = self.args.to_vec();
        let order = if seg.null {
            sql.push_str(&format!(" AND {key} IS NULL"));
            if let Some(c) = bound {
                sql.push_str(&format!(" AND s.id {op} ?"));
                args.push(Val::Int(c.id));
            }
            format!("s.id {dir}")
        } else {
            match bound.map(|c| (sort_arg(&c.key), c.id)) {
                Some((Some(v), id)) => {
                    sql.push_str(&format!(" AND ({key}, s.id) {op} (?, ?)"));
                    args.push(v);
                    args.push(Val::Int(id));
                }
                _ => sql.push_str(&format!(" AND {key} IS NOT NULL")),
            }
            format!("{key} {dir}, s.id {dir}")
        };
        sql.push_str(&format!(" ORDER BY s.attention_rank {dir}, {order}"));
        (sql, args)
    }

    /// The old offset paging: whole segments before `offset` are skipped by counting them,
    /// the rest along the index of the order.
    async fn skip(
        &self,
        segments: &[Segment],
        mut offset: u64,
        want: usize,
    ) -> Result<Vec<(SessionRow, SortValue)>, StoreError> {
        let mut out = Vec::new();
        for seg in segments {
            let (sql, args) = self.segment_sql(*seg, None, Walk::Forward);
            if offset > 0 {
                let n: i64 = self
                    .c
                    .query_typed_one(
                        &numbered(&format!("SELECT COUNT(*) FROM ({sql}) seg")),
                        &typed(&args),
                    )
                    .await?
                    .try_get(0)?;
                let n = count(n);
                if offset >= n {
                    offset -= n;
                    continue;
                }
            }
            let page = format!("{sql} LIMIT {} OFFSET {offset}", want - out.len());
            offset = 0;
            out.extend(self.rows(&page, &args).await?);
            if out.len() >= want {
                break;
            }
        }
        Ok(out)
    }

    async fn rows(
        &self,
        sql: &str,
        args: &[Val],
    ) -> Result<Vec<(SessionRow, SortValue)>, StoreError> {
        let rows = self.c.query_typed(&numbered(sql), &typed(args)).await?;
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
}

fn sort_arg(v: &SortValue) -> Option<Val> {
    match v {
        SortValue::Null => None,
        SortValue::Int(i) => Some(Val::Int(*i)),
        SortValue::Text(t) => Some(Val::Text(t.clone())),
    }
}
