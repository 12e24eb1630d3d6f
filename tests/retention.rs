//! Retention over the real server (issue #28): a dry run lists what is past its period, the
//! run deletes the records, the files and their stills of decided sessions only, each with
//! a history entry, and the history still verifies. (Which sessions qualify, over status ×
//! age on both databases, is the store contract's retention test.)

mod common;

use common::peer::Ours;
use common::sessions::{attention, decide};
use proctor_review::domain::{MediaItem, MediaKind, Verdict};
use reqwest::header::CONTENT_TYPE;
use std::time::{Duration, Instant};

/// A PNG no other session has (its one pixel's colour is `n`).
fn unique_png(n: u8) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(1, 1, image::Rgb([n, 7, 9]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn upload(ours: &Ours, token: &str, session: i64, png: Vec<u8>) -> MediaItem {
    proctor_review::client::tls_ready();
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/sessions/{session}/media?kind=screenshot&captured_at=2026-11-13T19:12:00Z",
            ours.url
        ))
        .bearer_auth(token)
        .header(CONTENT_TYPE, "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn decided_sessions_lose_their_evidence_with_a_history_entry_and_nothing_else_does() {
    // 0d: a session's evidence is past its period as soon as it is decided.
    let ours = Ours::start_with(&[
        "--lms-sync-secs",
        "0",
        "--seed-demo",
        "40",
        "--keep-evidence",
        "0d",
        "--job-poll-ms",
        "100",
    ]);
    let service = ours.reviewer("pt", "pt@example.edu", "service");
    let api = ours.api(&ours.reviewer("ada", "ada@example.edu", "reviewer"));
    let rows = attention(&api, 2).await;
    let (decided, undecided) = (&rows[0], &rows[1]);
    let mine = upload(&ours, &service, decided.id, unique_png(1)).await;
    let kept = upload(&ours, &service, undecided.id, unique_png(2)).await;
    let media = ours.dir.path().join("media");
    let file_of = |m: &MediaItem| media.join(&m.sha256[..2]).join(&m.sha256);
    assert!(file_of(&mine).exists() && file_of(&kept).exists());
    decide(&api, decided, Verdict::Pass, "nothing wrong").await;

    // The dry run lists the decided session and deletes nothing.
    let db = ours.db.to_str().unwrap();
    let listed = ours.cli(&["evidence", "expire", "--dry-run", "--keep-evidence", "0d"]);
    assert!(
        listed.contains(&format!("session {}\t", decided.id))
            && !listed.contains(&format!("session {}\t", undecided.id))
            && listed.contains("1 session(s) past their retention period")
            && listed.contains("(dry run: nothing deleted)"),
        "{listed}"
    );
    assert!(file_of(&mine).exists(), "a dry run deletes nothing ({db})");

    // The run, now instead of tomorrow: the running server deletes.
    let queued = ours.cli(&["evidence", "expire"]);
    assert!(queued.contains("retention queued to run now"), "{queued}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let detail = loop {
        let d = api.session(decided.id).await.unwrap();
        if d.history.iter().any(|h| h.reviewer == "retention") {
            break d;
        }
        assert!(Instant::now() < deadline, "not deleted:\n{}", ours.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        detail
            .media
            .iter()
            .all(|m| m.kind == MediaKind::OnboardingPhoto),
        "{:?}",
        detail.media
    );
    let entry = detail.history.last().unwrap();
    assert!(entry.evidence_deleted);
    assert!(
        entry.reason.contains("retention period (0d)") && entry.reason.contains("screenshot"),
        "{}",
        entry.reason
    );
    // Its own file is gone; what another session still uses stays.
    assert!(!file_of(&mine).exists());
    assert!(file_of(&kept).exists());
    let other = api.session(undecided.id).await.unwrap();
    assert!(other.media.iter().any(|m| m.id == kept.id));
    assert!(other.history.is_empty());
    // The decision stays, and the whole history verifies.
    assert!(
        detail
            .history
            .iter()
            .any(|h| h.verdict == Some(Verdict::Pass))
    );
    let verified = ours.cli(&["audit", "verify"]);
    assert!(verified.starts_with("ok: "), "{verified}");
    let log = ours.log();
    assert!(
        log.contains("retention: evidence past its period deleted"),
        "{log}"
    );
    // Learner data stays out of the log.
    let learner = &detail.row.learner;
    assert!(!log.contains(&learner.email), "{log}");
}
