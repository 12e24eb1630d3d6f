//! Pages of the Sessions list read along the index of their order (keyset paging), as on
//! SQLite: Require Attention first, then the order, the id breaking ties; rows without the
//! sort value last in each group. Each group and null/non-null part is a *segment* one
//! index serves in one direction.

use super::read::{ROW_COLUMN_COUNT, ROW_COLUMNS, add_marks, session_row};
use super::search::Search;
use super::sql::{Val, count, numbered, refs};
use crate::domain::query::{Cursor, Page, PageFrom, SessionFilter, SortKey, SortValue};
use crate::domain::{AttemptStatus, SessionRow};
use crate::store::StoreError;
use crate::store::sqlite::Tiers;
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

fn key_column(sort: SortKey) -> &'static str {
    match sort {
        SortKey::Started => "s.started_at",
        SortKey::Learner => "s.sort_name",
        SortKey::Username => "s.sort_username",
        SortKey::Violations => "s.violation_count",
        SortKey::Duration => "s.duration_secs",
        SortKey::Status => "s.status",
    }
}

fn nullable(sort: SortKey) -> bool {
    matches!(sort, SortKey::Started | SortKey::Duration)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    attention: bool,
    null: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    Forward,
    Backward,
}

pub async fn page<C: GenericClient + Sync>(
    c: &C,
    scope: Scope,
    q: &SessionFilter,
) -> Result<Page<SessionRow>, StoreError> {
    let mut filter = scope.filter.clone();
    let mut args = scope.args.clone();
    let wants = |s: AttemptStatus| q.statuses.is_empty() || q.statuses.contains(&s);
    let others = q.statuses.is_empty()
        || q.statuses
            .iter()
            .any(|s| *s != AttemptStatus::SecondReviewRequired);
    if !q.statuses.is_empty() {
        filter.push_str(" AND s.status = ANY(?)");
        args.push(Val::Texts(
            q.statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        ));
    }
    let mut segments = Vec::new();
    for attention in [true, false] {
        let wanted = if attention {
            wants(AttemptStatus::SecondReviewRequired)
        } else {
            others && !scope.attention_only
        };
        if !wanted {
            continue;
        }
        segments.push(Segment {
            attention,
            null: false,
        });
        if nullable(q.sort) {
            segments.push(Segment {
                attention,
                null: true,
            });
        }
    }
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
    let limit = q.limit as usize;
    let (offset, mut rows, has_prev, has_next) = match &q.from {
        PageFrom::Start => {
            let rows = reader
                .walk(&segments, None, Walk::Forward, limit + 1)
                .await?;
            (0, rows, false, None)
        }
        PageFrom::Offset(n) => {
            let rows = reader.skip(&segments, *n, limit + 1).await?;
            (*n, rows, *n > 0, None)
        }
        PageFrom::After(cur) => {
            let rows = reader
                .walk(&segments, Some(cur), Walk::Forward, limit + 1)
                .await?;
            (cur.pos + 1, rows, true, None)
        }
        PageFrom::Before(cur) => {
            let mut rows = reader
                .walk(&segments, Some(cur), Walk::Backward, limit + 1)
                .await?;
            let more = rows.len() > limit;
            rows.truncate(limit);
            rows.reverse();
            let offset = if more {
                cur.pos.saturating_sub(rows.len() as u64).max(1)
            } else {
                0
            };
            (offset, rows, more, Some(true))
        }
        PageFrom::End => {
            let mut rows = reader
                .walk(&segments, None, Walk::Backward, limit + 1)
                .await?;
            let more = rows.len() > limit;
            rows.truncate(limit);
            rows.reverse();
            let offset = if more {
                total.saturating_sub(rows.len() as u64).max(1)
            } else {
                0
            };
            (offset, rows, more, Some(false))
        }
    };
    let has_next = has_next.unwrap_or_else(|| {
        let more = rows.len() > limit;
        rows.truncate(limit);
        more
    });
    let cursor = |i: usize, (row, key): &(SessionRow, SortValue)| {
        Cursor {
            sort: q.sort,
            desc: q.desc,
            attention: row.status == AttemptStatus::SecondReviewRequired,
            key: key.clone(),
            id: row.id,
            pos: offset + i as u64,
        }
        .encode()
    };
    let prev = rows.first().filter(|_| has_prev).map(|r| cursor(0, r));
    let next = rows
        .last()
        .filter(|_| has_next)
        .map(|r| cursor(rows.len() - 1, r));
    let mut items: Vec<SessionRow> = rows.into_iter().map(|(row, _)| row).collect();
    add_marks(c, &mut items).await?;
    Ok(Page {
        total,
        offset,
        items,
        prev,
        next,
        at_least,
    })
}

async fn count_where<C: GenericClient + Sync>(
    c: &C,
    filter: &str,
    args: &[Val],
) -> Result<u64, StoreError> {
    // Counting filters never name the learner's own columns.
    let sql = numbered(&format!("SELECT COUNT(*) FROM sessions s WHERE {filter}"));
    Ok(count(c.query_one(&sql, &refs(args)).await?.try_get(0)?))
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
        .query_one(
            "SELECT COALESCE(SUM(n), 0)::bigint FROM session_counts
             WHERE exam_id = ANY($1) AND (cardinality($2::text[]) = 0 OR status = ANY($2))",
            &[&exams, &statuses],
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
        let ordered: Vec<Segment> = match walk {
            Walk::Forward => segments.to_vec(),
            Walk::Backward => segments.iter().rev().copied().collect(),
        };
        let start = from.map(|c| Segment {
            attention: c.attention,
            null: c.key == SortValue::Null,
        });
        let (first, from) = match start.and_then(|s| ordered.iter().position(|x| *x == s)) {
            Some(i) => (i, from),
            None => (0, None),
        };
        let mut out = Vec::new();
        for (i, seg) in ordered.iter().enumerate().skip(first) {
            let bound = if i == first { from } else { None };
            let (sql, args) = self.segment_sql(*seg, bound, walk);
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
                    .query_one(
                        &numbered(&format!("SELECT COUNT(*) FROM ({sql}) seg")),
                        &refs(&args),
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
        let rows = self.c.query(&numbered(sql), &refs(args)).await?;
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
