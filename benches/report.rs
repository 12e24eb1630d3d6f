//! `cargo bench --bench report`: the Proctored Exam Results report of a course with
//! 1,000,000 attempts, made by a real `serve` process. Prints rows per second and the
//! server's peak resident memory; asserts nothing.

use proctor_review::demo;
use proctor_review::store::prelude::*;
use proctor_review::store::sqlite::SqliteStore;
use std::io::BufRead;
use std::time::{Duration, Instant};

/// The demo puts three of every four sessions in its first course: 1,000,002 attempts.
/// `REPORT_BENCH_SESSIONS` sets another size for a quicker look.
const SESSIONS: usize = 1_333_336;
const COURSE: &str = "course-v1:MITx+6.0001x+2026_Fall";

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sessions = std::env::var("REPORT_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SESSIONS);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.sqlite3");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = Instant::now();
    rt.block_on(async {
        let store = SqliteStore::open(&db).unwrap();
        store
            .seed(demo::generate(sessions, demo::DEMO_SEED).unwrap())
            .await
            .unwrap();
    });
    println!(
        "{:<44} {:>9.1} s",
        format!("seed {sessions} sessions"),
        t.elapsed().as_secs_f64()
    );

    let bin = env!("CARGO_BIN_EXE_proctor-review");
    let mut server = std::process::Command::new(bin)
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
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
        .args([
            "--username",
            "bench",
            "--email",
            "bench@example.edu",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let before = status_kb(server.id(), "VmRSS:");

    let client = proctor_review::client::ApiClient::new(&url, &token).unwrap();
    let job = rt.block_on(async {
        let job = proctor_review::client::report::start(&client, COURSE)
            .await
            .unwrap();
        loop {
            let list = client.reports(COURSE).await.unwrap();
            if let Some(done) = list.available.into_iter().find(|j| j.id == job.id) {
                break done;
            }
            assert!(
                list.pending
                    .iter()
                    .all(|j| j.state != proctor_review::domain::JobState::Failed),
                "the report failed: {:?}",
                list.pending
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let peak = status_kb(server.id(), "VmHWM:");
    let report = job.report.clone().unwrap();
    let secs = (job.finished_at.unwrap() - job.started_at.unwrap()).as_seconds_f64();
    println!(
        "{:<44} {:>9.0} rows/s ({} rows in {:.2} s, {:.1} MB file)",
        "report job",
        report.rows as f64 / secs,
        report.rows,
        secs,
        report.size as f64 / 1e6
    );
    println!(
        "{:<44} {:>9.1} MiB (server at rest before: {:.1} MiB)",
        "server peak RSS",
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
    let _ = server.kill();
    let _ = server.wait();
}
