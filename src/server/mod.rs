//! The review server: JSON over HTTP under `/api/v1`, every route behind a reviewer token.
//!
//! May use: `review`, `jobs`, `media`, `lms`, `store`, `api`, `domain`.

mod auth;
mod error;
mod events;
mod frames;
mod health;
pub mod history_seal;
mod http;
mod ids;
mod json_errors;
pub mod media;
mod metrics;
mod presence;
mod protocol_errors;
mod provider;
mod query;
mod reports;
mod routes;
pub mod sign_in;
mod signed;
pub mod tls;

pub use crate::jobs::email::{MailSettings, MailTransport};
pub use auth::{hash_token, new_token};
pub use http::HttpLimits;
pub use media::MediaSettings;

use crate::api::PREFIX;
use crate::jobs::{JobSettings, Kicks};
use crate::review::DecideSettings;
use crate::store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longer request targets answer 414; none of ours comes near it.
pub const MAX_URI_BYTES: usize = 8 * 1024;

#[derive(Clone)]
pub struct AppState<S> {
    pub store: S,
    /// Wakes a job worker when work of its kind was queued.
    pub kicks: Kicks,
    /// Where finished reports are kept.
    pub reports_dir: Arc<PathBuf>,
    /// What decisions depend on (the contact address, who emails LMS learners).
    pub decide: Arc<DecideSettings>,
    pub media: Arc<MediaSettings>,
    /// Live updates for `GET /events`.
    pub events: Arc<events::EventHub>,
    /// What `GET /metrics` renders, when this process records metrics.
    pub metrics: Option<Arc<metrics_exporter_prometheus::PrometheusHandle>>,
    /// The address links we hand out start with (`--public-url`); without it, the one the
    /// request reached us at.
    pub public_url: Option<Arc<str>>,
    /// This process serves HTTPS itself, so a link without `--public-url` is https too.
    pub https: bool,
    /// Sign-in with the institution's identity provider, when configured.
    pub oidc: Option<Arc<sign_in::Oidc>>,
}

pub fn router<S: Store>(state: AppState<S>) -> Router {
    let limits = (MAX_BODY_BYTES as u64, state.media.max_bytes);
    let api = Router::new()
        .route("/me", get(routes::me))
        .route(
            "/sign-in",
            get(sign_in::info::<S>).post(sign_in::sign_in::<S>),
        )
        .route("/courses", get(routes::courses::<S>))
        .route("/exams/{exam_id}/sessions", get(routes::sessions::<S>))
        .route("/queue", get(routes::queue::<S>))
        .route("/events", get(events::stream::<S>))
        .route("/sessions/{session_id}", get(routes::session::<S>))
        .route("/sessions/{session_id}/decision", post(routes::decide::<S>))
        .route("/sessions/{session_id}/undo", post(routes::undo::<S>))
        .route(
            "/sessions/{session_id}/claim",
            post(presence::claim::<S>).delete(presence::release::<S>),
        )
        .route("/claims", get(presence::claims::<S>))
        .route(
            "/sessions/{session_id}/automated-review",
            post(routes::automated_review::<S>),
        )
        .route(
            "/sessions/{session_id}/lms-retry",
            post(routes::lms_retry::<S>),
        )
        .merge(media::router::<S>())
        .merge(frames::router::<S>())
        .merge(reports::router::<S>());
    Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready::<S>))
        .route("/metrics", get(metrics::scrape::<S>))
        .nest(PREFIX, api)
        .nest("/provider", provider::router::<S>())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(move |req, next| {
            json_errors::declared_length(limits, req, next)
        }))
        .layer(axum::middleware::from_fn(json_errors::json_errors))
        .layer(axum::middleware::from_fn(routes::uri_limit))
        .layer(axum::middleware::from_fn(metrics::track))
        // The span has the path, never the query (a search names a learner).
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<axum::body::Body>| {
                let id = req
                    .headers()
                    .get(crate::request_id::HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!(
                    "request",
                    method = %req.method(),
                    path = req.uri().path(),
                    request_id = id
                )
            },
        ))
        .layer(axum::middleware::from_fn(request_ids))
        .with_state(state)
}

