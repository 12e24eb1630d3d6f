//! Everything the server keeps, behind one interface. The server's routes only see [`Store`],
//! so a second backend (PostgreSQL, for several server instances) slots in beside SQLite.

pub mod accounts;
pub mod audit;
pub mod cells;
pub mod counts;
pub mod decide;
pub mod evidence;
mod job_outcomes;
pub mod jobs;
pub mod keyset;
pub mod lms;
pub mod postgres;
pub mod queries;
pub mod report;
pub mod rows;
pub mod seed;
pub mod sqlite;
mod tiers;
pub mod timefmt;
pub use tiers::Tiers;
pub mod tx;

use crate::domain::access::{CourseScope, Grant, TokenRecord};
use crate::domain::email::LearnerEmail;
use crate::domain::lms::{AutomatedReview, ReviewCallback};
use crate::domain::query::{Page, SessionFilter};
use crate::domain::{
    ContentType, CourseSummary, DecisionError, DecisionFacts, DecisionPlan, ExamId, Job, JobId,
    JobKind, Learner, MediaId, MediaItem, MediaKind, Onboarding, ReportRow, Reviewer, Role,
    ScanResult, SessionDetail, SessionId, SessionRow, Violation,
};
use crate::store::seed::SeedData;
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
    Backend(String),
    /// The database itself failed; the driver's error is kept as the source.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// Moves an import's files into place, then commits its rows; a failure of either takes
