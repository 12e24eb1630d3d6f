//! A minimal SMTP server on 127.0.0.1 that accepts any mail.

use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Accepts any mail and hands each message (envelope recipient, data) to the test.
pub async fn sink(port: Option<u16>) -> (String, mpsc::UnboundedReceiver<(String, String)>) {
    sink_slow(port, Duration::ZERO).await
}

/// How the test server behaves.
#[derive(Clone, Copy)]
pub struct Behaviour {
    /// Taken before accepting each message's data.
    pub delay: Duration,
    /// Announces 8BITMIME (as most servers do; an old relay does not).
    pub eight_bit: bool,
    /// Refuses every recipient with this reply, e.g. "550 5.1.1 no such user".
    pub refuse: Option<&'static str>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            delay: Duration::ZERO,
            eight_bit: true,
            refuse: None,
        }
    }
}

/// Like [`sink`], taking `delay` before accepting each message's data.
pub async fn sink_slow(
    port: Option<u16>,
    delay: Duration,
) -> (String, mpsc::UnboundedReceiver<(String, String)>) {
    sink_with(
        port,
        Behaviour {
            delay,
            ..Default::default()
        },
    )
    .await
}

/// A server that behaves as `how` says.
pub async fn sink_with(
    port: Option<u16>,
    how: Behaviour,
) -> (String, mpsc::UnboundedReceiver<(String, String)>) {
    let delay = how.delay;
    let listener = TcpListener::bind(("127.0.0.1", port.unwrap_or(0)))
        .await
        .unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let (mut rcpt, mut data, mut in_data) = (String::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            let _ = tx.send((std::mem::take(&mut rcpt), std::mem::take(&mut data)));
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let refusal = how.refuse.map(|r| format!("{r}\r\n"));
                    let reply: &[u8] = if upper.starts_with("EHLO") && how.eight_bit {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 PIPELINING\r\n"
                    } else if upper.starts_with("RCPT TO:")
                        && let Some(refusal) = &refusal
                    {
                        refusal.as_bytes()
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt = line[8..].trim().trim_matches(['<', '>']).to_owned();
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        tokio::time::sleep(delay).await;
                        b"354 go on\r\n"
                    } else if upper.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (url, rx)
}

/// A quoted-printable body as text (soft line breaks joined, `=XX` decoded).
pub fn qp_decode(data: &str) -> String {
    let joined = data.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = joined.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How a [`tls_sink`] begins TLS.
#[derive(Clone, Copy, Debug)]
pub enum Tls {
    /// From the first byte (`smtps://`).
    Implicit,
    /// After the client asks with STARTTLS (`smtp://…?tls=required`).
    StartTls,
}

/// A relay as an institution runs one: it takes mail only over TLS, with a certificate for
/// 127.0.0.1 signed by `ca`, and only after AUTH PLAIN as `user` with `password`. Returns its
/// `host:port` and each message (envelope recipient, data) it took.
pub async fn tls_sink(
    tls: Tls,
    ca: &super::test_ca::TestCa,
    dir: &std::path::Path,
    user: &'static str,
    password: &'static str,
) -> (String, mpsc::UnboundedReceiver<(String, String)>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
    let (cert, key) = (dir.join("relay.pem"), dir.join("relay-key.pem"));
    ca.certify(&cert, &key);
    let chain = CertificateDer::pem_file_iter(&cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, PrivateKeyDer::from_pem_file(&key).unwrap())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (tx, acceptor) = (tx.clone(), acceptor.clone());
            tokio::spawn(async move {
                let login = (user, password);
                match tls {
                    Tls::Implicit => {
                        let Ok(sock) = acceptor.accept(sock).await else {
                            return;
                        };
                        converse(sock, true, true, login, &tx).await;
                    }
                    Tls::StartTls => {
                        if let Some(sock) = converse(sock, true, false, login, &tx).await
                            && let Ok(sock) = acceptor.accept(sock).await
                        {
                            converse(sock, false, true, login, &tx).await;
                        }
                    }
                }
            });
        }
    });
    (addr, rx)
}

/// One SMTP dialogue over `stream`; returns the stream when the client asks for STARTTLS.
async fn converse<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: S,
    greet: bool,
    encrypted: bool,
    (user, password): (&str, &str),
    tx: &mpsc::UnboundedSender<(String, String)>,
) -> Option<S> {
    use base64::Engine;
    let mut stream = BufReader::new(stream);
    // A client that has just upgraded with STARTTLS is not greeted again.
    if greet {
        stream.write_all(b"220 relay ESMTP\r\n").await.ok()?;
    }
    let (mut signed_in, mut in_data) = (false, false);
    let (mut rcpt, mut data, mut line) = (String::new(), String::new(), String::new());
    loop {
        line.clear();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if in_data {
            if line == "." {
                in_data = false;
                let _ = tx.send((std::mem::take(&mut rcpt), std::mem::take(&mut data)));
                stream.write_all(b"250 queued\r\n").await.ok()?;
            } else {
                data.push_str(line);
                data.push('\n');
            }
            continue;
        }
        let upper = line.to_ascii_uppercase();
        let plain =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        let reply: &[u8] = if upper.starts_with("EHLO") && encrypted {
            b"250-relay\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n"
        } else if upper.starts_with("EHLO") {
            b"250-relay\r\n250 STARTTLS\r\n"
        } else if upper.starts_with("STARTTLS") && !encrypted {
            stream.write_all(b"220 go ahead\r\n").await.ok()?;
            return Some(stream.into_inner());
        } else if upper.starts_with("AUTH PLAIN ") && line[11..] == plain {
            signed_in = true;
            b"235 2.7.0 accepted\r\n"
        } else if upper.starts_with("AUTH") {
            b"535 5.7.8 bad credentials\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = stream.write_all(b"221 bye\r\n").await;
            return None;
        } else if upper.starts_with("NOOP") {
            b"250 ok\r\n"
        } else if !encrypted {
            b"530 5.7.0 must issue a STARTTLS command first\r\n"
        } else if !signed_in {
            b"530 5.7.0 authentication required\r\n"
        } else if upper.starts_with("RCPT TO:") {
            rcpt = line[8..].trim().trim_matches(['<', '>']).to_owned();
            b"250 ok\r\n"
        } else if upper.starts_with("DATA") {
            in_data = true;
            b"354 go on\r\n"
        } else {
            b"250 ok\r\n"
        };
        stream.write_all(reply).await.ok()?;
    }
}
