//! Open edX interop against the real edx-proctoring 6.1.4 (the peer in
//! `../shared/peers/edx-proctoring`), with our real `serve` as its Proctortrack provider.
//! Every test runs twice: on SQLite, and on PostgreSQL (a fresh database each). Skipped
//! with a loud line where the peer or PostgreSQL cannot run; `.ci/run` makes a skip a
//! failure.

mod common;

use common::peer::{self, COURSE, Ours, Peer};
use common::pg::TestDb;
use proctor_review::api::DecisionRequest;
use proctor_review::client::ApiClient;
use proctor_review::domain::lms::{AutomatedComment, AutomatedReview, CallbackStatus};
use proctor_review::domain::{AttemptStatus, LmsState, SessionRow, Verdict, ViolationKind};
use std::time::{Duration, Instant};

struct Loop {
    ours: Ours,
    peer: Peer,
    reviewer: ApiClient,
    pipeline: ApiClient,
    _db: Option<TestDb>,
}

/// The review server's database in a test.
#[derive(Clone, Copy)]
enum Db {
    Sqlite,
    Postgres,
}

/// Both servers, connected: the peer's provider is us; we post reviews as the peer's staff
/// service account (in the LMS: staff, so it may review and read attempts back).
async fn connected(db: Db) -> Option<Loop> {
    connected_with(db, &["--lms-sync-secs", "0"]).await
}

async fn connected_with(db: Db, extra: &[&str]) -> Option<Loop> {
    let dir = peer::prepared()?;
    let (ours, db) = match db {
        Db::Sqlite => (Ours::start_with(extra), None),
        Db::Postgres => {
            let db = TestDb::create().await?;
            (Ours::on(&db.url, extra), Some(db))
        }
    };
    let peer = Peer::start(&dir, &format!("{}/provider", ours.url)).await;
    ours.connect(&peer, "peer-staff-client", "peer-staff-secret");
    let reviewer = ApiClient::new(
        &ours.url,
        &ours.reviewer("staff", "staff@example.com", "reviewer"),
    )
    .expect("client");
    let pipeline = ApiClient::new(
        &ours.url,
        &ours.reviewer("pipeline", "pipeline@example.edu", "service"),
    )
    .expect("client");
    Some(Loop {
        ours,
        peer,
        reviewer,
        pipeline,
        _db: db,
    })
}

async fn session_by_external(l: &Loop, external: &str) -> SessionRow {
    let d = find(l, external).await;
    d.unwrap_or_else(|| {
        panic!(
            "no session for attempt {external}\nours:\n{}\npeer:\n{}",
            l.ours.log(),
            l.peer.log()
        )
    })
}

async fn find(l: &Loop, external: &str) -> Option<SessionRow> {
    let api = &l.reviewer;
    for course in api.courses().await.expect("courses") {
        for exam in course.exams {
            let page = api
                .sessions(exam.exam.id, &Default::default())
                .await
                .expect("sessions");
            for row in page.items {
                let detail = api
                    .session(row.id)
                    .await
                    .unwrap_or_else(|e| panic!("{e}\n{}", l.ours.log()));
                if detail.external_id.as_deref() == Some(external) {
                    return Some(row);
                }
            }
        }
    }
    None
}

