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
    // First opinions waiting: the caller's own are someone else's to settle.
    let awaiting = store.awaiting(actor.reviewer.id).await?;
    for c in &mut courses {
        c.access = actor.access(&c.id);
        for e in &mut c.exams {
            if let Some((_, all, yours)) = awaiting.iter().find(|(x, ..)| *x == e.exam.id) {
                e.counts.awaiting_second_review = *all;
                e.counts.yours_awaiting = *yours;
            }
        }
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
    let fits = |row: &SessionRow| {
        row.exam_id == exam && (filter.statuses.is_empty() || filter.statuses.contains(&row.status))
    };
    if let Some(page) = by_reference(store, &filter.search, fits).await? {
        return Ok(page);
    }
    Ok(store.sessions(exam, filter).await?)
}

/// A search that is exactly an attempt id we gave an LMS (`pra-…`) or an attempt code —
/// what the recording pipeline and Open edX call a session — finds that session (where
/// it `fits` the list); `None` for any other search.
async fn by_reference<S: Store>(
    store: &S,
    search: &str,
    fits: impl Fn(&SessionRow) -> bool,
) -> Result<Option<Page<SessionRow>>, ReviewError> {
    let q = search.trim();
    if q.is_empty() || q.contains(char::is_whitespace) {
        return Ok(None);
    }
    // Attempt codes are upper case; one pasted from a lower-case email still names it.
    let reference = crate::domain::text::attempt_code(q).unwrap_or_else(|| q.to_owned());
    let Some(id) = store.session_by_reference(reference).await? else {
        return Ok(None);
    };
    let row = store.session(id).await?.row;
    let mut page = Page::empty();
    if fits(&row) {
        page.total = 1;
        page.items.push(row);
    }
    Ok(Some(page))
}

/// Require Attention sessions across every exam the caller may see.
pub async fn queue<S: Store>(
    store: &S,
    actor: &Actor,
    filter: SessionFilter,
) -> Result<Page<SessionRow>, ReviewError> {
    let in_queue =
        |row: &SessionRow| row.status == crate::domain::AttemptStatus::SecondReviewRequired;
    if let Some(mut page) = by_reference(store, &filter.search, in_queue).await? {
        // Only within the caller's courses, as every other list.
        if let Some(row) = page.items.first()
            && actor
                .may_see(&store.session_course(row.id).await?.unwrap_or_default())
                .is_err()
        {
            page = Page::empty();
        }
        return Ok(page);
    }
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
    let mut detail = store.session(id).await?;
    crate::domain::second_review::blind(&mut detail, &actor.reviewer.username);
    Ok(detail)
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
    Ok(media_of_session(store, actor, id).await?.1)
}

/// As [`media`], with the session the file belongs to.
pub async fn media_of_session<S: Store>(
    store: &S,
    actor: &Actor,
    id: MediaId,
) -> Result<(SessionId, MediaItem), ReviewError> {
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
    Ok((session, item))
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
