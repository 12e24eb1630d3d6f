//! Loads a data set into an empty database, part by part, in one transaction: rows go in
//! as arrays (one statement per table and part), and the counts are kept by the statement
//! triggers in one pass per part.

use crate::domain::text::search_key;
use crate::domain::words::Word;
use crate::store::StoreError;
use crate::store::seed::{SeedBatches, SeedData};
use crate::store::timefmt::to_sql;
use tokio_postgres::Transaction;

pub async fn seed(tx: Transaction<'_>, batches: SeedBatches) -> Result<(), StoreError> {
    let mut learners: Vec<(String, String)> = Vec::new();
    for data in batches {
        insert(&tx, &data, &mut learners).await?;
    }
    // Rows came with their ids: what is added later is numbered after them.
    super::sql::renumber(
        &tx,
        &["exams", "learners", "sessions", "violations", "media"],
    )
    .await?;
    tx.batch_execute("ANALYZE learners, sessions, violations, media")
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn insert(
    tx: &Transaction<'_>,
    data: &SeedData,
    learners: &mut Vec<(String, String)>,
) -> Result<(), StoreError> {
    for c in &data.courses {
        tx.execute(
            "INSERT INTO courses (id, name) VALUES ($1, $2)",
            &[&c.id, &c.name],
        )
        .await?;
    }
    for e in &data.exams {
        tx.execute(
            "INSERT INTO exams (id, course_id, content_id, external_id, exam_name, time_limit_mins,
                                is_proctored, is_practice_exam, backend)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &e.id,
                &e.course_id,
                &e.content_id,
                &e.external_id,
                &e.exam_name,
                &e.time_limit_mins,
                &e.is_proctored,
                &e.is_practice_exam,
                &e.backend,
            ],
        )
        .await?;
    }
    if !data.learners.is_empty() {
        let first = learners.len() as i64 + 1;
        let ids: Vec<i64> = (first..first + data.learners.len() as i64).collect();
        let mut usernames = Vec::new();
        let mut emails = Vec::new();
        let mut names = Vec::new();
        let mut keys = Vec::new();
        for l in &data.learners {
            learners.push((l.username.clone(), search_key(&l.full_name)));
            keys.push(search_key(&format!(
                "{} {} {}",
                l.username, l.email, l.full_name
            )));
            usernames.push(l.username.as_str());
            emails.push(l.email.as_str());
            names.push(l.full_name.as_str());
        }
        tx.execute(
            "INSERT INTO learners (id, username, email, full_name, search_key)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])",
            &[&ids, &usernames, &emails, &names, &keys],
        )
        .await?;
    }
    sessions(tx, data, learners).await?;
    seed_evidence(tx, data).await
}

async fn sessions(
    tx: &Transaction<'_>,
    data: &SeedData,
    learners: &[(String, String)],
) -> Result<(), StoreError> {
    if data.sessions.is_empty() {
        return Ok(());
    }
    let n = data.sessions.len();
    let mut id = Vec::with_capacity(n);
    let mut exam = Vec::with_capacity(n);
    let mut learner = Vec::with_capacity(n);
    let mut code = Vec::with_capacity(n);
    let mut external = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut review = Vec::with_capacity(n);
    let mut reviewed_by = Vec::with_capacity(n);
    let mut started = Vec::with_capacity(n);
    let mut completed = Vec::with_capacity(n);
    let mut allowed = Vec::with_capacity(n);
    let mut sample = Vec::with_capacity(n);
    let mut track = Vec::with_capacity(n);
    let mut earned = Vec::with_capacity(n);
    let mut possible = Vec::with_capacity(n);
    let mut overridden = Vec::with_capacity(n);
    let mut violations = Vec::with_capacity(n);
    let mut created = Vec::with_capacity(n);
    let mut sort_username = Vec::with_capacity(n);
    let mut sort_name = Vec::with_capacity(n);
    let (mut v_id, mut v_session, mut v_start, mut v_stop, mut v_duration) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut v_kind, mut v_status, mut v_comment) = (Vec::new(), Vec::new(), Vec::new());
    for s in &data.sessions {
        let (username, name) = learners.get(s.learner).ok_or_else(|| {
            StoreError::Invalid(format!("session {}: no learner {}", s.id, s.learner))
        })?;
        id.push(s.id);
        exam.push(s.exam_id);
        learner.push(s.learner as i64 + 1);
        code.push(s.attempt_code.as_str());
        external.push(s.external_id.as_str());
        status.push(s.status.as_str());
        review.push(s.review_status.map(|r| r.as_str()));
        reviewed_by.push(s.reviewed_by.as_deref());
        started.push(s.started_at.map(to_sql));
        completed.push(s.completed_at.map(to_sql));
        allowed.push(s.allowed_time_limit_mins);
        sample.push(s.is_sample_attempt);
        track.push(s.track.as_str());
        earned.push(s.original_grade.map(|g| g.earned));
        possible.push(s.original_grade.map(|g| g.possible));
        overridden.push(s.grade_override);
        violations.push(s.violations.len() as i64);
        created.push(to_sql(s.created));
        sort_username.push(username.as_str());
        sort_name.push(name.as_str());
        for v in &s.violations {
            v_id.push(v.id);
            v_session.push(s.id);
            v_start.push(v.start_time);
            v_stop.push(v.stop_time);
            v_duration.push(v.duration);
            v_kind.push(v.kind.as_str());
            v_status.push(v.status.as_str());
            v_comment.push(v.comment.as_str());
        }
    }
    tx.execute(
        "INSERT INTO sessions (id, exam_id, learner_id, attempt_code, external_id, status,
             review_status, reviewed_by, started_at, completed_at, allowed_time_limit_mins,
             is_sample_attempt, track, grade_earned, grade_possible, grade_override,
             violation_count, created, modified, sort_username, sort_name)
         SELECT id, exam_id, learner_id, code, external, status, review, reviewed_by, started,
                completed, allowed, sample, track, earned, possible, overridden, violations,
                created, created, sort_username, sort_name
         FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bool[],
                     $13::text[], $14::float8[], $15::float8[], $16::float8[], $17::bigint[],
                     $18::text[], $19::text[], $20::text[])
           AS t(id, exam_id, learner_id, code, external, status, review, reviewed_by, started,
                completed, allowed, sample, track, earned, possible, overridden, violations,
                created, sort_username, sort_name)",
        &[
            &id,
            &exam,
            &learner,
            &code,
            &external,
            &status,
            &review,
            &reviewed_by,
            &started,
            &completed,
            &allowed,
            &sample,
            &track,
            &earned,
            &possible,
            &overridden,
            &violations,
            &created,
            &sort_username,
            &sort_name,
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO violations (id, session_id, start_time, stop_time, duration, kind, status, comment)
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
                              $6::text[], $7::text[], $8::text[])",
        &[
            &v_id, &v_session, &v_start, &v_stop, &v_duration, &v_kind, &v_status, &v_comment,
        ],
    )
    .await?;
    Ok(())
}

/// The demo's evidence rows; whoever seeds puts their files in the media folder.
async fn seed_evidence(tx: &Transaction<'_>, data: &SeedData) -> Result<(), StoreError> {
    let mut tx = super::tx::Pg::new(tx, None);
    crate::store::evidence::seed_media(&mut tx, &data.media_records()).await?;
    crate::store::evidence::set_onboarding(&mut tx, &data.onboarding_records()).await
}
