//! The decision history is append-only and tamper-evident (issue #8): `audit verify` checks
//! the hash chain and names the first entry someone changed behind the server's back.

mod common;

use common::peer::{BIN, Ours};
use proctor_review::api::{DecisionRequest, SessionQuery};
use proctor_review::domain::Verdict;
use std::process::Command;

fn verify(db: &std::path::Path) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["audit", "verify", "--db"])
        .arg(db)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn the_chain_verifies_refuses_edits_and_names_a_tampered_entry() {
    let mut ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "120"]);
    let api = ours.api(&ours.reviewer("alice", "alice@example.edu", "reviewer"));
    let q = SessionQuery {
        status: "second_review_required".into(),
        ..Default::default()
    };
    let mut decided = Vec::new();
    for exam in 1..=4 {
        for s in api
            .sessions(exam, &q)
            .await
            .unwrap()
            .items
            .into_iter()
            .take(2)
        {
            api.decide(
                s.id,
                &DecisionRequest {
                    verdict: Verdict::Fail,
                    reason: format!("phone in view, session {}", s.id),
                    expected_status: Some(s.status),
                    idempotency_key: None,
                },
            )
            .await
            .unwrap();
            decided.push(s.id);
        }
    }
    assert!(decided.len() >= 4);
    ours.terminate();

    let (ok, out) = verify(&ours.db);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("ok: {} decisions verified", decided.len())),
        "{out}"
    );

    let db = rusqlite::Connection::open(&ours.db).unwrap();
    // Append-only: the database itself refuses edits and deletions.
    let edit = db.execute("UPDATE decisions SET grade_after = 20 WHERE id = 2", []);
    assert!(edit.unwrap_err().to_string().contains("append-only"));
    let delete = db.execute("DELETE FROM decisions WHERE id = 3", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));

    // Someone with the file drops the guard and turns a Fail's grade back: named.
    db.execute_batch(
        "DROP TRIGGER decisions_append_only;
         UPDATE decisions SET grade_after = grade_before, verdict = 'pass' WHERE id = 2;",
    )
    .unwrap();
    let (ok, out) = verify(&ours.db);
    assert!(!ok);
    assert!(
        out.contains("BROKEN at decision 2") && out.contains("changed after it was written"),
        "{out}"
    );

    // Removing an entry breaks the link of the next one.
    db.execute_batch(
        "UPDATE decisions SET grade_after = 0, verdict = 'fail' WHERE id = 2;
         PRAGMA foreign_keys = OFF;
         DROP TRIGGER decisions_no_delete;
         DELETE FROM decisions WHERE id = 3;",
    )
    .unwrap();
    let (ok, out) = verify(&ours.db);
    assert!(!ok);
    assert!(
        out.contains("BROKEN at decision 4") && out.contains("removed"),
        "{out}"
    );
}
