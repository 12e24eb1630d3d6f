//! Evidence over HTTP: signed links (bearer auth), the files behind them (the signature is
//! the auth, so a video player can fetch them, Range requests and all), and uploads by an
//! admin or the provider's service account.

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::routes::bad_path;
use crate::api::{MediaMeta, PREFIX, SignedUrl, media_file_path};
use crate::domain::MediaItem;
use crate::domain::text::printable;
use crate::media::describe::Refusal;
use crate::media::folder::ReceiveError;
use crate::media::{LinkError, LinkKey, MediaFolder, SignedLink, describe};
use crate::store::Store;
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use std::time::Duration;
use time::OffsetDateTime;
use tower_http::services::ServeFile;

/// Where evidence lives and how links to it are made.
pub struct MediaSettings {
    pub folder: MediaFolder,
    pub key: LinkKey,
    /// How long a link works.
    pub link_ttl: Duration,
    /// The largest upload accepted.
    pub max_bytes: u64,
}

impl MediaSettings {
    /// The media folder and the link key, made on first use; default lifetime and limit.
    pub fn open(dir: &std::path::Path, key: &std::path::Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        Ok(Self {
            folder: MediaFolder::open(dir)
                .with_context(|| format!("cannot open the media folder {}", dir.display()))?,
            key: LinkKey::load_or_create(key)?,
            link_ttl: DEFAULT_LINK_TTL,
            max_bytes: crate::media::DEFAULT_MAX_BYTES,
        })
    }

    /// Puts the demo's files in the folder (once; they are named by their hash).
    pub fn put_demo_assets(&self) -> std::io::Result<()> {
        for a in crate::demo::evidence::assets() {
            self.folder.put(a.bytes)?;
        }
        Ok(())
    }
}

pub const DEFAULT_LINK_TTL: Duration = Duration::from_secs(5 * 60);

/// What a signed link answers for.
pub const PURPOSE: &str = "media";

/// Uploads stream to disk under their own limit ([`MediaSettings::max_bytes`]), so the
/// server's small default body limit does not apply to them.
pub fn router<S: Store>() -> axum::Router<AppState<S>> {
    axum::Router::new()
        .route("/media/{id}/link", post(link::<S>))
        .route("/media/{id}/file", get(file::<S>))
        .route(
            "/sessions/{session_id}/media",
            post(upload::<S>).layer(DefaultBodyLimit::disable()),
        )
}

