//! The server's background work, one mechanism for every kind: a worker per kind claims due
//! jobs from the `jobs` table, runs them off the request path, and records the outcome —
//! done, retried later with backoff, or failed with the reason. A job a stopped server left
//! running is queued again when the next one starts.
//!
//! Each kind is a [`JobHandler`] in a file of its own, listed once in [`handlers`]: adding a
//! kind is its `JobKind` variant, its handler file and one line there.
//!
//! May use: `lms`, `media`, `report`, `store`, `domain`.

pub mod audit;
pub mod email;
pub mod frames;
pub mod lms;
pub mod relay;
pub mod report;
pub mod retention;

/// Every kind of background work, each with its handler.
fn handlers<S: Store>() -> Vec<Arc<dyn JobHandler<S>>> {
    vec![
        Arc::new(email::Emails),
        Arc::new(report::Reports),
        Arc::new(lms::Reviews),
        Arc::new(audit::HistoryHead),
        Arc::new(frames::Frames),
        Arc::new(retention::Retention),
    ]
}

/// What a handler's `run` returns: the outcome recorded, or why it could not be.
pub type Outcome<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StoreError>> + Send + 'a>>;

/// One kind of background work: how a claimed job of it runs and records its outcome.
pub trait JobHandler<S: Store>: Send + Sync + 'static {
    fn kind(&self) -> JobKind;

    /// Runs the job and records what became of it (done, retry, failed).
    fn run<'a>(&'a self, work: &'a Work<S>, job: ClaimedJob) -> Outcome<'a>;

    /// At most this many jobs a second (emails: the mail server's limits).
    fn per_second(&self, _: &JobSettings) -> Option<u32> {
        None
    }

    /// How many jobs of the kind one server runs at once (emails: one per pooled SMTP
    /// connection, so a backlog is not paced by one server's round trips).
    fn at_once(&self, _: &JobSettings) -> usize {
        1
    }

    /// Whether a stopping server makes one last pass first (emails: the last decisions'
    /// go out before it exits).
    fn last_pass(&self) -> bool {
        false
    }

    /// A recurring kind runs this long after its last run (or after the first server
    /// started): one job of it is kept queued, whichever server runs it.
    fn every(&self, _: &JobSettings) -> Option<Duration> {
        None
    }
}

/// What every handler works with.
pub struct Work<S> {
    pub store: S,
    pub settings: Arc<JobSettings>,
    pub lms_http: Arc<crate::lms::LmsHttp>,
}

use crate::domain::change::{ChangeKind, Delivery};
use crate::domain::job::RetryPolicy;
use crate::domain::words::Word;
use crate::domain::{JobKind, SessionId};
use crate::store::{ClaimedJob, Store, StoreError};
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
    /// How often the decision history's head is logged (see [`audit`]).
    pub history_head_every: Duration,
    /// How recordings' stills are drawn and where they are kept.
    pub frames: crate::media::frames::Drawing,
    /// Authorities trusted for Open edX beside the system's (`serve --ca-file`).
    pub lms_roots: crate::tls::ExtraRoots,
    /// How long decided sessions' evidence is kept where a course sets no period
    /// (`serve --keep-evidence`); forever if None.
    pub keep_evidence: Option<crate::domain::retention::KeepFor>,
    /// How often retention runs (see [`retention::EVERY`]).
    pub retention_every: Duration,
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
pub struct Kicks(Arc<std::sync::Mutex<std::collections::HashMap<JobKind, Arc<Notify>>>>);

impl Kicks {
    pub fn kick(&self, kind: JobKind) {
        self.of(kind).notify_one();
    }

