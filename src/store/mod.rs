//! Everything the server keeps, behind one interface. The server's routes only see [`Store`],
//! so a second backend (PostgreSQL, for several server instances) slots in beside SQLite.
//!
//! May use: `domain` (and the helpers `fsutil`, `random`, `tls`); never the server's or
//! the console's types.

pub mod accounts;
mod areas;
pub mod audit;
pub mod backend;
pub mod cells;
pub mod counts;
pub mod decide;
pub mod evidence;
pub mod frame_jobs;
mod job_outcomes;
pub mod jobs;
pub mod keyset;
pub mod lms;
pub mod postgres;
pub mod queries;
pub mod report;
pub mod retention;
pub mod rows;
pub mod seed;
mod segments;
pub mod sqlite;
pub mod stats;
mod tiers;
pub mod timefmt;
pub use tiers::Tiers;
pub mod tx;

use crate::domain::access::Grant;
use crate::domain::email::LearnerEmail;
use crate::domain::lms::ReviewCallback;
use crate::domain::{
    ContentType, DecisionError, DecisionFacts, DecisionPlan, ExamId, Job, JobId, Learner,
    MediaKind, Onboarding, Reviewer, ScanResult, SessionId, Violation,
};
pub use areas::{Accounts, Evidence, Jobs, Lms, Operations, Review};
pub use lms::*;
use std::future::Future;
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Decision(#[from] DecisionError),
    /// The database could not answer in time: the query ran over its budget and was
    /// stopped. Worth trying again.
    #[error("{0}")]
    Busy(String),
    /// Data the store found but cannot make sense of (a corrupt row, an unknown word).
    #[error("database error: {0}")]
    Corrupt(String),
    /// Something the store relies on failed (a row's cell, a worker thread, a file beside
    /// the database, the system's randomness): what it was doing, and the error as source.
    #[error("database error: {what}")]
    Failed {
        what: String,
        #[source]
        source: BoxError,
    },
    /// The database itself failed; the driver's error is kept as the source.
    #[error("database error: {0}")]
    Database(#[source] BoxError),
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl StoreError {
    /// What failed while doing `what`, keeping `source`.
    pub fn failed(what: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Failed {
            what: what.into(),
            source: source.into(),
        }
    }
}

/// An error and each of its sources, as one line for the log.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        line.push_str(": ");
        line.push_str(&s.to_string());
        next = s.source();
    }
    line
}

/// Moves an import's files into place, then commits its rows; a failure of either takes
/// the files back out, so no row points at a missing file and no file is left without one.
pub(crate) async fn place_then_commit<F: PlaceFiles>(
    files: &mut F,
    commit: impl Future<Output = Result<(), StoreError>>,
) -> Result<(), StoreError> {
    if let Err(e) = files.place() {
        files.undo();
        return Err(StoreError::failed("cannot move media into place", e));
    }
    commit.await.inspect_err(|_| files.undo())
}

/// What a decision is made on, read inside the decision's transaction.
#[derive(Debug, Clone)]
pub struct DecisionContext {
    pub facts: DecisionFacts,
    pub learner: Learner,
    pub exam_name: String,
    pub course_id: String,
    /// Set when an LMS registered the session: its flagged moments go into the callback.
    pub lms: Option<LmsLink>,
    /// The course's rule for a second reviewer.
    pub second_review: crate::domain::second_review::SecondReview,
    /// The first opinion waiting on the session, if one is.
    pub waiting: Option<crate::domain::second_review::FirstOpinion>,
}

/// A session registered by an LMS, as a decision sees it.
#[derive(Debug, Clone)]
pub struct LmsLink {
    pub client: String,
    pub violations: Vec<Violation>,
}

/// What the store writes for a decision, all in one transaction.
#[derive(Debug, Clone)]
pub struct PlannedDecision {
    pub plan: DecisionPlan,
    pub email: Option<LearnerEmail>,
    /// The review for Open edX's callback, when the session came from an LMS.
    pub lms: Option<ReviewCallback>,
    /// Its step in a second review; only a final decision or a confirmation changes the
    /// session (the email and callback above are none otherwise).
    pub step: crate::domain::second_review::Step,
}

