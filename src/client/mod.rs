//! The console's async client of the review server.
//!
//! May use: `api`, `domain`.

pub mod report;

use crate::api::{
    ChangeEvent, DecisionRequest, ErrorBody, Me, PREFIX, Page, ReportList, SessionQuery, SignedUrl,
    media_link_path, report_link_path,
};
use crate::domain::{
    CourseSummary, ExamId, Job, JobId, MediaId, SessionDetail, SessionId, SessionRow,
};
use eventsource_stream::{EventStreamError, Eventsource};
use futures_util::StreamExt;
use reqwest::{RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the review server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The connection was made but the server's certificate is not one this machine trusts.
    #[error(
        "the review server at {url} presented a certificate this machine does not trust \
         ({reason}); if your institution signs its own certificates, give its CA's \
         certificate with --ca-file (or ca_file in the config file)"
    )]
    Untrusted { url: String, reason: String },
    #[error("the server did not answer within {} s", TIMEOUT.as_secs())]
    Timeout,
    /// 401: the token is unknown, revoked or expired.
    #[error("not authorised: {0}")]
    Unauthorized(String),
    /// 403: the token is good but this is not allowed (a read-only course, a bad link).
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Rejected(String),
    #[error("server error ({status}): {message}")]
    Server { status: u16, message: String },
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
    #[error("invalid server address '{0}'{hint}", hint = address_hint(.0))]
    BadUrl(String),
    #[error(
        "refusing to send a token over plain http to {0}: use https, or pass --allow-insecure-http if the network is trusted"
    )]
    Insecure(String),
}

#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
    token: String,
}

/// What a mistyped server address most likely lacks.
fn address_hint(address: &str) -> String {
    if !address.contains("://") && !address.trim().is_empty() && !address.contains(' ') {
        format!(": give its scheme, e.g. https://{address} (or http://{address} on this machine)")
    } else {
        ": expected https://HOST[:PORT] (or http:// on this machine)".to_owned()
    }
}

/// Refuses plain http to a server that is not on this machine — the bearer token and
/// learner data would cross the network in clear — unless the user insists.
pub fn check_transport(server: &str, allow_insecure_http: bool) -> Result<(), ClientError> {
    let url = Url::parse(server).map_err(|_| ClientError::BadUrl(server.to_owned()))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if url.scheme() == "http" && !loopback && !allow_insecure_http {
        return Err(ClientError::Insecure(server.to_owned()));
    }
    Ok(())
}

pub use crate::tls::ExtraRoots;
pub use crate::tls::ready as tls_ready;

impl ApiClient {
    pub fn new(server: &str, token: &str) -> Result<Self, ClientError> {
        Self::trusting(server, token, &ExtraRoots::default())
    }

