//! `cargo bench --bench playback`: the numbers behind watching evidence in the terminal
//! (issue #25). Prints them; asserts nothing.
//!
//! - derivation: time per minute of video to draw a recording's stills, and `serve`'s peak
//!   memory as it draws a seeded database's videos;
//! - the wire: bytes a second of playback and requests per stretch;
//! - key → first still drawn (Space), with the stills being drawn (cold) and drawn (warm);
//! - sustained playback at 120x40 in half-blocks: stills drawn a second and the console's
//!   CPU, through a real terminal.

// Lists of flagged spans often hold just one; that is what they mean.
#![allow(clippy::single_range_in_vec_init)]

use portable_pty::CommandBuilder;
use proctor_review::domain::ContentType;
use proctor_review::media::frames::{self, Wanted};
use std::time::{Duration, Instant};

#[path = "../tests/common/mod.rs"]
mod common;
use common::pty;

fn asset(name: &str) -> tempfile::NamedTempFile {
    let a = proctor_review::demo::evidence::assets()
        .iter()
        .find(|a| a.name == name)
        .expect("a demo asset");
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, a.bytes).unwrap();
    f
}

fn derivation() {
    for (name, ct, minutes, flagged) in [
        ("recording.mp4", ContentType::Mp4, 3.0, vec![40_000..48_000]),
        ("clips/phone.mp4", ContentType::Mp4, 0.2, vec![4_000..9_000]),
        (
            "clips/voices.webm",
            ContentType::Webm,
            0.2,
            vec![4_000..9_000],
        ),
    ] {
        let ffmpeg = frames::find_ffmpeg(None);
        if ct == ContentType::Webm && ffmpeg.is_none() {
            println!("{name:<28} skipped: no ffmpeg on PATH");
            continue;
        }
        let file = asset(name);
        let wanted = Wanted {
            length_hint_ms: Some((minutes * 60_000.0) as u64),
            flagged,
        };
        let mut samples = Vec::new();
        let mut pack = None;
        for _ in 0..5 {
            let t = Instant::now();
            pack = Some(frames::derive(file.path(), ct, &wanted, ffmpeg.as_deref()).unwrap());
            samples.push(t.elapsed());
        }
        samples.sort();
        let median = samples[samples.len() / 2];
        let pack = pack.unwrap();
        println!(
            "derive {name:<21} {:>7.1} ms ({:>6.1} ms per minute of video), {} stills, {:.0} KB",
            median.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3 / minutes,
            pack.frames.len(),
            pack.to_bytes().len() as f64 / 1024.0
        );
    }
}

fn vm_hwm_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// `serve`'s peak memory before and after it draws every video of a seeded database.
fn server_memory() {
    let mut ours = common::peer::Ours::start_with(&[
        "--lms-sync-secs",
        "0",
        "--seed-demo",
        "40",
        "--job-poll-ms",
        "100",
    ]);
    let pid = ours.pid();
    let before = vm_hwm_mb(pid);
    let t = Instant::now();
    ours.cli(&["evidence", "frames", "--all"]);
    let frames = ours.dir.path().join("media").join("frames");
    // One folder per video file once its first pack is kept.
    let drawn = |n: usize| std::fs::read_dir(&frames).map_or(0, |d| d.count()) >= n;
    let db = rusqlite::Connection::open(&ours.db).unwrap();
    let videos: i64 = db
        .query_row(
            "SELECT COUNT(DISTINCT sha256) FROM media WHERE kind = 'video'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    while !drawn(videos as usize) && t.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "serve: {} packs drawn in {:.1} s; peak memory {:.0} MB before, {:.0} MB after",
        common::files_below(&frames).len(),
        t.elapsed().as_secs_f64(),
        before,
        vm_hwm_mb(pid)
    );
    ours.kill();
}

