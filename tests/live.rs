//! Live updates (issue #9): `GET /api/v1/events` tells every console a colleague's
//! decision as it happens, only within the courses each may see, and resumes after a drop.

mod common;

use common::follow;
use common::peer::{DEMO_COURSES, Ours};
use common::sessions::{attention, decide};
use proctor_review::api::{ChangeEvent, ChangeKind, Delivery};
use proctor_review::domain::{AttemptStatus, Verdict};
use std::time::Duration;
use tokio::sync::mpsc;

async fn next(rx: &mut mpsc::UnboundedReceiver<ChangeEvent>) -> Option<ChangeEvent> {
    tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn a_decision_reaches_other_consoles_at_once_and_only_where_they_may_look() {
    let ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "60"]);
    let ada = ours.api(&ours.reviewer("ada", "ada@example.edu", "reviewer"));
    let bo = ours.api(&ours.reviewer("bo", "bo@example.edu", "reviewer"));
    let outsider = ours.api(&ours.reviewer_in("zed", &[DEMO_COURSES[1]], &[]));
    let mut bo_sees = follow(bo.clone(), None).await;
    let mut zed_sees = follow(outsider, None).await;

    let s = attention(&ada, 10)
        .await
        .into_iter()
        .find(|s| s.exam_id <= 3)
        .expect("a session of the first course");
    decide(&ada, &s, Verdict::Fail, "phone").await;
    let e = next(&mut bo_sees).await.expect("bo hears of it");
    assert_eq!(e.kind, ChangeKind::Decision);
    assert_eq!(e.session_id, s.id);
    assert_eq!(e.status, AttemptStatus::Rejected);
    assert_eq!(e.reviewer.as_deref(), Some("ada"));
    assert_eq!(e.verdict, Some(Verdict::Fail));
    assert_eq!(e.learner, s.learner.full_name);
    assert!(
        next(&mut zed_sees).await.is_none(),
        "zed may not see that course, so hears nothing of it"
    );

    // A console that was away resumes where it stopped.
    let s2 = attention(&ada, 10)
        .await
        .into_iter()
        .find(|x| x.exam_id <= 3 && x.id != s.id)
        .unwrap();
    decide(&ada, &s2, Verdict::Pass, "").await;
    let mut resumed = follow(bo, Some(e.id)).await;
    let mut again = next(&mut resumed).await.expect("replayed");
    // The first decision's email may have gone out meanwhile; it is replayed too.
    while again.kind != ChangeKind::Decision {
        again = next(&mut resumed).await.expect("replayed");
    }
    assert_eq!(again.session_id, s2.id);
    assert_eq!(again.verdict, Some(Verdict::Pass));

    // Open streams do not hold a shutdown up: SIGTERM ends them and the server exits.
    let mut ours = ours;
    assert!(ours.terminate().success());
}

/// Presence (issue #26): a reviewer opening a learner is seen by colleagues in the same
/// courses at once, by nobody outside them, and no longer once they leave.
#[tokio::test]
async fn a_claim_reaches_colleagues_at_once_and_its_release_too() {
    let ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "60"]);
    let ada = ours.api(&ours.reviewer("ada", "ada@example.edu", "reviewer"));
    let bo = ours.api(&ours.reviewer("bo", "bo@example.edu", "reviewer"));
    let outsider = ours.api(&ours.reviewer_in("zed", &[DEMO_COURSES[1]], &[]));
    let mut bo_sees = follow(bo.clone(), None).await;
    let mut zed_sees = follow(outsider.clone(), None).await;
    let s = attention(&ada, 10)
        .await
        .into_iter()
        .find(|s| s.exam_id <= 3)
        .expect("a session of the first course");

    let on = ada.claim(s.id).await.unwrap();
    assert_eq!(on.len(), 1);
    assert_eq!((on[0].session_id, on[0].reviewer.as_str()), (s.id, "ada"));
    let e = next(&mut bo_sees).await.expect("bo hears of it");
    assert_eq!(e.kind, ChangeKind::Claimed);
    assert_eq!((e.session_id, e.reviewer.as_deref()), (s.id, Some("ada")));
    assert_eq!(bo.claims().await.unwrap(), on, "and can read it later");
    // Renewing is no news.
    ada.claim(s.id).await.unwrap();
    assert!(outsider.claims().await.unwrap().is_empty());
    assert!(matches!(
        outsider.claim(s.id).await,
        Err(proctor_review::client::ClientError::NotFound(_))
    ));

    // Both on it: each sees the other.
    let on = bo.claim(s.id).await.unwrap();
    let who: Vec<_> = on.iter().map(|c| c.reviewer.as_str()).collect();
    assert_eq!(who, ["ada", "bo"]);
    let e = next(&mut bo_sees)
        .await
        .expect("bo's own claim is on the stream");
    assert_eq!(
        (e.kind, e.reviewer.as_deref()),
        (ChangeKind::Claimed, Some("bo"))
    );

    ada.release(s.id).await.unwrap();
    let e = next(&mut bo_sees).await.expect("bo hears ada left");
    assert_eq!(e.kind, ChangeKind::Released);
    assert_eq!(e.reviewer.as_deref(), Some("ada"));
    ada.release(s.id)
        .await
        .expect("releasing again is harmless");
    assert!(
        next(&mut bo_sees).await.is_none(),
        "ada's renewal and second release are no news"
    );
    assert!(next(&mut zed_sees).await.is_none(), "zed heard nothing");
    let left: Vec<_> = bo.claims().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].reviewer, "bo");
}

