//! Learner emails over SMTP, received by a minimal SMTP server on 127.0.0.1.

use proctor_review::api::{DecisionRequest, SessionQuery};
use proctor_review::client::ApiClient;
use proctor_review::demo;
use proctor_review::domain::{Job, JobKind, JobState, SessionDetail, SessionRow, Verdict};
use proctor_review::embedded::{self, EmbeddedOptions};
use proctor_review::server::MailSettings;
use proctor_review::store::Store;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Accepts any mail and hands each message (envelope recipient, data) to the test.
async fn smtp_sink() -> (String, mpsc::UnboundedReceiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let (mut rcpt, mut data, mut in_data) = (String::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let _ = tx.send((std::mem::take(&mut rcpt), std::mem::take(&mut data)));
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt = line[8..].trim().trim_matches(['<', '>']).to_owned();
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go on\r\n"
                    } else if upper.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (url, rx)
}

/// A demo server that sends learner email over SMTP to `url`.
async fn server_mailing_to(url: &str) -> (embedded::RunningServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let from = "Course Team <proctoring@example.edu>".parse().unwrap();
    let server = embedded::start(EmbeddedOptions {
        db: dir.path().join("review.sqlite3"),
        mail: MailSettings::smtp(url, from).unwrap().transport,
        reset: false,
        media_dir: dir.path().join("media"),
        reports_dir: dir.path().join("reports"),
        data: demo::embedded().unwrap(),
    })
    .await
    .unwrap();
    (server, dir)
}

/// Email jobs not yet delivered.
async fn queued_emails(server: &embedded::RunningServer) -> Vec<Job> {
    let mut jobs = server.store.jobs(JobKind::Email, None).await.unwrap();
    jobs.retain(|j| j.state.pending());
    jobs
}

/// Fails the first Require Attention session of the Final Exam; returns it as it was.
async fn fail_one(server: &embedded::RunningServer) -> (SessionRow, SessionDetail) {
    let api = ApiClient::new(&server.url, &server.token).unwrap();
    let q = SessionQuery {
        status: "second_review_required".into(),
        ..Default::default()
    };
    let s = api.sessions(3, &q).await.unwrap().items[0].clone();
    let fail = DecisionRequest {
        verdict: Verdict::Fail,
        reason: String::new(),
        expected_status: Some(s.status),
    };
    let decided = api.decide(s.id, &fail).await.unwrap();
    (s, decided)
}

#[tokio::test]
async fn a_fail_emails_the_learner_over_smtp() {
    let (url, mut inbox) = smtp_sink().await;
    let (server, _dir) = server_mailing_to(&url).await;
    let (s, _) = fail_one(&server).await;
    let (rcpt, data) = tokio::time::timeout(Duration::from_secs(20), inbox.recv())
        .await
        .expect("the email arrived")
        .unwrap();
    assert_eq!(rcpt, s.learner.email);
    assert!(
        data.contains("Subject: Proctoring attempt rejected"),
        "{data}"
    );
    assert!(data.contains("did not pass"), "readable 8-bit body: {data}");
    // The sink has the message; the server marks it delivered once the SMTP dialogue ends.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !queued_emails(&server).await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivered mail must leave the queue"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn with_the_mail_server_down_the_decision_stands_and_the_email_waits() {
    // A port that was free a moment ago: nothing listens there.
    let url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("smtp://{}", l.local_addr().unwrap())
    };
    let (server, _dir) = server_mailing_to(&url).await;
    let (_, decided) = fail_one(&server).await;
    assert!(
        decided.history[0].learner_emailed,
        "the email is part of the decision"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let queued = loop {
        let queued = queued_emails(&server).await;
        // Claimed (attempts counted), tried, and put back for later.
        if queued
            .iter()
            .any(|m| m.attempts > 0 && m.state == JobState::Queued)
        {
            break queued;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no delivery was attempted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(queued.len(), 1, "kept for the next attempt");
    assert_eq!(queued[0].state, JobState::Queued, "to be tried again later");
    let why = queued[0].last_error.as_deref().unwrap_or_default();
    assert!(why.contains("SMTP delivery failed"), "{why}");
}
