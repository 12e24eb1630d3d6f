//! Background jobs (learner emails, Open edX reviews, reports): one queue, claimed by any
//! server, each job by one.

use crate::domain::{Job, JobId, JobKind};
use crate::run;
use crate::store::backend::Backend;
use crate::store::{ClaimedJob, FailedEmail, StoreError, jobs};
use std::future::Future;
use time::OffsetDateTime;

pub trait Jobs: Backend {
    /// Takes the next due job of `kind`, marking it running; never the same job twice.
    fn claim_job(
        &self,
        kind: JobKind,
        instance: String,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<ClaimedJob>, StoreError>> + Send {
        self.write(run!(|t| jobs::claim(t, kind, &instance, now)))
    }

    /// Where the jobs of `kind` stand now (`mail status`).
    fn job_tally(
        &self,
        kind: JobKind,
    ) -> impl Future<Output = Result<crate::domain::job::JobTally, StoreError>> + Send {
        let now = OffsetDateTime::now_utc();
        self.read(run!(|t| jobs::tally(t, kind, now)))
    }

    /// When the next queued job of `kind` becomes due (held and backed-off ones included).
    fn next_due(
        &self,
        kind: JobKind,
    ) -> impl Future<Output = Result<Option<OffsetDateTime>, StoreError>> + Send {
        self.read(run!(|t| jobs::next_due(t, kind)))
    }

    fn job_progress(
        &self,
        id: JobId,
        progress: f64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.write(run!(|t| jobs::progress(t, id, progress)))
    }

    /// `result` is JSON (a report's file).
    fn job_done(
        &self,
        id: JobId,
        result: Option<String>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let now = OffsetDateTime::now_utc();
        self.write(run!(|t| jobs::done(t, id, result.as_deref(), now)))
    }

    fn job_retry(
        &self,
        id: JobId,
        error: String,
        next: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.write(run!(|t| jobs::retry(t, id, &error, next)))
    }

    fn job_failed(
        &self,
        id: JobId,
        error: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let now = OffsetDateTime::now_utc();
        self.write(run!(|t| jobs::failed(t, id, &error, now)))
    }

    /// Says server `instance` is alive and queues again what a server that went quiet for
    /// `stale` left running; how many.
    fn recover_jobs(
        &self,
        instance: String,
        now: OffsetDateTime,
        stale: time::Duration,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.transact(run!(|t| jobs::recover(t, &instance, now, stale)))
    }

    /// Hands back what server `instance` is still running (it is stopping) and forgets the
    /// server, so others take the jobs at once rather than after it has gone quiet; how many.
    fn release_jobs(
        &self,
        instance: String,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.transact(run!(|t| jobs::release(t, &instance)))
    }

    /// Learner emails whose retry budget is spent, oldest first.
    fn failed_emails(&self) -> impl Future<Output = Result<Vec<FailedEmail>, StoreError>> + Send {
        self.read(run!(|t| jobs::failed_emails(t)))
    }

    /// Queues failed jobs of `kind` again (one, or all); how many.
    fn requeue_failed(
        &self,
        kind: JobKind,
        job: Option<JobId>,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.write(run!(|t| jobs::requeue_failed(t, kind, job, now)))
    }

    fn job(&self, id: JobId) -> impl Future<Output = Result<Job, StoreError>> + Send {
        self.read(run!(|t| jobs::job(t, id)))
    }

    /// Jobs of a kind, for one course if given, newest first.
    fn jobs(
        &self,
        kind: JobKind,
        course: Option<String>,
    ) -> impl Future<Output = Result<Vec<Job>, StoreError>> + Send {
        self.read(run!(|t| jobs::list(t, kind, course.as_deref())))
    }

    /// Queues a report for a course; refused while one is queued or running.
    fn start_report(
        &self,
        course: String,
        reviewer: i64,
    ) -> impl Future<Output = Result<Job, StoreError>> + Send {
        let now = OffsetDateTime::now_utc();
        self.transact(run!(|t| jobs::start_report(t, &course, reviewer, now)))
    }

    /// Keeps one job of a recurring `kind` queued, due at `due` if it queues one; whether
    /// it did (another server, or an earlier run, may have).
    fn keep_scheduled(
        &self,
        kind: JobKind,
        due: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let now = OffsetDateTime::now_utc();
        self.transact(run!(|t| jobs::keep_scheduled(t, kind, due, now)))
    }

    /// Runs a recurring kind now instead of at its next time; false if it is running.
    fn run_now(&self, kind: JobKind) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let now = OffsetDateTime::now_utc();
        self.transact(run!(|t| jobs::run_now(t, kind, now)))
    }
}
