//! `proctor-review serve` and `reviewer add` as an operator runs them.

mod common;

use proctor_review::client::ApiClient;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_proctor-review");

#[derive(Debug)]
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` as set up in `cmd` (its arguments after `serve`); the running server and
/// its address, or what it said on stderr when it ended instead.
fn start(mut cmd: Command) -> Result<(Server, String), String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    match line.trim().strip_prefix("listening on ") {
        Some(url) => Ok((Server(child), url.to_owned())),
        None => {
            Err(String::from_utf8_lossy(&child.wait_with_output().unwrap().stderr).into_owned())
        }
    }
}

fn serve_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0"]);
    cmd
}

fn add_ada(db: &str, email: &str) -> std::process::Output {
    Command::new(BIN)
        .args([
            "reviewer",
            "add",
            "--db",
            db,
            "--username",
            "ada",
            "--email",
            email,
            "--create",
            "--course",
            "course-v1:MITx+6.0001x+2026_Fall",
        ])
        .output()
        .unwrap()
}

#[tokio::test]
async fn serve_with_a_created_reviewer_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.sqlite3");
    let db_arg = db.to_str().unwrap();

    // A new database is made only when asked for, as with `reviewer add`.
    let refused = start(serve_cmd(&["--db", db_arg, "--seed-demo", "40"])).unwrap_err();
    assert!(
        refused.contains("does not exist") && refused.contains("--create"),
        "{refused}"
    );
    assert!(!db.exists(), "nothing was made");
    let (_server, url) = start(serve_cmd(&[
        "--db",
        db_arg,
        "--create",
        "--seed-demo",
        "40",
    ]))
    .unwrap();

    let out = add_ada(db_arg, "ada@example.edu");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("prt_"));

    let api = ApiClient::new(&url, &token).unwrap();
    assert_eq!(api.me().await.unwrap().reviewer.username, "ada");
    // ada was granted one of the two demo courses: she sees it, and nothing of the other.
    let courses = api.courses().await.unwrap();
    let ids: Vec<&str> = courses.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["course-v1:MITx+6.0001x+2026_Fall"]);
    let total: u64 = courses
        .iter()
        .flat_map(|c| &c.exams)
        .map(|e| e.counts.sessions)
        .sum();
    assert!(total > 0 && total < 40, "{total} of the 40 sessions");

    let again = add_ada(db_arg, "x@example.edu");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let stored = std::fs::read(&db).unwrap();
    let needle = token.as_bytes();
    assert!(
        !stored.windows(needle.len()).any(|w| w == needle),
        "the token itself must never be stored"
    );
}

#[test]
fn console_setup_mistakes_are_explained_before_the_screen_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], config: &std::path::Path| {
        Command::new(BIN)
            .args(args)
            .env("PROCTOR_REVIEW_DATA_DIR", dir.path())
            .env("PROCTOR_REVIEW_CONFIG", config)
            .env_remove("PROCTOR_REVIEW_TOKEN")
            .env_remove("PROCTOR_REVIEW_SERVER")
            .output()
            .unwrap()
    };
    let bad = dir.path().join("config.toml");
    std::fs::write(&bad, "server = \"http://x\"\ntokn = \"typo\"\n").unwrap();
    let out = run(&[], &bad);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid config file") && err.contains("config.toml"),
        "{err}"
    );
    assert!(
        err.contains("line 2") && err.contains("tokn"),
        "names the line and key: {err}"
    );

    let none = dir.path().join("absent.toml");
    let out = run(&["--server", "http://127.0.0.1:8750"], &none);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a reviewer token"), "{err}");

    let out = run(&["--server", "not a url", "--token", "t"], &none);
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid server address"));

    // Keys that cannot work stop the console, every one named with its file and line.
    let keys = dir.path().join("keys.toml");
    std::fs::write(
        &keys,
        "mouse = false\n[keys]\nfial = \"x\"\nrefresh = \"f\"\nconfirm = \"y\"\n",
    )
    .unwrap();
    let out = run(&[], &keys);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let at = |line: usize| format!("keys.toml:{line}: ");
    assert!(
        err.contains(&(at(3) + "unknown action 'fial' (did you mean 'fail'?)")),
        "{err}"
    );
    assert!(err.contains(&(at(4) + "'f' would do two things")), "{err}");
    assert!(err.contains(&(at(5) + "'y' cannot be confirm")), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "said before the screen was taken: {err}"
    );

    // `keys` shows the keys in force.
    std::fs::write(&keys, "[keys]\nfail = \"x\"\nexport_session = []\n").unwrap();
    let out = run(&["keys"], &keys);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("| `x` | Fail the session")
            && table.contains("| (unbound) | Export the session"),
        "{table}"
    );
}

/// Secrets at rest and in transit (issue #8): a database made world-readable earlier is
/// tightened, a readable config or token file holding a token is refused with the fix, and
/// plain http to another machine is refused unless insisted on.
#[test]
fn secrets_are_kept_private_or_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.sqlite3");
    assert!(
        add_ada(db.to_str().unwrap(), "ada@example.edu")
            .status
            .success()
    );
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{}{suffix}", db.display());
        if std::path::Path::new(&p).exists() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let out = Command::new(BIN)
        .args(["mail", "failed", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{}{suffix}", db.display());
        if let Ok(m) = std::fs::metadata(&p) {
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "{p}");
        }
    }

    let run = |args: &[&str], config: &std::path::Path| {
        let out = Command::new(BIN)
            .args(args)
            .env("PROCTOR_REVIEW_DATA_DIR", dir.path())
            .env("PROCTOR_REVIEW_CONFIG", config)
            .env_remove("PROCTOR_REVIEW_TOKEN")
            .env_remove("PROCTOR_REVIEW_TOKEN_FILE")
            .env_remove("PROCTOR_REVIEW_SERVER")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "server = \"http://127.0.0.1:9\"\ntoken = \"prt_secret\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, err) = run(&["report", "--course", "c"], &cfg);
    assert!(!ok);
    assert!(
        err.contains("others can read it") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains("prt_secret"));

    let none = dir.path().join("absent.toml");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "prt_secret\n").unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let tf = token_file.to_str().unwrap();
    let local = [
        "report",
        "--course",
        "c",
        "--server",
        "http://127.0.0.1:9",
        "--token-file",
        tf,
    ];
    let (ok, err) = run(&local, &none);
    assert!(!ok);
    assert!(
        err.contains("can be read by others") && err.contains("chmod 600"),
        "{err}"
    );
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (ok, err) = run(&local, &none);
    assert!(!ok);
    assert!(err.contains("does not answer"), "the file was used: {err}");

    let remote = [
        "report",
        "--course",
        "c",
        "--server",
        "http://reviews.example.invalid:8750",
    ];
    let mut with_file = remote.to_vec();
    with_file.extend(["--token-file", tf]);
    let (ok, err) = run(&with_file, &none);
    assert!(!ok);
    assert!(
        err.contains("plain http") && err.contains("--allow-insecure-http"),
        "{err}"
    );
    with_file.push("--allow-insecure-http");
    let (_, err) = run(&with_file, &none);
    assert!(!err.contains("plain http"), "insisting is allowed: {err}");

    let (_, err) = run(
        &[
            "report",
            "--course",
            "c",
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "prt_x",
        ],
        &none,
    );
    assert!(
        err.contains("process list"),
        "the flag form is deprecated: {err}"
    );
}

/// A server started without folder flags on PostgreSQL (several servers' backend) writes
/// nothing into its working directory, keeps its key private in the data directory, and
/// signs nothing that the raw secret in that file (or a copy of it, say from a checkout)
/// could forge.
#[tokio::test]
async fn a_postgres_server_keeps_its_secret_out_of_the_working_directory() {
    use std::os::unix::fs::PermissionsExt;
    let Some(pg) = common::pg::TestDb::create().await else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut cmd = serve_cmd(&["--db", &pg.url, "--seed-demo", "20", "--lms-sync-secs", "0"]);
    cmd.current_dir(cwd.path())
        .env("PROCTOR_REVIEW_DATA_DIR", data.path())
        .env_remove("PROCTOR_REVIEW_LINK_KEY_FILE");
    let (_server, url) = start(cmd).unwrap();
    let url = url.as_str();

    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "nothing lands in the working directory"
    );
    let keys: Vec<_> = common::files_below(data.path())
        .into_iter()
        .filter(|p| p.ends_with("link.key"))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(key), 0o600);
    assert_eq!(mode(key.parent().unwrap()), 0o700);

    // A link signed with the file's raw secret, as anyone holding it could sign before
    // each purpose had a key of its own, is refused; the server's own link works.
    let out = Command::new(BIN)
        .args(["reviewer", "add", "--db", &pg.url, "--username", "ada"])
        .args(["--email", "ada@example.edu", "--role", "admin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let api = ApiClient::new(url, String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    let me = api.me().await.unwrap().reviewer;
    let link = api.media_link(1).await.unwrap();
    assert!(api.fetch_signed(&link.url, 1 << 20).await.is_ok());
    let secret: Vec<u8> = {
        let text = std::fs::read_to_string(key).unwrap();
        (0..64)
            .step_by(2)
            .map(|i| u8::from_str_radix(&text.trim()[i..i + 2], 16).unwrap())
            .collect()
    };
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 300;
    let raw = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret),
        format!("media\n1\n{exp}\n{}", me.id).as_bytes(),
    );
    let forged = format!(
        "{url}/api/v1/media/1/file?expires={exp}&reviewer={}&signature={}",
        me.id,
        proctor_review::domain::text::hex(raw.as_ref())
    );
    let err = api.fetch_signed(&forged, 1 << 20).await.unwrap_err();
    assert!(err.to_string().contains("not valid"), "{err}");
}

#[test]
fn the_repository_holds_no_secret() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("git")
        .args(["ls-files"])
        .current_dir(root)
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        return; // not a git checkout (a packaged crate)
    };
    let tracked = String::from_utf8_lossy(&out.stdout);
    let secrets: Vec<&str> = tracked
        .lines()
        .filter(|f| {
            f.ends_with(".key") || f.contains("link-key") || f.starts_with("proctor-review-data/")
        })
        .collect();
    assert!(secrets.is_empty(), "committed secrets: {secrets:?}");
}

/// Issue #29: seeding (bulk work an operator starts on purpose) is not cut by the query
/// budget meant for reviewers' requests — here a budget no seeding could meet.
#[tokio::test]
async fn seeding_postgres_is_not_cut_by_the_query_budget() {
    let Some(pg) = common::pg::TestDb::create().await else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let mut cmd = serve_cmd(&[
        "--db",
        &pg.url,
        "--seed-demo",
        "3000",
        "--query-budget-ms",
        "2",
    ]);
    cmd.args(["--lms-sync-secs", "0"])
        .env("PROCTOR_REVIEW_DATA_DIR", data.path());
    if let Err(said) = start(cmd) {
        panic!("serve ended: {said}");
    }
}

/// A command that fails ends with one line saying what failed, not a backtrace.
#[test]
fn a_failing_command_says_why_in_one_line() {
    let out = Command::new(BIN)
        .args(["serve", "--db", "postgres://postgres@127.0.0.1:1/nowhere"])
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error: cannot open postgres://postgres@127.0.0.1:1/nowhere"),
        "{err}"
    );
}

/// Issue #23: a typo'd course grant is refused with the form a course id takes; a
/// well-formed course no exam uses yet is granted with a note naming the closest known
/// ones; an empty reviewer list says how to add one.
#[test]
fn course_grants_are_checked_and_an_empty_list_says_what_to_do() {
    let ours = common::peer::Ours::start_with(&["--lms-sync-secs", "0", "--seed-demo", "20"]);
    let add = |course: &str| {
        Command::new(BIN)
            .args([
                "reviewer",
                "add",
                "--username",
                "mira",
                "--email",
                "mira@example.edu",
            ])
            .args(["--course", course, "--db"])
            .arg(&ours.db)
            .output()
            .unwrap()
    };
    let status = ours.cli(&["lms", "status"]);
    assert!(
        status.contains("No Open edX is connected") && status.contains("lms add"),
        "{status}"
    );
    let typo = add("MITx 6.0001");
    assert!(!typo.status.success());
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(
        err.contains("is not an Open edX course id") && err.contains("course-v1:ORG+COURSE+RUN"),
        "{err}"
    );
    let unknown = add("course-v1:MITx+6.0001x+2027_Spring");
    assert!(unknown.status.success());
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains("no exam uses course-v1:MITx+6.0001x+2027_Spring yet")
            && err.contains("Closest known: course-v1:MITx+6.0001x+2026_Fall"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.sqlite3");
    drop(proctor_review::store::sqlite::SqliteStore::open(&empty).unwrap());
    let list = Command::new(BIN)
        .args(["reviewer", "list", "--db"])
        .arg(&empty)
        .output()
        .unwrap();
    assert!(list.status.success());
    let said = String::from_utf8_lossy(&list.stdout);
    assert!(
        said.contains("No reviewers yet") && said.contains("reviewer add"),
        "{said}"
    );
}

/// Issue #23 item 10: each command shows and takes only its own flags; the console's
/// (--server, --images, --mouse…) stay on the console.
#[test]
fn each_command_takes_only_its_own_flags() {
    let help = |args: &[&str]| {
        let out = Command::new(BIN).args(args).arg("--help").output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for cmd in [
        &["serve"][..],
        &["reviewer", "list"],
        &["reviewer", "add"],
        &["mail", "retry"],
        &["audit", "verify"],
        &["db", "check"],
    ] {
        let h = help(cmd);
        for console_only in ["--server", "--images", "--mouse", "--export-dir", "--fresh"] {
            assert!(
                !h.contains(console_only),
                "{cmd:?} offers {console_only}:\n{h}"
            );
        }
    }
    let report = help(&["report"]);
    assert!(report.contains("--server") && report.contains("--export-dir"));
    assert!(!report.contains("--images") && !report.contains("--mouse"));
    assert!(help(&[]).contains("--images"), "the console keeps its own");

    let out = Command::new(BIN)
        .args([
            "--server",
            "http://127.0.0.1:9",
            "reviewer",
            "list",
            "--db",
            "x",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
        "a console flag before a command is refused, not ignored"
    );
}

/// The history's head is logged by a recurring job: one run queued at a time, each run's
/// entries and hash kept as its result, the next queued when it is done.
#[tokio::test]
async fn the_history_head_is_logged_by_one_recurring_job() {
    use proctor_review::domain::{JobKind, JobState};
    use proctor_review::store::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.sqlite3");
    let db_arg = db.to_str().unwrap();
    let (_server, _url) = start(serve_cmd(&[
        "--db",
        db_arg,
        "--create",
        "--seed-demo",
        "10",
        "--history-head-every-secs",
        "1",
        "--job-poll-ms",
        "50",
    ]))
    .unwrap();
    let store = proctor_review::store::sqlite::SqliteStore::open(&db).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let jobs = loop {
        let jobs = store.jobs(JobKind::HistoryHead, None).await.unwrap();
        let done = jobs.iter().filter(|j| j.state == JobState::Done).count();
        if done >= 2 || std::time::Instant::now() > deadline {
            break jobs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let done = jobs.iter().filter(|j| j.state == JobState::Done).count();
    assert!(done >= 2, "two runs a second apart: {jobs:?}");
    let pending = jobs.iter().filter(|j| j.state.pending()).count();
    assert!(pending <= 1, "never two runs queued: {jobs:?}");
}

/// `deploy/config.toml` (issue #28) documents every `serve` setting, and the server starts
/// from it, flags on the command line winning over the file.
#[test]
fn the_example_config_documents_every_setting_and_starts_a_server() {
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/config.toml"))
            .unwrap();
    let help = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let flags: Vec<&str> = help
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--"))
        .map(|l| l.split([' ', '=']).next().unwrap())
        .filter(|f| !matches!(*f, "config" | "help"))
        .collect();
    assert!(flags.len() > 30, "{help}");
    for flag in flags {
        assert!(
            example.contains(&format!("\n{flag} = ")) || example.contains(&format!("# {flag} = ")),
            "deploy/config.toml does not document {flag}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("review.sqlite3");
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/config.toml"),
        ])
        .arg("--db")
        .arg(&db)
        .args([
            "--create",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "text",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    assert!(db.exists());

    // A key that is no setting is refused by name.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "lisen = \"0.0.0.0:1\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'lisen' is not a serve setting"), "{err}");
}
