//! The server against bad clients: protocol garbage, wrong methods, odd ids and encodings,
//! decisions without the status the reviewer saw, slow and idle sockets, SIGTERM. Each test
//! reproduces a defect a hostile test found (issue #8).

mod common;

use common::peer::Ours;
use common::{start_demo, wait_for_emails};
use proctor_review::api::DecisionRequest;
use proctor_review::domain::{AttemptStatus, Verdict};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Writes raw bytes to the server and reads its whole answer.
fn raw(url: &str, bytes: &[u8]) -> String {
    let addr = url.trim_start_matches("http://");
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = tcp.write_all(bytes);
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn http_client() -> reqwest::Client {
    proctor_review::client::tls_ready();
    reqwest::Client::new()
}

/// A Require Attention session of the seeded demo.
async fn attention(api: &proctor_review::client::ApiClient) -> proctor_review::domain::SessionRow {
    common::sessions::attention(api, 1).await.remove(0)
}

fn json_body(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer:?}"))
}

#[tokio::test]
async fn protocol_errors_and_wrong_methods_answer_json() {
    let d = start_demo().await;
    let url = d.server.url.clone();
    let answers = tokio::task::spawn_blocking(move || {
        let garbage = raw(&url, b"GARBAGE\x01 / NONSENSE\r\n\r\n");
        let big_header = raw(
            &url,
            format!(
                "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                "a".repeat(40_000)
            )
            .as_bytes(),
        );
        let long_uri = raw(
            &url,
            format!(
                "GET /api/v1/exams/1/sessions?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
                "a".repeat(20_000)
            )
            .as_bytes(),
        );
        (garbage, big_header, long_uri)
    })
    .await
    .unwrap();
    for (answer, status, code) in [
        (&answers.0, "400", "bad_request"),
        (&answers.1, "431", "headers_too_large"),
        (&answers.2, "414", "uri_too_long"),
    ] {
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{status}: {answer:?}"
        );
        assert!(
            answer.contains("content-type: application/json"),
            "{answer}"
        );
        let body = json_body(answer);
        assert_eq!(body["error"], code);
        assert!(!body["message"].as_str().unwrap().is_empty());
    }

    let http = http_client();
    let r = http
        .delete(format!("{}/api/v1/courses", d.server.url))
        .bearer_auth(&d.server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET,HEAD");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "method_not_allowed");
    assert!(e["message"].as_str().unwrap().contains("DELETE"), "{e}");
}

#[tokio::test]
async fn odd_ids_bad_utf8_and_a_lowercase_scheme() {
    let d = start_demo().await;
    let http = http_client();
    let get = |path: &str| {
        http.get(format!("{}/api/v1/{path}", d.server.url))
            .bearer_auth(&d.server.token)
            .send()
    };
    for path in [
        "sessions/+1",
        "sessions/%201",
        "sessions/1e0",
        "exams/+2/sessions",
    ] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
        let e: Value = r.json().await.unwrap();
        assert!(
            e["message"].as_str().unwrap().contains("is not an id"),
            "{path}: {e}"
        );
    }
    assert_eq!(get("sessions/1").await.unwrap().status(), 200);

    let r = get("exams/2/sessions?q=caf%C3").await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(e["message"].as_str().unwrap().contains("UTF-8"), "{e}");
    assert_eq!(
        get("exams/2/sessions?q=caf%C3%A9").await.unwrap().status(),
        200
    );

    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = http
            .get(format!("{}/api/v1/me", d.server.url))
            .header("authorization", format!("{scheme} {}", d.server.token))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
    }
}

