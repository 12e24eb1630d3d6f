//! The review vocabulary and rules. Nothing in here performs I/O, so every rule is testable
//! without a database or a terminal.
//!
//! May use: nothing of ours; it is what every other room speaks.

pub mod access;
pub mod audit;
pub mod change;
pub mod decision;
pub mod email;
pub mod evidence;
pub mod frames;
pub mod job;
pub mod lms;
pub mod model;
pub mod query;
pub mod retention;
pub mod second_review;
pub mod sign_in;
pub mod stats;
pub mod status;
pub mod text;
pub mod undo;
pub mod words;

pub use decision::{DecisionError, DecisionFacts, DecisionPlan, Verdict, plan_decision};
pub use evidence::{
    ContentType, MediaId, MediaItem, MediaKind, Onboarding, OnboardingStatus, ScanResult,
};
pub use job::{Job, JobId, JobKind, JobState, ReportFile, ReportRow};
pub use lms::{LmsState, LmsSync};
pub use model::*;
pub use status::{AttemptStatus, LearnerView, ReviewStatus};