pub struct DecisionCommand<P> {
    pub session_id: SessionId,
    pub reviewer: Reviewer,
    pub reason: String,
    pub at: OffsetDateTime,
    /// The verdict being given, to tell a retry from another decision under the same key.
    pub verdict: crate::domain::Verdict,
    /// A repeat of a decision with this key (same reviewer) changes nothing.
    pub idempotency_key: Option<String>,
    /// The learner email and Open edX callback wait until then (the undo grace period).
    pub hold_until: OffsetDateTime,
    /// How long the reviewer had the learner open (their claim's age), when they did.
    pub opened_secs: Option<u32>,
    /// Pure: turns the session as it is now into what the decision changes.
    pub planner: P,
}

/// Undoing the session's latest decision, planned by `plan` from what the store finds.
pub struct UndoCommand<P> {
    pub session_id: SessionId,
    pub reviewer: Reviewer,
    pub at: OffsetDateTime,
    pub plan: P,
}

/// The payload of an email job: the message, and the decision that sent it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EmailJob {
    pub decision_id: Option<i64>,
    #[serde(flatten)]
    pub email: LearnerEmail,
}

/// An exam and status whose kept count differs from its sessions, for `db check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountDrift {
    pub exam_id: ExamId,
    pub status: String,
    pub kept: u64,
    pub actual: u64,
}

/// A learner email that could not be delivered, for `proctor-review mail failed`.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedEmail {
    pub job: JobId,
    pub session_id: Option<SessionId>,
    pub to: String,
    pub subject: String,
    pub attempts: u32,
    pub error: Option<String>,
    pub created: OffsetDateTime,
}

/// A token as `reviewer list` shows it: never the token itself.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    /// The start of the token's hash; `token revoke` takes it.
    pub id: String,
    pub created: OffsetDateTime,
    pub expires: Option<OffsetDateTime>,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewerListing {
    pub reviewer: Reviewer,
    pub grants: Vec<Grant>,
    pub tokens: Vec<TokenInfo>,
}

/// A job taken by a worker, with what it needs to do it.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub job: Job,
    /// JSON; its shape depends on the kind.
    pub payload: String,
    /// The session it concerns, if it concerns one (learner emails, Open edX reviews).
    pub session: Option<SessionId>,
    /// The HTTP request that queued it, if one did.
    pub request_id: Option<String>,
}

/// An evidence file's record, before it has an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMedia {
    /// Names the item in error messages ("upload", "item 3 (shots/phone.jpg)").
    pub label: String,
    pub session_id: SessionId,
    pub kind: MediaKind,
    pub content_type: ContentType,
    pub size: u64,
    pub sha256: String,
    pub offset_start: Option<i64>,
    pub offset_end: Option<i64>,
    pub captured_at: Option<OffsetDateTime>,
    pub violation_id: Option<i64>,
    pub scan_result: Option<ScanResult>,
    pub face_match_score: Option<f64>,
}

/// A learner's onboarding for the course of `session_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOnboarding {
    pub label: String,
    pub session_id: SessionId,
    pub onboarding: Onboarding,
}

/// Files waiting to join the media folder. The store calls `place` inside the transaction
/// that adds their rows, and `undo` if that transaction then fails to commit.
/// The key a store seals new history entries with: none until the server sets it.
#[derive(Default)]
pub struct SealSlot(std::sync::RwLock<Option<crate::domain::audit::SealKey>>);

impl SealSlot {
    pub fn set(&self, key: crate::domain::audit::SealKey) {
        if let Ok(mut k) = self.0.write() {
            *k = Some(key);
        }
    }

    pub fn get(&self) -> Option<crate::domain::audit::SealKey> {
        self.0.read().ok().and_then(|k| k.clone())
    }
}

pub trait PlaceFiles: Send + 'static {
    fn place(&mut self) -> std::io::Result<()>;
    fn undo(&mut self);
}

/// The whole store, every area of it: what routes and workers ask for. A backend is a
/// [`Backend`](backend::Backend) and answers the few methods each area leaves to it.
pub trait Store: Accounts + Review + Evidence + Jobs + Lms + Operations {}

impl<S: Accounts + Review + Evidence + Jobs + Lms + Operations> Store for S {}

/// The area traits, for calling the store's methods on a concrete backend.
pub mod prelude {
    pub use super::Store;
    pub use super::areas::{Accounts, Evidence, Jobs, Lms, Operations, Review};
}
