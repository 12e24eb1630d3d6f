//! Evidence over HTTP: signed links (bearer auth), the files behind them (the signature is
//! the auth, so a video player can fetch them, Range requests and all), and uploads by an
//! admin or the provider's service account.

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::ids::{IdPath, SessionPath};
use super::query::StrictQuery;
use super::signed;
use crate::api::{MediaMeta, SignedUrl, media_file_path};
use crate::domain::MediaItem;
use crate::domain::text::printable;
use crate::domain::words::Word;
use crate::media::describe::Refusal;
use crate::media::folder::ReceiveError;
use crate::media::{LinkKey, MediaFolder, Objects, Placement, Purpose, SignedLink, describe};
use crate::review;
use crate::store::Store;
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use futures_util::StreamExt;
use std::time::Duration;

/// Where evidence lives and how links to it are made.
pub struct MediaSettings {
    /// Evidence files; with an object store, only where uploads arrive before they go there.
    pub folder: MediaFolder,
    /// Where evidence and reports live when servers share no folder.
    pub objects: Option<Objects>,
    pub key: LinkKey,
    /// How long a link works.
    pub link_ttl: Duration,
    /// The largest upload accepted.
    pub max_bytes: u64,
    /// The `ffmpeg` program that draws stills of what openh264 does not decode.
    pub ffmpeg: Option<std::path::PathBuf>,
}

impl MediaSettings {
    /// The media folder and the link key, made on first use; default lifetime and limit.
    pub fn open(dir: &std::path::Path, key: &std::path::Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        Ok(Self {
            folder: MediaFolder::open(dir)
                .with_context(|| format!("cannot open the media folder {}", dir.display()))?,
            key: LinkKey::load_or_create(key)?,
            objects: None,
            link_ttl: DEFAULT_LINK_TTL,
            max_bytes: crate::media::DEFAULT_MAX_BYTES,
            ffmpeg: crate::media::frames::find_ffmpeg(None),
        })
    }

    /// How stills are drawn and kept, for the jobs and the frames routes.
    pub fn drawing(&self) -> crate::media::frames::Drawing {
        crate::media::frames::Drawing {
            shelf: crate::media::frames::Shelf::new(self.folder.clone(), self.objects.clone()),
            ffmpeg: self.ffmpeg.clone(),
        }
    }

    /// Puts files in place that records already name by their hash (the demo's; once).
    pub async fn put_files<'a>(
        &self,
        files: impl IntoIterator<Item = &'a [u8]>,
    ) -> std::io::Result<()> {
        for bytes in files {
            match &self.objects {
                Some(o) => {
                    let sha = crate::media::hex(
                        ring::digest::digest(&ring::digest::SHA256, bytes).as_ref(),
                    );
                    o.put_bytes(&Objects::media_key(&sha), bytes).await?;
                }
                None => {
                    self.folder.put(bytes)?;
                }
            }
        }
        Ok(())
    }
}

pub const DEFAULT_LINK_TTL: Duration = Duration::from_secs(5 * 60);

/// What a signed link answers for.
pub const PURPOSE: Purpose = Purpose::Media;

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

pub async fn link<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Result<Json<SignedUrl>, ApiError> {
    review::media(&st.store, &actor, id).await?;
    Ok(Json(signed::issue(
        &st,
        &headers,
        PURPOSE,
        id,
        actor.reviewer.id,
        &media_file_path(id),
    )))
}

pub async fn file<S: Store>(
    State(st): State<AppState<S>>,
    IdPath(id): IdPath,
    link: Result<Query<SignedLink>, QueryRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    let actor = signed::check(&st, PURPOSE, id, link).await?;
    // Checked again: a grant withdrawn after the link was made takes effect at once.
    let item = review::media(&st.store, &actor, id).await?;
    let what = format!("media {id}");
    match &st.media.objects {
        Some(objects) => {
            let offer = signed::Offer {
                content_type: item.content_type.as_str(),
                disposition: "inline",
                what: &what,
            };
            signed::serve_object(objects, &Objects::media_key(&item.sha256), offer, req).await
        }
        None => {
            let path = st.media.folder.path_of(&item.sha256);
            signed::serve(&path, item.content_type.as_str(), "inline", &what, req).await
        }
    }
}

pub async fn upload<S: Store>(
    State(st): State<AppState<S>>,
    Authed(who): Authed,
    SessionPath(session_id): SessionPath,
    StrictQuery(meta): StrictQuery<MediaMeta>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<MediaItem>), ApiError> {
    if !who.reviewer.role.may_add_evidence() {
        return Err(ApiError::Forbidden(
            "only an admin or the provider's service account may add evidence".into(),
        ));
    }
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
    review::evidence_session(&st.store, &who, session_id).await?;
    let (got, staged) = receive(&st.media, body).await?;
    let item = describe("upload", session_id, &meta, &claimed, &got).map_err(|r| match r {
        Refusal::Type(m) => ApiError::UnsupportedMediaType(m),
        Refusal::Meta(m) => ApiError::BadRequest(m),
    })?;
    let placed = Placement::of(staged, st.media.objects.as_ref())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot put an upload in the object store");
            ApiError::Unavailable("the object store did not take the file; try again".into())
        })?;
    let mut added = st.store.add_evidence(vec![item], vec![], placed).await?;
    let item = added
        .pop()
        .ok_or_else(|| ApiError::internal("an upload added no record", "no record was added"))?;
    tracing::info!(session_id, media = item.id, kind = item.kind.as_str(), by = %printable(&who.reviewer.username), "evidence added");
    // Its stills are drawn now, not when a reviewer first waits for them.
    if item.kind.is_video()
        && crate::media::frames::can_draw(item.content_type, st.media.ffmpeg.as_deref()).is_ok()
    {
        match st.store.draw_frames(item.id, false).await {
            Ok(_) => st.kicks.kick(crate::domain::JobKind::Frames),
            Err(e) => tracing::warn!(media = item.id, error = %e, "cannot queue a video's stills"),
        }
    }
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
    let mut incoming = media
        .folder
        .incoming(media.max_bytes)
        .map_err(|e| ApiError::internal("cannot create an incoming media file", e))?;
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
            other => ApiError::internal("cannot write an incoming media file", other),
        })?;
    }
    incoming.finish(&media.folder).map_err(|e| match e {
        ReceiveError::Empty => ApiError::BadRequest("the upload is empty".into()),
        ReceiveError::TooLarge { limit } => too_large(limit),
        ReceiveError::Io(e) => ApiError::internal("cannot finish an incoming media file", e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_retired_file_takes_its_stills_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let media =
            MediaSettings::open(&dir.path().join("media"), &dir.path().join("link.key")).unwrap();
        let sha = media
            .folder
            .put(b"\x00\x00\x00\x18ftypmp42 a video")
            .unwrap();
        let shelf = media.drawing().shelf;
        shelf.put(&sha, "plan", vec![1, 2, 3]).await.unwrap();
        let other = "cd".repeat(32);
        shelf.put(&other, "plan", vec![4]).await.unwrap();
        shelf.retire(&sha).await.unwrap();
        assert!(!media.folder.path_of(&sha).exists());
        assert_eq!(shelf.get(&sha, "plan").await.unwrap(), None);
        assert!(
            shelf.get(&other, "plan").await.unwrap().is_some(),
            "only its own"
        );
    }
}
