//! Undo before anyone is told (issue #9): within the grace period a Pass or Fail can be
//! taken back, and its learner email is never sent; after it, the email goes out once and
//! undo is refused.

mod common;

use common::peer::Ours;
use common::sessions::{attention, decide};
use common::{eml_files, wait_for_emails};
use proctor_review::client::ClientError;
use proctor_review::domain::email::MailState;
use proctor_review::domain::{AttemptStatus, Verdict};

#[tokio::test]
async fn an_undone_fail_reaches_nobody_and_one_left_standing_is_emailed_once() {
    let outbox = tempfile::tempdir().unwrap();
    let ours = Ours::start_with(&[
        "--lms-sync-secs",
        "0",
        "--seed-demo",
        "60",
        "--outbox",
        outbox.path().to_str().unwrap(),
        "--undo-grace-secs",
        "3",
        "--job-poll-ms",
        "100",
    ]);
    let api = ours.api(&ours.reviewer("ada", "ada@example.edu", "reviewer"));
    let other = ours.api(&ours.reviewer("bo", "bo@example.edu", "reviewer"));
    let [undone, kept] = <[_; 2]>::try_from(attention(&api, 2).await).unwrap();
    let before = api.session(undone.id).await.unwrap();

    decide(&api, &undone, Verdict::Fail, "phone").await;
    decide(&api, &kept, Verdict::Fail, "second person").await;

    // Someone else cannot take ada's decision back.
    match other.undo(undone.id).await {
        Err(ClientError::Conflict(m)) => assert!(m.contains("only ada"), "{m}"),
        other => panic!("{other:?}"),
    }
    let after = api.undo(undone.id).await.unwrap();
    assert_eq!(after.row.status, AttemptStatus::SecondReviewRequired);
    assert_eq!(after.grade_in_force, before.grade_in_force);
    assert_eq!(after.history.len(), 2, "both entries are kept");
    assert_eq!(after.history[1].undoes, Some(Verdict::Fail));
    assert_eq!(
        after.history[0].email.as_ref().map(|e| e.state),
        Some(MailState::Cancelled)
    );
    // Nothing left to undo.
    assert!(matches!(
        api.undo(undone.id).await,
        Err(ClientError::Conflict(_))
    ));

    // Within the grace period nobody was emailed: the email is held, as History says.
    let held = api.session(kept.id).await.unwrap();
    assert_eq!(
        held.history
            .last()
            .and_then(|h| h.email.as_ref())
            .map(|e| e.state),
        Some(MailState::Queued)
    );
    assert!(
        eml_files(outbox.path()).is_empty(),
        "held during the grace period"
    );

    // After it, the decision left standing is emailed exactly once; the undone one never
    // (its email was cancelled, so no worker will ever take it).
    let emails = wait_for_emails(outbox.path(), 1).await;
    assert_eq!(emails.len(), 1);
    assert!(emails[0].contains(&kept.learner.email), "{}", emails[0]);
    let gone = api.session(undone.id).await.unwrap();
    assert_eq!(
        gone.history[0].email.as_ref().map(|e| e.state),
        Some(MailState::Cancelled)
    );
    assert_eq!(eml_files(outbox.path()).len(), 1);

    // Too late now: the way back is a new decision.
    match api.undo(kept.id).await {
        Err(ClientError::Conflict(m)) => assert!(m.contains("have passed"), "{m}"),
        other => panic!("{other:?}"),
    }
    let out = ours.cli(&["audit", "verify"]);
    assert!(out.contains("ok"), "{out}");
}
