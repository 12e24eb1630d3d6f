//! A real S3 server for the object-store tests: s3s-fs (crates.io), installed once into
//! a cache folder by `scripts/install-s3s-fs.sh`, started per test on a free port over a
//! folder of its own. With `PROCTOR_REVIEW_REQUIRE_S3=1` (CI) a server that cannot be had
//! fails the test instead of skipping it.

use super::peer::{Proc, free_port};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BUCKET: &str = "evidence";
const KEY: &str = "proctor-review-test";
const SECRET: &str = "proctor-review-test-secret";

fn cache_root() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("proctor-review-tests/s3s-fs")
}

/// The s3s-fs program, installed if need be; None (after a loud SKIP) where it cannot be.
fn program() -> Option<PathBuf> {
    let required = std::env::var("PROCTOR_REVIEW_REQUIRE_S3").is_ok_and(|v| v == "1");
    let root = cache_root();
    std::fs::create_dir_all(&root).expect("s3s-fs cache folder");
    // One install at a time across test processes.
    let lock = std::fs::File::create(root.join(".install.lock")).expect("lock file");
    let fd = std::os::fd::AsRawFd::as_raw_fd(&lock);
    // SAFETY: flock on a file descriptor we own; released when `lock` is dropped.
    unsafe { libc::flock(fd, libc::LOCK_EX) };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-s3s-fs.sh");
    let out = Command::new(script).arg(&root).output();
    drop(lock);
    let bin = root.join("bin/s3s-fs");
    match out {
        Ok(o) if o.status.success() && bin.exists() => Some(bin),
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            assert!(!required, "s3s-fs is required here but: {why}");
            eprintln!("\n*** SKIP: S3 tests: s3s-fs could not be installed: {why} ***\n");
            None
        }
    }
}

/// A running S3 server with one bucket.
pub struct S3 {
    pub port: u16,
    /// What it keeps: `root/BUCKET/KEY` is each object.
    pub root: tempfile::TempDir,
    bin: PathBuf,
    proc: Option<Proc>,
}

impl S3 {
    pub fn start() -> Option<S3> {
        let bin = program()?;
        let root = tempfile::tempdir().expect("s3 root");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket");
        let mut s3 = S3 {
            port: free_port(),
            root,
            bin,
            proc: None,
        };
        s3.run();
        Some(s3)
    }

    /// Starts (again) on the same port and folder, and waits until it answers.
    pub fn run(&mut self) {
        let child = Command::new(&self.bin)
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", KEY, "--secret-key", SECRET])
            .arg(self.root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3s-fs");
        self.proc = Some(Proc(child));
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (the bucket becomes unreachable).
    pub fn stop(&mut self) {
        self.proc = None;
    }

    /// `--object-store` for a prefix in the bucket.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}")
    }

    /// The settings a server needs to reach it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
    }

    /// Every object's key in the bucket.
    pub fn keys(&self) -> Vec<String> {
        let bucket = self.root.path().join(BUCKET);
        super::files_below(&bucket)
            .iter()
            .filter_map(|p| p.strip_prefix(&bucket).ok())
            .map(|p| p.to_string_lossy().into_owned())
            .filter(|k| !k.starts_with(".") && !k.contains("/."))
            .collect()
    }
}