    fn of(&self, kind: JobKind) -> Arc<Notify> {
        match self.0.lock() {
            Ok(mut kinds) => kinds.entry(kind).or_default().clone(),
            // A panic elsewhere poisoned it: the worker still polls.
            Err(_) => Arc::default(),
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
    let work = Arc::new(Work {
        store: store.clone(),
        settings: settings.clone(),
        lms_http: Arc::new(crate::lms::LmsHttp::new(&settings.lms_roots)),
    });
    let sync = settings.lms_sync.map(|every| {
        tokio::spawn(lms::sync_loop(
            store.clone(),
            settings.clone(),
            work.lms_http.clone(),
            every,
            stop.clone(),
        ))
    });
    let workers: Vec<_> = handlers::<S>()
        .into_iter()
        .map(|handler| {
            let kick = kicks.of(handler.kind());
            tokio::spawn(worker(
                work.clone(),
                handler,
                instance.clone(),
                kick,
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
    work: Arc<Work<S>>,
    handler: Arc<dyn JobHandler<S>>,
    instance: Arc<str>,
    kick: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let kind = handler.kind();
    let every = handler.every(&work.settings);
    loop {
        if let Some(every) = every {
            schedule(&work.store, kind, every).await;
        }
        drain(&work, &*handler, &instance, Duration::ZERO).await;
        // Held work (a decision's email during its undo grace period, a backoff) wakes the
        // worker when it falls due, not a poll interval later.
        let poll = work.settings.poll;
        let wait = match work.store.next_due(kind).await {
            Ok(Some(at)) => {
                let until = (at - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
                Duration::try_from(until).unwrap_or(poll).min(poll)
            }
            _ => poll,
        };
        tokio::select! {
            _ = kick.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    if handler.last_pass() {
        let horizon = work.settings.send_held_at_stop;
        drain(&work, &*handler, &instance, horizon).await;
    }
}

/// Queues the next run of a recurring kind unless one is queued or running.
async fn schedule<S: Store>(store: &S, kind: JobKind, every: Duration) {
    let due = OffsetDateTime::now_utc() + every;
    if let Err(e) = store.keep_scheduled(kind, due).await {
        tracing::error!(kind = kind.as_str(), error = %e, "cannot schedule a recurring job");
    }
}

/// Runs due jobs of the handler's kind, up to its `at_once` side by side, until none is due
/// (starting them no faster than its rate); `horizon` counts jobs due that much later as
/// due now.
async fn drain<S: Store>(
    work: &Work<S>,
    handler: &dyn JobHandler<S>,
    instance: &str,
    horizon: Duration,
) {
    use futures_util::StreamExt;
    let kind = handler.kind();
    let gap = handler
        .per_second(&work.settings)
        .map(|n| Duration::from_secs(1) / n.max(1));
    let at_once = handler.at_once(&work.settings).max(1);
    let mut last: Option<tokio::time::Instant> = None;
    let mut running = futures_util::stream::FuturesUnordered::new();
    loop {
        if running.len() >= at_once {
            running.next().await;
            continue;
        }
        let since = last;
        let claim = async move {
            if let (Some(gap), Some(last)) = (gap, since) {
                tokio::time::sleep_until(last + gap).await;
            }
            let due = OffsetDateTime::now_utc() + horizon;
            work.store.claim_job(kind, instance.to_owned(), due).await
        };
        // The jobs already started go on while the next is claimed; a claim is never
        // dropped half-way (it would leave its job running with nobody on it).
        let mut claim = std::pin::pin!(claim);
        let claimed = loop {
            tokio::select! {
                c = &mut claim => break c,
                Some(()) = running.next(), if !running.is_empty() => {}
            }
        };
        let claimed = match claimed {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                tracing::error!(kind = kind.as_str(), error = %e, "cannot claim a job");
                break;
            }
        };
        last = Some(tokio::time::Instant::now());
        let id = claimed.job.id;
        // Every line the job logs names it and the request that queued it.
        let span = tracing::info_span!(
            "job",
            kind = kind.as_str(),
            id,
            request_id = claimed.request_id.as_deref().unwrap_or("")
        );
        running.push(tracing::Instrument::instrument(
            async move {
                if let Err(e) = handler.run(work, claimed).await {
                    tracing::error!(job = id, error = %e, "cannot record a job's outcome");
                }
            },
            span,
        ));
    }
    // What was started finishes before the worker looks again.
    while running.next().await.is_some() {}
}

pub(crate) fn jitter() -> f64 {
    crate::random::bytes::<1>().map_or(0.5, |b| f64::from(b[0]) / 255.0)
}
