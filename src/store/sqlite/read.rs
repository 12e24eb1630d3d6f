//! Queries that only read.

use super::search::Tiers;
use crate::domain::access::CourseScope;
use crate::domain::query::{Page, SessionFilter};
use crate::domain::words::Word;
use crate::domain::{
    CourseSummary, ExamId, HistoryEntry, MediaItem, Onboarding, OnboardingStatus, RULES_VIOLATION,
    Reviewer, Role, SessionDetail, SessionId, SessionRow, Violation, ViolationMark,
};
use crate::store::StoreError;
use crate::store::evidence::{MEDIA_COLUMNS, media_item};
use crate::store::rows::parse;
use crate::store::segments::Scope;
use crate::store::timefmt::{opt_from_sql, to_sql};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

pub(super) fn reviewer_from(r: &Row<'_>) -> rusqlite::Result<Reviewer> {
    Ok(Reviewer {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        full_name: r.get(3)?,
        role: Role::parse(&r.get::<_, String>(4)?).unwrap_or_default(),
    })
}

pub fn active_reviewer(
    c: &Connection,
    id: i64,
    now: time::OffsetDateTime,
) -> Result<Option<Reviewer>, StoreError> {
    Ok(c.prepare_cached(crate::store::queries::ACTIVE_REVIEWER)?
        .query_row(params![id, to_sql(now)], reviewer_from)
        .optional()?)
}

pub fn courses(c: &Connection, scope: &CourseScope) -> Result<Vec<CourseSummary>, StoreError> {
    let (filter, ids) = match scope {
        CourseScope::All => (String::new(), Vec::new()),
        CourseScope::Only(ids) if ids.is_empty() => return Ok(Vec::new()),
        CourseScope::Only(ids) => (
            format!("WHERE c.id IN ({})", vec!["?"; ids.len()].join(",")),
            ids.clone(),
        ),
    };
    let mut stmt = c.prepare(&format!(
        "SELECT c.id, c.name, e.id, e.content_id, e.external_id, e.exam_name, e.time_limit_mins,
                e.is_proctored, e.is_practice_exam, e.backend,
                COALESCE(SUM(n.n), 0),
                COALESCE(SUM(n.n) FILTER (WHERE n.status = 'second_review_required'), 0),
                COALESCE(SUM(n.n) FILTER (WHERE n.status = 'submitted'), 0),
                COALESCE(SUM(n.n) FILTER (WHERE n.status = 'verified'), 0),
                COALESCE(SUM(n.n) FILTER (WHERE n.status = 'rejected'), 0)
         FROM courses c
         JOIN exams e ON e.course_id = c.id AND e.is_active
         LEFT JOIN session_counts n ON n.exam_id = e.id
         {filter}
         GROUP BY e.id
         ORDER BY c.rowid, e.id"
    ))?;
    let mut out: Vec<CourseSummary> = Vec::new();
    let mut rows = stmt.query(params_from_iter(ids))?;
    while let Some(r) = rows.next()? {
        crate::store::rows::add_course_row(&mut out, r)?;
    }
    Ok(out)
}

/// The course an exam belongs to; `None` if there is no such exam.
pub fn exam_course(c: &Connection, exam: ExamId) -> Result<Option<String>, StoreError> {
    Ok(
        c.query_row("SELECT course_id FROM exams WHERE id = ?1", [exam], |r| {
            r.get(0)
        })
        .optional()?,
    )
}

/// The course a session belongs to; `None` if there is no such session.
pub fn session_course(c: &Connection, session: SessionId) -> Result<Option<String>, StoreError> {
    Ok(c.query_row(
        "SELECT e.course_id FROM sessions s JOIN exams e ON e.id = s.exam_id WHERE s.id = ?1",
        [session],
        |r| r.get(0),
    )
    .optional()?)
}

pub(super) use crate::store::queries::SESSION_ROW_COUNT as ROW_COLUMN_COUNT;
pub(super) use crate::store::rows::session_row;

pub fn sessions(
    c: &Connection,
    exam: ExamId,
    q: &SessionFilter,
    tiers: Tiers,
) -> Result<Page<SessionRow>, StoreError> {
    let exists: bool = c.query_row(
        "SELECT EXISTS (SELECT 1 FROM exams WHERE id = ?1)",
        [exam],
        |r| r.get(0),
    )?;
    if !exists {
        return Err(StoreError::NotFound(format!("no exam with id {exam}")));
    }
    let scope = Scope {
        filter: String::from("s.exam_id = ?"),
        args: vec![Value::Integer(exam)],
        attention_only: false,
        exams: vec![exam],
        tiers,
    };
    super::pages::page(c, scope, q)
}

