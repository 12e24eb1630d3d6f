//! Records exchanged between store, server and console. Field names follow edx-proctoring
//! where it has one, so data can flow to and from a real Open edX unchanged.

use super::status::{AttemptStatus, LearnerView, ReviewStatus};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;

pub type SessionId = i64;
pub type ExamId = i64;

/// Points earned out of points possible.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    pub earned: f64,
    pub possible: f64,
}

impl Grade {
    /// The grade in force: the proctoring override when there is one, else the original.
    pub fn in_force(original: Option<Grade>, override_earned: Option<f64>) -> Option<Grade> {
        original.map(|g| match override_earned {
            Some(earned) => Grade { earned, ..g },
            None => g,
        })
    }
}

impl std::fmt::Display for Grade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}",
            trim_float(self.earned),
            trim_float(self.possible)
        )
    }
}

/// 17.0 prints as "17", 17.5 as "17.5".
pub fn trim_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Learner {
    pub username: String,
    pub email: String,
    pub full_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reviewer {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub full_name: String,
    #[serde(default)]
    pub role: Role,
}

/// An Open edX course key as a grant names it: `course-v1:ORG+COURSE+RUN`, or the older
/// `ORG/COURSE/RUN`; each part letters, digits and `_ . ~ -` (opaque-keys' rule). A typo
/// such as a space or a missing part is refused rather than granted silently.
pub fn check_course_id(id: &str) -> Result<(), String> {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '~' | '-'))
    };
    let parts: Vec<&str> = match id.strip_prefix("course-v1:") {
        Some(rest) => rest.split('+').collect(),
        None => id.split('/').collect(),
    };
    if parts.len() == 3 && parts.iter().all(|p| part_ok(p)) {
        return Ok(());
    }
    Err(format!(
        "'{}' is not an Open edX course id: expected course-v1:ORG+COURSE+RUN, e.g. \
         course-v1:MITx+6.0001x+2026_Fall",
        crate::domain::text::printable(id)
    ))
}

/// A reviewer's username: 1–150 letters (any script), digits and `@ . + - _` — Django's
/// (and so Open edX's) rule. Nothing else reaches logs, History or the screen.
pub fn check_username(name: &str) -> Result<(), String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_'));
    let len = name.chars().count();
    if ok_chars && (1..=150).contains(&len) {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not a valid username: use 1 to 150 letters, digits and @ . + - _",
            super::text::printable(name)
        ))
    }
}

/// What an account may do. Reviewers see sessions and decide; admins and the provider's
/// service account may also add evidence.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    #[default]
    Reviewer,
    Admin,
    Service,
}

