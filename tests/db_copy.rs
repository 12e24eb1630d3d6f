//! `db copy` (issue #11): a SQLite installation moves into an empty PostgreSQL database
//! with every row, its decision history (the chain verifies on the target) and the emails
//! still waiting; a target holding data is refused. Skipped loudly without PostgreSQL,
//! unless PROCTOR_REVIEW_REQUIRE_PG is set (CI).

mod common;

use common::peer::{BIN, Ours};
use common::pg::TestDb;
use common::sessions::attention;
use proctor_review::api::DecisionRequest;
use proctor_review::domain::access::CourseScope;
use proctor_review::domain::email::MailState;
use proctor_review::domain::{AttemptStatus, Verdict};
use proctor_review::store::postgres::PgStore;
use proctor_review::store::prelude::*;
use proctor_review::store::sqlite::SqliteStore;
use std::process::Command;
use std::time::Duration;

fn copy(from: &std::path::Path, to: &str) -> std::process::Output {
    Command::new(BIN)
        .args(["db", "copy", "--from"])
        .arg(from)
        .args(["--to", to])
        .output()
        .expect("db copy")
}

#[tokio::test]
async fn the_demo_moves_to_postgres_with_its_history_and_waiting_emails() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    // Emails wait out an hour of undo grace: they are still queued when the copy runs.
    let mut ours = Ours::start_with(&["--seed-demo", "200", "--undo-grace-secs", "3600"]);
    let token = ours.reviewer("alice", "alice@example.edu", "admin");
    let api = ours.api(&token);
    let decided = attention(&api, 5).await;
    for s in &decided {
        api.decide(
            s.id,
            &DecisionRequest {
                verdict: Verdict::Fail,
                reason: format!("copied decision {}", s.id),
                expected_status: Some(AttemptStatus::SecondReviewRequired),
                idempotency_key: None,
            },
        )
        .await
        .expect("decided");
    }
    let courses = api.courses().await.unwrap();
    let before = api.session(decided[0].id).await.unwrap();
    ours.terminate();

    let out = copy(&ours.db, &db.url);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("sessions: 200 rows"), "{said}");
    assert!(said.contains("ok: copied; 5 decisions verified"), "{said}");

    let again = copy(&ours.db, &db.url);
    assert!(!again.status.success(), "a second copy is refused");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // The history stays sealed with the SQLite server's audit key: a server given another
    // key refuses to add to it, and says which key to give it.
    let key = format!("{}.audit-key", ours.db.display());
    let other = tempfile::tempdir().unwrap();
    let refused = Command::new(BIN)
        .args(["serve", "--db", &db.url, "--listen", "127.0.0.1:0"])
        .env("PROCTOR_REVIEW_DATA_DIR", other.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("sealed with another key") && err.contains("--audit-key-file"),
        "{err}"
    );
    let pg = Ours::on(
        &db.url,
        &[
            "--lms-sync-secs",
            "0",
            "--undo-grace-secs",
            "3600",
            "--audit-key-file",
            &key,
        ],
    );
    let api = pg.api(&token);
    assert_eq!(
        api.courses().await.unwrap(),
        courses,
        "the Quiz List's counts"
    );
    let after = api.session(decided[0].id).await.unwrap();
    assert_eq!(after.row.status, AttemptStatus::Rejected);
    assert_eq!(after.history.len(), 1);
    assert_eq!(after.history[0].reason, before.history[0].reason);
    assert_eq!(
        after.history[0].email.as_ref().map(|e| e.state),
        Some(MailState::Queued),
        "the waiting email came along"
    );
    assert_eq!(after.media.len(), before.media.len(), "evidence records");
    let verify = Command::new(BIN)
        .args(["audit", "verify", "--db", &db.url, "--audit-key-file", &key])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("ok: 5 decisions"),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    // The target goes on from there: a new decision joins the copied chain.
    let next = attention(&api, 1).await.remove(0);
    api.decide(
        next.id,
        &DecisionRequest {
            verdict: Verdict::Pass,
            reason: "after the move".into(),
            expected_status: Some(AttemptStatus::SecondReviewRequired),
            idempotency_key: None,
        },
    )
    .await
    .expect("decided on PostgreSQL");
    let verify = Command::new(BIN)
        .args(["audit", "verify", "--db", &db.url, "--audit-key-file", &key])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&verify.stdout).contains("ok: 6 decisions"));
}

const SESSIONS: usize = 6_000;

/// Several thousand sessions: enough for many insert batches per table (each is bounded by
/// PostgreSQL's 65,535 parameters) without seeding 100,000 on every `cargo test`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_database_copies_with_equal_counts() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.sqlite3");
    let sqlite = SqliteStore::open(&path).unwrap();
    sqlite
        .seed_batches(Box::new(
            proctor_review::demo::batches(SESSIONS, proctor_review::demo::DEMO_SEED).unwrap(),
        ))
        .await
        .unwrap();
    let pg = PgStore::connect(&db.url, Duration::from_secs(600))
        .await
        .unwrap();
    let copied = pg.copy_from_sqlite(&path).await.expect("copied");
    assert!(
        copied
            .tables
            .contains(&("sessions".into(), SESSIONS as u64))
    );
    assert_eq!(
        pg.courses(CourseScope::All).await.unwrap(),
        sqlite.courses(CourseScope::All).await.unwrap(),
        "every exam's counts"
    );
    assert_eq!(
        pg.media_count().await.unwrap(),
        sqlite.media_count().await.unwrap()
    );
    assert!(pg.check_counts(false).await.unwrap().is_empty());
}
