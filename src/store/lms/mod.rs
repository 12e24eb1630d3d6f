//! What the store keeps about Open edX: the LMS clients, the exams and attempts they
//! registered, and the reviews on their way to the LMS's callback.

/// The service account changes made in Open edX are attributed to.
pub const OPEN_EDX: &str = "open-edx";

pub mod listings;
pub mod reconcile;
pub mod registrations;
pub mod reviews;

use crate::domain::lms::ReviewCallback;
use crate::domain::words::Word;
use crate::domain::{AttemptStatus, LmsState, SessionId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An Open edX instance that uses this server as its proctoring provider.
#[derive(Clone, PartialEq, Eq)]
pub struct LmsClient {
    /// What the LMS authenticates to us with (`PROCTORING_BACKENDS[…]['client_id']`).
    pub client_id: String,
    pub client_secret: String,
    /// The LMS root, e.g. `https://lms.example.edu`.
    pub lms_url: String,
    /// The LMS's client-credentials for its review callback (a user in
    /// `{backend}_review`, with course staff rights to read attempts back).
    pub lms_client_id: String,
    pub lms_client_secret: String,
    /// The backend name in `PROCTORING_BACKENDS` (`proctortrack`).
    pub backend: String,
}

// Secrets never reach a log through Debug.
impl std::fmt::Debug for LmsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LmsClient")
            .field("client_id", &self.client_id)
            .field("lms_url", &self.lms_url)
            .field("lms_client_id", &self.lms_client_id)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// An exam as edx-proctoring's REST backend sends it (`ProctoredExamJSONSafeSerializer`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmsExam {
    /// The LMS's exam id.
    pub id: i64,
    pub course_id: String,
    pub content_id: String,
    /// Ours, once we answered the first registration.
    #[serde(default)]
    pub external_id: Option<String>,
    pub exam_name: String,
    #[serde(default)]
    pub time_limit_mins: Option<i64>,
    #[serde(default = "yes")]
    pub is_proctored: bool,
    #[serde(default)]
    pub is_practice_exam: bool,
    #[serde(default = "yes")]
    pub is_active: bool,
    #[serde(default)]
    pub backend: Option<String>,
}

fn yes() -> bool {
    true
}

/// An attempt registration (`register_exam_attempt`'s context).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmsAttempt {
    /// edx-proctoring's obscured user id.
    pub user_id: String,
    #[serde(default)]
    pub full_name: String,
    pub email: String,
    #[serde(default)]
    pub time_limit_mins: Option<i64>,
    #[serde(default)]
    pub is_sample_attempt: bool,
}

/// The payload of an `lms_review` job: one review for one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmsReviewJob {
    pub session_id: SessionId,
    pub decision_id: Option<i64>,
    pub client_id: String,
    pub course_id: String,
    pub external_id: String,
    /// The learner, to find the attempt in the LMS's staff search.
    pub learner_email: String,
    pub callback: ReviewCallback,
    /// What the attempt must read back as once the LMS applied the review.
    pub expect: AttemptStatus,
    /// A decision's callback: the session's delivery before the decision, which undoing
    /// the decision puts back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restores: Option<DeliveryBefore>,
}

/// A session's delivery to its LMS as stored (`lms_state`, `lms_note`), kept as it is so
/// an undo restores exactly that — never "no LMS" for a session an LMS registered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryBefore {
    pub state: Option<String>,
    pub note: Option<String>,
}

/// What a review job that a later one replaced says: which decision replaced it, so undoing
/// that decision queues it again.
pub fn superseded_note(decision: Option<i64>) -> String {
    match decision {
        Some(d) => format!("superseded by decision {d}"),
        None => "superseded by a later review".to_owned(),
    }
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum LmsOutcome {
    Delivered { note: String },
    Retry { error: String, next: OffsetDateTime },
    Failed { error: String },
}

/// A delivery that is not confirmed, for `proctor-review lms status`.
#[derive(Debug, Clone, PartialEq)]
pub struct LmsDelivery {
    pub session_id: SessionId,
    pub external_id: String,
    pub learner: String,
    pub exam_name: String,
    pub state: LmsState,
    pub note: Option<String>,
    pub attempts: u32,
    pub queued_at: OffsetDateTime,
}

/// An attempt as the LMS's staff listing shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteAttempt {
    pub external_id: String,
    pub status: String,
    pub username: String,
    pub email: String,
    pub attempt_code: String,
}

/// A learner's onboarding in a course, as the LMS names the learner.
#[derive(Debug, Clone, PartialEq)]
pub struct LmsOnboarding {
    pub user_id: String,
    pub onboarding: crate::domain::Onboarding,
}

/// What a reconciliation changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reconciled {
    pub seen: u64,
    pub changed: u64,
    pub conflicts: u64,
    /// The sessions Open edX changed, and whether each was a conflict (a review of ours
    /// was on its way), so the server can tell the consoles.
    pub touched: Vec<(SessionId, bool)>,
}

