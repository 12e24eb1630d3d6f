//! The decision history is append-only and tamper-evident (issue #8): `audit verify` checks
//! the hash chain and names the first entry someone changed behind the server's back.

mod common;

use common::peer::{BIN, Ours};
use proctor_review::api::{DecisionRequest, SessionQuery};
use proctor_review::domain::Verdict;
use std::process::Command;

fn verify(db: &std::path::Path) -> (bool, String) {
    verify_with(db, &[])
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

/// Someone who can write the database but has not the audit key (issue #22): a rehash,
/// a truncation, a status changed behind the history's back and a forged erasure are
/// each named.
#[tokio::test]
async fn a_database_only_attacker_cannot_rewrite_truncate_or_forge_the_history() {
    let mut ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "120"]);
    let api = ours.api(&ours.reviewer("alice", "alice@example.edu", "reviewer"));
    let q = SessionQuery {
        status: "second_review_required".into(),
        ..Default::default()
    };
    for s in api.sessions(2, &q).await.unwrap().items.into_iter().take(3) {
        api.decide(
            s.id,
            &DecisionRequest {
                verdict: Verdict::Fail,
                reason: "phone in view".into(),
                expected_status: Some(s.status),
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    }
    ours.terminate();
    assert!(
        std::path::Path::new(&format!("{}.audit-key", ours.db.display())).exists(),
        "the key is beside the database, not in it"
    );
    let head = Command::new(BIN)
        .args(["audit", "head", "--db"])
        .arg(&ours.db)
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).into_owned();
    assert!(head.contains("entries: 3"), "{head}");
    let noted = head
        .lines()
        .find_map(|l| l.strip_prefix("head: "))
        .unwrap()
        .to_owned();
    let (ok, out) = verify(&ours.db);
    assert!(ok && out.contains("verified and sealed"), "{out}");

    // Each attack on its own copy of the intact database (its key beside it).
    let attack = |name: &str, sql: &str, rehash: bool| {
        let copy = ours.dir.path().join(format!("{name}.sqlite3"));
        for suffix in ["", "-wal"] {
            let from = format!("{}{suffix}", ours.db.display());
            if std::path::Path::new(&from).exists() {
                std::fs::copy(&from, format!("{}{suffix}", copy.display())).unwrap();
            }
        }
        std::fs::copy(
            format!("{}.audit-key", ours.db.display()),
            format!("{}.audit-key", copy.display()),
        )
        .unwrap();
        let db = rusqlite::Connection::open(&copy).unwrap();
        db.execute_batch(
            "PRAGMA foreign_keys = OFF;
             DROP TRIGGER decisions_append_only;
             DROP TRIGGER decisions_no_delete;",
        )
        .unwrap();
        db.execute_batch(sql).unwrap();
        if rehash {
            rehash_all(&db);
        }
        copy
    };

    // A Fail turned into a Pass and every later hash recomputed, as anyone can: the plain
    // chain agrees, the seal does not.
    let copy = attack(
        "rehashed",
        "UPDATE decisions SET grade_after = grade_before, verdict = 'pass' WHERE id = 2;",
        true,
    );
    let (ok, out) = verify(&copy);
    assert!(!ok);
    assert!(
        out.contains("BROKEN at decision 2") && out.contains("without the audit key"),
        "{out}"
    );
    let copy = attack(
        "unsealed",
        "UPDATE decisions SET grade_after = grade_before WHERE id = 2;
         DELETE FROM audit_seals WHERE decision_id >= 2;",
        true,
    );
    let (ok, out) = verify(&copy);
    assert!(!ok && out.contains("carries no seal"), "{out}");

    // The newest entry removed: the chain is shorter and intact, but the head noted
    // earlier is gone.
    let copy = attack(
        "truncated",
        "DELETE FROM audit_seals WHERE decision_id = 3; DELETE FROM decisions WHERE id = 3;",
        false,
    );
    let (ok, _) = verify(&copy);
    assert!(ok, "without a noted head, a shorter history cannot be told");
    let (ok, out) = verify_with(&copy, &["--expect-head", &noted]);
    assert!(!ok && out.contains("entries were removed"), "{out}");
    let (ok, out) = verify_with(&ours.db, &["--expect-head", &noted]);
    assert!(ok, "{out}");

    // A decided session's status set back behind the history's back.
    let copy = attack(
        "status",
        "UPDATE sessions SET status = 'verified'
         WHERE id = (SELECT session_id FROM decisions WHERE id = 1);",
        false,
    );
    let (ok, out) = verify(&copy);
    assert!(
        !ok && out.contains("its status was changed behind the history's back"),
        "{out}"
    );

    // A reason erased as if the learner had been retired.
    let copy = attack(
        "erasure",
        "UPDATE decisions SET reason = 'erased: learner retired' WHERE id = 1;",
        false,
    );
    let (ok, out) = verify(&copy);
    assert!(!ok && out.contains("the erasure is forged"), "{out}");

    // Without the key there is nothing to verify the seals with: said, not skipped.
    std::fs::remove_file(format!("{}.audit-key", copy.display())).unwrap();
    let (ok, out) = verify(&copy);
    assert!(!ok && out.contains("--audit-key-file"), "{out}");
}

fn verify_with(db: &std::path::Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["audit", "verify", "--db"])
        .arg(db)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Recomputes every entry's link and hash, as anyone who can read the code can.
fn rehash_all(db: &rusqlite::Connection) {
    use proctor_review::domain::audit::{AuditFields, GENESIS, entry_hash};
    let rows: Vec<AuditFields> = db
        .prepare(
            "SELECT id, session_id, reviewer_id, decided_at, verdict, reason_sha256,
                    status_before, status_after, review_status_before, review_status_after,
                    grade_possible, grade_before, grade_after, learner_emailed
             FROM decisions ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok(AuditFields {
                id: r.get(0)?,
                session_id: r.get(1)?,
                reviewer_id: r.get(2)?,
                decided_at: r.get(3)?,
                verdict: r.get(4)?,
                reason_sha256: r.get(5)?,
                status_before: r.get(6)?,
                status_after: r.get(7)?,
                review_status_before: r.get(8)?,
                review_status_after: r.get(9)?,
                grade_possible: r.get(10)?,
                grade_before: r.get(11)?,
                grade_after: r.get(12)?,
                learner_emailed: r.get(13)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev = GENESIS.to_owned();
    for fields in rows {
        let hash = entry_hash(&prev, &fields);
        db.execute(
            "UPDATE decisions SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
            rusqlite::params![fields.id, prev, hash],
        )
        .unwrap();
        prev = hash;
    }
}
