//! Undoing a Pass or Fail within its grace period. Until the grace period ends the
//! decision's learner email and Open edX callback are held, so an undone decision reaches
//! nobody. After it, the way back is a new decision.

use super::decision::Verdict;
use super::model::Grade;
use super::second_review::Stage;
use super::status::{AttemptStatus, ReviewStatus};
use time::{Duration, OffsetDateTime};

/// How an undo is written in the history's verdict column: before what it took back
/// (`undo-fail`, `undo-first-fail`).
pub const UNDO_PREFIX: &str = "undo-";

/// How long a decision can be undone, unless the server says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::seconds(30);

/// The session's latest history entry and what has happened since, as an undo sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoFacts {
    pub decision_id: i64,
    /// `None`: the latest entry is not a Pass or Fail (an undo, or a change from Open edX).
    pub verdict: Option<Verdict>,
    /// Its step in a second review, if it was one.
    pub stage: Option<Stage>,
    pub reviewer_id: i64,
    pub reviewer: String,
    pub decided_at: OffsetDateTime,
    pub status_before: AttemptStatus,
    pub status_after: AttemptStatus,
    pub review_status_before: Option<ReviewStatus>,
    pub grade_before: Option<f64>,
    /// The session as it is now.
    pub status_now: AttemptStatus,
    pub original_grade: Option<Grade>,
    /// Whether the decision's email and callback are all still waiting (none taken by a
    /// worker yet).
    pub held: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UndoPlan {
    pub decision_id: i64,
    pub undoes: Verdict,
    /// The second-review step undone, if it was one: undoing a first opinion lets the
    /// session go back to waiting for anyone; undoing a confirmation or an overturn lets the
    /// first opinion wait again.
    pub stage: Option<Stage>,
    pub status_before: AttemptStatus,
    pub status_after: AttemptStatus,
    pub review_status_after: Option<ReviewStatus>,
    pub override_after: Option<f64>,
    pub grade_before: Option<f64>,
    pub grade_after: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndoError {
    #[error("there is no Pass or Fail to undo on this session")]
    Nothing,
    #[error("only {0}, who made the decision, can undo it")]
    NotYours(String),
    #[error(
        "the {0} s to undo have passed and the learner is being told; make a new decision instead"
    )]
    TooLate(i64),
    #[error("the session changed since the decision; reload it")]
    Changed,
}

/// What undoing the session's latest decision changes, if it may be undone now.
pub fn plan_undo(
    facts: Option<&UndoFacts>,
    reviewer_id: i64,
    now: OffsetDateTime,
    grace: Duration,
) -> Result<UndoPlan, UndoError> {
    let f = facts.ok_or(UndoError::Nothing)?;
    let undoes = f.verdict.ok_or(UndoError::Nothing)?;
    if f.reviewer_id != reviewer_id {
        return Err(UndoError::NotYours(f.reviewer.clone()));
    }
    if now >= f.decided_at + grace || !f.held {
        return Err(UndoError::TooLate(grace.whole_seconds()));
    }
    if f.status_now != f.status_after {
        return Err(UndoError::Changed);
    }
    let original = f.original_grade.map(|g| g.earned);
    // The grade in force before comes back; an override only if it differed from the
    // learner's own grade.
    let override_after = match (f.grade_before, original) {
        (Some(before), Some(orig)) if before != orig => Some(before),
        _ => None,
    };
    Ok(UndoPlan {
        decision_id: f.decision_id,
        undoes,
        stage: f.stage,
        status_before: f.status_now,
        status_after: f.status_before,
        review_status_after: f.review_status_before,
        override_after,
        grade_before: grade_while_standing(f),
        grade_after: f.grade_before,
    })
}

/// The grade in force while the decision stood.
fn grade_while_standing(f: &UndoFacts) -> Option<f64> {
    // A first opinion and an overturn left the grade as it was.
    if matches!(f.stage, Some(Stage::First | Stage::Overturn)) {
        return f.grade_before;
    }
    match f.verdict {
        Some(Verdict::Fail) => f.original_grade.map(|_| 0.0),
        _ => f.original_grade.map(|g| g.earned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn fail_at(at: OffsetDateTime) -> UndoFacts {
        UndoFacts {
            decision_id: 7,
            verdict: Some(Verdict::Fail),
            stage: None,
            reviewer_id: 1,
            reviewer: "ada".into(),
            decided_at: at,
            status_before: AttemptStatus::SecondReviewRequired,
            status_after: AttemptStatus::Rejected,
            review_status_before: None,
            grade_before: Some(17.0),
            status_now: AttemptStatus::Rejected,
            original_grade: Some(Grade {
                earned: 17.0,
                possible: 20.0,
            }),
            held: true,
        }
    }

    #[test]
    fn a_fail_undone_in_time_restores_status_and_grade() {
        let at = datetime!(2026-11-26 10:00 UTC);
        let plan = plan_undo(
            Some(&fail_at(at)),
            1,
            at + Duration::seconds(29),
            DEFAULT_GRACE,
        )
        .unwrap();
        assert_eq!(plan.status_after, AttemptStatus::SecondReviewRequired);
        assert_eq!(plan.override_after, None, "the learner's own grade again");
        assert_eq!(
            (plan.grade_before, plan.grade_after),
            (Some(0.0), Some(17.0))
        );
        assert_eq!(plan.undoes, Verdict::Fail);
    }

    #[test]
    fn an_earlier_override_comes_back() {
        let at = datetime!(2026-11-26 10:00 UTC);
        let mut pass = fail_at(at);
        pass.verdict = Some(Verdict::Pass);
        pass.status_before = AttemptStatus::Rejected;
        pass.status_after = AttemptStatus::Verified;
        pass.status_now = AttemptStatus::Verified;
        pass.grade_before = Some(0.0);
        let plan = plan_undo(Some(&pass), 1, at, DEFAULT_GRACE).unwrap();
        assert_eq!(plan.status_after, AttemptStatus::Rejected);
        assert_eq!(plan.override_after, Some(0.0));
    }

    #[test]
    fn undo_is_refused_late_by_others_after_changes_or_without_a_decision() {
        let at = datetime!(2026-11-26 10:00 UTC);
        let f = fail_at(at);
        let late = at + DEFAULT_GRACE;
        assert_eq!(
            plan_undo(Some(&f), 1, late, DEFAULT_GRACE),
            Err(UndoError::TooLate(30))
        );
        assert_eq!(
            plan_undo(Some(&f), 2, at, DEFAULT_GRACE),
            Err(UndoError::NotYours("ada".into()))
        );
        let mut taken = f.clone();
        taken.held = false;
        assert_eq!(
            plan_undo(Some(&taken), 1, at, DEFAULT_GRACE),
            Err(UndoError::TooLate(30))
        );
        let mut changed = f.clone();
        changed.status_now = AttemptStatus::Verified;
        assert_eq!(
            plan_undo(Some(&changed), 1, at, DEFAULT_GRACE),
            Err(UndoError::Changed)
        );
        let mut undone = f;
        undone.verdict = None;
        assert_eq!(
            plan_undo(Some(&undone), 1, at, DEFAULT_GRACE),
            Err(UndoError::Nothing)
        );
        assert_eq!(
            plan_undo(None, 1, at, DEFAULT_GRACE),
            Err(UndoError::Nothing)
        );
    }
}