impl Role {
    pub fn may_add_evidence(self) -> bool {
        matches!(self, Self::Admin | Self::Service)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamCounts {
    pub sessions: u64,
    pub require_attention: u64,
    /// Submitted and waiting for the provider's automated review.
    pub pending: u64,
    pub passed: u64,
    pub failed: u64,
    /// Of those requiring attention: with a first opinion waiting for a second reviewer.
    #[serde(default)]
    pub awaiting_second_review: u64,
    /// Of those: the caller's own first opinions, which someone else must settle.
    #[serde(default)]
    pub yours_awaiting: u64,
}

impl ExamCounts {
    /// What the caller can decide on: Require Attention but their own first opinions.
    pub fn to_review(&self) -> u64 {
        self.require_attention.saturating_sub(self.yours_awaiting)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exam {
    pub id: ExamId,
    pub course_id: String,
    pub content_id: String,
    pub external_id: Option<String>,
    pub exam_name: String,
    pub time_limit_mins: i64,
    pub is_proctored: bool,
    pub is_practice_exam: bool,
    pub backend: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExamSummary {
    #[serde(flatten)]
    pub exam: Exam,
    pub counts: ExamCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseSummary {
    pub id: String,
    pub name: String,
    pub exams: Vec<ExamSummary>,
    /// What the caller may do here (the server fills it in per caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<crate::domain::access::Access>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ViolationKind {
    SecondPerson,
    NoFace,
    LookingAway,
    Phone,
    TabSwitch,
    CopyPaste,
    SecondMonitor,
    LeftRoom,
    Voices,
    UnauthorizedApp,
}

impl ViolationKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::SecondPerson => "Second person in room",
            Self::NoFace => "No face detected",
            Self::LookingAway => "Looking away",
            Self::Phone => "Phone detected",
            Self::TabSwitch => "Switched browser tab",
            Self::CopyPaste => "Copy/paste",
            Self::SecondMonitor => "Second monitor",
            Self::LeftRoom => "Left the room",
            Self::Voices => "Voices detected",
            Self::UnauthorizedApp => "Unauthorized application",
        }
    }
}

/// "Rules Violation" weighs more than "Suspicious" (the two statuses the report counts).
pub const RULES_VIOLATION: &str = "Rules Violation";

/// One reviewer comment on the recording (`ProctoredExamSoftwareSecureComment`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub id: i64,
    /// Seconds into the recording.
    pub start_time: i64,
    pub stop_time: i64,
    pub duration: i64,
    pub kind: ViolationKind,
    /// "Suspicious" or "Rules Violation" (free text upstream; the report counts only these two).
    pub status: String,
    pub comment: String,
}

/// One decision in a session's history: who, when, why and what changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub id: i64,
    pub reviewer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
    /// None for a status change made in Open edX (reconciliation), not by a reviewer.
    #[serde(default)]
    pub verdict: Option<super::Verdict>,
    pub reason: String,
    pub status_before: AttemptStatus,
    pub status_after: AttemptStatus,
    pub review_status_before: Option<ReviewStatus>,
    pub review_status_after: Option<ReviewStatus>,
    pub grade_before: Option<Grade>,
    pub grade_after: Option<Grade>,
    /// The learner email this decision queued, as far as it got; None if it sent none.
    #[serde(default)]
    pub email: Option<super::email::EmailDelivery>,
    /// Set on an undo: the verdict it took back (within its grace period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<super::Verdict>,
    /// Its part in a second review (a first opinion, a confirmation, an overturn); on an
    /// undo, the part of the entry it took back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<super::second_review::Stage>,
    /// Retention deleted the session's evidence here (the reason says what went).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub evidence_deleted: bool,
}

/// A row of an exam's session list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: SessionId,
    pub exam_id: ExamId,
    pub learner: Learner,
    pub status: AttemptStatus,
    pub review_status: Option<ReviewStatus>,
    pub violation_count: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
    /// Every violation's place in the recording, in order.
    #[serde(default)]
    pub marks: Vec<ViolationMark>,
    /// Where the latest review stands with Open edX; None when no LMS registered the session.
    #[serde(default)]
    pub lms: Option<super::LmsSync>,
    /// The grade in force (a Fail's 0, or the original).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// The reviewer whose decision stands, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    /// When that decision was made.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub decided_at: Option<OffsetDateTime>,
    /// The id of the reviewer whose first opinion waits for a second reviewer, if one does
    /// (the course requires four eyes): nothing of it has reached the learner yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_from: Option<i64>,
}

/// Where a violation falls in the recording, for the compact timeline of a list row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationMark {
    /// Seconds into the recording.
    pub at: i64,
    /// A Rules Violation rather than merely Suspicious.
    pub rules: bool,
}

impl SessionRow {
    pub fn duration_secs(&self) -> Option<i64> {
        match (self.started_at, self.completed_at) {
            (Some(s), Some(c)) => Some((c - s).whole_seconds().max(0)),
            _ => None,
        }
    }
}

