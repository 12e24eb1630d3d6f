//! Evidence over real HTTP: signed links (expiry, tampering, restarts, Range), uploads and
//! the manifest import, with nothing half-written when something is refused.

mod common;

use common::{files_below, start_demo, start_in};
use proctor_review::client::ApiClient;
use proctor_review::demo::evidence::assets;
use proctor_review::domain::words::Word;
use proctor_review::domain::{AttemptStatus, MediaItem, MediaKind, SessionDetail};
use proctor_review::embedded::link_key_path;
use proctor_review::media::LinkKey;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, RANGE};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use time::{Duration, OffsetDateTime};

const BIN: &str = env!("CARGO_BIN_EXE_proctor-review");

/// The first Require Attention session of the Midterm with its evidence.
async fn attention_detail(c: &ApiClient) -> SessionDetail {
    let q = proctor_review::api::SessionQuery {
        status: "second_review_required".into(),
        ..Default::default()
    };
    let page = c.sessions(2, &q).await.unwrap();
    let row = page.items.first().expect("a session needs attention");
    assert_eq!(row.status, AttemptStatus::SecondReviewRequired);
    c.session(row.id).await.unwrap()
}

fn first(d: &SessionDetail, kind: MediaKind) -> &MediaItem {
    d.media_of(kind)
        .next()
        .unwrap_or_else(|| panic!("no {kind:?} in {:?}", d.media))
}

fn asset_bytes(sha: &str) -> &'static [u8] {
    assets().iter().find(|a| a.sha256 == sha).unwrap().bytes
}