/// Gives each request its id (see [`crate::request_id`]): set on the request for the trace
/// span, kept for the jobs it queues, and answered in the same header.
async fn request_ids(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::HeaderValue;
    let given = req
        .headers()
        .get(crate::request_id::HEADER)
        .and_then(|v| v.to_str().ok());
    let id = crate::request_id::accept_or_make(given);
    // Made only of token characters, so always a valid header value.
    let value = HeaderValue::from_str(&id).ok();
    if let Some(v) = &value {
        req.headers_mut()
            .insert(crate::request_id::HEADER, v.clone());
    }
    let mut resp = crate::request_id::scope(id, next.run(req)).await;
    if let Some(v) = value {
        resp.headers_mut().insert(crate::request_id::HEADER, v);
    }
    resp
}

pub use metrics::install as install_metrics;

pub struct ServerOptions {
    /// Metrics for `GET /metrics` (see [`install_metrics`]); none in tests.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Where `/metrics` is also served without a token (`--metrics-listen`).
    pub metrics_listener: Option<TcpListener>,
    /// Serve HTTPS with this certificate; plain HTTP without.
    pub tls: Option<Arc<tls::Certified>>,
    /// The address links we hand out start with, e.g. `https://review.example.edu`.
    pub public_url: Option<url::Url>,
    /// Authorities trusted for Open edX beside the system's (a private CA).
    pub lms_roots: crate::tls::ExtraRoots,
    /// Sign-in with the institution's OpenID Connect provider.
    pub oidc: Option<sign_in::OidcSettings>,
    /// Evidence of decided sessions is kept this long where a course sets no period.
    pub keep_evidence: Option<crate::domain::retention::KeepFor>,
    /// How often retention runs.
    pub retention_every: std::time::Duration,
    pub contact: String,
    pub mail: MailSettings,
    pub media: MediaSettings,
    /// Where finished reports are kept (one folder per report job).
    pub reports_dir: PathBuf,
    /// Report cells exactly as stored, formulas included (byte-compatible with the platform).
    pub raw_cells: bool,
    /// How often to reconcile with each connected Open edX; never if None.
    pub lms_sync: Option<std::time::Duration>,
    /// Send our own learner emails for sessions an LMS registered (the LMS emails them too).
    pub lms_learner_emails: bool,
    pub http: HttpLimits,
    pub email_retry: crate::domain::job::RetryPolicy,
    /// The most learner emails sent in a second.
    pub mail_per_second: u32,
    /// How long a decision can be undone; its email and callback wait that long.
    pub undo_grace: time::Duration,
    /// How often job workers look for due work nobody woke them for.
    pub job_poll: std::time::Duration,
    /// A server silent this long has stopped; the jobs it was running are queued again.
    pub instance_stale: std::time::Duration,
    /// How long a stopping server lets running jobs finish before handing them back.
    pub job_drain: std::time::Duration,
    /// The only console that could undo stops with this server (the embedded demo): emails
    /// still inside their undo window go out as it stops.
    pub send_held_at_stop: bool,
    /// How often the decision history's head is logged.
    pub history_head_every: std::time::Duration,
}

