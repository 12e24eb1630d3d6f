//! The rows of the Proctored Exam Results report, streamed exam by exam, newest attempt
//! first, so memory stays flat however large the course.

use crate::domain::{RULES_VIOLATION, ReportRow};
use crate::store::StoreError;
use crate::store::timefmt::opt_from_sql;
use tokio_postgres::GenericClient;

const SUSPICIOUS: &str = "Suspicious";

pub async fn count<C: GenericClient + Sync>(c: &C, course: &str) -> Result<u64, StoreError> {
    let n: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM sessions s JOIN exams e ON e.id = s.exam_id WHERE e.course_id = $1",
            &[&course],
        )
        .await?
        .try_get(0)?;
    Ok(n.max(0) as u64)
}

/// Hands every row to `each`, exams by name (then id), attempts newest first.
pub async fn stream<C: GenericClient + Sync>(
    c: &C,
    course: &str,
    each: &mut (dyn FnMut(ReportRow) -> Result<(), String> + Send),
) -> Result<u64, StoreError> {
    let exams = c
        .query(
            "SELECT id, exam_name, is_practice_exam, backend FROM exams WHERE course_id = $1
             ORDER BY exam_name, id",
            &[&course],
        )
        .await?;
    let comments = c
        .prepare(
            "SELECT status, comment FROM violations WHERE session_id = $1 AND status IN ($2, $3)
             ORDER BY id",
        )
        .await?;
    let mut n = 0;
    for exam in &exams {
        let exam_id: i64 = exam.try_get(0)?;
        let exam_name: String = exam.try_get(1)?;
        let practice: bool = exam.try_get(2)?;
        let backend: Option<String> = exam.try_get(3)?;
        // Read in parts along (created, id): comments are looked up between them on the
        // same connection.
        let mut after: Option<(String, i64)> = None;
        loop {
            let (created, id) = after.clone().unzip();
            let part = c
                .query(
                    "SELECT s.id, l.username, l.email, s.attempt_code, s.allowed_time_limit_mins,
                            s.is_sample_attempt, s.started_at, s.completed_at, s.status,
                            s.review_status, s.track, s.violation_count, s.created
                     FROM sessions s JOIN learners l ON l.id = s.learner_id
                     WHERE s.exam_id = $1 AND ($2::text IS NULL OR (s.created, s.id) < ($2, $3))
                     ORDER BY s.created DESC, s.id DESC LIMIT 2000",
                    &[&exam_id, &created, &id],
                )
                .await?;
            let Some(last) = part.last() else { break };
            after = Some((last.try_get(12)?, last.try_get(0)?));
            for r in &part {
                // Practice exams' reviews are not joined, as upstream: their review data is empty.
                let review_status: Option<String> = if practice { None } else { r.try_get(9)? };
                let mut row = ReportRow {
                    course_id: course.to_owned(),
                    provider: backend.clone(),
                    track: r.try_get(10)?,
                    exam_name: exam_name.clone(),
                    username: r.try_get(1)?,
                    email: r.try_get(2)?,
                    attempt_code: r.try_get(3)?,
                    allowed_time_limit_mins: r.try_get(4)?,
                    is_sample_attempt: r.try_get(5)?,
                    started_at: opt_from_sql(r.try_get(6)?)?,
                    completed_at: opt_from_sql(r.try_get(7)?)?,
                    status: r.try_get(8)?,
                    review_status,
                    suspicious: Vec::new(),
                    rules_violation: Vec::new(),
                };
                let violations: i64 = r.try_get(11)?;
                if row.review_status.is_some() && violations > 0 {
                    let id: i64 = r.try_get(0)?;
                    for v in c
                        .query(&comments, &[&id, &SUSPICIOUS, &RULES_VIOLATION])
                        .await?
                    {
                        let status: &str = v.try_get(0)?;
                        let text: String = v.try_get(1)?;
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
    }
    Ok(n)
}
