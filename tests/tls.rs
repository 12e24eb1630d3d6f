//! The server's own TLS (issue #28): HTTPS with an institution's certificate, trusted by the
//! console and the Open edX client through `--ca-file`, refused with any other authority,
//! and a renewed certificate taken on SIGHUP without dropping connections.

mod common;

use common::peer::{BIN, DEMO_COURSES, Ours};
use common::test_ca::TestCa;
use proctor_review::client::{ApiClient, ClientError, ExtraRoots};
use proctor_review::domain::Verdict;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Served {
    ours: Ours,
    ca: TestCa,
    cert: PathBuf,
    key: PathBuf,
    certs: tempfile::TempDir,
}

fn serve_tls(extra: &[&str]) -> Served {
    let certs = tempfile::tempdir().unwrap();
    let ca = TestCa::new(certs.path(), "institution");
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    ca.certify(&cert, &key);
    let mut args = vec!["--lms-sync-secs", "0", "--seed-demo", "40"];
    args.extend([
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    args.extend(extra);
    let ours = Ours::start_with(&args);
    Served {
        ours,
        ca,
        cert,
        key,
        certs,
    }
}

fn client(url: &str, token: &str, ca: &Path) -> ApiClient {
    ApiClient::trusting(url, token, &ExtraRoots::read(ca).unwrap()).unwrap()
}

/// `proctor-review stats` against the server, trusting `ca` if given: (success, stderr).
fn stats_cli(url: &str, token: &str, ca: Option<&Path>) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, token).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut cmd = Command::new(BIN);
    cmd.args(["stats", "--course", DEMO_COURSES[0], "--server", url])
        .arg("--token-file")
        .arg(&token_file)
        .env("PROCTOR_REVIEW_DATA_DIR", dir.path())
        .env("PROCTOR_REVIEW_CONFIG", dir.path().join("none.toml"))
        .env_remove("PROCTOR_REVIEW_CA_FILE");
    if let Some(ca) = ca {
        cmd.arg("--ca-file").arg(ca);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_console_trusts_the_server_through_its_ca_file_and_refuses_others() {
    let s = serve_tls(&[]);
    assert!(
        s.ours.url.starts_with("https://127.0.0.1:"),
        "{}",
        s.ours.url
    );
    let token = s.ours.reviewer("ada", "ada@example.edu", "reviewer");

    let (ok, err) = stats_cli(&s.ours.url, &token, Some(&s.ca.pem));
    assert!(ok, "{err}");

    // Another authority, or none but the system's: refused before any token is sent, with
    // what to do about it.
    let stranger = TestCa::new(s.certs.path(), "stranger");
    for ca in [Some(stranger.pem.as_path()), None] {
        let (ok, err) = stats_cli(&s.ours.url, &token, ca);
        assert!(!ok);
        assert!(
            err.contains("presented a certificate this machine does not trust")
                && err.contains("--ca-file"),
            "{err}"
        );
    }
    let refused = client(&s.ours.url, &token, &stranger.pem).me().await;
    assert!(
        matches!(refused, Err(ClientError::Untrusted { .. })),
        "{refused:?}"
    );

    // Links the server hands out are https too, as reached.
    let api = client(&s.ours.url, &token, &s.ca.pem);
    let link = api.media_link(1).await.unwrap();
    assert!(link.url.starts_with(&s.ours.url), "{}", link.url);
    assert!(api.fetch_signed(&link.url, 1 << 22).await.is_ok());
}

#[tokio::test]
async fn links_start_with_the_public_url() {
    let s = serve_tls(&["--public-url", "https://review.example.edu/"]);
    let token = s.ours.reviewer("ada", "ada@example.edu", "reviewer");
    let link = client(&s.ours.url, &token, &s.ca.pem)
        .media_link(1)
        .await
        .unwrap();
    assert!(
        link.url
            .starts_with("https://review.example.edu/api/v1/media/1"),
        "{}",
        link.url
    );
}

fn hang_up(ours: &Ours) {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(ours.pid() as libc::pid_t, libc::SIGHUP) };
}

#[tokio::test]
async fn a_renewed_certificate_is_taken_on_sighup_without_dropping_connections() {
    let s = serve_tls(&[]);
    let token = s.ours.reviewer("ada", "ada@example.edu", "reviewer");
    let old = client(&s.ours.url, &token, &s.ca.pem);
    let mut stream = common::follow(old.clone(), None).await;

    // The certificate is renewed by another authority (a CA change is the visible case).
    let renewed = TestCa::new(s.certs.path(), "renewed");
    renewed.certify(&s.cert, &s.key);
    hang_up(&s.ours);
    let new = client(&s.ours.url, &token, &renewed.pem);
    let deadline = Instant::now() + Duration::from_secs(20);
    while new.me().await.is_err() {
        assert!(Instant::now() < deadline, "not reloaded:\n{}", s.ours.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(s.ours.log().contains("TLS certificate reloaded"));

    // A new connection must now show the renewed certificate…
    let fresh_old = client(&s.ours.url, &token, &s.ca.pem);
    assert!(matches!(
        fresh_old.me().await,
        Err(ClientError::Untrusted { .. })
    ));
    // …while the stream opened before the reload still carries what happens.
    let row = common::sessions::attention(&new, 1).await.remove(0);
    common::sessions::decide(&new, &row, Verdict::Pass, "renewed").await;
    let heard = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.recv().await {
                Some(e) if e.session_id == row.id => return e,
                Some(_) => continue,
                None => panic!("the stream opened before the reload ended"),
            }
        }
    })
    .await
    .expect("the decision arrives on the old stream");
    assert_eq!(heard.session_id, row.id);

    // A broken file is refused and the certificate in use stays.
    std::fs::write(&s.key, "not a key").unwrap();
    hang_up(&s.ours);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !s.ours.log().contains("TLS certificate not reloaded") {
        assert!(Instant::now() < deadline, "no word:\n{}", s.ours.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = client(&s.ours.url, &token, &renewed.pem);
    assert!(after.me().await.is_ok());
}

#[tokio::test]
async fn the_open_edx_client_trusts_a_private_ca_it_is_given() {
    use proctor_review::lms::{LmsError, LmsHttp};
    use proctor_review::store::lms::LmsClient;
    // Our own TLS server stands at the address: it is not Open edX, so a trusted
    // connection gets as far as a refusal of the credentials; an untrusted one no further
    // than the handshake.
    let s = serve_tls(&[]);
    let lms = LmsClient {
        client_id: "x".into(),
        client_secret: "x".into(),
        lms_url: s.ours.url.clone(),
        lms_client_id: "y".into(),
        lms_client_secret: "y".into(),
        backend: "proctortrack".into(),
    };
    let trusting = LmsHttp::new(&ExtraRoots::read(&s.ca.pem).unwrap());
    let got = trusting.attempts_page(&lms, DEMO_COURSES[0], None, 1).await;
    assert!(
        matches!(got, Err(LmsError::Credentials { status: 404, .. })),
        "{got:?}"
    );
    let plain = LmsHttp::default();
    let got = plain.attempts_page(&lms, DEMO_COURSES[0], None, 1).await;
    match got {
        Err(LmsError::Unreachable(why)) => assert!(why.contains("certificate"), "{why}"),
        other => panic!("{other:?}"),
    }
    // `serve --ca-file` reads the same file, and refuses one that is not a certificate.
    let bad = s.certs.path().join("bad.pem");
    std::fs::write(&bad, "hello").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--create", "--listen", "127.0.0.1:0", "--db"])
        .arg(s.certs.path().join("x.sqlite3"))
        .arg("--ca-file")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds no PEM certificate"), "{err}");
}

#[test]
fn plain_http_beyond_this_machine_is_warned_about_at_start() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--create", "--listen", "0.0.0.0:0", "--db"])
        .arg(dir.path().join("review.sqlite3"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let warned = BufReader::new(stderr)
        .lines()
        .take(50)
        .map_while(Result::ok)
        .find(|l| l.contains("review server started") || l.contains("plain HTTP"));
    let _ = child.kill();
    let _ = child.wait();
    let line = warned.expect("a line about the start");
    assert!(
        line.contains("serving plain HTTP beyond this machine") && line.contains("--tls-cert"),
        "{line}"
    );
}
