//! Open edX in SQL: clients, the exams and attempts an LMS registered, reviews queued for its
//! callback and what became of them, retirement, and reconciliation with the LMS's listing.

use super::{jobs, read};
use crate::domain::lms::{AutomatedReview, ReviewTarget, status_after_review};
use crate::domain::{AttemptStatus, JobId, JobKind, LmsState, SessionDetail, SessionId};
use crate::store::lms::{SessionLms, conflict_note, sync_decision};
use crate::store::timefmt::to_sql;
use crate::store::{LmsOutcome, LmsReviewJob, Reconciled, RemoteAttempt, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;

fn status(s: &str) -> Result<AttemptStatus, StoreError> {
    s.parse()
        .map_err(|e: crate::domain::status::UnknownStatus| StoreError::Backend(e.to_string()))
}

/// Inserts a review job for the session, retiring any earlier one still waiting: only the
/// latest word on a session may reach the LMS.
pub fn queue_review(
    tx: &Connection,
    job: &LmsReviewJob,
    at: OffsetDateTime,
) -> Result<JobId, StoreError> {
    tx.execute(
        crate::store::queries::SUPERSEDE_REVIEWS,
        params![
            crate::store::lms::superseded_note(job.decision_id),
            to_sql(at),
            job.session_id
        ],
    )?;
    let payload = serde_json::to_string(job).map_err(|e| StoreError::Backend(e.to_string()))?;
    let id = jobs::insert(
        tx,
        JobKind::LmsReview,
        &payload,
        Some(&job.course_id),
        None,
        at,
    )?;
    tx.execute(
        "UPDATE jobs SET session_id = ?1 WHERE id = ?2",
        params![job.session_id, id],
    )?;
    tx.execute(
        "UPDATE sessions SET lms_state = 'waiting', lms_note = NULL WHERE id = ?1",
        [job.session_id],
    )?;
    Ok(id)
}

pub fn session_lms(c: &Connection, id: SessionId) -> Result<Option<SessionLms>, StoreError> {
    Ok(c.prepare_cached(crate::store::queries::SESSION_LMS)?
        .query_row([id], |r| {
            Ok(SessionLms {
                client: r.get(0)?,
                course_id: r.get(1)?,
                external_id: r.get(2)?,
                learner_email: r.get(3)?,
                before: crate::store::lms::DeliveryBefore {
                    state: r.get(4)?,
                    note: r.get(5)?,
                },
            })
        })
        .optional()?)
}

/// The decision's callback, queued in the decision's own transaction.
pub fn queue_decision(
    tx: &Connection,
    session: SessionId,
    decision_id: i64,
    callback: crate::domain::lms::ReviewCallback,
    expect: AttemptStatus,
    at: OffsetDateTime,
) -> Result<Option<JobId>, StoreError> {
    let Some(link) = session_lms(tx, session)? else {
        return Ok(None);
    };
    let job = link.job(session, Some(decision_id), callback, expect);
    queue_review(tx, &job, at).map(Some)
}

pub fn automated_review(
    c: &mut Connection,
    session: SessionId,
    review: &AutomatedReview,
) -> Result<SessionDetail, StoreError> {
    let callback = review.callback().map_err(StoreError::Invalid)?;
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (st, completed, sample): (String, bool, bool) = tx
        .query_row(
            "SELECT status, completed_at IS NOT NULL, is_sample_attempt FROM sessions WHERE id = ?1",
            [session],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no session with id {session}")))?;
    let from = status(&st)?;
    if !from.is_completed() {
        return Err(StoreError::Invalid(format!(
            "session {session} is {}: only a finished recording can be reviewed",
            from.as_str()
        )));
    }
    let to = status_after_review(
        ReviewTarget {
            completed,
            is_sample_attempt: sample,
        },
        review.status,
        false,
    );
    let now = OffsetDateTime::now_utc();
    tx.execute("DELETE FROM violations WHERE session_id = ?1 AND NOT EXISTS (SELECT 1 FROM media WHERE media.violation_id = violations.id)", [session])?;
    for (c, k) in callback.comments.iter().zip(&review.comments) {
        tx.execute(
            "INSERT INTO violations (session_id, start_time, stop_time, duration, kind, status, comment)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![session, c.start, c.stop, c.duration, k.kind.as_str(), c.status, c.comment],
        )?;
    }
    tx.execute(
        "UPDATE sessions SET status = ?1, review_status = ?2, reviewed_by = NULL, modified = ?3,
             violation_count = (SELECT COUNT(*) FROM violations WHERE session_id = ?4)
         WHERE id = ?4",
        params![
            to.as_str(),
            review.status.review_status().as_str(),
            to_sql(now),
            session
        ],
    )?;
    if let Some(link) = session_lms(&tx, session)? {
        queue_review(&tx, &link.job(session, None, callback, to), now)?;
    }
    let detail = read::session(&tx, session)?;
    tx.commit()?;
    Ok(detail)
}

pub fn delivery_outcome(
    c: &mut Connection,
    job: JobId,
    outcome: &LmsOutcome,
) -> Result<(), StoreError> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = OffsetDateTime::now_utc();
    let session: Option<i64> =
        tx.query_row("SELECT session_id FROM jobs WHERE id = ?1", [job], |r| {
            r.get(0)
        })?;
    let (state, note) = match outcome {
        LmsOutcome::Delivered { note } => {
            jobs::done(&tx, job, None, now)?;
            (LmsState::Delivered, Some(note.as_str()))
        }
        LmsOutcome::Retry { error, next } => {
            jobs::retry(&tx, job, error, *next)?;
            (LmsState::Waiting, Some(error.as_str()))
        }
        LmsOutcome::Failed { error } => {
            jobs::failed(&tx, job, error, now)?;
            (LmsState::Failed, Some(error.as_str()))
        }
    };
    if let Some(session) = session {
        tx.execute(
            "UPDATE sessions SET lms_state = ?1, lms_note = ?2 WHERE id = ?3",
            params![state.as_str(), note, session],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Sends the session's latest delivery now: a failed one again, a waiting one without
/// waiting out its backoff.
pub fn retry(c: &mut Connection, session: SessionId) -> Result<SessionDetail, StoreError> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let job: Option<i64> = tx
        .query_row(
            "SELECT id FROM jobs WHERE session_id = ?1 AND kind = 'lms_review'
                 AND (state = 'queued' OR (state = 'failed'
                      AND COALESCE(last_error, '') NOT LIKE 'superseded by %'
                      AND COALESCE(last_error, '') <> 'conflict: changed in Open edX'))
             ORDER BY id DESC LIMIT 1",
            [session],
            |r| r.get(0),
        )
        .optional()?;
    let Some(job) = job else {
        return Err(StoreError::Conflict(format!(
            "session {session} has no waiting or failed delivery to Open edX to retry"
        )));
    };
    let now = to_sql(OffsetDateTime::now_utc());
    tx.execute(
        "UPDATE jobs SET state = 'queued', attempts = 0, next_attempt_at = ?2, finished_at = NULL WHERE id = ?1",
        params![job, now],
    )?;
    tx.execute(
        "UPDATE sessions SET lms_state = 'waiting', lms_note = NULL WHERE id = ?1",
        [session],
    )?;
    let detail = read::session(&tx, session)?;
    tx.commit()?;
    Ok(detail)
}

/// Follows the LMS where it changed an attempt (a staff reset, a decision in the Django
/// admin); a decision of ours still on its way is flagged instead of overwritten.
pub fn reconcile(
    c: &mut Connection,
    client: &str,
    attempts: &[RemoteAttempt],
    at: OffsetDateTime,
    key: Option<&crate::domain::audit::SealKey>,
) -> Result<Reconciled, StoreError> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut out = Reconciled::default();
    let system = system_reviewer(&tx)?;
    let now = to_sql(at);
    for a in attempts {
        let Ok(remote) = a.status.parse::<AttemptStatus>() else {
            continue;
        };
        type Found = (i64, String, Option<String>, i64, String, Option<String>);
        let found: Option<Found> = tx
            .query_row(
                "SELECT s.id, s.status, s.lms_state, s.learner_id, s.modified, s.lms_note
                 FROM sessions s JOIN exams e ON e.id = s.exam_id
                 WHERE s.external_id = ?1 AND e.lms_client = ?2",
                params![a.external_id, client],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, ours, lms_state, learner, modified, lms_note)) = found else {
            continue;
        };
        // Changed here (a PATCH from the LMS, a decision) after the listing was asked
        // for: the listing is older than what we have, and the next sync reads it anew.
        // Fixed-width timestamps compare as text.
        if modified > now {
            out.seen += 1;
            continue;
        }
        out.seen += 1;
        // The LMS knows the learner's username and the attempt's code; we only had stand-ins.
        tx.execute(
            "UPDATE learners SET username = ?1 WHERE id = ?2 AND username <> ?1
                 AND NOT EXISTS (SELECT 1 FROM learners WHERE username = ?1)",
            params![a.username, learner],
        )?;
        tx.execute(
            "UPDATE sessions SET attempt_code = ?1 WHERE id = ?2 AND attempt_code <> ?1
                 AND NOT EXISTS (SELECT 1 FROM sessions WHERE attempt_code = ?1)",
            params![a.attempt_code, id],
        )?;
        let ours = status(&ours)?;
        if let Some(note) = crate::domain::lms::confirmed_at_sync(lms_note.as_deref(), ours, remote)
        {
            tx.execute(
                crate::store::queries::RESTORE_DELIVERY,
                params!["delivered", note, id],
            )?;
            continue;
        }
        if ours == remote {
            continue;
        }
        if lms_state.as_deref() == Some("waiting") {
            out.conflict_one(id);
            tx.execute(
                "UPDATE sessions SET lms_state = 'conflict', lms_note = ?1 WHERE id = ?2",
                params![conflict_note(remote, ours), id],
            )?;
            tx.execute(
                "UPDATE jobs SET state = 'failed', last_error = 'conflict: changed in Open edX', finished_at = ?2
                 WHERE session_id = ?1 AND kind = 'lms_review' AND state = 'queued'",
                params![id, now],
            )?;
            continue;
        }
        out.changed_one(id);
        tx.execute(
            "UPDATE sessions SET status = ?1, modified = ?2, lms_state = 'delivered',
                 lms_note = 'changed in Open edX' WHERE id = ?3",
            params![remote.as_str(), now, id],
        )?;
        super::audit::append(&tx, &sync_decision(id, system, &now, ours, remote), key)?;
    }
    tx.commit()?;
    Ok(out)
}

/// The reviewer that changes made in Open edX are attributed to.
fn system_reviewer(tx: &Connection) -> Result<i64, StoreError> {
    if let Some(r) = read::reviewer_by_username(tx, "open-edx")? {
        return Ok(r.id);
    }
    Ok(
        super::write::create_reviewer(
            tx,
            "open-edx",
            "",
            "Open edX",
            crate::domain::Role::Service,
        )?
        .id,
    )
}

/// After an undo: the undone decision's callback restores the delivery it replaced, and
/// the reviews it superseded are queued again, due now.
pub fn restore_delivery(
    tx: &Connection,
    session: SessionId,
    decision: i64,
    at: &str,
) -> Result<(), StoreError> {
    use crate::store::queries::{DECISION_CALLBACK, REQUEUE_SUPERSEDED, RESTORE_DELIVERY};
    let payload: Option<String> = tx
        .query_row(DECISION_CALLBACK, [decision], |r| r.get(0))
        .optional()?;
    let Some(before) = crate::store::lms::restored_by(payload)? else {
        return Ok(());
    };
    tx.execute(
        REQUEUE_SUPERSEDED,
        params![
            at,
            session,
            crate::store::lms::superseded_note(Some(decision))
        ],
    )?;
    tx.execute(
        RESTORE_DELIVERY,
        params![before.state, before.note, session],
    )?;
    Ok(())
}
