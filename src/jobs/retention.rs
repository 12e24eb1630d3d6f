//! Retention, once a day: the evidence of decided sessions older than their course's period
//! (`course set --keep-evidence`, else `serve --keep-evidence`) is deleted — records, files
//! and stills — with an entry on each session's history saying what went. Decisions, the
//! history and reports stay. Servers sharing a database run it once between them.

use super::{JobHandler, JobSettings, Outcome, Work};
use crate::domain::JobKind;
use crate::domain::retention::human_bytes;
use crate::media::frames::Shelf;
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
    /// Files removed (a file other sessions still use stays).
    files: u64,
    /// The size of the evidence records deleted.
    bytes: u64,
    /// Files whose records are gone but which could not be removed yet (logged; listed
    /// in `files_to_remove` and tried again at the next run).
    not_removed: u64,
}

async fn expire<S: Store>(work: &Work<S>) -> Result<Freed, StoreError> {
    let now = OffsetDateTime::now_utc();
    let default = work.settings.keep_evidence;
    let mut freed = Freed::default();
    for e in work.store.expired_evidence(now, default).await? {
        let bytes = e.bytes;
        if work.store.delete_expired(e, now).await?.is_some() {
            freed.sessions += 1;
            freed.bytes += bytes;
        }
    }
    // The files those records were the last to use, and any an earlier run (or a
    // retirement) could not remove.
    for sha in work.store.files_to_remove(FILES_PER_RUN).await? {
        if remove_file(&work.store, &work.settings.frames.shelf, &sha).await? {
            freed.files += 1;
        } else {
            freed.not_removed += 1;
        }
    }
    Ok(freed)
}

/// At most this many files are removed in one run; the rest wait for the next.
const FILES_PER_RUN: i64 = 100_000;

/// Removes a listed file and its stills unless a record took it up again; false if the
/// media folder or object store refused (it stays listed, and the next run tries again).
pub async fn remove_file<S: Store>(
    store: &S,
    shelf: &Shelf,
    sha256: &str,
) -> Result<bool, StoreError> {
    if !store.file_still_unused(sha256.to_owned()).await? {
        return Ok(true);
    }
    match shelf.retire(sha256).await {
        Ok(()) => {
            store.file_removal(sha256.to_owned(), None).await?;
            Ok(true)
        }
        Err(e) => {
            tracing::error!(
                error = %e,
                "an evidence file could not be removed; it stays listed and the next retention run tries again"
            );
            store
                .file_removal(sha256.to_owned(), Some(e.to_string()))
                .await?;
            Ok(false)
        }
    }
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
                        files_removed = freed.files,
                        evidence = %human_bytes(freed.bytes),
                        not_removed = freed.not_removed,
                        "retention: evidence past its period deleted"
                    );
                    let result = serde_json::to_string(&freed).ok();
                    if freed.not_removed > 0 {
                        let msg = format!(
                            "{} files could not be removed (see the log); they stay listed and the next run tries again",
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