    /// A client that also trusts `roots` (a private CA's certificate, `--ca-file`).
    pub fn trusting(server: &str, token: &str, roots: &ExtraRoots) -> Result<Self, ClientError> {
        tls_ready();
        let mut base = Url::parse(server).map_err(|_| ClientError::BadUrl(server.to_owned()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ClientError::BadUrl(server.to_owned()));
        }
        let path = format!("{}{PREFIX}/", base.path().trim_end_matches('/'));
        base.set_path(&path);
        let http = roots
            .trusted_by(reqwest::Client::builder())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("proctor-review/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Unreachable {
                url: server.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            base,
            token: token.to_owned(),
        })
    }

    /// The server's address as the user gave it, for the status bar.
    pub fn server_label(&self) -> String {
        let mut u = self.base.clone();
        u.set_path("");
        u.to_string().trim_end_matches('/').to_owned()
    }

    fn url(&self, path: &str) -> Url {
        // `path` is built from integers and fixed words only, so joining cannot fail.
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    /// Whether `url` is on the server this client talks to (same scheme, host and port), the
    /// only place signed links may point.
    pub fn same_origin(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.origin() == self.base.origin()
        })
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T, ClientError> {
        let resp = self.answer(req.bearer_auth(&self.token)).await?;
        resp.json::<T>()
            .await
            .map_err(|e| ClientError::Decode(root_cause(&e)))
    }

    /// Sends a request and turns every failure into a [`ClientError`].
    async fn answer(&self, req: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                ClientError::Timeout
            } else if let Some(reason) = crate::tls::certificate_refused(&e) {
                ClientError::Untrusted {
                    url: self.server_label(),
                    reason,
                }
            } else {
                ClientError::Unreachable {
                    url: self.server_label(),
                    reason: root_cause(&e),
                }
            }
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let message = match resp.json::<ErrorBody>().await {
            Ok(body) => body.message,
            Err(_) => status.canonical_reason().unwrap_or("error").to_owned(),
        };
        Err(match status {
            StatusCode::UNAUTHORIZED => ClientError::Unauthorized(message),
            StatusCode::FORBIDDEN => ClientError::Forbidden(message),
            StatusCode::NOT_FOUND => ClientError::NotFound(message),
            StatusCode::CONFLICT => ClientError::Conflict(message),
            s if s.is_client_error() => ClientError::Rejected(message),
            s => ClientError::Server {
                status: s.as_u16(),
                message,
            },
        })
    }

    /// How to sign in with the server's identity provider (no token needed).
    pub async fn sign_in_info(&self) -> Result<crate::api::SignInInfo, ClientError> {
        let resp = self
            .answer(self.http.get(self.url(crate::api::SIGN_IN_PATH)))
            .await?;
        resp.json()
            .await
            .map_err(|e| ClientError::Decode(root_cause(&e)))
    }

    /// The provider's ID token for a reviewer token (no token needed).
    pub async fn sign_in(&self, id_token: &str) -> Result<crate::api::SignedIn, ClientError> {
        let req =
            self.http
                .post(self.url(crate::api::SIGN_IN_PATH))
                .json(&crate::api::SignInRequest {
                    id_token: id_token.to_owned(),
                });
        let resp = self.answer(req).await?;
        resp.json()
            .await
            .map_err(|e| ClientError::Decode(root_cause(&e)))
    }

    pub async fn me(&self) -> Result<Me, ClientError> {
        self.send(self.http.get(self.url("me"))).await
    }

    pub async fn courses(&self) -> Result<Vec<CourseSummary>, ClientError> {
        self.send(self.http.get(self.url("courses"))).await
    }

    pub async fn sessions(
        &self,
        exam: ExamId,
        query: &SessionQuery,
    ) -> Result<Page<SessionRow>, ClientError> {
        self.send(
            self.http
                .get(self.url(&format!("exams/{exam}/sessions")))
                .query(query),
        )
        .await
    }

    /// Require Attention sessions across every exam this reviewer may see.
    pub async fn queue(&self, query: &SessionQuery) -> Result<Page<SessionRow>, ClientError> {
        self.send(self.http.get(self.url("queue")).query(query))
            .await
    }

    pub async fn session(&self, id: SessionId) -> Result<SessionDetail, ClientError> {
        self.send(self.http.get(self.url(&format!("sessions/{id}"))))
            .await
    }

    /// `courses/{course}/reports`, the course id as one path segment whatever it holds.
    fn reports_url(&self, course: &str) -> Url {
        let mut u = self.url("courses/");
        if let Ok(mut segs) = u.path_segments_mut() {
            segs.pop_if_empty().push(course).push("reports");
        }
        u
    }

    /// The team's backlog and pace in a course; the per-reviewer figures over `since`
    /// (`7d`, `2w`).
    pub async fn stats(
        &self,
        course: &str,
        since: &str,
    ) -> Result<crate::domain::stats::TeamStats, ClientError> {
        let mut u = self.url("courses/");
        if let Ok(mut segs) = u.path_segments_mut() {
            segs.pop_if_empty().push(course).push("stats");
        }
        self.send(self.http.get(u).query(&[("since", since)])).await
    }

    /// Starts the course's Proctored Exam Results report (a background job).
    pub async fn start_report(&self, course: &str) -> Result<Job, ClientError> {
        self.send(self.http.post(self.reports_url(course))).await
    }

    /// Pending Tasks and Reports Available for a course, newest first.
    pub async fn reports(&self, course: &str) -> Result<ReportList, ClientError> {
        self.send(self.http.get(self.reports_url(course))).await
    }

    /// A fresh signed link to a finished report.
    pub async fn report_link(&self, id: JobId) -> Result<SignedUrl, ClientError> {
        self.send(self.http.post(self.url(&report_link_path(id))))
            .await
    }

    /// A fresh signed link to an evidence file.
    /// A video's stills, or `None` while the server is still drawing them.
    pub async fn frames(
        &self,
        id: MediaId,
    ) -> Result<Option<crate::domain::frames::FrameIndex>, ClientError> {
        let req = self.http.get(self.url(&crate::api::frames_path(id)));
        let resp = self.answer(req.bearer_auth(&self.token)).await?;
        if resp.status() == StatusCode::ACCEPTED {
            return Ok(None);
        }
        resp.json()
            .await
            .map(Some)
            .map_err(|e| ClientError::Decode(root_cause(&e)))
    }

    /// The stills `query` names, in one frame pack; `None` while they are being drawn.
    pub async fn frame_pack(
        &self,
        id: MediaId,
        query: &crate::api::FramePackQuery,
    ) -> Result<Option<crate::domain::frames::FramePack>, ClientError> {
        let req = self
            .http
            .get(self.url(&crate::api::frame_pack_path(id)))
            .query(query);
        let resp = self.answer(req.bearer_auth(&self.token)).await?;
        if resp.status() == StatusCode::ACCEPTED {
            return Ok(None);
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ClientError::Decode(root_cause(&e)))?;
        crate::domain::frames::FramePack::from_bytes(&bytes)
            .map(Some)
            .map_err(|e| ClientError::Decode(e.to_string()))
    }

    pub async fn media_link(&self, id: MediaId) -> Result<SignedUrl, ClientError> {
        self.send(self.http.post(self.url(&media_link_path(id))))
            .await
    }

    /// The bytes behind a signed link (no bearer token: the link is the proof), at most
    /// `limit` of them.
    pub async fn fetch_signed(&self, url: &str, limit: u64) -> Result<Vec<u8>, ClientError> {
        let mut out = Vec::new();
        self.stream_signed(url, |chunk| {
            if (out.len() + chunk.len()) as u64 > limit {
                return Err(std::io::Error::other(format!(
                    "the file is larger than {limit} bytes"
                )));
            }
            out.extend_from_slice(chunk);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Streams the body behind a signed link to `sink`, chunk by chunk.
    pub async fn stream_signed(
        &self,
        url: &str,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<u64, ClientError> {
        if !self.same_origin(url) {
            return Err(ClientError::BadUrl(url.to_owned()));
        }
        // Large reports take longer than one request's usual timeout.
        let mut resp = self
            .answer(self.http.get(url).timeout(Duration::from_secs(3600)))
            .await?;
        let mut n = 0;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| ClientError::Decode(root_cause(&e)))?
        {
            sink(&chunk).map_err(|e| ClientError::Decode(e.to_string()))?;
            n += chunk.len() as u64;
        }
        Ok(n)
    }

    /// Follows `GET /events` (live changes), resuming after `last` if given, handing each
    /// event to `each` until the stream ends or goes silent (the server sends a keep-alive
    /// every 15 s); then answers why, so the caller can reconnect.
    pub async fn events(
        &self,
        last: Option<u64>,
        opened: impl FnOnce(),
        mut each: impl FnMut(ChangeEvent),
    ) -> Result<(), ClientError> {
        let mut req = self
            .http
            .get(self.url("events"))
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .timeout(Duration::from_secs(365 * 24 * 3600));
        if let Some(id) = last {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = self.answer(req).await?;
        opened();
        // Silence is judged by bytes, keep-alive comments included: the parser below
        // hands on only events.
        let chunks = futures_util::stream::unfold(resp, |mut resp| async move {
            let chunk = match tokio::time::timeout(EVENTS_SILENCE, resp.chunk()).await {
                Err(_) => Err(Silence::Timeout),
                Ok(Err(e)) => Err(Silence::Broken(e)),
                Ok(Ok(None)) => return None,
                Ok(Ok(Some(bytes))) => Ok(bytes),
            };
            Some((chunk, resp))
        });
        let mut events = std::pin::pin!(chunks.eventsource());
        while let Some(event) = events.next().await {
            match event {
                Ok(e) => {
                    // An event this console does not know is no reason to stop following.
                    if let Ok(change) = serde_json::from_str::<ChangeEvent>(&e.data) {
                        each(change);
                    }
                }
                Err(EventStreamError::Transport(Silence::Timeout)) => {
                    return Err(ClientError::Timeout);
                }
                Err(EventStreamError::Transport(Silence::Broken(e))) => {
                    return Err(ClientError::Unreachable {
                        url: self.server_label(),
                        reason: root_cause(&e),
                    });
                }
                Err(e) => return Err(ClientError::Decode(e.to_string())),
            }
        }
        Ok(())
    }

    pub async fn decide(
        &self,
        id: SessionId,
        req: &DecisionRequest,
    ) -> Result<SessionDetail, ClientError> {
        self.send(
            self.http
                .post(self.url(&format!("sessions/{id}/decision")))
                .json(req),
        )
        .await
    }

    /// Takes or renews this reviewer's claim on a session; every claim on it comes back.
    pub async fn claim(&self, id: SessionId) -> Result<Vec<crate::api::Claim>, ClientError> {
        self.send(self.http.post(self.url(&format!("sessions/{id}/claim"))))
            .await
    }

    /// Lets go of this reviewer's claim on a session (nothing happens if there is none).
    pub async fn release(&self, id: SessionId) -> Result<(), ClientError> {
        let req = self
            .http
            .delete(self.url(&format!("sessions/{id}/claim")))
            .bearer_auth(&self.token);
        self.answer(req).await.map(|_| ())
    }

    /// Every live claim in the courses this reviewer may see.
    pub async fn claims(&self) -> Result<Vec<crate::api::Claim>, ClientError> {
        self.send(self.http.get(self.url("claims"))).await
    }

    /// Takes back this reviewer's latest decision on the session (within the grace period).
    pub async fn undo(&self, id: SessionId) -> Result<SessionDetail, ClientError> {
        self.send(self.http.post(self.url(&format!("sessions/{id}/undo"))))
            .await
    }

    /// Sends the session's waiting or failed delivery to Open edX now.
    pub async fn lms_retry(&self, id: SessionId) -> Result<SessionDetail, ClientError> {
        self.send(
            self.http
                .post(self.url(&format!("sessions/{id}/lms-retry"))),
        )
        .await
    }

    /// The recording pipeline's automated review (a service account's call).
    pub async fn automated_review(
        &self,
        id: SessionId,
        review: &crate::domain::lms::AutomatedReview,
    ) -> Result<SessionDetail, ClientError> {
        self.send(
            self.http
                .post(self.url(&format!("sessions/{id}/automated-review")))
                .json(review),
        )
        .await
    }
}

/// reqwest's top-level message is "error sending request"; the cause says why.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A stream that says nothing (not even a keep-alive) for this long is taken as dropped.
const EVENTS_SILENCE: Duration = Duration::from_secs(45);

/// The change in one server-sent event block (`data:` lines); `None` for keep-alives,
/// comments and anything that is not one of ours.
/// Why the event stream's bytes stopped.
#[derive(Debug, thiserror::Error)]
enum Silence {
    #[error("the server went silent")]
    Timeout,
    #[error(transparent)]
    Broken(reqwest::Error),
}
