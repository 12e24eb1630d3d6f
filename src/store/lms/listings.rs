//! What is read about Open edX, written once for both databases: the deliveries not
//! confirmed yet (`lms status`), the onboarding records an LMS asks for, the courses a
//! client's reconciliation walks, and how its last sync went.

use super::LmsOnboarding;
use crate::args;
use crate::domain::words::Word;
use crate::domain::{LmsState, Onboarding};
use crate::store::cells::Cells;
use crate::store::rows::parse;
use crate::store::timefmt::{from_sql, opt_from_sql, to_sql};
use crate::store::tx::Tx;
use crate::store::{LmsDelivery, StoreError};
use time::OffsetDateTime;

pub async fn undelivered(tx: &mut impl Tx) -> Result<Vec<LmsDelivery>, StoreError> {
    let rows = tx
        .rows(
            "SELECT s.id, s.external_id, l.username, e.exam_name, s.lms_state, s.lms_note,
                    COALESCE(j.attempts, 0), COALESCE(j.created, s.modified)
             FROM sessions s JOIN learners l ON l.id = s.learner_id JOIN exams e ON e.id = s.exam_id
             LEFT JOIN jobs j ON j.id = (SELECT MAX(id) FROM jobs
                                         WHERE session_id = s.id AND kind = 'lms_review')
             WHERE s.lms_state IN ('waiting', 'failed', 'conflict')
             ORDER BY COALESCE(j.created, s.modified), s.id",
            args![],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let state: String = r.cell(4)?;
            Ok(LmsDelivery {
                session_id: r.cell(0)?,
                external_id: r.cell(1)?,
                learner: r.cell(2)?,
                exam_name: r.cell(3)?,
                state: LmsState::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("bad lms_state '{state}'")))?,
                note: r.cell(5)?,
                attempts: u32::try_from(r.cell::<i64>(6)?).unwrap_or(u32::MAX),
                queued_at: from_sql(&r.cell::<String>(7)?)?,
            })
        })
        .collect()
}

/// The onboarding records of a course the client registered exams in (one learner's, or
/// everyone's), as the LMS names the learners.
pub async fn onboarding(
    tx: &mut impl Tx,
    client: &str,
    course: &str,
    user: Option<&str>,
) -> Result<Vec<LmsOnboarding>, StoreError> {
    let rows = tx
        .rows(
            "SELECT l.external_user_id, o.status, o.started_at, o.submitted_at, o.verified_at
             FROM onboarding o JOIN learners l ON l.id = o.learner_id
             WHERE o.course_id = ?1 AND l.external_user_id IS NOT NULL
               AND (CAST(?2 AS TEXT) IS NULL OR l.external_user_id = ?2)
               AND EXISTS (SELECT 1 FROM exams e WHERE e.course_id = ?1 AND e.lms_client = ?3)
             ORDER BY l.external_user_id",
            args![course, user, client],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(LmsOnboarding {
                user_id: r.cell(0)?,
                onboarding: Onboarding {
                    status: parse(&r.cell::<String>(1)?)?,
                    started_at: opt_from_sql(r.cell(2)?)?,
                    submitted_at: opt_from_sql(r.cell(3)?)?,
                    verified_at: opt_from_sql(r.cell(4)?)?,
                },
            })
        })
        .collect()
}

pub async fn courses(tx: &mut impl Tx, client: &str) -> Result<Vec<String>, StoreError> {
    tx.rows(
        "SELECT DISTINCT course_id FROM exams WHERE lms_client = ? ORDER BY 1",
        args![client],
    )
    .await?
    .iter()
    .map(|r| r.cell(0))
    .collect()
}

pub async fn sync_result(
    tx: &mut impl Tx,
    client: &str,
    error: Option<&str>,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE lms_clients SET last_sync_at = ?, last_sync_error = ? WHERE client_id = ?",
        args![to_sql(at), error, client],
    )
    .await?;
    Ok(())
}
