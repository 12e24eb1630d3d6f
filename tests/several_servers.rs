//! Two real `serve` processes on one PostgreSQL database (issue #11): decisions have one
//! winner and one email whichever server each request reaches, emails are delivered once
//! even when a server is killed mid-delivery, a decision made through one server reaches a
//! live stream on the other, and a signed link from one is served by the other.
//! Skipped loudly without PostgreSQL, unless PROCTOR_REVIEW_REQUIRE_PG is set (CI).

mod common;

use common::peer::Ours;
use common::pg::TestDb;
use common::sessions::attention;
use proctor_review::api::ChangeKind;
use proctor_review::api::DecisionRequest;
use proctor_review::client::{ApiClient, ClientError};
use proctor_review::domain::email::MailState;
use proctor_review::domain::{AttemptStatus, JobKind, SessionRow, Verdict};
use proctor_review::store::postgres::PgStore;
use std::path::Path;
use std::time::{Duration, Instant};

/// Two servers sharing a database and the folders every server must see.
struct Pair {
    a: Ours,
    b: Ours,
    shared: tempfile::TempDir,
    token: String,
    _db: TestDb,
}

fn flags(shared: &Path, extra: &[&str]) -> Vec<String> {
    let dir = |name: &str| shared.join(name).to_string_lossy().into_owned();
    let mut f = vec![
        "--media-dir".to_owned(),
        dir("media"),
        "--outbox".into(),
        dir("outbox"),
        "--reports-dir".into(),
        dir("reports"),
        "--link-key-file".into(),
        dir("link.key"),
        "--lms-sync-secs".into(),
        "0".into(),
        "--job-poll-ms".into(),
        "100".into(),
    ];
    if !extra.contains(&"--instance-stale-secs") {
        f.extend(["--instance-stale-secs".to_owned(), "3".to_owned()]);
    }
    f.extend(extra.iter().map(|s| (*s).to_owned()));
    f
}

async fn pair(extra: &[&str]) -> Option<Pair> {
    let db = TestDb::create().await?;
    let shared = tempfile::tempdir().expect("temp dir");
    let mut first = flags(shared.path(), extra);
    first.extend(["--seed-demo".to_owned(), "200".to_owned()]);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let a = Ours::on(&db.url, &first);
    let second = flags(shared.path(), extra);
    let second: Vec<&str> = second.iter().map(String::as_str).collect();
    let b = Ours::on(&db.url, &second);
    let token = a.reviewer("alice", "alice@example.edu", "admin");
    Some(Pair {
        a,
        b,
        shared,
        token,
        _db: db,
    })
}

impl Pair {
    fn apis(&self) -> (ApiClient, ApiClient) {
        (self.a.api(&self.token), self.b.api(&self.token))
    }

    fn emails(&self) -> Vec<String> {
        common::eml_files(&self.shared.path().join("outbox"))
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }

    /// Waits until neither server has an email job queued or running: a second delivery
    /// would have been made by then.
    async fn mail_settled(&self) {
        let store = PgStore::connect(&self._db.url, Duration::from_secs(10))
            .await
            .expect("database");
        common::settled(&store, JobKind::Email).await;
    }

    fn logs(&self) -> String {
        format!("A:\n{}\nB:\n{}", self.a.log(), self.b.log())
    }
}

fn fail(s: &SessionRow, key: Option<String>) -> DecisionRequest {
    DecisionRequest {
        verdict: Verdict::Fail,
        reason: format!("two servers, session {}", s.id),
        expected_status: Some(AttemptStatus::SecondReviewRequired),
        idempotency_key: key,
    }
}

