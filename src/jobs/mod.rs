//! The server's background work, one mechanism for every kind: a worker per kind claims due
//! jobs from the `jobs` table, runs them off the request path, and records the outcome —
//! done, retried later with backoff, or failed with the reason. A job a stopped server left
//! running is queued again when the next one starts.

pub mod email;
pub mod lms;
pub mod report;

use crate::api::{ChangeKind, Delivery};
use crate::domain::job::RetryPolicy;
use crate::domain::{JobKind, ReportFile, SessionId};
use crate::store::{ClaimedJob, EmailJob, Store};
use email::MailSettings;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{Notify, mpsc, watch};

/// How often a worker looks for due work when nothing wakes it (work queued by another
/// process, such as `mail retry`, or a retry coming due).
pub const POLL: Duration = Duration::from_secs(15);
/// A server not heard from for this long has stopped; its running jobs are queued again.
/// It says it is alive (and looks for jobs a silent one left running) 4.5 times as often.
pub const STALE: Duration = Duration::from_secs(45);

/// See [`JobSettings::drain`].
pub const DRAIN: Duration = Duration::from_secs(20);

pub struct JobSettings {
    pub mail: MailSettings,
    /// Where finished reports are kept, one folder per job (or, with an object store,
    /// written before they go there).
    pub reports_dir: PathBuf,
    /// The object store that keeps finished reports, when servers share no folder.
    pub objects: Option<crate::media::Objects>,
    /// Write report cells exactly as they are, formulas included.
    pub raw_cells: bool,
    /// How often to reconcile with each connected Open edX; never if None.
    pub lms_sync: Option<Duration>,
    pub email_retry: RetryPolicy,
    /// At most this many learner emails a second, so a backlog does not trip the mail
    /// server's limits.
    pub mail_per_second: u32,
    pub poll: Duration,
    /// See [`STALE`].
    pub stale: Duration,
    /// How long a stopping server lets its running jobs finish before it hands them back.
    pub drain: Duration,
    /// Emails held this far ahead go out when the server stops: the embedded demo's undo
    /// window ends with its console, so what it held is sent then, not at the next launch.
    pub send_held_at_stop: Duration,
    /// Where what a job did to a session goes, for the live stream.
    pub news: Option<mpsc::UnboundedSender<News>>,
}

/// What a job did to a session: a learner email or an Open edX review delivered or not, or
/// Open edX changing an attempt itself. The server tells the consoles.
#[derive(Debug, Clone, PartialEq)]
pub struct News {
    pub session: SessionId,
    pub kind: ChangeKind,
    pub delivery: Delivery,
    pub note: Option<String>,
}

impl JobSettings {
    fn tell(
        &self,
        session: Option<SessionId>,
        kind: ChangeKind,
        delivery: Delivery,
        note: Option<String>,
    ) {
        if let (Some(news), Some(session)) = (&self.news, session) {
            // A server with nobody listening any more is stopping; nothing to tell.
            let _ = news.send(News {
                session,
                kind,
                delivery,
                note,
            });
        }
    }
}

/// Wakes a kind's worker when a job of that kind was queued.
#[derive(Clone, Default)]
pub struct Kicks {
    email: Arc<Notify>,
    report: Arc<Notify>,
    lms: Arc<Notify>,
}

impl Kicks {
    pub fn kick(&self, kind: JobKind) {
        match kind {
            JobKind::Email => self.email.notify_one(),
            JobKind::Report => self.report.notify_one(),
            JobKind::LmsReview => self.lms.notify_one(),
        }
    }

    fn of(&self, kind: JobKind) -> Arc<Notify> {
        match kind {
            JobKind::Email => self.email.clone(),
            JobKind::Report => self.report.clone(),
            JobKind::LmsReview => self.lms.clone(),
        }
    }
}

/// Runs every worker until `stop` turns true. The email worker makes one last pass then, so
/// what the final decisions queued goes out before the server exits.
pub async fn run<S: Store>(
    store: S,
    settings: JobSettings,
    kicks: Kicks,
    stop: watch::Receiver<bool>,
) {
    let instance: Arc<str> = crate::random::hex::<8>()
        .unwrap_or_else(|_| format!("pid-{}", std::process::id()))
        .into();
    let stale = time::Duration::try_from(settings.stale).unwrap_or(time::Duration::seconds(45));
    let beat = (settings.stale * 2 / 9).max(Duration::from_millis(100));
    recover(&store, &instance, stale).await;
    let heartbeat = tokio::spawn({
        let (store, instance, mut stop) = (store.clone(), instance.clone(), stop.clone());
        async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(beat) => {}
                    _ = stop.changed() => break,
                }
                recover(&store, &instance, stale).await;
            }
        }
    });
    let settings = Arc::new(settings);
    let lms_http = Arc::new(crate::lms::LmsHttp::new());
    let sync = settings.lms_sync.map(|every| {
        tokio::spawn(lms::sync_loop(
            store.clone(),
            settings.clone(),
            lms_http.clone(),
            every,
            stop.clone(),
        ))
    });
    let workers: Vec<_> = [JobKind::Email, JobKind::Report, JobKind::LmsReview]
        .into_iter()
        .map(|kind| {
            tokio::spawn(worker(
                store.clone(),
                settings.clone(),
                lms_http.clone(),
                instance.clone(),
                kind,
                kicks.of(kind),
                stop.clone(),
            ))
        })
        .collect();
    let mut running: Vec<_> = workers.into_iter().chain(sync).collect();
    let aborts: Vec<_> = running.iter().map(|w| w.abort_handle()).collect();
    let all = futures_util::future::join_all(running.iter_mut());
    let mut stopping = stop.clone();
    let deadline = async move {
        let _ = stopping.wait_for(|s| *s).await;
        tokio::time::sleep(settings.drain).await;
    };
    tokio::select! {
        _ = all => {}
        _ = deadline => {
            // A load balancer's grace period is short; another server finishes the job.
            for a in &aborts {
                a.abort();
            }
        }
    }
    let _ = heartbeat.await;
    match store.release_jobs(instance.to_string()).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            jobs = n,
            "jobs still running at shutdown were handed back to the other servers"
        ),
        Err(e) => tracing::error!(error = %e, "cannot hand back running jobs"),
    }
}

