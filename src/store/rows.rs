//! How both backends turn stored words into the domain's values, and the decision row they
//! append to the hash chain: one definition, so the two databases cannot drift apart.

use super::StoreError;
use crate::domain::audit::{AuditFields, sha256};
use crate::domain::email::{EmailDelivery, MailState};
use crate::domain::{Grade, JobState, LmsState, LmsSync, Verdict};

/// The verdict column of an undo: `undo-fail`, `undo-pass`.
pub const UNDO_PREFIX: &str = "undo-";
/// The verdict column of a change Open edX's reconciliation made.
pub const SYNC_VERDICT: &str = "sync";

pub fn parse<T: std::str::FromStr>(s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e: T::Err| StoreError::Backend(format!("bad value in database: {e}")))
}

pub fn opt_parse<T: std::str::FromStr>(s: Option<&str>) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.map(parse).transpose()
}

pub fn grade(possible: Option<f64>, earned: Option<f64>) -> Option<Grade> {
    Some(Grade {
        earned: earned?,
        possible: possible?,
    })
}

/// A decision's email as History shows it, from its job's row (none if it had no email).
pub fn email_delivery(
    job: Option<i64>,
    state: Option<&str>,
    attempts: Option<u32>,
    error: Option<String>,
) -> Result<Option<EmailDelivery>, StoreError> {
    let (Some(job), Some(state)) = (job, state) else {
        return Ok(None);
    };
    let state = match JobState::parse(state) {
        Some(JobState::Queued | JobState::Running) => MailState::Queued,
        Some(JobState::Done) => MailState::Delivered,
        Some(JobState::Failed) => MailState::Failed,
        Some(JobState::Cancelled) => MailState::Cancelled,
        None => return Err(StoreError::Backend(format!("bad job state '{state}'"))),
    };
    Ok(Some(EmailDelivery {
        job,
        state,
        attempts: attempts.unwrap_or(0),
        error: if state == MailState::Delivered {
            None
        } else {
            error
        },
    }))
}

/// A history row's verdict column as (the verdict it gave, the verdict it undid).
pub fn history_verdicts(verdict: &str) -> Result<(Option<Verdict>, Option<Verdict>), StoreError> {
    let gave = match verdict {
        SYNC_VERDICT => None,
        v if v.starts_with(UNDO_PREFIX) => None,
        v => Some(Verdict::parse(v).ok_or_else(|| {
            StoreError::Backend(format!("unknown verdict '{verdict}' in database"))
        })?),
    };
    Ok((
        gave,
        verdict.strip_prefix(UNDO_PREFIX).and_then(Verdict::parse),
    ))
}

/// A session's Open edX delivery state, from its `lms_state` and `lms_note` columns.
pub fn lms_sync(state: Option<&str>, note: Option<String>) -> Result<Option<LmsSync>, StoreError> {
    state
        .map(|state| {
            Ok(LmsSync {
                state: LmsState::parse(state).ok_or_else(|| {
                    StoreError::Backend(format!("unknown lms_state '{state}' in database"))
                })?,
                note,
            })
        })
        .transpose()
}

/// A decision row before it has an id and its place in the chain.
pub struct NewDecision<'a> {
    pub session_id: i64,
    pub reviewer_id: i64,
    pub decided_at: &'a str,
    pub verdict: &'a str,
    pub reason: &'a str,
    pub status_before: &'a str,
    pub status_after: &'a str,
    pub review_status_before: Option<&'a str>,
    pub review_status_after: Option<&'a str>,
    pub grade_possible: Option<f64>,
    pub grade_before: Option<f64>,
    pub grade_after: Option<f64>,
    pub learner_emailed: bool,
    pub idempotency_key: Option<&'a str>,
}

impl NewDecision<'_> {
    /// What the chain hashes of this row once it has id `id`.
    pub fn fields(&self, id: i64) -> AuditFields {
        AuditFields {
            id,
            session_id: self.session_id,
            reviewer_id: self.reviewer_id,
            decided_at: self.decided_at.to_owned(),
            verdict: self.verdict.to_owned(),
            reason_sha256: sha256(self.reason),
            status_before: self.status_before.to_owned(),
            status_after: self.status_after.to_owned(),
            review_status_before: self.review_status_before.map(str::to_owned),
            review_status_after: self.review_status_after.map(str::to_owned),
            grade_possible: self.grade_possible,
            grade_before: self.grade_before,
            grade_after: self.grade_after,
            learner_emailed: self.learner_emailed,
        }
    }
}

/// Hands back the jobs a stopping server is still running (`?`: its instance id).
pub const RELEASE_JOBS: &str = "UPDATE jobs SET state = 'queued', progress = 0, claimed_by = NULL,
       last_error = 'handed back by a server shutting down; started again'
     WHERE state = 'running' AND claimed_by = ?";

/// The history's head as `audit_head` answers it: the count, the newest hash (the chain's
/// start when there is none), and the newest seal.
pub fn head(count: i64, hash: Option<String>, seal: Option<String>) -> crate::domain::audit::Head {
    crate::domain::audit::Head {
        entries: count.max(0) as u64,
        hash: hash.unwrap_or_else(|| crate::domain::audit::GENESIS.to_owned()),
        newest_seal: seal.and_then(|s| {
            s.split_once(' ')
                .map(|(hash, seal)| (hash.to_owned(), seal.to_owned()))
        }),
    }
}