/// the files back out, so no row points at a missing file and no file is left without one.
pub(crate) fn place_then_commit<F: PlaceFiles>(
    files: &mut F,
    commit: impl FnOnce() -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if let Err(e) = files.place() {
        files.undo();
        return Err(StoreError::Backend(format!(
            "cannot move media into place: {e}"
        )));
    }
    commit().inspect_err(|_| files.undo())
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

pub trait Store: Clone + Send + Sync + 'static {
    /// The token with this SHA-256, whoever's it is and whatever its state.
    fn token(
        &self,
        hash: String,
    ) -> impl Future<Output = Result<Option<TokenRecord>, StoreError>> + Send;
    /// The reviewer with this id while they hold a token that is neither revoked nor
    /// expired at `now`; `None` once they may no longer sign in.
    fn active_reviewer(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<Reviewer>, StoreError>> + Send;
    fn create_reviewer(
        &self,
        username: String,
        email: String,
        full_name: String,
        role: Role,
    ) -> impl Future<Output = Result<Reviewer, StoreError>> + Send;
    /// Creates the reviewer if the username is new, else returns the existing one.
    fn ensure_reviewer(
        &self,
        username: String,
        email: String,
        full_name: String,
    ) -> impl Future<Output = Result<Reviewer, StoreError>> + Send;
    fn add_token(
        &self,
        reviewer_id: i64,
        hash: String,
        expires: Option<OffsetDateTime>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn grants(
        &self,
        reviewer_id: i64,
    ) -> impl Future<Output = Result<Vec<Grant>, StoreError>> + Send;
    fn reviewer_by_username(
        &self,
        username: String,
    ) -> impl Future<Output = Result<Option<Reviewer>, StoreError>> + Send;
    /// Every reviewer with their grants and tokens, by username.
    fn reviewers(&self) -> impl Future<Output = Result<Vec<ReviewerListing>, StoreError>> + Send;
    /// Grants (or changes) a reviewer's access to a course.
    fn grant(
        &self,
        username: String,
        grant: Grant,
    ) -> impl Future<Output = Result<Reviewer, StoreError>> + Send;
    /// Takes a course grant away; `false` if there was none.
    fn withdraw(
        &self,
        username: String,
        course: String,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Revokes every token of a reviewer; how many were still valid.
    fn revoke_tokens(
        &self,
        username: String,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Revokes one token by its id (the start of its hash); how many were still valid.
    fn revoke_token(&self, id: String) -> impl Future<Output = Result<u64, StoreError>> + Send;

    fn is_empty(&self) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The database answers a query and its schema is the one this program knows:
    /// `(the database's schema version, this program's)`.
    fn schema_versions(&self) -> impl Future<Output = Result<(u32, u32), StoreError>> + Send;
    /// Loads a data set into an empty database, part by part, in one transaction.
    fn seed_batches(
        &self,
        batches: seed::SeedBatches,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn seed(&self, data: SeedData) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.seed_batches(Box::new(std::iter::once(data)))
    }

    fn courses(
        &self,
        scope: CourseScope,
    ) -> impl Future<Output = Result<Vec<CourseSummary>, StoreError>> + Send;
    /// The course an exam belongs to; `None` if there is no such exam.
    fn exam_course(
        &self,
        exam: ExamId,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// The session the recording pipeline names by the attempt id we gave its LMS
    /// (`pra-…`) or by its attempt code; `None` if none.
    fn session_by_reference(
        &self,
        reference: String,
    ) -> impl Future<Output = Result<Option<SessionId>, StoreError>> + Send;
    /// The course a session belongs to; `None` if there is no such session.
    fn session_course(
        &self,
        session: SessionId,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    fn sessions(
        &self,
        exam: ExamId,
        query: SessionFilter,
    ) -> impl Future<Output = Result<Page<SessionRow>, StoreError>> + Send;
    /// Require Attention sessions across every exam in `scope` (the statuses of `query`
    /// are ignored).
    fn queue(
        &self,
        scope: CourseScope,
        query: SessionFilter,
    ) -> impl Future<Output = Result<Page<SessionRow>, StoreError>> + Send;
    fn session(
        &self,
        id: SessionId,
    ) -> impl Future<Output = Result<SessionDetail, StoreError>> + Send;
    fn decide<P>(
        &self,
        cmd: DecisionCommand<P>,
    ) -> impl Future<Output = Result<SessionDetail, StoreError>> + Send
    where
        P: FnOnce(&DecisionContext) -> Result<PlannedDecision, DecisionError> + Send + 'static;

    /// Takes back the session's latest decision and cancels its held email and callback,
    /// recording the undo in the history; all or nothing.
    fn undo<P>(
        &self,
        cmd: UndoCommand<P>,
    ) -> impl Future<Output = Result<SessionDetail, StoreError>> + Send
    where
        P: FnOnce(
                Option<&crate::domain::undo::UndoFacts>,
            )
                -> Result<crate::domain::undo::UndoPlan, crate::domain::undo::UndoError>
            + Send
            + 'static;

    /// Adds evidence records and onboarding and, in the same transaction, moves the files
    /// into place: all of it or nothing.
    fn add_evidence<F: PlaceFiles>(
        &self,
        items: Vec<NewMedia>,
        onboarding: Vec<NewOnboarding>,
        files: F,
    ) -> impl Future<Output = Result<Vec<MediaItem>, StoreError>> + Send;
    /// One evidence record and the session it belongs to.
    fn media(
        &self,
        id: MediaId,
    ) -> impl Future<Output = Result<(SessionId, MediaItem), StoreError>> + Send;
    fn media_count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Takes the next due job of `kind`, marking it running; never the same job twice.
    fn claim_job(
        &self,
        kind: JobKind,
        instance: String,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<ClaimedJob>, StoreError>> + Send;
    /// When the next queued job of `kind` becomes due (held and backed-off ones included).
    fn next_due(
        &self,
        kind: JobKind,
    ) -> impl Future<Output = Result<Option<OffsetDateTime>, StoreError>> + Send;
    fn job_progress(
        &self,
        id: JobId,
        progress: f64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// `result` is JSON (a report's file).
    fn job_done(
        &self,
        id: JobId,
        result: Option<String>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn job_retry(
        &self,
        id: JobId,
        error: String,
        next: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn job_failed(
        &self,
        id: JobId,
        error: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Says server `instance` is alive and queues again what a server that went quiet for
    /// `stale` left running; how many.
    fn recover_jobs(
        &self,
        instance: String,
        now: OffsetDateTime,
        stale: time::Duration,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Hands back what server `instance` is still running (it is stopping) and forgets the
    /// server, so others take the jobs at once rather than after it has gone quiet; how many.
    fn release_jobs(
        &self,
        instance: String,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Recounts sessions per exam and status and compares the counts kept for the Quiz
    /// List; with `repair`, the kept counts are replaced by the recount (in one transaction).
    fn check_counts(
        &self,
        repair: bool,
    ) -> impl Future<Output = Result<Vec<CountDrift>, StoreError>> + Send;
    /// The decision history's hash chain, in order, for `audit verify`.
    fn audit_chain(
        &self,
    ) -> impl Future<Output = Result<Vec<crate::domain::audit::StoredEntry>, StoreError>> + Send;
    /// Seals every history entry written from now on with `key`.
    fn set_seal_key(&self, key: crate::domain::audit::SealKey);
    /// How many entries the history has, and the newest one's hash: what `audit head`
    /// prints and the server logs, to notice later if entries were removed.
    fn audit_head(
        &self,
    ) -> impl Future<Output = Result<crate::domain::audit::Head, StoreError>> + Send;
    /// Every session that has a history, as it is now, to check against it.
    fn audit_sessions(
        &self,
    ) -> impl Future<Output = Result<Vec<crate::domain::audit::SessionNow>, StoreError>> + Send;
    /// Seals every entry that has no seal yet, with `key`; how many. Only when the key is
    /// new: later, an entry without a seal is one someone wrote without the key.
    fn seal_history(
        &self,
        key: crate::domain::audit::SealKey,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Learner emails whose retry budget is spent, oldest first.
    fn failed_emails(&self) -> impl Future<Output = Result<Vec<FailedEmail>, StoreError>> + Send;
    /// Queues failed jobs of `kind` again (one, or all); how many.
    fn requeue_failed(
        &self,
        kind: JobKind,
        job: Option<JobId>,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    fn job(&self, id: JobId) -> impl Future<Output = Result<Job, StoreError>> + Send;
    /// Jobs of a kind, for one course if given, newest first.
    fn jobs(
        &self,
        kind: JobKind,
        course: Option<String>,
    ) -> impl Future<Output = Result<Vec<Job>, StoreError>> + Send;
    /// Queues a report for a course; refused while one is queued or running.
    fn start_report(
        &self,
        course: String,
        reviewer: i64,
    ) -> impl Future<Output = Result<Job, StoreError>> + Send;
    /// How many rows the course's report has.
    fn report_size(&self, course: String) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// An LMS this server is the proctoring provider for.
    fn lms_client(
        &self,
        client_id: String,
    ) -> impl Future<Output = Result<Option<LmsClient>, StoreError>> + Send;
    fn lms_clients(&self) -> impl Future<Output = Result<Vec<LmsClient>, StoreError>> + Send;
    /// Adds the client, or replaces the settings of one with the same id.
    fn save_lms_client(
        &self,
        client: LmsClient,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Creates or updates an exam the LMS registered; returns our (external) exam id.
    fn lms_save_exam(
        &self,
        client_id: String,
        exam: LmsExam,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
    /// Registers an attempt (idempotent while it has not started); returns our attempt id.
    fn lms_register_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt: LmsAttempt,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
    fn lms_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
    ) -> impl Future<Output = Result<crate::domain::AttemptStatus, StoreError>> + Send;
    fn lms_set_attempt_status(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
        status: crate::domain::AttemptStatus,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The LMS reset an attempt: removed if nothing was reviewed, else kept and flagged.
    fn lms_delete_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Erases a learner's personal data and evidence; the evidence files no longer used
    /// by any session are returned for removal. `false` if the learner is unknown.
    fn lms_retire_user(
        &self,
        client_id: String,
        external_user_id: String,
    ) -> impl Future<Output = Result<Option<Vec<String>>, StoreError>> + Send;
    /// Stores the recording pipeline's automated review and queues it for the LMS.
    fn automated_review(
        &self,
        session: SessionId,
        review: AutomatedReview,
    ) -> impl Future<Output = Result<SessionDetail, StoreError>> + Send;
    /// Records how a delivery ended for the session (and the job's outcome with it).
    fn lms_delivery_outcome(
        &self,
        job: JobId,
        outcome: LmsOutcome,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Queues the session's latest failed delivery again.
    fn lms_retry(
        &self,
        session: SessionId,
    ) -> impl Future<Output = Result<SessionDetail, StoreError>> + Send;
    /// Deliveries that are not (yet) confirmed, oldest first.
    fn lms_undelivered(&self) -> impl Future<Output = Result<Vec<LmsDelivery>, StoreError>> + Send;
    /// Onboarding of the learners this LMS registered, in a course (one learner if given).
    fn lms_onboarding(
        &self,
        client_id: String,
        course_id: String,
        user_id: Option<String>,
    ) -> impl Future<Output = Result<Vec<LmsOnboarding>, StoreError>> + Send;
    /// Course ids whose exams came from this LMS.
    fn lms_courses(
        &self,
        client_id: String,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Brings sessions in line with the attempts the LMS listed.
    fn lms_reconcile(
        &self,
        client_id: String,
        attempts: Vec<RemoteAttempt>,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Reconciled, StoreError>> + Send;
    fn lms_sync_result(
        &self,
        client_id: String,
        error: Option<String>,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Streams the course's report rows to `each` on the blocking pool; how many there were.
    fn report_rows<F>(
        &self,
        course: String,
        each: F,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send
    where
        F: FnMut(ReportRow) -> Result<(), String> + Send + 'static;

    /// Tells the other servers sharing this database about a change (JSON). A database
    /// only one server uses (SQLite) has nobody to tell.
    fn announce(&self, payload: String) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = payload;
        std::future::ready(Ok(()))
    }

    /// What the other servers sharing this database announce, as it arrives; `None` when
    /// no other server can share it.
    fn announcements(&self) -> Option<tokio::sync::mpsc::Receiver<String>> {
        None
    }
}