async fn error_message(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.expect("JSON error body");
    (
        status,
        body["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn a_signed_link_serves_the_file_inline_with_ranges_and_no_token() {
    let d = start_demo().await;
    let c = ApiClient::new(&d.server.url, &d.server.token).unwrap();
    let detail = attention_detail(&c).await;
    assert!(!detail.violations.is_empty());
    let clip = first(&detail, MediaKind::Video);
    let link = c.media_link(clip.id).await.unwrap();
    assert!(link.url.starts_with(&d.server.url), "{}", link.url);
    let left = link.expires_at - OffsetDateTime::now_utc();
    assert!(
        left > Duration::minutes(4) && left <= Duration::minutes(5),
        "{left}"
    );

    let http = reqwest::Client::new();
    let resp = http.get(&link.url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h[CONTENT_TYPE], clip.content_type.as_str());
    assert_eq!(h[CONTENT_DISPOSITION], "inline");
    assert_eq!(h[CACHE_CONTROL], "private, no-store");
    let body = resp.bytes().await.unwrap();
    assert_eq!(&body[..], asset_bytes(&clip.sha256));

    let part = http
        .get(&link.url)
        .header(RANGE, "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        &part.bytes().await.unwrap()[..],
        &asset_bytes(&clip.sha256)[100..200]
    );
    let beyond = http
        .get(&link.url)
        .header(RANGE, "bytes=99999999-")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    // A player learns the length from it; the server keeps the connection.
    let size = asset_bytes(&clip.sha256).len();
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );
    assert!(beyond.headers().get("connection").is_none());

    let shot = first(&detail, MediaKind::Screenshot);
    let link = c.media_link(shot.id).await.unwrap();
    let resp = http.get(&link.url).send().await.unwrap();
    assert_eq!(resp.headers()[CONTENT_TYPE], "image/jpeg");
    assert_eq!(
        &c.fetch_signed(&link.url, 1 << 20).await.unwrap()[..],
        asset_bytes(&shot.sha256)
    );

    let missing = http
        .post(format!("{}/api/v1/media/999999/link", d.server.url))
        .bearer_auth(&d.server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let anonymous = http
        .post(format!("{}/api/v1/media/{}/link", d.server.url, shot.id))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_forged_or_altered_links_are_refused_and_keys_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path()).await;
    let c = ApiClient::new(&server.url, &server.token).unwrap();
    let detail = attention_detail(&c).await;
    let shot = first(&detail, MediaKind::Screenshot).clone();
    let other = first(&detail, MediaKind::IdScan).id;
    let link = c.media_link(shot.id).await.unwrap();
    let http = reqwest::Client::new();
    let get = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap() }
    };

    let altered = [
        link.url
            .replace(&format!("/media/{}/", shot.id), &format!("/media/{other}/")),
        link.url.replace("expires=", "expires=1"),
        link.url.replace("reviewer=", "reviewer=9"),
        {
            let (head, sig) = link.url.split_once("signature=").unwrap();
            let flipped = if sig.starts_with('0') { "1" } else { "0" };
            format!("{head}signature={flipped}{}", &sig[1..])
        },
        link.url.split("&signature").next().unwrap().to_owned(),
    ];
    for url in altered {
        let (status, message) = error_message(get(url.clone()).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{url}");
        assert!(message.contains("not valid"), "{url}: {message}");
    }

    // A correctly signed link whose time is up.
    let key = LinkKey::load_or_create(&link_key_path(&dir.path().join("review.sqlite3"))).unwrap();
    let me = c.me().await.unwrap().reviewer;
    let stale = key.sign(
        proctor_review::media::Purpose::Media,
        shot.id,
        OffsetDateTime::now_utc() - Duration::seconds(1),
        me.id,
    );
    let url = format!(
        "{}/api/v1/media/{}/file?expires={}&reviewer={}&signature={}",
        server.url, shot.id, stale.expires, stale.reviewer, stale.signature
    );
    let (status, message) = error_message(get(url).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(message.contains("expired"), "{message}");

    // Signed for a reviewer the server does not know.
    let ghost = key.sign(
        proctor_review::media::Purpose::Media,
        shot.id,
        OffsetDateTime::now_utc() + Duration::minutes(1),
        4242,
    );
    let url = format!(
        "{}/api/v1/media/{}/file?expires={}&reviewer=4242&signature={}",
        server.url, shot.id, ghost.expires, ghost.signature
    );
    assert_eq!(get(url).await.status(), StatusCode::FORBIDDEN);

    // The key is kept: a link issued before a restart still works after it.
    let path = link.url.split_once("/api/").unwrap().1.to_owned();
    server.stop().await;
    let again = start_in(dir.path()).await;
    let resp = get(format!("{}/api/{path}", again.url)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(&resp.bytes().await.unwrap()[..], asset_bytes(&shot.sha256));
}

struct Served {
    child: std::process::Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn db(&self) -> String {
        self.dir
            .path()
            .join("review.sqlite3")
            .to_string_lossy()
            .into_owned()
    }

    fn token(&self, username: &str, role: &str) -> String {
        let out = Command::new(BIN)
            .args([
                "reviewer",
                "add",
                "--db",
                &self.db(),
                "--username",
                username,
            ])
            .args([
                "--email",
                &format!("{username}@example.edu"),
                "--role",
                role,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Every file in the media folder outside `.incoming`, and what waits in `.incoming`.
    fn media_files(&self) -> (usize, usize) {
        let media = self.dir.path().join("media");
        let all = files_below(&media);
        let incoming = all
            .iter()
            .filter(|p| p.starts_with(media.join(".incoming")))
            .count();
        (all.len() - incoming, incoming)
    }
}

fn serve() -> Served {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.sqlite3");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--create",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--seed-demo", "40", "--max-media-mib", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    Served { child, url, dir }
}

fn png(seed: u8, size: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.resize(size, seed);
    b
}

#[tokio::test]
async fn uploads_are_checked_and_never_half_written() {
    let s = serve();
    let service = s.token("pt-service", "service");
    let reviewer = s.token("rita", "reviewer");
    proctor_review::client::tls_ready();
    let http = reqwest::Client::new();
    let (files_before, _) = s.media_files();
    let upload = |token: &str, session: i64, query: &str, ct: &str, body: Vec<u8>| {
        http.post(format!("{}/api/v1/sessions/{session}/media?{query}", s.url))
            .bearer_auth(token)
            .header(CONTENT_TYPE, ct)
            .body(body)
            .send()
    };

    let ok = upload(
        &service,
        1,
        "kind=screenshot&captured_at=2026-11-13T19:12:00Z",
        "image/png",
        png(1, 500),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let item: MediaItem = ok.json().await.unwrap();
    assert_eq!(item.kind, MediaKind::Screenshot);
    assert_eq!(item.size, 500);
    let c = ApiClient::new(&s.url, &service).unwrap();
    let detail = c.session(1).await.unwrap();
    assert!(detail.media.iter().any(|m| m.id == item.id));
    let link = c.media_link(item.id).await.unwrap();
    assert_eq!(
        c.fetch_signed(&link.url, 1 << 20).await.unwrap(),
        png(1, 500)
    );
    assert_eq!(s.media_files(), (files_before + 1, 0));

    let refused = [
        (
            reviewer.as_str(),
            1,
            "kind=screenshot",
            "image/png",
            png(2, 500),
            StatusCode::FORBIDDEN,
            "service account",
        ),
        (
            service.as_str(),
            99999,
            "kind=screenshot",
            "image/png",
            png(3, 500),
            StatusCode::NOT_FOUND,
            "no session with id 99999",
        ),
        (
            service.as_str(),
            1,
            "kind=screenshot",
            "image/jpeg",
            png(4, 500),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "declared as image/jpeg but the bytes are image/png",
        ),
        (
            service.as_str(),
            1,
            "kind=screenshot",
            "image/png",
            b"<html>hi</html>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not an image or video",
        ),
        (
            service.as_str(),
            1,
            "kind=selfie",
            "image/png",
            png(5, 500),
            StatusCode::BAD_REQUEST,
            "unknown media kind 'selfie'",
        ),
        (
            service.as_str(),
            1,
            "kind=video&offset_start=1",
            "image/png",
            png(6, 500),
            StatusCode::BAD_REQUEST,
            "cannot be image/png",
        ),
        (
            service.as_str(),
            1,
            "kind=screenshot",
            "image/png",
            png(7, 1024 * 1024 + 1),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than the limit",
        ),
        (
            service.as_str(),
            1,
            "kind=screenshot",
            "image/png",
            png(1, 500),
            StatusCode::CONFLICT,
            "already has this",
        ),
        (
            service.as_str(),
            1,
            "kind=screenshot&violation_id=999999",
            "image/png",
            png(8, 500),
            StatusCode::BAD_REQUEST,
            "has no violation with id 999999",
        ),
        (
            service.as_str(),
            1,
            "kind=screenshot",
            "image/png",
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "empty",
        ),
    ];
    for (token, session, query, ct, body, status, says) in refused {
        let resp = upload(token, session, query, ct, body).await.unwrap();
        let (got, message) = error_message(resp).await;
        assert_eq!(got, status, "{query} {ct}: {message}");
        assert!(message.contains(says), "{query} {ct}: {message}");
        assert_eq!(
            s.media_files(),
            (files_before + 1, 0),
            "{query}: a file was left behind"
        );
    }
    let detail = c.session(1).await.unwrap();
    assert_eq!(
        detail
            .media
            .iter()
            .filter(|m| m.kind == MediaKind::Screenshot && m.captured_at.is_some() && m.size == 500)
            .count(),
        1,
        "no row was added by a refused upload"
    );
}

/// Hostile manifests (issue #22): every way out of the manifest's folder, files that never
/// end, and a file larger than the limit are refused by name, and nothing is imported.
#[test]
fn a_manifest_reads_only_regular_files_inside_its_folder_up_to_the_limit() {
    use std::os::unix::fs::symlink;
    let s = serve();
    let folder = s.dir.path().join("drop");
    std::fs::create_dir_all(folder.join("shots")).unwrap();
    std::fs::write(folder.join("shots/a.png"), png(21, 300)).unwrap();
    std::fs::write(s.dir.path().join("outside.png"), png(22, 300)).unwrap();
    symlink("../outside.png", folder.join("link.png")).unwrap();
    symlink("..", folder.join("up")).unwrap();
    symlink("/dev/zero", folder.join("zero.png")).unwrap();
    symlink("shots/a.png", folder.join("inside.png")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(folder.join("pipe.png"))
            .status()
            .unwrap()
            .success()
    );
    // Sparse: 2 MiB that take no disk, over the server's 1 MiB.
    std::fs::File::create(folder.join("big.png"))
        .unwrap()
        .set_len(2 << 20)
        .unwrap();
    let outside = s.dir.path().join("outside.png");
    let run = |file: &str| {
        let path = folder.join("manifest.json");
        let m = serde_json::json!({"items": [
            {"session_id": 1, "file": file, "content_type": "image/png", "kind": "screenshot"}]});
        std::fs::write(&path, m.to_string()).unwrap();
        let out = Command::new(BIN)
            .args([
                "evidence",
                "import",
                "--db",
                &s.db(),
                "--max-media-mib",
                "1",
            ])
            .arg(&path)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (files_before, _) = s.media_files();
    let absolute = outside.to_str().unwrap();
    for (file, says) in [
        ("../outside.png", "not a path inside the manifest's folder"),
        (
            "shots/../../outside.png",
            "not a path inside the manifest's folder",
        ),
        (absolute, "not a path inside the manifest's folder"),
        ("link.png", "leads outside the manifest's folder"),
        ("up/outside.png", "leads outside the manifest's folder"),
        ("zero.png", "leads outside the manifest's folder"),
        ("pipe.png", "is not a regular file"),
        ("shots", "is not a regular file"),
        ("big.png", "more than the limit of 1048576 bytes"),
    ] {
        let (ok, err) = run(file);
        assert!(!ok, "{file} was imported");
        assert!(err.contains(says), "{file}: {err}");
        assert_eq!(s.media_files(), (files_before, 0), "{file}");
    }
    // A link that stays inside the folder is followed.
    let (ok, err) = run("inside.png");
    assert!(ok, "{err}");
    assert_eq!(s.media_files(), (files_before + 1, 0));
}

#[tokio::test]
async fn a_manifest_imports_all_of_its_items_or_none() {
    let s = serve();
    let folder = s.dir.path().join("drop");
    std::fs::create_dir_all(folder.join("shots")).unwrap();
    std::fs::write(folder.join("shots/a.png"), png(11, 300)).unwrap();
    std::fs::write(folder.join("shots/b.png"), png(12, 300)).unwrap();
    std::fs::write(
        folder.join("clip.webm"),
        [0x1A, 0x45, 0xDF, 0xA3, 0, 0, 0, 0],
    )
    .unwrap();
    let manifest = |second_session: i64| {
        serde_json::json!({
            "items": [
                {"session_id": 1, "file": "shots/a.png", "content_type": "image/png", "kind": "face_scan",
                 "scan_result": "no_match", "face_match_score": 0.3},
                {"session_id": second_session, "file": "shots/b.png", "content_type": "image/png", "kind": "screenshot"},
                {"session_id": 1, "file": "clip.webm", "content_type": "video/webm", "kind": "video",
                 "offset_start": 60, "offset_end": 72}
            ],
            "onboarding": [{"session_id": 1, "status": "rejected", "submitted_at": "2026-10-01T09:00:00Z"}]
        })
    };
    let run = |m: serde_json::Value| {
        let path = folder.join("manifest.json");
        std::fs::write(&path, m.to_string()).unwrap();
        Command::new(BIN)
            .args([
                "evidence",
                "import",
                "--db",
                &s.db(),
                path.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let (files_before, _) = s.media_files();

    let bad = run(manifest(424242));
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("item 2 (shots/b.png): no session with id 424242"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(s.media_files(), (files_before, 0));
    let service = s.token("importer", "service");
    let c = ApiClient::new(&s.url, &service).unwrap();
    let before = c.session(1).await.unwrap();
    assert_ne!(
        before.onboarding.map(|o| o.status.as_str()),
        Some("rejected"),
        "the onboarding of a refused import was kept"
    );

    let good = run(manifest(2));
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(
        String::from_utf8_lossy(&good.stdout)
            .contains("imported 3 evidence file(s) and 1 onboarding record(s)")
    );
    assert_eq!(s.media_files(), (files_before + 3, 0));
    let after = c.session(1).await.unwrap();
    assert_eq!(
        after.onboarding.map(|o| o.status.as_str()),
        Some("rejected")
    );
    let scan = after
        .media
        .iter()
        .find(|m| m.face_match_score == Some(0.3))
        .unwrap();
    assert_eq!(scan.scan_result.map(|r| r.as_str()), Some("no_match"));
    let clip = after
        .media
        .iter()
        .find(|m| m.offset_start == Some(60))
        .unwrap();
    assert_eq!(clip.fragment(64, 69).as_deref(), Some("#t=4,9"));

    let mislabeled = run(serde_json::json!({"items": [
        {"session_id": 1, "file": "shots/a.png", "content_type": "image/jpeg", "kind": "screenshot"}]}));
    assert!(
        String::from_utf8_lossy(&mislabeled.stderr)
            .contains("item 1 (shots/a.png): declared as image/jpeg")
    );
    let unknown_field = run(serde_json::json!({"items": [], "extra": 1}));
    assert!(String::from_utf8_lossy(&unknown_field.stderr).contains("invalid manifest"));
}

#[tokio::test]
async fn a_demo_database_from_before_evidence_starts_afresh_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path()).await;
    server.stop().await;
    // What an earlier version left: the demo without any evidence rows.
    let db = rusqlite::Connection::open(dir.path().join("review.sqlite3")).unwrap();
    db.execute("DELETE FROM media", []).unwrap();
    drop(db);
    let server = start_in(dir.path()).await;
    let c = ApiClient::new(&server.url, &server.token).unwrap();
    let detail = attention_detail(&c).await;
    assert!(
        detail.media.iter().any(|m| m.kind == MediaKind::Video),
        "{:?}",
        detail.media
    );
    assert!(detail.onboarding.is_some());
    use std::os::unix::fs::PermissionsExt;
    for f in files_below(&dir.path().join("media")) {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    let mode = std::fs::metadata(dir.path().join("media"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);
}

#[tokio::test]
async fn the_list_and_the_detail_agree_on_where_violations_fall() {
    let d = start_demo().await;
    let c = ApiClient::new(&d.server.url, &d.server.token).unwrap();
    let page = c.sessions(3, &Default::default()).await.unwrap();
    let mut checked = 0;
    for row in page.items.iter().filter(|r| r.violation_count > 0) {
        assert_eq!(row.marks.len(), row.violation_count as usize, "{}", row.id);
        let detail = c.session(row.id).await.unwrap();
        assert_eq!(
            detail.row.marks, row.marks,
            "a row redrawn from its detail keeps its timeline"
        );
        let at: Vec<i64> = detail.violations.iter().map(|v| v.start_time).collect();
        assert_eq!(row.marks.iter().map(|m| m.at).collect::<Vec<_>>(), at);
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} sessions with violations");
}

/// Several servers on one database: a link one of them issued is served by another that
/// shares its link key, and refused by one with a key of its own.
#[tokio::test]
async fn a_link_from_one_server_is_served_by_another_sharing_its_key() {
    let shared = tempfile::tempdir().unwrap();
    let key = shared.path().join("link.key");
    let key = key.to_str().unwrap();
    let a = common::peer::Ours::start_with(&[
        "--lms-sync-secs",
        "0",
        "--seed-demo",
        "--link-key-file",
        key,
    ]);
    let b = a.beside(&["--lms-sync-secs", "0", "--link-key-file", key]);
    let other_key = shared.path().join("other.key");
    let c = a.beside(&[
        "--lms-sync-secs",
        "0",
        "--link-key-file",
        other_key.to_str().unwrap(),
    ]);
    let token = a.reviewer("ada", "ada@example.edu", "admin");
    let api_a = a.api(&token);
    let detail = attention_detail(&api_a).await;
    let shot = first(&detail, MediaKind::Screenshot);
    let link = api_a.media_link(shot.id).await.unwrap();
    assert!(link.url.starts_with(&a.url), "{}", link.url);
    let on = |server: &common::peer::Ours| link.url.replacen(&a.url, &server.url, 1);

    let api_b = b.api(&token);
    let bytes = api_b.fetch_signed(&on(&b), 1 << 20).await.unwrap();
    assert_eq!(
        &bytes[..],
        asset_bytes(&shot.sha256),
        "served by the other server"
    );

    let resp = reqwest::get(on(&c)).await.unwrap();
    let (status, message) = error_message(resp).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{message}");
    assert!(message.contains("not valid"), "{message}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the shared key is private");
}

/// The recording pipeline knows an attempt by its code (or by the `pra-…` id Open edX was
/// given), not by our number (issue #22): it reports reviews and uploads evidence by it,
/// and a search by it finds the session.
#[tokio::test]
async fn the_pipeline_addresses_a_session_by_the_attempt_it_knows() {
    let s = serve();
    let service = s.token("pt-service", "service");
    let admin = ApiClient::new(&s.url, &s.token("root", "admin")).unwrap();
    let d = attention_detail(&admin).await;
    let code = d.attempt_code.clone();
    let http = reqwest::Client::new();

    let review = serde_json::json!({"status": "suspicious", "comments": []});
    let resp = http
        .post(format!("{}/api/v1/sessions/{code}/automated-review", s.url))
        .bearer_auth(&service)
        .json(&review)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let reviewed: SessionDetail = resp.json().await.unwrap();
    assert_eq!(reviewed.row.id, d.row.id);

    let resp = http
        .post(format!(
            "{}/api/v1/sessions/{code}/media?kind=screenshot",
            s.url
        ))
        .bearer_auth(&service)
        .header(CONTENT_TYPE, "image/png")
        .body(png(31, 400))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(
        admin.session(d.row.id).await.unwrap().media.len(),
        d.media.len() + 1
    );

    let q = proctor_review::api::SessionQuery {
        q: code.clone(),
        ..Default::default()
    };
    let found = admin.sessions(d.row.exam_id, &q).await.unwrap();
    assert_eq!(
        found.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [d.row.id]
    );

    let (status, message) = error_message(
        http.post(format!(
            "{}/api/v1/sessions/pra-nosuch/automated-review",
            s.url
        ))
        .bearer_auth(&service)
        .json(&review)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        message.contains("no session with id or attempt 'pra-nosuch'"),
        "{message}"
    );
}
