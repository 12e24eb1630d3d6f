//! The application layer between the routes and the store: who may see and do what, and
//! the decision use case. Routes only parse, call these and shape answers, so a second
//! store backend never re-implements a rule.
//!
//! May use: `store`, `domain`.

mod decide;
mod scope;
mod stats;

pub use decide::{DecideSettings, DecisionInput, decide, undo};
pub use scope::{
    course_reports, courses, evidence_session, media, media_of_session, queue, report,
    retry_session, session, sessions,
};
pub use stats::course_stats;

use crate::domain::access::Refusal;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// Absent, or outside the caller's grants: the two are answered alike.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    /// A decision without the status the reviewer saw.
    #[error("{0}")]
    PreconditionRequired(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReviewError {
    /// `not_found` is what the caller is told when the thing is hidden from them: the
    /// same words as when it does not exist.
    fn refused(refusal: Refusal, not_found: impl FnOnce() -> String) -> Self {
        match refusal {
            Refusal::Hidden => Self::NotFound(not_found()),
            other => Self::Forbidden(other.to_string()),
        }
    }
}
