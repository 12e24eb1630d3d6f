//! Who may see and do what (issue #8): two reviewers on different courses, a read-only
//! reviewer, the service account, revoked and expired tokens. Outside a caller's grants
//! every endpoint answers exactly as if the thing did not exist.

mod common;

use common::peer::{BIN, DEMO_COURSES, Ours};
use proctor_review::domain::words::Word;
use proctor_review::domain::{SessionDetail, SessionRow};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const MIT: &str = DEMO_COURSES[0];
const HARVARD: &str = DEMO_COURSES[1];

struct Caller<'a> {
    url: &'a str,
    token: String,
    http: reqwest::Client,
}

impl<'a> Caller<'a> {
    fn new(ours: &'a Ours, token: String) -> Self {
        proctor_review::client::tls_ready();
        Self {
            url: &ours.url,
            token,
            http: reqwest::Client::new(),
        }
    }

    /// Status and JSON body of a call under /api/v1.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(Method::POST, path, body).await
    }
}

/// The answer for something hidden equals the answer for something absent, but for the id.
fn same_as_absent(hidden: &(u16, Value), absent: &(u16, Value), id: &str, absent_id: &str) {
    assert_eq!(hidden.0, 404, "{hidden:?}");
    assert_eq!(absent.0, 404, "{absent:?}");
    let words = |v: &Value, id: &str| v.to_string().replace(id, "ID");
    assert_eq!(words(&hidden.1, id), words(&absent.1, absent_id));
}

fn decision(s: &SessionRow) -> Value {
    json!({"verdict": "fail", "reason": "r", "expected_status": s.status.as_str()})
}

/// Exams of a course, from the admin's view.
async fn exams_of(admin: &Caller<'_>, course: &str) -> Vec<i64> {
    let (_, courses) = admin.get("/courses").await;
    courses
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == course)
        .flat_map(|c| c["exams"].as_array().unwrap().clone())
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

async fn a_session_of(admin: &Caller<'_>, exams: &[i64]) -> SessionDetail {
    for exam in exams {
        let (_, page) = admin
            .get(&format!(
                "/exams/{exam}/sessions?status=second_review_required"
            ))
            .await;
        if let Some(first) = page["items"].as_array().and_then(|a| a.first()) {
            let (_, detail) = admin.get(&format!("/sessions/{}", first["id"])).await;
            return serde_json::from_value(detail).unwrap();
        }
    }
    panic!("no Require Attention session in {exams:?}");
}

