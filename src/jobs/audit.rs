//! The decision history's head in the log, once a day: how many entries it has and the
//! newest one's hash. An operator comparing two days' lines notices entries that were
//! removed, which the hash chain alone cannot show once the newest are gone. Servers
//! sharing a database log it once between them; the job's result keeps it too.

use super::{JobHandler, JobSettings, Outcome, Work};
use crate::domain::JobKind;
use crate::store::{ClaimedJob, Store};
use std::time::Duration;

/// How often the head is logged unless the server is told otherwise.
pub const EVERY: Duration = Duration::from_secs(24 * 3600);

/// The daily log line of the history's head.
pub struct HistoryHead;

impl<S: Store> JobHandler<S> for HistoryHead {
    fn kind(&self) -> JobKind {
        JobKind::HistoryHead
    }

    fn every(&self, settings: &JobSettings) -> Option<Duration> {
        Some(settings.history_head_every)
    }

    fn run<'a>(&'a self, work: &'a Work<S>, job: ClaimedJob) -> Outcome<'a> {
        Box::pin(async move {
            let id = job.job.id;
            match work.store.audit_head().await {
                Ok(head) => {
                    tracing::info!(entries = head.entries, head = %head.hash, "decision history head");
                    let result = serde_json::json!({ "entries": head.entries, "head": head.hash });
                    work.store.job_done(id, Some(result.to_string())).await
                }
                Err(e) => work.store.job_failed(id, e.to_string()).await,
            }
        })
    }
}
