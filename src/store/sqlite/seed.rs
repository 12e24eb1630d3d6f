//! Loads a demo data set into an empty database, in one transaction.

use super::timefmt::to_sql;
use crate::demo::DemoData;
use crate::store::StoreError;
use rusqlite::{Connection, params};

pub fn seed(c: &mut Connection, data: &DemoData) -> Result<(), StoreError> {
    let tx = c.transaction()?;
    {
        let mut course = tx.prepare("INSERT INTO courses (id, name) VALUES (?1, ?2)")?;
        for c in &data.courses {
            course.execute(params![c.id, c.name])?;
        }
        let mut exam = tx.prepare(
            "INSERT INTO exams (id, course_id, content_id, external_id, exam_name, time_limit_mins, is_proctored,
                                is_practice_exam, backend)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for e in &data.exams {
            exam.execute(params![
                e.id,
                e.course_id,
                e.content_id,
                e.external_id,
                e.exam_name,
                e.time_limit_mins,
                e.is_proctored,
                e.is_practice_exam,
                e.backend
            ])?;
        }
        let mut learner = tx.prepare(
            "INSERT INTO learners (id, username, email, full_name) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (i, l) in data.learners.iter().enumerate() {
            learner.execute(params![i as i64 + 1, l.username, l.email, l.full_name])?;
        }
        let mut session = tx.prepare(
            "INSERT INTO sessions (id, exam_id, learner_id, attempt_code, external_id, status, review_status,
                                   reviewed_by, started_at, completed_at, allowed_time_limit_mins, is_sample_attempt,
                                   track, grade_earned, grade_possible, grade_override, violation_count, created,
                                   modified)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?18)",
        )?;
        let mut violation = tx.prepare(
            "INSERT INTO violations (session_id, start_time, stop_time, duration, kind, status, comment)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for s in &data.sessions {
            session.execute(params![
                s.id,
                s.exam_id,
                s.learner as i64 + 1,
                s.attempt_code,
                s.external_id,
                s.status.as_str(),
                s.review_status.map(|r| r.as_str()),
                s.reviewed_by,
                s.started_at.map(to_sql),
                s.completed_at.map(to_sql),
                s.allowed_time_limit_mins,
                s.is_sample_attempt,
                s.track,
                s.original_grade.map(|g| g.earned),
                s.original_grade.map(|g| g.possible),
                s.grade_override,
                s.violations.len() as i64,
                to_sql(s.created),
            ])?;
            for v in &s.violations {
                violation.execute(params![
                    s.id,
                    v.start_time,
                    v.stop_time,
                    v.duration,
                    v.kind.as_str(),
                    v.status,
                    v.comment
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}
