//! The HTTP/1.1 accept loop, with the limits that keep slow or idle clients from wearing the
//! server down: a connection must send a whole request head within `header_timeout` (also
//! counted while a kept-alive connection waits for its next request, so idle sockets end),
//! a request body may not stall longer than `body_timeout`, and at most `max_connections`
//! are served at once — more wait in the kernel's backlog instead of using up descriptors.
//! With TLS the handshake runs in the connection's own task, under the same head timeout.

use super::protocol_errors::JsonProtocolErrors;
use super::tls::Certified;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// hyper refuses (431) request heads larger than this.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
    /// How long a shutdown waits for requests in flight.
    pub drain_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

impl HttpLimits {
    /// Never more connections than the process has descriptors for, keeping some for the
    /// database, evidence files and outgoing calls.
    pub fn connection_cap(&self) -> usize {
        const RESERVED: u64 = 48;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes into the struct we pass.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        let by_fds = if ok && limit.rlim_cur != libc::RLIM_INFINITY {
            (limit.rlim_cur.saturating_sub(RESERVED)).max(4) as usize
        } else {
            usize::MAX
        };
        self.max_connections.clamp(1, by_fds)
    }
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    tls: Option<Arc<Certified>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router.layer(RequestBodyTimeoutLayer::new(limits.body_timeout));
    let cap = limits.connection_cap();
    let permits = Arc::new(Semaphore::new(cap));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEADER_BYTES * 4)
        .max_header_size(MAX_HEADER_BYTES);
    tracing::debug!(max_connections = cap, "accepting connections");
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small answers go out at once instead of waiting on the client's delayed ACK.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let service = TowerToHyperService::new(router.clone());
        let Some(tls) = &tls else {
            let io = TokioIo::new(JsonProtocolErrors::new(tcp));
            let conn = graceful.watch(http.serve_connection(io, service));
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                drop(permit);
            });
            continue;
        };
        let (acceptor, watcher, http) = (tls.acceptor(), graceful.watcher(), http.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let io = TokioIo::new(JsonProtocolErrors::new(stream));
                    if let Err(e) = watcher.watch(http.serve_connection(io, service)).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running at shutdown were cut off");
    }
    Ok(())
}
