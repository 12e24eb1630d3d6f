//! The object store against a real S3 server (s3s-fs, issue #28): retention deletes from
//! the bucket, and a bucket that cannot be reached gives a clear error, loses nothing, and
//! works again when it is back. (Two servers sharing a bucket: `several_servers`.)

mod common;

use common::peer::Ours;
use common::s3::S3;
use common::sessions::{attention, decide};
use proctor_review::domain::{MediaItem, Verdict};
use reqwest::header::CONTENT_TYPE;
use std::time::{Duration, Instant};

fn png(n: u8) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(2, 2, image::Rgb([n, 3, 5]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn upload(ours: &Ours, token: &str, session: i64, body: Vec<u8>) -> reqwest::Response {
    proctor_review::client::tls_ready();
    reqwest::Client::new()
        .post(format!(
            "{}/api/v1/sessions/{session}/media?kind=screenshot&captured_at=2026-11-13T19:12:00Z",
            ours.url
        ))
        .bearer_auth(token)
        .header(CONTENT_TYPE, "image/png")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn ready(ours: &Ours) -> u16 {
    reqwest::get(format!("{}/readyz", ours.url))
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn server(s3: &S3) -> Ours {
    let url = s3.url("inst");
    let env = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Ours::start_with_env(
        &env,
        &[
            "--lms-sync-secs",
            "0",
            "--seed-demo",
            "40",
            "--object-store",
            &url,
            "--keep-evidence",
            "0d",
            "--job-poll-ms",
            "100",
        ],
    )
}

#[tokio::test]
async fn retention_deletes_from_the_bucket() {
    let Some(s3) = S3::start() else { return };
    let ours = server(&s3);
    let service = ours.reviewer("pt", "pt@example.edu", "service");
    let api = ours.api(&ours.reviewer("ada", "ada@example.edu", "reviewer"));
    let s = attention(&api, 1).await.remove(0);
    let up = upload(&ours, &service, s.id, png(1)).await;
    assert_eq!(up.status(), 201);
    let item: MediaItem = up.json().await.unwrap();
    let key = format!("inst/media/{}", item.sha256);
    assert!(
        s3.keys().iter().any(|k| k.ends_with(&item.sha256)),
        "{:?}",
        s3.keys()
    );

    decide(&api, &s, Verdict::Pass, "fine").await;
    ours.cli(&["evidence", "expire"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !api
        .session(s.id)
        .await
        .unwrap()
        .history
        .iter()
        .any(|h| h.evidence_deleted)
    {
        assert!(Instant::now() < deadline, "not deleted:\n{}", ours.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let keys = s3.keys();
    assert!(
        !keys.iter().any(|k| k.ends_with(&item.sha256)),
        "{key} is still in the bucket: {keys:?}"
    );
}

/// Retention while the bucket is away: the records go with their history entry, the file
/// stays listed, and the next run removes it once the bucket is back.
#[tokio::test]
async fn a_file_retention_could_not_remove_is_removed_by_the_next_run() {
    let Some(mut s3) = S3::start() else { return };
    let ours = server(&s3);
    let service = ours.reviewer("pt", "pt@example.edu", "service");
    let api = ours.api(&ours.reviewer("ada", "ada@example.edu", "reviewer"));
    let s = attention(&api, 1).await.remove(0);
    let up = upload(&ours, &service, s.id, png(3)).await;
    assert_eq!(up.status(), 201);
    let item: MediaItem = up.json().await.unwrap();
    decide(&api, &s, Verdict::Fail, "phone").await;

    s3.stop();
    ours.cli(&["evidence", "expire"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ours
        .log()
        .contains("retention: evidence past its period deleted")
    {
        assert!(Instant::now() < deadline, "no run:\n{}", ours.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = ours.log();
    assert!(
        log.contains("stays listed and the next retention run tries again"),
        "{log}"
    );
    assert!(
        api.session(s.id)
            .await
            .unwrap()
            .history
            .iter()
            .any(|h| h.evidence_deleted)
    );

    s3.run();
    assert!(
        s3.keys().iter().any(|k| k.ends_with(&item.sha256)),
        "still there"
    );
    ours.cli(&["evidence", "expire"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while s3.keys().iter().any(|k| k.ends_with(&item.sha256)) {
        assert!(Instant::now() < deadline, "not removed:\n{}", ours.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_unreachable_bucket_is_said_loses_nothing_and_recovers() {
    let Some(mut s3) = S3::start() else { return };
    let ours = server(&s3);
    let service = ours.reviewer("pt", "pt@example.edu", "service");
    let api = ours.api(&service);
    assert_eq!(ready(&ours).await, 200);
    let before = api.session(3).await.unwrap().media.len();

    s3.stop();
    let refused = upload(&ours, &service, 3, png(2)).await;
    let status = refused.status().as_u16();
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!((500..600).contains(&status), "{status} {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("object store"), "{body}");
    // Nothing half-written: no record of a file that is not there.
    assert_eq!(api.session(3).await.unwrap().media.len(), before);
    assert_eq!(ready(&ours).await, 503);
    // Nothing else stops, and the operator sees the failures counted.
    assert!(api.courses().await.is_ok());
    let admin = ours.reviewer("root", "root@example.edu", "admin");
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", ours.url))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("object_store_errors_total{op=\"put\"}")
                || l.starts_with("object_store_errors_total{op=\"head\"}")),
        "{metrics}"
    );

    // Back again: the same upload, tried again, is kept.
    s3.run();
    let deadline = Instant::now() + Duration::from_secs(20);
    while ready(&ours).await != 200 {
        assert!(
            Instant::now() < deadline,
            "not ready again:\n{}",
            ours.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = upload(&ours, &service, 3, png(2)).await;
    assert_eq!(again.status(), 201);
    let item: MediaItem = again.json().await.unwrap();
    assert_eq!(api.session(3).await.unwrap().media.len(), before + 1);
    assert!(s3.keys().iter().any(|k| k.ends_with(&item.sha256)));
}
