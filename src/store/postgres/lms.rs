//! Open edX in PostgreSQL: clients, the exams and attempts an LMS registered, reviews queued
//! for its callback and what became of them, retirement, and reconciliation with the LMS's
//! listing. The same statements as SQLite's; where SQLite's single writer made a step safe,
//! a lock does here (registrations under one advisory lock, status changes under the
//! session's row lock, anything that appends to the decision history under its lock).

use super::decide::{append, lock_history};
use super::sql::numbered;
use super::{jobs, read};
use crate::domain::lms::{AutomatedReview, ReviewCallback, ReviewTarget, status_after_review};
use crate::domain::text::search_key;
use crate::domain::{AttemptStatus, JobId, JobKind, LmsState, SessionDetail, SessionId};
use crate::store::lms::{SessionLms, conflict_note, sync_decision};
use crate::store::rows::parse;
use crate::store::timefmt::to_sql;
use crate::store::{LmsLink, LmsOutcome, LmsReviewJob, Reconciled, RemoteAttempt, StoreError};
use time::OffsetDateTime;
use tokio_postgres::{GenericClient, Transaction};

/// Writes the learner's folded search key and the sort keys their sessions carry: on
/// SQLite triggers do this with the program's own function, which PostgreSQL cannot call.
async fn refresh_learner_keys(tx: &Transaction<'_>, learner: i64) -> Result<(), StoreError> {
    let Some(r) = tx
        .query_opt(
            "SELECT username, email, full_name FROM learners WHERE id = $1",
            &[&learner],
        )
        .await?
    else {
        return Ok(());
    };
    let (username, email, name): (String, String, String) =
        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
    tx.execute(
        "UPDATE learners SET search_key = $2 WHERE id = $1",
        &[&learner, &search_key(&format!("{username} {email} {name}"))],
    )
    .await?;
    tx.execute(
        "UPDATE sessions SET sort_name = $2, sort_username = $3
         WHERE learner_id = $1 AND (sort_name <> $2 OR sort_username <> $3)",
        &[&learner, &search_key(&name), &username],
    )
    .await?;
    Ok(())
}

/// Inserts a review job for the session, retiring any earlier one still waiting: only the
/// latest word on a session may reach the LMS.
async fn queue_review(
    tx: &Transaction<'_>,
    job: &LmsReviewJob,
    decision: Option<i64>,
    due: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<JobId, StoreError> {
    let at = to_sql(at);
    tx.execute(
        &numbered(crate::store::queries::SUPERSEDE_REVIEWS),
        &[
            &crate::store::lms::superseded_note(job.decision_id),
            &at,
            &job.session_id,
        ],
    )
    .await?;
    let payload = serde_json::to_string(job).map_err(|e| StoreError::Backend(e.to_string()))?;
    let id: JobId = tx
        .query_one(
            "INSERT INTO jobs (kind, payload, state, next_attempt_at, course_id, created,
                 session_id, decision_id)
             VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7) RETURNING id",
            &[
                &JobKind::LmsReview.as_str(),
                &payload,
                &to_sql(due),
                &job.course_id,
                &at,
                &job.session_id,
                &decision,
            ],
        )
        .await?
        .try_get(0)?;
    tx.execute(
        "UPDATE sessions SET lms_state = 'waiting', lms_note = NULL WHERE id = $1",
        &[&job.session_id],
    )
    .await?;
    Ok(id)
}

async fn session_lms<C: GenericClient + Sync>(
    c: &C,
    id: SessionId,
) -> Result<Option<SessionLms>, StoreError> {
    c.query_opt(&numbered(crate::store::queries::SESSION_LMS), &[&id])
        .await?
        .as_ref()
        .map(crate::store::rows::session_lms)
        .transpose()
}

/// What a decision on the session must tell the LMS about, if an LMS registered it.
pub async fn decision_link(
    c: &Transaction<'_>,
    session: SessionId,
) -> Result<Option<LmsLink>, StoreError> {
    Ok(match session_lms(c, session).await? {
        Some(link) => Some(LmsLink {
            client: link.client,
            violations: read::violations(c, session).await?,
        }),
        None => None,
    })
}

/// What a decision asks of `queue_decision`: the review, and when it may leave.
pub struct DecisionReview {
    pub session: SessionId,
    pub decision_id: i64,
    pub callback: ReviewCallback,
    pub expect: AttemptStatus,
    pub at: OffsetDateTime,
    /// The grace period to undo: nobody is told before it has passed.
    pub hold_until: OffsetDateTime,
}

