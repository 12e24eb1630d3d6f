//! A video's stills over HTTP, in the same course scope as the video itself: the index (or
//! 202 while the job draws them, or 422 saying why they cannot be), and one frame pack per
//! span, so playing a flagged moment is one request, not one per frame.

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::ids::IdPath;
use super::query::StrictQuery;
use crate::api::{FramePackQuery, FramesDrawing};
use crate::domain::frames::{FrameIndex, FramePack};
use crate::domain::{JobKind, MediaItem};
use crate::media::frames::{self, Wanted};
use crate::review;
use crate::store::Store;
use crate::store::frame_jobs::FramesJob;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router<S: Store>() -> axum::Router<AppState<S>> {
    axum::Router::new()
        .route("/media/{id}/frames", get(index::<S>))
        .route("/media/{id}/frames/pack", get(pack::<S>))
}

/// The video's pack if it is drawn; else the job is queued (or found failed).
async fn drawn<S: Store>(
    st: &AppState<S>,
    actor: &crate::domain::access::Actor,
    id: i64,
) -> Result<Result<FramePack, Response>, ApiError> {
    let (session, item): (_, MediaItem) = review::media_of_session(&st.store, actor, id).await?;
    if !item.kind.is_video() {
        return Err(ApiError::NotFound(format!("media {id} is not a video")));
    }
    let drawing = st.media.drawing();
    let wanted = Wanted::of(&item, &st.store.violations(session).await?);
    let kept = drawing
        .shelf
        .get(&item.sha256, &wanted.key())
        .await
        .map_err(|e| ApiError::Unavailable(format!("cannot read the stills: {e}")))?;
    if let Some(bytes) = kept {
        return FramePack::from_bytes(&bytes)
            .map(Ok)
            .map_err(|e| ApiError::internal("the kept stills are damaged", e));
    }
    frames::can_draw(item.content_type, drawing.ffmpeg.as_deref())
        .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    match st.store.draw_frames(id, false).await? {
        FramesJob::Drawing => {
            st.kicks.kick(JobKind::Frames);
            Ok(Err((
                StatusCode::ACCEPTED,
                Json(FramesDrawing { drawing: true }),
            )
                .into_response()))
        }
        FramesJob::Failed(why) => Err(ApiError::Unprocessable(why)),
    }
}

async fn index<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    Ok(match drawn(&st, &actor, id).await? {
        Ok(pack) => Json::<FrameIndex>(pack.index()).into_response(),
        Err(drawing) => drawing,
    })
}

async fn pack<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(id): IdPath,
    StrictQuery(q): StrictQuery<FramePackQuery>,
) -> Result<Response, ApiError> {
    let pack = match drawn(&st, &actor, id).await? {
        Ok(pack) => pack,
        Err(drawing) => return Ok(drawing),
    };
    let to = q.to_ms.unwrap_or(u64::MAX).max(q.from_ms);
    let part = pack.part(q.from_ms..to, q.sheet);
    Ok((
        [
            (header::CONTENT_TYPE, FramePack::CONTENT_TYPE),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        part.to_bytes(),
    )
        .into_response())
}
