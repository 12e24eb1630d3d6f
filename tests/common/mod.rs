#![allow(dead_code)]

pub mod console;
pub mod oidc;
pub mod peer;
pub mod pg;
pub mod pty;
pub mod s3;
pub mod sessions;
pub mod smtp;
pub mod test_ca;

use proctor_review::api::ChangeEvent;
use proctor_review::client::ApiClient;
use proctor_review::demo;
use proctor_review::embedded::{self, EmbeddedOptions, RunningServer};
use proctor_review::server::MailTransport;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub struct Demo {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
}

impl Demo {
    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }
}

pub async fn start_demo() -> Demo {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_in(dir.path()).await;
    Demo { server, dir }
}

/// The demo server on the database and media folder in `dir` (kept across restarts).
pub async fn start_in(dir: &Path) -> RunningServer {
    embedded::start(EmbeddedOptions {
        db: dir.join("review.sqlite3"),
        mail: MailTransport::Folder(dir.join("outbox")),
        reset: false,
        media_dir: dir.join("media"),
        reports_dir: dir.join("reports"),
        undo_grace: time::Duration::ZERO,
        data: demo::embedded().expect("demo data"),
    })
    .await
    .expect("server starts")
}

/// Every file below `dir`, recursively.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_below(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The `.eml` files in `dir` (an outbox), sorted.
pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = files_below(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
}

/// Waits (up to 30 s) until no job of `kind` is queued or running: whatever the workers
/// were going to do has been done, so nothing more can come of it. The jobs, as they end.
pub async fn settled<S: proctor_review::store::Store>(
    store: &S,
    kind: proctor_review::domain::JobKind,
) -> Vec<proctor_review::domain::Job> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let jobs = store.jobs(kind, None).await.expect("jobs");
        if !jobs.iter().any(|j| j.state.pending()) {
            return jobs;
        }
        assert!(Instant::now() < deadline, "jobs never settled: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `.eml` files in `dir`, waiting up to 10 s for at least `n` to appear (the mailer
/// delivers after the decision commits). Async, so an in-process server keeps running.
pub async fn wait_for_emails(dir: &Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let files = eml_files(dir);
        if files.len() >= n || Instant::now() > deadline {
            return files
                .iter()
                .map(|p| std::fs::read_to_string(p).expect("readable eml"))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Follows the event stream of `api` in the background; returns once the stream is open,
/// so what happens next is heard.
pub async fn follow(api: ApiClient, last: Option<u64>) -> mpsc::UnboundedReceiver<ChangeEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (opened, is_open) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut opened = Some(opened);
        let end = api
            .events(
                last,
                || {
                    if let Some(o) = opened.take() {
                        let _ = o.send(());
                    }
                },
                |e| {
                    let _ = tx.send(e);
                },
            )
            .await;
        eprintln!("event stream ended: {end:?}");
    });
    tokio::time::timeout(Duration::from_secs(10), is_open)
        .await
        .expect("the stream opens")
        .expect("the stream opens");
    rx
}
