//! Retention, once a day: the evidence of decided sessions older than their course's period
//! (`course set --keep-evidence`, else `serve --keep-evidence`) is deleted — records, files
//! and stills — with an entry on each session's history saying what went. Decisions, the
//! history and reports stay. Servers sharing a database run it once between them.

use super::{JobHandler, JobSettings, Outcome, Work};
use crate::domain::JobKind;
use crate::domain::retention::human_bytes;
use crate::store::{ClaimedJob, Store, StoreError};
use std::time::Duration;
use time::OffsetDateTime;

/// How often retention runs unless the server is told otherwise.
pub const EVERY: Duration = Duration::from_secs(24 * 3600);

pub struct Retention;

/// What one run did.
#[derive(Debug, Default, serde::Serialize)]
struct Freed {
    sessions: u64,
    files: u64,
    bytes: u64,
    /// Files whose records are gone but which could not be removed (the error is logged).
    not_removed: u64,
}

async fn expire<S: Store>(work: &Work<S>) -> Result<Freed, StoreError> {
    let now = OffsetDateTime::now_utc();
    let default = work.settings.keep_evidence;
    let mut freed = Freed::default();
    for e in work.store.expired_evidence(now, default).await? {
        let (session, bytes) = (e.session_id, e.bytes);
        let Some(unused) = work.store.delete_expired(e, now).await? else {
            continue;
        };
        freed.sessions += 1;
        freed.bytes += bytes;
        for sha in unused {
            match work.settings.frames.shelf.retire(&sha).await {
                Ok(()) => freed.files += 1,
                Err(error) => {
                    freed.not_removed += 1;
                    tracing::error!(session, %error, "an expired evidence file could not be removed");
                }
            }
        }
    }
    Ok(freed)
}

impl<S: Store> JobHandler<S> for Retention {
    fn kind(&self) -> JobKind {
        JobKind::Retention
    }

    fn every(&self, settings: &JobSettings) -> Option<Duration> {
        Some(settings.retention_every)
    }

    fn run<'a>(&'a self, work: &'a Work<S>, job: ClaimedJob) -> Outcome<'a> {
        Box::pin(async move {
            let id = job.job.id;
            match expire(work).await {
                Ok(freed) => {
                    tracing::info!(
                        sessions = freed.sessions,
                        files = freed.files,
                        freed = %human_bytes(freed.bytes),
                        not_removed = freed.not_removed,
                        "retention: evidence past its period deleted"
                    );
                    let result = serde_json::to_string(&freed).ok();
                    if freed.not_removed > 0 {
                        let msg = format!(
                            "{} files could not be removed (see the log); their records are gone",
                            freed.not_removed
                        );
                        return work.store.job_failed(id, msg).await;
                    }
                    work.store.job_done(id, result).await
                }
                Err(e) => work.store.job_failed(id, e.to_string()).await,
            }
        })
    }
}