/// The decision's callback, queued in the decision's own transaction.
pub async fn queue_decision(
    tx: &Transaction<'_>,
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

pub async fn automated_review(
    tx: Transaction<'_>,
    session: SessionId,
    review: &AutomatedReview,
) -> Result<SessionDetail, StoreError> {
    let callback = review.callback().map_err(StoreError::Invalid)?;
    let r = tx
        .query_opt(
            "SELECT status, completed_at IS NOT NULL, is_sample_attempt FROM sessions
             WHERE id = $1 FOR UPDATE",
            &[&session],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no session with id {session}")))?;
    let from: AttemptStatus = parse(r.try_get(0)?)?;
    if !from.is_completed() {
        return Err(StoreError::Invalid(format!(
            "session {session} is {}: only a finished recording can be reviewed",
            from.as_str()
        )));
    }
    let to = status_after_review(
        ReviewTarget {
            completed: r.try_get(1)?,
            is_sample_attempt: r.try_get(2)?,
        },
        review.status,
        false,
    );
    let now = OffsetDateTime::now_utc();
    tx.execute(
        "DELETE FROM violations WHERE session_id = $1
           AND NOT EXISTS (SELECT 1 FROM media WHERE media.violation_id = violations.id)",
        &[&session],
    )
    .await?;
    for (c, k) in callback.comments.iter().zip(&review.comments) {
        tx.execute(
            "INSERT INTO violations (session_id, start_time, stop_time, duration, kind, status, comment)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &session,
                &c.start,
                &c.stop,
                &c.duration,
                &k.kind.as_str(),
                &c.status,
                &c.comment,
            ],
        )
        .await?;
    }
    tx.execute(
        "UPDATE sessions SET status = $1, review_status = $2, reviewed_by = NULL, modified = $3,
             violation_count = (SELECT COUNT(*) FROM violations WHERE session_id = $4)
         WHERE id = $4",
        &[
            &to.as_str(),
            &review.status.review_status().as_str(),
            &to_sql(now),
            &session,
        ],
    )
    .await?;
    if let Some(link) = session_lms(&tx, session).await? {
        let job = link.job(session, None, callback, to);
        queue_review(&tx, &job, None, now, now).await?;
    }
    let detail = read::session(&tx, session).await?;
    tx.commit().await?;
    Ok(detail)
}

pub async fn delivery_outcome(
    tx: Transaction<'_>,
    job: JobId,
    outcome: &LmsOutcome,
) -> Result<(), StoreError> {
    let now = OffsetDateTime::now_utc();
    let session: Option<i64> = tx
        .query_opt("SELECT session_id FROM jobs WHERE id = $1", &[&job])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .flatten();
    let (state, note) = match outcome {
        LmsOutcome::Delivered { note } => {
            jobs::done(&tx, job, None, now).await?;
            (LmsState::Delivered, note.as_str())
        }
        LmsOutcome::Retry { error, next } => {
            jobs::retry(&tx, job, error, *next).await?;
            (LmsState::Waiting, error.as_str())
        }
        LmsOutcome::Failed { error } => {
            jobs::failed(&tx, job, error, now).await?;
            (LmsState::Failed, error.as_str())
        }
    };
    if let Some(session) = session {
        tx.execute(
            "UPDATE sessions SET lms_state = $1, lms_note = $2 WHERE id = $3",
            &[&state.as_str(), &note, &session],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sends the session's latest delivery now: a failed one again, a waiting one without
/// waiting out its backoff.
pub async fn retry(tx: Transaction<'_>, session: SessionId) -> Result<SessionDetail, StoreError> {
    let job: Option<i64> = tx
        .query_opt(
            "SELECT id FROM jobs WHERE session_id = $1 AND kind = 'lms_review'
                 AND (state = 'queued' OR (state = 'failed'
                      AND COALESCE(last_error, '') NOT LIKE 'superseded by %'
                      AND COALESCE(last_error, '') <> 'conflict: changed in Open edX'))
             ORDER BY id DESC LIMIT 1 FOR UPDATE",
            &[&session],
        )
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    let Some(job) = job else {
        return Err(StoreError::Conflict(format!(
            "session {session} has no waiting or failed delivery to Open edX to retry"
        )));
    };
    tx.execute(
        "UPDATE jobs SET state = 'queued', attempts = 0, next_attempt_at = $2, finished_at = NULL
         WHERE id = $1",
        &[&job, &to_sql(OffsetDateTime::now_utc())],
    )
    .await?;
    tx.execute(
        "UPDATE sessions SET lms_state = 'waiting', lms_note = NULL WHERE id = $1",
        &[&session],
    )
    .await?;
    let detail = read::session(&tx, session).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Follows the LMS where it changed an attempt (a staff reset, a decision in the Django
/// admin); a decision of ours still on its way is flagged instead of overwritten. Every
/// server may run the sync: the history's lock makes them take turns, and the second
/// finds nothing left to change.
pub async fn reconcile(
    tx: Transaction<'_>,
    client: &str,
    attempts: &[RemoteAttempt],
    at: OffsetDateTime,
    key: Option<&crate::domain::audit::SealKey>,
) -> Result<Reconciled, StoreError> {
    lock_history(&tx).await?;
    let mut out = Reconciled::default();
    let mut system = None;
    let now = to_sql(at);
    for a in attempts {
        let Ok(remote) = a.status.parse::<AttemptStatus>() else {
            continue;
        };
        let Some(r) = tx
            .query_opt(
                "SELECT s.id, s.status, s.lms_state, s.learner_id, s.modified, s.lms_note
                 FROM sessions s JOIN exams e ON e.id = s.exam_id
                 WHERE s.external_id = $1 AND e.lms_client = $2
                 FOR UPDATE OF s",
                &[&a.external_id, &client],
            )
            .await?
        else {
            continue;
        };
        let id: i64 = r.try_get(0)?;
        let ours: AttemptStatus = parse(r.try_get(1)?)?;
        let lms_state: Option<&str> = r.try_get(2)?;
        let learner: i64 = r.try_get(3)?;
        let modified: &str = r.try_get(4)?;
        let lms_note: Option<&str> = r.try_get(5)?;
        out.seen += 1;
        // Changed here (a PATCH from the LMS, a decision) after the listing was asked
        // for: the listing is older than what we have, and the next sync reads it anew.
        // Fixed-width timestamps compare as text.
        if modified > now.as_str() {
            continue;
        }
        // The LMS knows the learner's username and the attempt's code; we only had stand-ins.
        let renamed = tx
            .execute(
                "UPDATE learners SET username = $1 WHERE id = $2 AND username <> $1
                     AND NOT EXISTS (SELECT 1 FROM learners WHERE username = $1)",
                &[&a.username, &learner],
            )
            .await?;
        if renamed > 0 {
            refresh_learner_keys(&tx, learner).await?;
        }
        tx.execute(
            "UPDATE sessions SET attempt_code = $1 WHERE id = $2 AND attempt_code <> $1
                 AND NOT EXISTS (SELECT 1 FROM sessions WHERE attempt_code = $1)",
            &[&a.attempt_code, &id],
        )
        .await?;
        if let Some(note) = crate::domain::lms::confirmed_at_sync(lms_note, ours, remote) {
            tx.execute(
                &numbered(crate::store::queries::RESTORE_DELIVERY),
                &[&"delivered", &note, &id],
            )
            .await?;
            continue;
        }
        if ours == remote {
            continue;
        }
        if lms_state == Some("waiting") {
            out.conflict_one(id);
            tx.execute(
                "UPDATE sessions SET lms_state = 'conflict', lms_note = $1 WHERE id = $2",
                &[&conflict_note(remote, ours), &id],
            )
            .await?;
            tx.execute(
                "UPDATE jobs SET state = 'failed', last_error = 'conflict: changed in Open edX', finished_at = $2
                 WHERE session_id = $1 AND kind = 'lms_review' AND state = 'queued'",
                &[&id, &now],
            )
            .await?;
            continue;
        }
        out.changed_one(id);
        tx.execute(
            "UPDATE sessions SET status = $1, modified = $2, lms_state = 'delivered',
                 lms_note = 'changed in Open edX' WHERE id = $3",
            &[&remote.as_str(), &now, &id],
        )
        .await?;
        let reviewer = match system {
            Some(id) => id,
            None => *system.insert(system_reviewer(&tx).await?),
        };
        append(&tx, &sync_decision(id, reviewer, &now, ours, remote), key).await?;
    }
    tx.commit().await?;
    Ok(out)
}

/// The reviewer that changes made in Open edX are attributed to.
async fn system_reviewer(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    if let Some(r) = read::reviewer_by_username(tx, "open-edx").await? {
        return Ok(r.id);
    }
    Ok(super::accounts::create_reviewer(
        tx,
        "open-edx",
        "",
        "Open edX",
        crate::domain::Role::Service,
    )
    .await?
    .id)
}

/// After an undo: the undone decision's callback restores the delivery it replaced, and
/// the reviews it superseded are queued again, due now.
pub async fn restore_delivery(
    tx: &Transaction<'_>,
    session: SessionId,
    decision: i64,
    at: &str,
) -> Result<(), StoreError> {
    use crate::store::queries::{DECISION_CALLBACK, REQUEUE_SUPERSEDED, RESTORE_DELIVERY};
    let payload: Option<String> = tx
        .query_opt(&numbered(DECISION_CALLBACK), &[&decision])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    let Some(before) = crate::store::lms::restored_by(payload)? else {
        return Ok(());
    };
    tx.execute(
        &numbered(REQUEUE_SUPERSEDED),
        &[
            &at,
            &session,
            &crate::store::lms::superseded_note(Some(decision)),
        ],
    )
    .await?;
    tx.execute(
        &numbered(RESTORE_DELIVERY),
        &[&before.state, &before.note, &session],
    )
    .await?;
    Ok(())
}
