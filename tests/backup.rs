//! Backups (issue #28): `db backup` copies a SQLite database while eight reviewers decide,
//! and `db restore` brings it back as a database whose history verifies, whose counts match
//! a recount, and which holds every decision acknowledged before the backup began.

mod common;

use common::peer::Ours;
use common::sessions::attention;
use proctor_review::api::DecisionRequest;
use proctor_review::domain::{AttemptStatus, Verdict};
use proctor_review::store::prelude::*;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_proctor-review"))
        .args(args)
        .output()
        .expect("run the cli")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_decision_load_restores_with_a_verified_history() {
    let ours = Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "400"]);
    let token = ours.reviewer("ada", "ada@example.edu", "admin");
    let sessions = attention(&ours.api(&token), 80).await;
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let (started, mut first_done) = tokio::sync::mpsc::unbounded_channel();

    // Eight reviewers decide, each their share, while the backup is taken.
    let load: Vec<_> = sessions
        .chunks(10)
        .map(|share| {
            let (api, share) = (ours.api(&token), share.to_vec());
            let (acknowledged, started) = (acknowledged.clone(), started.clone());
            tokio::spawn(async move {
                for s in share {
                    let req = DecisionRequest {
                        verdict: Verdict::Fail,
                        reason: "backup under load".into(),
                        expected_status: Some(AttemptStatus::SecondReviewRequired),
                        idempotency_key: None,
                    };
                    api.decide(s.id, &req).await.expect("decided");
                    acknowledged.lock().unwrap().insert(s.id);
                    let _ = started.send(());
                }
            })
        })
        .collect();
    drop(started);
    // A few decisions in, the backup begins; what was acknowledged by then must be in it.
    for _ in 0..8 {
        first_done.recv().await.expect("decisions under way");
    }
    let before: HashSet<i64> = acknowledged.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.sqlite3");
    let db = ours.db.to_string_lossy().into_owned();
    let copy_arg = copy.to_string_lossy().into_owned();
    let out =
        tokio::task::spawn_blocking(move || cli(&["db", "backup", "--db", &db, "--to", &copy_arg]))
            .await
            .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("decisions verified and sealed"), "{said}");
    assert!(said.contains("counts match"), "{said}");
    for task in load {
        task.await.unwrap();
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "learner data: the owner's alone");
    }

    // A second backup to the same file is refused: nothing is ever overwritten.
    let db = ours.db.to_string_lossy().into_owned();
    let again = cli(&["db", "backup", "--db", &db, "--to", &copy.to_string_lossy()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists; a backup goes to a new file"));

    // Restored into a new file, it verifies and holds every decision acknowledged before.
    let restored = dir.path().join("restored.sqlite3");
    let key = proctor_review::embedded::audit_key_path(&ours.db);
    let out = cli(&[
        "db",
        "restore",
        "--from",
        &copy.to_string_lossy(),
        "--db",
        &restored.to_string_lossy(),
        "--audit-key-file",
        &key.to_string_lossy(),
    ]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.starts_with("ok: restored"), "{said}");
    let store = proctor_review::store::sqlite::SqliteStore::open(&restored).unwrap();
    for id in &before {
        let d = store.session(*id).await.unwrap();
        assert_eq!(
            d.row.status,
            AttemptStatus::Rejected,
            "session {id} was decided before the backup began"
        );
    }
    let verified = cli(&[
        "audit",
        "verify",
        "--db",
        &restored.to_string_lossy(),
        "--audit-key-file",
        &key.to_string_lossy(),
    ]);
    assert!(
        String::from_utf8_lossy(&verified.stdout).starts_with("ok: "),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}
