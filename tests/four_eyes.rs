//! Four eyes (issue #26): under a course's `--second-review fail` rule a first Fail changes
//! nothing the learner, the grade or Open edX can see; a different reviewer confirms it (it
//! takes effect) or overturns it (back to Require Attention with both opinions), decides
//! blind, and each step can be undone within its grace period.

mod common;

use common::peer::{DEMO_COURSES, Ours};
use common::sessions::{attention, decide};
use proctor_review::api::DecisionRequest;
use proctor_review::client::{ApiClient, ClientError};
use proctor_review::domain::second_review::Stage;
use proctor_review::domain::{AttemptStatus, SessionDetail, SessionRow, Verdict};

fn stages(d: &SessionDetail) -> Vec<(Option<Stage>, Option<Verdict>, Option<Verdict>)> {
    d.history
        .iter()
        .map(|h| (h.stage, h.verdict, h.undoes))
        .collect()
}

async fn try_decide(
    api: &ApiClient,
    s: &SessionRow,
    verdict: Verdict,
) -> Result<SessionDetail, ClientError> {
    api.decide(
        s.id,
        &DecisionRequest {
            verdict,
            reason: format!("{verdict:?} after a look"),
            expected_status: Some(AttemptStatus::SecondReviewRequired),
            idempotency_key: None,
        },
    )
    .await
}

/// A grace period, so each step's undo can be tried and emails stay held (their state in
/// History shows which decisions queued one).
const FLAGS: &[&str] = &[
    "--lms-sync-secs",
    "0",
    "--seed-demo",
    "60",
    "--undo-grace-secs",
    "30",
];

#[tokio::test]
async fn on_sqlite_a_fail_under_the_rule_waits_for_a_second_reviewer_who_decides_blind() {
    scenario(&Ours::start_with(FLAGS), &[]).await;
}

#[tokio::test]
async fn on_postgres_a_fail_under_the_rule_waits_for_a_second_reviewer_who_decides_blind() {
    let Some(db) = common::pg::TestDb::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (media, outbox, reports, key, audit) = (
        path("media"),
        path("outbox"),
        path("reports"),
        path("link.key"),
        path("audit.key"),
    );
    let mut flags = FLAGS.to_vec();
    flags.extend([
        "--media-dir",
        &media,
        "--outbox",
        &outbox,
        "--reports-dir",
        &reports,
        "--link-key-file",
        &key,
        "--audit-key-file",
        &audit,
    ]);
    scenario(&Ours::on(&db.url, &flags), &["--audit-key-file", &audit]).await;
}

