//! The real edx-proctoring (`../shared/peers/edx-proctoring`, 6.1.4 from PyPI) under the same
//! kinds of work, for `cargo bench --bench load -- --peer`: its staff attempt list (first
//! and next page), its search, the staff view of one learner's attempt, and reviews posted
//! to its callback as a provider would (a Fail: `suspicious` with a course-staff reviewer).
//!
//! The peer runs as in production, under gunicorn with 4 workers, in a state folder of the
//! benchmark's own (`target/load-bench/peer`), set up by the peer's `setup.sh`, with gunicorn
//! added to its virtualenv and `seed_attempts.py` filling its demo exam.

use reqwest::Client;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const COURSE: &str = "course-v1:edX+DemoX+Demo_Course";
const GUNICORN: &str = "gunicorn==23.0.0";

/// The peer's server, stopped when dropped.
pub struct Peer {
    child: Child,
    pub base: String,
    pub staff: String,
    pub provider: String,
    pub seeded: Seeded,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What `seed_attempts.py` made.
pub struct Seeded {
    pub content_id: String,
    pub user_id: i64,
    pub email: String,
    pub external_ids: Vec<String>,
}

fn peer_dir() -> PathBuf {
    std::env::var_os("PEER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/edx-proctoring")
        })
}

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what} could not start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The peer set up, seeded with `attempts` learners' attempts, and serving.
pub async fn start(attempts: usize) -> Result<Peer, String> {
    proctor_review::tls::ready();
    let dir = peer_dir();
    if !dir.join("serve.sh").exists() {
        return Err(format!("no edx-proctoring peer at {}", dir.display()));
    }
    let state = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/load-bench/peer");
    std::fs::create_dir_all(&state).map_err(|e| e.to_string())?;
    let var = state.join("var");
    run(
        Command::new(dir.join("setup.sh"))
            .env("PEER_STATE_DIR", &state)
            .env("PEER_VAR_DIR", &var),
        "the peer's setup.sh",
    )?;
    let venv = state.join(".venv/bin");
    if !venv.join("gunicorn").exists() {
        run(
            Command::new(venv.join("python")).args(["-m", "pip", "install", "-q", GUNICORN]),
            "installing gunicorn",
        )?;
    }
    let django = |cmd: &mut Command| {
        cmd.current_dir(&dir)
            .env("DJANGO_SETTINGS_MODULE", "peer_site.settings")
            .env("PEER_VAR_DIR", &var)
            .env("PYTHONDONTWRITEBYTECODE", "1");
    };
    let mut seed = Command::new(venv.join("python"));
    django(&mut seed);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peer/seed_attempts.py");
    let out = run(
        seed.args(["manage.py", "shell", "-c"])
            .arg(std::fs::read_to_string(script).map_err(|e| e.to_string())?)
            .env("BENCH_ATTEMPTS", attempts.to_string()),
        "seeding the peer",
    )?;
    let seeded: Value = out
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("seeding the peer printed no summary: {out}"))?;
    let seeded = Seeded {
        content_id: seeded["content_id"].as_str().unwrap_or_default().into(),
        user_id: seeded["user_id"].as_i64().unwrap_or_default(),
        email: seeded["email"].as_str().unwrap_or_default().into(),
        external_ids: seeded["external_ids"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(Into::into))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        l.local_addr().map_err(|e| e.to_string())?.port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(venv.join("gunicorn"));
    django(&mut cmd);
    let child = cmd
        .args(["peer_site.wsgi:application", "--workers", "4", "--bind"])
        .arg(format!("127.0.0.1:{port}"))
        .env("PEER_PORT", port.to_string())
        .env("PEER_LMS_ROOT_URL", &base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("gunicorn could not start: {e}"))?;
    let mut peer = Peer {
        child,
        base,
        staff: String::new(),
        provider: String::new(),
        seeded,
    };
    let http = Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let health = http.get(format!("{}/peer/health", peer.base)).send().await;
        if health.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        if Instant::now() > deadline {
            return Err("the peer did not answer /peer/health within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    peer.staff = peer.token("peer-staff-client", "peer-staff-secret").await?;
    peer.provider = peer
        .token("peer-provider-client", "peer-provider-secret")
        .await?;
    Ok(peer)
}

impl Peer {
    async fn token(&self, id: &str, secret: &str) -> Result<String, String> {
        let body: Value = Client::new()
            .post(format!("{}/oauth2/access_token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("token_type", "jwt"),
            ])
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        body["access_token"]
            .as_str()
            .map(Into::into)
            .ok_or_else(|| format!("no token for {id}: {body}"))
    }
}

/// One request of the peer's, answering whether it succeeded.
#[derive(Clone)]
pub enum Ask {
    /// The staff attempt list's page (1 is the first).
    Page(u32),
    Search(String),
    /// The staff view of the seeded learner's attempt.
    Detail,
}

pub async fn ask(http: &Client, peer: &Peer, ask: &Ask) -> bool {
    let api = format!("{}/api/edx_proctoring/v1/proctored_exam", peer.base);
    let url = match ask {
        Ask::Page(n) => format!("{api}/attempt/grouped/course_id/{COURSE}?page={n}"),
        Ask::Search(q) => format!("{api}/attempt/grouped/course_id/{COURSE}/search/{q}"),
        Ask::Detail => format!(
            "{api}/attempt/course_id/{COURSE}?content_id={}&user_id={}",
            peer.seeded.content_id, peer.seeded.user_id
        ),
    };
    http.get(url)
        .header("Authorization", format!("JWT {}", peer.staff))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// A Fail of the attempt `external_id`, posted as the provider does for a course-staff
/// reviewer.
pub async fn fail(http: &Client, peer: &Peer, external_id: &str) -> bool {
    http.post(format!(
        "{}/api/edx_proctoring/v1/proctored_exam/attempt/{external_id}/reviewed",
        peer.base
    ))
    .header("Authorization", format!("JWT {}", peer.provider))
    .json(&json!({
        "status": "suspicious",
        "comments": [{"comment": "load benchmark", "status": "Suspicious",
                      "start": 12, "stop": 88, "duration": 76}],
        "reviewed_by": "course_staff@example.com",
    }))
    .send()
    .await
    .is_ok_and(|r| r.status().is_success())
}