/// The origin the client reached us at, so the link it gets back works from where it is.
pub(super) fn origin(headers: &HeaderMap) -> String {
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

pub async fn link<S: Store>(
    State(st): State<AppState<S>>,
    Authed(reviewer): Authed,
    id: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
) -> Result<Json<SignedUrl>, ApiError> {
    let Path(id) = id.map_err(bad_path)?;
    st.store.media(id).await?;
    let ttl = time::Duration::try_from(st.media.link_ttl).unwrap_or(time::Duration::minutes(5));
    let expires_at = OffsetDateTime::now_utc() + ttl;
    let signed = st.media.key.sign(PURPOSE, id, expires_at, reviewer.id);
    Ok(Json(SignedUrl {
        url: format!(
            "{}{PREFIX}/{}?{}",
            origin(&headers),
            media_file_path(id),
            signed.query()
        ),
        // The link stops working at the start of its last second.
        expires_at: OffsetDateTime::from_unix_timestamp(signed.expires).unwrap_or(expires_at),
    }))
}

pub async fn file<S: Store>(
    State(st): State<AppState<S>>,
    id: Result<Path<i64>, PathRejection>,
    link: Result<Query<SignedLink>, QueryRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(bad_path)?;
    let Query(link) = link.map_err(|_| ApiError::Forbidden(LinkError::Forged.to_string()))?;
    st.media
        .key
        .verify(PURPOSE, id, &link, OffsetDateTime::now_utc())
        .map_err(|e| ApiError::Forbidden(e.to_string()))?;
    // A link outlives nothing: a reviewer who has since been removed gets nothing.
    if st.store.reviewer_by_id(link.reviewer).await?.is_none() {
        return Err(ApiError::Forbidden(LinkError::Forged.to_string()));
    }
    let (_, item) = st.store.media(id).await?;
    serve(&st.media.folder, &item, req).await
}

async fn serve(folder: &MediaFolder, item: &MediaItem, req: Request) -> Result<Response, ApiError> {
    let path = folder.path_of(&item.sha256);
    let mime: mime::Mime = item
        .content_type
        .as_str()
        .parse()
        .map_err(|_| ApiError::Internal)?;
    let resp = ServeFile::new_with_mime(&path, &mime)
        .try_call(req)
        .await
        .map_err(|e| {
            tracing::error!(media = item.id, error = %e, "cannot read a media file");
            ApiError::Internal
        })?;
    if resp.status() == StatusCode::NOT_FOUND {
        tracing::error!(media = item.id, path = %path.display(), "media file missing");
        return Err(ApiError::NotFound(format!(
            "the file of media {} is missing on the server",
            item.id
        )));
    }
    let (mut parts, body) = resp.into_parts();
    let h = &mut parts.headers;
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("inline"),
    );
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

pub async fn upload<S: Store>(
    State(st): State<AppState<S>>,
    Authed(who): Authed,
    session: Result<Path<i64>, PathRejection>,
    meta: Result<Query<MediaMeta>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<MediaItem>), ApiError> {
    if !who.role.may_add_evidence() {
        return Err(ApiError::Forbidden(
            "only an admin or the provider's service account may add evidence".into(),
        ));
    }
    let Path(session_id) = session.map_err(bad_path)?;
    let Query(meta) =
        meta.map_err(|r| ApiError::BadRequest(format!("bad query: {}", r.body_text())))?;
    let claimed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| {
            ApiError::UnsupportedMediaType(
                "send the file with its Content-Type (image/png, image/jpeg, video/webm, video/mp4)"
                    .into(),
            )
        })?
        .to_owned();
    let (got, staged) = receive(&st.media, body).await?;
    let item = describe("upload", session_id, &meta, &claimed, &got).map_err(|r| match r {
        Refusal::Type(m) => ApiError::UnsupportedMediaType(m),
        Refusal::Meta(m) => ApiError::BadRequest(m),
    })?;
    let mut added = st.store.add_evidence(vec![item], vec![], staged).await?;
    let item = added.pop().ok_or(ApiError::Internal)?;
    tracing::info!(session_id, media = item.id, kind = item.kind.as_str(), by = %printable(&who.username), "evidence added");
    Ok((StatusCode::CREATED, Json(item)))
}

async fn receive(
    media: &MediaSettings,
    body: Body,
) -> Result<(crate::media::Received, crate::media::Staged), ApiError> {
    let too_large = |limit| {
        ApiError::TooLarge(format!(
            "the file is larger than the limit of {limit} bytes"
        ))
    };
    let mut incoming = media.folder.incoming(media.max_bytes).map_err(|e| {
        tracing::error!(error = %e, "cannot create an incoming media file");
        ApiError::Internal
    })?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            if e.to_string().contains("length limit") {
                too_large(media.max_bytes)
            } else {
                ApiError::BadRequest(format!("the upload broke off: {e}"))
            }
        })?;
        incoming.push(&chunk).map_err(|e| match e {
            ReceiveError::TooLarge { limit } => too_large(limit),
            other => {
                tracing::error!(error = %other, "cannot write an incoming media file");
                ApiError::Internal
            }
        })?;
    }
    incoming.finish(&media.folder).map_err(|e| match e {
        ReceiveError::Empty => ApiError::BadRequest("the upload is empty".into()),
        ReceiveError::TooLarge { limit } => too_large(limit),
        ReceiveError::Io(e) => {
            tracing::error!(error = %e, "cannot finish an incoming media file");
            ApiError::Internal
        }
    })
}
