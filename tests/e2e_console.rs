//! The real binary in a real pseudo-terminal against a real server: a reviewer opens an
//! exam, opens a Require Attention learner, fails them, and the server holds the result.

mod common;

use common::console::Console;
use proctor_review::api::SessionQuery;
use proctor_review::client::ApiClient;
use proctor_review::domain::AttemptStatus;
use proctor_review::domain::words::Word;

/// The first session of the demo's Midterm list: a Require Attention one.
async fn first_midterm_session(api: &ApiClient) -> proctor_review::domain::SessionRow {
    api.sessions(2, &SessionQuery::default())
        .await
        .unwrap()
        .items[0]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_fails_a_require_attention_session_from_the_keyboard() {
    let demo = common::start_demo().await;
    let api = ApiClient::new(&demo.server.url, &demo.server.token).unwrap();
    let first = first_midterm_session(&api).await;
    assert_eq!(first.status, AttemptStatus::SecondReviewRequired);
    let original = api.session(first.id).await.unwrap().original_grade.unwrap();

    let url = demo.server.url.clone();
    let token = demo.server.token.clone();
    let dir = demo.dir.path().to_owned();
    let name = first.learner.full_name.clone();
    let console = tokio::task::spawn_blocking(move || {
        let mut c = Console::start_with(
            &["--server", &url],
            &dir,
            &[("PROCTOR_REVIEW_TOKEN", &token)],
        );
        c.open_midterm("to review");
        c.keys("\r");
        c.wait_for("Learner sees");
        let screen = c.wait_for(&name);
        assert!(screen.contains("Require Attention"), "{screen}");
        c.keys("f");
        let dialog = c.wait_for("This will:");
        assert!(
            dialog.contains("→ 0/20"),
            "the dialog states the grade change:\n{dialog}"
        );
        c.keys("seen with phone\r");
        c.wait_for(&format!("Failed {name}"));
        c.quit();
        let screen = &c.parser;
        assert!(
            !screen.screen().alternate_screen(),
            "alternate screen left on quit"
        );
        assert!(
            !screen.screen().bracketed_paste(),
            "paste mode restored on quit"
        );
    });
    console.await.unwrap();

    let after = api.session(first.id).await.unwrap();
    assert_eq!(after.row.status, AttemptStatus::Rejected);
    assert_eq!(after.grade_in_force.unwrap().earned, 0.0);
    assert_eq!(after.original_grade, Some(original));
    assert_eq!(after.history.len(), 1);
    assert_eq!(after.history[0].reason, "seen with phone");
    assert_eq!(after.history[0].reviewer, "demo-reviewer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_ends_the_console_with_a_clear_message_before_the_screen_is_taken() {
    let demo = common::start_demo().await;
    let url = demo.server.url.clone();
    let dir = demo.dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut c = Console::start_with(
            &["--server", &url],
            &dir,
            &[("PROCTOR_REVIEW_TOKEN", "prt_wrong")],
        );
        let status = c.finish();
        assert!(!status.success(), "a refused token is an error exit");
        let written = String::from_utf8_lossy(&c.output).into_owned();
        assert!(
            written.contains("refused the token: unknown or revoked token"),
            "{written}"
        );
        assert!(
            !c.output.windows(8).any(|w| w == b"\x1b[?1049h"),
            "the alternate screen was never entered"
        );
    })
    .await
    .unwrap();
}

/// Issue #23: a wrong address fails fast, before the screen is taken, with the reason and
/// the likely fix — not an empty console marked "not live"; an address without its scheme
/// is told which to add.
#[test]
fn a_wrong_server_address_fails_fast_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let run = |server: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_proctor-review"))
            .args(["--server", server])
            .env("PROCTOR_REVIEW_TOKEN", "t")
            .env("PROCTOR_REVIEW_DATA_DIR", dir.path())
            .env("PROCTOR_REVIEW_CONFIG", dir.path().join("none.toml"))
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap()
    };
    let out = run("http://127.0.0.1:9");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("http://127.0.0.1:9 does not answer") && err.contains("proctor-review serve"),
        "{err}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("\u{1b}[?1049h"),
        "the screen was never taken"
    );
    let out = run("127.0.0.1:19101");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid server address") && err.contains("https://127.0.0.1:19101"),
        "{err}"
    );
}

