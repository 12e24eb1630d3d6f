//! The review server's HTTP contract, shared by the server and the client so the two cannot
//! drift apart.

use crate::domain::{AttemptStatus, Reviewer, Verdict};
use serde::{Deserialize, Serialize};

pub use crate::domain::query::{Cursor, Page, PageFrom, SessionFilter, SortKey};

pub const PREFIX: &str = "/api/v1";
pub const MAX_PAGE: u32 = 500;
pub const DEFAULT_PAGE: u32 = 100;
pub use crate::domain::decision::{MAX_REASON_CHARS, valid_idempotency_key};
pub const MAX_SEARCH_CHARS: usize = 200;

/// `GET /exams/{id}/sessions`. Require Attention sessions always come first; `sort` orders
/// within each group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionQuery {
    /// Rows to skip. Kept for compatibility; `after`, `before` and `last` read from the index
    /// however deep the page is, and the console uses them.
    pub offset: u64,
    /// A page's `next` cursor: the rows after that row.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub after: String,
    /// A page's `prev` cursor: the rows before that row.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub before: String,
    /// The last page.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub last: bool,
    pub limit: u32,
    /// Comma-separated attempt statuses; empty means all.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Matches username, email or full name (case and accents folded), or is an attempt
    /// code (in any case), which finds its one session.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub q: String,
    pub sort: SortKey,
    pub desc: bool,
}