/// Fifty concurrent Pass/Fail requests without `expected_status` used to flip one session
/// 15–30 times and email the learner as often.
#[tokio::test]
async fn decisions_must_name_the_status_the_reviewer_saw() {
    let d = start_demo().await;
    let api = proctor_review::client::ApiClient::new(&d.server.url, &d.server.token).unwrap();
    let id = attention(&api).await.id;
    let http = http_client();
    let url = format!("{}/api/v1/sessions/{id}/decision", d.server.url);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let req = http
            .post(&url)
            .bearer_auth(&d.server.token)
            .json(&serde_json::json!({
                "verdict": if i % 2 == 0 { "fail" } else { "pass" },
                "reason": "race",
            }));
        tasks.push(tokio::spawn(async move { req.send().await.unwrap() }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.status(), 428);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], "precondition_required");
        assert!(
            e["message"].as_str().unwrap().contains("expected_status"),
            "{e}"
        );
    }
    let after = api.session(id).await.unwrap();
    assert!(after.history.is_empty(), "nothing was decided");
    assert_eq!(after.row.status, AttemptStatus::SecondReviewRequired);
    // No decision, so no email was ever queued: the outbox stays empty.
    assert!(wait_for_emails(&d.outbox(), 0).await.is_empty());

    // With the status it saw, exactly one of fifty racing decisions wins.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let verdict = if i % 2 == 0 {
                Verdict::Fail
            } else {
                Verdict::Pass
            };
            api.decide(
                id,
                &DecisionRequest {
                    verdict,
                    reason: "race".into(),
                    expected_status: Some(AttemptStatus::SecondReviewRequired),
                    idempotency_key: None,
                },
            )
            .await
            .is_ok()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(api.session(id).await.unwrap().history.len(), 1);
    assert_eq!(wait_for_emails(&d.outbox(), 1).await.len(), 1);
}

/// 150 idle sockets and a few half-sent requests against a server allowed 128 descriptors
/// used to make every normal request time out.
#[tokio::test]
async fn slow_and_idle_sockets_do_not_starve_a_normal_request() {
    let ours = Ours::start_with_fd_limit(
        128,
        &[
            "--lms-sync-secs",
            "0",
            "--header-timeout-secs",
            "1",
            "--body-timeout-secs",
            "1",
        ],
    );
    let token = ours.reviewer("alice", "alice@example.edu", "reviewer");
    let addr = ours.url.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for i in 0..150 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        use tokio::io::AsyncWriteExt;
        match i % 10 {
            // Half a header.
            0 => s.write_all(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n").await.unwrap(),
            // A whole header, then half the promised body.
            1 => s
                .write_all(
                    b"POST /api/v1/sessions/1/decision HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"verdict\"",
                )
                .await
                .unwrap(),
            _ => {}
        }
        held.push(s);
    }
    let me = ours.api(&token).me().await;
    assert_eq!(
        me.expect("answered despite 150 slow sockets")
            .reviewer
            .username,
        "alice"
    );
    drop(held);
}

/// SIGTERM (what systemd and Kubernetes send) shuts down like Ctrl-C: the queued email of
/// a decision made just before goes out, and the process exits successfully.
#[tokio::test]
async fn sigterm_shuts_down_cleanly_and_delivers_queued_mail() {
    let mut ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "40"]);
    let token = ours.reviewer("alice", "alice@example.edu", "reviewer");
    let api = ours.api(&token);
    let s = attention(&api).await;
    common::sessions::decide(&api, &s, Verdict::Fail, "phone").await;
    let status = ours.terminate();
    assert!(status.success(), "{status:?}\n{}", ours.log());
    assert!(ours.log().contains("SIGTERM"), "{}", ours.log());
    let outbox = ours.dir.path().join("outbox");
    assert_eq!(wait_for_emails(&outbox, 1).await.len(), 1);
}

