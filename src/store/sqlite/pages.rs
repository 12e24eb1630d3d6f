//! Pages of the Sessions list read straight from the index of their order (keyset paging):
//! a page after, before or at the end of the list costs the same as the first one, however
//! many sessions the exam holds. Segments, cursors and the page's shape are `store::keyset`'s;
//! a page is at most a few small range reads (indexes in migration 0011).

use super::read::{add_marks, session_row};
use super::search::Search;
use crate::domain::query::{Cursor, Page, SessionFilter, SortKey, SortValue};
use crate::domain::{AttemptStatus, SessionRow};
use crate::store::StoreError;
use crate::store::keyset::{self, Read, Segment, Walk, key_column};
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

const ROW_COLUMNS: &str = super::read::ROW_COLUMNS;

pub fn page(
    c: &Connection,
    scope: Scope,
    q: &SessionFilter,
) -> Result<Page<SessionRow>, StoreError> {
    let mut filter = scope.filter.clone();
    let mut args = scope.args.clone();
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
    let segments = keyset::segments(q, scope.attention_only);
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
    let want = q.limit as usize + 1;
    let rows = match keyset::read_for(&q.from) {
        Read::Walk(walk, from) => reader.walk(&segments, from, walk, want)?,
        Read::Skip(n) => reader.skip(&segments, n, want)?,
    };
    let mut page = keyset::assemble(q, total, at_least, rows);
    add_marks(c, &mut page.items)?;
    Ok(page)
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
        let mut out = Vec::new();
        for (seg, bound) in keyset::walk_from(segments, from, walk) {
            let rows = self.segment(seg, bound, walk, want - out.len())?;
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