#[tokio::test]
async fn reviewers_see_and_decide_only_in_their_courses_on_every_endpoint() {
    let ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "80"]);
    let admin = Caller::new(&ours, ours.reviewer("root", "root@example.edu", "admin"));
    let mira = Caller::new(&ours, ours.reviewer_in("mira", &[MIT], &[]));
    let hari = Caller::new(&ours, ours.reviewer_in("hari", &[HARVARD], &[]));
    let rhea = Caller::new(&ours, ours.reviewer_in("rhea", &[], &[MIT]));

    // /me names the grants.
    let (_, me) = mira.get("/me").await;
    assert_eq!(me["username"], "mira");
    assert_eq!(
        me["grants"],
        json!([{"course_id": MIT, "access": "review"}])
    );

    // Course lists and their counts: only what is granted, with the caller's access.
    let (_, all) = admin.get("/courses").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (_, mine) = mira.get("/courses").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["id"], MIT);
    assert_eq!(mine[0]["access"], "review");
    let admin_mit = all.as_array().unwrap().iter().find(|c| c["id"] == MIT);
    assert_eq!(mine[0]["exams"], admin_mit.unwrap()["exams"]);
    let (_, read) = rhea.get("/courses").await;
    assert_eq!(read[0]["id"], MIT);
    assert_eq!(read[0]["access"], "read");
    let (_, theirs) = hari.get("/courses").await;
    assert_eq!(theirs[0]["id"], HARVARD);

    let harvard_exams = exams_of(&admin, HARVARD).await;
    let mit_exams = exams_of(&admin, MIT).await;
    let hidden = a_session_of(&admin, &harvard_exams).await;
    let visible = a_session_of(&admin, &mit_exams).await;
    let sid = hidden.row.id.to_string();

    // Sessions of an exam.
    let exam = harvard_exams[0].to_string();
    same_as_absent(
        &mira.get(&format!("/exams/{exam}/sessions")).await,
        &mira.get("/exams/999999/sessions").await,
        &exam,
        "999999",
    );
    assert_eq!(
        mira.get(&format!("/exams/{}/sessions", mit_exams[0]))
            .await
            .0,
        200
    );
    // Search finds nothing across the line either: the exam itself is not there.
    let name = &hidden.row.learner.full_name;
    let q = format!("/exams/{exam}/sessions?q={}", name.replace(' ', "%20"));
    assert_eq!(mira.get(&q).await.0, 404);

    // The cross-exam queue holds only granted courses' sessions.
    let (_, queue) = mira.get("/queue?limit=500").await;
    let items = queue["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|r| mit_exams.contains(&r["exam_id"].as_i64().unwrap())),
        "{queue}"
    );
    let (_, everything) = admin.get("/queue?limit=500").await;
    assert!(everything["total"].as_u64() > queue["total"].as_u64());

    // One session, its decision, its LMS resend, its evidence links.
    same_as_absent(
        &mira.get(&format!("/sessions/{sid}")).await,
        &mira.get("/sessions/999999").await,
        &sid,
        "999999",
    );
    same_as_absent(
        &mira
            .post(
                &format!("/sessions/{sid}/decision"),
                Some(decision(&hidden.row)),
            )
            .await,
        &mira
            .post("/sessions/999999/decision", Some(decision(&hidden.row)))
            .await,
        &sid,
        "999999",
    );
    same_as_absent(
        &mira.post(&format!("/sessions/{sid}/lms-retry"), None).await,
        &mira.post("/sessions/999999/lms-retry", None).await,
        &sid,
        "999999",
    );
    let media = hidden
        .media
        .first()
        .expect("the demo session has evidence")
        .id;
    // A video's stills are as hidden as the video.
    let video = hidden
        .media
        .iter()
        .find(|m| m.kind.is_video())
        .expect("the demo session has a recording")
        .id;
    same_as_absent(
        &mira.get(&format!("/media/{video}/frames")).await,
        &mira.get("/media/999999/frames").await,
        &video.to_string(),
        "999999",
    );
    same_as_absent(
        &mira
            .get(&format!("/media/{video}/frames/pack?sheet=true"))
            .await,
        &mira.get("/media/999999/frames/pack?sheet=true").await,
        &video.to_string(),
        "999999",
    );
    same_as_absent(
        &mira.post(&format!("/media/{media}/link"), None).await,
        &mira.post("/media/999999/link", None).await,
        &media.to_string(),
        "999999",
    );
    assert_eq!(
        hari.post(&format!("/media/{media}/link"), None).await.0,
        200
    );

    // Reports of a course.
    let harvard_path = HARVARD.replace('+', "%2B");
    same_as_absent(
        &mira.get(&format!("/courses/{harvard_path}/reports")).await,
        &mira.get("/courses/course-v1:No+Such+Course/reports").await,
        HARVARD,
        "course-v1:No+Such+Course",
    );
    assert_eq!(
        mira.post(&format!("/courses/{harvard_path}/reports"), None)
            .await
            .0,
        404
    );
    let (status, job) = hari
        .post(&format!("/courses/{harvard_path}/reports"), None)
        .await;
    assert_eq!(status, 202, "{job}");
    let report = job["id"].to_string();
    same_as_absent(
        &mira.post(&format!("/reports/{report}/link"), None).await,
        &mira.post("/reports/999999/link", None).await,
        &report,
        "999999",
    );

    // The hidden session was never touched.
    let (_, after) = admin.get(&format!("/sessions/{sid}")).await;
    assert_eq!(after["status"], "second_review_required");
    assert_eq!(after["history"], json!([]));

    // Read-only: sees, cannot decide, is told why.
    let vid = visible.row.id;
    assert_eq!(rhea.get(&format!("/sessions/{vid}")).await.0, 200);
    let (status, body) = rhea
        .post(
            &format!("/sessions/{vid}/decision"),
            Some(decision(&visible.row)),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body["message"].as_str().unwrap().contains("read-only"));
    assert_eq!(
        mira.post(
            &format!("/sessions/{vid}/decision"),
            Some(decision(&visible.row))
        )
        .await
        .0,
        200
    );

    // The provider's service account sees but never decides.
    let service = Caller::new(&ours, ours.reviewer("pipe", "pipe@example.edu", "service"));
    assert_eq!(service.get(&format!("/sessions/{sid}")).await.0, 200);
    let (status, body) = service
        .post(
            &format!("/sessions/{sid}/decision"),
            Some(decision(&hidden.row)),
        )
        .await;
    assert_eq!(status, 403, "{body}");

    // A grant withdrawn takes effect at once, also on a signed link made before.
    let (_, link) = hari.post(&format!("/media/{media}/link"), None).await;
    let link = link["url"].as_str().unwrap().to_owned();
    assert_eq!(reqwest::get(&link).await.unwrap().status(), 200);
    ours.cli(&[
        "reviewer",
        "withdraw",
        "--username",
        "hari",
        "--course",
        HARVARD,
    ]);
    let (_, none) = hari.get("/courses").await;
    assert_eq!(none, json!([]));
    assert_eq!(hari.get(&format!("/sessions/{sid}")).await.0, 404);
    assert_eq!(reqwest::get(&link).await.unwrap().status(), 404);

    // `reviewer list` shows roles and grants, never a token.
    let list = ours.cli(&["reviewer", "list"]);
    assert!(list.contains("mira  reviewer"), "{list}");
    assert!(list.contains(&format!("review  {MIT}")), "{list}");
    assert!(list.contains(&format!("read    {MIT}")), "{list}");
    assert!(
        list.contains("root  admin") && list.contains("courses: all"),
        "{list}"
    );
    assert!(list.contains("hari  reviewer") && list.contains("courses: none"));
    assert!(!list.contains("prt_"));
}

