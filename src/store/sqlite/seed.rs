//! Loads a data set into an empty database, part by part, in one transaction.
//!
//! The indexes and triggers of learners, sessions, violations and media are set aside while the rows go in and made again
//! once at the end: building an index from a million rows at once is several times quicker
//! than keeping twelve of them in step row by row; the counts and the search index are
//! made in one pass each.

use super::search;
use crate::domain::text::search_key;
use crate::domain::words::Word;
use crate::store::StoreError;
use crate::store::seed::{SeedBatches, SeedData};
use crate::store::timefmt::to_sql;
use rusqlite::{Connection, params};

pub fn seed(c: &mut Connection, batches: SeedBatches) -> Result<(), StoreError> {
    // Room to sort the rebuilt indexes in memory; given back after.
    // Helper threads sort the rebuilt indexes.
    let cache: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    c.pragma_update(None, "cache_size", -SEED_CACHE_KIB)?;
    c.pragma_update(None, "threads", SEED_SORT_THREADS)?;
    let seeded = seed_in(c, batches);
    c.pragma_update(None, "cache_size", cache)?;
    c.pragma_update(None, "threads", 0)?;
    seeded
}

/// Page cache while seeding, in KiB.
const SEED_CACHE_KIB: i64 = 64 * 1024;
const SEED_SORT_THREADS: i64 = 2;

fn seed_in(c: &mut Connection, batches: SeedBatches) -> Result<(), StoreError> {
    c.execute_batch("BEGIN")?;
    let done = seed_rows(c, batches);
    if done.is_err() && !c.is_autocommit() {
        c.execute_batch("ROLLBACK")?;
    }
    done
}

fn seed_rows(tx: &mut Connection, batches: SeedBatches) -> Result<(), StoreError> {
    let set_aside = set_aside(tx)?;
    let mut learners = Vec::new();
    let t = std::time::Instant::now();
    let mut made = std::time::Duration::ZERO;
    let mut batches = batches;
    loop {
        let m = std::time::Instant::now();
        let Some(data) = batches.next() else { break };
        made += m.elapsed();
        insert(tx, &data, &mut learners)?;
    }
    tracing::debug!(?made, total = ?t.elapsed(), "seed: rows in");
    for sql in set_aside {
        tx.execute_batch(&sql)?;
    }
    tracing::debug!(total = ?t.elapsed(), "seed: indexes made");
    crate::store::tx::at_once(crate::store::counts::recount(&mut super::tx::Lite(tx)))?;
    search::rebuild(tx)?;
    tracing::debug!(total = ?t.elapsed(), "seed: counted");
    tx.execute_batch("COMMIT")?;
    tracing::debug!(total = ?t.elapsed(), "seed: committed");
    Ok(())
}

/// Drops the sessions' own indexes and triggers; answers the SQL that makes them again.
fn set_aside(tx: &Connection) -> Result<Vec<String>, StoreError> {
    let found: Vec<(String, String, String)> = tx
        .prepare(
            "SELECT type, name, sql FROM sqlite_master
             WHERE tbl_name IN ('learners', 'sessions', 'violations', 'media')
               AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (kind, name, _) in &found {
        let kind = if kind == "index" { "INDEX" } else { "TRIGGER" };
        tx.execute_batch(&format!("DROP {kind} \"{}\"", name.replace('"', "\"\"")))?;
    }
    Ok(found.into_iter().map(|(_, _, sql)| sql).collect())
}

/// One part. `learners` keeps each learner's (username, folded name) for later parts.
fn insert(
    tx: &mut Connection,
    data: &SeedData,
    learners: &mut Vec<(String, String)>,
) -> Result<(), StoreError> {
    {
        let mut course = tx.prepare_cached("INSERT INTO courses (id, name) VALUES (?1, ?2)")?;
        for c in &data.courses {
            course.execute(params![c.id, c.name])?;
        }
        let mut exam = tx.prepare_cached(
            "INSERT INTO exams (id, course_id, content_id, external_id, exam_name, time_limit_mins, is_proctored,
                                is_practice_exam, backend)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for e in &data.exams {
            exam.execute(params![
                e.id,
                e.course_id,
                e.content_id,
                e.external_id,
                e.exam_name,
                e.time_limit_mins,
                e.is_proctored,
                e.is_practice_exam,
                e.backend
            ])?;
        }
        let mut learner = tx.prepare_cached(
            "INSERT INTO learners (id, username, email, full_name) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for l in &data.learners {
            learners.push((l.username.clone(), search_key(&l.full_name)));
            learner.execute(params![
                learners.len() as i64,
                l.username,
                l.email,
                l.full_name
            ])?;
        }
        let mut session = tx.prepare_cached(
            "INSERT INTO sessions (id, exam_id, learner_id, attempt_code, external_id, status, review_status,
                                   reviewed_by, started_at, completed_at, allowed_time_limit_mins, is_sample_attempt,
                                   track, grade_earned, grade_possible, grade_override, violation_count, created,
                                   modified, sort_username, sort_name)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?18, ?19, ?20)",
        )?;
        let mut violation = tx.prepare_cached(
            "INSERT INTO violations (id, session_id, start_time, stop_time, duration, kind, status, comment)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for s in &data.sessions {
            let (username, name) = learners.get(s.learner).ok_or_else(|| {
                StoreError::Invalid(format!("session {}: no learner {}", s.id, s.learner))
            })?;
            session.execute(params![
                s.id,
                s.exam_id,
                s.learner as i64 + 1,
                s.attempt_code,
                s.external_id,
                s.status.as_str(),
                s.review_status.map(|r| r.as_str()),
                s.reviewed_by,
                s.started_at.map(to_sql),
                s.completed_at.map(to_sql),
                s.allowed_time_limit_mins,
                s.is_sample_attempt,
                s.track,
                s.original_grade.map(|g| g.earned),
                s.original_grade.map(|g| g.possible),
                s.grade_override,
                s.violations.len() as i64,
                to_sql(s.created),
                username,
                name,
            ])?;
            for v in &s.violations {
                violation.execute(params![
                    v.id,
                    s.id,
                    v.start_time,
                    v.stop_time,
                    v.duration,
                    v.kind.as_str(),
                    v.status,
                    v.comment
                ])?;
            }
        }
    }
    seed_evidence(tx, data)
}

/// The demo's evidence rows; whoever seeds puts their files in the media folder.
fn seed_evidence(tx: &mut Connection, data: &SeedData) -> Result<(), StoreError> {
    let mut tx = super::tx::Lite(tx);
    crate::store::tx::at_once(crate::store::evidence::seed_media(
        &mut tx,
        &data.media_records(),
    ))?;
    crate::store::tx::at_once(crate::store::evidence::set_onboarding(
        &mut tx,
        &data.onboarding_records(),
    ))
}
