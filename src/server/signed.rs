//! What media and report downloads share: issuing a signed link for the reviewer who asks,
//! checking one that comes back, and serving the file behind it (Range requests included).

use super::AppState;
use super::error::ApiError;
use crate::api::{PREFIX, SignedUrl};
use crate::domain::access::Actor;
use crate::media::objects::byte_range;
use crate::media::{LinkError, Objects, Purpose, SignedLink};
use crate::store::Store;
use axum::body::Body;
use axum::extract::Query;
use axum::extract::Request;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::Path;
use time::OffsetDateTime;
use tower_http::services::ServeFile;

/// Where links start: the operator's `--public-url`, else the origin the client reached us
/// at, so the link it gets back works from where it is.
pub fn origin<S>(st: &AppState<S>, headers: &HeaderMap) -> String {
    if let Some(u) = &st.public_url {
        return u.to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("127.0.0.1");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ if st.https => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// A link to `path` (below the API prefix) for `purpose` and `id`, good for the server's
/// link lifetime.
pub fn issue<S: Store>(
    st: &AppState<S>,
    headers: &HeaderMap,
    purpose: Purpose,
    id: i64,
    reviewer: i64,
    path: &str,
) -> SignedUrl {
    let ttl = time::Duration::try_from(st.media.link_ttl).unwrap_or(time::Duration::minutes(5));
    let expires_at = OffsetDateTime::now_utc() + ttl;
    let signed = st.media.key.sign(purpose, id, expires_at, reviewer);
    SignedUrl {
        url: format!("{}{PREFIX}/{path}?{}", origin(st, headers), signed.query()),
        // The link stops working at the start of its last second.
        expires_at: OffsetDateTime::from_unix_timestamp(signed.expires).unwrap_or(expires_at),
    }
}

/// Checks a link that came back: its signature (constant time), its expiry, and that the
/// reviewer it was issued to may still sign in, with the courses they hold now (a link
/// issued a moment before a revocation or a withdrawal is refused with it).
pub async fn check<S: Store>(
    st: &AppState<S>,
    purpose: Purpose,
    id: i64,
    link: Result<Query<SignedLink>, QueryRejection>,
) -> Result<Actor, ApiError> {
    let Query(link) = link.map_err(|_| ApiError::Forbidden(LinkError::Forged.to_string()))?;
    st.media
        .key
        .verify(purpose, id, &link, OffsetDateTime::now_utc())
        .map_err(|e| ApiError::Forbidden(e.to_string()))?;
    let Some(reviewer) = st
        .store
        .active_reviewer(link.reviewer, OffsetDateTime::now_utc())
        .await?
    else {
        return Err(ApiError::Forbidden(
            "this link's reviewer may no longer sign in".into(),
        ));
    };
    let grants = st.store.grants(reviewer.id).await?;
    Ok(Actor::new(reviewer, grants))
}

fn private_headers(h: &mut HeaderMap, disposition: &str) {
    if let Ok(v) = HeaderValue::from_str(disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// What a file to serve is, and how it is offered.
pub struct Offer<'a> {
    pub content_type: &'a str,
    pub disposition: &'a str,
    /// For messages: "media 7", "report 3".
    pub what: &'a str,
}

/// Serves the object at `key` as a file would be: one byte range when asked for (a video
/// player seeks), never cached.
pub async fn serve_object(
    objects: &Objects,
    key: &object_store::path::Path,
    offer: Offer<'_>,
    req: Request,
) -> Result<Response, ApiError> {
    let what = offer.what;
    let failed = |e: object_store::Error| {
        tracing::error!(what, error = %e, "cannot read an object to serve");
        ApiError::Unavailable(format!(
            "the object store did not answer for {what}; try again"
        ))
    };
    let Some(meta) = objects.meta(key).await.map_err(failed)? else {
        tracing::error!(what, %key, "object missing");
        return Err(ApiError::NotFound(format!(
            "the file of {what} is missing on the server"
        )));
    };
    let size = meta.size;
    let asked = req
        .headers()
        .get(header::RANGE)
        .and_then(|h| h.to_str().ok());
    let Ok(range) = byte_range(asked, size) else {
        let mut resp = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
            resp.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        return Ok(resp);
    };
    let got = objects
        .get(key, range.clone().or(Some(0..size)).filter(|_| size > 0))
        .await
        .map_err(failed)?;
    let served = got.range.clone();
    let mut resp = Response::new(Body::from_stream(got.into_stream()));
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(offer.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(served.end - served.start),
    );
    if range.is_some() {
        if let Ok(v) = HeaderValue::from_str(&format!(
            "bytes {}-{}/{size}",
            served.start,
            served.end.saturating_sub(1)
        )) {
            h.insert(header::CONTENT_RANGE, v);
        }
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    private_headers(resp.headers_mut(), offer.disposition);
    Ok(resp)
}

/// Serves `path` as `content_type` with `disposition`, never cached.
pub async fn serve(
    path: &Path,
    content_type: &str,
    disposition: &str,
    what: &str,
    req: Request,
) -> Result<Response, ApiError> {
    let mime: mime::Mime = content_type
        .parse()
        .map_err(|e| ApiError::internal("a stored content type does not parse", e))?;
    let resp = ServeFile::new_with_mime(path, &mime)
        .try_call(req)
        .await
        .map_err(|e| ApiError::internal("cannot read a file to serve", e))?;
    if resp.status() == StatusCode::NOT_FOUND {
        tracing::error!(what, path = %path.display(), "file missing");
        return Err(ApiError::NotFound(format!(
            "the file of {what} is missing on the server"
        )));
    }
    let (mut parts, body) = resp.into_parts();
    private_headers(&mut parts.headers, disposition);
    Ok(Response::from_parts(parts, Body::new(body)).into_response())
}
