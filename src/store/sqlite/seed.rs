//! Loads a demo data set into an empty database, in one transaction.

use super::evidence;
use super::timefmt::to_sql;
use crate::store::seed::SeedData;
use crate::store::{NewMedia, NewOnboarding, StoreError};
use rusqlite::{Connection, params};

pub fn seed(c: &mut Connection, data: &SeedData) -> Result<(), StoreError> {
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
            "INSERT INTO violations (id, session_id, start_time, stop_time, duration, kind, status, comment)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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
                    v.id,
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
    seed_evidence(&tx, data)?;
    tx.commit()?;
    Ok(())
}

/// The demo's evidence rows; whoever seeds puts their files in the media folder.
fn seed_evidence(tx: &Connection, data: &SeedData) -> Result<(), StoreError> {
    let media: Vec<NewMedia> = data
        .media
        .iter()
        .map(|m| NewMedia {
            label: m.asset.to_owned(),
            session_id: m.session_id,
            kind: m.kind,
            content_type: m.content_type,
            size: m.size,
            sha256: m.sha256.clone(),
            offset_start: m.offset_start,
            offset_end: m.offset_end,
            captured_at: m.captured_at,
            violation_id: m.violation_id,
            scan_result: m.scan_result,
            face_match_score: m.face_match_score,
        })
        .collect();
    evidence::seed_media(tx, &media)?;
    let onboarding: Vec<NewOnboarding> = data
        .onboarding
        .iter()
        .map(|(session_id, o)| NewOnboarding {
            label: "demo onboarding".into(),
            session_id: *session_id,
            onboarding: o.clone(),
        })
        .collect();
    evidence::set_onboarding(tx, &onboarding)
}