async fn recover<S: Store>(store: &S, instance: &str, stale: time::Duration) {
    match store
        .recover_jobs(instance.to_owned(), OffsetDateTime::now_utc(), stale)
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            jobs = n,
            "jobs a stopped server left running were queued again"
        ),
        Err(e) => tracing::error!(error = %e, "cannot recover interrupted jobs"),
    }
}

async fn worker<S: Store>(
    store: S,
    settings: Arc<JobSettings>,
    lms_http: Arc<crate::lms::LmsHttp>,
    instance: Arc<str>,
    kind: JobKind,
    kick: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        drain(
            &store,
            &settings,
            &lms_http,
            &instance,
            kind,
            Duration::ZERO,
        )
        .await;
        // Held work (a decision's email during its undo grace period, a backoff) wakes the
        // worker when it falls due, not a poll interval later.
        let wait = match store.next_due(kind).await {
            Ok(Some(at)) => {
                let until = (at - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
                Duration::try_from(until)
                    .unwrap_or(settings.poll)
                    .min(settings.poll)
            }
            _ => settings.poll,
        };
        tokio::select! {
            _ = kick.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    if kind == JobKind::Email {
        let horizon = settings.send_held_at_stop;
        drain(&store, &settings, &lms_http, &instance, kind, horizon).await;
    }
}

/// Runs due jobs of `kind` one after another until none is due (emails no faster than the
/// rate limit); `horizon` counts jobs due that much later as due now.
async fn drain<S: Store>(
    store: &S,
    settings: &JobSettings,
    lms_http: &crate::lms::LmsHttp,
    instance: &str,
    kind: JobKind,
    horizon: Duration,
) {
    let gap = Duration::from_secs(1) / settings.mail_per_second.max(1);
    let mut last_email: Option<tokio::time::Instant> = None;
    loop {
        if kind == JobKind::Email
            && let Some(last) = last_email
        {
            tokio::time::sleep_until(last + gap).await;
        }
        let due = OffsetDateTime::now_utc() + horizon;
        let claimed = match store.claim_job(kind, instance.to_owned(), due).await {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(kind = kind.as_str(), error = %e, "cannot claim a job");
                return;
            }
        };
        let id = claimed.job.id;
        last_email = Some(tokio::time::Instant::now());
        let outcome = match kind {
            JobKind::Email => run_email(store, settings, claimed).await,
            JobKind::Report => run_report(store, settings, claimed).await,
            JobKind::LmsReview => lms::run(store, settings, lms_http, claimed).await,
        };
        if let Err(e) = outcome {
            tracing::error!(job = id, error = %e, "cannot record a job's outcome");
        }
    }
}

async fn run_email<S: Store>(
    store: &S,
    settings: &JobSettings,
    c: ClaimedJob,
) -> Result<(), crate::store::StoreError> {
    let job = c.job;
    let tell = |delivery, note| settings.tell(c.session, ChangeKind::Email, delivery, note);
    let mail: EmailJob = match serde_json::from_str(&c.payload) {
        Ok(m) => m,
        Err(e) => {
            return store
                .job_failed(job.id, format!("unreadable email job: {e}"))
                .await;
        }
    };
    match email::deliver(&settings.mail, job.id, job.created, &mail).await {
        Ok(()) => {
            tracing::info!(job = job.id, attempt = job.attempts, "email delivered");
            store.job_done(job.id, None).await?;
            tell(Delivery::Delivered, None);
        }
        Err(e) if e.is_permanent() => {
            tracing::error!(job = job.id, error = %e, "email refused for good; not retried");
            store.job_failed(job.id, e.to_string()).await?;
            tell(Delivery::Failed, Some(e.to_string()));
        }
        Err(e) if job.attempts >= settings.email_retry.attempts => {
            tracing::error!(job = job.id, attempts = job.attempts, error = %e, "email delivery failed for good");
            store.job_failed(job.id, e.to_string()).await?;
            tell(Delivery::Failed, Some(e.to_string()));
        }
        Err(e) => {
            let next =
                OffsetDateTime::now_utc() + settings.email_retry.backoff(job.attempts, jitter());
            tracing::warn!(job = job.id, error = %e, %next, "email delivery failed; will retry");
            store.job_retry(job.id, e.to_string(), next).await?;
            tell(Delivery::Retrying, Some(e.to_string()));
        }
    }
    Ok(())
}

pub(crate) fn jitter() -> f64 {
    crate::random::bytes::<1>().map_or(0.5, |b| f64::from(b[0]) / 255.0)
}

async fn run_report<S: Store>(
    store: &S,
    settings: &JobSettings,
    c: ClaimedJob,
) -> Result<(), crate::store::StoreError> {
    let job = c.job;
    match report::build(store, settings, &job).await {
        Ok(file) => {
            let result = serde_json::to_string::<ReportFile>(&file).ok();
            tracing::info!(job = job.id, rows = file.rows, "report ready");
            store.job_done(job.id, result).await
        }
        Err(e) => {
            tracing::error!(job = job.id, error = %e, "report failed");
            store.job_failed(job.id, e.to_string()).await
        }
    }
}
