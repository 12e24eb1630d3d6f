//! Pages of the Sessions list read straight from the index of their order (keyset paging):
//! a page after, before or at the end of the list costs the same as the first one, however
//! many sessions the exam holds.
//!
//! The list is Require Attention first, then the order, the id breaking ties; rows without
//! the sort value (never started, never finished) come last in each group. Each group and
//! each null/non-null part is a *segment* that one index serves in one direction, so a page
//! is at most a few small range reads (indexes in migration 0011).

use super::read::{add_marks, session_row};
use super::search::Search;
use crate::domain::query::{Cursor, Page, PageFrom, SessionFilter, SortKey, SortValue};
use crate::domain::{AttemptStatus, SessionRow};
use crate::store::StoreError;
use rusqlite::Connection;
use rusqlite::types::Value;

/// Which sessions a list holds before the query's own filters: SQL over `s` and its args.
pub struct Scope {
    pub filter: String,
    pub args: Vec<Value>,
    /// Every row is Require Attention (the queue): its partial indexes apply.
    pub attention_only: bool,
    /// The exams whose counters give the total when there is no search.
    pub exams: Vec<Value>,
    pub tiers: super::search::Tiers,
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

/// One run of the list that one index reads in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    attention: bool,
    null: bool,
}

const ROW_COLUMNS: &str = super::read::ROW_COLUMNS;

