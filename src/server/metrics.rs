//! `GET /metrics` in the Prometheus text format, for an admin's token or, with
//! `--metrics-listen`, on an address of its own with none (issue #28): requests
//! by route and status with their latency, decisions by verdict and step, live event
//! streams, and each job queue's depth (read when scraped). The recorder is installed by
//! `serve` alone: a process holds one, and servers started inside tests run without it,
//! where every `metrics::…!` call does nothing.

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use crate::domain::words::Word;
use crate::domain::{JobKind, Role};
use crate::store::Store;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use strum::VariantArray;

/// Installs the process's recorder; `None` (said in the log) if one is installed already.
pub fn install() -> Option<PrometheusHandle> {
    match metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0])
        .and_then(|b| b.install_recorder())
    {
        Ok(handle) => Some(handle),
        Err(e) => {
            tracing::warn!(error = %e, "metrics are off");
            None
        }
    }
}

/// Counts and times every request by its route (the pattern, never the ids in it).
pub async fn track(req: Request, next: Next) -> Response {
    // `/sessions/{session_id}` reads `/sessions/:session_id`: braces inside a label value
    // are legal, but several scrapers' parsers take them for the label set's end.
    let route = req.extensions().get::<MatchedPath>().map_or_else(
        || "unmatched".to_owned(),
        |p| p.as_str().replace('{', ":").replace('}', ""),
    );
    let method = req.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: admins only (it describes the whole installation).
pub async fn scrape<S: Store>(State(st): State<AppState<S>>, Authed(actor): Authed) -> Response {
    if actor.reviewer.role != Role::Admin {
        return ApiError::Forbidden("metrics are for admins".into()).into_response();
    }
    let Some(handle) = st.metrics.as_ref() else {
        return ApiError::NotFound("this server runs without metrics".into()).into_response();
    };
    exposition(&st.store, handle).await
}

/// The text a scraper reads, with each job queue read now.
async fn exposition<S: Store>(store: &S, handle: &PrometheusHandle) -> Response {
    for kind in JobKind::VARIANTS {
        match store.job_tally(*kind).await {
            Ok(t) => {
                let k = kind.as_str();
                metrics::gauge!("jobs_queued", "kind" => k, "when" => "due").set(t.due as f64);
                metrics::gauge!("jobs_queued", "kind" => k, "when" => "later").set(t.later as f64);
                metrics::gauge!("jobs_running", "kind" => k).set(t.running as f64);
                metrics::gauge!("jobs_failed", "kind" => k).set(t.failed as f64);
                let waited = t.oldest_due.map_or(0.0, |at| {
                    (time::OffsetDateTime::now_utc() - at)
                        .as_seconds_f64()
                        .max(0.0)
                });
                metrics::gauge!("jobs_oldest_due_age_seconds", "kind" => k).set(waited);
            }
            Err(e) => tracing::warn!(error = %e, "job queues could not be read for metrics"),
        }
    }
    let pool = store.pool_use();
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(pool.in_use as f64);
    metrics::gauge!("db_pool_connections", "state" => "idle").set(pool.idle as f64);
    (
        [("content-type", "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// `serve --metrics-listen ADDR`: `/metrics` with no token, on an address of its own that
/// only the operator's scraper reaches (a private network, a sidecar), until `stop`.
pub async fn serve_apart<S: Store>(
    listener: tokio::net::TcpListener,
    store: S,
    handle: std::sync::Arc<PrometheusHandle>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (store, handle) = (store.clone(), handle.clone());
            async move { exposition(&store, &handle).await }
        }),
    );
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::error!(error = %e, "the metrics listener stopped");
    }
}