#[tokio::test]
async fn revoked_and_expired_tokens_are_refused_with_words_that_say_which() {
    let ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "20"]);
    let mira = Caller::new(&ours, ours.reviewer_in("mira", &[MIT], &[]));
    let hari = Caller::new(&ours, ours.reviewer_in("hari", &[HARVARD], &[]));
    assert_eq!(mira.get("/me").await.0, 200);

    // Revoking every token of a reviewer.
    let out = ours.cli(&["reviewer", "revoke", "--username", "mira"]);
    assert!(out.contains("Revoked 1 token"), "{out}");
    let (status, body) = mira.get("/me").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized");

    // A second token for hari, revoked by the id `reviewer list` shows.
    let second = Caller::new(
        &ours,
        ours.cli(&["token", "add", "--username", "hari"])
            .trim()
            .to_owned(),
    );
    assert_eq!(second.get("/me").await.0, 200);
    let hash = proctor_review::server::hash_token(&second.token);
    ours.cli(&["token", "revoke", "--id", &hash[..12]]);
    assert_eq!(second.get("/me").await.0, 401);
    assert_eq!(hari.get("/me").await.0, 200, "only that token was revoked");

    // An expiring token works until its time, then says it expired.
    let expiring = ours
        .cli(&[
            "token",
            "add",
            "--username",
            "hari",
            "--expires-in-days",
            "30",
        ])
        .trim()
        .to_owned();
    let expiring = Caller::new(&ours, expiring);
    assert_eq!(expiring.get("/me").await.0, 200);
    let list = ours.cli(&["reviewer", "list"]);
    assert!(list.contains("valid until"), "{list}");
    {
        let db = rusqlite::Connection::open(&ours.db).unwrap();
        db.execute(
            "UPDATE api_tokens SET expires = '2026-01-01T00:00:00.000000Z' WHERE token_hash = ?1",
            [proctor_review::server::hash_token(&expiring.token)],
        )
        .unwrap();
    }
    let (status, body) = expiring.get("/courses").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "token_expired");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("expired on 2026-01-01 00:00 UTC"),
        "{body}"
    );

    // The console says so and stops before it takes the screen.
    let out = std::process::Command::new(BIN)
        .args(["--server", &ours.url])
        .env("PROCTOR_REVIEW_TOKEN", &expiring.token)
        .env(
            "PROCTOR_REVIEW_DATA_DIR",
            tempfile::tempdir().unwrap().path(),
        )
        .env("PROCTOR_REVIEW_CONFIG", "/nonexistent/config.toml")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("token expired on 2026-01-01"), "{err}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("\u{1b}[?1049h"),
        "the alternate screen was never entered"
    );
}

