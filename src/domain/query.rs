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

/// A checked session query: a page of an exam's sessions, Require Attention first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFilter {
    pub offset: u64,
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
}