#[test]
fn the_embedded_demo_keeps_decisions_across_runs_until_reset() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start(&[], dir.path());
    c.open_midterm("to review");
    c.keys("\r");
    c.wait_for("Learner sees");
    c.keys("f");
    c.wait_for("This will:");
    c.keys("\r");
    let screen = c.wait_for("✘ Failed");
    // The title names the learner the cursor moved on to.
    let left = screen.lines().next().unwrap().trim().to_owned();
    c.quit();
    assert!(dir.path().join("demo.sqlite3").exists());
    let emails = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(common::wait_for_emails(&dir.path().join("outbox"), 1));
    assert_eq!(
        emails.len(),
        1,
        "the demo wrote the learner's email to its outbox"
    );
    // Learner data stays the owner's: the database, the log and every email.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("demo.sqlite3")), 0o600);
    assert_eq!(mode(&dir.path().join("proctor-review.log")), 0o600);
    assert_eq!(mode(&dir.path().join("outbox")), 0o700);
    for e in std::fs::read_dir(dir.path().join("outbox")).unwrap() {
        assert_eq!(mode(&e.unwrap().path()), 0o600);
    }

    // The next run starts where this one left off: that learner, in Learner Detail.
    let mut c = Console::start(&[], dir.path());
    c.until(&format!("back at {left}"), |s| {
        s.lines().next().is_some_and(|l| l.trim() == left) && s.contains("Learner sees")
    });
    c.keys("\x1b");
    let screen = c.wait_for("to review");
    assert!(
        screen.contains("7 to review"),
        "one fewer to review after a restart:\n{screen}"
    );
    c.quit();

    let mut c = Console::start(&["--reset-demo", "--fresh"], dir.path());
    let screen = c.open_midterm("to review");
    assert!(
        screen.contains("8 to review"),
        "reset restores the demo:\n{screen}"
    );
    c.quit();
}

/// Quitting the demo inside a decision's undo window asks first, and the email it held goes
/// out as the demo closes, not at its next launch (issue #23, item 5).
#[test]
fn quitting_the_demo_inside_the_undo_window_asks_then_sends_the_held_email() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::start_with(
        &[],
        dir.path(),
        &[("PROCTOR_REVIEW_DEMO_UNDO_GRACE_SECS", "600")],
    );
    c.open_midterm("to review");
    c.keys("\r");
    c.wait_for("Learner sees");
    c.keys("f");
    c.wait_for("This will:");
    c.keys("\r");
    c.wait_for("u to undo");
    c.keys("q");
    c.wait_for("its email goes now");
    assert!(
        common::eml_files(&dir.path().join("outbox")).is_empty(),
        "held while it can be undone"
    );
    c.quit();
    assert_eq!(
        common::eml_files(&dir.path().join("outbox")).len(),
        1,
        "sent as the demo closed"
    );
}

