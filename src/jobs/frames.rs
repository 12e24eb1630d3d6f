//! Drawing a recording's stills (see [`crate::media::frames`]): once per file and set of
//! flagged moments, kept beside the evidence. A file that cannot be decoded fails with the
//! reason the console shows; a store that cannot be reached is tried again.

use super::{JobHandler, Outcome, Work};
use crate::domain::JobKind;
use crate::media::frames::{self, FramesError, Wanted};
use crate::store::frame_jobs::FramesPayload;
use crate::store::{ClaimedJob, Store, StoreError};
use std::time::Duration;

/// A file a store could not give or take is tried again this much later, this many times.
const RETRY_AFTER: Duration = Duration::from_secs(30);
const TRIES: u32 = 5;

pub struct Frames;

enum Failure {
    /// Worth another try (the object store or disk).
    Passing(String),
    /// The file itself: another try draws nothing more.
    Lasting(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Passing(e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Passing(format!("cannot read or keep the stills: {e}"))
    }
}

/// Draws and keeps the stills of one video; what it did, for the job's result.
async fn draw<S: Store>(work: &Work<S>, media: i64) -> Result<String, Failure> {
    let drawing = &work.settings.frames;
    let (session, item) = match work.store.media(media).await {
        Ok(found) => found,
        // Retired meanwhile: nothing to draw.
        Err(StoreError::NotFound(_)) => return Ok("the video is gone".into()),
        Err(e) => return Err(e.into()),
    };
    let wanted = Wanted::of(&item, &work.store.violations(session).await?);
    let key = wanted.key();
    if drawing.shelf.get(&item.sha256, &key).await?.is_some() {
        return Ok("drawn already".into());
    }
    frames::can_draw(item.content_type, drawing.ffmpeg.as_deref())
        .map_err(|e| Failure::Lasting(e.to_string()))?;
    let source = drawing.shelf.source(&item.sha256).await?;
    let ffmpeg = drawing.ffmpeg.clone();
    let content_type = item.content_type;
    let started = std::time::Instant::now();
    let pack = tokio::task::spawn_blocking(move || {
        frames::derive(source.path(), content_type, &wanted, ffmpeg.as_deref())
    })
    .await
    .map_err(|e| Failure::Lasting(format!("drawing stopped: {e}")))?
    .map_err(|e| match e {
        FramesError::Io(e) => Failure::Passing(e.to_string()),
        other => Failure::Lasting(other.to_string()),
    })?;
    let n = pack.frames.len();
    drawing
        .shelf
        .put(&item.sha256, &key, pack.to_bytes())
        .await?;
    tracing::info!(
        media,
        stills = n,
        ms = started.elapsed().as_millis() as u64,
        "stills drawn"
    );
    Ok(format!("{n} stills"))
}

impl<S: Store> JobHandler<S> for Frames {
    fn kind(&self) -> JobKind {
        JobKind::Frames
    }

    /// Decoding takes a core; two files at once leave the other for requests.
    fn at_once(&self, _: &super::JobSettings) -> usize {
        2
    }

    fn run<'a>(&'a self, work: &'a Work<S>, job: ClaimedJob) -> Outcome<'a> {
        Box::pin(async move {
            let id = job.job.id;
            let payload: FramesPayload = match serde_json::from_str(&job.payload) {
                Ok(p) => p,
                Err(e) => return work.store.job_failed(id, format!("bad payload: {e}")).await,
            };
            match draw(work, payload.media).await {
                Ok(did) => {
                    let result = serde_json::json!({ "did": did }).to_string();
                    work.store.job_done(id, Some(result)).await
                }
                Err(Failure::Passing(e)) if job.job.attempts < TRIES => {
                    let next = time::OffsetDateTime::now_utc() + RETRY_AFTER;
                    work.store.job_retry(id, e, next).await
                }
                Err(Failure::Passing(e) | Failure::Lasting(e)) => {
                    tracing::warn!(media = payload.media, error = %e, "stills could not be drawn");
                    work.store.job_failed(id, e).await
                }
            }
        })
    }
}
