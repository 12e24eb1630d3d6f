//! Everything the server keeps, behind one interface. The server's routes only see [`Store`],
//! so a second backend (PostgreSQL, for several server instances) slots in beside SQLite.

pub mod sqlite;

use crate::api::{Page, SessionQuery};
use crate::demo::DemoData;
use crate::domain::email::LearnerEmail;
use crate::domain::{
    ContentType, CourseSummary, DecisionError, DecisionFacts, DecisionPlan, ExamId, Learner,
    MediaId, MediaItem, MediaKind, Onboarding, Reviewer, Role, ScanResult, SessionDetail,
    SessionId, SessionRow,
};
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
    #[error("database error: {0}")]
    Backend(String),
}

/// What a decision is made on, read inside the decision's transaction.
#[derive(Debug, Clone)]
pub struct DecisionContext {
    pub facts: DecisionFacts,
    pub learner: Learner,
    pub exam_name: String,
    pub course_id: String,
}

/// What the store writes for a decision, all in one transaction.
#[derive(Debug, Clone)]
pub struct PlannedDecision {
    pub plan: DecisionPlan,
    pub email: Option<LearnerEmail>,
}

pub struct DecisionCommand<P> {
    pub session_id: SessionId,
    pub reviewer: Reviewer,
    pub reason: String,
    pub at: OffsetDateTime,
    /// Pure: turns the session as it is now into what the decision changes.
    pub planner: P,
}

/// A learner email waiting in the outbox.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub id: i64,
    pub created: OffsetDateTime,
    pub email: LearnerEmail,
    /// Delivery attempts so far, and why the last one failed.
    pub attempts: u32,
    pub last_error: Option<String>,
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
pub trait PlaceFiles: Send + 'static {
    fn place(&mut self) -> std::io::Result<()>;
    fn undo(&mut self);
}

pub trait Store: Clone + Send + Sync + 'static {
    fn reviewer_by_token_hash(
        &self,
        hash: String,
    ) -> impl Future<Output = Result<Option<Reviewer>, StoreError>> + Send;
    fn reviewer_by_id(
        &self,
        id: i64,
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
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn is_empty(&self) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn seed(&self, data: DemoData) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn courses(&self) -> impl Future<Output = Result<Vec<CourseSummary>, StoreError>> + Send;
    fn sessions(
        &self,
        exam: ExamId,
        query: SessionQuery,
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

    fn pending_mail(
        &self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<QueuedMail>, StoreError>> + Send;
    fn mail_delivered(
        &self,
        id: i64,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn mail_failed(
        &self,
        id: i64,
        error: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
