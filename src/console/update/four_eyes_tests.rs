//! The console under a course's four-eyes rule: the dialog says what a first opinion, a
//! confirmation and an overturn do, and the reviewer of a first opinion is told to wait.

use super::update;
use crate::console::action::{Action, Effect};
use crate::console::fixtures::*;
use crate::console::state::State;
use crate::domain::second_review::{SecondReview, Stage, Waiting};
use crate::domain::*;
use crossterm::event::KeyCode;

fn with_detail(s: &mut State, change: impl FnOnce(&mut SessionDetail)) {
    let d = s.detail.data.as_mut().expect("a detail on screen");
    change(d);
}

fn entry(stage: Stage, verdict: Verdict, reviewer: &str) -> HistoryEntry {
    HistoryEntry {
        id: 1,
        reviewer: reviewer.into(),
        decided_at: time::macros::datetime!(2026-11-10 10:00 UTC),
        verdict: Some(verdict),
        reason: String::new(),
        status_before: AttemptStatus::SecondReviewRequired,
        status_after: AttemptStatus::SecondReviewRequired,
        review_status_before: None,
        review_status_after: None,
        grade_before: None,
        grade_after: None,
        email: None,
        undoes: None,
        stage: Some(stage),
        evidence_deleted: false,
    }
}

fn decided_with(s: &mut State, d: SessionDetail) -> String {
    let fx = update(s, crossterm_enter());
    let Effect::Decide { request, .. } = fx[0].clone() else {
        panic!("{fx:?}")
    };
    update(
        s,
        Action::Decided {
            request,
            session: 11,
            result: Ok(d),
        },
    );
    s.status.clone().unwrap().text
}

fn crossterm_enter() -> Action {
    code(KeyCode::Enter)
}

#[test]
fn under_the_rule_a_fail_says_it_is_a_first_opinion_and_its_outcome_says_it_waits() {
    let mut s = opened();
    s.reviewer = Some("ada".into());
    with_detail(&mut s, |d| d.second_review = SecondReview::Fail);
    update(&mut s, key('f'));
    let dialog = s.dialog.as_ref().unwrap();
    assert_eq!(
        dialog.consequences,
        [
            "your Fail is the first opinion: nothing changes yet",
            "nobody is told until a second reviewer confirms it"
        ]
    );
    let mut d = detail(&rows()[0]);
    d.history = vec![entry(Stage::First, Verdict::Fail, "ada")];
    d.waiting = Some(Waiting {
        first_reviewer: "ada".into(),
        verdict: Some(Verdict::Fail),
    });
    assert_eq!(
        decided_with(&mut s, d),
        "◎ First opinion recorded: Fail of Ana — it waits for a second reviewer"
    );
    // Back on it, the first reviewer is told to leave it to someone else.
    let mut s = opened();
    s.reviewer = Some("ada".into());
    with_detail(&mut s, |d| {
        d.waiting = Some(Waiting {
            first_reviewer: "ada".into(),
            verdict: Some(Verdict::Fail),
        })
    });
    update(&mut s, key('f'));
    assert!(s.dialog.is_none());
    assert!(
        s.status
            .as_ref()
            .unwrap()
            .text
            .starts_with("You gave the first opinion on this learner")
    );
}

#[test]
fn a_second_reviewer_decides_blind_and_hears_whether_they_confirmed_or_overturned() {
    let mut s = opened();
    s.reviewer = Some("bo".into());
    let waiting = Waiting {
        first_reviewer: "ada".into(),
        verdict: None,
    };
    with_detail(&mut s, |d| {
        d.second_review = SecondReview::Fail;
        d.waiting = Some(waiting.clone());
    });
    update(&mut s, key('p'));
    let lines = s.dialog.as_ref().unwrap().consequences.clone();
    assert_eq!(
        lines[0],
        "second look, blind: the first verdict shows after yours"
    );
    assert_eq!(lines[1], "if it was a Pass too:");
    assert!(lines[2].starts_with("  status Require Attention → Passed"));
    assert_eq!(
        lines.last().unwrap(),
        "if not: back to Require Attention; nobody is told"
    );
    let mut d = detail(&rows()[0]);
    d.history = vec![
        entry(Stage::First, Verdict::Fail, "ada"),
        entry(Stage::Overturn, Verdict::Pass, "bo"),
    ];
    assert_eq!(
        decided_with(&mut s, d),
        "↺ Overturned: ada gave Fail, you Pass; Ana is back in Require Attention"
    );

    let mut s = opened();
    s.reviewer = Some("bo".into());
    with_detail(&mut s, |d| d.waiting = Some(waiting));
    update(&mut s, key('f'));
    let mut d = detail(&rows()[0]);
    d.row.status = AttemptStatus::Rejected;
    d.history = vec![
        entry(Stage::First, Verdict::Fail, "ada"),
        entry(Stage::Confirm, Verdict::Fail, "bo"),
    ];
    let said = decided_with(&mut s, d);
    assert!(
        said.starts_with("✘ Failed (agreeing with ada) Ana"),
        "{said}"
    );
}
