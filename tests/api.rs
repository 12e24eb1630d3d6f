//! The review server over real HTTP on 127.0.0.1 with a real SQLite database.

mod common;

use common::{start_demo, wait_for_emails};
use proctor_review::api::{DecisionRequest, SessionQuery, SortKey};
use proctor_review::client::{ApiClient, ClientError};
use proctor_review::demo;
use proctor_review::domain::email::MailState;
use proctor_review::domain::{AttemptStatus, LearnerView, ReviewStatus, Verdict};
use std::os::unix::fs::PermissionsExt;

async fn attention(
    c: &ApiClient,
    exam: i64,
) -> proctor_review::api::Page<proctor_review::domain::SessionRow> {
    let q = SessionQuery {
        status: "second_review_required".into(),
        ..Default::default()
    };
    c.sessions(exam, &q).await.unwrap()
}

/// Sends `req` with the demo reviewer's token.
async fn authed(req: reqwest::RequestBuilder, d: &common::Demo) -> reqwest::Response {
    req.bearer_auth(&d.server.token).send().await.unwrap()
}

fn client(d: &common::Demo) -> ApiClient {
    ApiClient::new(&d.server.url, &d.server.token).unwrap()
}

#[tokio::test]
async fn quiz_list_counts_match_the_demo_data() {
    let d = start_demo().await;
    let courses = client(&d).courses().await.unwrap();
    let data = demo::embedded().unwrap();
    assert_eq!(courses.len(), 2);
    let exams: Vec<_> = courses.iter().flat_map(|c| &c.exams).collect();
    assert_eq!(exams.len(), 4);
    for e in exams {
        let of = |st: AttemptStatus| {
            data.sessions
                .iter()
                .filter(|s| s.exam_id == e.exam.id && s.status == st)
                .count() as u64
        };
        let total = data
            .sessions
            .iter()
            .filter(|s| s.exam_id == e.exam.id)
            .count() as u64;
        assert_eq!(e.counts.sessions, total, "{}", e.exam.exam_name);
        assert_eq!(
            e.counts.require_attention,
            of(AttemptStatus::SecondReviewRequired)
        );
        assert_eq!(e.counts.pending, of(AttemptStatus::Submitted));
        assert_eq!(e.counts.passed, of(AttemptStatus::Verified));
        assert_eq!(e.counts.failed, of(AttemptStatus::Rejected));
    }
}