impl Default for SessionQuery {
    fn default() -> Self {
        Self {
            offset: 0,
            after: String::new(),
            before: String::new(),
            last: false,
            limit: DEFAULT_PAGE,
            status: String::new(),
            q: String::new(),
            sort: SortKey::Started,
            desc: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("limit must be between 1 and {MAX_PAGE}")]
    Limit,
    #[error("search text is longer than {MAX_SEARCH_CHARS} characters")]
    SearchTooLong,
    #[error("{0}")]
    Status(#[from] crate::domain::status::UnknownStatus),
    #[error("{0}")]
    Cursor(#[from] crate::domain::query::BadCursor),
    #[error("the cursor belongs to another order; start again from the first page")]
    CursorOrder,
    #[error("ask for one of offset, after, before and last")]
    Position,
}

impl SessionQuery {
    /// The query as the store takes it, or why it is not one.
    pub fn validate(&self) -> Result<SessionFilter, QueryError> {
        if self.limit == 0 || self.limit > MAX_PAGE {
            return Err(QueryError::Limit);
        }
        if self.q.chars().count() > MAX_SEARCH_CHARS {
            return Err(QueryError::SearchTooLong);
        }
        let statuses = self
            .status
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<AttemptStatus>().map_err(QueryError::from))
            .collect::<Result<_, _>>()?;
        let asked = [
            self.offset > 0,
            !self.after.is_empty(),
            !self.before.is_empty(),
            self.last,
        ];
        if asked.iter().filter(|a| **a).count() > 1 {
            return Err(QueryError::Position);
        }
        let cursor = |text: &str| -> Result<Cursor, QueryError> {
            let c = Cursor::decode(text)?;
            if c.sort != self.sort || c.desc != self.desc {
                return Err(QueryError::CursorOrder);
            }
            Ok(c)
        };
        let from = if !self.after.is_empty() {
            PageFrom::After(cursor(&self.after)?)
        } else if !self.before.is_empty() {
            PageFrom::Before(cursor(&self.before)?)
        } else if self.last {
            PageFrom::End
        } else if self.offset > 0 {
            PageFrom::Offset(self.offset)
        } else {
            PageFrom::Start
        };
        Ok(SessionFilter {
            from,
            limit: self.limit,
            statuses,
            search: self.q.trim().to_owned(),
            sort: self.sort,
            desc: self.desc,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRequest {
    pub verdict: Verdict,
    #[serde(default)]
    pub reason: String,
    /// The status the reviewer saw; the server refuses the decision (409) if it has changed.
    /// Required: a request without it is refused with 428, so concurrent clients cannot flip
    /// a session back and forth. Optional here only so that refusal can name the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<AttemptStatus>,
    /// Made once per decision by the client (the console: when the dialog opens). A repeat
    /// with the same key — after an answer was lost — changes nothing and answers the
    /// session as it is, so a retry can never decide twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// `GET /events`: one change, as a server-sent event (`id:` is `id`, `data:` this as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// Increasing per server; send the last one seen as `Last-Event-ID` to resume.
    pub id: u64,
    pub kind: ChangeKind,
    pub session_id: crate::domain::SessionId,
    pub exam_id: crate::domain::ExamId,
    pub course_id: String,
    pub learner: String,
    /// The session's status after the change.
    pub status: crate::domain::AttemptStatus,
    /// Who made it (none for changes from the provider or Open edX).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// For `email` and `open_edx`: how the delivery went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// For a failed or retried delivery: the reason, in the mail server's or Open edX's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub use crate::domain::change::{ChangeKind, Delivery};

/// A reviewer on a learner's detail (`GET /claims`, `POST /sessions/{id}/claim`): advice to
/// the rest of the team, never a lock. It lasts [`CLAIM_HOLD_SECS`] unless renewed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Claim {
    pub session_id: crate::domain::SessionId,
    pub exam_id: crate::domain::ExamId,
    pub course_id: String,
    /// The reviewer's username.
    pub reviewer: String,
}

/// How long a claim lasts without a renewal: a console that disappeared (a closed laptop,
/// a dropped SSH session) stops holding its learner within this.
pub const CLAIM_HOLD_SECS: u64 = 60;
/// How often a console renews the claim it holds: three chances before it expires.
pub const CLAIM_RENEW_SECS: u64 = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

/// `GET /me`: who the token speaks for and the courses granted to them (admins and the
/// service account see every course and have none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    #[serde(flatten)]
    pub reviewer: Reviewer,
    #[serde(default)]
    pub grants: Vec<crate::domain::access::Grant>,
}

/// `POST /media/{id}/link` and `POST /reports/{id}/link`: a URL that fetches the file
/// without a bearer token until `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedUrl {
    pub url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

pub fn media_link_path(id: crate::domain::MediaId) -> String {
    format!("media/{id}/link")
}

/// Where a signed link points (below [`PREFIX`]); the signature rides in the query.
pub fn media_file_path(id: crate::domain::MediaId) -> String {
    format!("media/{id}/file")
}

/// `GET`: a video's stills ([`crate::domain::frames::FrameIndex`]); 202 while they are drawn.
pub fn frames_path(id: crate::domain::MediaId) -> String {
    format!("media/{id}/frames")
}

/// `GET`: the stills of a span as one frame pack ([`FramePackQuery`]).
pub fn frame_pack_path(id: crate::domain::MediaId) -> String {
    format!("media/{id}/frames/pack")
}

/// Which stills of a video a frame pack holds: those shown from `from_ms` to `to_ms`
/// (milliseconds into the file), or only the contact sheet's.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FramePackQuery {
    #[serde(default)]
    pub from_ms: u64,
    #[serde(default)]
    pub to_ms: Option<u64>,
    #[serde(default)]
    pub sheet: bool,
}

/// The answer while a video's stills are being drawn (202).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FramesDrawing {
    pub drawing: bool,
}

/// What describes an evidence file besides its bytes (the query of
/// `POST /sessions/{id}/media`, an import manifest's item): the domain's words.
pub use crate::domain::evidence::MediaMeta;

/// `GET /courses/{course_id}/reports`: the Pending Tasks (queued, running and failed report
/// jobs) and the Reports Available, each newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportList {
    pub pending: Vec<crate::domain::Job>,
    pub available: Vec<crate::domain::Job>,
}

pub fn report_link_path(id: crate::domain::JobId) -> String {
    format!("reports/{id}/link")
}

pub fn report_file_path(id: crate::domain::JobId) -> String {
    format!("reports/{id}/file")
}

/// `GET` (no token): how to sign in with the institution's identity provider, 404 where the
/// server has none; `POST` ([`SignInRequest`], no token): the provider's ID token for a
/// reviewer token ([`SignedIn`]), 403 with the reason for a person the server does not let in.
pub const SIGN_IN_PATH: &str = "sign-in";

/// Where and how the console asks the provider (OAuth 2.0 device authorization, RFC 8628).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInInfo {
    pub issuer: String,
    pub client_id: String,
    pub device_authorization_endpoint: String,
    pub token_endpoint: String,
    pub scope: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignInRequest {
    pub id_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    /// A reviewer token, as `reviewer add` makes them (shown once).
    pub token: String,
    pub username: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<time::OffsetDateTime>,
}