/// Require Attention sessions of every active exam in `scope`: the cross-exam queue.
pub fn queue(
    c: &Connection,
    scope: &CourseScope,
    q: &SessionFilter,
    tiers: Tiers,
) -> Result<Page<SessionRow>, StoreError> {
    let (courses, args) = match scope {
        CourseScope::All => (String::new(), Vec::new()),
        CourseScope::Only(ids) => (
            format!(" AND course_id IN ({})", vec!["?"; ids.len()].join(",")),
            ids.iter()
                .map(|c| Value::Text(c.clone()))
                .collect::<Vec<_>>(),
        ),
    };
    let mut stmt = c.prepare(&format!("SELECT id FROM exams WHERE is_active{courses}"))?;
    let exams = stmt
        .query_map(params_from_iter(args.iter()), |r| r.get::<_, i64>(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    if exams.is_empty() {
        return Ok(Page::empty());
    }
    let scope = Scope {
        // The literal status lets the queue's partial indexes serve it.
        filter: format!(
            "s.status = 'second_review_required' AND s.exam_id IN ({})",
            vec!["?"; exams.len()].join(",")
        ),
        args: exams.iter().map(|e| Value::Integer(*e)).collect(),
        attention_only: true,
        exams,
        tiers,
    };
    let q = SessionFilter {
        statuses: Vec::new(),
        ..q.clone()
    };
    super::pages::page(c, scope, &q)
}

pub fn session(c: &mut Connection, id: SessionId) -> Result<SessionDetail, StoreError> {
    let sql = crate::store::queries::SESSION_DETAIL;
    // Read first: the shared query borrows the connection whole.
    let violations = violations(c, id)?;
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query([id])?;
    let Some(r) = rows.next()? else {
        return Err(StoreError::NotFound(format!("no session with id {id}")));
    };
    let row = session_row(r)?;
    let parts = crate::store::rows::DetailParts {
        violations,
        history: history(c, id)?,
        media: session_media(c, id)?,
        onboarding: onboarding(c, id)?,
    };
    crate::store::rows::session_detail(r, row, parts)
}

/// Fills in where each row's violations fall, with one query for the whole page.
pub(super) fn add_marks(c: &Connection, rows: &mut [SessionRow]) -> Result<(), StoreError> {
    let with = rows.iter().filter(|r| r.violation_count > 0).count();
    if with == 0 {
        return Ok(());
    }
    let ids: Vec<Value> = rows
        .iter()
        .filter(|r| r.violation_count > 0)
        .map(|r| Value::Integer(r.id))
        .collect();
    let sql = format!(
        "SELECT session_id, start_time, status = ?1 FROM violations
         WHERE session_id IN ({}) ORDER BY session_id, start_time, id",
        vec!["?"; with].join(",")
    );
    let mut args = vec![Value::Text(RULES_VIOLATION.into())];
    args.extend(ids);
    let mut stmt = c.prepare(&sql)?;
    let mut found = stmt.query(params_from_iter(args.iter()))?;
    let index: std::collections::HashMap<SessionId, usize> =
        rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    while let Some(r) = found.next()? {
        let id: SessionId = r.get(0)?;
        if let Some(&i) = index.get(&id) {
            rows[i].marks.push(ViolationMark {
                at: r.get(1)?,
                rules: r.get(2)?,
            });
        }
    }
    Ok(())
}

/// The session's own media, then the learner's latest onboarding photo for the course if
/// it was taken with another session.
fn session_media(c: &Connection, session: SessionId) -> Result<Vec<MediaItem>, StoreError> {
    let sql = format!(
        "SELECT {MEDIA_COLUMNS} FROM media m WHERE m.session_id = ?1
         UNION ALL
         SELECT * FROM (
           SELECT {MEDIA_COLUMNS} FROM media m
           JOIN sessions o ON o.id = m.session_id JOIN exams oe ON oe.id = o.exam_id
           JOIN sessions s ON s.id = ?1 JOIN exams e ON e.id = s.exam_id
           WHERE m.kind = 'onboarding_photo' AND o.learner_id = s.learner_id
             AND oe.course_id = e.course_id AND o.id <> s.id
             AND NOT EXISTS (SELECT 1 FROM media own WHERE own.session_id = s.id AND own.kind = 'onboarding_photo')
           ORDER BY m.created DESC, m.id DESC LIMIT 1)"
    );
    let mut stmt = c.prepare(&sql)?;
    let mut rows = stmt.query([session])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(media_item(r)?);
    }
    // Segments in recording order, the rest in the order they were taken.
    out.sort_by_key(|m| (m.kind as u8, m.offset_start.unwrap_or(0), m.id));
    Ok(out)
}

fn onboarding(c: &Connection, session: SessionId) -> Result<Option<Onboarding>, StoreError> {
    let mut stmt = c.prepare(
        "SELECT o.status, o.started_at, o.submitted_at, o.verified_at FROM onboarding o
         JOIN sessions s ON s.learner_id = o.learner_id JOIN exams e ON e.id = s.exam_id
         WHERE s.id = ?1 AND o.course_id = e.course_id",
    )?;
    let mut rows = stmt.query([session])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(Onboarding {
        status: parse::<OnboardingStatus>(&r.get::<_, String>(0)?)?,
        started_at: opt_from_sql(r.get(1)?)?,
        submitted_at: opt_from_sql(r.get(2)?)?,
        verified_at: opt_from_sql(r.get(3)?)?,
    }))
}

pub fn violations(c: &mut Connection, session: SessionId) -> Result<Vec<Violation>, StoreError> {
    crate::store::tx::at_once(crate::store::decide::violations(
        &mut super::tx::Lite(c),
        session,
    ))
}

fn history(c: &Connection, session: SessionId) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut stmt = c.prepare_cached(crate::store::queries::HISTORY)?;
    let mut rows = stmt.query(params![session])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(crate::store::rows::history_entry(r)?);
    }
    Ok(out)
}