pub fn page(
    c: &Connection,
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
        filter.push_str(&format!(
            " AND s.status IN ({})",
            vec!["?"; q.statuses.len()].join(",")
        ));
        args.extend(
            q.statuses
                .iter()
                .map(|s| Value::Text(s.as_str().to_owned())),
        );
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
    // Sessions are read through the index of the order, or, for a search that matches a
    // few learners, through theirs (then sorted).
    let mut from = "sessions s";
    let mut at_least = false;
    let total = match super::search::plan(c, &q.search, scope.tiers)? {
        None => counted(c, &scope.exams, &q.statuses, scope.attention_only)?,
        Some(Search::Nobody) => {
            return Ok(Page::empty());
        }
        Some(Search::Few(sql, arg)) => {
            filter.push_str(&sql);
            args.push(arg);
            from = "sessions s INDEXED BY sessions_by_learner";
            count(c, &filter, &args)?
        }
        Some(Search::Several {
            walk: test,
            arg,
            counted,
        })
        | Some(Search::Many { test, arg, counted }) => {
            let mut some = filter.clone();
            some.push_str(&counted.0);
            let mut some_args = args.clone();
            some_args.push(counted.1);
            filter.push_str(&test);
            args.push(arg);
            at_least = true;
            count(c, &some, &some_args)?
        }
    };
    let reader = Reader {
        c,
        from,
        filter: &filter,
        args: &args,
        sort: q.sort,
        desc: q.desc,
    };
    let limit = q.limit as usize;
    let (offset, mut rows, has_prev, has_next) = match &q.from {
        PageFrom::Start => {
            let rows = reader.walk(&segments, None, Walk::Forward, limit + 1)?;
            (0, rows, false, None)
        }
        PageFrom::Offset(n) => {
            let rows = reader.skip(&segments, *n, limit + 1)?;
            (*n, rows, *n > 0, None)
        }
        PageFrom::After(cur) => {
            let rows = reader.walk(&segments, Some(cur), Walk::Forward, limit + 1)?;
            (cur.pos + 1, rows, true, None)
        }
        PageFrom::Before(cur) => {
            let mut rows = reader.walk(&segments, Some(cur), Walk::Backward, limit + 1)?;
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
            let mut rows = reader.walk(&segments, None, Walk::Backward, limit + 1)?;
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
    add_marks(c, &mut items)?;
    Ok(Page {
        total,
        offset,
        items,
        prev,
        next,
        at_least,
    })
}

fn count(c: &Connection, filter: &str, args: &[Value]) -> Result<u64, StoreError> {
    let n: i64 = c.query_row(
        // Counting filters never name the learner's own columns.
        &format!("SELECT COUNT(*) FROM sessions s WHERE {filter}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

/// The sessions of `exams` with `statuses` (all when empty), from the counters table.
fn counted(
    c: &Connection,
    exams: &[Value],
    statuses: &[AttemptStatus],
    attention_only: bool,
) -> Result<u64, StoreError> {
    if exams.is_empty() {
        return Ok(0);
    }
    let mut sql = format!(
        "SELECT COALESCE(SUM(n), 0) FROM session_counts WHERE exam_id IN ({})",
        vec!["?"; exams.len()].join(",")
    );
    let mut args = exams.to_vec();
    let statuses: Vec<&str> = if attention_only {
        vec![AttemptStatus::SecondReviewRequired.as_str()]
    } else {
        statuses.iter().map(|s| s.as_str()).collect()
    };
    if !statuses.is_empty() {
        sql.push_str(&format!(
            " AND status IN ({})",
            vec!["?"; statuses.len()].join(",")
        ));
        args.extend(statuses.iter().map(|s| Value::Text((*s).to_owned())));
    }
    let n: i64 = c.query_row(&sql, rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    Forward,
    Backward,
}

struct Reader<'a> {
    c: &'a Connection,
    from: &'a str,
    filter: &'a str,
    args: &'a [Value],
    sort: SortKey,
    desc: bool,
}

impl Reader<'_> {
    /// Up to `want` rows in `walk` direction through `segments`, starting just past `from`
    /// (or at the first or last segment's edge), in the order walked.
    fn walk(
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
        // Segments before the cursor's (in the walk's direction) hold nothing we want. A
        // cursor whose segment this list lacks (a filter changed) cannot be placed: the
        // walk starts from the edge.
        let (first, from) = match start.and_then(|s| ordered.iter().position(|x| *x == s)) {
            Some(i) => (i, from),
            None => (0, None),
        };
        let mut out = Vec::new();
        for (i, seg) in ordered.iter().enumerate().skip(first) {
            let bound = if i == first { from } else { None };
            let rows = self.segment(*seg, bound, walk, want - out.len())?;
            out.extend(rows);
            if out.len() >= want {
                break;
            }
        }
        Ok(out)
    }

    fn segment(
        &self,
        seg: Segment,
        bound: Option<&Cursor>,
        walk: Walk,
        want: usize,
    ) -> Result<Vec<(SessionRow, SortValue)>, StoreError> {
        let (sql, args) = self.segment_sql(seg, bound, walk);
        self.rows(&format!("{sql} LIMIT {want}"), &args)
    }

    /// The rows of one segment past `bound`, in `walk` order, read along its index.
    fn segment_sql(
        &self,
        seg: Segment,
        bound: Option<&Cursor>,
        walk: Walk,
    ) -> (String, Vec<Value>) {
        let key = key_column(self.sort);
        // The list's own direction, turned round when walking back up it.
        let asc = (!self.desc) ^ (walk == Walk::Backward);
        let (dir, op) = if asc { ("ASC", ">") } else { ("DESC", "<") };
        let mut sql = format!(
            "SELECT {ROW_COLUMNS}, {key} FROM {} JOIN learners l ON l.id = s.learner_id
             WHERE {} AND s.attention_rank = {}",
            self.from,
            self.filter,
            u8::from(!seg.attention)
        );
        let mut args = self.args.to_vec();
        let order = if seg.null {
            sql.push_str(&format!(" AND {key} IS NULL"));
            if let Some(c) = bound {
                sql.push_str(&format!(" AND s.id {op} ?"));
                args.push(Value::Integer(c.id));
            }
            format!("s.id {dir}")
        } else {
            match bound {
                Some(c) => {
                    sql.push_str(&format!(" AND ({key}, s.id) {op} (?, ?)"));
                    args.push(sort_arg(&c.key));
                    args.push(Value::Integer(c.id));
                }
                None => sql.push_str(&format!(" AND {key} IS NOT NULL")),
            }
            format!("{key} {dir}, s.id {dir}")
        };
        sql.push_str(&format!(" ORDER BY {order}"));
        (sql, args)
    }

    /// The old offset paging: the rows from `offset` in list order. Whole segments before
    /// it are skipped by counting them in their index; the rest is skipped along the index
    /// of the order, never sorted.
    fn skip(
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
                    .prepare_cached(&format!("SELECT COUNT(*) FROM ({sql})"))?
                    .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
                let n = n.max(0) as u64;
                if offset >= n {
                    offset -= n;
                    continue;
                }
            }
            let page = format!("{sql} LIMIT {} OFFSET {offset}", want - out.len());
            offset = 0;
            out.extend(self.rows(&page, &args)?);
            if out.len() >= want {
                break;
            }
        }
        Ok(out)
    }

    fn rows(&self, sql: &str, args: &[Value]) -> Result<Vec<(SessionRow, SortValue)>, StoreError> {
        let mut stmt = self.c.prepare_cached(sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let key = match r.get::<_, Value>(super::read::ROW_COLUMN_COUNT)? {
                Value::Integer(i) => SortValue::Int(i),
                Value::Text(t) => SortValue::Text(t),
                Value::Null => SortValue::Null,
                other => {
                    return Err(StoreError::Backend(format!(
                        "unexpected sort value {other:?} in database"
                    )));
                }
            };
            out.push((session_row(r)?, key));
        }
        Ok(out)
    }
}

fn sort_arg(v: &SortValue) -> Value {
    match v {
        SortValue::Null => Value::Null,
        SortValue::Int(i) => Value::Integer(*i),
        SortValue::Text(t) => Value::Text(t.clone()),
    }
}
