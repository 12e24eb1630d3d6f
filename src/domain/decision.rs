//! What a Pass or a Fail does to a session. The server applies the plan; the console shows
//! the very same plan in its confirmation, so what the reviewer reads is what happens.

use super::model::Grade;
use super::status::{AttemptStatus, ReviewStatus};
use super::words::Word;
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Self::Pass => "Pass",
            Self::Fail => "Fail",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s).ok_or_else(|| format!("'{s}' is not a verdict (pass or fail)"))
    }
}

/// The facts about a session that a decision depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecisionFacts {
    pub status: AttemptStatus,
    pub review_status: Option<ReviewStatus>,
    pub original_grade: Option<Grade>,
    pub grade_override: Option<f64>,
    pub is_sample_attempt: bool,
}

/// Which learner email a decision sends (edx-proctoring's status emails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    Rejected,
    Verified,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecisionPlan {
    pub verdict: Verdict,
    pub status_before: AttemptStatus,
    pub status_after: AttemptStatus,
    pub review_status_before: Option<ReviewStatus>,
    pub review_status_after: ReviewStatus,
    pub override_after: Option<f64>,
    pub grade_before: Option<Grade>,
    pub grade_after: Option<Grade>,
    pub email: Option<EmailKind>,
    /// A Pass that undoes an earlier Fail.
    pub reverts_fail: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error(
        "a session that is {} cannot be passed or failed: it has no finished recording to review",
        .0.label().to_lowercase()
    )]
    NotDecidable(AttemptStatus),
    #[error("the session is already {}", .0.label())]
    AlreadyDecided(AttemptStatus),
    #[error("the session changed since it was loaded: it is now {}; reload and decide again", .actual.label())]
    Stale {
        expected: AttemptStatus,
        actual: AttemptStatus,
    },
    #[error(
        "this idempotency key was already used for a {} of session {session}; send a new key for a new decision",
        .verdict.word()
    )]
    KeyReused { session: i64, verdict: Verdict },
    /// Four eyes: the reviewer of a waiting first opinion cannot be its second reviewer.
    #[error(transparent)]
    SecondReview(#[from] super::second_review::SecondReviewError),
}

/// A decision sent with the idempotency key of an earlier one (`earlier`: its session and
/// verdict): the same decision is a retry, answered with what the first did; any other is
/// refused, never answered as if it had been made.
pub fn check_replay(earlier: (i64, Verdict), now: (i64, Verdict)) -> Result<(), DecisionError> {
    if earlier == now {
        Ok(())
    } else {
        Err(DecisionError::KeyReused {
            session: earlier.0,
            verdict: earlier.1,
        })
    }
}

/// Refuses a decision made on a screen that no longer shows the session as it is.
pub fn ensure_unchanged(
    expected: AttemptStatus,
    actual: AttemptStatus,
) -> Result<(), DecisionError> {
    if expected == actual {
        Ok(())
    } else {
        Err(DecisionError::Stale { expected, actual })
    }
}

/// Statuses with a finished, reviewable recording. edx-proctoring allows any move between
/// completed statuses; these are the ones a proctoring review can produce or replace.
fn decidable(status: AttemptStatus) -> bool {
    matches!(
        status,
        AttemptStatus::Submitted
            | AttemptStatus::SecondReviewRequired
            | AttemptStatus::Verified
            | AttemptStatus::Rejected
    )
}

pub fn plan_decision(
    facts: &DecisionFacts,
    verdict: Verdict,
) -> Result<DecisionPlan, DecisionError> {
    if !decidable(facts.status) {
        return Err(DecisionError::NotDecidable(facts.status));
    }
    let (status_after, review_status_after, override_after, email) = match verdict {
        Verdict::Fail => (
            AttemptStatus::Rejected,
            ReviewStatus::Suspicious,
            facts.original_grade.map(|_| 0.0),
            EmailKind::Rejected,
        ),
        Verdict::Pass => (
            AttemptStatus::Verified,
            ReviewStatus::Clean,
            None,
            EmailKind::Verified,
        ),
    };
    if facts.status == status_after {
        return Err(DecisionError::AlreadyDecided(facts.status));
    }
    Ok(DecisionPlan {
        verdict,
        status_before: facts.status,
        status_after,
        review_status_before: facts.review_status,
        review_status_after,
        override_after,
        grade_before: Grade::in_force(facts.original_grade, facts.grade_override),
        grade_after: Grade::in_force(facts.original_grade, override_after),
        // edx-proctoring sends no status email for practice (onboarding) attempts.
        email: (!facts.is_sample_attempt).then_some(email),
        reverts_fail: verdict == Verdict::Pass && facts.status == AttemptStatus::Rejected,
    })
}

impl DecisionPlan {
    /// The same, for a session Open edX registered: it sets the grade and emails the learner
    /// once our review reaches it.
    pub fn describe_for_lms(&self) -> Vec<String> {
        let grade = match self.verdict {
            Verdict::Fail => "grade: Open edX sets it to 0",
            Verdict::Pass => "grade: Open edX restores it",
        };
        vec![
            format!(
                "status {} → {} (and in Open edX)",
                self.status_before.label(),
                self.status_after.label()
            ),
            grade.into(),
            "learner: emailed by Open edX".into(),
        ]
    }

