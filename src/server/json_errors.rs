//! Every error is JSON, on every route. Our handlers answer with [`ApiError`]; what axum's
//! own extractors refuse (a path that is not UTF-8, a number out of range, a body over the
//! limit) comes as `text/plain`, and is rewritten here into the same shape — or, on the
//! OAuth token endpoint, into RFC 6749's (`error`, `error_description`). Answers that are
//! JSON already, or carry no body (a 416 with its `Content-Range`), pass as they are.
//!
//! A request declaring a body larger than its route accepts is answered 413 at once, before
//! anything waits for a body that would be refused anyway.

use crate::api::ErrorBody;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The OAuth token endpoint, whose errors RFC 6749 §5.2 words.
pub const OAUTH_TOKEN_PATH: &str = "/provider/edx/oauth2/access_token";

/// How far over its limit a refused body is still read (and dropped) before answering.
const DRAINED: u64 = 16 * 1024 * 1024;

/// Most of a refusal's text that is kept.
const KEPT_TEXT: usize = 4096;

pub async fn json_errors(req: Request, next: Next) -> Response {
    let oauth = req.uri().path() == OAUTH_TOKEN_PATH;
    let resp = next.run(req).await;
    let status = resp.status();
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, KEPT_TEXT)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.contains("length limit exceeded") {
        "the request body is larger than this endpoint accepts".to_owned()
    } else {
        text
    };
    let json = if oauth {
        // RFC 6749 §5.2: every malformed token request is an invalid_request.
        serde_json::json!({"error": "invalid_request", "error_description": message})
    } else {
        serde_json::json!(ErrorBody {
            error: code(status).into(),
            message,
        })
    };
    let bytes = json.to_string();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, Body::from(bytes))
}

fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

/// Refuses at once a request whose `Content-Length` is over what its route accepts:
/// `upload` for evidence uploads (which stream to disk under their own limit), `small` for
/// every other body.
pub async fn declared_length(limits: (u64, u64), req: Request, next: Next) -> Response {
    let (small, upload) = limits;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(declared) = declared {
        let limit = if is_upload(req.method(), req.uri().path()) {
            upload
        } else {
            small
        };
        if declared > limit {
            // A body a little over the limit is read and dropped first: a client still
            // writing it would otherwise see its connection cut before it reads the 413.
            // One far over it (a declared terabyte) is not waited for.
            if declared <= limit.saturating_add(DRAINED) {
                use futures_util::StreamExt;
                let mut body = req.into_body().into_data_stream();
                while let Some(Ok(_)) = body.next().await {}
            }
            // Plain text, worded as JSON by `json_errors` like every other refusal.
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body ({declared} bytes) is larger than the limit of {limit} bytes here"
                ),
            )
                .into_response();
        }
    }
    next.run(req).await
}

/// `POST /api/v1/sessions/{id}/media`, the one route whose bodies are large.
fn is_upload(method: &Method, path: &str) -> bool {
    let Some(rest) = path
        .strip_prefix(crate::api::PREFIX)
        .and_then(|p| p.strip_prefix("/sessions/"))
    else {
        return false;
    };
    method == Method::POST
        && rest
            .strip_suffix("/media")
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_evidence_uploads_take_large_bodies() {
        assert!(is_upload(&Method::POST, "/api/v1/sessions/12/media"));
        assert!(!is_upload(&Method::GET, "/api/v1/sessions/12/media"));
        assert!(!is_upload(&Method::POST, "/api/v1/sessions/12/decision"));
        assert!(!is_upload(&Method::POST, "/api/v1/sessions//media"));
        assert!(!is_upload(&Method::POST, "/provider/api/v1/exam/"));
    }
}
