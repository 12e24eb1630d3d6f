//! The `lms_review` jobs: each review (a decision, or the automated review) goes to the
//! LMS's callback and is read back. Network trouble and 5xx are retried with backoff; a
//! refusal fails at once with the LMS's own words, shown to reviewers on the session.

use super::{JobHandler, JobSettings, Outcome, Work, jitter};
use crate::domain::JobKind;
use crate::domain::change::{ChangeKind, Delivery as Told};
use crate::domain::job::RetryPolicy;
use crate::domain::words::Word;
use crate::lms::LmsHttp;
use crate::lms::deliver::{Delivery, deliver};
use crate::store::{ClaimedJob, LmsOutcome, LmsReviewJob, Store, StoreError};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

/// Reviews on their way to Open edX's review callback, read back once applied.
pub struct Reviews;

impl<S: Store> JobHandler<S> for Reviews {
    fn kind(&self) -> JobKind {
        JobKind::LmsReview
    }

    fn run<'a>(&'a self, work: &'a Work<S>, job: ClaimedJob) -> Outcome<'a> {
        Box::pin(run(&work.store, &work.settings, &work.lms_http, job))
    }
}

async fn run<S: Store>(
    store: &S,
    settings: &JobSettings,
    http: &LmsHttp,
    c: ClaimedJob,
) -> Result<(), StoreError> {
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
        return finish(
            store,
            settings,
            job.id,
            c.session,
            LmsOutcome::Failed { error },
        )
        .await;
    };
    let delivered = deliver(http, &client, &review).await;
    if !matches!(delivered, Delivery::Confirmed(_)) {
        metrics::counter!("delivery_failures_total", "to" => "open_edx").increment(1);
    }
    let outcome = match delivered {
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
    finish(store, settings, job.id, c.session, outcome).await
}

/// Records the outcome, then tells the consoles.
async fn finish<S: Store>(
    store: &S,
    settings: &JobSettings,
    job: crate::domain::JobId,
    session: Option<crate::domain::SessionId>,
    outcome: LmsOutcome,
) -> Result<(), StoreError> {
    let (delivery, note) = match &outcome {
        LmsOutcome::Delivered { note } => (Told::Delivered, Some(note.clone())),
        LmsOutcome::Retry { error, .. } => (Told::Retrying, Some(error.clone())),
        LmsOutcome::Failed { error } => (Told::Failed, Some(error.clone())),
    };
    store.lms_delivery_outcome(job, outcome).await?;
    settings.tell(session, ChangeKind::OpenEdx, delivery, note);
    Ok(())
}

/// Reconciles every connected LMS every `every` until `stop`.
pub async fn sync_loop<S: Store>(
    store: S,
    settings: std::sync::Arc<JobSettings>,
    http: std::sync::Arc<LmsHttp>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match crate::lms::sync::sync_all(&store, &http).await {
            Ok(r) => {
                for (session, conflict) in r.touched {
                    let delivery = if conflict {
                        Told::Conflict
                    } else {
                        Told::Changed
                    };
                    settings.tell(Some(session), ChangeKind::OpenEdx, delivery, None);
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot reconcile with Open edX"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
}
