//! What the store loads into an empty database (the demo generator makes it; a test or an
//! importer could too). Plain data, so the store depends on no producer.

use crate::domain::{
    AttemptStatus, ContentType, Exam, Grade, Learner, MediaKind, Onboarding, ReviewStatus,
    ScanResult, Violation,
};
use crate::store::{NewMedia, NewOnboarding};
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct SeedCourse {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct SeedSession {
    pub id: i64,
    pub exam_id: i64,
    /// Index into `SeedData::learners`.
    pub learner: usize,
    pub attempt_code: String,
    pub external_id: String,
    pub status: AttemptStatus,
    pub review_status: Option<ReviewStatus>,
    pub reviewed_by: Option<String>,
    pub started_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    pub allowed_time_limit_mins: Option<i64>,
    pub is_sample_attempt: bool,
    pub track: String,
    pub original_grade: Option<Grade>,
    pub grade_override: Option<f64>,
    pub created: OffsetDateTime,
    pub violations: Vec<Violation>,
}

#[derive(Debug, Clone, Default)]
pub struct SeedData {
    pub courses: Vec<SeedCourse>,
    pub exams: Vec<Exam>,
    pub learners: Vec<Learner>,
    pub sessions: Vec<SeedSession>,
    /// Evidence records; their files are the demo's assets.
    pub media: Vec<SeedMedia>,
    /// (a session of the learner in the course, their onboarding there)
    pub onboarding: Vec<(i64, Onboarding)>,
}

#[derive(Debug, Clone)]
pub struct SeedMedia {
    pub session_id: i64,
    pub kind: MediaKind,
    pub asset: &'static str,
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

/// A data set loaded in parts, each held in memory only while it is written: the first part
/// brings the courses, exams and learners, every part sessions and their evidence.
pub type SeedBatches = Box<dyn Iterator<Item = SeedData> + Send>;

impl SeedData {
    /// The evidence records of this part, as the store adds them.
    pub fn media_records(&self) -> Vec<NewMedia> {
        self.media
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
            .collect()
    }

    /// The onboarding of this part, as the store records it.
    pub fn onboarding_records(&self) -> Vec<NewOnboarding> {
        self.onboarding
            .iter()
            .map(|(session_id, o)| NewOnboarding {
                label: "demo onboarding".into(),
                session_id: *session_id,
                onboarding: o.clone(),
            })
            .collect()
    }

    /// Appends a later part.
    pub fn extend(&mut self, more: SeedData) {
        self.courses.extend(more.courses);
        self.exams.extend(more.exams);
        self.learners.extend(more.learners);
        self.sessions.extend(more.sessions);
        self.media.extend(more.media);
        self.onboarding.extend(more.onboarding);
    }
}
