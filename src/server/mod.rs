//! The review server: JSON over HTTP under `/api/v1`, every route behind a reviewer token.

mod auth;
mod error;
pub mod mail;
pub mod media;
mod routes;

pub use auth::{hash_token, new_token};
pub use mail::{MailSettings, MailTransport};
pub use media::MediaSettings;

use crate::api::PREFIX;
use crate::store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_http::trace::TraceLayer;

const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState<S> {
    pub store: S,
    /// Wakes the mailer after a decision queued an email.
    pub mail_kick: Arc<Notify>,
    /// Where learners are told to write if they disagree with a decision.
    pub contact: Arc<str>,
    pub media: Arc<MediaSettings>,
}

pub fn router<S: Store>(state: AppState<S>) -> Router {
    let api = Router::new()
        .route("/me", get(routes::me))
        .route("/courses", get(routes::courses::<S>))
        .route("/exams/{exam_id}/sessions", get(routes::sessions::<S>))
        .route("/sessions/{session_id}", get(routes::session::<S>))
        .route("/sessions/{session_id}/decision", post(routes::decide::<S>))
        .merge(media::router::<S>());
    Router::new()
        .nest(PREFIX, api)
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

pub struct ServerOptions {
    pub contact: String,
    pub mail: MailSettings,
    pub media: MediaSettings,
}

/// Serves until `shutdown` resolves. The mailer runs beside the HTTP server and delivers
/// whatever an earlier run left in the outbox too.
pub async fn run<S: Store>(
    listener: TcpListener,
    store: S,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let kick = Arc::new(Notify::new());
    let (stop_mail, mail_stopped) = tokio::sync::oneshot::channel();
    let mailer = tokio::spawn(mail::run(
        store.clone(),
        options.mail,
        kick.clone(),
        mail_stopped,
    ));
    let state = AppState {
        store,
        mail_kick: kick,
        contact: options.contact.into(),
        media: Arc::new(options.media),
    };
    // Small answers go out at once instead of waiting on the client's delayed ACK (~40 ms).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    let result = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_mail.send(());
    let _ = mailer.await;
    result
}