/// A stand-in `xdg-open` that writes down the URL it was given, first on `PATH`.
fn stub_opener(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let got = dir.join("opened.txt");
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", got.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (got, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o_on_a_violation_opens_its_clip_through_a_fresh_signed_link() {
    let demo = common::start_demo().await;
    let api = ApiClient::new(&demo.server.url, &demo.server.token).unwrap();
    let first = first_midterm_session(&api).await;
    let detail = api.session(first.id).await.unwrap();
    let v = detail.violations[0].clone();
    let (clip, fragment) = detail.clip_of(&v).expect("the demo has a clip for it");
    let clip_id = clip.id;
    let clip_type = clip.content_type;

    let url = demo.server.url.clone();
    let token = demo.server.token.clone();
    let dir = demo.dir.path().to_owned();
    let (got, path) = stub_opener(&dir);
    let got_file = got.clone();
    let kind = v.kind.label().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut c = Console::start_with(
            &["--server", &url],
            &dir,
            &[("PATH", path.as_str()), ("PROCTOR_REVIEW_TOKEN", &token)],
        );
        c.open_midterm("to review");
        c.keys("\r");
        c.wait_for("Learner sees");
        c.keys("3");
        c.wait_for("[3 Violations]");
        let screen = c.wait_for("▶ 00:");
        assert!(
            screen.contains(&format!("▲ {}", offset_text(v.start_time))),
            "{screen}"
        );
        assert!(screen.contains(&kind), "{screen}");
        // The screenshot shows inline, drawn with half-blocks in this terminal.
        c.until("the preview", |s| s.contains('▀') || s.contains('▄'));
        c.keys("o");
        c.wait_for("in your viewer");
        c.keys("f");
        let dialog = c.wait_for("This will:");
        assert!(dialog.contains("video watched"), "{dialog}");
        c.keys("\x1b");
        c.wait_for("Cancelled");
        c.quit();
    })
    .await
    .unwrap();

    let opened = std::fs::read_to_string(&got_file).expect("the opener was called");
    let opened = opened.trim();
    assert!(
        opened.starts_with(&format!("{}/api/v1/media/{clip_id}/file?", demo.server.url)),
        "{opened}"
    );
    assert!(
        opened.ends_with(&fragment),
        "{opened} should end with {fragment}"
    );
    let resp = reqwest::get(opened.split('#').next().unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], clip_type.as_str());
    let body = resp.bytes().await.unwrap();
    assert_eq!(
        proctor_review::domain::ContentType::sniff(&body),
        Some(clip_type),
        "the clip itself"
    );
}

fn offset_text(secs: i64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

#[test]
fn a_reviewer_generates_and_downloads_the_results_report_from_the_keyboard() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    let mut c = Console::start(&["--export-dir", exports.to_str().unwrap()], dir.path());
    c.wait_for("Midterm Exam");
    c.keys("R");
    c.wait_for("Pending Tasks");
    c.keys("n");
    // Listed under Pending Tasks while it runs, then available (the demo course is small).
    c.wait_for(" rows · ");
    c.keys("\r");
    c.wait_for("personally identifiable");
    c.keys("\r");
    let screen = c.wait_for("Saved");
    assert!(screen.contains("exports"), "{screen}");
    c.keys("\x1b");
    c.until("Reports closed", |s| !s.contains("Pending Tasks"));
    c.quit();
    let files: Vec<_> = std::fs::read_dir(&exports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("MITx_6.0001x_2026_Fall_proctored_exam_results_report_")
            && name.ends_with(".csv"),
        "{name}"
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.starts_with("course_id,provider,track,exam_name,username,email,attempt_code,"));
    assert_eq!(text.matches("\r\n").count(), 61, "header and 60 attempts");
}

