//! Open edX as this server's LMS: its registrations, the reviews sent back to it, and the
//! nightly reconciliation with what it lists.

use crate::domain::lms::AutomatedReview;
use crate::domain::{AttemptStatus, JobId, SessionDetail, SessionId};
use crate::run;
use crate::store::backend::Backend;
use crate::store::lms::{listings, reconcile, registrations, reviews};
use crate::store::{
    LmsAttempt, LmsClient, LmsDelivery, LmsExam, LmsOnboarding, LmsOutcome, Reconciled,
    RemoteAttempt, StoreError,
};
use std::future::Future;
use time::OffsetDateTime;

pub trait Lms: Backend {
    /// An LMS this server is the proctoring provider for.
    fn lms_client(
        &self,
        client_id: String,
    ) -> impl Future<Output = Result<Option<LmsClient>, StoreError>> + Send {
        self.read(run!(|t| registrations::client(t, &client_id)))
    }

    fn lms_clients(&self) -> impl Future<Output = Result<Vec<LmsClient>, StoreError>> + Send {
        self.read(run!(|t| registrations::clients(t)))
    }

    /// Adds the client, or replaces the settings of one with the same id.
    fn save_lms_client(
        &self,
        client: LmsClient,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.write(run!(|t| registrations::save_client(t, &client)))
    }

    /// Creates or updates an exam the LMS registered; returns our (external) exam id.
    fn lms_save_exam(
        &self,
        client_id: String,
        exam: LmsExam,
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        self.transact(run!(|t| registrations::save_exam(t, &client_id, &exam)))
    }

    /// Registers an attempt (idempotent while it has not started); returns our attempt id.
    fn lms_register_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt: LmsAttempt,
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        self.transact(run!(|t| registrations::register_attempt(
            t,
            &client_id,
            &exam_external_id,
            &attempt
        )))
    }

    fn lms_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
    ) -> impl Future<Output = Result<AttemptStatus, StoreError>> + Send {
        self.read(run!(|t| registrations::attempt(
            t,
            &client_id,
            &exam_external_id,
            &attempt_external_id
        )))
    }

    fn lms_set_attempt_status(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
        status: AttemptStatus,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.transact(run!(|t| registrations::set_attempt_status(
            t,
            &client_id,
            &exam_external_id,
            &attempt_external_id,
            status
        )))
    }

    /// The LMS reset an attempt: removed if nothing was reviewed, else kept and flagged.
    fn lms_delete_attempt(
        &self,
        client_id: String,
        exam_external_id: String,
        attempt_external_id: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.transact(run!(|t| registrations::delete_attempt(
            t,
            &client_id,
            &exam_external_id,
            &attempt_external_id
        )))
    }

    /// Erases a learner's personal data and evidence; the evidence files no longer used
    /// by any session are returned for removal. `None` if the learner is unknown.
    fn lms_retire_user(
        &self,
        client_id: String,
        external_user_id: String,
    ) -> impl Future<Output = Result<Option<Vec<String>>, StoreError>> + Send {
        self.transact(run!(|t| registrations::retire_user(
            t,
            &client_id,
            &external_user_id
        )))
    }

    /// Stores the recording pipeline's automated review and queues it for the LMS.
    fn automated_review(
        &self,
        session: SessionId,
        review: AutomatedReview,
    ) -> impl Future<Output = Result<SessionDetail, StoreError>> + Send {
        self.transact(run!(|t| reviews::automated_review(t, session, &review)))
    }

    /// Records how a delivery ended for the session (and the job's outcome with it).
    fn lms_delivery_outcome(
        &self,
        job: JobId,
        outcome: LmsOutcome,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.transact(run!(|t| reviews::delivery_outcome(t, job, &outcome)))
    }

    /// Queues the session's latest failed delivery again.
    fn lms_retry(
        &self,
        session: SessionId,
    ) -> impl Future<Output = Result<SessionDetail, StoreError>> + Send {
        self.transact(run!(|t| reviews::retry(t, session)))
    }

    /// Deliveries that are not (yet) confirmed, oldest first.
    fn lms_undelivered(&self) -> impl Future<Output = Result<Vec<LmsDelivery>, StoreError>> + Send {
        self.read(run!(|t| listings::undelivered(t)))
    }

    /// Onboarding of the learners this LMS registered, in a course (one learner if given).
    fn lms_onboarding(
        &self,
        client_id: String,
        course_id: String,
        user_id: Option<String>,
    ) -> impl Future<Output = Result<Vec<LmsOnboarding>, StoreError>> + Send {
        self.read(run!(|t| listings::onboarding(
            t,
            &client_id,
            &course_id,
            user_id.as_deref()
        )))
    }

    /// Course ids whose exams came from this LMS.
    fn lms_courses(
        &self,
        client_id: String,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        self.read(run!(|t| listings::courses(t, &client_id)))
    }

    /// Brings sessions in line with the attempts the LMS listed.
    fn lms_reconcile(
        &self,
        client_id: String,
        attempts: Vec<RemoteAttempt>,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Reconciled, StoreError>> + Send {
        let key = self.seal_slot().get();
        self.transact(run!(|t| reconcile::reconcile(
            t,
            &client_id,
            &attempts,
            at,
            key.as_ref()
        )))
    }

    fn lms_sync_result(
        &self,
        client_id: String,
        error: Option<String>,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.write(run!(|t| listings::sync_result(
            t,
            &client_id,
            error.as_deref(),
            at
        )))
    }
}
