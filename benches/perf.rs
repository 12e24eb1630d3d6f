//! `cargo bench`: the numbers behind the speed targets. Prints a table; asserts nothing.
//!
//! - draw: one frame of the Sessions pane with 100 000 rows loaded (target < 2 ms);
//! - store: first page, search and a decision against 100 000 sessions in SQLite;
//! - launch: release binary start to the first frame with the demo's quiz list drawn.

use portable_pty::CommandBuilder;
use proctor_review::api::{Page, SessionQuery, SortKey};
use proctor_review::console::action::Action;
use proctor_review::console::state::{Listing, Pane, State};
use proctor_review::console::theme::Theme;
use proctor_review::console::update::update;
use proctor_review::console::view::view;
use proctor_review::demo;
use proctor_review::domain::{ExamCounts, ExamSummary, Verdict};
use proctor_review::store::prelude::*;
use proctor_review::store::sqlite::SqliteStore;
use proctor_review::store::{DecisionCommand, PlannedDecision};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

const N: usize = 100_000;

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let p = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "{name:<44} n={:<5} median {:>9.3} ms   p99 {:>9.3} ms",
        samples.len(),
        p(0.5).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3
    );
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

fn draw_bench(data: &demo::DemoData) {
    let rows: Vec<_> = store_rows(data);
    let mut state = State::new("http://bench".into(), Theme::from_env(), 200, 50);
    state.focus = Pane::Sessions;
    state.sessions.listing = Some(Listing::Exam(ExamSummary {
        exam: data.exams[1].clone(),
        counts: ExamCounts {
            sessions: N as u64,
            ..Default::default()
        },
    }));
    let request = state.request_id();
    state.sessions.request = Some(request);
    update(
        &mut state,
        Action::SessionsLoaded {
            request,
            result: Ok(Page {
                total: rows.len() as u64,
                offset: 0,
                items: rows,
                prev: None,
                next: None,
                at_least: false,
            }),
        },
    );
    for (w, h) in [(200u16, 50u16), (80, 24)] {
        update(&mut state, Action::Resize(w, h));
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        let mut samples = Vec::new();
        for i in 0..300 {
            state.sessions.cursor = (i * 331) % N;
            samples.push(time(|| term.draw(|f| view(&state, f)).unwrap()).1);
        }
        stats(&format!("draw Sessions, {N} rows, {w}x{h}"), samples);
    }
}

fn store_rows(data: &demo::DemoData) -> Vec<proctor_review::domain::SessionRow> {
    data.sessions
        .iter()
        .map(|s| proctor_review::domain::SessionRow {
            id: s.id,
            exam_id: s.exam_id,
            learner: data.learners[s.learner].clone(),
            status: s.status,
            review_status: s.review_status,
            violation_count: s.violations.len() as u32,
            started_at: s.started_at,
            completed_at: s.completed_at,
            marks: s
                .violations
                .iter()
                .map(|v| proctor_review::domain::ViolationMark {
                    at: v.start_time,
                    rules: v.is_rules_violation(),
                })
                .collect(),
            lms: None,
            grade: None,
            reviewed_by: None,
            decided_at: None,
            awaiting_from: None,
        })
        .collect()
}

async fn store_bench(data: demo::DemoData) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("bench.sqlite3")).unwrap();
    let t = Instant::now();
    store.seed(data).await.unwrap();
    println!(
        "{:<44} {:>9.0} ms",
        format!("seed {N} sessions"),
        t.elapsed().as_secs_f64() * 1e3
    );
    let exam = 2;
    for (name, q) in [
        (
            "first page, attention first, by start",
            SessionQuery::default(),
        ),
        (
            "first page, by violations",
            SessionQuery {
                sort: SortKey::Violations,
                ..Default::default()
            },
        ),
        (
            "search 'garc'",
            SessionQuery {
                q: "garc".into(),
                ..Default::default()
            },
        ),
        (
            "search with no hit 'zzqx'",
            SessionQuery {
                q: "zzqx".into(),
                ..Default::default()
            },
        ),
        (
            "search 'ez' (two letters: scan)",
            SessionQuery {
                q: "ez".into(),
                ..Default::default()
            },
        ),
        (
            "page at offset 20000",
            SessionQuery {
                offset: 20_000,
                ..Default::default()
            },
        ),
    ] {
        let mut samples = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            store.sessions(exam, q.validate().unwrap()).await.unwrap();
            samples.push(t.elapsed());
        }
        stats(&format!("store: {name}"), samples);
    }
    let mut samples = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        store
            .courses(proctor_review::domain::access::CourseScope::All)
            .await
            .unwrap();
        samples.push(t.elapsed());
    }
    stats("store: quiz list counts", samples);
    let reviewer = store
        .create_reviewer(
            "bench".into(),
            "bench@example.edu".into(),
            "Bench".into(),
            Default::default(),
        )
        .await
        .unwrap();
    let mut samples = Vec::new();
    for id in 1..=50i64 {
        let t = Instant::now();
        let _ = store
            .decide(DecisionCommand {
                session_id: id * 7,
                reviewer: reviewer.clone(),
                reason: String::new(),
                at: time::OffsetDateTime::now_utc(),
                verdict: Verdict::Fail,
                idempotency_key: None,
                hold_until: time::OffsetDateTime::now_utc(),
                opened_secs: None,
                planner: |ctx: &proctor_review::store::DecisionContext| {
                    let plan = proctor_review::domain::plan_decision(&ctx.facts, Verdict::Fail)?;
                    Ok(PlannedDecision {
                        plan,
                        email: None,
                        lms: None,
                        step: proctor_review::domain::second_review::Step::Final,
                    })
                },
            })
            .await;
        samples.push(t.elapsed());
    }
    stats("store: one decision (transaction)", samples);
}

