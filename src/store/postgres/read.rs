//! Queries that only read: the same answers as the SQLite backend's, in PostgreSQL's words.

use super::sql::{Cached, numbered};
use crate::domain::access::CourseScope;
use crate::domain::words::Word;
use crate::domain::{
    CourseSummary, ExamId, HistoryEntry, MediaItem, Onboarding, OnboardingStatus, RULES_VIOLATION,
    Reviewer, Role, SessionDetail, SessionId, SessionRow, Violation, ViolationMark,
};
use crate::store::StoreError;
use crate::store::evidence::{MEDIA_COLUMNS, media_item};
use crate::store::rows::parse;
use crate::store::timefmt::{opt_from_sql, to_sql};
use tokio_postgres::types::Type;
use tokio_postgres::{GenericClient, Row};

pub(super) fn reviewer_from(r: &Row) -> Result<Reviewer, StoreError> {
    Ok(Reviewer {
        id: r.try_get(0)?,
        username: r.try_get(1)?,
        email: r.try_get(2)?,
        full_name: r.try_get(3)?,
        role: Role::parse(r.try_get::<_, &str>(4)?).unwrap_or_default(),
    })
}

pub async fn active_reviewer<C: Cached>(
    c: &C,
    id: i64,
    now: time::OffsetDateTime,
) -> Result<Option<Reviewer>, StoreError> {
    let st = c
        .statement(&numbered(crate::store::queries::ACTIVE_REVIEWER))
        .await?;
    c.client()
        .query_opt(&st, &[&id, &to_sql(now)])
        .await?
        .as_ref()
        .map(reviewer_from)
        .transpose()
}

pub async fn courses<C: GenericClient + Sync>(
    c: &C,
    scope: &CourseScope,
) -> Result<Vec<CourseSummary>, StoreError> {
    let ids: Option<Vec<String>> = match scope {
        CourseScope::All => None,
        CourseScope::Only(ids) if ids.is_empty() => return Ok(Vec::new()),
        CourseScope::Only(ids) => Some(ids.clone()),
    };
    let rows = c
        .query(
            "SELECT c.id, c.name, e.id, e.content_id, e.external_id, e.exam_name, e.time_limit_mins,
                    e.is_proctored, e.is_practice_exam, e.backend,
                    COALESCE(SUM(n.n), 0)::bigint,
                    COALESCE(SUM(n.n) FILTER (WHERE n.status = 'second_review_required'), 0)::bigint,
                    COALESCE(SUM(n.n) FILTER (WHERE n.status = 'submitted'), 0)::bigint,
                    COALESCE(SUM(n.n) FILTER (WHERE n.status = 'verified'), 0)::bigint,
                    COALESCE(SUM(n.n) FILTER (WHERE n.status = 'rejected'), 0)::bigint
             FROM courses c
             JOIN exams e ON e.course_id = c.id AND e.is_active
             LEFT JOIN session_counts n ON n.exam_id = e.id
             WHERE $1::text[] IS NULL OR c.id = ANY($1)
             GROUP BY c.seq, c.id, e.id
             ORDER BY c.seq, e.id",
            &[&ids],
        )
        .await?;
    let mut out: Vec<CourseSummary> = Vec::new();
    for r in &rows {
        crate::store::rows::add_course_row(&mut out, r)?;
    }
    Ok(out)
}

pub async fn exam_course<C: GenericClient + Sync>(
    c: &C,
    exam: ExamId,
) -> Result<Option<String>, StoreError> {
    Ok(c.query_typed_opt(
        "SELECT course_id FROM exams WHERE id = $1",
        &[(&exam, Type::INT8)],
    )
    .await?
    .map(|r| r.try_get(0))
    .transpose()?)
}

