//! Four eyes: a course may require a second reviewer before a decision has consequences.
//! Under the rule a first opinion changes nothing the learner, the grade or Open edX can see;
//! a different reviewer then confirms it (it takes effect) or overturns it (the session is
//! back in Require Attention with both opinions in its history).

use super::decision::Verdict;
use super::words::Word;
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

/// Which decisions of a course need a second reviewer.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SecondReview {
    /// Every decision takes effect at once.
    #[default]
    Off,
    /// A Fail (the decision that zeroes a grade) waits for a second reviewer.
    Fail,
    /// Every decision does.
    All,
}

impl SecondReview {
    pub fn covers(self, verdict: Verdict) -> bool {
        match self {
            Self::Off => false,
            Self::Fail => verdict == Verdict::Fail,
            Self::All => true,
        }
    }

    /// In words, for `course show` and the console.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Off => "off: every decision takes effect at once",
            Self::Fail => "fail: a Fail takes effect once a second reviewer confirms it",
            Self::All => "all: every decision takes effect once a second reviewer confirms it",
        }
    }
}

impl std::str::FromStr for SecondReview {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
            .ok_or_else(|| format!("'{s}' is not a second-review rule (fail, all or off)"))
    }
}

/// A first opinion waiting for a second reviewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstOpinion {
    /// Its entry in the decision history.
    pub decision_id: i64,
    pub reviewer_id: i64,
    pub reviewer: String,
    pub verdict: Verdict,
}

/// Which step of the review a decision is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Takes effect now (no rule, or one that does not cover this verdict).
    Final,
    /// Recorded; nothing reaches the learner, the grade or Open edX until a second
    /// reviewer confirms it.
    First,
    /// A second reviewer agrees: the decision takes effect.
    Confirm(FirstOpinion),
    /// A second reviewer disagrees: the session needs another look, with both opinions.
    Overturn(FirstOpinion),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecondReviewError {
    #[error(
        "you gave the first opinion on this session ({}); a different reviewer must confirm or overturn it",
        .0.word()
    )]
    OwnOpinion(Verdict),
}

/// The step a reviewer's `verdict` is, given the course's rule and the first opinion
/// waiting on the session, if any.
pub fn step(
    rule: SecondReview,
    waiting: Option<&FirstOpinion>,
    reviewer_id: i64,
    verdict: Verdict,
) -> Result<Step, SecondReviewError> {
    match waiting {
        Some(first) if first.reviewer_id == reviewer_id => {
            Err(SecondReviewError::OwnOpinion(first.verdict))
        }
        Some(first) if first.verdict == verdict => Ok(Step::Confirm(first.clone())),
        Some(first) => Ok(Step::Overturn(first.clone())),
        None if rule.covers(verdict) => Ok(Step::First),
        None => Ok(Step::Final),
    }
}

/// What a history entry was in a second review (none: a decision that took effect alone).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Stage {
    /// A first opinion: it changed nothing yet.
    First,
    /// A second reviewer agreed: the decision took effect.
    Confirm,
    /// A second reviewer disagreed: the session went back to Require Attention.
    Overturn,
}

impl Step {
    pub fn stage(&self) -> Option<Stage> {
        match self {
            Self::Final => None,
            Self::First => Some(Stage::First),
            Self::Confirm(_) => Some(Stage::Confirm),
            Self::Overturn(_) => Some(Stage::Overturn),
        }
    }

    /// Whether the decision changes the session now (status, grade, learner, Open edX).
    pub fn takes_effect(&self) -> bool {
        matches!(self, Self::Final | Self::Confirm(_))
    }
}

/// How a decision is written in the history's verdict column: `fail`, or with its stage
/// (`first-fail`, `confirm-fail`, `overturn-pass`), so no query that reads decisions in
/// force (`verdict IN ('pass', 'fail')`) mistakes a step for one.
pub fn verdict_word(stage: Option<Stage>, verdict: Verdict) -> String {
    match stage {
        None => verdict.as_str().to_owned(),
        Some(s) => format!("{}-{}", s.as_str(), verdict.as_str()),
    }
}

