//! SIGKILL in the middle of a stream of decisions and mail deliveries (issue #8): afterwards
//! every decision is fully applied or absent, a client that retries with its idempotency key
//! never decides twice, every queued email is delivered exactly once, and the audit chain
//! verifies.

mod common;

use common::peer::{BIN, Ours};
use common::sessions::attention;
use proctor_review::api::DecisionRequest;
use proctor_review::client::ApiClient;
use proctor_review::domain::email::MailState;
use proctor_review::domain::{AttemptStatus, SessionRow, Verdict};
use std::time::{Duration, Instant};

fn request(s: &SessionRow) -> DecisionRequest {
    DecisionRequest {
        verdict: Verdict::Fail,
        reason: format!("crash test {}", s.id),
        expected_status: Some(AttemptStatus::SecondReviewRequired),
        idempotency_key: Some(format!("crash-test-key-{}", s.id)),
    }
}

#[tokio::test]
async fn a_sigkill_mid_stream_loses_and_doubles_nothing() {
    // A job the killed server was running is taken up again once it has been silent for
    // the stale window (45 s by default; 3 s here).
    let flags = [
        "--lms-sync-secs",
        "0",
        "--mail-per-second",
        "20",
        "--instance-stale-secs",
        "3",
    ];
    let mut first = flags.to_vec();
    first.extend(["--seed-demo", "400"]);
    let ours = Ours::start_with(&first);
    let token = ours.reviewer("alice", "alice@example.edu", "reviewer");
    let api = ours.api(&token);
    let sessions = attention(&api, 40).await;

    // Decisions stream in from 4 clients while the mailer is busy; the server is killed
    // after a few have been acknowledged.
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for chunk in sessions.chunks(10) {
        let (api, chunk, acked) = (api.clone(), chunk.to_vec(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for s in &chunk {
                if api.decide(s.id, &request(s)).await.is_ok() {
                    acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        }));
    }
    while acked.load(std::sync::atomic::Ordering::SeqCst) < 8 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let ours = ours.crash_and_restart(&flags);
    for t in tasks {
        let _ = t.await;
    }
    let before = acked.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        before < 40,
        "the kill came mid-stream ({before} acknowledged)"
    );
    eprintln!("{before} of 40 decisions acknowledged when the server was killed");
    let api = ApiClient::new(&ours.url, &token).unwrap();

    // Each client asks again with the same key, as the console does after a lost answer.
    for s in &sessions {
        let d = api
            .decide(s.id, &request(s))
            .await
            .expect("applied once, or now");
        assert_eq!(d.row.status, AttemptStatus::Rejected);
        assert_eq!(d.history.len(), 1, "session {} decided once", s.id);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut delivered = 0;
        for s in &sessions {
            let h = api.session(s.id).await.unwrap().history;
            if h[0]
                .email
                .as_ref()
                .is_some_and(|e| e.state == MailState::Delivered)
            {
                delivered += 1;
            }
        }
        if delivered == sessions.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{delivered} of 40 delivered\n{}",
            ours.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let emails = common::eml_files(&ours.dir.path().join("outbox"));
    assert_eq!(emails.len(), 40, "one email per decision");

    let out = std::process::Command::new(BIN)
        .args(["audit", "verify", "--db"])
        .arg(&ours.db)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("ok: 40 decisions"),
        "{said}"
    );
}