#[path = "../tests/common/pty.rs"]
#[allow(dead_code)]
mod pty;

fn console(args: &[&str], data_dir: &std::path::Path) -> pty::Pty {
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_proctor-review"));
    cmd.args(args);
    // Every run on the first screen, whatever an earlier one left.
    cmd.arg("--fresh");
    cmd.env("PROCTOR_REVIEW_DATA_DIR", data_dir);
    cmd.env("PROCTOR_REVIEW_CONFIG", data_dir.join("none.toml"));
    pty::Pty::spawn(cmd)
}

/// Time from writing `keys` to the first frame for which `done` holds.
fn key_to_frame(c: &mut pty::Pty, keys: &str, done: impl Fn(&str) -> bool) -> Duration {
    let t = Instant::now();
    c.keys(keys);
    c.until(keys, done);
    t.elapsed()
}

fn launch_bench() {
    let dir = tempfile::tempdir().unwrap();
    let mut samples = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut c = console(&[], dir.path());
        c.wait_for("Midterm Exam");
        samples.push(t.elapsed());
    }
    stats("launch → quiz list drawn (demo, warm db)", samples);
    let bin = env!("CARGO_BIN_EXE_proctor-review");
    let size = std::fs::metadata(bin).map(|m| m.len()).unwrap_or(0);
    println!(
        "{:<44} {:>9.1} MB ({bin})",
        "binary size",
        size as f64 / 1e6
    );
}

/// Key-to-frame through a real terminal against `serve` holding 100 000 sessions.
fn latency_bench() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.sqlite3");
    let bin = env!("CARGO_BIN_EXE_proctor-review");
    let mut server = std::process::Command::new(bin)
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--seed-demo", &N.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().trim_start_matches("listening on ").to_owned();
    let out = std::process::Command::new(bin)
        .args(["reviewer", "add", "--db", db.to_str().unwrap()])
        .args(["--username", "bench", "--email", "bench@example.edu"])
        // Every course of the seeded demo, without naming them.
        .args(["--role", "admin"])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let mut c = console(&["--server", &url, "--token", &token], dir.path());
    c.wait_for("Midterm Exam");
    // Past the queue (entry 0) and the onboarding exam.
    key_to_frame(&mut c, "jj", |s| s.contains("▶  Midterm Exam"));
    let open = key_to_frame(&mut c, "\r", |s| {
        s.contains("to review") && s.contains("Viol")
    });
    println!(
        "{:<44} {:>9.3} ms",
        format!("open exam of {} sessions → first page", N / 4),
        open.as_secs_f64() * 1e3
    );
    let mut samples = Vec::new();
    for i in 1..=60 {
        // Wait for the frame in which the ▶ marker has moved to the next row.
        let marked = |s: &str| s.lines().find(|l| l.starts_with("┃▶")).map(str::to_owned);
        let before = marked(&c.parser.screen().contents());
        samples.push(key_to_frame(&mut c, "j", |s| {
            marked(s).is_some() && marked(s) != before
        }));
        if i % 20 == 0 {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    stats("key → frame: move in a 25 000-row list", samples);
    let _ = server.kill();
    let _ = server.wait();
}

/// Selecting the next learner while Learner Detail shows the violations tab: key to the
/// frame with their detail and the screenshot preview drawn (embedded demo, 120x40).
fn evidence_bench() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_proctor-review"));
    cmd.args(["--images", "halfblocks"]);
    cmd.env("PROCTOR_REVIEW_DATA_DIR", dir.path());
    let mut c = pty::Pty::spawn_sized(cmd, 120, 40);
    c.wait_for("Midterm Exam");
    // Entry 0 is the cross-exam queue, 1 the onboarding exam, 2 the Midterm.
    c.keys("jj\r");
    c.wait_for("Viol");
    c.wait_for("Learner sees");
    c.keys("\r");
    c.wait_for("┏ ● Learner Detail");
    c.keys("3");
    c.wait_for("[3 Violations]");
    c.keys("\x1b");
    c.wait_for("Quiz List ─");
    // Require Attention sessions all have flagged moments with screenshots.
    c.keys("a");
    c.wait_for("8/20 shown");
    let blocks = |s: &str| s.contains('▀') || s.contains('▄');
    let title = |s: &str| s.lines().nth(1).unwrap_or("").to_owned();
    c.until("the first preview", blocks);
    let mut samples = Vec::new();
    for _ in 0..7 {
        let before = title(&c.text());
        samples.push(key_to_frame(&mut c, "j", |s| {
            let t = title(s);
            t != before && t.contains("Learner Detail — ") && blocks(s)
        }));
        std::thread::sleep(Duration::from_millis(150));
    }
    stats("select learner → detail + preview drawn", samples);
    let assets: u64 = ["clips", "shots", "scans"]
        .iter()
        .flat_map(|d| std::fs::read_dir(format!("assets/demo/media/{d}")).unwrap())
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    println!(
        "{:<44} {:>9.1} KB",
        "demo media in assets/",
        assets as f64 / 1024.0
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let data = demo::generate(N, demo::DEMO_SEED).unwrap();
    draw_bench(&data);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(store_bench(data));
    launch_bench();
    evidence_bench();
    latency_bench();
}