/// The stage and verdict a verdict column holds, if it holds one.
pub fn read_verdict_word(word: &str) -> Option<(Option<Stage>, Verdict)> {
    if let Some(v) = Verdict::parse(word) {
        return Some((None, v));
    }
    let (stage, verdict) = word.split_once('-')?;
    Some((Some(Stage::parse(stage)?), Verdict::parse(verdict)?))
}

/// A session waiting for a second reviewer, as Learner Detail shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// Who gave the first opinion.
    pub first_reviewer: String,
    /// The first verdict: `None` for everyone but its reviewer until they choose (the second
    /// reviewer decides blind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// The session as `viewer` may see it: while a first opinion waits, only its reviewer sees
/// its verdict and reason, so the second reviewer decides blind.
pub fn blind(detail: &mut super::SessionDetail, viewer: &str) {
    let Some(waiting) = detail.waiting.as_mut() else {
        return;
    };
    if waiting.first_reviewer == viewer {
        return;
    }
    waiting.verdict = None;
    if let Some(first) = detail
        .history
        .iter_mut()
        .rev()
        .find(|h| h.stage == Some(Stage::First) && h.undoes.is_none())
    {
        first.verdict = None;
        first.reason.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(by: i64, verdict: Verdict) -> FirstOpinion {
        FirstOpinion {
            decision_id: 9,
            reviewer_id: by,
            reviewer: "ada".into(),
            verdict,
        }
    }

    #[test]
    fn the_rule_decides_what_waits_and_a_second_reviewer_confirms_or_overturns() {
        use SecondReview::{All, Off};
        use Verdict::{Fail, Pass};
        let fail_rule = SecondReview::Fail;
        assert_eq!(step(Off, None, 1, Fail), Ok(Step::Final));
        assert_eq!(step(fail_rule, None, 1, Pass), Ok(Step::Final));
        assert_eq!(step(fail_rule, None, 1, Fail), Ok(Step::First));
        assert_eq!(step(All, None, 1, Pass), Ok(Step::First));
        let ada_failed = first(1, Fail);
        assert_eq!(
            step(fail_rule, Some(&ada_failed), 1, Fail),
            Err(SecondReviewError::OwnOpinion(Fail)),
            "nobody confirms their own Fail"
        );
        assert_eq!(
            step(fail_rule, Some(&ada_failed), 2, Fail),
            Ok(Step::Confirm(ada_failed.clone()))
        );
        assert_eq!(
            step(fail_rule, Some(&ada_failed), 2, Pass),
            Ok(Step::Overturn(ada_failed.clone()))
        );
        // A rule switched off meanwhile still lets the waiting opinion be settled.
        assert_eq!(
            step(Off, Some(&ada_failed), 2, Fail),
            Ok(Step::Confirm(ada_failed))
        );
    }

    #[test]
    fn every_step_reads_back_from_its_word() {
        for stage in [
            None,
            Some(Stage::First),
            Some(Stage::Confirm),
            Some(Stage::Overturn),
        ] {
            for v in [Verdict::Pass, Verdict::Fail] {
                assert_eq!(read_verdict_word(&verdict_word(stage, v)), Some((stage, v)));
            }
        }
        assert_eq!(
            verdict_word(Some(Stage::First), Verdict::Fail),
            "first-fail"
        );
        assert_eq!(read_verdict_word("undo-fail"), None);
        assert_eq!(read_verdict_word("first-maybe"), None);
    }

    #[test]
    fn rules_read_and_write_as_their_words() {
        for rule in SecondReview::VARIANTS {
            assert_eq!(rule.as_str().parse::<SecondReview>(), Ok(*rule));
        }
        assert!("sometimes".parse::<SecondReview>().is_err());
    }
}
