//! The real edx-proctoring (from PyPI, `../shared/peers/edx-proctoring`) on 127.0.0.1, and our
//! real `serve` beside it. The peer's virtualenv and seeded database are made once by its
//! own `setup.sh` in a cache folder; every test then runs its own copy of that database.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_proctor-review");
pub const COURSE: &str = "course-v1:edX+DemoX+Demo_Course";
/// The generated demo's courses (`serve --seed-demo N`).
pub const DEMO_COURSES: [&str; 2] = [
    "course-v1:MITx+6.0001x+2026_Fall",
    "course-v1:HarvardX+STAT110x+2026_T3",
];
/// What the peer's settings put in PROCTORING_BACKENDS['proctortrack'].
pub const CLIENT_ID: &str = "peer-provider-client-id";
pub const CLIENT_SECRET: &str = "peer-provider-client-secret";

pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peer_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PEER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/edx-proctoring")
        });
    dir.join("serve.sh").exists().then_some(dir)
}

fn state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PEER_STATE_DIR") {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("edx-proctoring-peer")
}

/// The peer folder, set up; None (after a loud SKIP line) where it cannot run. With
/// `PROCTOR_REVIEW_REQUIRE_PEER=1` (CI) a missing peer fails the test instead.
pub fn prepared() -> Option<PathBuf> {
    let required = std::env::var("PROCTOR_REVIEW_REQUIRE_PEER").is_ok_and(|v| v == "1");
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let dir = match (peer_dir(), python) {
        (Some(d), true) => d,
        (dir, _) => {
            let why = if dir.is_none() {
                "../shared/peers/edx-proctoring is missing"
            } else {
                "python3 is missing"
            };
            assert!(
                !required,
                "the edx-proctoring peer is required here but {why}"
            );
            eprintln!("\n*** SKIP: edx-proctoring interop tests: {why} ***\n");
            return None;
        }
    };
    let state = state_dir();
    std::fs::create_dir_all(&state).expect("peer state dir");
    // One setup at a time across test processes; it is quick once the venv exists.
    let lock = std::fs::File::create(state.join(".proctor-review-setup.lock")).expect("lock file");
    let fd = std::os::fd::AsRawFd::as_raw_fd(&lock);
    // SAFETY: flock on a file descriptor we own; released when `lock` is dropped.
    unsafe { libc::flock(fd, libc::LOCK_EX) };
    let seeded = state.join("var/peer.sqlite3");
    let venv = state.join(".venv/bin/python");
    if !(seeded.exists() && venv.exists()) {
        let out = Command::new(dir.join("setup.sh"))
            .env("PEER_STATE_DIR", &state)
            .env_remove("PEER_VAR_DIR")
            .output()
            .expect("run the peer's setup.sh");
        assert!(
            out.status.success(),
            "peer setup failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    drop(lock);
    Some(dir)
}

/// A free port for a peer, below the kernel's ephemeral range (where our servers' port-0
/// binds land) and never the same twice in this process: two peers started at once, or a
/// server binding port 0 just as a peer starts, once ended up on one port.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        20_000 + (std::process::id() % 8_000) as u16,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(port < 32_000, "no free port for the peer");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A running peer: its own copy of the seeded database, its provider pointed at us.
pub struct Peer {
    pub url: String,
    pub port: u16,
    pub var: tempfile::TempDir,
    dir: PathBuf,
    provider: String,
    proc: Option<Proc>,
    pub http: reqwest::Client,
}

impl Peer {
    pub async fn start(dir: &Path, provider_base_url: &str) -> Peer {
        proctor_review::client::tls_ready();
        let var = tempfile::tempdir().expect("peer var dir");
        std::fs::copy(
            state_dir().join("var/peer.sqlite3"),
            var.path().join("peer.sqlite3"),
        )
        .expect("copy the seeded peer database");
        let port = free_port();
        let mut peer = Peer {
            url: format!("http://127.0.0.1:{port}"),
            port,
            var,
            dir: dir.to_owned(),
            provider: provider_base_url.to_owned(),
            proc: None,
            http: reqwest::Client::new(),
        };
        peer.run().await;
        peer
    }

    /// Starts (again) on the same port and database.
    pub async fn run(&mut self) {
        let child = Command::new(self.dir.join("serve.sh"))
            .arg(self.port.to_string())
            .env("PEER_STATE_DIR", state_dir())
            .env("PEER_VAR_DIR", self.var.path())
            .env("PEER_PROVIDER_BASE_URL", &self.provider)
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(self.var.path().join("server.log")).expect("peer log"),
            ))
            .spawn()
            .expect("start the peer");
        self.proc = Some(Proc(child));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = self
                .http
                .get(format!("{}/peer/health", self.url))
                .send()
                .await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the peer did not start:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn stop(&mut self) {
        self.proc = None;
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.var.path().join("server.log")).unwrap_or_default()
    }

    pub async fn token(&self, client: &str, secret: &str) -> String {
        let r: Value = self
            .http
            .post(format!("{}/oauth2/access_token", self.url))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("client_secret", secret),
                ("token_type", "jwt"),
            ])
            .send()
            .await
            .expect("peer token")
            .json()
            .await
            .expect("token json");
        r["access_token"].as_str().expect("access_token").to_owned()
    }

    pub async fn staff(&self) -> String {
        self.token("peer-staff-client", "peer-staff-secret").await
    }

    pub async fn learner(&self) -> String {
        self.token("peer-learner-client", "peer-learner-secret")
            .await
    }

    /// An edx-proctoring API call; panics with the answer unless it is 2xx.
    pub async fn call(&self, method: &str, token: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/api/edx_proctoring/v1/{path}", self.url);
        let mut req = self
            .http
            .request(method.parse().expect("method"), &url)
            .header("Authorization", format!("JWT {token}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("peer answers");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} {path}: {status} {text}\n{}",
            self.log()
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The attempt's status as the LMS's staff listing shows it.
    pub async fn attempt_status(&self, external_id: &str) -> String {
        let staff = self.staff().await;
        let listing = self
            .call(
                "GET",
                &staff,
                &format!(
                    "proctored_exam/attempt/grouped/course_id/{COURSE}/search/learner@example.com"
                ),
                None,
            )
            .await;
        let all = listing["proctored_exam_attempts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        all.iter()
            .flat_map(|a| {
                std::iter::once(a.clone())
                    .chain(a["all_attempts"].as_array().cloned().unwrap_or_default())
            })
            .find(|a| a["external_id"] == external_id)
            .and_then(|a| a["status"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no attempt {external_id} in {listing}"))
    }

    pub async fn runtime_calls(&self) -> Vec<Value> {
        let r: Value = self
            .http
            .get(format!("{}/peer/runtime_calls", self.url))
            .send()
            .await
            .expect("runtime calls")
            .json()
            .await
            .expect("json");
        r["calls"].as_array().cloned().unwrap_or_default()
    }

    /// Subjects of the emails the LMS wrote.
    pub fn mail_subjects(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in super::files_below(&self.var.path().join("mail")) {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            out.extend(
                text.lines()
                    .filter_map(|l| l.strip_prefix("Subject: "))
                    .map(str::to_owned),
            );
        }
        out
    }

    /// A new exam in the course, created by staff through edx-proctoring (which registers it
    /// with its provider: us). Returns the LMS exam id.
    pub async fn create_exam(&self, name: &str, content: &str) -> i64 {
        let staff = self.staff().await;
        let r = self
            .call(
                "POST",
                &staff,
                "proctored_exam/exam",
                Some(json!({
                    "course_id": COURSE,
                    "content_id": format!("block-v1:edX+DemoX+Demo_Course+type@sequential+block@{content}"),
                    "exam_name": name,
                    "time_limit_mins": 30,
                    "is_proctored": true,
                    "is_practice_exam": false,
                    "is_active": true,
                    "external_id": format!("lms-{content}"),
                    "hide_after_due": false,
                })),
            )
            .await;
        r["exam_id"].as_i64().expect("exam_id")
    }

    /// The learner takes the exam: attempt created (registered with us), started, submitted.
    /// Returns the attempt's external id (ours).
    pub async fn take_exam(&self, exam_id: i64) -> String {
        let learner = self.learner().await;
        let created = self
            .call(
                "POST",
                &learner,
                "proctored_exam/attempt",
                Some(json!({"exam_id": exam_id, "attempt_proctored": "true", "start_clock": "false"})),
            )
            .await;
        let id = created["exam_attempt_id"]
            .as_i64()
            .expect("exam_attempt_id");
        let attempt = self
            .call(
                "GET",
                &learner,
                &format!("proctored_exam/attempt/{id}"),
                None,
            )
            .await;
        let external = attempt["external_id"]
            .as_str()
            .expect("external_id")
            .to_owned();
        for action in ["start", "submit"] {
            self.call(
                "PUT",
                &learner,
                &format!("proctored_exam/attempt/{id}"),
                Some(json!({ "action": action })),
            )
            .await;
        }
        external
    }
}

/// Our `serve`, a real process on a free port with its own database.
pub struct Ours {
    pub url: String,
    pub db: PathBuf,
    pub dir: tempfile::TempDir,
    _proc: Proc,
}

impl Ours {
    pub fn start() -> Ours {
        Self::start_with(&["--lms-sync-secs", "0"])
    }

    pub fn start_with(extra: &[&str]) -> Ours {
        Self::spawn(Command::new(BIN), extra)
    }

    /// `serve` allowed only `fds` open descriptors (`ulimit -n`).
    /// A server with `env` set beside its flags (object store settings, say).
    pub fn start_with_env(env: &[(&str, &str)], extra: &[&str]) -> Ours {
        let mut command = Command::new(BIN);
        command.envs(env.iter().copied());
        Self::spawn(command, extra)
    }

    pub fn start_with_fd_limit(fds: u32, extra: &[&str]) -> Ours {
        let mut sh = Command::new("sh");
        sh.args(["-c", &format!("ulimit -n {fds} && exec \"$0\" \"$@\""), BIN]);
        Self::spawn(sh, extra)
    }

    fn spawn(command: Command, extra: &[&str]) -> Ours {
        Self::spawn_in(command, tempfile::tempdir().expect("temp dir"), extra)
    }

    /// Stops this server (SIGTERM) and starts another on the same database and folders.
    pub fn restart(mut self, extra: &[&str]) -> Ours {
        self.terminate();
        let Ours { dir, .. } = self;
        Self::spawn_in(Command::new(BIN), dir, extra)
    }

    /// Kills this server (SIGKILL: no shutdown at all) and starts another on the same
    /// database and folders.
    pub fn crash_and_restart(mut self, extra: &[&str]) -> Ours {
        let _ = self._proc.0.kill();
        let _ = self._proc.0.wait();
        let Ours { dir, .. } = self;
        Self::spawn_in(Command::new(BIN), dir, extra)
    }

    fn spawn_in(command: Command, dir: tempfile::TempDir, extra: &[&str]) -> Ours {
        let db = dir.path().join("review.sqlite3");
        Self::spawn_on(command, dir, db, extra)
    }

    /// A server process on the database `db` (a file or a PostgreSQL URL), with a log
    /// folder of its own.
    pub fn on(db: &str, extra: &[&str]) -> Ours {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::spawn_on(Command::new(BIN), dir, PathBuf::from(db), extra)
    }

    /// [`Ours::on`] with `env` set beside the flags (object store settings, say).
    pub fn on_with_env(db: &str, env: &[(&str, String)], extra: &[&str]) -> Ours {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(BIN);
        command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        Self::spawn_on(command, dir, PathBuf::from(db), extra)
    }

    /// Kills the server process (SIGKILL: no shutdown at all).
    pub fn kill(&mut self) {
        let _ = self._proc.0.kill();
        let _ = self._proc.0.wait();
    }

    /// A second server process on this one's database (its own log folder).
    pub fn beside(&self, extra: &[&str]) -> Ours {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::spawn_on(Command::new(BIN), dir, self.db.clone(), extra)
    }

    fn spawn_on(mut command: Command, dir: tempfile::TempDir, db: PathBuf, extra: &[&str]) -> Ours {
        // On PostgreSQL the folders default to the data directory; a test keeps them in
        // its own folder unless it shares them between servers.
        let own_folders: Vec<PathBuf> =
            if db.to_string_lossy().starts_with("postgres") && !extra.contains(&"--media-dir") {
                ["media", "outbox", "reports", "link.key"]
                    .iter()
                    .map(|n| dir.path().join(n))
                    .collect()
            } else {
                Vec::new()
            };
        // A PostgreSQL server keeps what it makes (its audit key) in the data directory, in
        // a folder named for the database: servers on one database share it, and nothing
        // lands in the home directory of whoever runs the tests.
        command.env(
            "PROCTOR_REVIEW_DATA_DIR",
            std::env::temp_dir().join("proctor-review-tests"),
        );
        command.args(["serve", "--create", "--db"]).arg(&db);
        for (flag, path) in [
            "--media-dir",
            "--outbox",
            "--reports-dir",
            "--link-key-file",
        ]
        .iter()
        .zip(&own_folders)
        {
            command.arg(flag).arg(path);
        }
        let mut child = command
            .args(["--listen", "127.0.0.1:0"])
            // Emails and callbacks go out at once unless a test is about undo.
            .args(if extra.contains(&"--undo-grace-secs") {
                &[][..]
            } else {
                &["--undo-grace-secs", "0"][..]
            })
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.path().join("server.log"))
                    .expect("log"),
            ))
            .spawn()
            .expect("serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("listening line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_owned();
        Ours {
            url,
            db,
            dir,
            _proc: Proc(child),
        }
    }

    /// Runs a CLI command on our database; its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new(BIN)
            .args(args)
            .arg("--db")
            .arg(&self.db)
            .output()
            .expect("cli");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A new account's token; a `reviewer` is granted the demo's courses and the peer's.
    pub fn reviewer(&self, username: &str, email: &str, role: &str) -> String {
        let mut args = vec![
            "reviewer",
            "add",
            "--username",
            username,
            "--email",
            email,
            "--role",
            role,
        ];
        if role == "reviewer" {
            for course in [COURSE, DEMO_COURSES[0], DEMO_COURSES[1]] {
                args.extend(["--course", course]);
            }
        }
        self.cli(&args).trim().to_owned()
    }

    /// A reviewer who may see (and with `Access::Review` decide in) only `courses`.
    pub fn reviewer_in(&self, username: &str, courses: &[&str], read_only: &[&str]) -> String {
        let email = format!("{username}@example.edu");
        let mut args = vec!["reviewer", "add", "--username", username, "--email", &email];
        for course in courses {
            args.extend(["--course", course]);
        }
        for course in read_only {
            args.extend(["--read-only-course", course]);
        }
        self.cli(&args).trim().to_owned()
    }

    pub fn connect(&self, peer: &Peer, lms_client: &str, lms_secret: &str) {
        self.cli(&[
            "lms",
            "add",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
            "--lms-url",
            &peer.url,
            "--lms-client-id",
            lms_client,
            "--lms-client-secret",
            lms_secret,
        ]);
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The server's process id (to read its memory, say).
    pub fn pid(&self) -> u32 {
        self._proc.0.id()
    }

    /// Sends SIGTERM, as a service manager does, and waits for the exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self._proc.0.id() as libc::pid_t;
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        self._proc.0.wait().expect("exit status")
    }

    pub fn api(&self, token: &str) -> proctor_review::client::ApiClient {
        proctor_review::client::ApiClient::new(&self.url, token).expect("client")
    }
}
