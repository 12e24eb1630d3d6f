//! The test OpenID Connect provider (`scripts/oidc-provider`: Django with
//! django-oauth-toolkit from PyPI), set up once in a cache folder and started per test on
//! a free port over its own copy of the seeded database. People: `ada` and `zed`
//! (`NAME@example.edu`). `PROCTOR_REVIEW_REQUIRE_OIDC=1` (CI) makes a provider that cannot
//! be had a failure instead of a skip.

use super::peer::{Proc, free_port};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "proctor-review-console";

fn state() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("proctor-review-tests/oidc-provider")
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/oidc-provider")
}

fn prepared() -> Option<PathBuf> {
    let required = std::env::var("PROCTOR_REVIEW_REQUIRE_OIDC").is_ok_and(|v| v == "1");
    let state = state();
    std::fs::create_dir_all(&state).expect("provider state folder");
    let lock = std::fs::File::create(state.join(".setup.lock")).expect("lock file");
    let fd = std::os::fd::AsRawFd::as_raw_fd(&lock);
    // SAFETY: flock on a file descriptor we own; released when `lock` is dropped.
    unsafe { libc::flock(fd, libc::LOCK_EX) };
    let out = Command::new(scripts().join("setup.sh"))
        .arg(&state)
        .output();
    drop(lock);
    match out {
        Ok(o) if o.status.success() => Some(state),
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            assert!(!required, "the OIDC provider is required here but: {why}");
            eprintln!("\n*** SKIP: sign-in tests: no OIDC provider: {why} ***\n");
            None
        }
    }
}

pub struct Provider {
    pub issuer: String,
    port: u16,
    var: tempfile::TempDir,
    _proc: Proc,
    http: reqwest::Client,
}

impl Provider {
    pub async fn start() -> Option<Provider> {
        let state = prepared()?;
        let var = tempfile::tempdir().expect("provider folder");
        let db = var.path().join("provider.sqlite3");
        std::fs::copy(state.join("seed.sqlite3"), &db).expect("copy the provider's database");
        let port = free_port();
        let child = Command::new(scripts().join("serve.sh"))
            .arg(&state)
            .arg(port.to_string())
            .arg(&db)
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(var.path().join("provider.log")).expect("log"),
            ))
            .spawn()
            .expect("start the provider");
        proctor_review::client::tls_ready();
        let provider = Provider {
            issuer: format!("http://127.0.0.1:{port}/o"),
            port,
            var,
            _proc: Proc(child),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let discovery = format!("{}/.well-known/openid-configuration", provider.issuer);
        loop {
            if let Ok(r) = provider.http.get(&discovery).send().await
                && r.status().is_success()
            {
                return Some(provider);
            }
            assert!(
                Instant::now() < deadline,
                "the provider did not start:\n{}",
                provider.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.var.path().join("provider.log")).unwrap_or_default()
    }

    /// The person at the provider's page: `user` signs in and answers `action` (accept,
    /// deny, or expire: comes back after the code's lifetime) for the code they were shown.
    pub async fn answer(&self, user_code: &str, user: &str, action: &str) {
        let r = self
            .http
            .post(format!("http://127.0.0.1:{}/test/approve", self.port))
            .json(&serde_json::json!({"user_code": user_code, "user": user, "action": action}))
            .send()
            .await
            .expect("approve");
        assert!(r.status().is_success(), "{}", self.log());
    }

    /// `serve` flags for signing in with this provider.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--oidc-issuer".into(),
            self.issuer.clone(),
            "--oidc-client-id".into(),
            CLIENT_ID.into(),
        ]
    }
}

/// The code `proctor-review login` shows, read from its output.
pub fn user_code(text: &str) -> Option<String> {
    let after = text.split("enter the code").nth(1)?;
    after.split_whitespace().next().map(str::to_owned)
}
