//! Learner emails through outages, restarts and a spent retry budget: none silently
//! abandoned, none sent twice, and History never saying more than is true (issue #8).

mod common;

use common::peer::Ours;
use common::wait_for_emails;
use proctor_review::client::ApiClient;
use proctor_review::domain::email::MailState;
use proctor_review::domain::{SessionRow, Verdict};
use std::path::Path;
use std::time::{Duration, Instant};

async fn fail(api: &ApiClient, s: &SessionRow) {
    common::sessions::decide(api, s, Verdict::Fail, "phone").await;
}

use common::sessions::attention;

/// A regular file where the outbox folder should be: every delivery fails.
fn break_outbox(outbox: &Path) {
    std::fs::write(outbox, b"not a folder").unwrap();
}

fn fix_outbox(outbox: &Path) {
    std::fs::remove_file(outbox).unwrap();
}

/// Waits until every session's last decision shows its email `state`.
async fn until_emails(api: &ApiClient, sessions: &[SessionRow], state: MailState, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let mut states = Vec::new();
        for s in sessions {
            let d = api.session(s.id).await.unwrap();
            states.push(d.history.last().and_then(|h| h.email.clone()));
        }
        if states
            .iter()
            .all(|e| e.as_ref().is_some_and(|e| e.state == state))
        {
            return;
        }
        assert!(Instant::now() < deadline, "not all {state:?}: {states:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn eml_count(outbox: &Path) -> usize {
    common::eml_files(outbox).len()
}

/// The reproduction: outbox broken, 12 Fails 0.2 s apart, outbox restored. Emails 1–4 used
/// to stay undelivered forever while History said "learner emailed".
#[tokio::test]
async fn an_outbox_outage_loses_no_email_and_history_tells_the_truth() {
    let mail = tempfile::tempdir().unwrap();
    let outbox = mail.path().join("outbox");
    break_outbox(&outbox);
    let ours = Ours::start_with(&[
        "--lms-sync-secs",
        "0",
        "--seed-demo",
        "200",
        "--outbox",
        outbox.to_str().unwrap(),
        "--mail-retry-ms",
        "100",
    ]);
    let api = ours.api(&ours.reviewer("alice", "alice@example.edu", "reviewer"));
    let sessions = attention(&api, 12).await;
    for s in &sessions {
        fail(&api, s).await;
    }
    // Nothing can be delivered: once the first email has been tried twice, History says
    // queued (retrying, with the reason).
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        let email = api.session(sessions[0].id).await.unwrap().history[0]
            .email
            .clone()
            .unwrap();
        if email.attempts >= 2 {
            break email;
        }
        assert!(Instant::now() < deadline, "never retried: {email:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(first.state, MailState::Queued);
    assert!(
        first.describe().contains("retrying"),
        "{}",
        first.describe()
    );
    assert!(
        first.describe().contains("cannot write"),
        "{}",
        first.describe()
    );

    fix_outbox(&outbox);
    until_emails(&api, &sessions, MailState::Delivered, 30).await;
    assert_eq!(eml_count(&outbox), 12, "each email exactly once");
    assert_eq!(wait_for_emails(&outbox, 12).await.len(), 12);
}

/// After the retry budget an email is marked failed — on the session's History, in the log
/// and in `mail failed` — and `mail retry` sends it once the outbox works again.
#[tokio::test]
async fn an_email_out_of_retries_is_failed_shown_listed_and_retried() {
    let mail = tempfile::tempdir().unwrap();
    let outbox = mail.path().join("outbox");
    break_outbox(&outbox);
    let ours = Ours::start_with(&[
        "--lms-sync-secs",
        "0",
        "--seed-demo",
        "40",
        "--outbox",
        outbox.to_str().unwrap(),
        "--mail-retry-ms",
        "20",
        "--mail-attempts",
        "3",
        "--job-poll-ms",
        "100",
    ]);
    let api = ours.api(&ours.reviewer("alice", "alice@example.edu", "reviewer"));
    let sessions = attention(&api, 1).await;
    fail(&api, &sessions[0]).await;
    until_emails(&api, &sessions, MailState::Failed, 10).await;
    let email = api.session(sessions[0].id).await.unwrap().history[0]
        .email
        .clone()
        .unwrap();
    assert_eq!(email.attempts, 3);
    let said = email.describe();
    assert!(said.contains("email failed after 3 attempts"), "{said}");
    assert!(said.contains(&format!("mail job {}", email.job)), "{said}");
    assert!(ours.log().contains("email delivery failed for good"));

    let listed = ours.cli(&["mail", "failed"]);
    assert!(
        listed.contains(&format!("job {} ", email.job)) && listed.contains("cannot write"),
        "{listed}"
    );
    let status = ours.cli(&["mail", "status"]);
    assert!(
        status.contains("0 due, 0 sending, 0 held")
            && status.contains("1 failed (mail failed lists them)"),
        "{status}"
    );
    assert!(status.contains("nothing is waiting to go out"), "{status}");

    fix_outbox(&outbox);
    let job = email.job.to_string();
    assert!(
        ours.cli(&["mail", "retry", "--job", &job])
            .contains("1 email(s)")
    );
    until_emails(&api, &sessions, MailState::Delivered, 10).await;
    assert_eq!(eml_count(&outbox), 1);
    assert!(
        ours.cli(&["mail", "failed"])
            .contains("No failed learner emails")
    );
    let status = ours.cli(&["mail", "status"]);
    assert!(
        status.contains("0 failed.") && status.contains("Delivered in the last minute: 1;"),
        "{status}"
    );
}

/// A backlog left by an outage goes out as soon as a restarted server is up, at the rate
/// limit, instead of each email waiting out its backoff (up to an hour).
#[tokio::test]
async fn a_backlog_drains_continuously_after_a_restart() {
    let mail = tempfile::tempdir().unwrap();
    let outbox = mail.path().join("outbox");
    break_outbox(&outbox);
    let flags = |extra: &[&'static str]| {
        let mut v = vec![
            "--lms-sync-secs".to_owned(),
            "0".into(),
            "--outbox".into(),
            outbox.to_str().unwrap().to_owned(),
            "--mail-per-second".into(),
            "200".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let first = flags(&["--seed-demo", "600"]);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let ours = Ours::start_with(&first);
    let api = ours.api(&ours.reviewer("alice", "alice@example.edu", "reviewer"));
    let sessions = attention(&api, 100).await;
    for s in &sessions {
        fail(&api, s).await;
    }
    fix_outbox(&outbox);
    // A minute's backoff would still be running; the restart makes the backlog due.
    let again = flags(&[]);
    let again: Vec<&str> = again.iter().map(String::as_str).collect();
    let ours = ours.restart(&again);
    let token = ours.reviewer("bob", "bob@example.edu", "reviewer");
    let api = ours.api(&token);
    let started = Instant::now();
    until_emails(&api, &sessions, MailState::Delivered, 20).await;
    eprintln!(
        "100 backlogged emails delivered {:?} after the restart",
        started.elapsed()
    );
    assert_eq!(eml_count(&outbox), 100, "each exactly once");
}

/// Two server processes on one database share the queue: each email is claimed by one of
/// them and delivered once — also when the second starts while the first is mid-delivery
/// (it used to queue the first one's running jobs again and send them a second time).
#[tokio::test]
async fn two_servers_on_one_database_never_send_an_email_twice() {
    let (url, mut inbox) = common::smtp::sink_slow(None, Duration::from_millis(700)).await;
    let flags = ["--lms-sync-secs", "0", "--smtp-url", url.as_str()];
    let mut first = flags.to_vec();
    first.extend(["--seed-demo", "200"]);
    let a = Ours::start_with(&first);
    let api = a.api(&a.reviewer("alice", "alice@example.edu", "reviewer"));
    let sessions = attention(&api, 6).await;
    for s in &sessions {
        fail(&api, s).await;
    }
    let b = a.beside(&flags);
    until_emails(&api, &sessions, MailState::Delivered, 30).await;
    // Once no email job is queued or running, no second copy can still be on its way.
    let store = proctor_review::store::sqlite::SqliteStore::open(&a.db).expect("database");
    common::settled(&store, proctor_review::domain::JobKind::Email).await;
    let mut ids = Vec::new();
    while let Ok((_, data)) = inbox.try_recv() {
        let id = data
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .expect("a Message-ID")
            .to_owned();
        ids.push(id);
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), 6, "{ids:?}");
    assert_eq!(unique.len(), 6);
    let by_b = b.log().matches("email delivered").count();
    let by_a = a.log().matches("email delivered").count();
    assert_eq!(by_a + by_b, 6, "a: {by_a}, b: {by_b}");
}

/// A server killed while writing an email leaves a `.tmp…` file; the next start removes it
/// (its job was never done, so the email is written again), but not one another server
/// sharing the folder may be writing now.
#[tokio::test]
async fn a_half_written_email_left_by_a_kill_is_removed_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    let left = outbox.join(".tmpAbC123");
    let writing = outbox.join(".tmpXyZ789");
    std::fs::write(&left, "To: learner@example.edu\r\n\r\nhalf").unwrap();
    std::fs::write(&writing, "To: learner@example.edu\r\n\r\nhalf").unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&left)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    let server = common::start_in(dir.path()).await;
    // The server clears it before it accepts a connection: a request answered means it has.
    let api = ApiClient::new(&server.url, &server.token).unwrap();
    api.me().await.unwrap();
    assert!(!left.exists(), "the leftover was removed");
    assert!(writing.exists(), "a file being written now is left alone");
    server.stop().await;
}
