//! Reviews on their way to an LMS, written once for both databases: queued (a decision's,
//! or the pipeline's automated review), what became of each delivery, a resend, and what an
//! undo puts back.

use super::{LmsOutcome, LmsReviewJob, SessionLms, restored_by, superseded_note};
use crate::args;
use crate::domain::lms::{AutomatedReview, ReviewCallback, ReviewTarget, status_after_review};
use crate::domain::words::Word;
use crate::domain::{AttemptStatus, JobId, JobKind, LmsState, SessionDetail, SessionId};
use crate::store::cells::Cells;
use crate::store::jobs::{NewJob, enqueue, payload};
use crate::store::queries::{
    DECISION_CALLBACK, REQUEUE_SUPERSEDED, RESTORE_DELIVERY, SESSION_LMS, SUPERSEDE_REVIEWS,
};
use crate::store::rows::parse;
use crate::store::timefmt::to_sql;
use crate::store::tx::Tx;
use crate::store::{StoreError, job_outcomes};
use time::OffsetDateTime;

/// Queues a review job for the session, due at `due`, retiring any earlier one still
/// waiting: only the latest word on a session may reach the LMS.
async fn queue_review(
    tx: &mut impl Tx,
    job: &LmsReviewJob,
    decision: Option<i64>,
    due: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<JobId, StoreError> {
    tx.exec(
        SUPERSEDE_REVIEWS,
        args![superseded_note(job.decision_id), to_sql(at), job.session_id],
    )
    .await?;
    let review = NewJob {
        payload: payload(job)?,
        course: Some(&job.course_id),
        session: Some(job.session_id),
        decision,
        ..NewJob::new(JobKind::LmsReview, due, at)
    };
    let id = enqueue(tx, &review).await?;
    tx.exec(
        "UPDATE sessions SET lms_state = 'waiting', lms_note = NULL WHERE id = ?",
        args![job.session_id],
    )
    .await?;
    Ok(id)
}

/// The LMS that registered the session, if one did.
pub async fn session_lms(
    tx: &mut impl Tx,
    id: SessionId,
) -> Result<Option<SessionLms>, StoreError> {
    tx.row(SESSION_LMS, args![id])
        .await?
        .as_ref()
        .map(crate::store::rows::session_lms)
        .transpose()
}

/// What a decision asks of [`queue_decision`]: the review, and when it may leave.
pub struct DecisionReview {
    pub session: SessionId,
    pub decision_id: i64,
    pub callback: ReviewCallback,
    pub expect: AttemptStatus,
    pub at: OffsetDateTime,
    /// The grace period to undo: nobody is told before it has passed.
    pub hold_until: OffsetDateTime,
}

/// The decision's callback, queued in the decision's own transaction (none if no LMS
/// registered the session).
pub async fn queue_decision(
    tx: &mut impl Tx,
    d: DecisionReview,
) -> Result<Option<JobId>, StoreError> {
    let Some(link) = session_lms(tx, d.session).await? else {
        return Ok(None);
    };
    let job = link.job(d.session, Some(d.decision_id), d.callback, d.expect);
    queue_review(tx, &job, Some(d.decision_id), d.hold_until, d.at)
        .await
        .map(Some)
}

/// The recording pipeline's review: its flagged moments replace the ones no evidence names,
/// the session moves to what the review means, and the LMS is told.
pub async fn automated_review(
    tx: &mut impl Tx,
    session: SessionId,
    review: &AutomatedReview,
) -> Result<SessionDetail, StoreError> {
    let callback = review.callback().map_err(StoreError::Invalid)?;
    let held = tx.for_update();
    let sql = format!(
        "SELECT status, completed_at IS NOT NULL, is_sample_attempt FROM sessions WHERE id = ?{held}"
    );
    let r = tx
        .row(&sql, args![session])
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no session with id {session}")))?;
    let from: AttemptStatus = parse(&r.cell::<String>(0)?)?;
    if !from.is_completed() {
        return Err(StoreError::Invalid(format!(
            "session {session} is {}: only a finished recording can be reviewed",
            from.as_str()
        )));
    }
    let target = ReviewTarget {
        completed: r.cell(1)?,
        is_sample_attempt: r.cell(2)?,
    };
    let to = status_after_review(target, review.status, false);
    let now = OffsetDateTime::now_utc();
    tx.exec(
        "DELETE FROM violations WHERE session_id = ?
           AND NOT EXISTS (SELECT 1 FROM media WHERE media.violation_id = violations.id)",
        args![session],
    )
    .await?;
    for (c, k) in callback.comments.iter().zip(&review.comments) {
        tx.exec(
            "INSERT INTO violations (session_id, start_time, stop_time, duration, kind, status, comment)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            args![
                session,
                c.start,
                c.stop,
                c.duration,
                k.kind.as_str(),
                &c.status,
                &c.comment
            ],
        )
        .await?;
    }
    tx.exec(
        "UPDATE sessions SET status = ?1, review_status = ?2, reviewed_by = NULL, modified = ?3,
             violation_count = (SELECT COUNT(*) FROM violations WHERE session_id = ?4)
         WHERE id = ?4",
        args![
            to.as_str(),
            review.status.review_status().as_str(),
            to_sql(now),
            session
        ],
    )
    .await?;
    if let Some(link) = session_lms(tx, session).await? {
        let job = link.job(session, None, callback, to);
        queue_review(tx, &job, None, now, now).await?;
    }
    tx.session_detail(session).await
}

