//! What the load benchmarks share: a `serve` process of our own binary on a database, with
//! an admin's token, its own folders, and killed when dropped.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_proctor-review");

pub struct Server {
    pub child: Child,
    pub url: String,
    pub token: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The server's memory in MiB: resident now, and the most it has held (its peak).
    pub fn memory_mib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .map_or(0, |kib| kib / 1024)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

static SERVED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `serve` on `db` (a SQLite file or a postgres:// URL) with an admin of its own (a copied
/// database holds the earlier runs' reviewers) and its folders in a temporary directory.
pub fn serve(db: &str) -> Server {
    serve_with(db, &[])
}

/// As [`serve`], with `extra` flags.
pub fn serve_with(db: &str, extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let who = format!(
        "bench{}-{}",
        std::process::id(),
        SERVED.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let out = Command::new(BIN)
        .args(["reviewer", "add", "--db", db, "--username", &who])
        .args(["--email", "bench@example.edu", "--role", "admin"])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            "127.0.0.1:0",
            "--lms-sync-secs",
            "0",
        ])
        .arg("--outbox")
        .arg(dir.path().join("outbox"))
        .arg("--reports-dir")
        .arg(dir.path().join("reports"))
        .arg("--media-dir")
        .arg(dir.path().join("media"))
        .arg("--link-key-file")
        .arg(dir.path().join("link.key"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    Server {
        url: line.trim().trim_start_matches("listening on ").to_owned(),
        token,
        child,
        _dir: dir,
    }
}