/// A flagged stretch's pack as the console fetches it: bytes per second of playback.
async fn wire() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::start_in(dir.path()).await;
    let c = proctor_review::client::ApiClient::new(&server.url, &server.token).unwrap();
    let exams = c.courses().await.unwrap();
    let exam = exams[0].exams[1].exam.id;
    let q = proctor_review::api::SessionQuery {
        status: "second_review_required".into(),
        ..Default::default()
    };
    let row = c.sessions(exam, &q).await.unwrap().items[0].clone();
    let d = c.session(row.id).await.unwrap();
    let v = &d.violations[0];
    let clip = d
        .media
        .iter()
        .find(|m| m.violation_id == Some(v.id) && m.kind.is_video())
        .unwrap();
    let from_ms = ((v.start_time - clip.offset_start.unwrap_or(0)).max(0) as u64 * 1000)
        .saturating_sub(3_000);
    let to_ms = from_ms + 11_000;
    let query = proctor_review::api::FramePackQuery {
        from_ms,
        to_ms: Some(to_ms),
        sheet: false,
    };
    let t = Instant::now();
    let pack = loop {
        if let Some(p) = c.frame_pack(clip.id, &query).await.unwrap() {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let cold = t.elapsed();
    let t = Instant::now();
    let again = c.frame_pack(clip.id, &query).await.unwrap().unwrap();
    let warm = t.elapsed();
    let bytes = again.to_bytes().len() as f64;
    let secs = (to_ms - from_ms) as f64 / 1000.0;
    println!(
        "stretch of {secs:.0} s: {} stills in 1 request, {:.0} KB → {:.1} KB/s of playback at 8 stills/s",
        pack.frames.len(),
        bytes / 1024.0,
        bytes / 1024.0 / secs
    );
    println!(
        "frame pack request: cold (drawing) {:.0} ms, warm {:.1} ms",
        cold.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3
    );
    server.stop().await;
}

fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
}

/// The still number on the status line ("▶ playing 4:52.1 · 12/88 · …").
fn still(s: &str) -> Option<u32> {
    s.lines()
        .filter(|l| l.contains("playing") || l.contains("paused"))
        .find_map(|l| l.split(" · ").nth(1))
        .and_then(|n| n.split('/').next())
        .and_then(|n| n.trim().parse().ok())
}

fn console_playback(images: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_proctor-review"));
    cmd.args(["--images", images, "--fresh"]);
    cmd.env("PROCTOR_REVIEW_DATA_DIR", dir.path());
    cmd.env("PROCTOR_REVIEW_CONFIG", dir.path().join("none.toml"));
    let mut c = pty::Pty::spawn_sized(cmd, 120, 40);
    let pid = c.child.process_id().unwrap_or(0);
    c.wait_for("Midterm Exam");
    c.keys("jj\r");
    c.wait_for("Viol");
    c.wait_for("Learner sees");
    c.keys("\r");
    c.wait_for("┏ ● Learner Detail");
    c.keys("3");
    c.wait_for("[3 Violations]");
    let first = |c: &mut pty::Pty| {
        let t = Instant::now();
        c.keys(" ");
        c.until("the first still", |s| {
            s.contains("▶ playing") && still(s).is_some()
        });
        t.elapsed()
    };
    let cold = first(&mut c);
    // Let it run at twice the speed (16 stills a second of content) and count what is drawn.
    c.keys(".");
    let (t0, cpu0, bytes0) = (Instant::now(), cpu_ticks(pid), c.output.len());
    let mut seen = std::collections::BTreeSet::new();
    while t0.elapsed() < Duration::from_secs(4) {
        c.until("a change", |s| {
            still(s).is_some_and(|n| !seen.contains(&n)) || s.contains("❚❚")
        });
        match still(&c.text()) {
            Some(n) if !c.text().contains("❚❚") => {
                seen.insert(n);
            }
            _ => break,
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = (cpu_ticks(pid) - cpu0) as f64 / 100.0;
    println!(
        "playback at 2× ({images}, 120x40): {:.1} stills drawn a second, console CPU {:.0}% of a core, {:.0} KB/s to the terminal",
        seen.len() as f64 / secs,
        cpu / secs * 100.0,
        (c.output.len() - bytes0) as f64 / 1024.0 / secs
    );
    // Warm: stopped and started again, the stills are drawn already.
    c.keys("\x1b");
    c.until("stopped", |s| still(s).is_none());
    let mut warm = Vec::new();
    for _ in 0..5 {
        warm.push(first(&mut c));
        c.keys("\x1b");
        c.until("stopped", |s| still(s).is_none());
    }
    warm.sort();
    println!(
        "Space → first still drawn ({images}): cold {:.0} ms, warm median {:.0} ms",
        cold.as_secs_f64() * 1e3,
        warm[warm.len() / 2].as_secs_f64() * 1e3
    );
    c.keys("q");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    derivation();
    server_memory();
    tokio::runtime::Runtime::new().unwrap().block_on(wire());
    console_playback("halfblocks");
    console_playback("kitty");
}