/// Over SSH no viewer exists: `o` says so and offers `y`, which puts a fresh signed link to
/// the flagged moment on the reviewer's own clipboard through the terminal (OSC 52).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn y_copies_the_clips_link_to_the_terminals_clipboard_where_nothing_opens_it() {
    let demo = common::start_demo().await;
    let api = ApiClient::new(&demo.server.url, &demo.server.token).unwrap();
    let first = first_midterm_session(&api).await;
    let detail = api.session(first.id).await.unwrap();
    let (clip, fragment) = detail
        .clip_of(&detail.violations[0])
        .expect("the demo has a clip for it");
    let clip_id = clip.id;

    let url = demo.server.url.clone();
    let token = demo.server.token.clone();
    let dir = demo.dir.path().to_owned();
    // No opener anywhere on PATH, as on a server reached over SSH.
    let empty = dir.join("no-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let path = empty.display().to_string();
    let output = tokio::task::spawn_blocking(move || {
        let mut c = Console::start_with(
            &["--server", &url],
            &dir,
            &[("PATH", path.as_str()), ("PROCTOR_REVIEW_TOKEN", &token)],
        );
        c.open_midterm("to review");
        c.keys("\r");
        c.wait_for("Learner sees");
        c.keys("3");
        c.wait_for("▶ 00:");
        c.keys("o");
        c.wait_for("y copies its link");
        c.keys("y");
        c.wait_for("Copied a link to the video");
        c.keys("m");
        c.wait_for("/file?");
        // Everything asked of the terminal is in: the console is stopped when dropped.
        c.output.clone()
    })
    .await
    .unwrap();

    let text = String::from_utf8_lossy(&output);
    let start = text
        .find("\x1b]52;c;")
        .expect("a clipboard request was written")
        + 7;
    let end = start + text[start..].find('\x07').expect("the request ends");
    use base64::Engine;
    let copied = base64::engine::general_purpose::STANDARD
        .decode(&text[start..end])
        .unwrap();
    let copied = String::from_utf8(copied).unwrap();
    assert!(
        copied.starts_with(&format!("{}/api/v1/media/{clip_id}/file?", demo.server.url)),
        "{copied}"
    );
    assert!(copied.ends_with(&fragment), "{copied}");
    let resp = reqwest::get(copied.split('#').next().unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the copied link plays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn space_plays_a_flagged_moment_in_the_terminal_and_z_and_esc_behave() {
    let demo = common::start_demo().await;
    let url = demo.server.url.clone();
    let token = demo.server.token.clone();
    let dir = demo.dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut c = Console::start_with(
            &["--server", &url],
            &dir,
            &[("PROCTOR_REVIEW_TOKEN", &token)],
        );
        c.open_midterm("to review");
        c.keys("\r");
        c.wait_for("● Learner Detail");
        c.keys("3");
        c.wait_for("[3 Violations]");
        c.keys(" ");
        // The stills number themselves on the status line: "▶ playing 4:52.1 · 12/88 · 1×".
        let still = |s: &str| {
            s.lines()
                .find_map(|l| {
                    l.split(" · ")
                        .nth(1)
                        .filter(|_| l.contains("playing") || l.contains("paused"))
                })
                .and_then(|n| n.split('/').next())
                .and_then(|n| n.trim().parse::<u32>().ok())
        };
        // The first still, drawn in half-blocks, with the playhead on the scrubber.
        let first = c.until("the first still", |s| {
            s.contains("▶ playing") && still(s).is_some() && s.contains('●')
        });
        assert!(first.contains('▄') || first.contains('▀'), "{first}");
        // Space pauses, and it says so; → steps one still.
        c.keys(" ");
        // The stills come in batches; step once they have all come (the count stops at 88).
        let stills_in = |s: &str| {
            s.lines()
                .find_map(|l| l.split(" · ").nth(1).filter(|_| l.contains("paused")))
                .and_then(|n| n.split('/').nth(1))
                .and_then(|n| n.trim().parse::<u32>().ok())
        };
        let paused = c.until("all stills, paused", |s| {
            stills_in(s).is_some_and(|n| n >= 80)
        });
        let at = still(&paused).unwrap();
        c.keys("\x1b[C");
        c.until("the next still", |s| {
            s.contains("❚❚ paused") && still(s) == Some(at + 1)
        });
        // Playing on, it moves by itself.
        c.keys(" ");
        c.until("a later still", |s| still(s).is_some_and(|n| n > at + 3));
        c.keys(" ");
        c.wait_for("❚❚ paused");
        // z fills the terminal (no pane borders left); Esc returns, Esc again stops.
        c.keys("z");
        c.until("the zoom", |s| {
            !s.contains("Learner Detail") && s.contains("❚❚ paused")
        });
        c.keys("\x1b");
        c.wait_for("Learner Detail");
        c.keys("\x1b");
        c.until("playback stopped", |s| !s.contains("❚❚ paused"));
        c.keys("f");
        let dialog = c.wait_for("This will:");
        assert!(dialog.contains("video watched"), "{dialog}");
        c.keys("\x1b");
        c.wait_for("Cancelled");
        c.quit();
    })
    .await
    .unwrap();
    demo.server.stop().await;
}
