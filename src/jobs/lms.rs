//! The `lms_review` jobs: each review (a decision, or the automated review) goes to the
//! LMS's callback and is read back. Network trouble and 5xx are retried with backoff; a
//! refusal fails at once with the LMS's own words, shown to reviewers on the session.

use super::jitter;
use crate::domain::job::RetryPolicy;
use crate::lms::LmsHttp;
use crate::lms::deliver::{Delivery, deliver};
use crate::store::{ClaimedJob, LmsOutcome, LmsReviewJob, Store, StoreError};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

pub async fn run<S: Store>(store: &S, http: &LmsHttp, c: ClaimedJob) -> Result<(), StoreError> {
    let job = c.job;
    let review: LmsReviewJob = match serde_json::from_str(&c.payload) {
        Ok(r) => r,
        Err(e) => {
            return store
                .job_failed(job.id, format!("unreadable LMS review job: {e}"))
                .await;
        }
    };
    let Some(client) = store.lms_client(review.client_id.clone()).await? else {
        let error = format!(
            "no Open edX client '{}' is configured any more",
            review.client_id
        );
        return store
            .lms_delivery_outcome(job.id, LmsOutcome::Failed { error })
            .await;
    };
    let outcome = match deliver(http, &client, &review).await {
        Delivery::Confirmed(status) => {
            tracing::info!(
                job = job.id,
                session = review.session_id,
                status = status.as_str(),
                "review delivered to Open edX"
            );
            LmsOutcome::Delivered {
                note: format!("Open edX shows it as {}", status.label()),
            }
        }
        Delivery::Transient(error) if job.attempts < RetryPolicy::LMS.attempts => {
            let next = OffsetDateTime::now_utc() + RetryPolicy::LMS.backoff(job.attempts, jitter());
            tracing::warn!(job = job.id, error = %error, %next, "Open edX delivery failed; will retry");
            LmsOutcome::Retry { error, next }
        }
        Delivery::Transient(error) | Delivery::Refused(error) => {
            tracing::warn!(job = job.id, session = review.session_id, error = %error, "Open edX delivery failed");
            LmsOutcome::Failed { error }
        }
    };
    store.lms_delivery_outcome(job.id, outcome).await
}

/// Reconciles every connected LMS every `every` until `stop`.
pub async fn sync_loop<S: Store>(
    store: S,
    http: std::sync::Arc<LmsHttp>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = crate::lms::sync::sync_all(&store, &http).await {
            tracing::error!(error = %e, "cannot reconcile with Open edX");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
}
