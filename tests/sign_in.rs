//! Sign-in with the institution's identity provider (issue #28), end to end with a real
//! OpenID Connect provider (django-oauth-toolkit): `proctor-review login` in a terminal,
//! the person approving at the provider, the token kept, and the console reviewing with it;
//! and each way a sign-in ends without a token (declined, expired, unknown person, revoked
//! reviewer), each said plainly.

mod common;

use common::console::Console;
use common::oidc::{Provider, user_code};
use common::peer::{BIN, DEMO_COURSES, Ours};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn server(provider: &Provider) -> Ours {
    let mut flags: Vec<String> = provider.flags();
    flags.extend(["--lms-sync-secs", "0", "--seed-demo", "40"].map(String::from));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    Ours::start_with(&flags)
}

/// Ada may sign in: an admin added her by address, with no token made or handed over.
fn pre_authorise_ada(ours: &Ours) {
    ours.cli(&[
        "reviewer",
        "add",
        "--email",
        "ada@example.edu",
        "--course",
        DEMO_COURSES[0],
        "--sign-in",
    ]);
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_logs_in_approves_at_the_provider_and_reviews() {
    let Some(provider) = Provider::start().await else {
        return;
    };
    let ours = server(&provider);
    pre_authorise_ada(&ours);
    let home = tempfile::tempdir().unwrap();
    let mut login = Console::start_sized(
        &["login", "--server", &ours.url],
        home.path(),
        &[],
        (120, 48),
    );
    let screen = login.wait_for("Waiting for you to approve");
    assert!(
        screen.contains(&format!("{}/device/", provider.issuer)),
        "{screen}"
    );
    assert!(
        screen.contains("or scan:"),
        "a QR code where it fits:\n{screen}"
    );
    let code = user_code(&screen).expect("a code");
    provider.answer(&code, "ada", "accept").await;
    let done = login.wait_for("Run `proctor-review` to start reviewing.");
    assert!(done.contains("Signed in as ada"), "{done}");
    assert!(login.finish().success());

    let config = home.path().join("none.toml");
    let token = home.path().join("token");
    assert_eq!(mode(&config), 0o600);
    assert_eq!(mode(&token), 0o600);
    let kept = std::fs::read_to_string(&config).unwrap();
    assert!(
        kept.contains(&format!("server = \"{}\"", ours.url)),
        "{kept}"
    );
    assert!(std::fs::read_to_string(&token).unwrap().starts_with("prt_"));

    // The console, with nothing on its command line, reviews with the kept token.
    let mut console = Console::start(&[], home.path());
    let screen = console.wait_for("Midterm Exam");
    assert!(screen.contains("MITx"), "{screen}");
    console.quit();
    // Tokens made by hand keep working beside it.
    let by_hand = ours.reviewer("bo", "bo@example.edu", "reviewer");
    assert!(ours.api(&by_hand).me().await.is_ok());
}

/// `proctor-review login` as a script runs it (no terminal): its code, then how it ended.
async fn login_answered(ours: &Ours, provider: &Provider, user: &str, action: &str) -> String {
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["login", "--server", &ours.url])
        .env("PROCTOR_REVIEW_DATA_DIR", home.path())
        .env("PROCTOR_REVIEW_CONFIG", home.path().join("config.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = String::new();
    let code = loop {
        let line = lines.next().expect("login ended early").unwrap();
        said.push_str(&line);
        said.push('\n');
        if let Some(code) = user_code(&line) {
            break code;
        }
    };
    provider.answer(&code, user, action).await;
    let rest = tokio::task::spawn_blocking(move || {
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let status = child.wait().unwrap();
        (rest.join("\n"), status)
    });
    let (rest, status) = tokio::time::timeout(Duration::from_secs(30), rest)
        .await
        .expect("login ends")
        .unwrap();
    assert!(!status.success(), "{said}{rest}");
    assert!(
        !home.path().join("token").exists(),
        "nothing is kept when the sign-in fails"
    );
    rest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_that_ends_without_a_token_says_why() {
    let Some(provider) = Provider::start().await else {
        return;
    };
    let ours = server(&provider);
    pre_authorise_ada(&ours);

    let declined = login_answered(&ours, &provider, "ada", "deny").await;
    assert!(declined.contains("the sign-in was declined"), "{declined}");
    let expired = login_answered(&ours, &provider, "ada", "expire").await;
    assert!(expired.contains("the code expired"), "{expired}");
    let unknown = login_answered(&ours, &provider, "zed", "accept").await;
    assert!(
        unknown.contains("zed@example.edu is not a reviewer on this server")
            && unknown.contains("reviewer add --email zed@example.edu"),
        "{unknown}"
    );

    // A forged token is refused before any person is looked up.
    let forged = ours.api("").sign_in("eyJhbGciOiJub25lIn0.e30.").await;
    assert!(forged.is_err(), "{forged:?}");
    // An admin revokes Ada (every token she has): she cannot sign herself back in.
    ours.cli(&["token", "add", "--username", "ada"]);
    ours.cli(&["reviewer", "revoke", "--username", "ada"]);
    let revoked = login_answered(&ours, &provider, "ada", "accept").await;
    assert!(
        revoked.contains("your access to this server was revoked"),
        "{revoked}"
    );
}
