//! The Proctored Exam Results report over real HTTP: the job's lifecycle, the file, and
//! its expiring links.

mod common;

use common::start_in;
use proctor_review::client::ApiClient;
use proctor_review::client::report as fetch;
use proctor_review::domain::{JobKind, JobState};
use proctor_review::embedded::link_key_path;
use proctor_review::media::LinkKey;
use proctor_review::store::prelude::*;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use time::{Duration, OffsetDateTime};

const COURSE: &str = "course-v1:MITx+6.0001x+2026_Fall";

#[tokio::test]
async fn a_report_is_queued_once_survives_a_restart_and_lists_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path()).await;
    let c = ApiClient::new(&server.url, &server.token).unwrap();
    let me = c.me().await.unwrap().reviewer;
    // Queued, but not due until tomorrow: no worker takes it while the test looks (a worker
    // finishing its startup pass would otherwise run it at once).
    let now = time::OffsetDateTime::now_utc();
    let (now, tomorrow) = (
        proctor_review::store::timefmt::to_sql(now),
        proctor_review::store::timefmt::to_sql(now + time::Duration::days(1)),
    );
    let db = rusqlite::Connection::open(dir.path().join("review.sqlite3")).unwrap();
    db.execute(
        "INSERT INTO jobs (kind, payload, state, next_attempt_at, course_id, requested_by, created)
         VALUES ('report', '{}', 'queued', ?1, ?2, ?3, ?4)",
        rusqlite::params![tomorrow, COURSE, me.id, now],
    )
    .unwrap();
    let first = server.store.job(db.last_insert_rowid()).await.unwrap();
    drop(db);
    assert_eq!(first.state, JobState::Queued);
    let refused = reqwest::Client::new()
        .post(format!("{}/api/v1/courses/{COURSE}/reports", server.url))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("already being created"),
        "{body}"
    );
    let list = c.reports(COURSE).await.unwrap();
    assert_eq!(list.pending.len(), 1);
    assert_eq!(
        list.pending[0].requested_by.as_deref(),
        Some("demo-reviewer")
    );

    // The server stops while the job runs; the next one starts it again and finishes it.
    server.stop().await;
    let db = rusqlite::Connection::open(dir.path().join("review.sqlite3")).unwrap();
    db.execute(
        "UPDATE jobs SET state = 'running', attempts = 1, progress = 0.4,
             next_attempt_at = created WHERE id = ?1",
        [first.id],
    )
    .unwrap();
    drop(db);
    let server = start_in(dir.path()).await;
    let c = ApiClient::new(&server.url, &server.token).unwrap();
    let done = fetch::wait(&c, COURSE, first.id, |_| {}).await.unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.progress, 1.0);
    assert_eq!(done.attempts, 2, "picked up again after the restart");
    let report = done.report.clone().unwrap();
    assert!(
        report
            .name
            .starts_with("MITx_6.0001x_2026_Fall_proctored_exam_results_report_"),
        "{}",
        report.name
    );
    assert_eq!(report.rows, 60, "every attempt in the course's three exams");

    let second = fetch::start(&c, COURSE).await.unwrap();
    assert_ne!(second.id, first.id);
    fetch::wait(&c, COURSE, second.id, |_| {}).await.unwrap();
    let list = c.reports(COURSE).await.unwrap();
    assert_eq!(
        list.available.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![second.id, first.id],
        "newest first"
    );
    assert!(list.pending.is_empty());
}