/// One session (exam attempt) in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionDetail {
    #[serde(flatten)]
    pub row: SessionRow,
    pub course_id: String,
    pub exam_name: String,
    pub exam_time_limit_mins: i64,
    pub provider: Option<String>,
    pub attempt_code: String,
    pub external_id: Option<String>,
    pub allowed_time_limit_mins: Option<i64>,
    pub is_sample_attempt: bool,
    pub track: String,
    pub original_grade: Option<Grade>,
    pub grade_in_force: Option<Grade>,
    pub learner_view: LearnerView,
    pub violations: Vec<Violation>,
    pub history: Vec<HistoryEntry>,
    /// Set in the answer to a decision: until then its reviewer can undo it (nobody has
    /// been told yet).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub undo_until: Option<OffsetDateTime>,
    /// Video segments, screenshots, scans and the onboarding photo.
    #[serde(default)]
    pub media: Vec<super::MediaItem>,
    #[serde(default)]
    pub onboarding: Option<super::Onboarding>,
    /// Whether the course asks a second reviewer to confirm decisions.
    #[serde(default)]
    pub second_review: super::second_review::SecondReview,
    /// The first opinion waiting for a second reviewer, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<super::second_review::Waiting>,
}

impl Violation {
    pub fn is_rules_violation(&self) -> bool {
        self.status == RULES_VIOLATION
    }
}

impl SessionDetail {
    /// Seconds of recording: from start to completion, or to the last violation if longer.
    pub fn recording_secs(&self) -> i64 {
        let last = self
            .violations
            .iter()
            .map(|v| v.stop_time)
            .max()
            .unwrap_or(0);
        self.row.duration_secs().unwrap_or(0).max(last).max(1)
    }

    /// (all violations, how many of them are Rules Violations)
    pub fn violation_counts(&self) -> (usize, usize) {
        let rules = self
            .violations
            .iter()
            .filter(|v| v.is_rules_violation())
            .count();
        (self.violations.len(), rules)
    }

    pub fn media_of(&self, kind: super::MediaKind) -> impl Iterator<Item = &super::MediaItem> {
        self.media.iter().filter(move |m| m.kind == kind)
    }

    /// The screenshot taken for a violation.
    pub fn screenshot_of(&self, violation: i64) -> Option<&super::MediaItem> {
        self.media_of(super::MediaKind::Screenshot)
            .find(|m| m.violation_id == Some(violation))
    }

    /// The video segment that shows a violation, with the fragment that points at it.
    pub fn clip_of(&self, v: &Violation) -> Option<(&super::MediaItem, String)> {
        self.media_of(super::MediaKind::Video)
            .find_map(|m| m.fragment(v.start_time, v.stop_time).map(|f| (m, f)))
    }

    /// The facts a decision on this session depends on, as the reviewer sees them.
    pub fn decision_facts(&self) -> super::DecisionFacts {
        super::DecisionFacts {
            status: self.row.status,
            review_status: self.row.review_status,
            original_grade: self.original_grade,
            grade_override: self
                .grade_in_force
                .filter(|g| Some(*g) != self.original_grade)
                .map(|g| g.earned),
            is_sample_attempt: self.is_sample_attempt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_replaces_only_the_points_earned() {
        let g = Grade {
            earned: 17.0,
            possible: 20.0,
        };
        assert_eq!(Grade::in_force(Some(g), None), Some(g));
        assert_eq!(
            Grade::in_force(Some(g), Some(0.0)).map(|g| g.to_string()),
            Some("0/20".into())
        );
        assert_eq!(Grade::in_force(None, Some(0.0)), None);
        assert_eq!(
            Grade {
                earned: 17.5,
                possible: 20.0
            }
            .to_string(),
            "17.5/20"
        );
    }

    #[test]
    fn course_ids_are_open_edx_course_keys() {
        for good in [
            "course-v1:MITx+6.0001x+2026_Fall",
            "course-v1:edX+DemoX+Demo_Course",
            "HarvardX/STAT110x/2026",
        ] {
            assert_eq!(check_course_id(good), Ok(()), "{good}");
        }
        for bad in [
            "MITx 6.0001",
            "course-v1:MITx+6.0001x",
            "course-v1:MITx+6.0001x+2026 Fall",
            "course-v1:MITx++2026",
            "",
        ] {
            assert!(check_course_id(bad).is_err(), "{bad:?} accepted");
        }
    }
}
