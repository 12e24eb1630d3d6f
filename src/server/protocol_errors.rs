//! hyper answers requests it cannot parse (bad syntax 400, URI too long 414, headers too
//! large 431, wrong version 505) itself, before any handler runs, with an empty body. Our
//! contract is that every error is JSON, so the connection's write side recognises such an
//! answer — an error status whose only headers are `content-length: 0`, `date` and `connection` — and
//! sends the same status with a JSON body instead.

use crate::api::ErrorBody;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct JsonProtocolErrors<T> {
    inner: T,
    /// A replacement being written: its bytes, how many went out, and the length of the
    /// original answer it stands for (what the caller is told was written).
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<T> JsonProtocolErrors<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            replacing: None,
        }
    }
}

/// The JSON answer for one of hyper's own empty error answers, if `head` is one.
pub fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let (headers, body) = text.split_once("\r\n\r\n")?;
    if !body.is_empty() {
        return None;
    }
    let mut lines = headers.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code: u16 = parts.next()?.parse().ok()?;
    if !(400..600).contains(&code) {
        return None;
    }
    // hyper's own answer says only that it is empty (when, and that it closes): a handler's empty error
    // answer carries more (a 416's content-range, say), and is passed on as it is.
    let mut empty = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" if value.trim() == "0" => empty = true,
            "date" | "connection" => {}
            _ => return None,
        }
    }
    if !empty {
        return None;
    }
    let (error, message) = match code {
        414 => ("uri_too_long", "the request URI is too long"),
        431 => (
            "headers_too_large",
            "the request headers are too large (at most 32 KiB together)",
        ),
        505 => ("http_version", "only HTTP/1.0 and HTTP/1.1 are spoken here"),
        400 => ("bad_request", "malformed HTTP request"),
        _ => ("protocol_error", "the request could not be handled"),
    };
    let reason = parts.next().unwrap_or("");
    let body = serde_json::to_string(&ErrorBody {
        error: error.into(),
        message: message.into(),
    })
    .ok()?;
    Some(
        format!(
            "{version} {code} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonProtocolErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonProtocolErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.replacing.is_none() {
            match replacement(buf) {
                Some(json) => this.replacing = Some((json, 0, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        // hyper calls again with the same bytes until told they were written.
        while let Some((json, sent, original)) = &mut this.replacing {
            if *sent == json.len() {
                let original = *original;
                this.replacing = None;
                return Poll::Ready(Ok(original));
            }
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &json[*sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *sent += n;
        }
        Poll::Ready(Ok(0))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then hands each answer over as one buffer, so a head is seen whole.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_empty_error_answers_become_json() {
        let out = replacement(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Thu, 26 Nov 2026 04:00:00 GMT\r\n\r\n").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        let body = text.split_once("\r\n\r\n").unwrap().1;
        let parsed: ErrorBody = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.error, "headers_too_large");
        assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
    }

    #[test]
    fn answers_with_a_body_or_success_pass_through() {
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(replacement(b"HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n").is_none());
        assert!(replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}").is_none());
        assert!(replacement(b"some body bytes").is_none());
        // A handler's empty error answer keeps its own headers.
        assert!(
            replacement(
                b"HTTP/1.1 416 Range Not Satisfiable\r\ncontent-range: bytes */10\r\ncontent-length: 0\r\ndate: x\r\n\r\n"
            )
            .is_none()
        );
    }
}
