//! A page of the Sessions list, for both backends: its total, then its rows read segment
//! by segment along the index of the order. The SQL and the steps are the same; each
//! backend only sends it ([`Source`]) with its own argument type, since a list's scope may
//! hold an array (PostgreSQL) or a run of `?`s (SQLite), and finds the matching learners
//! with its own search index.

use crate::domain::query::{Cursor, Page, SessionFilter, SortKey, SortValue};
use crate::domain::words::Word;
use crate::domain::{AttemptStatus, SessionRow};
use crate::store::keyset::{self, Read, Segment, Walk, key_column};
use crate::store::queries::SESSION_ROW;
use crate::store::{StoreError, Tiers};
use std::future::Future;

/// Which sessions a list holds before the query's own filters: SQL over `s` and its args.
pub struct Scope<A> {
    pub filter: String,
    pub args: Vec<A>,
    /// Every row is Require Attention (the queue): its partial indexes apply.
    pub attention_only: bool,
    /// The exams whose counters give the total when there is no search.
    pub exams: Vec<i64>,
    pub tiers: Tiers,
}

/// How one search is answered.
pub enum Search<A> {
    /// No learner matches.
    Nobody,
    /// SQL over `s` keeping the sessions of the few learners who match, and its argument:
    /// their sessions are read by learner, then sorted (the total is exact).
    Few(String, A),
    /// SQL over `s` and `l` keeping each matching row of the list read in order, and its
    /// argument; `counted` keeps the sessions of the first `few` matching learners (the
    /// total is at least theirs: counting every one would cost more than the page).
    Many {
        test: String,
        arg: A,
        counted: (String, A),
    },
}

/// The page of the list `scope` and `q` ask for.
pub async fn page<S: Source>(
    source: &S,
    scope: Scope<S::Arg>,
    q: &SessionFilter,
) -> Result<Page<SessionRow>, StoreError> {
    let Scope {
        mut filter,
        mut args,
        attention_only,
        exams,
        tiers,
    } = scope;
    if !q.statuses.is_empty() {
        S::with_statuses(&mut filter, &mut args, &q.statuses);
    }
    let segments = keyset::segments(q, attention_only);
    let mut from = "sessions s";
    let mut at_least = false;
    // Counting filters never name the learner's own columns.
    let count = |filter: &str| format!("SELECT COUNT(*) FROM sessions s WHERE {filter}");
    let total = match source.search(&q.search, tiers).await? {
        None if exams.is_empty() => 0,
        None => {
            let statuses: Vec<&str> = if attention_only {
                vec![AttemptStatus::SecondReviewRequired.as_str()]
            } else {
                q.statuses.iter().map(|s| s.as_str()).collect()
            };
            source.counted(&exams, &statuses).await?
        }
        Some(Search::Nobody) => return Ok(Page::empty()),
        Some(Search::Few(sql, arg)) => {
            filter.push_str(&sql);
            args.push(arg);
            from = S::BY_LEARNER;
            source.count(&count(&filter), &args).await?
        }
        Some(Search::Many { test, arg, counted }) => {
            let mut some = filter.clone();
            some.push_str(&counted.0);
            let mut some_args = args.clone();
            some_args.push(counted.1);
            filter.push_str(&test);
            args.push(arg);
            at_least = true;
            source.count(&count(&some), &some_args).await?
        }
    };
    let reader = Reader {
        source,
        from,
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
    source.add_marks(&mut page.items).await?;
    Ok(page)
}

/// A connection as keyset paging uses it.
/// No `Send` is asked: each backend's futures are what they are, and PostgreSQL's, being
/// `Send`, keep its pages `Send`.
pub trait Source {
    type Arg: Clone + From<i64> + From<String>;

    /// Where a few learners' sessions are read by learner (an index hint, where taken).
    const BY_LEARNER: &'static str = "sessions s";

    /// Adds "the session has one of `statuses`" to `filter`.
    fn with_statuses(filter: &mut String, args: &mut Vec<Self::Arg>, statuses: &[AttemptStatus]);

    /// How `query` is best answered, or `None` when there is nothing to search for.
    fn search(
        &self,
        query: &str,
        tiers: Tiers,
    ) -> impl Future<Output = Result<Option<Search<Self::Arg>>, StoreError>>;

    /// The sessions of `exams` (some) with `statuses` (all when empty), from the
    /// counters table.
    fn counted(
        &self,
        exams: &[i64],
        statuses: &[&str],
    ) -> impl Future<Output = Result<u64, StoreError>>;

    /// Fills in where each row's violations fall, with one query for the whole page.
    fn add_marks(&self, rows: &mut [SessionRow]) -> impl Future<Output = Result<(), StoreError>>;

    /// The rows `sql` reads, each with the sort value in its last column.
    fn rows(
        &self,
        sql: &str,
        args: &[Self::Arg],
    ) -> impl Future<Output = Result<Vec<(SessionRow, SortValue)>, StoreError>>;

    /// The number the `COUNT(*)` in `sql` answers.
    fn count(&self, sql: &str, args: &[Self::Arg])
    -> impl Future<Output = Result<u64, StoreError>>;
}

/// One list's query, ready to read any part of it.
struct Reader<'a, S: Source> {
    source: &'a S,
    /// `sessions s`, with an index hint where the backend takes one.
    from: &'a str,
    filter: &'a str,
    args: &'a [S::Arg],
    sort: SortKey,
    desc: bool,
}

