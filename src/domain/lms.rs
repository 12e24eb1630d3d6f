//! Open edX's side of a review, as edx-proctoring defines it: the review callback's payload,
//! what each review does to an attempt (`handlers.finish_review_workflow`), and how far a
//! session's delivery to the LMS has got. Pure rules; the HTTP lives in `lms/`.

use super::decision::Verdict;
use super::model::{Violation, ViolationKind};
use super::status::{AttemptStatus, ReviewStatus};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

/// The callback's `status` field: the REST backends' vocabulary.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CallbackStatus {
    Passed,
    Violation,
    Suspicious,
    NotReviewed,
}

impl CallbackStatus {
    /// How edx-proctoring stores it (views.py maps the REST words to the legacy ones).
    pub fn review_status(self) -> ReviewStatus {
        match self {
            Self::Passed => ReviewStatus::Clean,
            Self::Violation => ReviewStatus::RulesViolation,
            Self::Suspicious => ReviewStatus::Suspicious,
            Self::NotReviewed => ReviewStatus::NotReviewed,
        }
    }
}

/// One flagged moment, in the callback's comment shape. `status` is exactly "Suspicious" or
/// "Rules Violation": the platform's results report counts only those two strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackComment {
    pub comment: String,
    pub status: String,
    pub start: i64,
    pub stop: i64,
    pub duration: i64,
}

/// The body of `POST …/attempt/{external_id}/reviewed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewCallback {
    pub status: CallbackStatus,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reviewed_by: Option<String>,
    pub comments: Vec<CallbackComment>,
}

pub const SUSPICIOUS: &str = "Suspicious";
pub const RULES_VIOLATION: &str = "Rules Violation";

/// Accepts both vocabularies a comment's status is written in and returns the one the
/// platform counts; anything else is refused.
pub fn comment_status(s: &str) -> Option<&'static str> {
    match s.trim().to_ascii_lowercase().as_str() {
        "suspicious" => Some(SUSPICIOUS),
        "rules violation" | "violation" | "rules_violation" => Some(RULES_VIOLATION),
        _ => None,
    }
}

fn comment_of(v: &Violation) -> CallbackComment {
    CallbackComment {
        comment: v.comment.clone(),
        status: comment_status(&v.status).unwrap_or(SUSPICIOUS).to_owned(),
        start: v.start_time,
        stop: v.stop_time,
        duration: v.duration,
    }
}

/// What a reviewer's Pass or Fail tells the LMS. A Fail is a `violation` when any flagged
/// moment is a Rules Violation, else `suspicious`; `reviewed_by` (an LMS user's email) is
/// what makes edx-proctoring reject instead of asking for a second review.
pub fn decision_callback(
    verdict: Verdict,
    violations: &[Violation],
    reviewer_email: &str,
) -> ReviewCallback {
    let comments: Vec<CallbackComment> = violations.iter().map(comment_of).collect();
    let status = match verdict {
        Verdict::Pass => CallbackStatus::Passed,
        Verdict::Fail if comments.iter().any(|c| c.status == RULES_VIOLATION) => {
            CallbackStatus::Violation
        }
        Verdict::Fail => CallbackStatus::Suspicious,
    };
    ReviewCallback {
        status,
        reviewed_by: Some(reviewer_email.to_owned()),
        comments,
    }
}

/// The attempt facts `finish_review_workflow` looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReviewTarget {
    /// The learner submitted (edx-proctoring: `completed_at` is set).
    pub completed: bool,
    pub is_sample_attempt: bool,
}

/// The attempt status edx-proctoring sets for a review (REST backends, default settings:
/// only Clean passes, failing reviews without a reviewer need a second review).
pub fn status_after_review(
    target: ReviewTarget,
    status: CallbackStatus,
    reviewed_by: bool,
) -> AttemptStatus {
    match status {
        CallbackStatus::Passed if !target.completed => AttemptStatus::Error,
        CallbackStatus::Passed => AttemptStatus::Verified,
        CallbackStatus::NotReviewed => AttemptStatus::Error,
        _ if reviewed_by || target.is_sample_attempt => AttemptStatus::Rejected,
        _ => AttemptStatus::SecondReviewRequired,
    }
}