/// Serves until `shutdown` resolves. The job workers run beside the HTTP server and pick
/// up whatever an earlier run left queued or unfinished.
pub async fn run<S: Store>(
    listener: TcpListener,
    store: S,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let kicks = Kicks::default();
    if let crate::jobs::email::MailTransport::Folder(dir) = &options.mail.transport {
        crate::jobs::email::sweep_leftovers(dir).await;
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (news, mut told) = tokio::sync::mpsc::unbounded_channel();
    let workers = tokio::spawn(crate::jobs::run(
        store.clone(),
        JobSettings {
            mail: options.mail,
            reports_dir: options.reports_dir.clone(),
            objects: options.media.objects.clone(),
            raw_cells: options.raw_cells,
            lms_sync: options.lms_sync,
            email_retry: options.email_retry,
            mail_per_second: options.mail_per_second,
            poll: options.job_poll,
            stale: options.instance_stale,
            drain: options.job_drain,
            send_held_at_stop: if options.send_held_at_stop {
                std::time::Duration::try_from(options.undo_grace).unwrap_or_default()
            } else {
                std::time::Duration::ZERO
            },
            news: Some(news),
            history_head_every: options.history_head_every,
            frames: options.media.drawing(),
            lms_roots: options.lms_roots,
            keep_evidence: options.keep_evidence,
            retention_every: options.retention_every,
        },
        kicks.clone(),
        stopped,
    ));
    // Changes made here go to the servers sharing the database, and theirs come here.
    let heard = store.announcements();
    let (announce, mut outgoing) = tokio::sync::mpsc::unbounded_channel();
    let events = Arc::new(events::EventHub::new(heard.is_some().then_some(announce)));
    if let Some(mut heard) = heard {
        let hub = events.clone();
        tokio::spawn(async move {
            while let Some(payload) = heard.recv().await {
                hub.heard(&payload);
            }
        });
        let hub = events.clone();
        let to = store.clone();
        tokio::spawn(async move {
            while let Some(event) = outgoing.recv().await {
                let Some(payload) = hub.announcement(&event) else {
                    continue;
                };
                if let Err(e) = to.announce(payload).await {
                    tracing::warn!(error = %e, "a change could not be announced to the other servers");
                }
            }
        });
    }
    // What the jobs did reaches the consoles with the session as it is after it.
    let news_relay = tokio::spawn({
        let (hub, store) = (events.clone(), store.clone());
        async move {
            while let Some(n) = told.recv().await {
                match store.session(n.session).await {
                    Ok(d) => hub.job_news(&d, n),
                    Err(e) => tracing::warn!(error = %e, "a job's outcome could not be told"),
                }
            }
        }
    });
    let state = AppState {
        store,
        kicks,
        reports_dir: Arc::new(options.reports_dir),
        decide: Arc::new(DecideSettings {
            contact: options.contact.into(),
            lms_learner_emails: options.lms_learner_emails,
            undo_grace: options.undo_grace,
        }),
        media: Arc::new(options.media),
        events,
        metrics: options.metrics.map(Arc::new),
        public_url: options
            .public_url
            .map(|u| u.as_str().trim_end_matches('/').into()),
        https: options.tls.is_some(),
        oidc: options.oidc.map(|o| Arc::new(sign_in::Oidc::new(o))),
    };
    let metrics_apart = match (options.metrics_listener, &state.metrics) {
        (Some(listener), Some(handle)) => Some(tokio::spawn(metrics::serve_apart(
            listener,
            state.store.clone(),
            handle.clone(),
            stop.subscribe(),
        ))),
        _ => None,
    };
    let sweeper = tokio::spawn({
        let hub = state.events.clone();
        async move {
            let mut every = tokio::time::interval(presence::SWEEP);
            loop {
                every.tick().await;
                hub.expire_claims();
            }
        }
    });
    let folder = tokio::spawn({
        let store = state.store.clone();
        async move {
            let mut every = tokio::time::interval(crate::store::counts::FOLD_EVERY);
            loop {
                every.tick().await;
                if let Err(e) = store.fold_counts().await {
                    tracing::warn!(error = %e, "the Quiz List's counts could not be folded");
                }
            }
        }
    });
    let hub = state.events.clone();
    // Live streams never end by themselves; they end when shutdown begins, so the
    // connections can drain.
    let shutdown = async move {
        shutdown.await;
        hub.close();
    };
    let result = http::serve(listener, router(state), options.http, options.tls, shutdown).await;
    let _ = stop.send(true);
    let _ = workers.await;
    if let Some(m) = metrics_apart {
        let _ = m.await;
    }
    news_relay.abort();
    sweeper.abort();
    folder.abort();
    result
}