/// What the jobs do reaches the consoles too: the learner email a Fail queued is announced
/// once delivered, so no status bar keeps saying "queued" (issue #23, item 5).
#[tokio::test]
async fn a_delivered_learner_email_is_announced_live() {
    let ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "60"]);
    let ada = ours.api(&ours.reviewer("ada", "ada@example.edu", "reviewer"));
    let mut heard = follow(ada.clone(), None).await;
    let s = attention(&ada, 10).await.remove(0);
    decide(&ada, &s, Verdict::Fail, "phone").await;
    let mut kinds = Vec::new();
    while let Some(e) = next(&mut heard).await {
        kinds.push((e.kind, e.delivery));
        if e.kind == ChangeKind::Email {
            assert_eq!(e.session_id, s.id);
            assert_eq!(e.learner, s.learner.full_name);
            break;
        }
    }
    assert_eq!(
        kinds,
        [
            (ChangeKind::Decision, None),
            (ChangeKind::Email, Some(Delivery::Delivered))
        ]
    );
}

/// ada and bo on one server, each with a console on the cross-exam queue's rows.
struct TwoConsoles {
    _ours: Ours,
    _dirs: [tempfile::TempDir; 2],
    /// The queue as both consoles list it: oldest waiting first.
    queue: Vec<proctor_review::domain::SessionRow>,
    first: common::console::Console,
    second: common::console::Console,
}

impl TwoConsoles {
    fn start() -> Self {
        use common::console::Console;
        let ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "60"]);
        let ada = ours.reviewer("ada", "ada@example.edu", "reviewer");
        let bo = ours.reviewer("bo", "bo@example.edu", "reviewer");
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let start = |token: &str, dir: &tempfile::TempDir| {
            Console::start_with(
                &["--server", &ours.url],
                dir.path(),
                &[("PROCTOR_REVIEW_TOKEN", token)],
            )
        };
        let queue = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let q = proctor_review::api::SessionQuery {
                    desc: false,
                    ..Default::default()
                };
                ours.api(&ada).queue(&q).await.unwrap().items
            });
        let mut first = start(&ada, &dirs[0]);
        let mut second = start(&bo, &dirs[1]);
        // Both launch on the queue; Enter shows its sessions (80 columns: one pane at a time).
        for c in [&mut first, &mut second] {
            c.wait_for("All exams");
            c.keys("\r");
            // The rows, not only the header: Enter on a list still loading opens nothing.
            c.until("the queue's rows", |s| {
                s.contains("to review ·") && s.contains("▶ ")
            });
        }
        Self {
            _ours: ours,
            _dirs: dirs,
            queue,
            first,
            second,
        }
    }
}

/// Two consoles on one server: a Fail in the first appears in the second without a key.
#[test]
fn a_decision_in_one_console_appears_in_another_without_a_key_press() {
    // Bound whole: the server and folders live as long as the consoles.
    let TwoConsoles {
        _ours,
        _dirs,
        queue,
        mut first,
        mut second,
    } = TwoConsoles::start();
    let learner = queue[0].learner.full_name.clone();

    // Into Learner Detail, so the decision waits for the learner's details.
    first.keys("\r");
    first.wait_for("Learner sees");
    first.keys("f");
    first.wait_for("This will:");
    first.keys("\r");
    first.wait_for("✘ Failed");

    let seen = second.wait_for(&format!("ada failed {learner} just now"));
    assert!(
        seen.contains("✘ Failed") || seen.contains("Failed"),
        "{seen}"
    );
    first.quit();
    second.quit();
}

/// Two reviewers on one queue (issue #26): each sees who the other is on, the queue's next
/// goes past a learner a colleague holds, deciding one asks first, and a colleague who
/// quits frees their learner at once.
#[test]
fn two_consoles_never_take_the_same_learner_by_following_the_queue() {
    // Bound whole: the server and folders live as long as the consoles.
    let TwoConsoles {
        _ours,
        _dirs,
        queue,
        mut first,
        mut second,
    } = TwoConsoles::start();
    let name = |i: usize| queue[i].learner.full_name.clone();

    // ada opens the second learner in the queue; bo sees it on the row.
    first.keys("j");
    first.until("the cursor on the second learner", |s| {
        s.lines().any(|l| l.contains("▶") && l.contains(&name(1)))
    });
    first.keys("\r");
    first.wait_for("Learner sees");
    second.wait_for(&format!("{} ◉ ada", name(1)));

    // bo fails the head of the queue: the next learner is the third, not ada's.
    second.keys("\r");
    second.wait_for("Learner sees");
    second.keys("f");
    second.wait_for("This will:");
    second.keys("\r");
    second.wait_for(&format!("Failed {}", name(0)));
    second.wait_for(&format!("Learner Detail — {}", name(2)));

    // Going back to ada's learner and failing asks first.
    second.keys("\x1b");
    second.wait_for("to review ·");
    second.keys("k");
    let held = format!("{} ◉ ada", name(1));
    second.until("the cursor on ada's learner", |s| {
        s.lines().any(|l| l.contains("▶") && l.contains(&held))
    });
    second.keys("f");
    second.wait_for("ada is reviewing this learner — decide anyway?");
    second.wait_for("Enter fail anyway");
    second.keys("\x1b");
    second.until("the dialog closed", |s| !s.contains("decide anyway?"));

    // ada quits: bo sees the learner free at once, not after the claim would expire.
    first.quit();
    second.until("ada's claim gone", |s| !s.contains("◉ ada"));
    second.quit();
}
