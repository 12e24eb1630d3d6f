//! The rows of the Proctored Exam Results report, written once for both databases: exam by
//! exam (by name, then id), attempts newest first, read in parts of [`PART`] so memory stays
//! flat however large the course: through a cursor where the database has one (see
//! [`Tx::cursor`]), else along the (exam, created) index.

use super::StoreError;
use super::cells::Cells;
use super::timefmt::opt_from_sql;
use super::tx::{Arg, Tx};
use crate::args;
use crate::domain::{RULES_VIOLATION, ReportRow};
use std::collections::HashMap;

const SUSPICIOUS: &str = "Suspicious";
/// Attempts read at a time.
const PART: i64 = 2000;

pub async fn count(tx: &mut impl Tx, course: &str) -> Result<u64, StoreError> {
    let n: i64 = tx
        .one(
            "SELECT COUNT(*) FROM sessions s JOIN exams e ON e.id = s.exam_id WHERE e.course_id = ?",
            args![course],
        )
        .await?
        .cell(0)?;
    Ok(n.max(0) as u64)
}

/// An exam's attempts as the report lists them; `WHERE` and `ORDER BY` are added.
const ATTEMPTS: &str =
    "SELECT s.id, l.username, l.email, s.attempt_code, s.allowed_time_limit_mins,
        s.is_sample_attempt, s.started_at, s.completed_at, s.status,
        s.review_status, s.track, s.violation_count, s.created
 FROM sessions s JOIN learners l ON l.id = s.learner_id";
const NEWEST_FIRST: &str = " ORDER BY s.created DESC, s.id DESC";

/// The exam whose rows are being written.
struct Exam {
    name: String,
    practice: bool,
    backend: Option<String>,
}

/// Hands every row to `each`; how many there were.
pub async fn stream<T: Tx>(
    tx: &mut T,
    course: &str,
    each: &mut (dyn FnMut(ReportRow) -> Result<(), super::BoxError> + Send),
) -> Result<u64, StoreError> {
    let exams = tx
        .rows(
            "SELECT id, exam_name, is_practice_exam, backend FROM exams WHERE course_id = ?
             ORDER BY exam_name, id",
            args![course],
        )
        .await?;
    let mut n = 0;
    for row in &exams {
        let exam_id: i64 = row.cell(0)?;
        let exam = Exam {
            name: row.cell(1)?,
            practice: row.cell(2)?,
            backend: row.cell(3)?,
        };
        let whole = format!("{ATTEMPTS} WHERE s.exam_id = ?{NEWEST_FIRST}");
        if let Some(cursor) = tx.cursor(&whole, args![exam_id]).await? {
            loop {
                let part = tx.fetch(&cursor, PART).await?;
                if part.is_empty() {
                    break;
                }
                n += write_part(tx, course, &exam, &part, each).await?;
            }
            continue;
        }
        let mut after: Option<(String, i64)> = None;
        loop {
            // The first part, then each after the last row read: a bound without an OR, so
            // both databases read straight along the index.
            let (bound, args) = match after.clone() {
                None => ("", args![exam_id, PART]),
                Some((created, id)) => (
                    " AND (s.created, s.id) < (?3, ?4)",
                    args![exam_id, PART, created, id],
                ),
            };
            let sql = format!("{ATTEMPTS} WHERE s.exam_id = ?1{bound}{NEWEST_FIRST} LIMIT ?2");
            let part = tx.rows(&sql, args).await?;
            let Some(last) = part.last() else { break };
            after = Some((last.cell(12)?, last.cell(0)?));
            n += write_part(tx, course, &exam, &part, each).await?;
        }
    }
    Ok(n)
}

/// Hands a part's rows, with their comments, to `each`; how many there were.
async fn write_part<T: Tx>(
    tx: &mut T,
    course: &str,
    exam: &Exam,
    part: &[T::Row],
    each: &mut (dyn FnMut(ReportRow) -> Result<(), super::BoxError> + Send),
) -> Result<u64, StoreError> {
    // Practice exams' reviews are not joined, as upstream: their review data is empty.
    let mut flagged = Vec::new();
    for r in part {
        if !exam.practice && r.cell::<Option<String>>(9)?.is_some() && r.cell::<i64>(11)? > 0 {
            flagged.push(r.cell::<i64>(0)?);
        }
    }
    let mut comments = comments_of(tx, &flagged).await?;
    for r in part {
        let review_status: Option<String> = if exam.practice { None } else { r.cell(9)? };
        let id: i64 = r.cell(0)?;
        let (suspicious, rules_violation) = comments.remove(&id).unwrap_or_default();
        let row = ReportRow {
            course_id: course.to_owned(),
            provider: exam.backend.clone(),
            track: r.cell(10)?,
            exam_name: exam.name.clone(),
            username: r.cell(1)?,
            email: r.cell(2)?,
            attempt_code: r.cell(3)?,
            allowed_time_limit_mins: r.cell(4)?,
            is_sample_attempt: r.cell(5)?,
            started_at: opt_from_sql(r.cell(6)?)?,
            completed_at: opt_from_sql(r.cell(7)?)?,
            status: r.cell(8)?,
            review_status,
            suspicious,
            rules_violation,
        };
        each(row).map_err(|e| StoreError::failed("cannot write a report row", e))?;
    }
    Ok(part.len() as u64)
}

/// The suspicious and rules-violation comments of `sessions`, in order, with one query a
/// part: the list is always [`PART`] long (padded with an id no session has), so each
/// database keeps one prepared statement for it.
async fn comments_of(
    tx: &mut impl Tx,
    sessions: &[i64],
) -> Result<HashMap<i64, (Vec<String>, Vec<String>)>, StoreError> {
    let mut out: HashMap<i64, (Vec<String>, Vec<String>)> = HashMap::new();
    if sessions.is_empty() {
        return Ok(out);
    }
    let marks = vec!["?"; PART as usize].join(",");
    let sql = format!(
        "SELECT session_id, status, comment FROM violations
         WHERE session_id IN ({marks}) AND status IN (?, ?) ORDER BY session_id, id"
    );
    let mut args: Vec<Arg> = sessions.iter().map(|id| Arg::Int(*id)).collect();
    args.resize(PART as usize, Arg::Int(-1));
    args.push(SUSPICIOUS.into());
    args.push(RULES_VIOLATION.into());
    for v in tx.rows(&sql, args).await? {
        let (suspicious, rules) = out.entry(v.cell(0)?).or_default();
        let status: String = v.cell(1)?;
        let text: String = v.cell(2)?;
        if status == SUSPICIOUS {
            suspicious.push(text);
        } else {
            rules.push(text);
        }
    }
    Ok(out)
}
