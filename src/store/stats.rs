//! What the team's stats read, written once for both databases: the course's backlog from
//! the kept counts and the indexes, and its decision history since a day (by the
//! `decisions_by_time` index), tallied by `domain::stats`.

use super::StoreError;
use super::cells::Cells;
use super::timefmt::{from_sql, opt_from_sql, to_sql};
use super::tx::Tx;
use crate::args;
use crate::domain::stats::{Backlog, DAYS, Entry};
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
    let (require_attention, awaiting_second_review) = (count(0)?, count(1)?);
    let oldest_waiting_since = opt_from_sql(r.cell(2)?)?;
    // Those waiting now, by the day their exam ended, over the chart's days.
    let first_day = OffsetDateTime::now_utc().date() - time::Duration::days(DAYS as i64 - 1);
    let mut completed_by_day = Vec::new();
    for r in tx
        .rows(
            "SELECT substr(s.completed_at, 1, 10), COUNT(*)
             FROM sessions s JOIN exams e ON e.id = s.exam_id
             WHERE e.course_id = ? AND s.attention_rank = 0 AND s.started_at >= ?
               AND s.completed_at >= ?
             GROUP BY substr(s.completed_at, 1, 10)",
            // The start bounds the index range: no exam lasts two days.
            args![
                course,
                to_sql(first_day.midnight().assume_utc() - time::Duration::days(2)),
                to_sql(first_day.midnight().assume_utc())
            ],
        )
        .await?
    {
        let day: String = r.cell(0)?;
        let date = time::Date::parse(
            &day,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|e| StoreError::failed("bad completed_at", e))?;
        completed_by_day.push((date, r.cell::<i64>(1)?.max(0) as u64));
    }
    Ok(Backlog {
        require_attention,
        awaiting_second_review,
        oldest_waiting_since,
        completed_by_day,
    })
}

/// Whether a history entry took its session out of Require Attention (true) or put it
/// back (false).
fn attention_move(before: &str, after: &str) -> Option<bool> {
    const WAITING: &str = "second_review_required";
    match (before == WAITING, after == WAITING) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// The course's history entries from `from` on, oldest first.
pub async fn entries(
    tx: &mut impl Tx,
    course: &str,
    from: OffsetDateTime,
) -> Result<Vec<Entry>, StoreError> {
    tx.rows(
        // The window's entries first (by time), then each one's session and exam by key:
        // left to itself, a planner walks every session of the course to find its few
        // recent decisions (the `+` keeps it off the sessions' exam index).
        "WITH recent AS MATERIALIZED (
             SELECT id, session_id, reviewer_id, decided_at, verdict, status_before, status_after
             FROM decisions
             WHERE decided_at >= ?)
         SELECT d.session_id, r.username, d.decided_at, d.verdict, t.opened_secs,
                d.status_before, d.status_after, s.completed_at
         FROM recent d JOIN reviewers r ON r.id = d.reviewer_id
         JOIN sessions s ON s.id = d.session_id JOIN exams e ON e.id = +s.exam_id
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
            moved: attention_move(&r.cell::<String>(5)?, &r.cell::<String>(6)?),
            session_completed: opt_from_sql(r.cell(7)?)?,
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