/// An escape sequence in a reviewer's username used to reach the server's log as is.
/// Usernames are now checked when created, and every log line is sanitized (for accounts
/// made before the check, and for text from Open edX).
#[tokio::test]
async fn hostile_usernames_are_refused_and_never_reach_the_log_raw() {
    let mut ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "40"]);
    let out = std::process::Command::new(common::peer::BIN)
        .args([
            "reviewer",
            "add",
            "--username",
            "ev\u{1b}[31mil",
            "--email",
            "e@x.edu",
            "--db",
        ])
        .arg(&ours.db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a valid username"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "the error itself is sanitized: {err:?}"
    );

    // An account from before the check, written straight into the database.
    let token = proctor_review::server::new_token().unwrap();
    {
        let db = rusqlite::Connection::open(&ours.db).unwrap();
        db.execute(
            "INSERT INTO reviewers (username, email, full_name, created, role)
             VALUES ('old\u{1b}]0;owned\u{7}\u{2028}x', 'old@example.edu', 'Old', '2026-01-01T00:00:00.000000Z', 'admin')",
            [],
        )
        .unwrap();
        let id = db.last_insert_rowid();
        db.execute(
            "INSERT INTO api_tokens (reviewer_id, token_hash, created) VALUES (?1, ?2, '2026-01-01T00:00:00.000000Z')",
            rusqlite::params![id, proctor_review::server::hash_token(&token)],
        )
        .unwrap();
    }
    let api = ours.api(&token);
    let s = attention(&api).await;
    common::sessions::decide(&api, &s, Verdict::Pass, "").await;
    ours.terminate();
    let log = ours.log();
    assert!(log.contains("decision recorded"), "{log}");
    assert!(log.contains("old␛]0;owned␇ x"), "{log}");
    assert!(!log.contains('\u{1b}') && !log.contains('\u{7}') && !log.contains('\u{2028}'));
}

