//! Reading what the caller's grants allow; anything else answers as if it did not exist.

use super::ReviewError;
use crate::domain::access::{Actor, CourseScope, Refusal};
use crate::domain::query::{Page, SessionFilter};
use crate::domain::{CourseSummary, ExamId, Job, JobKind, MediaId, MediaItem, SessionDetail};
use crate::domain::{SessionId, SessionRow};
use crate::store::{Store, StoreError};

fn no_session(id: SessionId) -> String {
    format!("no session with id {id}")
}

/// The courses and exams the caller may see, each with the caller's access.
pub async fn courses<S: Store>(
    store: &S,
    actor: &Actor,
) -> Result<Vec<CourseSummary>, ReviewError> {
    let mut courses = store.courses(actor.scope()).await?;
    for c in &mut courses {
        c.access = actor.access(&c.id);
    }
    Ok(courses)
}

pub async fn sessions<S: Store>(
    store: &S,
    actor: &Actor,
    exam: ExamId,
    filter: SessionFilter,
) -> Result<Page<SessionRow>, ReviewError> {
    let missing = || format!("no exam with id {exam}");
    let course = store
        .exam_course(exam)
        .await?
        .ok_or_else(|| ReviewError::NotFound(missing()))?;
    actor
        .may_see(&course)
        .map_err(|r| ReviewError::refused(r, missing))?;
    Ok(store.sessions(exam, filter).await?)
}

/// Require Attention sessions across every exam the caller may see.
pub async fn queue<S: Store>(
    store: &S,
    actor: &Actor,
    filter: SessionFilter,
) -> Result<Page<SessionRow>, ReviewError> {
    Ok(store.queue(actor.scope(), filter).await?)
}

/// Checks `rule` on the session's course: an absent session and one the rule hides
/// answer alike.
pub(super) async fn allowed_session<S: Store>(
    store: &S,
    actor: &Actor,
    id: SessionId,
    rule: impl Fn(&Actor, &str) -> Result<(), Refusal>,
) -> Result<(), ReviewError> {
    let course = store
        .session_course(id)
        .await?
        .ok_or_else(|| ReviewError::NotFound(no_session(id)))?;
    rule(actor, &course).map_err(|r| ReviewError::refused(r, || no_session(id)))
}

pub async fn session<S: Store>(
    store: &S,
    actor: &Actor,
    id: SessionId,
) -> Result<SessionDetail, ReviewError> {
    allowed_session(store, actor, id, Actor::may_see).await?;
    Ok(store.session(id).await?)
}

/// A session whose failed LMS delivery the caller may send again.
pub async fn retry_session<S: Store>(
    store: &S,
    actor: &Actor,
    id: SessionId,
) -> Result<(), ReviewError> {
    allowed_session(store, actor, id, Actor::may_decide).await
}

/// A session the caller may add evidence to.
pub async fn evidence_session<S: Store>(
    store: &S,
    actor: &Actor,
    id: SessionId,
) -> Result<(), ReviewError> {
    allowed_session(store, actor, id, Actor::may_add_evidence).await
}

pub async fn media<S: Store>(
    store: &S,
    actor: &Actor,
    id: MediaId,
) -> Result<MediaItem, ReviewError> {
    let missing = || format!("no media with id {id}");
    let (session, item) = match store.media(id).await {
        Err(StoreError::NotFound(_)) => return Err(ReviewError::NotFound(missing())),
        other => other?,
    };
    let course = store
        .session_course(session)
        .await?
        .ok_or_else(|| ReviewError::NotFound(missing()))?;
    actor
        .may_see(&course)
        .map_err(|r| ReviewError::refused(r, missing))?;
    Ok(item)
}

/// A course whose reports the caller may list and start.
pub async fn course_reports<S: Store>(
    store: &S,
    actor: &Actor,
    course: &str,
) -> Result<(), ReviewError> {
    let missing = || format!("no course with id {course}");
    actor
        .may_see(course)
        .map_err(|r| ReviewError::refused(r, missing))?;
    let only = CourseScope::Only(vec![course.to_owned()]);
    if store.courses(only).await?.is_empty() {
        return Err(ReviewError::NotFound(missing()));
    }
    Ok(())
}

/// A report job of a course the caller may see.
pub async fn report<S: Store>(store: &S, actor: &Actor, id: i64) -> Result<Job, ReviewError> {
    let missing = || format!("no report with id {id}");
    let job = match store.job(id).await {
        Err(StoreError::NotFound(_)) => return Err(ReviewError::NotFound(missing())),
        other => other?,
    };
    if job.kind != JobKind::Report {
        return Err(ReviewError::NotFound(missing()));
    }
    let course = job.course_id.as_deref().unwrap_or_default();
    actor
        .may_see(course)
        .map_err(|r| ReviewError::refused(r, missing))?;
    Ok(job)
}
