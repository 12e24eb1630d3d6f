//! The rows of the Proctored Exam Results report, streamed: each exam's attempts are read
//! newest first from an index, so memory stays flat however large the course.

use crate::domain::{RULES_VIOLATION, ReportRow};
use crate::store::StoreError;
use crate::store::timefmt::opt_from_sql;
use rusqlite::{Connection, params};

const SUSPICIOUS: &str = "Suspicious";

pub fn count(c: &Connection, course: &str) -> Result<u64, StoreError> {
    let n: i64 = c.query_row(
        "SELECT COUNT(*) FROM sessions s JOIN exams e ON e.id = s.exam_id WHERE e.course_id = ?1",
        [course],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

/// Hands every row to `each`, exams by name (then id), attempts newest first.
pub fn stream(
    c: &Connection,
    course: &str,
    each: &mut dyn FnMut(ReportRow) -> Result<(), String>,
) -> Result<u64, StoreError> {
    let mut exams = c.prepare(
        "SELECT id, exam_name, is_practice_exam, backend FROM exams WHERE course_id = ?1
         ORDER BY exam_name, id",
    )?;
    let exams = exams
        .query_map([course], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut attempts = c.prepare(
        "SELECT s.id, l.username, l.email, s.attempt_code, s.allowed_time_limit_mins,
                s.is_sample_attempt, s.started_at, s.completed_at, s.status, s.review_status,
                s.track, s.violation_count
         FROM sessions s INDEXED BY sessions_by_exam_created JOIN learners l ON l.id = s.learner_id
         WHERE s.exam_id = ?1 ORDER BY s.created DESC, s.id DESC",
    )?;
    let mut comments = c.prepare(
        "SELECT status, comment FROM violations WHERE session_id = ?1 AND status IN (?2, ?3)
         ORDER BY id",
    )?;
    let mut n = 0;
    for (exam_id, exam_name, practice, backend) in exams {
        let mut rows = attempts.query([exam_id])?;
        while let Some(r) = rows.next()? {
            // Practice exams' reviews are not joined, as upstream: their review data is empty.
            let review_status: Option<String> = if practice { None } else { r.get(9)? };
            let mut row = ReportRow {
                course_id: course.to_owned(),
                provider: backend.clone(),
                track: r.get(10)?,
                exam_name: exam_name.clone(),
                username: r.get(1)?,
                email: r.get(2)?,
                attempt_code: r.get(3)?,
                allowed_time_limit_mins: r.get(4)?,
                is_sample_attempt: r.get(5)?,
                started_at: opt_from_sql(r.get(6)?)?,
                completed_at: opt_from_sql(r.get(7)?)?,
                status: r.get(8)?,
                review_status,
                suspicious: Vec::new(),
                rules_violation: Vec::new(),
            };
            let violations: i64 = r.get(11)?;
            if row.review_status.is_some() && violations > 0 {
                let id: i64 = r.get(0)?;
                let mut found = comments.query(params![id, SUSPICIOUS, RULES_VIOLATION])?;
                while let Some(v) = found.next()? {
                    let status: String = v.get(0)?;
                    let text: String = v.get(1)?;
                    if status == SUSPICIOUS {
                        row.suspicious.push(text);
                    } else {
                        row.rules_violation.push(text);
                    }
                }
            }
            each(row).map_err(StoreError::Backend)?;
            n += 1;
        }
    }
    Ok(n)
}