/// A flagged moment from the automated review, with our kind for the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomatedComment {
    pub comment: String,
    pub status: String,
    pub start: i64,
    pub stop: i64,
    #[serde(default)]
    pub duration: Option<i64>,
    /// What was seen (our timeline's letter); the callback's shape plus this one field.
    pub kind: ViolationKind,
}

/// What the recording pipeline reports about a session (`POST /api/v1/sessions/{id}/automated-review`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomatedReview {
    pub status: CallbackStatus,
    #[serde(default)]
    pub comments: Vec<AutomatedComment>,
}

impl AutomatedReview {
    /// Checks the comments and turns them into the callback's shape, naming the first bad one.
    pub fn callback(&self) -> Result<ReviewCallback, String> {
        let mut comments = Vec::with_capacity(self.comments.len());
        for (i, c) in self.comments.iter().enumerate() {
            let status = comment_status(&c.status).ok_or_else(|| {
                format!(
                    "comment {}: status '{}' is neither 'Suspicious' nor 'Rules Violation'",
                    i + 1,
                    c.status
                )
            })?;
            if c.start < 0 || c.stop < c.start {
                return Err(format!(
                    "comment {}: start {} and stop {} are not a span of the recording",
                    i + 1,
                    c.start,
                    c.stop
                ));
            }
            comments.push(CallbackComment {
                comment: c.comment.clone(),
                status: status.to_owned(),
                start: c.start,
                stop: c.stop,
                duration: c.duration.unwrap_or(c.stop - c.start),
            });
        }
        Ok(ReviewCallback {
            status: self.status,
            reviewed_by: None,
            comments,
        })
    }
}

/// How far a session's latest review has got on its way to the LMS.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum LmsState {
    /// Queued, or retrying after a network error or a 5xx.
    Waiting,
    /// Accepted, and the attempt read back in the expected status.
    Delivered,
    /// Refused, or not applied as expected; the note says why.
    Failed,
    /// Open edX changed the attempt while a decision of ours was still on its way.
    Conflict,
}

impl LmsState {
    /// One cell for the session list: a glyph that reads without colour.
    pub fn glyph(self) -> &'static str {
        match self {
            Self::Waiting => "↻",
            Self::Delivered => "⇅",
            Self::Failed => "✗",
            Self::Conflict => "≠",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Waiting => "↻ waiting to reach Open edX",
            Self::Delivered => "⇅ delivered to Open edX",
            Self::Failed => "✗ delivery to Open edX failed",
            Self::Conflict => "≠ changed in Open edX while our decision was on its way",
        }
    }

    pub fn needs_attention(self) -> bool {
        matches!(self, Self::Failed | Self::Conflict)
    }
}

/// A session's link to Open edX, as shown to reviewers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LmsSync {
    pub state: LmsState,
    /// Why it failed, or what the LMS answered.
    pub note: Option<String>,
}

/// The provider-profile word edx-proctoring reads for an onboarding (statuses.py L275-330,
/// the reverse of its mapping): what the LMS's instructor dashboard then shows.
pub fn profile_status(s: crate::domain::OnboardingStatus) -> &'static str {
    use crate::domain::OnboardingStatus as O;
    match s {
        O::Verified => "approved-in-course",
        O::OtherCourseApproved => "approved-in-different-course",
        O::Rejected => "rejected",
        O::Expired => "expired",
        O::SetupStarted | O::OnboardingStarted | O::Submitted => "pending",
        O::NotStarted | O::Error | O::OnboardingResetPastDue => "no-profile",
    }
}

/// How the note of a review Open edX accepted but would not let us read back begins: the
/// next sync checks such a review again by itself.
pub const READ_BACK_REFUSED: &str =
    "Open edX accepted the review but would not let us read the attempt back";

/// The note for that case: the cause (the LMS client's service user is not course staff)
/// and the fix, in the reviewer's and the operator's words.
pub fn read_back_refused_note(lms_client_id: &str, course: &str, detail: &str) -> String {
    format!(
        "{READ_BACK_REFUSED} ({detail}): the Open edX user of the LMS client '{lms_client_id}' \
         is not course staff in {course}. Make that user staff of the course (or global staff) \
         in Open edX; the next sync checks this review again by itself."
    )
}

