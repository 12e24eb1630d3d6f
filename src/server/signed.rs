//! What media and report downloads share: issuing a signed link for the reviewer who asks,
//! checking one that comes back, and serving the file behind it (Range requests included).

use super::AppState;
use super::error::ApiError;
use crate::api::{PREFIX, SignedUrl};
use crate::domain::access::Actor;
use crate::media::{LinkError, SignedLink};
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

/// The origin the client reached us at, so the link it gets back works from where it is.
fn origin(headers: &HeaderMap) -> String {
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
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// A link to `path` (below the API prefix) for `purpose` and `id`, good for the server's
/// link lifetime.
pub fn issue<S: Store>(
    st: &AppState<S>,
    headers: &HeaderMap,
    purpose: &str,
    id: i64,
    reviewer: i64,
    path: &str,
) -> SignedUrl {
    let ttl = time::Duration::try_from(st.media.link_ttl).unwrap_or(time::Duration::minutes(5));
    let expires_at = OffsetDateTime::now_utc() + ttl;
    let signed = st.media.key.sign(purpose, id, expires_at, reviewer);
    SignedUrl {
        url: format!("{}{PREFIX}/{path}?{}", origin(headers), signed.query()),
        // The link stops working at the start of its last second.
        expires_at: OffsetDateTime::from_unix_timestamp(signed.expires).unwrap_or(expires_at),
    }
}

/// Checks a link that came back: its signature (constant time), its expiry, and that the
/// reviewer it was issued to still exists.
pub async fn check<S: Store>(
    st: &AppState<S>,
    purpose: &str,
    id: i64,
    link: Result<Query<SignedLink>, QueryRejection>,
) -> Result<Actor, ApiError> {
    let forged = || ApiError::Forbidden(LinkError::Forged.to_string());
    let Query(link) = link.map_err(|_| forged())?;
    st.media
        .key
        .verify(purpose, id, &link, OffsetDateTime::now_utc())
        .map_err(|e| ApiError::Forbidden(e.to_string()))?;
    let Some(reviewer) = st.store.reviewer_by_id(link.reviewer).await? else {
        return Err(forged());
    };
    let grants = st.store.grants(reviewer.id).await?;
    Ok(Actor::new(reviewer, grants))
}

/// Serves `path` as `content_type` with `disposition`, never cached.
pub async fn serve(
    path: &Path,
    content_type: &str,
    disposition: &str,
    what: &str,
    req: Request,
) -> Result<Response, ApiError> {
    let mime: mime::Mime = content_type.parse().map_err(|_| ApiError::Internal)?;
    let resp = ServeFile::new_with_mime(path, &mime)
        .try_call(req)
        .await
        .map_err(|e| {
            tracing::error!(what, error = %e, "cannot read a file to serve");
            ApiError::Internal
        })?;
    if resp.status() == StatusCode::NOT_FOUND {
        tracing::error!(what, path = %path.display(), "file missing");
        return Err(ApiError::NotFound(format!(
            "the file of {what} is missing on the server"
        )));
    }
    let (mut parts, body) = resp.into_parts();
    let h = &mut parts.headers;
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
    Ok(Response::from_parts(parts, Body::new(body)).into_response())
}