/// Waits until every one of `sessions` has its learner email delivered.
async fn delivered(p: &Pair, api: &ApiClient, sessions: &[SessionRow]) {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let mut done = 0;
        for s in sessions {
            let h = api.session(s.id).await.expect("session").history;
            if h.iter().any(|e| {
                e.email
                    .as_ref()
                    .is_some_and(|m| m.state == MailState::Delivered)
            }) {
                done += 1;
            }
        }
        if done == sessions.len() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{done} of {} delivered\n{}",
            sessions.len(),
            p.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_decisions_on_one_session_through_two_servers_have_one_winner_and_one_email() {
    let Some(p) = pair(&[]).await else { return };
    let (a, b) = p.apis();
    let session = attention(&a, 1).await.remove(0);
    let id = session.id;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let api = if i % 2 == 0 { a.clone() } else { b.clone() };
        let req = fail(&session, Some(format!("racer-key-{i}")));
        tasks.push(tokio::spawn(async move { api.decide(id, &req).await }));
    }
    let mut won = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(d) => {
                assert_eq!(d.row.status, AttemptStatus::Rejected);
                won += 1;
            }
            Err(ClientError::Conflict(_)) => refused += 1,
            Err(e) => panic!("neither decided nor refused: {e}\n{}", p.logs()),
        }
    }
    assert_eq!((won, refused), (1, 49), "one winner across both servers");
    let detail = b.session(id).await.unwrap();
    assert_eq!(detail.history.len(), 1, "decided once");
    delivered(&p, &b, std::slice::from_ref(&session)).await;
    p.mail_settled().await;
    let to_learner = p
        .emails()
        .iter()
        .filter(|m| m.contains(&session.learner.email))
        .count();
    assert_eq!(to_learner, 1, "one email to the learner");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn emails_are_delivered_once_when_a_server_is_killed_mid_delivery() {
    // Slow mail, so the kill lands while both servers are delivering.
    let Some(mut p) = pair(&["--mail-per-second", "8"]).await else {
        return;
    };
    let (a, b) = p.apis();
    let sessions = attention(&a, 30).await;
    for (i, s) in sessions.iter().enumerate() {
        let api = if i % 2 == 0 { &a } else { &b };
        api.decide(s.id, &fail(s, Some(format!("burst-{}", s.id))))
            .await
            .expect("decided");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while p.emails().len() < 4 {
        assert!(Instant::now() < deadline, "no mail went out\n{}", p.logs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    p.a.kill();
    let sent_before = p.emails().len();
    assert!(sent_before < 30, "killed mid-delivery ({sent_before} sent)");
    delivered(&p, &b, &sessions).await;
    p.mail_settled().await;
    let emails = p.emails();
    assert_eq!(emails.len(), 30, "one email per decision");
    for s in &sessions {
        let n = emails
            .iter()
            .filter(|m| m.contains(&s.learner.email))
            .count();
        assert!(n >= 1, "{} got their email", s.learner.email);
    }
    for s in &sessions {
        let h = b.session(s.id).await.unwrap().history;
        assert_eq!(h.len(), 1, "session {} decided once", s.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_decision_and_a_claim_through_one_server_reach_a_live_stream_on_the_other() {
    let Some(p) = pair(&[]).await else { return };
    let (a, b) = p.apis();
    let b_reads = b.clone();
    let (opened_tx, opened) = tokio::sync::oneshot::channel();
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let follower = tokio::spawn(async move {
        let _ = b
            .events(
                None,
                move || {
                    let _ = opened_tx.send(());
                },
                move |e| {
                    let _ = seen_tx.send(e);
                },
            )
            .await;
    });
    opened.await.expect("the stream opened");
    let session = attention(&a, 1).await.remove(0);
    let sent = Instant::now();
    a.decide(session.id, &fail(&session, None))
        .await
        .expect("decided");
    let event = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let e = seen.recv().await.expect("stream open");
            // B works jobs too: its own news of the email (delivered) may come first.
            if e.session_id == session.id && e.kind == ChangeKind::Decision {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("server B never told its console\n{}", p.logs()));
    let took = sent.elapsed();
    eprintln!("decision on A seen on B's stream after {took:?}");
    assert_eq!(event.status, AttemptStatus::Rejected);
    assert_eq!(event.verdict, Some(Verdict::Fail));
    assert_eq!(event.reviewer.as_deref(), Some("alice"));
    assert!(took < Duration::from_secs(1), "within a second: {took:?}");

    // Who is on which learner crosses servers the same way (issue #26).
    let other = attention(&a, 1).await.remove(0);
    a.claim(other.id).await.expect("claimed on A");
    let mut next_about = async |kind| {
        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let e = seen.recv().await.expect("stream open");
                if e.session_id == other.id && e.kind == kind {
                    return e;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("server B never told of the {kind:?}\n{}", p.logs()))
    };
    let claimed = next_about(ChangeKind::Claimed).await;
    assert_eq!(claimed.reviewer.as_deref(), Some("alice"));
    let on_b = b_reads.claims().await.unwrap();
    assert_eq!(on_b.len(), 1, "B lists A's claim: {on_b:?}");
    a.release(other.id).await.unwrap();
    next_about(ChangeKind::Released).await;
    assert!(b_reads.claims().await.unwrap().is_empty());
    follower.abort();
}

#[tokio::test]
async fn a_signed_link_from_one_server_is_served_by_the_other() {
    let Some(p) = pair(&[]).await else { return };
    let (a, b) = p.apis();
    let detail = a.session(1).await.expect("session 1");
    let item = detail.media.first().expect("the demo's evidence");
    let link = a.media_link(item.id).await.expect("a link");
    let on_b = link.url.replacen(&p.a.url, &p.b.url, 1);
    assert_ne!(on_b, link.url, "the link names server A");
    let bytes = b.fetch_signed(&on_b, 64 << 20).await.expect("served by B");
    assert_eq!(bytes.len() as u64, item.size);
}

/// Every file below `dir` (recursively), skipping the uploads' waiting room.
fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    common::files_below(dir)
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains(".incoming"))
        .collect()
}

/// Servers that share no folder at all, only the database, the link key and an object
/// store (`file://`, the same interface as S3): evidence uploaded through one is served by
/// the other, a video player's byte range included, and so is a report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_and_reports_in_an_object_store_are_served_by_either_server() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().expect("temp dir");
    let objects = root.path().join("objects");
    let store_url = url::Url::from_directory_path(&objects).expect("file URL");
    let Some((item, report)) = shared_object_store(store_url.as_str(), &[]).await else {
        return;
    };
    let kept = files_in(&objects);
    assert!(kept.iter().any(|p| p.ends_with(&item)), "{kept:?}");
    assert!(
        kept.iter()
            .any(|p| p.to_string_lossy().contains(&format!("reports/{report}/"))),
        "{kept:?}"
    );
    for p in &kept {
        let mode = std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
}

/// The same against a real S3 server (s3s-fs): two servers share one bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_and_reports_in_a_real_s3_bucket_are_served_by_either_server() {
    let Some(s3) = common::s3::S3::start() else {
        return;
    };
    let Some((item, report)) = shared_object_store(&s3.url("prod"), &s3.env()).await else {
        return;
    };
    let keys = s3.keys();
    assert!(
        keys.iter()
            .any(|k| k.starts_with("prod/") && k.ends_with(&item)),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("prod/reports/{report}/"))),
        "{keys:?}"
    );
}

/// Two servers on one PostgreSQL database and the object store at `store_url`: what one
/// stores the other serves. The uploaded file's hash and the report's id, to look for in
/// the store; None without PostgreSQL.
async fn shared_object_store(store_url: &str, env: &[(&str, String)]) -> Option<(String, i64)> {
    let db = TestDb::create().await?;
    let root = tempfile::tempdir().expect("temp dir");
    let server = |name: &str, extra: &[&str]| {
        let own = root.path().join(name);
        let dir = |n: &str| own.join(n).to_string_lossy().into_owned();
        let mut f = vec![
            "--media-dir".to_owned(),
            dir("media"),
            "--reports-dir".into(),
            dir("reports"),
            "--outbox".into(),
            dir("outbox"),
            "--link-key-file".into(),
            root.path().join("link.key").to_string_lossy().into_owned(),
            "--object-store".into(),
            store_url.to_owned(),
            "--lms-sync-secs".into(),
            "0".into(),
            "--job-poll-ms".into(),
            "100".into(),
        ];
        f.extend(extra.iter().map(|s| (*s).to_owned()));
        let f: Vec<&str> = f.iter().map(String::as_str).collect();
        Ours::on_with_env(&db.url, env, &f)
    };
    let a = server("a", &["--seed-demo", "40"]);
    let b = server("b", &[]);
    let token = a.reviewer("alice", "alice@example.edu", "admin");
    let (api_a, api_b) = (a.api(&token), b.api(&token));

    // The demo's evidence went to the object store, and B serves A's link, in part too.
    let detail = api_a.session(1).await.expect("session 1");
    let demo = detail.media.first().expect("the demo's evidence").clone();
    let link = api_a.media_link(demo.id).await.expect("a link");
    let on_b = link.url.replacen(&a.url, &b.url, 1);
    let whole = api_b
        .fetch_signed(&on_b, 64 << 20)
        .await
        .expect("served by B");
    assert_eq!(whole.len() as u64, demo.size);
    let http = reqwest::Client::new();
    let part = http
        .get(&on_b)
        .header("Range", "bytes=4-11")
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 4-11/{}", demo.size).as_str()
    );
    assert_eq!(part.bytes().await.expect("bytes").as_ref(), &whole[4..12]);
    let beyond = http
        .get(&on_b)
        .header("Range", format!("bytes={}-", demo.size))
        .send()
        .await
        .expect("range");
    assert_eq!(beyond.status(), 416);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", demo.size).as_str()
    );

    // Uploaded through B, fetched through A.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.resize(3000, 7);
    let up = http
        .post(format!(
            "{}/api/v1/sessions/2/media?kind=screenshot&captured_at=2026-11-13T19:12:00Z",
            b.url
        ))
        .bearer_auth(&token)
        .header("Content-Type", "image/png")
        .body(png.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(up.status(), 201, "{}", up.text().await.unwrap_or_default());
    let item: proctor_review::domain::MediaItem = up.json().await.expect("item");
    let link = api_a.media_link(item.id).await.expect("a link");
    assert_eq!(
        api_a.fetch_signed(&link.url, 1 << 20).await.expect("A"),
        png
    );

    // A report made by whichever server took the job, downloaded through the other.
    let course = api_a.courses().await.expect("courses")[0].id.clone();
    let job = api_a.start_report(&course).await.expect("report");
    let done = proctor_review::client::report::wait(&api_a, &course, job.id, |_| {})
        .await
        .expect("report done");
    let link = api_b.report_link(done.id).await.expect("report link");
    let csv = api_b.fetch_signed(&link.url, 64 << 20).await.expect("CSV");
    let csv = String::from_utf8_lossy(&csv).into_owned();
    assert!(
        csv.trim_start_matches('\u{feff}')
            .starts_with("course_id,provider"),
        "{csv}"
    );
    let rows = done.report.as_ref().expect("a report").rows;
    assert!(rows > 0);
    assert_eq!(
        csv.lines().count() as u64,
        rows + 1,
        "header and one line a row"
    );

    // Nothing was kept in either server's folders; the store holds it all.
    for name in ["a", "b"] {
        let own = root.path().join(name);
        assert!(files_in(&own.join("media")).is_empty(), "{name}'s media");
        assert!(
            files_in(&own.join("reports")).is_empty(),
            "{name}'s reports"
        );
    }
    Some((item.sha256, done.id))
}