    /// Lines that say exactly what will happen, for the confirmation dialog.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "status {} → {}",
            self.status_before.label(),
            self.status_after.label()
        )];
        match (self.grade_before, self.grade_after) {
            (Some(b), Some(a)) if b != a => lines.push(format!("grade {b} → {a}")),
            (Some(b), Some(_)) => lines.push(format!("grade stays {b}")),
            _ => lines.push("no grade to change (ungraded attempt)".into()),
        }
        lines.push(match self.email {
            Some(EmailKind::Rejected) => {
                "learner emailed: did not pass the proctoring review".into()
            }
            Some(EmailKind::Verified) => "learner emailed: passed the proctoring review".into(),
            None => "no email (practice attempt)".into(),
        });
        lines
    }
}

/// The longest reason a decision may carry.
pub const MAX_REASON_CHARS: usize = 2000;

/// What an idempotency key may look like: a UUID, or any 8–100 letters, digits, `-`, `_`.
pub fn valid_idempotency_key(key: &str) -> bool {
    (8..=100).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(status: AttemptStatus, override_earned: Option<f64>) -> DecisionFacts {
        DecisionFacts {
            status,
            review_status: Some(ReviewStatus::Suspicious),
            original_grade: Some(Grade {
                earned: 17.0,
                possible: 20.0,
            }),
            grade_override: override_earned,
            is_sample_attempt: false,
        }
    }

    #[test]
    fn fail_rejects_zeroes_the_grade_and_emails() {
        let plan = plan_decision(
            &facts(AttemptStatus::SecondReviewRequired, None),
            Verdict::Fail,
        )
        .unwrap();
        assert_eq!(plan.status_after, AttemptStatus::Rejected);
        assert_eq!(plan.review_status_after, ReviewStatus::Suspicious);
        assert_eq!(plan.override_after, Some(0.0));
        assert_eq!(plan.grade_before.unwrap().to_string(), "17/20");
        assert_eq!(plan.grade_after.unwrap().to_string(), "0/20");
        assert_eq!(plan.email, Some(EmailKind::Rejected));
        assert!(!plan.reverts_fail);
        assert_eq!(
            plan.describe(),
            vec![
                "status Require Attention → Failed",
                "grade 17/20 → 0/20",
                "learner emailed: did not pass the proctoring review"
            ]
        );
    }

    #[test]
    fn pass_verifies_and_keeps_the_original_grade() {
        let plan = plan_decision(
            &facts(AttemptStatus::SecondReviewRequired, None),
            Verdict::Pass,
        )
        .unwrap();
        assert_eq!(plan.status_after, AttemptStatus::Verified);
        assert_eq!(plan.review_status_after, ReviewStatus::Clean);
        assert_eq!(plan.override_after, None);
        assert_eq!(plan.grade_after.unwrap().to_string(), "17/20");
        assert_eq!(plan.email, Some(EmailKind::Verified));
        assert!(plan.describe().contains(&"grade stays 17/20".to_string()));
    }

    #[test]
    fn pass_after_fail_reverts_and_restores_the_grade() {
        let plan =
            plan_decision(&facts(AttemptStatus::Rejected, Some(0.0)), Verdict::Pass).unwrap();
        assert!(plan.reverts_fail);
        assert_eq!(plan.grade_before.unwrap().to_string(), "0/20");
        assert_eq!(plan.grade_after.unwrap().to_string(), "17/20");
        assert_eq!(plan.override_after, None);
    }

    #[test]
    fn fail_after_pass_is_allowed_between_completed_statuses() {
        let plan = plan_decision(&facts(AttemptStatus::Verified, None), Verdict::Fail).unwrap();
        assert_eq!(plan.status_after, AttemptStatus::Rejected);
        assert_eq!(plan.grade_after.unwrap().earned, 0.0);
    }

    #[test]
    fn the_same_decision_twice_is_refused_so_no_second_email_goes_out() {
        assert_eq!(
            plan_decision(&facts(AttemptStatus::Rejected, Some(0.0)), Verdict::Fail),
            Err(DecisionError::AlreadyDecided(AttemptStatus::Rejected))
        );
        assert_eq!(
            plan_decision(&facts(AttemptStatus::Verified, None), Verdict::Pass),
            Err(DecisionError::AlreadyDecided(AttemptStatus::Verified))
        );
    }

    #[test]
    fn sessions_without_a_finished_recording_cannot_be_decided() {
        for st in [
            AttemptStatus::Started,
            AttemptStatus::Created,
            AttemptStatus::Declined,
            AttemptStatus::Error,
            AttemptStatus::OnboardingMissing,
        ] {
            assert_eq!(
                plan_decision(&facts(st, None), Verdict::Fail),
                Err(DecisionError::NotDecidable(st))
            );
        }
    }

    #[test]
    fn practice_attempts_send_no_email_and_ungraded_ones_change_no_grade() {
        let mut f = facts(AttemptStatus::SecondReviewRequired, None);
        f.is_sample_attempt = true;
        f.original_grade = None;
        let plan = plan_decision(&f, Verdict::Fail).unwrap();
        assert_eq!(plan.email, None);
        assert_eq!(plan.override_after, None);
        assert_eq!(plan.grade_after, None);
    }
}