#[tokio::test]
async fn sessions_page_with_require_attention_first_and_search_by_any_name_or_code() {
    let d = start_demo().await;
    let c = client(&d);
    let all = c
        .sessions(
            2,
            &SessionQuery {
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(all.items.len() as u64, all.total);
    let first_other = all
        .items
        .iter()
        .position(|s| s.status != AttemptStatus::SecondReviewRequired)
        .unwrap();
    assert!(
        first_other > 0,
        "some Require Attention sessions come first"
    );
    assert!(
        all.items[first_other..]
            .iter()
            .all(|s| s.status != AttemptStatus::SecondReviewRequired),
        "Require Attention sessions must all come before the rest"
    );

    // Pages tile the list without gaps or repeats.
    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let page = c
            .sessions(
                2,
                &SessionQuery {
                    offset,
                    limit: 7,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if page.items.is_empty() {
            break;
        }
        offset += page.items.len() as u64;
        paged.extend(page.items.into_iter().map(|s| s.id));
    }
    assert_eq!(paged, all.items.iter().map(|s| s.id).collect::<Vec<_>>());

    let some = &all.items[3].learner;
    for needle in [
        some.username.to_uppercase(),
        some.email.clone(),
        some.full_name.chars().take(2).collect::<String>(),
    ] {
        let found = c
            .sessions(
                2,
                &SessionQuery {
                    q: needle.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(
            found
                .items
                .iter()
                .any(|s| s.learner.username == some.username),
            "searching '{needle}' should find {}",
            some.username
        );
        assert!(found.total < all.total);
    }
    let none = c
        .sessions(
            2,
            &SessionQuery {
                q: "%_no-such-learner".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(none.total, 0, "LIKE wildcards in the search are literal");

    // An attempt code pasted from the LMS or a learner's email, in any case, finds its
    // one session.
    let code = c.session(all.items[5].id).await.unwrap().attempt_code;
    for pasted in [code.clone(), format!(" {} ", code.to_lowercase())] {
        let found = c
            .sessions(
                2,
                &SessionQuery {
                    q: pasted,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(found.total, 1);
        assert_eq!(found.items[0].id, all.items[5].id);
    }

    let ra = c
        .sessions(
            2,
            &SessionQuery {
                status: "second_review_required".into(),
                sort: SortKey::Violations,
                desc: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(ra.total > 0);
    assert!(
        ra.items
            .iter()
            .all(|s| s.status == AttemptStatus::SecondReviewRequired)
    );
    assert!(
        ra.items
            .windows(2)
            .all(|w| w[0].violation_count >= w[1].violation_count)
    );
}

#[tokio::test]
async fn fail_rejects_zeroes_the_grade_records_history_and_emails_then_pass_reverts() {
    let d = start_demo().await;
    let c = client(&d);
    let ra = attention(&c, 2).await;
    let id = ra.items[0].id;
    let before = c.session(id).await.unwrap();
    let original = before.original_grade.expect("graded exam");
    assert!(original.earned > 0.0);

    let failed = c
        .decide(
            id,
            &DecisionRequest {
                verdict: Verdict::Fail,
                reason: "Phone visible at 12:04".into(),
                expected_status: Some(AttemptStatus::SecondReviewRequired),
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.row.status, AttemptStatus::Rejected);
    assert_eq!(failed.row.review_status, Some(ReviewStatus::Suspicious));
    assert_eq!(failed.grade_in_force.unwrap().earned, 0.0);
    assert_eq!(failed.original_grade, Some(original));
    assert_eq!(failed.learner_view, LearnerView::Unsatisfactory);
    assert_eq!(
        failed.row.reviewed_by.as_deref(),
        Some("demo-reviewer@example.edu")
    );
    let h = &failed.history[0];
    assert_eq!(h.reviewer, "demo-reviewer");
    assert_eq!(h.verdict, Some(Verdict::Fail));
    assert_eq!(h.reason, "Phone visible at 12:04");
    assert_eq!(h.status_before, AttemptStatus::SecondReviewRequired);
    assert_eq!(h.grade_before, Some(original));
    assert_eq!(h.grade_after.unwrap().earned, 0.0);
    assert!(h.email.is_some(), "the decision queued the learner's email");

    // The server, not just this answer, holds the decision (its email may have moved on).
    let without_email = |mut d: proctor_review::domain::SessionDetail| {
        d.history.iter_mut().for_each(|h| h.email = None);
        d
    };
    assert_eq!(
        without_email(c.session(id).await.unwrap()),
        without_email(failed.clone())
    );

    let mails = wait_for_emails(&d.outbox(), 1).await;
    assert_eq!(mails.len(), 1, "one email after a Fail");
    let mail = &mails[0];
    assert!(
        mail.contains("Subject: Proctoring attempt rejected"),
        "{mail}"
    );
    assert!(mail.contains(&before.row.learner.email), "{mail}");
    assert!(mail.contains("did not pass"), "{mail}");
    assert!(mail.contains(&format!(
        "set to 0/{}",
        proctor_review::domain::trim_float(original.possible)
    )));
    for entry in std::fs::read_dir(d.outbox()).unwrap() {
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "learner emails are private files");
    }

    let passed = c
        .decide(
            id,
            &DecisionRequest {
                verdict: Verdict::Pass,
                reason: String::new(),
                expected_status: Some(AttemptStatus::Rejected),
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(passed.row.status, AttemptStatus::Verified);
    assert_eq!(passed.row.review_status, Some(ReviewStatus::Clean));
    assert_eq!(passed.grade_in_force, Some(original));
    assert_eq!(passed.history.len(), 2);
    assert_eq!(passed.history[1].status_before, AttemptStatus::Rejected);
    assert_eq!(passed.history[1].grade_after, Some(original));
    let mails = wait_for_emails(&d.outbox(), 2).await;
    assert_eq!(mails.len(), 2);
    assert!(mails[1].contains("Subject: Proctoring attempt verified"));
    assert!(mails[1].contains("original grade"), "{}", mails[1]);
    // Once delivered, History says so (and not before).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let h = c.session(id).await.unwrap().history;
        let states: Vec<_> = h.iter().map(|e| e.email.as_ref().unwrap().state).collect();
        if states == [MailState::Delivered, MailState::Delivered] {
            assert_eq!(h[1].email.as_ref().unwrap().describe(), "✉ email delivered");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{states:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let courses = c.courses().await.unwrap();
    let exam = courses
        .iter()
        .flat_map(|c| &c.exams)
        .find(|e| e.exam.id == 2)
        .unwrap();
    assert_eq!(exam.counts.require_attention, ra.total - 1);
}

#[tokio::test]
async fn conflicting_or_impossible_decisions_are_refused_without_side_effects() {
    let d = start_demo().await;
    let c = client(&d);
    let ra = attention(&c, 3).await;
    let id = ra.items[0].id;
    let fail = DecisionRequest {
        verdict: Verdict::Fail,
        reason: String::new(),
        expected_status: Some(AttemptStatus::SecondReviewRequired),
        idempotency_key: None,
    };
    c.decide(id, &fail).await.unwrap();
    let again = DecisionRequest {
        expected_status: Some(AttemptStatus::Rejected),
        ..fail.clone()
    };
    match c.decide(id, &again).await {
        Err(ClientError::Conflict(m)) => assert!(m.contains("already Failed"), "{m}"),
        other => panic!("expected 409, got {other:?}"),
    }
    let stale = DecisionRequest {
        verdict: Verdict::Pass,
        reason: String::new(),
        expected_status: Some(AttemptStatus::SecondReviewRequired),
        idempotency_key: None,
    };
    match c.decide(id, &stale).await {
        Err(ClientError::Conflict(m)) => assert!(m.contains("changed since it was loaded"), "{m}"),
        other => panic!("expected 409, got {other:?}"),
    }
    let mut undecidable = Vec::new();
    for exam in 1..=4 {
        let q = SessionQuery {
            status: "started,created,declined,error".into(),
            ..Default::default()
        };
        undecidable.extend(c.sessions(exam, &q).await.unwrap().items);
    }
    let sid = undecidable
        .first()
        .expect("the demo has sessions without a finished recording")
        .id;
    let on_unfinished = DecisionRequest {
        expected_status: Some(undecidable[0].status),
        ..fail.clone()
    };
    match c.decide(sid, &on_unfinished).await {
        Err(ClientError::Rejected(m)) => assert!(m.contains("cannot be passed or failed"), "{m}"),
        other => panic!("expected 422, got {other:?}"),
    }
    assert_eq!(c.session(id).await.unwrap().history.len(), 1);
    assert!(c.session(sid).await.unwrap().history.is_empty());
    assert_eq!(
        wait_for_emails(&d.outbox(), 1).await.len(),
        1,
        "only the one real Fail emailed"
    );
}

#[tokio::test]
async fn auth_and_input_errors_are_clear_json() {
    let d = start_demo().await;
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}/api/v1/{p}", d.server.url);

    let r = http.get(url("courses")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("missing bearer token")
    );

    let r = http
        .get(url("courses"))
        .bearer_auth("prt_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    match ApiClient::new(&d.server.url, "wrong").unwrap().me().await {
        Err(ClientError::Unauthorized(m)) => assert!(m.contains("unknown or revoked")),
        other => panic!("{other:?}"),
    }

    let c = client(&d);
    assert_eq!(c.me().await.unwrap().reviewer.username, "demo-reviewer");
    match c.session(999_999).await {
        Err(ClientError::NotFound(m)) => assert_eq!(m, "no session with id 999999"),
        other => panic!("{other:?}"),
    }
    match c.sessions(77, &SessionQuery::default()).await {
        Err(ClientError::NotFound(m)) => assert_eq!(m, "no exam with id 77"),
        other => panic!("{other:?}"),
    }

    let post = |body: &'static str| {
        http.post(url("sessions/1/decision"))
            .bearer_auth(&d.server.token)
            .header("content-type", "application/json")
            .body(body)
    };
    for (body, needle) in [
        ("{not json", "malformed request body"),
        (r#"{"verdict":"maybe"}"#, "unknown variant"),
        (r#"{"reason":"no verdict"}"#, "missing field `verdict`"),
    ] {
        let r = post(body).send().await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["error"], "bad_request");
        assert!(
            e["message"].as_str().unwrap().contains(needle),
            "{body}: {e}"
        );
    }
    let long = serde_json::json!({"verdict": "fail", "reason": "x".repeat(2001), "expected_status": "second_review_required"});
    let r = authed(http.post(url("sessions/1/decision")).json(&long), &d).await;
    assert_eq!(r.status(), 400);

    let r = authed(http.get(url("sessions/abc")), &d).await;
    assert_eq!(r.status(), 400);
    let r = authed(http.get(url("exams/2/sessions?status=bogus")), &d).await;
    assert_eq!(r.status(), 400);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["message"], "unknown status 'bogus'");
    let r = authed(http.get(url("exams/2/sessions?limit=0")), &d).await;
    assert_eq!(r.status(), 400);
    let huge = serde_json::json!({"verdict": "fail", "reason": "x".repeat(100_000)});
    let r = authed(http.post(url("sessions/1/decision")).json(&huge), &d).await;
    assert_eq!(r.status(), 413);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"], "too_large");
    let r = http
        .get(format!("{}/nowhere", d.server.url))
        .bearer_auth(&d.server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let e: serde_json::Value = r.json().await.unwrap();
    assert!(e["message"].as_str().unwrap().contains("/api/v1"));
    assert_eq!(
        c.session(1).await.unwrap().history.len(),
        0,
        "nothing was decided"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error() {
    let c = ApiClient::new("http://127.0.0.1:9", "t").unwrap();
    match c.courses().await {
        Err(ClientError::Unreachable { url, reason }) => {
            assert_eq!(url, "http://127.0.0.1:9");
            assert!(!reason.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        ApiClient::new("ftp://x", "t"),
        Err(ClientError::BadUrl(_))
    ));
}

/// Load balancers ask without a token: `/healthz` while the process answers, `/readyz`
/// while the database answers with the schema this server knows.
#[tokio::test]
async fn health_and_readiness_for_load_balancers() {
    let d = start_demo().await;
    proctor_review::client::tls_ready();
    let http = reqwest::Client::new();
    let get = async |path: &str| {
        let resp = http
            .get(format!("{}{path}", d.server.url))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json::<serde_json::Value>().await.unwrap())
    };
    let (status, body) = get("/healthz").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = get("/readyz").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("ready")),
        "{body}"
    );
    let known = body["schema"].as_i64().unwrap();

    // Another instance upgraded the database past what this one knows.
    let db = rusqlite::Connection::open(d.dir.path().join("review.sqlite3")).unwrap();
    db.pragma_update(None, "user_version", known + 1).unwrap();
    let (status, body) = get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "unavailable");
    let says = body["message"].as_str().unwrap();
    assert!(
        says.contains(&format!("schema version {}", known + 1)),
        "{says}"
    );
    assert_eq!(get("/healthz").await.0, 200, "alive all the same");
    db.pragma_update(None, "user_version", known).unwrap();
    assert_eq!(get("/readyz").await.0, 200);
}

/// A server whose S3 object store does not answer (issue #28) is alive but not ready, and
/// says which store; its readiness answers within seconds, not after the client's retries.
#[tokio::test]
async fn readiness_says_when_the_object_store_does_not_answer() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let ours = common::peer::Ours::start_with_env(
        &[
            ("AWS_ENDPOINT", &endpoint),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ],
        &["--lms-sync-secs", "0", "--object-store", "s3://evidence"],
    );
    proctor_review::client::tls_ready();
    let http = reqwest::Client::new();
    let ask = |path: &str| http.get(format!("{}{path}", ours.url)).send();
    assert_eq!(ask("/healthz").await.unwrap().status(), 200);
    let resp = ask("/readyz").await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: serde_json::Value = resp.json().await.unwrap();
    let says = body["message"].as_str().unwrap();
    assert!(says.contains("the object store s3://evidence"), "{says}");
}
