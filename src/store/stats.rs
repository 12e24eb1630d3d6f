//! What the team's stats read, written once for both databases: the course's backlog from
//! the kept counts and the indexes, and its decision history since a day (by the
//! `decisions_by_time` index), tallied by `domain::stats`.

use super::StoreError;
use super::cells::Cells;
use super::timefmt::{from_sql, opt_from_sql, to_sql};
use super::tx::Tx;
use crate::args;
use crate::domain::stats::{Backlog, Entry};
use time::OffsetDateTime;

pub async fn backlog(tx: &mut impl Tx, course: &str) -> Result<Backlog, StoreError> {
    let r = tx
        .one(
            "SELECT
               (SELECT CAST(COALESCE(SUM(c.n), 0) AS BIGINT)
                FROM session_counts c JOIN exams e ON e.id = c.exam_id
                WHERE e.course_id = ? AND c.status = 'second_review_required'),
               (SELECT COUNT(*) FROM sessions s JOIN exams e ON e.id = s.exam_id
                WHERE e.course_id = ? AND s.awaiting_from IS NOT NULL),
               (SELECT MIN((SELECT MIN(s.started_at) FROM sessions s
                            WHERE s.exam_id = e.id AND s.attention_rank = 0))
                FROM exams e WHERE e.course_id = ?)",
            args![course, course, course],
        )
        .await?;
    let count = |i: usize| -> Result<u64, StoreError> { Ok(r.cell::<i64>(i)?.max(0) as u64) };
    Ok(Backlog {
        require_attention: count(0)?,
        awaiting_second_review: count(1)?,
        oldest_waiting_since: opt_from_sql(r.cell(2)?)?,
    })
}

/// The course's history entries from `from` on, oldest first.
pub async fn entries(
    tx: &mut impl Tx,
    course: &str,
    from: OffsetDateTime,
) -> Result<Vec<Entry>, StoreError> {
    tx.rows(
        // The window's entries first (by time), then their sessions: left to itself, a
        // planner walks every session of the course to find its few recent decisions.
        "WITH recent AS MATERIALIZED (
             SELECT id, session_id, reviewer_id, decided_at, verdict FROM decisions
             WHERE decided_at >= ?)
         SELECT d.session_id, r.username, d.decided_at, d.verdict, t.opened_secs
         FROM recent d JOIN reviewers r ON r.id = d.reviewer_id
         JOIN sessions s ON s.id = d.session_id JOIN exams e ON e.id = s.exam_id
         LEFT JOIN decision_timings t ON t.decision_id = d.id
         WHERE e.course_id = ? ORDER BY d.id",
        args![to_sql(from), course],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Entry {
            session_id: r.cell(0)?,
            reviewer: r.cell(1)?,
            decided_at: from_sql(&r.cell::<String>(2)?)?,
            verdict: r.cell(3)?,
            opened_secs: r
                .cell::<Option<i64>>(4)?
                .map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
        })
    })
    .collect()
}

/// Per exam, the sessions with a first opinion waiting, and how many of those are
/// `reviewer`'s own (read from the `sessions_awaiting` partial index).
pub async fn awaiting(tx: &mut impl Tx, reviewer: i64) -> Result<Vec<(i64, u64, u64)>, StoreError> {
    tx.rows(
        "SELECT exam_id, COUNT(*),
                CAST(SUM(CASE WHEN awaiting_from = ? THEN 1 ELSE 0 END) AS BIGINT)
         FROM sessions WHERE awaiting_from IS NOT NULL GROUP BY exam_id",
        args![reviewer],
    )
    .await?
    .iter()
    .map(|r| {
        let n = |i: usize| -> Result<u64, StoreError> { Ok(r.cell::<i64>(i)?.max(0) as u64) };
        Ok((r.cell(0)?, n(1)?, n(2)?))
    })
    .collect()
}