/// A stopping server waits `--drain-secs` for the job it is running (an email to a mail
/// server that takes its time), then hands it back: another server sends it at once, not
/// after the stopped one has been quiet for `--instance-stale-secs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_hands_back_the_job_it_could_not_finish() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let (slow, _) = common::smtp::sink_slow(None, Duration::from_secs(30)).await;
    let (fast, mut received) = common::smtp::sink(None).await;
    let shared = tempfile::tempdir().expect("temp dir");
    let stopping = |smtp: &str| {
        let extra = [
            "--smtp-url",
            smtp,
            "--instance-stale-secs",
            "120",
            "--drain-secs",
            "1",
        ];
        flags(shared.path(), &extra)
    };
    let mut first = stopping(&slow);
    first.extend(["--seed-demo".to_owned(), "40".to_owned()]);
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let mut a = Ours::on(&db.url, &first);
    let token = a.reviewer("alice", "alice@example.edu", "admin");
    let api = a.api(&token);
    let s = attention(&api, 1).await.remove(0);
    api.decide(s.id, &fail(&s, None)).await.expect("decided");
    // A has the email in hand: the mail server is sitting on it.
    let (sql, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let running: i64 = sql
            .query_one(
                "SELECT count(*) FROM jobs WHERE kind = 'email' AND state = 'running'",
                &[],
            )
            .await
            .expect("jobs")
            .get(0);
        if running == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A never took the email\n{}",
            a.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(a.terminate().success(), "stopped cleanly\n{}", a.log());
    assert!(
        a.log().contains("handed back"),
        "A says it handed the job back:\n{}",
        a.log()
    );

    let second = stopping(&fast);
    let second: Vec<&str> = second.iter().map(String::as_str).collect();
    let b = Ours::on(&db.url, &second);
    let (to, _) = tokio::time::timeout(Duration::from_secs(30), received.recv())
        .await
        .unwrap_or_else(|_| panic!("B never sent the handed-back email\n{}", b.log()))
        .expect("a message");
    assert!(to.contains(&s.learner.email), "{to}");
}