impl Reconciled {
    pub(crate) fn changed_one(&mut self, id: SessionId) {
        self.changed += 1;
        self.touched.push((id, false));
    }

    pub(crate) fn conflict_one(&mut self, id: SessionId) {
        self.conflicts += 1;
        self.touched.push((id, true));
    }

    /// Adds what another pass (another course or client) reconciled.
    pub fn absorb(&mut self, other: Reconciled) {
        self.seen += other.seen;
        self.changed += other.changed;
        self.conflicts += other.conflicts;
        self.touched.extend(other.touched);
    }
}

/// The LMS facts of a session, read by either backend for a decision or an automated review.
pub struct SessionLms {
    pub client: String,
    pub course_id: String,
    pub external_id: String,
    pub learner_email: String,
    pub before: DeliveryBefore,
}

impl SessionLms {
    /// The review job that carries `callback` to this session's LMS.
    pub(crate) fn job(
        self,
        session_id: SessionId,
        decision_id: Option<i64>,
        callback: ReviewCallback,
        expect: AttemptStatus,
    ) -> LmsReviewJob {
        LmsReviewJob {
            session_id,
            decision_id,
            client_id: self.client,
            course_id: self.course_id,
            external_id: self.external_id,
            learner_email: self.learner_email,
            callback,
            expect,
            restores: decision_id.map(|_| self.before),
        }
    }
}

/// The delivery a decision's callback job (its payload, if it had one) restores on undo.
pub fn restored_by(payload: Option<String>) -> Result<Option<DeliveryBefore>, super::StoreError> {
    let Some(payload) = payload else {
        return Ok(None);
    };
    let job: LmsReviewJob = serde_json::from_str(&payload)
        .map_err(|e| super::StoreError::failed("a review job cannot be read", e))?;
    Ok(job.restores)
}

fn random_hex() -> Result<String, super::StoreError> {
    crate::random::hex::<8>().map_err(|e| super::StoreError::failed("cannot make an id", e))
}

/// A new attempt's external id (`pra-…`) and its attempt code (an upper-case UUID, as
/// edx-proctoring writes them).
pub(crate) fn new_attempt_ids() -> Result<(String, String), super::StoreError> {
    let h = format!("{}{}", random_hex()?, random_hex()?).to_uppercase();
    let code = format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    );
    Ok((format!("pra-{}", random_hex()?), code))
}

/// The username a learner the LMS registered goes by until a sync reads the real one: the
/// LMS sends none, so the email stands in (with the user id when it is taken).
pub(crate) fn stand_in_username(email: &str, user_id: &str, taken: bool) -> String {
    if taken {
        format!("{email}#{}", &user_id[..user_id.len().min(8)])
    } else {
        email.to_owned()
    }
}

/// What the reviewer reads when Open edX changed an attempt whose review was still on its way.
pub(crate) fn conflict_note(remote: AttemptStatus, ours: AttemptStatus) -> String {
    format!(
        "Open edX shows the attempt as {} while our review (→ {}) was still waiting to be delivered; decide again or retry",
        remote.as_str(),
        ours.as_str()
    )
}

/// The history entry that records a change made in Open edX.
pub(crate) fn sync_decision<'a>(
    session_id: SessionId,
    reviewer_id: i64,
    decided_at: &'a str,
    ours: AttemptStatus,
    remote: AttemptStatus,
) -> super::rows::NewDecision<'a> {
    super::rows::NewDecision {
        session_id,
        reviewer_id,
        decided_at,
        verdict: match remote {
            AttemptStatus::Verified => crate::domain::Verdict::Pass.as_str(),
            AttemptStatus::Rejected => crate::domain::Verdict::Fail.as_str(),
            _ => super::rows::SYNC_VERDICT,
        },
        reason: "changed in Open edX",
        status_before: ours.as_str(),
        status_after: remote.as_str(),
        review_status_before: None,
        review_status_after: None,
        grade_possible: None,
        grade_before: None,
        grade_after: None,
        learner_emailed: false,
        idempotency_key: None,
    }
}

/// Whether an LMS client may save over the exam its registration found (`id`, the client
/// that owns it): one it owns or nobody does. Another client's exam named by our id is
/// answered as if there were no such exam (404, like every other cross-client access); one
/// found by course and content is a conflict (the same exam registered twice).
pub fn may_save_exam(
    client: &str,
    found: Option<(i64, Option<String>)>,
    by_our_id: bool,
    e: &super::LmsExam,
) -> Result<Option<i64>, super::StoreError> {
    match found {
        Some((_, Some(owner))) if owner != client && by_our_id => {
            Err(super::StoreError::NotFound(format!(
                "no exam with id {}",
                e.external_id.as_deref().unwrap_or_default()
            )))
        }
        Some((_, Some(owner))) if owner != client => Err(super::StoreError::Conflict(format!(
            "exam {} of {} belongs to another LMS client",
            e.content_id, e.course_id
        ))),
        found => Ok(found.map(|(id, _)| id)),
    }
}