/// `verify`: what `audit verify` needs besides the database.
async fn scenario(ours: &Ours, verify: &[&str]) {
    let shown = ours.cli(&["course", "set", DEMO_COURSES[0], "--second-review", "fail"]);
    assert!(
        shown.contains("a Fail takes effect once a second reviewer confirms it"),
        "{shown}"
    );
    let shown = ours.cli(&["course", "show", DEMO_COURSES[0]]);
    assert!(shown.contains("second review  fail"), "{shown}");
    let ada = ours.api(&ours.reviewer("ada", "ada@example.edu", "reviewer"));
    let bo_token = ours.reviewer("bo", "bo@example.edu", "reviewer");
    let bo = ours.api(&bo_token);
    let waiting: Vec<SessionRow> = attention(&ada, 10)
        .await
        .into_iter()
        .filter(|s| s.exam_id <= 3)
        .collect();
    let (s, s2, s3) = (&waiting[0], &waiting[1], &waiting[2]);
    let before = ada.session(s.id).await.unwrap();

    // ada's Fail is a first opinion: nothing the learner could notice changed.
    let first = try_decide(&ada, s, Verdict::Fail).await.unwrap();
    assert_eq!(first.row.status, AttemptStatus::SecondReviewRequired);
    assert_eq!(
        first.grade_in_force, before.grade_in_force,
        "the grade stands"
    );
    assert_eq!(
        stages(&first),
        [(Some(Stage::First), Some(Verdict::Fail), None)]
    );
    assert!(first.history[0].email.is_none(), "no learner email queued");
    let w = first.waiting.clone().expect("waits for a second reviewer");
    assert_eq!(
        (w.first_reviewer.as_str(), w.verdict),
        ("ada", Some(Verdict::Fail))
    );
    assert!(first.row.awaiting_from.is_some());

    // ada cannot be her own second reviewer.
    match try_decide(&ada, s, Verdict::Fail).await {
        Err(ClientError::Forbidden(m)) => assert!(
            m.contains("you gave the first opinion on this session (Fail); a different reviewer must confirm or overturn it"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }

    // bo sees that it waits, not what ada decided nor why.
    let seen = bo.session(s.id).await.unwrap();
    let w = seen.waiting.clone().expect("bo sees it waits");
    assert_eq!((w.first_reviewer.as_str(), w.verdict), ("ada", None));
    assert_eq!(seen.history[0].verdict, None);
    assert_eq!(seen.history[0].reason, "");

    // bo agrees: the Fail takes effect, with the email the decision queues. He had the
    // learner open (a claim), so the decision is timed for the team's median.
    bo.claim(s.id).await.unwrap();
    let confirmed = try_decide(&bo, s, Verdict::Fail).await.unwrap();
    assert_eq!(confirmed.row.status, AttemptStatus::Rejected);
    assert_eq!(confirmed.grade_in_force.unwrap().earned, 0.0);
    assert_eq!(
        stages(&confirmed),
        [
            (Some(Stage::First), Some(Verdict::Fail), None),
            (Some(Stage::Confirm), Some(Verdict::Fail), None)
        ],
        "both opinions in History, the first shown once bo chose"
    );
    assert!(
        confirmed.history[1].email.is_some(),
        "the confirmation emails"
    );
    assert!(confirmed.waiting.is_none());

    // bo disagrees on another: back to Require Attention, nothing sent.
    try_decide(&ada, s2, Verdict::Fail).await.unwrap();
    let overturned = try_decide(&bo, s2, Verdict::Pass).await.unwrap();
    assert_eq!(overturned.row.status, AttemptStatus::SecondReviewRequired);
    assert!(overturned.waiting.is_none(), "it waits for anyone again");
    assert_eq!(
        stages(&overturned),
        [
            (Some(Stage::First), Some(Verdict::Fail), None),
            (Some(Stage::Overturn), Some(Verdict::Pass), None)
        ]
    );
    assert!(overturned.history.iter().all(|h| h.email.is_none()));
    assert!(
        attention(&ada, 10).await.iter().any(|r| r.id == s2.id),
        "back in the queue"
    );
    // A Pass is not covered by the `fail` rule: it takes effect at once.
    let passed = try_decide(&ada, s2, Verdict::Pass).await.unwrap();
    assert_eq!(passed.row.status, AttemptStatus::Verified);

    // Each step can be undone within its grace period.
    try_decide(&ada, s3, Verdict::Fail).await.unwrap();
    let undone = ada.undo(s3.id).await.unwrap();
    assert!(undone.waiting.is_none(), "the first opinion is taken back");
    assert_eq!(undone.row.awaiting_from, None);
    decide(&bo, s3, Verdict::Fail, "phone").await;
    let confirmed = try_decide(&ada, s3, Verdict::Fail).await.unwrap();
    assert_eq!(confirmed.row.status, AttemptStatus::Rejected);
    let undone = ada.undo(s3.id).await.unwrap();
    assert_eq!(undone.row.status, AttemptStatus::SecondReviewRequired);
    assert_eq!(
        undone.waiting.map(|w| w.first_reviewer).as_deref(),
        Some("bo"),
        "undoing the confirmation lets bo's first opinion wait again"
    );
    assert_eq!(
        undone.history.last().map(|h| (h.stage, h.undoes)),
        Some((Some(Stage::Confirm), Some(Verdict::Fail)))
    );

    // The Quiz List counts s3 as waiting for ada, not for bo, whose first opinion it holds.
    let counts = |courses: Vec<proctor_review::domain::CourseSummary>| {
        courses
            .into_iter()
            .flat_map(|c| c.exams)
            .find(|e| e.exam.id == s3.exam_id)
            .map(|e| {
                (
                    e.counts.awaiting_second_review,
                    e.counts.yours_awaiting,
                    e.counts.to_review(),
                )
            })
            .unwrap()
    };
    let (all, bos, bo_to_review) = counts(bo.courses().await.unwrap());
    let (_, adas, ada_to_review) = counts(ada.courses().await.unwrap());
    assert_eq!((all, bos, adas), (1, 1, 0));
    assert_eq!(ada_to_review, bo_to_review + 1);

    // The team's stats recount the same history: what stands, who agreed with whom.
    let stats = bo.stats(DEMO_COURSES[0], "7d").await.unwrap();
    let pace = |who: &str| {
        let r = stats.reviewers.iter().find(|r| r.reviewer == who).unwrap();
        (
            r.today,
            r.in_window,
            r.passes,
            r.fails,
            r.seconded,
            r.agreed,
        )
    };
    assert_eq!(
        pace("ada"),
        (1, 1, 1, 0, 2, 1),
        "s2's Pass; one of two seconded agreed"
    );
    assert_eq!(pace("bo"), (1, 1, 0, 1, 0, 0), "the confirmed Fail of s");
    let timed = |who: &str| {
        let r = stats.reviewers.iter().find(|r| r.reviewer == who).unwrap();
        r.median_secs
    };
    assert!(timed("bo").is_some(), "bo decided with the learner open");
    assert_eq!(
        timed("ada"),
        None,
        "ada never opened hers through a console"
    );
    let today = stats.days.last().unwrap();
    assert_eq!((today.passes, today.fails), (1, 1));
    assert_eq!(stats.backlog.awaiting_second_review, 1, "s3 waits again");
    let mut waiting_now = 0;
    for exam in 1..=4 {
        let page = ada
            .sessions(
                exam,
                &proctor_review::api::SessionQuery {
                    status: "second_review_required".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if page.items.first().is_some_and(|r| r.exam_id <= 3) {
            waiting_now += page.total;
        }
    }
    assert_eq!(stats.backlog.require_attention, waiting_now);
    // Yesterday the backlog held the three learners decided today (s, s2 and s3's
    // confirmation), less s3, whose confirmation was undone back into it.
    let days = &stats.days;
    assert_eq!(days[days.len() - 1].backlog, waiting_now);
    assert_eq!(days[days.len() - 2].backlog, waiting_now + 2);

    // `proctor-review stats` prints the same figures for a spreadsheet.
    let token_dir = tempfile::tempdir().unwrap();
    let token_file = token_dir.path().join("token");
    std::fs::write(&token_file, bo_token).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_proctor-review"))
        .args([
            "stats",
            "--course",
            DEMO_COURSES[0],
            "--format",
            "csv",
            "--server",
        ])
        .arg(&ours.url)
        .arg("--token-file")
        .arg(&token_file)
        .env("PROCTOR_REVIEW_DATA_DIR", token_dir.path())
        .env("PROCTOR_REVIEW_CONFIG", token_dir.path().join("none.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.starts_with("kind,name,today,in_window,passes,fails,seconded,agreed"),
        "{csv}"
    );
    assert!(csv.contains("\nreviewer,ada,1,1,1,0,2,1,"), "{csv}");
    assert_eq!(csv.lines().filter(|l| l.starts_with("day,")).count(), 14);
    let outsider = ours.api(&ours.reviewer_in("zed", &[DEMO_COURSES[1]], &[]));
    assert!(matches!(
        outsider.stats(DEMO_COURSES[0], "7d").await,
        Err(ClientError::NotFound(_))
    ));

    let verified = ours.cli(&[&["audit", "verify"], verify].concat());
    assert!(
        verified.starts_with("ok: 10 decisions verified and sealed"),
        "every step is on the audit chain: {verified}"
    );
}
