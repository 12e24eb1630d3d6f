//! Stills of recordings (issue #25): drawn once on the job system from the demo's H.264 MP4
//! with no system package, served as one frame pack per span in the video's course scope,
//! and a clear refusal where the server has no decoder for a recording.

mod common;

use common::peer::Ours;
use common::start_demo;
use proctor_review::api::{FramePackQuery, SessionQuery};
use proctor_review::client::{ApiClient, ClientError};
use proctor_review::domain::frames::{FrameIndex, FramePack};
use proctor_review::domain::{ContentType, MediaItem, MediaKind, SessionDetail};
use std::time::{Duration, Instant};

/// Asks for a video's stills until the job has drawn them (each answer is the server's
/// word that it is still drawing, not a guess at how long it takes).
async fn drawn(c: &ApiClient, media: i64) -> FrameIndex {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(index) = c.frames(media).await.unwrap() {
            return index;
        }
        assert!(Instant::now() < deadline, "the stills were never drawn");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A session with a violation clip of `content_type`.
async fn session_with(c: &ApiClient, content_type: ContentType) -> (SessionDetail, MediaItem) {
    let q = SessionQuery {
        limit: 200,
        ..Default::default()
    };
    for course in c.courses().await.unwrap() {
        for exam in course.exams {
            for row in c.sessions(exam.exam.id, &q).await.unwrap().items {
                let d = c.session(row.id).await.unwrap();
                let clip = d.media.iter().find(|m| {
                    m.kind == MediaKind::Video
                        && m.content_type == content_type
                        && m.violation_id.is_some()
                });
                if let Some(clip) = clip.cloned() {
                    return (d, clip);
                }
            }
        }
    }
    panic!("no session with a {content_type} clip");
}

#[tokio::test]
async fn a_flagged_moment_is_drawn_once_and_played_from_one_pack_per_span() {
    let d = start_demo().await;
    let c = ApiClient::new(&d.server.url, &d.server.token).unwrap();
    let (detail, clip) = session_with(&c, ContentType::Mp4).await;
    let index = drawn(&c, clip.id).await;
    assert_eq!((index.width, index.height), (320, 180));
    assert!(index.frames.len() >= 90, "8 a second through a 12 s clip");
    assert_eq!(index.sheet().count(), 12);

    // The flagged moment, in the file's own time, as the console asks for it.
    let v = detail
        .violations
        .iter()
        .find(|v| Some(v.id) == clip.violation_id)
        .unwrap();
    let from_ms = ((v.start_time - clip.offset_start.unwrap()).max(0) * 1000) as u64;
    let to_ms = from_ms + 5_000;
    let pack: FramePack = c
        .frame_pack(
            clip.id,
            &FramePackQuery {
                from_ms,
                to_ms: Some(to_ms),
                sheet: false,
            },
        )
        .await
        .unwrap()
        .expect("drawn already");
    assert!(
        (38..=42).contains(&pack.frames.len()),
        "{}",
        pack.frames.len()
    );
    assert!(pack.frames.iter().all(|(f, _)| f.at_ms <= to_ms));
    for (_, jpeg) in &pack.frames {
        let img = image::load_from_memory(jpeg).expect("each still is a JPEG");
        assert_eq!(img.width(), 320);
    }

    // The recording: its contact sheet, a still a second for three minutes.
    let recording = detail
        .media
        .iter()
        .find(|m| m.kind == MediaKind::Video && m.violation_id.is_none())
        .expect("the demo's whole recording");
    drawn(&c, recording.id).await;
    let sheet = c
        .frame_pack(
            recording.id,
            &FramePackQuery {
                sheet: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sheet.frames.len(), 180);
    assert!(sheet.frames.iter().all(|(f, _)| f.sheet));

    // Drawn once: the pack is kept beside the evidence, and a second look is served at once.
    let packs = common::files_below(&d.dir.path().join("media").join("frames"));
    assert_eq!(packs.len(), 2, "{packs:?}");
    use std::os::unix::fs::PermissionsExt;
    for p in &packs {
        let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
    assert!(c.frames(clip.id).await.unwrap().is_some());

    // A screenshot has no stills to draw.
    let shot = detail
        .media
        .iter()
        .find(|m| m.kind == MediaKind::Screenshot)
        .unwrap();
    assert!(matches!(
        c.frames(shot.id).await,
        Err(ClientError::NotFound(_))
    ));
    d.server.stop().await;
}

#[tokio::test]
async fn a_server_without_ffmpeg_says_a_webm_recording_cannot_be_drawn_and_why() {
    let ours = Ours::start_with(&[
        "--lms-sync-secs",
        "0",
        "--ffmpeg",
        "none",
        "--seed-demo",
        "200",
    ]);
    let token = ours.reviewer("ada", "ada@example.edu", "admin");
    let c = ApiClient::new(&ours.url, &token).unwrap();
    let (_, webm) = session_with(&c, ContentType::Webm).await;
    match c.frames(webm.id).await {
        Err(ClientError::Rejected(why)) => assert!(
            why.contains("this recording is WebM and the server has no ffmpeg to draw its frames"),
            "{why}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // MP4 needs nothing: the same server draws those.
    let (_, mp4) = session_with(&c, ContentType::Mp4).await;
    assert!(drawn(&c, mp4.id).await.frames.len() > 90);
}

#[tokio::test]
async fn evidence_frames_all_has_a_running_server_draw_every_video_before_anyone_asks() {
    let ours = Ours::start_with(&[
        "--lms-sync-secs",
        "0",
        "--seed-demo",
        "12",
        "--job-poll-ms",
        "200",
    ]);
    let said = ours.cli(&["evidence", "frames", "--all"]);
    assert!(
        said.contains("queued; a running server draws them"),
        "{said}"
    );
    // Nobody asked over HTTP: the server found the jobs itself and kept a pack per file
    // (and set of flagged moments), 0600, beside the evidence — for every MP4 at least
    // (a WebM needs ffmpeg).
    let db = rusqlite::Connection::open(&ours.db).unwrap();
    let mp4: std::collections::BTreeSet<String> = db
        .prepare(
            "SELECT DISTINCT sha256 FROM media WHERE kind = 'video' AND content_type = 'video/mp4'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(mp4.len() >= 3, "{mp4:?}");
    let frames = ours.dir.path().join("media").join("frames");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let drawn: std::collections::BTreeSet<String> = std::fs::read_dir(&frames)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if mp4.is_subset(&drawn) {
            use std::os::unix::fs::PermissionsExt;
            for p in common::files_below(&frames) {
                assert_eq!(
                    std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                    0o600
                );
            }
            break;
        }
        assert!(Instant::now() < deadline, "drawn {drawn:?} of {mp4:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
