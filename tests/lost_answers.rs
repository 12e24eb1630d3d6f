//! A decision whose answer never reaches the console (connection dropped after the commit,
//! server killed, reply slower than the timeout) used to read "Fail not sent" and, after
//! Esc, "Cancelled; nothing changed" while the database held the Fail. Now every decision
//! carries an idempotency key and the console checks instead of guessing (issue #8).

mod common;

use common::console::Console;
use common::wait_for_emails;
use proctor_review::api::{DecisionRequest, SessionQuery};
use proctor_review::client::{ApiClient, ClientError};
use proctor_review::domain::{AttemptStatus, SessionRow, Verdict};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Forwards to `upstream`; while armed, the next decision request reaches the server but
/// its answer is thrown away and the client's connection cut, as a failing proxy or a
/// server killed right after its commit would.
struct DroppingProxy {
    url: String,
    armed: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
}

impl DroppingProxy {
    async fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let armed = Arc::new(AtomicBool::new(true));
        let dropped = Arc::new(AtomicUsize::new(0));
        let (a, d) = (armed.clone(), dropped.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let (armed, dropped) = (a.clone(), d.clone());
                tokio::spawn(async move {
                    let server = TcpStream::connect(&upstream).await.unwrap();
                    pump(client, server, armed, dropped).await;
                });
            }
        });
        Self {
            url,
            armed,
            dropped,
        }
    }
}

async fn pump(
    client: TcpStream,
    server: TcpStream,
    armed: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let cut_up = cut.clone();
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = cr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buf[..n]);
            if text.starts_with("POST ")
                && text.contains("/decision")
                && armed.swap(false, Ordering::SeqCst)
            {
                cut_up.store(true, Ordering::SeqCst);
            }
            if sw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = sr.read(&mut buf).await {
        if n == 0 {
            break;
        }
        if cut.load(Ordering::SeqCst) {
            // The server answered (so it committed); the client never hears it.
            dropped.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if cw.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    up.abort();
}

/// How many emails the outbox holds once no email job is left to send any more.
async fn emails_sent(d: &common::Demo) -> usize {
    wait_for_emails(&d.outbox(), 1).await;
    common::settled(&d.server.store, proctor_review::domain::JobKind::Email).await;
    common::eml_files(&d.outbox()).len()
}

async fn attention(api: &ApiClient) -> SessionRow {
    let q = SessionQuery {
        status: "second_review_required".into(),
        ..Default::default()
    };
    api.sessions(2, &q).await.unwrap().items[0].clone()
}

#[tokio::test]
async fn a_repeated_key_is_answered_with_the_original_result_and_changes_nothing() {
    let d = common::start_demo().await;
    let api = ApiClient::new(&d.server.url, &d.server.token).unwrap();
    let s = attention(&api).await;
    let req = DecisionRequest {
        verdict: Verdict::Fail,
        reason: "phone".into(),
        expected_status: Some(AttemptStatus::SecondReviewRequired),
        idempotency_key: Some("7f1c2a4e-0b5d-4c43-9a43-2d8e1f0c9b11".into()),
    };
    let first = api.decide(s.id, &req).await.unwrap();
    let again = api
        .decide(s.id, &req)
        .await
        .expect("a repeat is not a conflict");
    assert_eq!(again.row.status, AttemptStatus::Rejected);
    assert_eq!(again.history.len(), 1, "decided once");
    assert_eq!(first.history[0].id, again.history[0].id);
    assert_eq!(wait_for_emails(&d.outbox(), 1).await.len(), 1);
    assert_eq!(emails_sent(&d).await, 1, "emailed once");

    // The same key for another decision — another session, or another verdict — is a
    // client bug: refused (422), never answered as if it had been made.
    let other = attention(&api).await;
    match api.decide(other.id, &req).await {
        Err(ClientError::Rejected(m)) => assert!(
            m.contains("already used for a Fail of session") && m.contains(&s.id.to_string()),
            "{m}"
        ),
        r => panic!("{r:?}"),
    }
    let pass = DecisionRequest {
        verdict: Verdict::Pass,
        expected_status: Some(AttemptStatus::Rejected),
        ..req.clone()
    };
    match api.decide(s.id, &pass).await {
        Err(ClientError::Rejected(m)) => assert!(m.contains("send a new key"), "{m}"),
        r => panic!("{r:?}"),
    }
    assert_eq!(
        api.session(s.id).await.unwrap().row.status,
        AttemptStatus::Rejected
    );
    let bad = DecisionRequest {
        idempotency_key: Some("no spaces allowed".into()),
        ..req.clone()
    };
    match api.decide(other.id, &bad).await {
        Err(ClientError::Rejected(m)) => assert!(m.contains("idempotency_key"), "{m}"),
        r => panic!("{r:?}"),
    }
}

/// The reproduction in a real terminal: the Fail commits, its answer is dropped. The
/// console says "outcome unknown", asks again with the same key and shows the truth; the
/// learner is failed and emailed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_answer_is_checked_and_the_truth_shown_in_the_console() {
    let d = common::start_demo().await;
    let api = ApiClient::new(&d.server.url, &d.server.token).unwrap();
    let q = SessionQuery {
        status: "second_review_required".into(),
        ..Default::default()
    };
    let first = api.sessions(2, &q).await.unwrap();
    let proxy = DroppingProxy::start(&d.server.url).await;
    let (url, token, dir) = (
        proxy.url.clone(),
        d.server.token.clone(),
        d.dir.path().to_owned(),
    );
    let name = first.items[0].learner.full_name.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = Console::start_with(
            &["--server", &url],
            &dir,
            &[("PROCTOR_REVIEW_TOKEN", &token)],
        );
        c.open_midterm("to review");
        c.keys("\r");
        c.wait_for("Learner sees");
        c.wait_for(&name);
        c.keys("f");
        c.wait_for("This will:");
        c.keys("phone in view\r");
        // The dialog says the outcome is unknown while it checks; the check may answer
        // within the same frame (the live stream reports the decision at once), so either
        // screen may be the first one drawn. Never "not sent".
        let screen = c.until("the lost answer noticed", |s| {
            s.contains("outcome unknown") || s.contains("Confirmed after a lost answer")
        });
        assert!(!screen.contains("not sent"), "{screen}");
        let screen = c.wait_for("Confirmed after a lost answer");
        assert!(screen.contains("✘ Failed"), "{screen}");
        c.quit();
    })
    .await
    .unwrap();
    assert_eq!(
        proxy.dropped.load(Ordering::SeqCst),
        1,
        "an answer was lost"
    );
    assert!(!proxy.armed.load(Ordering::SeqCst));
    let now = api.session(first.items[0].id).await.unwrap();
    assert_eq!(now.row.status, AttemptStatus::Rejected);
    assert_eq!(now.history.len(), 1, "applied once");
    assert_eq!(now.history[0].reason, "phone in view");
    assert_eq!(emails_sent(&d).await, 1, "emailed once");
}