pub async fn session_course<C: Cached>(
    c: &C,
    session: SessionId,
) -> Result<Option<String>, StoreError> {
    let st = c
        .statement(
            "SELECT e.course_id FROM sessions s JOIN exams e ON e.id = s.exam_id WHERE s.id = $1",
        )
        .await?;
    Ok(c.client()
        .query_opt(&st, &[&session])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}

pub(super) use crate::store::queries::SESSION_ROW_COUNT as ROW_COLUMN_COUNT;
pub(super) use crate::store::rows::session_row;

pub async fn session<C: Cached>(c: &C, id: SessionId) -> Result<SessionDetail, StoreError> {
    let sql = super::sql::numbered(crate::store::queries::SESSION_DETAIL);
    // One connection pipelines what it is sent together: the five queries cost about one
    // round trip instead of five.
    let (found, violations, history, media, onboarding) = tokio::try_join!(
        async {
            let st = c.statement(&sql).await?;
            Ok::<_, StoreError>(c.client().query_opt(&st, &[&id]).await?)
        },
        violations(c, id),
        history(c, id),
        session_media(c, id),
        onboarding(c, id),
    )?;
    let Some(r) = found else {
        return Err(StoreError::NotFound(format!("no session with id {id}")));
    };
    let row = session_row(&r)?;
    let parts = crate::store::rows::DetailParts {
        violations,
        history,
        media,
        onboarding,
    };
    crate::store::rows::session_detail(&r, row, parts)
}

/// Fills in where each row's violations fall, with one query for the whole page.
pub(super) async fn add_marks<C: GenericClient + Sync>(
    c: &C,
    rows: &mut [SessionRow],
) -> Result<(), StoreError> {
    let ids: Vec<i64> = rows
        .iter()
        .filter(|r| r.violation_count > 0)
        .map(|r| r.id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let found = c
        .query_typed(
            "SELECT session_id, start_time, status = $1 FROM violations
             WHERE session_id = ANY($2) ORDER BY session_id, start_time, id",
            &[(&RULES_VIOLATION, Type::TEXT), (&ids, Type::INT8_ARRAY)],
        )
        .await?;
    let index: std::collections::HashMap<SessionId, usize> =
        rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    for r in &found {
        let id: SessionId = r.try_get(0)?;
        if let Some(&i) = index.get(&id) {
            rows[i].marks.push(ViolationMark {
                at: r.try_get(1)?,
                rules: r.try_get(2)?,
            });
        }
    }
    Ok(())
}

/// The session's own media, then the learner's latest onboarding photo for the course if
/// it was taken with another session.
async fn session_media<C: Cached>(c: &C, session: SessionId) -> Result<Vec<MediaItem>, StoreError> {
    let sql = format!(
        "SELECT {MEDIA_COLUMNS} FROM media m WHERE m.session_id = $1
         UNION ALL
         (SELECT {MEDIA_COLUMNS} FROM media m
           JOIN sessions o ON o.id = m.session_id JOIN exams oe ON oe.id = o.exam_id
           JOIN sessions s ON s.id = $1 JOIN exams e ON e.id = s.exam_id
           WHERE m.kind = 'onboarding_photo' AND o.learner_id = s.learner_id
             AND oe.course_id = e.course_id AND o.id <> s.id
             AND NOT EXISTS (SELECT 1 FROM media own WHERE own.session_id = s.id AND own.kind = 'onboarding_photo')
           ORDER BY m.created DESC, m.id DESC LIMIT 1)"
    );
    let st = c.statement(&sql).await?;
    let mut out = c
        .client()
        .query(&st, &[&session])
        .await?
        .iter()
        .map(media_item)
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by_key(|m| (m.kind as u8, m.offset_start.unwrap_or(0), m.id));
    Ok(out)
}

async fn onboarding<C: Cached>(
    c: &C,
    session: SessionId,
) -> Result<Option<Onboarding>, StoreError> {
    let st = c
        .statement(
            "SELECT o.status, o.started_at, o.submitted_at, o.verified_at FROM onboarding o
             JOIN sessions s ON s.learner_id = o.learner_id JOIN exams e ON e.id = s.exam_id
             WHERE s.id = $1 AND o.course_id = e.course_id",
        )
        .await?;
    let Some(r) = c.client().query_opt(&st, &[&session]).await? else {
        return Ok(None);
    };
    Ok(Some(Onboarding {
        status: parse::<OnboardingStatus>(r.try_get(0)?)?,
        started_at: opt_from_sql(r.try_get(1)?)?,
        submitted_at: opt_from_sql(r.try_get(2)?)?,
        verified_at: opt_from_sql(r.try_get(3)?)?,
    }))
}

pub async fn violations<C: Cached>(
    c: &C,
    session: SessionId,
) -> Result<Vec<Violation>, StoreError> {
    let st = c
        .statement(
            "SELECT id, start_time, stop_time, duration, kind, status, comment FROM violations
             WHERE session_id = $1 ORDER BY start_time, id",
        )
        .await?;
    c.client()
        .query(&st, &[&session])
        .await?
        .iter()
        .map(crate::store::decide::violation_from)
        .collect()
}

async fn history<C: Cached>(c: &C, session: SessionId) -> Result<Vec<HistoryEntry>, StoreError> {
    let st = c
        .statement(&numbered(crate::store::queries::HISTORY))
        .await?;
    let rows = c.client().query(&st, &[&session]).await?;
    rows.iter().map(crate::store::rows::history_entry).collect()
}
