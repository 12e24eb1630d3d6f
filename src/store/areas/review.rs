//! What reviewers read and decide: courses, sessions, Learner Detail, decisions and undo,
//! the results report.

use crate::domain::access::CourseScope;
use crate::domain::query::{Page, SessionFilter};
use crate::domain::undo::{UndoError, UndoFacts, UndoPlan};
use crate::domain::{
    CourseSummary, DecisionError, ExamId, ReportRow, SessionDetail, SessionId, SessionRow,
};
use crate::run;
use crate::store::backend::Backend;
use crate::store::tx::Tx;
use crate::store::{
    DecisionCommand, DecisionContext, PlannedDecision, StoreError, UndoCommand, decide, queries,
};
use std::future::Future;

pub trait Review: Backend {
    fn courses(
        &self,
        scope: CourseScope,
    ) -> impl Future<Output = Result<Vec<CourseSummary>, StoreError>> + Send;

    /// The course an exam belongs to; `None` if there is no such exam.
    fn exam_course(
        &self,
        exam: ExamId,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// The course a session belongs to; `None` if there is no such session.
    fn session_course(
        &self,
        session: SessionId,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    fn sessions(
        &self,
        exam: ExamId,
        query: SessionFilter,
    ) -> impl Future<Output = Result<Page<SessionRow>, StoreError>> + Send;

    /// Require Attention sessions across every exam in `scope` (the statuses of `query`
    /// are ignored).
    fn queue(
        &self,
        scope: CourseScope,
        query: SessionFilter,
    ) -> impl Future<Output = Result<Page<SessionRow>, StoreError>> + Send;

    fn session(
        &self,
        id: SessionId,
    ) -> impl Future<Output = Result<SessionDetail, StoreError>> + Send;

    /// How many rows the course's report has.
    fn report_size(&self, course: String) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Streams the course's report rows to `each` on the blocking pool; how many there were.
    fn report_rows<F>(
        &self,
        course: String,
        each: F,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send
    where
        F: FnMut(ReportRow) -> Result<(), crate::store::BoxError> + Send + 'static;

    /// The session the recording pipeline names by the attempt id we gave its LMS
    /// (`pra-…`) or by its attempt code; `None` if none.
    fn session_by_reference(
        &self,
        reference: String,
    ) -> impl Future<Output = Result<Option<SessionId>, StoreError>> + Send {
        self.read(run!(|t| async {
            let args = crate::args![&reference, &reference];
            match t.row(queries::SESSION_BY_REFERENCE, args).await? {
                Some(r) => Ok(Some(crate::store::cells::Cells::cell(&r, 0)?)),
                None => Ok(None),
            }
        }))
    }

    /// Per exam: sessions awaiting a second review, and how many are `reviewer`'s own first
    /// opinions.
    fn awaiting(
        &self,
        reviewer: i64,
    ) -> impl Future<Output = Result<Vec<(ExamId, u64, u64)>, StoreError>> + Send {
        self.read(run!(|t| crate::store::stats::awaiting(t, reviewer)))
    }

    /// What a course's team stats are tallied from: its backlog now and its history since
    /// `from`, read in one transaction so the two agree.
    fn course_activity(
        &self,
        course: String,
        from: time::OffsetDateTime,
    ) -> impl Future<
        Output = Result<
            (
                crate::domain::stats::Backlog,
                Vec<crate::domain::stats::Entry>,
            ),
            StoreError,
        >,
    > + Send {
        self.read(run!(|t| async {
            let backlog = crate::store::stats::backlog(t, &course).await?;
            Ok((
                backlog,
                crate::store::stats::entries(t, &course, from).await?,
            ))
        }))
    }

    fn decide<P>(
        &self,
        cmd: DecisionCommand<P>,
    ) -> impl Future<Output = Result<SessionDetail, StoreError>> + Send
    where
        P: FnOnce(&DecisionContext) -> Result<PlannedDecision, DecisionError> + Send + 'static,
    {
        let key = self.seal_slot().get();
        async move {
            let decided = self.transact(run!(|t| decide::decide(t, cmd, key.as_ref())));
            let session = decided.await?;
            self.session(session).await
        }
    }

    /// Takes back the session's latest decision and cancels its held email and callback,
    /// recording the undo in the history; all or nothing.
    fn undo<P>(
        &self,
        cmd: UndoCommand<P>,
    ) -> impl Future<Output = Result<SessionDetail, StoreError>> + Send
    where
        P: FnOnce(Option<&UndoFacts>) -> Result<UndoPlan, UndoError> + Send + 'static,
    {
        let key = self.seal_slot().get();
        self.transact(run!(|t| decide::undo(t, cmd, key.as_ref())))
    }
}