/// What axum's own extractors refuse on /provider (issue #22): too large, not UTF-8, a
/// number out of range. Each is JSON — OAuth's words on the token endpoint — and a body
/// declared too large is refused before anything waits for it.
#[tokio::test]
async fn every_refusal_on_every_route_is_json_and_a_huge_declared_body_is_refused_at_once() {
    let d = start_demo().await;
    let url = d.server.url.clone();
    let http = http_client();
    let json_of = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(kind, "application/json", "{status}");
        (status, r.json::<Value>().await.unwrap())
    };

    let form = format!(
        "grant_type=client_credentials&client_id={}",
        "a".repeat(100_000)
    );
    let (status, body) = json_of(
        http.post(format!("{url}/provider/edx/oauth2/access_token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("bytes")
    );

    let (status, body) = json_of(
        http.post(format!("{url}/provider/api/v1/exam/"))
            .header("content-type", "application/json")
            .body(vec![b' '; 1_100_000])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(body["error"], "too_large");

    for (method, path) in [
        (reqwest::Method::DELETE, "/provider/api/v1/user/%ff/"),
        (
            reqwest::Method::GET,
            "/provider/api/v1/courses/x/onboarding_statuses?page=18446744073709551616",
        ),
        (reqwest::Method::GET, "/api/v1/exams/1/sessions?limit=x"),
    ] {
        let (status, body) = json_of(
            http.request(method, format!("{url}{path}"))
                .bearer_auth(&d.server.token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!((400..500).contains(&status), "{path}: {status}");
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{path}: {body}"
        );
    }

    // Declared, never sent: answered at once, not after the body timeout.
    let answer = tokio::task::spawn_blocking(move || {
        raw(
            &url,
            b"POST /provider/api/v1/exam/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n",
        )
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer:?}");
    assert_eq!(json_body(&answer)["error"], "too_large");
}

/// `serve --log-format json` (issue #28): every line of the log is one JSON object a
/// collector can read, decisions included, and learners' names and emails stay out of it.
#[tokio::test]
async fn json_logs_parse_line_by_line_and_name_no_learner() {
    let mut ours = Ours::start_with(&[
        "--lms-sync-secs",
        "0",
        "--seed-demo",
        "60",
        "--log-format",
        "json",
    ]);
    let token = ours.reviewer("ada", "ada@example.edu", "reviewer");
    let api = ours.api(&token);
    let s = common::sessions::attention(&api, 1).await.remove(0);
    // The decision under a request id of the caller's (a load balancer's, say): it comes
    // back, and follows the decision to the email job it queued.
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/sessions/{}/decision", ours.url, s.id))
        .bearer_auth(&token)
        .header("x-request-id", "lb-trace-42")
        .json(&serde_json::json!({
            "verdict": "fail", "reason": "phone", "expected_status": s.status,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-request-id"], "lb-trace-42");
    // A request without one is given one.
    let other = reqwest::Client::new()
        .get(format!("{}/healthz", ours.url))
        .send()
        .await
        .unwrap();
    assert_eq!(other.headers()["x-request-id"].len(), 16);
    common::wait_for_emails(&ours.dir.path().join("outbox"), 1).await;
    // Stopped, so every line is written.
    assert!(ours.terminate().success());
    let log = ours.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["message"] == "decision recorded"
            && l["session_id"] == s.id
            && l["span"]["request_id"] == "lb-trace-42"),
        "{log}"
    );
    assert!(
        lines.iter().any(|l| l["message"] == "email delivered"
            && l["span"]["name"] == "job"
            && l["span"]["request_id"] == "lb-trace-42"),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
    for secret in [&s.learner.email, &s.learner.full_name] {
        assert!(!log.contains(secret.as_str()), "{secret} is in the log");
    }
}

/// `GET /metrics` (issue #28): admins scrape Prometheus text that a Prometheus parser reads,
/// with the decision just made counted and the request timed by its route; a reviewer is
/// refused.
#[tokio::test]
async fn metrics_parse_as_prometheus_text_and_count_a_decision() {
    let apart = format!("127.0.0.1:{}", common::peer::free_port());
    let ours = Ours::start_with(&[
        "--lms-sync-secs",
        "0",
        "--seed-demo",
        "60",
        "--metrics-listen",
        &apart,
    ]);
    let admin = ours.reviewer("root", "root@example.edu", "admin");
    let reviewer = ours.reviewer("ada", "ada@example.edu", "reviewer");
    let api = ours.api(&reviewer);
    let s = common::sessions::attention(&api, 1).await.remove(0);
    common::sessions::decide(&api, &s, Verdict::Fail, "phone").await;
    let http = reqwest::Client::new();
    let scrape = |token: String| {
        http.get(format!("{}/metrics", ours.url))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(scrape(reviewer.clone()).await.unwrap().status(), 403);
    let text = scrape(admin).await.unwrap().text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scraped = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
    let sample = |name: &str, labels: &[(&str, &str)]| {
        scraped
            .samples
            .iter()
            .find(|x| x.metric == name && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
            .map(|x| x.value.clone())
    };
    let counted = sample(
        "decisions_total",
        &[("verdict", "fail"), ("step", "decision")],
    );
    assert!(
        matches!(
            counted,
            Some(prometheus_parse::Value::Counter(n) | prometheus_parse::Value::Untyped(n)) if n == 1.0
        ),
        "{counted:?} in {text}"
    );
    let decided = [
        ("route", "/api/v1/sessions/:session_id/decision"),
        ("status", "200"),
    ];
    assert!(sample("http_requests_total", &decided).is_some(), "{text}");
    assert!(
        sample("jobs_queued", &[("kind", "email"), ("when", "due")]).is_some(),
        "{text}"
    );
    // How far behind each queue is, and how the database's connections are used.
    for kind in ["email", "lms_review", "report", "frames"] {
        assert!(
            sample("jobs_oldest_due_age_seconds", &[("kind", kind)]).is_some(),
            "{kind}: {text}"
        );
    }
    assert!(
        sample("db_pool_connections", &[("state", "idle")]).is_some(),
        "{text}"
    );

    // On the address of its own (--metrics-listen) a scraper needs no token; on the main
    // one, no token is no metrics.
    let resp = http
        .get(format!("http://{apart}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("decisions_total"), "{text}");
    let anonymous = http
        .get(format!("{}/metrics", ours.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
