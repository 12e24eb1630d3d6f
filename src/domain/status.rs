//! edx-proctoring's status vocabularies, stored and sent as the same literal strings.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// `ProctoredExamStudentAttempt.status`, verbatim from `edx_proctoring/statuses.py`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    Eligible,
    Created,
    DownloadSoftwareClicked,
    ReadyToStart,
    Started,
    ReadyToSubmit,
    Declined,
    TimedOut,
    Submitted,
    SecondReviewRequired,
    Verified,
    Rejected,
    Error,
    Expired,
    OnboardingReset,
    OnboardingMissing,
    OnboardingPending,
    OnboardingFailed,
    OnboardingExpired,
}

impl AttemptStatus {
    pub const ALL: [AttemptStatus; 19] = [
        Self::Eligible,
        Self::Created,
        Self::DownloadSoftwareClicked,
        Self::ReadyToStart,
        Self::Started,
        Self::ReadyToSubmit,
        Self::Declined,
        Self::TimedOut,
        Self::Submitted,
        Self::SecondReviewRequired,
        Self::Verified,
        Self::Rejected,
        Self::Error,
        Self::Expired,
        Self::OnboardingReset,
        Self::OnboardingMissing,
        Self::OnboardingPending,
        Self::OnboardingFailed,
        Self::OnboardingExpired,
    ];

    /// edx-proctoring's *completed* class (statuses.py): the learner is done with the exam.
    /// Moving from one of these back to an incomplete status is the one illegal transition.
    pub fn is_completed(self) -> bool {
        matches!(
            self,
            Self::Declined
                | Self::TimedOut
                | Self::Submitted
                | Self::SecondReviewRequired
                | Self::Verified
                | Self::Rejected
                | Self::Error
                | Self::OnboardingMissing
                | Self::OnboardingPending
                | Self::OnboardingFailed
                | Self::OnboardingExpired
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eligible => "eligible",
            Self::Created => "created",
            Self::DownloadSoftwareClicked => "download_software_clicked",
            Self::ReadyToStart => "ready_to_start",
            Self::Started => "started",
            Self::ReadyToSubmit => "ready_to_submit",
            Self::Declined => "declined",
            Self::TimedOut => "timed_out",
            Self::Submitted => "submitted",
            Self::SecondReviewRequired => "second_review_required",
            Self::Verified => "verified",
            Self::Rejected => "rejected",
            Self::Error => "error",
            Self::Expired => "expired",
            Self::OnboardingReset => "onboarding_reset",
            Self::OnboardingMissing => "onboarding_missing",
            Self::OnboardingPending => "onboarding_pending",
            Self::OnboardingFailed => "onboarding_failed",
            Self::OnboardingExpired => "onboarding_expired",
        }
    }

    /// The dashboard's word for the status; "Require Attention" is Proctortrack's name for a
    /// failing automated review that waits for course staff.
    pub fn label(self) -> &'static str {
        match self {
            Self::Eligible => "Eligible",
            Self::Created => "Created",
            Self::DownloadSoftwareClicked => "Downloading",
            Self::ReadyToStart => "Ready to start",
            Self::Started => "In progress",
            Self::ReadyToSubmit => "Ready to submit",
            Self::Declined => "Declined",
            Self::TimedOut => "Timed out",
            Self::Submitted => "Pending review",
            Self::SecondReviewRequired => "Require Attention",
            Self::Verified => "Passed",
            Self::Rejected => "Failed",
            Self::Error => "Error",
            Self::Expired => "Expired",
            Self::OnboardingReset => "Onboarding reset",
            Self::OnboardingMissing => "Onboarding missing",
            Self::OnboardingPending => "Onboarding pending",
            Self::OnboardingFailed => "Onboarding failed",
            Self::OnboardingExpired => "Onboarding expired",
        }
    }

    /// A glyph that carries the meaning without colour.
    pub fn glyph(self) -> &'static str {
        match self {
            Self::SecondReviewRequired => "⚑",
            Self::Verified => "✔",
            Self::Rejected => "✘",
            Self::Submitted | Self::TimedOut => "◷",
            Self::Started | Self::ReadyToSubmit => "▶",
            Self::Error => "⚠",
            Self::Declined => "⊘",
            _ => "·",
        }
    }
}

impl fmt::Display for AttemptStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status '{0}'")]
pub struct UnknownStatus(pub String);

/// Finds the member of a vocabulary whose stored string is `s`.
fn by_name<T: Copy>(all: &[T], name: fn(T) -> &'static str, s: &str) -> Result<T, UnknownStatus> {
    all.iter()
        .copied()
        .find(|st| name(*st) == s)
        .ok_or_else(|| UnknownStatus(s.to_owned()))
}

impl FromStr for AttemptStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        by_name(&Self::ALL, Self::as_str, s)
    }
}

/// The review's legacy Software Secure vocabulary, which edx-proctoring stores for every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewStatus {
    Clean,
    #[serde(rename = "Rules Violation")]
    RulesViolation,
    Suspicious,
    #[serde(rename = "Not Reviewed")]
    NotReviewed,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 4] = [
        Self::Clean,
        Self::RulesViolation,
        Self::Suspicious,
        Self::NotReviewed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clean => "Clean",
            Self::RulesViolation => "Rules Violation",
            Self::Suspicious => "Suspicious",
            Self::NotReviewed => "Not Reviewed",
        }
    }
}

impl fmt::Display for ReviewStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReviewStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        by_name(&Self::ALL, Self::as_str, s)
    }
}

/// What the learner sees of the outcome on the course page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LearnerView {
    Pending,
    Satisfactory,
    Unsatisfactory,
    /// No proctoring result applies yet (not started, in progress, declined…).
    None,
}

impl LearnerView {
    pub fn of(status: AttemptStatus) -> Self {
        match status {
            AttemptStatus::Submitted | AttemptStatus::SecondReviewRequired => Self::Pending,
            AttemptStatus::Verified => Self::Satisfactory,
            AttemptStatus::Rejected | AttemptStatus::Error => Self::Unsatisfactory,
            _ => Self::None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Satisfactory => "Satisfactory",
            Self::Unsatisfactory => "Unsatisfactory",
            Self::None => "—",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_stored_string() {
        for st in AttemptStatus::ALL {
            assert_eq!(st.as_str().parse::<AttemptStatus>(), Ok(st));
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(json, format!("\"{}\"", st.as_str()));
        }
        for rs in ReviewStatus::ALL {
            assert_eq!(rs.as_str().parse::<ReviewStatus>(), Ok(rs));
            assert_eq!(
                serde_json::to_string(&rs).unwrap(),
                format!("\"{}\"", rs.as_str())
            );
        }
        assert!("passed".parse::<ReviewStatus>().is_err());
    }

    #[test]
    fn learner_sees_pending_while_staff_must_decide() {
        assert_eq!(
            LearnerView::of(AttemptStatus::SecondReviewRequired),
            LearnerView::Pending
        );
        assert_eq!(
            LearnerView::of(AttemptStatus::Verified),
            LearnerView::Satisfactory
        );
        assert_eq!(
            LearnerView::of(AttemptStatus::Rejected),
            LearnerView::Unsatisfactory
        );
        assert_eq!(LearnerView::of(AttemptStatus::Started), LearnerView::None);
    }
}
