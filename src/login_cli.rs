//! `proctor-review login --server URL`: signs in with the institution's identity provider
//! by the OAuth 2.0 device authorization grant (RFC 8628) — a short code to enter at the
//! provider's page, shown with a QR code where the terminal has room — then trades the ID
//! token for a reviewer token and keeps it where a token file goes: a file only you can
//! read, named with the server in your config file. No token passes through anyone's hands.

use anyhow::{Context, bail};
use proctor_review::api::SignInInfo;
use proctor_review::client::{ApiClient, ClientError, ExtraRoots};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Deserialize)]
struct DeviceCode {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: Option<String>,
    expires_in: u64,
    #[serde(default = "five")]
    interval: u64,
}

fn five() -> u64 {
    5
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub struct Login<'a> {
    pub server: &'a str,
    pub roots: ExtraRoots,
    pub config_file: &'a Path,
    /// A `token_file` the config already names (it is overwritten), else `token` beside the
    /// config file.
    pub token_file: Option<PathBuf>,
}

pub async fn run(login: Login<'_>) -> anyhow::Result<()> {
    let api = ApiClient::trusting(login.server, "", &login.roots)?;
    let info = match api.sign_in_info().await {
        Ok(i) => i,
        Err(ClientError::NotFound(m)) => bail!("{}: {m}", login.server),
        Err(e) => return Err(e.into()),
    };
    let http = login
        .roots
        .trusted_by(reqwest::Client::builder())
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("proctor-review/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let code = device_code(&http, &info).await?;
    show(&code);
    let id_token = wait(&http, &info, &code).await?;
    let signed = match api.sign_in(&id_token).await {
        Ok(s) => s,
        Err(ClientError::Forbidden(m) | ClientError::Unauthorized(m)) => {
            bail!("{} did not let you in: {m}", login.server)
        }
        Err(e) => return Err(e.into()),
    };
    let token_file = login.token_file.clone().unwrap_or_else(|| {
        login
            .config_file
            .parent()
            .unwrap_or(Path::new("."))
            .join("token")
    });
    save(login.config_file, &token_file, login.server, &signed.token)?;
    let until = signed
        .expires_at
        .map(|t| format!(" until {}", t.date()))
        .unwrap_or_default();
    eprintln!(
        "Signed in as {} on {}; the token (valid{until}) is kept in {} and named in {}.\n\
         Run `proctor-review` to start reviewing.",
        signed.username,
        login.server,
        token_file.display(),
        login.config_file.display()
    );
    Ok(())
}

async fn device_code(http: &reqwest::Client, info: &SignInInfo) -> anyhow::Result<DeviceCode> {
    let resp = http
        .post(&info.device_authorization_endpoint)
        .form(&[
            ("client_id", info.client_id.as_str()),
            ("scope", info.scope.as_str()),
        ])
        .send()
        .await
        .with_context(|| format!("cannot reach the identity provider at {}", info.issuer))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "the identity provider refused to start a sign-in ({status}): {}",
            proctor_review::domain::text::printable(body.trim())
        );
    }
    serde_json::from_str(&body).context("the identity provider's answer is not a device code")
}

fn show(code: &DeviceCode) {
    let link = code
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&code.verification_uri);
    let mut out = format!(
        "To sign in, open {}\nand enter the code  {}\n",
        code.verification_uri, code.user_code
    );
    if let Some(qr) = qr(link) {
        out.push_str(&format!("or scan:\n{qr}"));
    }
    out.push_str("Waiting for you to approve… (Ctrl-C to stop)");
    eprintln!("{out}");
}

/// The link as a QR code in half-block characters, if the terminal is big enough.
fn qr(link: &str) -> Option<String> {
    use qrcode::render::unicode::Dense1x2;
    let (cols, rows) = crossterm::terminal::size().ok()?;
    let code = qrcode::QrCode::new(link.as_bytes()).ok()?;
    let text = code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .build();
    let width = text.lines().map(|l| l.chars().count()).max()?;
    let fits = width <= usize::from(cols) && text.lines().count() + 6 <= usize::from(rows);
    (fits && !link.is_empty()).then_some(text + "\n")
}

/// Polls the token endpoint at the provider's pace until the person approves, declines,
/// or the code expires.
async fn wait(
    http: &reqwest::Client,
    info: &SignInInfo,
    code: &DeviceCode,
) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(code.expires_in.max(1));
    let mut interval = Duration::from_secs(code.interval.max(1));
    loop {
        tokio::time::sleep(interval).await;
        let resp = http
            .post(&info.token_endpoint)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", code.device_code.as_str()),
                ("client_id", info.client_id.as_str()),
            ])
            .send()
            .await;
        let answer: TokenAnswer = match resp {
            Ok(r) => r
                .json()
                .await
                .context("the identity provider's answer is not a token")?,
            // A dropped connection is tried again until the code expires.
            Err(e) if Instant::now() < deadline => {
                tracing::warn!(error = %e, "the identity provider did not answer; trying again");
                continue;
            }
            Err(e) => return Err(e).context("the identity provider stopped answering"),
        };
        match answer.error.as_deref() {
            None => {
                return answer.id_token.context(
                    "the identity provider gave no ID token (the client must be allowed the \
                     openid scope)",
                );
            }
            Some("authorization_pending") => {}
            Some("slow_down") => interval += Duration::from_secs(5),
            Some("access_denied") => {
                bail!("the sign-in was declined at the identity provider; nothing was saved")
            }
            Some("expired_token") => {
                bail!("the code expired before it was approved; run `proctor-review login` again")
            }
            Some(other) => bail!(
                "the identity provider refused the sign-in: {other}{}",
                answer
                    .error_description
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        }
        if Instant::now() >= deadline {
            bail!("the code expired before it was approved; run `proctor-review login` again");
        }
    }
}

/// Writes the token (0600) and names it, and the server, in the config file (made 0600 if
/// new), keeping the rest of the file as it was.
fn save(config: &Path, token_file: &Path, server: &str, token: &str) -> anyhow::Result<()> {
    if let Some(dir) = token_file.parent() {
        proctor_review::fsutil::private_dir(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    proctor_review::fsutil::write_private(token_file, format!("{token}\n").as_bytes())
        .with_context(|| format!("cannot write {}", token_file.display()))?;
    let text = match std::fs::read_to_string(config) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", config.display())),
    };
    let mut doc: toml_edit::DocumentMut = text.parse().with_context(|| {
        format!(
            "{} is not valid TOML; nothing was changed",
            config.display()
        )
    })?;
    doc["server"] = toml_edit::value(server);
    doc["token_file"] = toml_edit::value(token_file.to_string_lossy().as_ref());
    // A token written into the file itself would win over the new one's file.
    doc.remove("token");
    if let Some(dir) = config.parent() {
        proctor_review::fsutil::private_dir(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    proctor_review::fsutil::write_private(config, doc.to_string().as_bytes())
        .with_context(|| format!("cannot write {}", config.display()))
}