/// Waits (30 s at most) until the session is as `done` says; `what` names it if not.
async fn until_session(
    l: &Loop,
    id: i64,
    what: &str,
    done: impl Fn(&proctor_review::domain::SessionDetail) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = l.reviewer.session(id).await.expect("session");
        if done(&d) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {:?} {:?}\n{}",
            d.row.status,
            d.row.lms,
            l.ours.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the session's delivery to Open edX has settled (not waiting any more).
async fn settled(api: &ApiClient, id: i64) -> proctor_review::domain::LmsSync {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = api.session(id).await.expect("session");
        if let Some(s) = d.row.lms.clone()
            && s.state != LmsState::Waiting
        {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "delivery never settled: {:?}",
            d.row.lms
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn flagged() -> AutomatedReview {
    AutomatedReview {
        status: CallbackStatus::Suspicious,
        comments: vec![AutomatedComment {
            comment: "Second person in the room".into(),
            status: "Rules Violation".into(),
            start: 120,
            stop: 185,
            duration: None,
            kind: ViolationKind::SecondPerson,
        }],
    }
}

fn decision(verdict: Verdict, expected: AttemptStatus) -> DecisionRequest {
    DecisionRequest {
        verdict,
        reason: "checked the video".into(),
        expected_status: Some(expected),
        idempotency_key: None,
    }
}

/// An exam and an attempt taken through edx-proctoring, flagged by our automated review.
async fn flagged_attempt(l: &Loop, content: &str) -> (String, i64) {
    let exam = l.peer.create_exam("Midterm (peer)", content).await;
    let external = l.peer.take_exam(exam).await;
    let row = session_by_external(l, &external).await;
    assert_eq!(
        row.status,
        AttemptStatus::Submitted,
        "our session follows the LMS's PATCHes"
    );
    l.pipeline
        .automated_review(row.id, &flagged())
        .await
        .expect("automated review");
    let sync = settled(&l.reviewer, row.id).await;
    assert_eq!(
        sync.state,
        LmsState::Delivered,
        "{sync:?}\n{}",
        l.ours.log()
    );
    // Delivered to the LMS first, Require Attention here a moment later (under load the
    // two can be seen apart); the tests start from both.
    until_session(l, row.id, "never Require Attention", |d| {
        d.row.status == AttemptStatus::SecondReviewRequired
    })
    .await;
    (external, row.id)
}

async fn an_attempt_through_edx_proctoring_is_reviewed_and_decided_in_the_lms(db: Db) {
    let Some(l) = connected(db).await else { return };
    let (external, id) = flagged_attempt(&l, "peer_midterm").await;

    // Require Attention in both places.
    assert_eq!(
        l.peer.attempt_status(&external).await,
        "second_review_required"
    );
    let row = l.reviewer.session(id).await.expect("session").row;
    assert_eq!(row.status, AttemptStatus::SecondReviewRequired);
    assert_eq!(row.learner.email, "learner@example.com");

    // Fail: the LMS rejects, overrides the grade to 0 and emails the learner.
    let t0 = Instant::now();
    l.reviewer
        .decide(
            id,
            &decision(Verdict::Fail, AttemptStatus::SecondReviewRequired),
        )
        .await
        .expect("fail");
    let sync = settled(&l.reviewer, id).await;
    let fail_ms = t0.elapsed().as_millis();
    assert_eq!(sync.state, LmsState::Delivered, "{sync:?}");
    assert_eq!(sync.note.as_deref(), Some("Open edX shows it as Failed"));
    assert_eq!(l.peer.attempt_status(&external).await, "rejected");
    let calls = l.peer.runtime_calls().await;
    let override_call = calls
        .iter()
        .find(|c| c["method"] == "override_subsection_grade")
        .expect("grade override");
    assert_eq!(override_call["args"]["earned_graded"], "0.0");
    assert_eq!(override_call["args"]["overrider"], "staff");
    assert!(
        l.peer
            .mail_subjects()
            .iter()
            .any(|s| s == "Proctoring attempt rejected")
    );
    eprintln!("Fail → Open edX answered and read back rejected in {fail_ms} ms");

    // Pass reverts: verified, override undone.
    l.reviewer
        .decide(id, &decision(Verdict::Pass, AttemptStatus::Rejected))
        .await
        .expect("pass");
    assert_eq!(settled(&l.reviewer, id).await.state, LmsState::Delivered);
    assert_eq!(l.peer.attempt_status(&external).await, "verified");
    let calls = l.peer.runtime_calls().await;
    assert!(
        calls
            .iter()
            .any(|c| c["method"] == "undo_override_subsection_grade")
    );
    assert!(
        l.peer
            .mail_subjects()
            .iter()
            .any(|s| s == "Proctoring attempt verified")
    );
    // Open edX emailed the learner; we did not email them a second time.
    assert!(
        !l.ours.dir.path().join("outbox").exists()
            || common::files_below(&l.ours.dir.path().join("outbox")).is_empty()
    );
}

async fn a_decision_made_while_the_lms_is_down_is_delivered_once_it_is_back(db: Db) {
    let Some(mut l) = connected(db).await else {
        return;
    };
    let (external, id) = flagged_attempt(&l, "peer_down").await;
    l.peer.stop();
    l.reviewer
        .decide(
            id,
            &decision(Verdict::Fail, AttemptStatus::SecondReviewRequired),
        )
        .await
        .expect("the decision itself does not need the LMS");
    // The worker tries, fails to connect, and waits with the reason shown.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lms = l
            .reviewer
            .session(id)
            .await
            .expect("session")
            .row
            .lms
            .expect("lms");
        if lms
            .note
            .as_deref()
            .is_some_and(|n| n.contains("unreachable"))
        {
            assert_eq!(lms.state, LmsState::Waiting);
            break;
        }
        assert!(Instant::now() < deadline, "no retry noted: {lms:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = l.ours.cli(&["lms", "status"]);
    assert!(
        status.contains(&external) && status.contains("waiting"),
        "{status}"
    );

    l.peer.run().await;
    l.reviewer.lms_retry(id).await.expect("retry now");
    let sync = settled(&l.reviewer, id).await;
    assert_eq!(sync.state, LmsState::Delivered, "{sync:?}");
    assert_eq!(l.peer.attempt_status(&external).await, "rejected");
    let overrides = l
        .peer
        .runtime_calls()
        .await
        .iter()
        .filter(|c| c["method"] == "override_subsection_grade")
        .count();
    assert_eq!(overrides, 1, "delivered once, never twice");
    assert!(
        l.ours
            .cli(&["lms", "status"])
            .contains("Every review has reached Open edX")
    );
}

/// Issue #22: the LMS is down, the automated review (Require Attention) waits; a reviewer
/// Fails the session (superseding it) and undoes. The waiting review must not be lost: it
/// waits again and reaches edx-proctoring once it is back.
async fn an_undone_fail_leaves_the_waiting_review_to_reach_open_edx(db: Db) {
    let Some(mut l) =
        connected_with(db, &["--lms-sync-secs", "0", "--undo-grace-secs", "600"]).await
    else {
        return;
    };
    let exam = l.peer.create_exam("Midterm (undo)", "peer_undo").await;
    let external = l.peer.take_exam(exam).await;
    let row = session_by_external(&l, &external).await;
    // The attempt id Open edX knows finds the session.
    let q = proctor_review::api::SessionQuery {
        q: external.clone(),
        ..Default::default()
    };
    let found = l.reviewer.sessions(row.exam_id, &q).await.expect("search");
    assert_eq!(
        found.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [row.id]
    );
    l.peer.stop();
    let flagged_here = l
        .pipeline
        .automated_review(row.id, &flagged())
        .await
        .expect("automated review");
    assert_eq!(
        flagged_here.row.lms.as_ref().map(|s| s.state),
        Some(LmsState::Waiting)
    );
    l.reviewer
        .decide(row.id, &decision(Verdict::Fail, flagged_here.row.status))
        .await
        .expect("fail");
    let undone = l.reviewer.undo(row.id).await.expect("undo");
    assert_eq!(undone.row.status, flagged_here.row.status);
    assert_eq!(
        undone.row.lms.as_ref().map(|s| s.state),
        Some(LmsState::Waiting),
        "the automated review waits again"
    );
    let status = l.ours.cli(&["lms", "status"]);
    assert!(
        status.contains(&external) && !status.contains("Every review has reached Open edX"),
        "{status}"
    );

    l.peer.run().await;
    l.reviewer.lms_retry(row.id).await.expect("retry now");
    let sync = settled(&l.reviewer, row.id).await;
    assert_eq!(
        sync.state,
        LmsState::Delivered,
        "{sync:?}\n{}",
        l.ours.log()
    );
    assert_eq!(
        l.peer.attempt_status(&external).await,
        "second_review_required",
        "Open edX hears that the session needs attention"
    );
}

/// Issue #22: Open edX takes the review from a service user that is not course staff, but
/// will not let it read the attempt back. The cause and the fix are said; once the user is
/// staff (here: the staff credentials), the next sync confirms the review by itself.
async fn a_review_not_read_back_names_the_fix_and_is_confirmed_once_fixed(db: Db) {
    let Some(l) = connected_with(db, &["--lms-sync-secs", "1"]).await else {
        return;
    };
    l.ours
        .connect(&l.peer, "peer-provider-client", "peer-provider-secret");
    let exam = l
        .peer
        .create_exam("Midterm (read-back)", "peer_read_back")
        .await;
    let external = l.peer.take_exam(exam).await;
    let row = session_by_external(&l, &external).await;
    l.pipeline
        .automated_review(row.id, &flagged())
        .await
        .expect("automated review");
    let sync = settled(&l.reviewer, row.id).await;
    assert_eq!(sync.state, LmsState::Failed, "{sync:?}");
    let note = sync.note.unwrap_or_default();
    assert!(
        note.contains("not course staff") && note.contains("peer-provider-client"),
        "{note}"
    );
    let status = l.ours.cli(&["lms", "status"]);
    assert!(status.contains("Make that user staff"), "{status}");

    l.ours
        .connect(&l.peer, "peer-staff-client", "peer-staff-secret");
    until_session(&l, row.id, "never confirmed", |d| {
        d.row
            .lms
            .as_ref()
            .is_some_and(|s| s.state == LmsState::Delivered)
    })
    .await;
}

async fn refusals_are_recorded_with_the_lms_s_reason(db: Db) {
    let Some(l) = connected(db).await else { return };
    let (external, id) = flagged_attempt(&l, "peer_refusals").await;

    // A reviewer whose email is no Open edX user: the LMS answers OK but keeps the attempt
    // waiting for a second review.
    let stranger = ApiClient::new(
        &l.ours.url,
        &l.ours
            .reviewer("stranger", "nobody@elsewhere.example", "reviewer"),
    )
    .expect("client");
    stranger
        .decide(
            id,
            &decision(Verdict::Fail, AttemptStatus::SecondReviewRequired),
        )
        .await
        .expect("fail");
    let sync = settled(&l.reviewer, id).await;
    assert_eq!(sync.state, LmsState::Failed);
    let note = sync.note.unwrap_or_default();
    assert!(
        note.contains("nobody@elsewhere.example") && note.contains("not an Open edX user"),
        "{note}"
    );
    assert_eq!(
        l.peer.attempt_status(&external).await,
        "second_review_required"
    );

    // Wrong LMS credentials: a clear failure, and a retry after fixing them delivers.
    l.ours.connect(&l.peer, "peer-staff-client", "wrong-secret");
    l.reviewer.lms_retry(id).await.expect("retry");
    let sync = settled(&l.reviewer, id).await;
    assert_eq!(sync.state, LmsState::Failed);
    assert!(sync.note.unwrap_or_default().contains("client credentials"));
    l.ours
        .connect(&l.peer, "peer-staff-client", "peer-staff-secret");
    l.reviewer.lms_retry(id).await.expect("retry");
    let sync = settled(&l.reviewer, id).await;
    // Still the stranger's decision: the LMS keeps ignoring that reviewer.
    assert_eq!(sync.state, LmsState::Failed);

    // An attempt the LMS does not know: its 400 and message are kept.
    let http = reqwest::Client::new();
    let lms_token = l.peer.staff().await;
    let r = http
        .post(format!(
            "{}/api/edx_proctoring/v1/proctored_exam/attempt/nope-123/reviewed",
            l.peer.url
        ))
        .header("Authorization", format!("JWT {lms_token}"))
        .json(&serde_json::json!({"status": "passed"}))
        .send()
        .await
        .expect("peer");
    assert_eq!(r.status(), 400);
    let client = proctor_review::lms::LmsHttp::default();
    let lms = proctor_review::store::LmsClient {
        client_id: "x".into(),
        client_secret: "x".into(),
        lms_url: l.peer.url.clone(),
        lms_client_id: "peer-staff-client".into(),
        lms_client_secret: "peer-staff-secret".into(),
        backend: "proctortrack".into(),
    };
    let err = client
        .post_review(
            &lms,
            "nope-123",
            &proctor_review::domain::lms::ReviewCallback {
                status: CallbackStatus::Passed,
                reviewed_by: None,
                comments: vec![],
            },
        )
        .await
        .expect_err("unknown attempt");
    assert!(!err.retryable());
    assert!(
        err.to_string().contains("400") && err.to_string().contains("nope-123"),
        "{err}"
    );
}

async fn our_provider_api_refuses_bad_tokens_and_forged_launches(db: Db) {
    let Some(l) = connected(db).await else { return };
    let http = reqwest::Client::new();
    let base = format!("{}/provider", l.ours.url);
    // No token, a made-up one, an expired one.
    for auth in [
        None,
        Some("JWT 1.abc.peer-provider-client-id"),
        Some("JWT 100.00.peer-provider-client-id"),
    ] {
        let mut req = http.get(format!("{base}/api/v1/config/"));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.expect("answer");
        assert_eq!(r.status(), 401, "{auth:?}");
    }
    // A proper token works: the onboarding status of a learner we never onboarded.
    let token: serde_json::Value = http
        .post(format!("{base}/edx/oauth2/access_token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", peer::CLIENT_ID),
            ("client_secret", peer::CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("access_token");
    let status: serde_json::Value = http
        .get(format!(
            "{base}/api/v1/courses/{COURSE}/onboarding_statuses?user_id=u1"
        ))
        .header("Authorization", format!("JWT {token}"))
        .send()
        .await
        .expect("onboarding")
        .json()
        .await
        .expect("json");
    assert_eq!(status["status"], "no-profile");
    // Wrong client secret at the token endpoint.
    let r = http
        .post(format!("{base}/edx/oauth2/access_token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", peer::CLIENT_ID),
            ("client_secret", "guess"),
            ("token_type", "jwt"),
        ])
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), 401);

    // The launch the LMS's Review Dashboard makes: a real one works…
    let staff = l.peer.staff().await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = no_redirect
        .get(format!(
            "{}/api/edx_proctoring/v1/instructor/{COURSE}",
            l.peer.url
        ))
        .header("Authorization", format!("JWT {staff}"))
        .send()
        .await
        .expect("instructor dashboard");
    assert_eq!(r.status(), 302, "{}", l.peer.log());
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        location.starts_with(&format!(
            "{base}/launch/edx/instructor/{}/?jwt=",
            peer::CLIENT_ID
        )),
        "{location}"
    );
    let page = http.get(&location).send().await.expect("launch");
    assert_eq!(page.status(), 200);
    let text = page.text().await.expect("page");
    assert!(
        text.contains("proctor-review --server") && text.contains(COURSE),
        "{text}"
    );
    // …a forged one (signed with another secret) is refused.
    let claims = serde_json::json!({
        "course_id": COURSE, "iss": peer::CLIENT_ID,
        "exp": time::OffsetDateTime::now_utc().unix_timestamp() + 60,
    });
    let forged = proctor_review::lms::jwt::sign(&claims, b"not-the-secret");
    let r = http
        .get(format!(
            "{base}/launch/edx/instructor/{}/?jwt={forged}",
            peer::CLIENT_ID
        ))
        .send()
        .await
        .expect("launch");
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap_or_default().contains("signature"));
}

/// The Done-means of Open edX: an attempt taken through edx-proctoring shows as Require
/// Attention in the console, and `f` pressed there makes edx-proctoring reject it.
async fn a_fail_pressed_in_the_console_rejects_the_attempt_in_open_edx(db: Db) {
    let Some(l) = connected(db).await else { return };
    let (external, id) = flagged_attempt(&l, "peer_console").await;
    let token = l
        .ours
        .reviewer("course-staff", "staff@example.com", "reviewer");
    let url = l.ours.url.clone();
    let dir = l.ours.dir.path().to_owned();
    let pressed = tokio::task::spawn_blocking(move || {
        let mut c = common::console::Console::start_with(
            &["--server", &url],
            &dir,
            &[("PROCTOR_REVIEW_TOKEN", &token)],
        );
        c.wait_for("Midterm (peer)");
        c.keys("\r");
        c.wait_for("Viol");
        let list = c.wait_for("Attention");
        assert!(list.contains("⇅"), "the Open edX column shows:\n{list}");
        c.keys("\r");
        let detail = c.wait_for("delivered to Open edX");
        assert!(detail.contains("Require Attention"), "{detail}");
        c.keys("f");
        // Waits for the line itself: a frame may be caught half drawn.
        let dialog = c.wait_for("grade: Open edX sets it to 0");
        assert!(dialog.contains("This will:"), "{dialog}");
        c.keys("second person on camera");
        let at = Instant::now();
        c.keys("\r");
        c.wait_for("on its way to Open edX");
        c.quit();
        at
    })
    .await
    .expect("console");
    let deadline = Instant::now() + Duration::from_secs(30);
    while l.peer.attempt_status(&external).await != "rejected" {
        assert!(
            Instant::now() < deadline,
            "Open edX never rejected the attempt"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "key press → Open edX attempt rejected: {} ms",
        pressed.elapsed().as_millis()
    );
    assert_eq!(settled(&l.reviewer, id).await.state, LmsState::Delivered);
}

/// A decision made in Open edX itself (here: a staff review posted straight to the LMS, as
/// the Django admin would) reaches our session through reconciliation, recorded in History.
async fn a_change_made_in_open_edx_is_followed_and_recorded(db: Db) {
    let Some(l) = connected_with(db, &["--lms-sync-secs", "1"]).await else {
        return;
    };
    let (external, id) = flagged_attempt(&l, "peer_sync").await;
    let staff = l.peer.staff().await;
    l.peer
        .call(
            "POST",
            &staff,
            &format!("proctored_exam/attempt/{external}/reviewed"),
            Some(serde_json::json!({"status": "passed", "reviewed_by": "staff@example.com"})),
        )
        .await;
    assert_eq!(l.peer.attempt_status(&external).await, "verified");
    let deadline = Instant::now() + Duration::from_secs(20);
    let detail = loop {
        let d = l.reviewer.session(id).await.expect("session");
        if d.row.status == AttemptStatus::Verified {
            break d;
        }
        assert!(
            Instant::now() < deadline,
            "never reconciled:\n{}",
            l.ours.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let last = detail.history.last().expect("history");
    assert_eq!(last.reason, "changed in Open edX", "{:?}", detail.history);
    assert_eq!(last.status_before, AttemptStatus::SecondReviewRequired);
    assert_eq!(last.verdict, Some(Verdict::Pass), "{:?}", detail.history);
    // The LMS's username replaced the email that stood in for it.
    assert_eq!(detail.row.learner.username, "learner");
}

/// Four eyes with Open edX (issue #26): under `--second-review fail` a first Fail tells
/// Open edX nothing and emails nobody; a second reviewer's confirmation rejects the attempt
/// with the grade override; an overturn leaves Open edX as it was.
async fn a_first_fail_reaches_open_edx_only_once_a_second_reviewer_confirms_it(db: Db) {
    let Some(l) = connected(db).await else { return };
    let (external, id) = flagged_attempt(&l, "peer_midterm").await;
    l.ours
        .cli(&["course", "set", COURSE, "--second-review", "fail"]);
    // The first opinion is a colleague's; the confirmation comes from the reviewer whose
    // email is an Open edX staff account, as the review Open edX records names them.
    let first_reviewer = l
        .ours
        .api(&l.ours.reviewer("first", "first@example.edu", "reviewer"));
    let second = &l.reviewer;
    let calls_before = l.peer.runtime_calls().await.len();

    let first = first_reviewer
        .decide(
            id,
            &decision(Verdict::Fail, AttemptStatus::SecondReviewRequired),
        )
        .await
        .expect("first opinion");
    assert_eq!(first.row.status, AttemptStatus::SecondReviewRequired);
    assert_eq!(
        first.row.lms.as_ref().map(|s| s.state),
        Some(LmsState::Delivered),
        "no review was queued for Open edX"
    );
    match first_reviewer
        .decide(
            id,
            &decision(Verdict::Fail, AttemptStatus::SecondReviewRequired),
        )
        .await
    {
        Err(proctor_review::client::ClientError::Forbidden(m)) => {
            assert!(
                m.contains("a different reviewer must confirm or overturn it"),
                "{m}"
            )
        }
        other => panic!("the first reviewer confirmed their own Fail: {other:?}"),
    }

    // The second reviewer decides blind: the first verdict shows once they have chosen.
    let seen = second.session(id).await.expect("session");
    assert_eq!(
        seen.waiting.map(|w| (w.first_reviewer, w.verdict)),
        Some(("first".to_owned(), None))
    );

    // The confirmation is what Open edX hears of, and then as an ordinary Fail.
    second
        .decide(
            id,
            &decision(Verdict::Fail, AttemptStatus::SecondReviewRequired),
        )
        .await
        .expect("confirmed");
    let sync = settled(second, id).await;
    assert_eq!(sync.state, LmsState::Delivered, "{sync:?}");
    assert_eq!(l.peer.attempt_status(&external).await, "rejected");
    let calls = l.peer.runtime_calls().await;
    let overrides: Vec<_> = calls[calls_before..]
        .iter()
        .filter(|c| c["method"] == "override_subsection_grade")
        .collect();
    assert_eq!(
        overrides.len(),
        1,
        "one grade override, after the confirmation"
    );
    assert_eq!(overrides[0]["args"]["earned_graded"], "0.0");
    let rejected = l
        .peer
        .mail_subjects()
        .iter()
        .filter(|s| *s == "Proctoring attempt rejected")
        .count();
    assert_eq!(
        rejected, 1,
        "the learner is emailed once, for the confirmed Fail"
    );

    // Overturned: Open edX still has the attempt waiting for a review.
    let (external, id) = flagged_attempt(&l, "peer_final").await;
    first_reviewer
        .decide(
            id,
            &decision(Verdict::Fail, AttemptStatus::SecondReviewRequired),
        )
        .await
        .expect("first opinion");
    let back = second
        .decide(
            id,
            &decision(Verdict::Pass, AttemptStatus::SecondReviewRequired),
        )
        .await
        .expect("overturned");
    assert_eq!(back.row.status, AttemptStatus::SecondReviewRequired);
    assert_eq!(
        back.row.lms.as_ref().map(|s| s.state),
        Some(LmsState::Delivered)
    );
    assert_eq!(
        l.peer.attempt_status(&external).await,
        "second_review_required"
    );
}

mod sqlite {
    use super::Db;

    #[tokio::test]
    async fn an_attempt_through_edx_proctoring_is_reviewed_and_decided_in_the_lms() {
        super::an_attempt_through_edx_proctoring_is_reviewed_and_decided_in_the_lms(Db::Sqlite)
            .await;
    }

    #[tokio::test]
    async fn a_decision_made_while_the_lms_is_down_is_delivered_once_it_is_back() {
        super::a_decision_made_while_the_lms_is_down_is_delivered_once_it_is_back(Db::Sqlite).await;
    }

    #[tokio::test]
    async fn refusals_are_recorded_with_the_lms_s_reason() {
        super::refusals_are_recorded_with_the_lms_s_reason(Db::Sqlite).await;
    }

    #[tokio::test]
    async fn an_undone_fail_leaves_the_waiting_review_to_reach_open_edx() {
        super::an_undone_fail_leaves_the_waiting_review_to_reach_open_edx(Db::Sqlite).await;
    }

    #[tokio::test]
    async fn a_review_not_read_back_names_the_fix_and_is_confirmed_once_fixed() {
        super::a_review_not_read_back_names_the_fix_and_is_confirmed_once_fixed(Db::Sqlite).await;
    }

    #[tokio::test]
    async fn our_provider_api_refuses_bad_tokens_and_forged_launches() {
        super::our_provider_api_refuses_bad_tokens_and_forged_launches(Db::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fail_pressed_in_the_console_rejects_the_attempt_in_open_edx() {
        super::a_fail_pressed_in_the_console_rejects_the_attempt_in_open_edx(Db::Sqlite).await;
    }

    #[tokio::test]
    async fn a_change_made_in_open_edx_is_followed_and_recorded() {
        super::a_change_made_in_open_edx_is_followed_and_recorded(Db::Sqlite).await;
    }

    #[tokio::test]
    async fn a_first_fail_reaches_open_edx_only_once_a_second_reviewer_confirms_it() {
        super::a_first_fail_reaches_open_edx_only_once_a_second_reviewer_confirms_it(Db::Sqlite)
            .await;
    }
}

mod postgres {
    use super::Db;

    #[tokio::test]
    async fn an_attempt_through_edx_proctoring_is_reviewed_and_decided_in_the_lms() {
        super::an_attempt_through_edx_proctoring_is_reviewed_and_decided_in_the_lms(Db::Postgres)
            .await;
    }

    #[tokio::test]
    async fn a_decision_made_while_the_lms_is_down_is_delivered_once_it_is_back() {
        super::a_decision_made_while_the_lms_is_down_is_delivered_once_it_is_back(Db::Postgres)
            .await;
    }

    #[tokio::test]
    async fn refusals_are_recorded_with_the_lms_s_reason() {
        super::refusals_are_recorded_with_the_lms_s_reason(Db::Postgres).await;
    }

    #[tokio::test]
    async fn an_undone_fail_leaves_the_waiting_review_to_reach_open_edx() {
        super::an_undone_fail_leaves_the_waiting_review_to_reach_open_edx(Db::Postgres).await;
    }

    #[tokio::test]
    async fn a_review_not_read_back_names_the_fix_and_is_confirmed_once_fixed() {
        super::a_review_not_read_back_names_the_fix_and_is_confirmed_once_fixed(Db::Postgres).await;
    }

    #[tokio::test]
    async fn our_provider_api_refuses_bad_tokens_and_forged_launches() {
        super::our_provider_api_refuses_bad_tokens_and_forged_launches(Db::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fail_pressed_in_the_console_rejects_the_attempt_in_open_edx() {
        super::a_fail_pressed_in_the_console_rejects_the_attempt_in_open_edx(Db::Postgres).await;
    }

    #[tokio::test]
    async fn a_change_made_in_open_edx_is_followed_and_recorded() {
        super::a_change_made_in_open_edx_is_followed_and_recorded(Db::Postgres).await;
    }

    #[tokio::test]
    async fn a_first_fail_reaches_open_edx_only_once_a_second_reviewer_confirms_it() {
        super::a_first_fail_reaches_open_edx_only_once_a_second_reviewer_confirms_it(Db::Postgres)
            .await;
    }
}