/// At a sync, a review that was accepted but not read back is delivered once Open edX's
/// own listing shows the attempt as we decided it: the note to record then.
pub fn confirmed_at_sync(
    lms_note: Option<&str>,
    ours: AttemptStatus,
    remote: AttemptStatus,
) -> Option<String> {
    (lms_note.is_some_and(|n| n.starts_with(READ_BACK_REFUSED)) && ours == remote).then(|| {
        format!(
            "Open edX shows it as {} (read back at sync)",
            remote.label()
        )
    })
}

/// The explanation recorded when the LMS kept a Fail at `second_review_required`.
pub fn unknown_reviewer_note(email: &str) -> String {
    format!(
        "Open edX kept the attempt at second_review_required: the reviewer's email '{email}' is \
         not an Open edX user, and edx-proctoring silently ignores an unknown reviewed_by. \
         Use a reviewer whose email is an Open edX staff account."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(status: &str) -> Violation {
        Violation {
            id: 1,
            start_time: 120,
            stop_time: 185,
            duration: 65,
            kind: ViolationKind::SecondPerson,
            status: status.into(),
            comment: "Second person in the room".into(),
        }
    }

    #[test]
    fn fail_is_a_violation_only_when_a_rules_violation_was_flagged() {
        let fail = decision_callback(Verdict::Fail, &[v("Suspicious")], "t@x.org");
        assert_eq!(fail.status, CallbackStatus::Suspicious);
        assert_eq!(fail.reviewed_by.as_deref(), Some("t@x.org"));
        let fail = decision_callback(
            Verdict::Fail,
            &[v("Suspicious"), v("Rules Violation")],
            "t@x.org",
        );
        assert_eq!(fail.status, CallbackStatus::Violation);
        assert_eq!(fail.comments[1].status, "Rules Violation");
        assert_eq!((fail.comments[1].start, fail.comments[1].stop), (120, 185));
        let pass = decision_callback(Verdict::Pass, &[v("Rules Violation")], "t@x.org");
        assert_eq!(pass.status, CallbackStatus::Passed);
        let json = serde_json::to_value(&pass).unwrap();
        assert_eq!(json["status"], "passed");
        assert_eq!(json["reviewed_by"], "t@x.org");
    }

    #[test]
    fn reviews_move_attempts_as_edx_proctoring_does() {
        let t = ReviewTarget {
            completed: true,
            is_sample_attempt: false,
        };
        use AttemptStatus::*;
        use CallbackStatus as C;
        assert_eq!(
            status_after_review(t, C::Suspicious, false),
            SecondReviewRequired
        );
        assert_eq!(status_after_review(t, C::Violation, true), Rejected);
        assert_eq!(status_after_review(t, C::Passed, false), Verified);
        assert_eq!(status_after_review(t, C::NotReviewed, true), Error);
        let unsubmitted = ReviewTarget {
            completed: false,
            ..t
        };
        assert_eq!(status_after_review(unsubmitted, C::Passed, true), Error);
        let onboarding = ReviewTarget {
            is_sample_attempt: true,
            ..t
        };
        assert_eq!(
            status_after_review(onboarding, C::Suspicious, false),
            Rejected
        );
    }

    #[test]
    fn onboarding_reads_in_the_provider_profile_words_edx_proctoring_maps_back() {
        use crate::domain::OnboardingStatus as O;
        assert_eq!(profile_status(O::Verified), "approved-in-course");
        assert_eq!(
            profile_status(O::OtherCourseApproved),
            "approved-in-different-course"
        );
        assert_eq!(profile_status(O::Submitted), "pending");
        assert_eq!(profile_status(O::NotStarted), "no-profile");
    }

    #[test]
    fn automated_comments_are_checked_and_normalised() {
        let review: AutomatedReview = serde_json::from_str(
            r#"{"status":"violation","comments":[{"comment":"Phone","status":"violation","start":5,"stop":9,"kind":"phone"}]}"#,
        )
        .unwrap();
        let cb = review.callback().unwrap();
        assert_eq!(cb.comments[0].status, "Rules Violation");
        assert_eq!(cb.comments[0].duration, 4);
        assert!(cb.reviewed_by.is_none());
        let bad: AutomatedReview = serde_json::from_str(
            r#"{"status":"violation","comments":[{"comment":"x","status":"odd","start":5,"stop":9,"kind":"phone"}]}"#,
        )
        .unwrap();
        assert!(bad.callback().unwrap_err().contains("comment 1"));
    }
}
