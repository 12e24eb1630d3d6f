//! The SMTP relay learner emails go to: a few connections kept open, each with Nagle off.
//!
//! lettre still speaks SMTP (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA), but over streams
//! connected here, for two reasons its own transport cannot serve:
//! - lettre writes a message and its closing `.` line as two writes and leaves Nagle on,
//!   so the dot waits until the relay acknowledges the message, and a relay delays that
//!   acknowledgement (40 ms on Linux): it has nothing to answer until the dot comes. That
//!   held each connection to about 22 emails a second, whatever the relay could take.
//! - lettre's pool sends a NOOP before every email; here only a connection that has been
//!   quiet for a while is checked before it is used again.

use super::email::MailError;
use crate::tls::ExtraRoots;
use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Connections kept open to the relay, each sending one email at a time.
pub const CONNECTIONS: usize = 8;

/// How long connecting, or sending one email, may take before it counts as failed (and the
/// email is tried again later). lettre's own default.
const PATIENCE: Duration = Duration::from_secs(60);

/// A connection used this recently is used again without a NOOP first.
const FRESH: Duration = Duration::from_secs(5);

/// A connection quiet for longer is closed rather than used again: relays drop idle
/// clients after a few minutes (RFC 5321 asks for at least 5), lettre's pool after one.
const STALE: Duration = Duration::from_secs(60);

/// Where and how to reach the relay, from `--smtp-url`.
pub struct Relay {
    host: String,
    port: u16,
    security: Security,
    hello: ClientId,
    credentials: Option<Credentials>,
    idle: Mutex<Vec<Idle>>,
}

enum Security {
    Plain,
    /// `smtp://…?tls=required` (or `opportunistic`: only when the relay offers it).
    StartTls {
        tls: TlsParameters,
        required: bool,
    },
    /// `smtps://`: TLS from the first byte.
    Implicit(tokio_rustls::TlsConnector),
}

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

const SMTP_PORT: u16 = 25;
const SUBMISSION_PORT: u16 = 587;
const SUBMISSIONS_PORT: u16 = 465;

impl Relay {
    /// The URL forms lettre takes: `smtp://host[:port]` (plain), `smtp://…?tls=required`
    /// or `?tls=opportunistic` (STARTTLS, port 587), `smtps://host[:port]` (TLS, port
    /// 465); `user:password@` to sign in; a path names this host in EHLO. The relay's
    /// certificate is checked against the system's authorities and `roots`.
    pub fn from_url(url: &str, roots: &ExtraRoots) -> Result<Self, MailError> {
        let u = url::Url::parse(url).map_err(|e| MailError::Url(e.to_string()))?;
        let host = u
            .host_str()
            .ok_or_else(|| MailError::Url("it names no host".into()))?
            .trim_matches(['[', ']'])
            .to_owned();
        let tls = u
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let starttls = |required| -> Result<Security, MailError> {
            let mut params = TlsParameters::builder(host.clone());
            for der in roots.der() {
                params = params.add_root_certificate(Certificate::from_der(der.to_vec())?);
            }
            Ok(Security::StartTls {
                tls: params.build_rustls()?,
                required,
            })
        };
        let (security, default_port) = match (u.scheme(), tls.as_deref()) {
            ("smtp", None) => (Security::Plain, SMTP_PORT),
            ("smtp", Some("required")) => (starttls(true)?, SUBMISSION_PORT),
            ("smtp", Some("opportunistic")) => (starttls(false)?, SUBMISSION_PORT),
            ("smtps", _) => {
                let config = roots
                    .rustls_config()
                    .map_err(|e| MailError::Url(e.to_string()))?;
                (
                    Security::Implicit(tokio_rustls::TlsConnector::from(Arc::new(config))),
                    SUBMISSIONS_PORT,
                )
            }
            (scheme, tls) => {
                return Err(MailError::Url(format!(
                    "expected smtp:// or smtps:// (and tls=required or tls=opportunistic), \
                     not {scheme}:// with tls={}",
                    tls.unwrap_or("")
                )));
            }
        };
        let decode = |s: &str| percent_decode(s).map_err(MailError::Url);
        let credentials = match u.password() {
            Some(password) => Some(Credentials::new(decode(u.username())?, decode(password)?)),
            None => None,
        };
        let name = u.path().trim_matches('/');
        Ok(Self {
            port: u.port().unwrap_or(default_port),
            hello: if name.is_empty() {
                ClientId::default()
            } else {
                ClientId::Domain(name.to_owned())
            },
            host,
            security,
            credentials,
            idle: Mutex::new(Vec::with_capacity(CONNECTIONS)),
        })
    }

    /// Sends `msg` on a connection from the idle ones, or a new one.
    pub async fn send(&self, msg: &Message) -> Result<(), MailError> {
        let bytes = msg.formatted();
        let mut conn = self.checkout().await?;
        match tokio::time::timeout(PATIENCE, conn.send(msg.envelope(), &bytes)).await {
            Ok(Ok(_)) => {
                self.checkin(conn);
                Ok(())
            }
            // The connection goes: after a refusal lettre has already aborted it, and after
            // anything else it is in no known state.
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(MailError::Timeout),
        }
    }

    async fn checkout(&self) -> Result<AsyncSmtpConnection, MailError> {
        loop {
            let idle = self.idle.lock().map_or(None, |mut idle| idle.pop());
            let Some(Idle { mut conn, since }) = idle else {
                return tokio::time::timeout(PATIENCE, self.connect())
                    .await
                    .map_err(|_| MailError::Timeout)?;
            };
            let quiet = since.elapsed();
            if quiet < FRESH {
                return Ok(conn);
            }
            if quiet < STALE && conn.test_connected().await {
                return Ok(conn);
            }
            let _ = tokio::time::timeout(FRESH, conn.quit()).await;
        }
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < CONNECTIONS
        {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, MailError> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(MailError::Connect)?;
        tcp.set_nodelay(true).map_err(MailError::Connect)?;
        let stream: Box<dyn AsyncTokioStream> = match &self.security {
            Security::Implicit(tls) => {
                let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| MailError::Url(e.to_string()))?;
                Box::new(TlsTcp(
                    tls.connect(name, tcp).await.map_err(MailError::Connect)?,
                ))
            }
            Security::Plain | Security::StartTls { .. } => Box::new(tcp),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello).await?;
        if let Security::StartTls { tls, required } = &self.security
            && (*required || conn.can_starttls())
        {
            conn.starttls(tls.clone(), &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|e| format!("its user or password is not UTF-8: {e}"))
}

/// A TLS stream lettre can speak SMTP over (it asks for the peer's address).
struct TlsTcp(tokio_rustls::client::TlsStream<TcpStream>);

impl std::fmt::Debug for TlsTcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TlsTcp").field(self.0.get_ref().0).finish()
    }
}

impl AsyncTokioStream for TlsTcp {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for TlsTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
