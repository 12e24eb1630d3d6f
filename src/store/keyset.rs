//! What both backends' keyset paging share: which segments a list has, where a walk
//! starts, and how the rows read become a page with its cursors. Each backend only reads
//! the rows (SQL differs), between `read_for` and `assemble`.
//!
//! The list is Require Attention first, then the order, the id breaking ties; rows without
//! the sort value (never started, never finished) come last in each group. Each group and
//! each null/non-null part is a *segment* that one index serves in one direction.

use crate::domain::query::{Cursor, Page, PageFrom, SessionFilter, SortKey, SortValue};
use crate::domain::{AttemptStatus, SessionRow};

pub fn key_column(sort: SortKey) -> &'static str {
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
pub struct Segment {
    pub attention: bool,
    pub null: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    Forward,
    Backward,
}

/// The list's segments in list order, for the statuses `q` asks for.
pub fn segments(q: &SessionFilter, attention_only: bool) -> Vec<Segment> {
    let wants_attention =
        q.statuses.is_empty() || q.statuses.contains(&AttemptStatus::SecondReviewRequired);
    let others = q.statuses.is_empty()
        || q.statuses
            .iter()
            .any(|s| *s != AttemptStatus::SecondReviewRequired);
    let mut out = Vec::new();
    for attention in [true, false] {
        let wanted = if attention {
            wants_attention
        } else {
            others && !attention_only
        };
        if !wanted {
            continue;
        }
        out.push(Segment {
            attention,
            null: false,
        });
        if nullable(q.sort) {
            out.push(Segment {
                attention,
                null: true,
            });
        }
    }
    out
}

/// What a backend reads for a page: `want` rows walking from a cursor (or an edge), or
/// from an offset (the old paging).
pub enum Read<'a> {
    Walk(Walk, Option<&'a Cursor>),
    Skip(u64),
}

pub fn read_for(from: &PageFrom) -> Read<'_> {
    match from {
        PageFrom::Start => Read::Walk(Walk::Forward, None),
        PageFrom::Offset(n) => Read::Skip(*n),
        PageFrom::After(c) => Read::Walk(Walk::Forward, Some(c)),
        PageFrom::Before(c) => Read::Walk(Walk::Backward, Some(c)),
        PageFrom::End => Read::Walk(Walk::Backward, None),
    }
}

/// The segments in `walk` order from the one holding `from`, each with the bound it is
/// read past (only the first has one). Segments before the cursor's hold nothing wanted; a
/// cursor whose segment this list lacks (a filter changed) cannot be placed, so the walk
/// starts from the edge.
pub fn walk_from<'a>(
    segments: &[Segment],
    from: Option<&'a Cursor>,
    walk: Walk,
) -> Vec<(Segment, Option<&'a Cursor>)> {
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
    ordered
        .into_iter()
        .enumerate()
        .skip(first)
        .map(|(i, seg)| (seg, if i == first { from } else { None }))
        .collect()
}

/// The page made of `rows` (up to `limit + 1`, in the order read) with its offset and
/// cursors; the items still lack their violation marks.
pub fn assemble(
    q: &SessionFilter,
    total: u64,
    at_least: bool,
    mut rows: Vec<(SessionRow, SortValue)>,
) -> Page<SessionRow> {
    let limit = q.limit as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let (offset, has_prev, has_next) = match &q.from {
        PageFrom::Start => (0, false, more),
        PageFrom::Offset(n) => (*n, *n > 0, more),
        PageFrom::After(cur) => (cur.pos + 1, true, more),
        PageFrom::Before(cur) => {
            rows.reverse();
            let offset = if more {
                cur.pos.saturating_sub(rows.len() as u64).max(1)
            } else {
                0
            };
            (offset, more, true)
        }
        PageFrom::End => {
            rows.reverse();
            let offset = if more {
                total.saturating_sub(rows.len() as u64).max(1)
            } else {
                0
            };
            (offset, more, false)
        }
    };
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
    Page {
        total,
        offset,
        items: rows.into_iter().map(|(row, _)| row).collect(),
        prev,
        next,
        at_least,
    }
}