#[tokio::test]
async fn the_file_has_the_platforms_columns_and_every_attempt_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path()).await;
    let c = ApiClient::new(&server.url, &server.token).unwrap();
    let job = fetch::start(&c, COURSE).await.unwrap();
    let done = fetch::wait(&c, COURSE, job.id, |_| {}).await.unwrap();
    let out = dir.path().join("downloads");
    let path = fetch::download(&c, &done, &out).await.unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(
        "course_id,provider,track,exam_name,username,email,attempt_code,allowed_time_limit_mins,\
is_sample_attempt,started_at,completed_at,status,review_status,Suspicious Count,\
Suspicious Comments,Rules Violation Count,Rules Violation Comments\r\n"
    ));
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 60);
    let exams: Vec<&str> = records.iter().map(|r| &r[3]).collect();
    assert!(
        exams.windows(2).all(|w| w[0] <= w[1]),
        "sorted by exam name: {exams:?}"
    );
    // Within an exam, newest attempt first — as the database dates them.
    let db = rusqlite::Connection::open(dir.path().join("review.sqlite3")).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT s.attempt_code FROM sessions s JOIN exams e ON e.id = s.exam_id
             WHERE e.course_id = ?1 ORDER BY e.exam_name, s.created DESC",
        )
        .unwrap();
    let expected: Vec<String> = stmt
        .query_map([COURSE], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let codes: Vec<String> = records.iter().map(|r| r[6].to_owned()).collect();
    assert_eq!(codes, expected);
    for r in &records {
        assert_eq!(&r[0], COURSE);
        assert!(matches!(&r[8], "True" | "False"));
        if &r[3] == "Proctoring Onboarding" {
            assert_eq!(
                (&r[12], &r[13], &r[15]),
                ("None", "0", "0"),
                "practice rows have no review data"
            );
        }
        let suspicious: usize = r[13].parse().unwrap();
        assert_eq!(suspicious == 0, r[14].is_empty());
    }
    // The reviewers' comments are there, both kinds.
    assert!(records.iter().any(|r| &r[13] != "0"), "suspicious comments");
    assert!(
        records.iter().any(|r| &r[15] != "0"),
        "rules violation comments"
    );
    assert!(
        records.iter().any(|r| r[9].ends_with("+00:00")),
        "Python datetimes"
    );
    assert!(
        records.iter().any(|r| &r[9] == "None"),
        "never started: None"
    );

    // The same file through the link, as a browser would get it.
    let link = c.report_link(job.id).await.unwrap();
    let resp = reqwest::get(&link.url).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[CONTENT_TYPE], "text/csv; charset=utf-8");
    let disposition = resp.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"{}\"", done.report.unwrap().name)
    );
    assert_eq!(resp.text().await.unwrap(), text);
}

#[tokio::test]
async fn report_links_expire_and_cannot_be_altered_or_borrowed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path()).await;
    let c = ApiClient::new(&server.url, &server.token).unwrap();
    let job = fetch::start(&c, COURSE).await.unwrap();
    fetch::wait(&c, COURSE, job.id, |_| {}).await.unwrap();
    let link = c.report_link(job.id).await.unwrap();
    let left = link.expires_at - OffsetDateTime::now_utc();
    assert!(
        left > Duration::minutes(4) && left <= Duration::minutes(5),
        "{left}"
    );
    let status = |url: String| async move { reqwest::get(url).await.unwrap().status() };
    assert_eq!(
        status(link.url.replace("reviewer=", "reviewer=7")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(link.url.replace("expires=", "expires=9")).await,
        StatusCode::FORBIDDEN
    );

    let key = LinkKey::load_or_create(&link_key_path(&dir.path().join("review.sqlite3"))).unwrap();
    let me = c.me().await.unwrap().reviewer.id;
    let file = |l: proctor_review::media::SignedLink| {
        format!(
            "{}/api/v1/reports/{}/file?{}",
            server.url,
            job.id,
            l.query()
        )
    };
    let stale = key.sign(
        proctor_review::media::Purpose::Report,
        job.id,
        OffsetDateTime::now_utc() - Duration::seconds(1),
        me,
    );
    let resp = reqwest::get(file(stale)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("expired"));
    // A media link's signature does not open a report with the same number.
    let media = key.sign(
        proctor_review::media::Purpose::Media,
        job.id,
        OffsetDateTime::now_utc() + Duration::minutes(1),
        me,
    );
    assert_eq!(status(file(media)).await, StatusCode::FORBIDDEN);
    let fresh = key.sign(
        proctor_review::media::Purpose::Report,
        job.id,
        OffsetDateTime::now_utc() + Duration::minutes(1),
        me,
    );
    assert_eq!(status(file(fresh)).await, StatusCode::OK);

    let missing = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/courses/course-v1:No+Such+Course/reports",
            server.url
        ))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_report_that_cannot_be_written_fails_with_its_reason_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Where the reports should go is a file, so the job cannot make its folder.
    std::fs::write(dir.path().join("reports"), "not a folder").unwrap();
    let server = start_in(dir.path()).await;
    let c = ApiClient::new(&server.url, &server.token).unwrap();
    let job = fetch::start(&c, COURSE).await.unwrap();
    let err = fetch::wait(&c, COURSE, job.id, |_| {}).await.unwrap_err();
    assert!(err.to_string().contains("cannot write the report"), "{err}");
    let jobs = server
        .store
        .jobs(JobKind::Report, Some(COURSE.into()))
        .await
        .unwrap();
    assert_eq!(jobs[0].state, JobState::Failed);
    assert!(jobs[0].report.is_none());
    let link = reqwest::Client::new()
        .post(format!("{}/api/v1/reports/{}/link", server.url, job.id))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        link.status(),
        StatusCode::NOT_FOUND,
        "no link to a report that failed"
    );
}
