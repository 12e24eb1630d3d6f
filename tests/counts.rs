//! The Quiz List's counts are kept in a table (issue #10); `db check` recounts them,
//! names any difference and, with `--repair`, puts it right.

use proctor_review::demo;
use proctor_review::domain::access::CourseScope;
use proctor_review::store::prelude::*;
use proctor_review::store::sqlite::SqliteStore;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_proctor-review");

fn check(db: &std::path::Path, repair: bool) -> (bool, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["db", "check", "--db"]).arg(db);
    if repair {
        cmd.arg("--repair");
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn db_check_names_drift_and_repair_recounts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.sqlite3");
    let store = SqliteStore::open(&db).unwrap();
    store.seed(demo::embedded().unwrap()).await.unwrap();
    let verified =
        |courses: &[proctor_review::domain::CourseSummary]| courses[0].exams[0].counts.passed;
    let truth = verified(&store.courses(CourseScope::All).await.unwrap());
    drop(store);

    let (ok, out) = check(&db, false);
    assert!(ok && out.contains("ok:"), "{out}");

    // Someone edits the table behind the server's back.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE session_counts SET n = n + 5 WHERE exam_id = 1 AND status = 'verified'",
        [],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(
        verified(&store.courses(CourseScope::All).await.unwrap()),
        truth + 5
    );
    drop(store);

    let (ok, out) = check(&db, false);
    assert!(!ok, "drift is a failure: {out}");
    assert!(
        out.contains(&format!(
            "exam 1 verified: counted {}, sessions {truth}",
            truth + 5
        )),
        "{out}"
    );
    assert!(out.contains("--repair"), "says how to fix it: {out}");

    let (ok, out) = check(&db, true);
    assert!(ok && out.contains("repaired: 1 counts recounted"), "{out}");
    let (ok, out) = check(&db, false);
    assert!(ok && out.contains("ok:"), "{out}");
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(
        verified(&store.courses(CourseScope::All).await.unwrap()),
        truth
    );
}
