//! The jobs that draw a recording's stills: one per file at a time, queued when a video
//! arrives or when a console first asks for its frames.

use super::StoreError;
use super::cells::Cells;
use super::jobs::{NewJob, enqueue, payload};
use super::tx::Tx;
use crate::args;
use crate::domain::words::Word;
use crate::domain::{JobKind, JobState, MediaId};
use time::OffsetDateTime;

/// What a frames job carries.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct FramesPayload {
    pub media: MediaId,
}

/// Where drawing a file's stills stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramesJob {
    /// Queued or running (perhaps queued just now).
    Drawing,
    /// The last try failed, and why.
    Failed(String),
}

/// The state of `media`'s frames job; queues one unless one is queued or running, or the
/// last one failed and `retry_failed` is false (a failure is told, not retried on every
/// look; `evidence frames --all` tries again).
pub async fn draw(
    tx: &mut impl Tx,
    media: MediaId,
    retry_failed: bool,
    now: OffsetDateTime,
) -> Result<FramesJob, StoreError> {
    let body = payload(&FramesPayload { media })?;
    let last = tx
        .row(
            "SELECT state, last_error FROM jobs WHERE kind = ?1 AND payload = ?2
              ORDER BY id DESC LIMIT 1",
            args![JobKind::Frames.as_str(), &body],
        )
        .await?;
    if let Some(r) = last {
        let state: String = r.cell(0)?;
        match JobState::parse(&state) {
            Some(JobState::Queued | JobState::Running) => return Ok(FramesJob::Drawing),
            Some(JobState::Failed) if !retry_failed => {
                let why: Option<String> = r.cell(1)?;
                return Ok(FramesJob::Failed(
                    why.unwrap_or_else(|| "the stills could not be drawn".into()),
                ));
            }
            _ => {}
        }
    }
    enqueue(
        tx,
        &NewJob {
            payload: body,
            ..NewJob::new(JobKind::Frames, now, now)
        },
    )
    .await?;
    Ok(FramesJob::Drawing)
}

/// Every video file's id, for `evidence frames --all`.
pub async fn videos(tx: &mut impl Tx) -> Result<Vec<MediaId>, StoreError> {
    tx.rows(
        "SELECT id FROM media WHERE kind = 'video' ORDER BY id",
        args![],
    )
    .await?
    .iter()
    .map(|r| r.cell(0))
    .collect()
}