impl<S: Source> Reader<'_, S> {
    /// Up to `want` rows in `walk` direction through `segments`, starting just past `from`
    /// (or at the first or last segment's edge), in the order walked.
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
                .source
                .rows(&format!("{sql} LIMIT {}", want - out.len()), &args)
                .await?;
            out.extend(rows);
            if out.len() >= want {
                break;
            }
        }
        Ok(out)
    }

    /// The old offset paging: the rows from `offset` in list order. Whole segments before
    /// it are skipped by counting them in their index; the rest is skipped along the index
    /// of the order, never sorted.
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
                let counted = format!("SELECT COUNT(*) FROM ({sql}) seg");
                let n = self.source.count(&counted, &args).await?;
                if offset >= n {
                    offset -= n;
                    continue;
                }
            }
            let page = format!("{sql} LIMIT {} OFFSET {offset}", want - out.len());
            offset = 0;
            out.extend(self.source.rows(&page, &args).await?);
            if out.len() >= want {
                break;
            }
        }
        Ok(out)
    }

    /// The rows of one segment past `bound`, in `walk` order, read along its index. The
    /// rank leads the order although the filter fixes it: PostgreSQL then walks the index
    /// without sorting, and SQLite drops a term an `=` already decides.
    fn segment_sql(
        &self,
        seg: Segment,
        bound: Option<&Cursor>,
        walk: Walk,
    ) -> (String, Vec<S::Arg>) {
        let key = key_column(self.sort);
        // The list's own direction, turned round when walking back up it.
        let asc = (!self.desc) ^ (walk == Walk::Backward);
        let (dir, op) = if asc { ("ASC", ">") } else { ("DESC", "<") };
        let mut sql = format!(
            "SELECT {SESSION_ROW}, {key} FROM {} JOIN learners l ON l.id = s.learner_id
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
                args.push(c.id.into());
            }
            format!("s.id {dir}")
        } else {
            let after = bound.and_then(|c| match &c.key {
                SortValue::Null => None,
                SortValue::Int(v) => Some((S::Arg::from(*v), c.id)),
                SortValue::Text(v) => Some((S::Arg::from(v.clone()), c.id)),
            });
            match after {
                Some((v, id)) => {
                    sql.push_str(&format!(" AND ({key}, s.id) {op} (?, ?)"));
                    args.push(v);
                    args.push(id.into());
                }
                _ => sql.push_str(&format!(" AND {key} IS NOT NULL")),
            }
            format!("{key} {dir}, s.id {dir}")
        };
        sql.push_str(&format!(" ORDER BY s.attention_rank {dir}, {order}"));
        (sql, args)
    }
}
