//! edx-proctoring's status vocabularies, stored and sent as the same literal strings.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

/// `ProctoredExamStudentAttempt.status`, verbatim from `edx_proctoring/statuses.py`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    IntoStaticStr,
    VariantArray,
    EnumString,
    Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", parse_err_ty = UnknownStatus, parse_err_fn = UnknownStatus::of)]
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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status '{0}'")]
pub struct UnknownStatus(pub String);

impl UnknownStatus {
    fn of(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// The review's legacy Software Secure vocabulary, which edx-proctoring stores for every backend.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    IntoStaticStr,
    VariantArray,
    EnumString,
    Display,
)]
#[strum(parse_err_ty = UnknownStatus, parse_err_fn = UnknownStatus::of)]
pub enum ReviewStatus {
    Clean,
    #[serde(rename = "Rules Violation")]
    #[strum(serialize = "Rules Violation")]
    RulesViolation,
    Suspicious,
    #[serde(rename = "Not Reviewed")]
    #[strum(serialize = "Not Reviewed")]
    NotReviewed,
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
    use crate::domain::words::Word;

    #[test]
    fn every_status_round_trips_through_its_stored_string() {
        for &st in AttemptStatus::VARIANTS {
            assert_eq!(st.as_str().parse::<AttemptStatus>(), Ok(st));
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(json, format!("\"{}\"", st.as_str()));
        }
        for &rs in ReviewStatus::VARIANTS {
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
