//! Export Data against a real server: one session's folder, its replacement, hostile names,
//! and the Sessions table exactly as the list shows it.

mod common;

use common::{files_below, start_in};
use proctor_review::api::{SessionQuery, SortKey};
use proctor_review::client::ApiClient;
use proctor_review::domain::{MediaKind, SessionDetail};
use proctor_review::export;
use std::os::unix::fs::PermissionsExt;

async fn attention(c: &ApiClient) -> SessionDetail {
    let q = SessionQuery {
        status: "second_review_required".into(),
        ..Default::default()
    };
    let row = c.sessions(2, &q).await.unwrap().items.remove(0);
    c.session(row.id).await.unwrap()
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_session_exports_its_images_violations_and_data_and_is_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path()).await;
    let c = ApiClient::new(&server.url, &server.token).unwrap();
    let d = attention(&c).await;
    let root = dir.path().join("exports");
    let mut steps = Vec::new();
    let folder = export::session(&c, &d, &root, false, |done, total| {
        steps.push((done, total))
    })
    .await
    .unwrap();
    assert_eq!(
        folder,
        root.join("course-v1MITx6.0001x2026_Fall")
            .join("Midterm_Exam")
            .join(format!("{}-{}", d.row.learner.username, d.attempt_code))
    );
    let stills = d
        .media
        .iter()
        .filter(|m| m.kind != MediaKind::Video)
        .count();
    assert_eq!(
        steps.last(),
        Some(&(stills + 2, stills + 2)),
        "progress reaches the end"
    );
    let files = files_below(&folder);
    assert_eq!(files.len(), stills + 2, "{files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    assert_eq!(mode(&folder), 0o700);
    let csv = std::fs::read_to_string(folder.join("violations.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("start,stop,kind,status,comment,image"));
    assert_eq!(lines.count(), d.violations.len());
    let shot = d.screenshot_of(d.violations[0].id).unwrap();
    assert!(csv.contains(&format!("screenshot-{}.jpg", shot.id)));
    assert!(folder.join(format!("screenshot-{}.jpg", shot.id)).exists());
    let json: SessionDetail =
        serde_json::from_slice(&std::fs::read(folder.join("session.json")).unwrap()).unwrap();
    assert_eq!(json, d);

    // A second export, with the clips, replaces the folder as a whole: nothing stale,
    // nothing half-written; each violation's clip is there, 0600, the file itself.
    std::fs::write(folder.join("stale.txt"), "old").unwrap();
    export::session(&c, &d, &root, true, |_, _| {})
        .await
        .unwrap();
    assert!(!folder.join("stale.txt").exists());
    let clips: Vec<_> = d
        .media
        .iter()
        .filter(|m| m.kind == MediaKind::Video && m.violation_id.is_some())
        .collect();
    assert!(!clips.is_empty());
    for m in &clips {
        let ext = if m.content_type == proctor_review::domain::ContentType::Mp4 {
            "mp4"
        } else {
            "webm"
        };
        let path = folder.join(format!("clip-{}-{}.{ext}", m.violation_id.unwrap(), m.id));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(bytes.len() as u64, m.size);
        assert_eq!(
            proctor_review::domain::ContentType::sniff(&bytes),
            Some(m.content_type)
        );
        assert_eq!(mode(&path), 0o600);
    }
    assert_eq!(files_below(&folder).len(), stills + 2 + clips.len());
    let leftovers: Vec<_> = std::fs::read_dir(folder.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[tokio::test]
async fn hostile_names_stay_inside_the_export_folder() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path()).await;
    let c = ApiClient::new(&server.url, &server.token).unwrap();
    let mut d = attention(&c).await;
    d.row.learner.username = "../../../../etc".into();
    d.exam_name = "../..".into();
    d.course_id = "/".into();
    let root = dir.path().join("exports");
    let folder = export::session(&c, &d, &root, true, |_, _| {})
        .await
        .unwrap();
    assert!(folder.starts_with(&root), "{}", folder.display());
    assert_eq!(
        folder,
        root.join("_")
            .join("_")
            .join(format!("etc-{}", d.attempt_code))
    );
    assert!(
        files_below(dir.path())
            .iter()
            .all(|f| f.starts_with(dir.path()))
    );
}

#[tokio::test]
async fn the_table_export_is_every_row_in_the_lists_order() {
    let dir = tempfile::tempdir().unwrap();
    // 600 sessions an exam: more than one page of the API, so every page must be fetched.
    let server = proctor_review::embedded::start(proctor_review::embedded::EmbeddedOptions {
        db: dir.path().join("review.sqlite3"),
        mail: proctor_review::server::MailTransport::Folder(dir.path().join("outbox")),
        reset: false,
        media_dir: dir.path().join("media"),
        reports_dir: dir.path().join("reports"),
        undo_grace: time::Duration::ZERO,
        data: proctor_review::demo::generate(2400, 7).unwrap(),
    })
    .await
    .unwrap();
    let c = ApiClient::new(&server.url, &server.token).unwrap();
    let q = SessionQuery {
        sort: SortKey::Learner,
        desc: false,
        q: "a".into(),
        ..Default::default()
    };
    let path = dir.path().join("out").join("sessions.csv");
    let n = export::table(&c, export::TableOf::Exam(3), &Default::default(), &q, &path)
        .await
        .unwrap();
    let mut api = c.sessions(3, &q).await.unwrap();
    assert!(
        api.total > proctor_review::api::MAX_PAGE as u64,
        "{}",
        api.total
    );
    while (api.items.len() as u64) < api.total {
        let more = SessionQuery {
            offset: api.items.len() as u64,
            ..q.clone()
        };
        api.items.extend(c.sessions(3, &more).await.unwrap().items);
    }
    assert_eq!(n, api.total);
    assert_eq!(api.items.len() as u64, api.total);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let username = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "username")
        .unwrap();
    let names: Vec<String> = r
        .records()
        .map(|x| x.unwrap()[username].to_owned())
        .collect();
    let expected: Vec<String> = api
        .items
        .iter()
        .map(|r| r.learner.username.clone())
        .collect();
    assert_eq!(names, expected, "same rows, same order as the list");
    assert_eq!(mode(&path), 0o600);
}

/// Issue #23: the queue exports too, in the console's words (with the stored code beside
/// them), each row with its exam and course.
#[tokio::test]
async fn the_queue_exports_in_the_console_s_words_with_exam_and_course() {
    let d = common::start_demo().await;
    let c = ApiClient::new(&d.server.url, &d.server.token).unwrap();
    let names: export::ExamNames = c
        .courses()
        .await
        .unwrap()
        .into_iter()
        .flat_map(|course| {
            course
                .exams
                .into_iter()
                .map(move |e| (e.exam.id, (e.exam.exam_name, e.exam.course_id)))
        })
        .collect();
    let path = d.dir.path().join("out").join("queue.csv");
    let q = SessionQuery::default();
    let n = export::table(&c, export::TableOf::Queue, &names, &q, &path)
        .await
        .unwrap();
    assert_eq!(n, c.queue(&q).await.unwrap().total);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        assert_eq!(&row[col("status")], "Require Attention");
        assert_eq!(&row[col("status_code")], "second_review_required");
        assert!(!row[col("exam")].is_empty() && row[col("course")].starts_with("course-v1:"));
        assert!(row[col("reviewed_by")].is_empty() && row[col("decided_at")].is_empty());
    }
    assert_eq!(export::rows_said(1), "1 row");

    // A decided row says its grade in force, who decided and when.
    let s = c.queue(&q).await.unwrap().items.remove(0);
    common::sessions::decide(&c, &s, proctor_review::domain::Verdict::Fail, "phone").await;
    let path = d.dir.path().join("out").join("exam.csv");
    export::table(&c, export::TableOf::Exam(s.exam_id), &names, &q, &path)
        .await
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let row = r
        .records()
        .map(Result::unwrap)
        .find(|row| row[col("username")] == *s.learner.username)
        .unwrap();
    assert_eq!(&row[col("status")], "Failed");
    assert_eq!(&row[col("grade")], "0");
    assert!(!row[col("grade_possible")].is_empty());
    assert!(row[col("reviewed_by")].starts_with("demo-reviewer"));
    assert!(
        row[col("decided_at")].starts_with("20"),
        "{}",
        &row[col("decided_at")]
    );
}