/// Records what became of a delivery, on its job and on its session.
pub async fn delivery_outcome(
    tx: &mut impl Tx,
    job: JobId,
    outcome: &LmsOutcome,
) -> Result<(), StoreError> {
    let now = OffsetDateTime::now_utc();
    let session: Option<i64> = tx
        .row("SELECT session_id FROM jobs WHERE id = ?", args![job])
        .await?
        .map(|r| r.cell::<Option<i64>>(0))
        .transpose()?
        .flatten();
    let (state, note) = match outcome {
        LmsOutcome::Delivered { note } => {
            job_outcomes::done(tx, job, None, now).await?;
            (LmsState::Delivered, note.as_str())
        }
        LmsOutcome::Retry { error, next } => {
            job_outcomes::retry(tx, job, error, *next).await?;
            (LmsState::Waiting, error.as_str())
        }
        LmsOutcome::Failed { error } => {
            job_outcomes::failed(tx, job, error, now).await?;
            (LmsState::Failed, error.as_str())
        }
    };
    if let Some(session) = session {
        tx.exec(
            "UPDATE sessions SET lms_state = ?, lms_note = ? WHERE id = ?",
            args![state.as_str(), note, session],
        )
        .await?;
    }
    Ok(())
}

/// Sends the session's latest delivery now: a failed one again, a waiting one without
/// waiting out its backoff.
pub async fn retry(tx: &mut impl Tx, session: SessionId) -> Result<SessionDetail, StoreError> {
    let held = tx.for_update();
    let sql = format!(
        "SELECT id FROM jobs WHERE session_id = ? AND kind = 'lms_review'
             AND (state = 'queued' OR (state = 'failed'
                  AND COALESCE(last_error, '') NOT LIKE 'superseded by %'
                  AND COALESCE(last_error, '') <> 'conflict: changed in Open edX'))
         ORDER BY id DESC LIMIT 1{held}"
    );
    let Some(job) = tx.row(&sql, args![session]).await? else {
        return Err(StoreError::Conflict(format!(
            "session {session} has no waiting or failed delivery to Open edX to retry"
        )));
    };
    let job: i64 = job.cell(0)?;
    tx.exec(
        "UPDATE jobs SET state = 'queued', attempts = 0, next_attempt_at = ?, finished_at = NULL
         WHERE id = ?",
        args![to_sql(OffsetDateTime::now_utc()), job],
    )
    .await?;
    tx.exec(
        "UPDATE sessions SET lms_state = 'waiting', lms_note = NULL WHERE id = ?",
        args![session],
    )
    .await?;
    tx.session_detail(session).await
}

/// After an undo: the undone decision's callback restores the delivery it replaced, and
/// the reviews it superseded are queued again, due now.
pub async fn restore_delivery(
    tx: &mut impl Tx,
    session: SessionId,
    decision: i64,
    at: &str,
) -> Result<(), StoreError> {
    let payload = tx
        .row(DECISION_CALLBACK, args![decision])
        .await?
        .map(|r| r.cell::<String>(0))
        .transpose()?;
    let Some(before) = restored_by(payload)? else {
        return Ok(());
    };
    tx.exec(
        REQUEUE_SUPERSEDED,
        args![at, session, superseded_note(Some(decision))],
    )
    .await?;
    tx.exec(RESTORE_DELIVERY, args![before.state, before.note, session])
        .await?;
    Ok(())
}
