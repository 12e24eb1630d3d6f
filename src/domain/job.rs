//! Background work the server does after answering: learner emails and reports (and, later,
//! LMS callbacks), all as rows of one `jobs` table with one lifecycle.

use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;

pub type JobId = i64;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum JobKind {
    Email,
    Report,
    /// A review on its way to Open edX's review callback.
    LmsReview,
    /// The decision history's head, logged once a day.
    HistoryHead,
    /// Stills drawn from a recording, to watch it in the terminal.
    Frames,
    /// Evidence of decided sessions past its course's retention period, deleted daily.
    Retention,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    /// Never run: its decision was undone while it was held.
    Cancelled,
}

impl JobState {
    /// Glyph and word, so the state reads without colour.
    pub fn label(self) -> &'static str {
        match self {
            Self::Queued => "◷ queued",
            Self::Running => "▶ running",
            Self::Done => "✔ done",
            Self::Failed => "✘ failed",
            Self::Cancelled => "⊘ cancelled",
        }
    }

    pub fn pending(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

/// Where a kind's jobs stand, for `mail status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobTally {
    /// Queued and due: going out as fast as the rate allows.
    pub due: u64,
    /// Queued for later: held for the undo window, or waiting out a backoff.
    pub later: u64,
    pub running: u64,
    pub failed: u64,
    /// Finished in the last minute: the rate the servers are going at.
    pub done_last_minute: u64,
    /// When the longest-waiting due job fell due: how far behind the queue is.
    pub oldest_due: Option<time::OffsetDateTime>,
}

impl JobTally {
    /// How long what is waiting takes at the last minute's rate, or at `default_per_second`
    /// when nothing went out in it (no server running, or nothing was due).
    pub fn drain_estimate(&self, default_per_second: u32) -> String {
        let waiting = self.due + self.running;
        if waiting == 0 {
            return "nothing is waiting to go out".into();
        }
        let (per_second, how) = if self.done_last_minute > 0 {
            (
                self.done_last_minute as f64 / 60.0,
                "at the last minute's rate",
            )
        } else {
            (
                f64::from(default_per_second.max(1)),
                "at the default rate, once a server sends them (none went out in the last minute)",
            )
        };
        let secs = (waiting as f64 / per_second).ceil() as u64;
        let took = match secs {
            0..=59 => format!("{secs} s"),
            60..=3599 => format!("{} min", secs.div_ceil(60)),
            _ => format!("{} h {} min", secs / 3600, (secs % 3600).div_ceil(60)),
        };
        format!("{waiting} take about {took} {how} ({per_second:.0}/s)")
    }
}

/// A finished report file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFile {
    pub name: String,
    pub size: u64,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub state: JobState,
    /// 0.0 to 1.0.
    pub progress: f64,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The reviewer who asked for it (none for emails).
    pub requested_by: Option<String>,
    pub course_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    pub report: Option<ReportFile>,
}

/// How failed jobs are tried again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The wait after the first failure; it doubles after each further one.
    pub first_wait: std::time::Duration,
    /// Attempts before the job is marked failed (and shown, and listed for an admin).
    pub attempts: u32,
}

impl RetryPolicy {
    /// Learner emails: 30 s doubling up to an hour, 10 attempts (about 5 hours in all).
    pub const EMAIL: Self = Self {
        first_wait: std::time::Duration::from_secs(30),
        attempts: 10,
    };

    /// Reviews for Open edX: 30 s doubling up to an hour, 12 attempts.
    pub const LMS: Self = Self {
        first_wait: std::time::Duration::from_secs(30),
        attempts: 12,
    };

    /// How long a job that failed `attempts` times waits before the next try: doubling up
    /// to an hour, with up to a fifth added at random (`jitter` in 0..1) so retries of many
    /// jobs do not come in waves.
    pub fn backoff(&self, attempts: u32, jitter: f64) -> time::Duration {
        let base =
            self.first_wait.as_secs_f64() * 2f64.powi(attempts.saturating_sub(1).min(16) as i32);
        let secs = base.min(3600.0) * (1.0 + jitter.clamp(0.0, 1.0) / 5.0);
        time::Duration::seconds_f64(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_says_how_long_it_takes_at_the_rate_it_goes() {
        let t = JobTally {
            due: 11_990,
            running: 10,
            done_last_minute: 3_000,
            ..JobTally::default()
        };
        assert_eq!(
            t.drain_estimate(50),
            "12000 take about 4 min at the last minute's rate (50/s)"
        );
        let idle = JobTally {
            due: 100,
            ..JobTally::default()
        };
        assert!(
            idle.drain_estimate(50)
                .starts_with("100 take about 2 s at the default rate")
        );
        let big = JobTally {
            due: 83_000,
            done_last_minute: 600,
            ..JobTally::default()
        };
        assert_eq!(
            big.drain_estimate(50),
            "83000 take about 2 h 19 min at the last minute's rate (10/s)"
        );
        assert_eq!(
            JobTally::default().drain_estimate(50),
            "nothing is waiting to go out"
        );
    }
    use crate::domain::words::Word;

    #[test]
    fn retries_back_off_to_an_hour() {
        let p = RetryPolicy::EMAIL;
        assert_eq!(p.backoff(1, 0.0).whole_seconds(), 30);
        assert_eq!(p.backoff(2, 0.0).whole_seconds(), 60);
        assert_eq!(p.backoff(4, 0.0).whole_seconds(), 240);
        assert_eq!(p.backoff(30, 0.0).whole_seconds(), 3600);
        assert_eq!(p.backoff(1, 1.0).whole_seconds(), 36);
        assert_eq!(JobState::parse("running"), Some(JobState::Running));
        assert_eq!(JobKind::Report.as_str(), "report");
    }
}

/// One line of the Proctored Exam Results report, before formatting.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub course_id: String,
    pub provider: Option<String>,
    pub track: String,
    pub exam_name: String,
    pub username: String,
    pub email: String,
    pub attempt_code: String,
    pub allowed_time_limit_mins: Option<i64>,
    pub is_sample_attempt: bool,
    pub started_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    pub status: String,
    /// None when the attempt has no review (always for practice exams).
    pub review_status: Option<String>,
    pub suspicious: Vec<String>,
    pub rules_violation: Vec<String>,
}