#[test]
fn admin_commands_refuse_a_database_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("typo.sqlite3");
    let out = std::process::Command::new(BIN)
        .args([
            "reviewer",
            "add",
            "--username",
            "ada",
            "--email",
            "ada@x.edu",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not exist") && err.contains("--create"),
        "{err}"
    );
    assert!(!db.exists(), "no database was made");

    let out = std::process::Command::new(BIN)
        .args([
            "reviewer",
            "add",
            "--username",
            "ada",
            "--email",
            "not-an-email",
            "--create",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--email"));
}

/// Whether `rx` (a followed event stream) ends within `within`: events still arriving are
/// read past.
async fn stream_ends(rx: &mut tokio::sync::mpsc::UnboundedReceiver<()>, within: Duration) -> bool {
    tokio::time::timeout(within, rx.recv()).await.is_ok()
}

/// Follows `api`'s event stream; the receiver hears once when the stream ends.
fn follow_until_end(
    api: proctor_review::client::ApiClient,
) -> tokio::sync::mpsc::UnboundedReceiver<()> {
    let (opened_tx, opened_rx) = std::sync::mpsc::channel();
    let (end_tx, end_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _ = api
            .events(
                None,
                move || {
                    let _ = opened_tx.send(());
                },
                |_| {},
            )
            .await;
        let _ = end_tx.send(());
    });
    opened_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the stream opens");
    end_rx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_or_withdrawing_cuts_signed_links_and_live_streams() {
    let ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "80"]);
    let mira = ours.api(&ours.reviewer_in("mira", &[MIT], &[]));
    let rowan = ours.api(&ours.reviewer_in("rowan", &[MIT], &[]));
    let q = proctor_review::api::SessionQuery::default();
    let mut media = None;
    for row in mira.queue(&q).await.unwrap().items {
        media = mira
            .session(row.id)
            .await
            .unwrap()
            .media
            .first()
            .map(|m| m.id);
        if media.is_some() {
            break;
        }
    }
    let media = media.expect("a session with evidence");
    let job = mira.start_report(MIT).await.unwrap();
    let done = proctor_review::client::report::wait(&mira, MIT, job.id, |_| {})
        .await
        .unwrap();

    // Withdrawing the course: a link issued a moment before is refused, and the stream
    // ends (a console reconnects, and then sees only what it may).
    let link = mira.media_link(media).await.unwrap();
    let report = mira.report_link(done.id).await.unwrap();
    assert!(mira.fetch_signed(&link.url, 1 << 20).await.is_ok());
    assert!(mira.fetch_signed(&report.url, 1 << 20).await.is_ok());
    let mut ended = follow_until_end(mira.clone());
    ours.cli(&[
        "reviewer",
        "withdraw",
        "--username",
        "mira",
        "--course",
        MIT,
    ]);
    assert!(mira.fetch_signed(&link.url, 1 << 20).await.is_err());
    assert!(mira.fetch_signed(&report.url, 1 << 20).await.is_err());
    assert!(
        stream_ends(&mut ended, Duration::from_secs(2)).await,
        "the stream ends once the course is withdrawn"
    );

    // Revoking: the same for every link and stream of the reviewer.
    let link = rowan.media_link(media).await.unwrap();
    assert!(rowan.fetch_signed(&link.url, 1 << 20).await.is_ok());
    let mut ended = follow_until_end(rowan.clone());
    ours.cli(&["reviewer", "revoke", "--username", "rowan"]);
    let refused = rowan.fetch_signed(&link.url, 1 << 20).await.unwrap_err();
    assert!(
        refused.to_string().contains("may no longer sign in"),
        "{refused}"
    );
    assert!(
        stream_ends(&mut ended, Duration::from_secs(2)).await,
        "the stream ends once the reviewer is revoked"
    );
}
