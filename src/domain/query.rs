//! What a list of sessions is asked for and answered with, once the request was checked:
//! the store takes these, never the HTTP query itself.

use super::AttemptStatus;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Started,
    Learner,
    Username,
    Violations,
    Duration,
    Status,
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        Self::Started,
        Self::Learner,
        Self::Username,
        Self::Violations,
        Self::Duration,
        Self::Status,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Learner => "learner",
            Self::Username => "username",
            Self::Violations => "violations",
            Self::Duration => "duration",
            Self::Status => "status",
        }
    }

    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// The direction a reviewer expects first: newest, most violations and longest first;
    /// names and statuses A to Z.
    pub fn natural_desc(self) -> bool {
        matches!(self, Self::Started | Self::Violations | Self::Duration)
    }
}

/// Where a page starts: the old offset (kept for clients that use it), just after or before
/// a row a cursor names (keyset paging: read from the index, however deep), or the end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PageFrom {
    #[default]
    Start,
    Offset(u64),
    After(Cursor),
    Before(Cursor),
    End,
}

/// A row's place in one order of the list: what the order compares, and how far down the
/// list the row was when the server handed it out (so a page read from a cursor knows its
/// offset without counting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: SortKey,
    #[serde(rename = "d")]
    pub desc: bool,
    /// Whether the row is in the Require Attention group (listed first).
    #[serde(rename = "a")]
    pub attention: bool,
    #[serde(rename = "k")]
    pub key: SortValue,
    #[serde(rename = "i")]
    pub id: i64,
    #[serde(rename = "p")]
    pub pos: u64,
}

/// The value a row is sorted by; `Null` (never started, never finished) sorts last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    Null,
    Int(i64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this server handed out")]
pub struct BadCursor;

impl Cursor {
    /// Opaque text for the query string.
    pub fn encode(&self) -> String {
        use base64::Engine;
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(text: &str) -> Result<Self, BadCursor> {
        use base64::Engine;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| BadCursor)?;
        serde_json::from_slice(&json).map_err(|_| BadCursor)
    }
}

/// A checked session query: a page of an exam's sessions, Require Attention first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFilter {
    pub from: PageFrom,
    pub limit: u32,
    /// Empty: every status.
    pub statuses: Vec<AttemptStatus>,
    /// Trimmed; empty: no search.
    pub search: String,
    pub sort: SortKey,
    pub desc: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub total: u64,
    pub offset: u64,
    pub items: Vec<T>,
    /// Cursor of the first item when rows come before it (ask with `before`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    /// Cursor of the last item when rows come after it (ask with `after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// `total` counts only the first matches of a search too common to count quickly:
    /// at least that many rows match.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub at_least: bool,
}

impl<T> Page<T> {
    /// A list with nothing in it.
    pub fn empty() -> Self {
        Self {
            total: 0,
            offset: 0,
            items: Vec::new(),
            prev: None,
            next: None,
            at_least: false,
        }
    }
}
