//! `db copy`: moves a SQLite installation into an empty PostgreSQL database — every table,
//! the decision history with its hash chain as it is, and the jobs still waiting — in one
//! PostgreSQL transaction, then checks that every table holds as many rows as the source
//! and that the chain's head is the same.

use crate::domain::text::search_key;
use crate::store::StoreError;
use bytes::BytesMut;
use rusqlite::types::ValueRef;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// Tables in the order their references need, with the columns copied (generated and
/// PostgreSQL-only columns are made there).
const TABLES: &[(&str, &str)] = &[
    ("courses", "id, name, second_review"),
    (
        "lms_clients",
        "client_id, client_secret, lms_url, lms_client_id, lms_client_secret, backend, created, last_sync_at, last_sync_error",
    ),
    (
        "exams",
        "id, course_id, content_id, external_id, exam_name, time_limit_mins, is_proctored, is_practice_exam, is_active, backend, lms_client, lms_exam_id",
    ),
    (
        "learners",
        "id, username, email, full_name, external_user_id",
    ),
    (
        "sessions",
        "id, exam_id, learner_id, attempt_code, external_id, status, review_status, reviewed_by, started_at, completed_at, allowed_time_limit_mins, taking_as_proctored, is_sample_attempt, track, grade_earned, grade_possible, grade_override, violation_count, created, modified, lms_state, lms_note, sort_name, sort_username, awaiting_from",
    ),
    (
        "violations",
        "id, session_id, start_time, stop_time, duration, kind, status, comment",
    ),
    ("reviewers", "id, username, email, full_name, created, role"),
    (
        "api_tokens",
        "token_hash, reviewer_id, created, revoked, expires",
    ),
    (
        "course_grants",
        "reviewer_id, course_id, access, granted_at",
    ),
    (
        "decisions",
        "id, session_id, reviewer_id, decided_at, verdict, reason, status_before, status_after, review_status_before, review_status_after, grade_possible, grade_before, grade_after, learner_emailed, idempotency_key, reason_sha256, prev_hash, hash",
    ),
    ("audit_seals", "decision_id, seal"),
    ("decision_timings", "decision_id, opened_secs"),
    (
        "jobs",
        "id, kind, payload, state, progress, attempts, next_attempt_at, last_error, requested_by, course_id, created, started_at, finished_at, result, session_id, decision_id, claimed_by",
    ),
    (
        "media",
        "id, session_id, kind, content_type, size, sha256, offset_start, offset_end, captured_at, violation_id, scan_result, face_match_score, created",
    ),
    (
        "onboarding",
        "learner_id, course_id, status, started_at, submitted_at, verified_at, modified",
    ),
];

/// One value on its way from SQLite to PostgreSQL, typed by the target column.
#[derive(Debug)]
enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Float(f64),
    Text(String),
}

impl ToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Cell::Null => Ok(IsNull::Yes),
            // Binary COPY takes each value at its column's own width.
            Cell::Int(v) if *ty == Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
            Cell::Int(v) if *ty == Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
            Cell::Int(v) => v.to_sql(ty, out),
            Cell::Bool(v) => v.to_sql(ty, out),
            Cell::Float(v) => v.to_sql(ty, out),
            Cell::Text(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [
            Type::INT8,
            Type::INT4,
            Type::INT2,
            Type::BOOL,
            Type::FLOAT8,
            Type::TEXT,
        ]
        .contains(ty)
    }

    to_sql_checked!();
}

/// `at` names the column, for the error.
fn cell(v: ValueRef<'_>, ty: &Type, at: impl Fn() -> String) -> Result<Cell, StoreError> {
    let bad = || StoreError::Invalid(format!("{}: {v:?} does not fit a {ty} column", at()));
    Ok(match (v, ty) {
        (ValueRef::Null, _) => Cell::Null,
        (ValueRef::Integer(i), t) if *t == Type::BOOL => Cell::Bool(i != 0),
        (ValueRef::Integer(i), t) if *t == Type::FLOAT8 => Cell::Float(i as f64),
        (ValueRef::Integer(i), _) => Cell::Int(i),
        (ValueRef::Real(f), t) if *t == Type::FLOAT8 => Cell::Float(f),
        (ValueRef::Text(t), ty) if *ty == Type::TEXT => {
            Cell::Text(String::from_utf8(t.to_vec()).map_err(|_| bad())?)
        }
        _ => return Err(bad()),
    })
}

/// What a copy moved, table by table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub tables: Vec<(String, u64)>,
    /// The decision history's head hash (the same on both sides).
    pub head: Option<String>,
}

/// Copies the SQLite database at `from` (already migrated) into the empty database `to`.
pub async fn copy(
    from: &std::path::Path,
    to: &mut tokio_postgres::Client,
) -> Result<Copied, StoreError> {
    let src = rusqlite::Connection::open_with_flags(
        from,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let tx = to.transaction().await?;
    super::sql::unbudgeted(&tx).await?;
    let used: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM exams) OR EXISTS (SELECT 1 FROM reviewers)
                 OR EXISTS (SELECT 1 FROM decisions) OR EXISTS (SELECT 1 FROM jobs)",
            &[],
        )
        .await?
        .try_get(0)?;
    if used {
        return Err(StoreError::Conflict(
            "the target database is not empty; db copy only fills a new one".into(),
        ));
    }
    // Rows go in faster with only the indexes that check them (keys, unique columns); the
    // others are built once at the end, each in one sorted pass, with room to sort in.
    tx.batch_execute("SET LOCAL maintenance_work_mem = '256MB'")
        .await?;
    let set_aside = tx
        .query(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
             FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
             WHERE t.relnamespace = current_schema()::regnamespace
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            &[],
        )
        .await?;
    for index in &set_aside {
        let name: String = index.try_get(0)?;
        tx.batch_execute(&format!("DROP INDEX {name}")).await?;
    }
    // Keys and unique columns too: each is checked once at the end, by building its index
    // in one sorted pass, rather than row by row. References go first, keys after them.
    let constraints = tx
        .query(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
             FROM pg_constraint c
             WHERE c.contype IN ('f', 'p', 'u') AND c.connamespace = current_schema()::regnamespace
             ORDER BY c.contype = 'f' DESC",
            &[],
        )
        .await?;
    for r in &constraints {
        let (table, name): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        tx.batch_execute(&format!("ALTER TABLE {table} DROP CONSTRAINT {name}"))
            .await?;
    }
    // Emptied in this transaction, the tables take their rows frozen, so the VACUUM after
    // the copy has nothing to freeze.
    let names: Vec<&str> = TABLES.iter().map(|(t, _)| *t).collect();
    tx.batch_execute(&format!("TRUNCATE {}", names.join(", ")))
        .await?;
    // The Quiz List's counts are made once at the end: counting them as the rows come
    // would keep all million of them a second time, as the trigger's transition table.
    tx.batch_execute("ALTER TABLE sessions DISABLE TRIGGER sessions_counted_insert")
        .await?;
    let mut tables = Vec::new();
    for (table, columns) in TABLES {
        let n = copy_table(&src, &tx, table, columns).await?;
        tables.push(((*table).to_owned(), n));
    }
    tx.batch_execute("ALTER TABLE sessions ENABLE TRIGGER sessions_counted_insert")
        .await?;
    crate::store::counts::recount(&mut super::tx::Pg::new(&tx, None)).await?;
    for index in &set_aside {
        let definition: String = index.try_get(1)?;
        tx.batch_execute(&definition).await?;
    }
    for r in constraints.iter().rev() {
        let (table, name, definition): (String, String, String) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        tx.batch_execute(&format!(
            "ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
        ))
        .await?;
    }
    super::sql::renumber(
        &tx,
        &[
            "exams",
            "learners",
            "sessions",
            "violations",
            "reviewers",
            "jobs",
            "media",
        ],
    )
    .await?;
    // Checked before anything is kept: as many rows on each side, the same chain head.
    for (table, n) in &tables {
        let there: i64 = tx
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await?
            .try_get(0)?;
        if there as u64 != *n {
            return Err(StoreError::Corrupt(format!(
                "{table}: copied {n} rows but the target holds {there}"
            )));
        }
    }
    let head_src: Option<String> = src
        .query_row(
            "SELECT hash FROM decisions ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    let head: Option<String> = tx
        .query_opt("SELECT hash FROM decisions ORDER BY id DESC LIMIT 1", &[])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .flatten();
    if head != head_src {
        return Err(StoreError::Corrupt(
            "the decision history's head differs after the copy".into(),
        ));
    }
    // Plans need statistics from the start (autovacuum would come later).
    tx.batch_execute("ANALYZE").await?;
    tx.commit().await?;
    // The rows came in frozen, but only VACUUM marks their pages all-visible, which the
    // keyset pages' index-only scans need to skip the table; on frozen rows it is quick.
    // Not cut by the reviewers' budget (VACUUM runs outside a transaction, so the
    // connection's own setting is lifted and put back).
    to.batch_execute("SET statement_timeout = 0").await?;
    to.batch_execute("VACUUM").await?;
    to.batch_execute("RESET statement_timeout").await?;
    Ok(Copied { tables, head })
}

async fn copy_table(
    src: &rusqlite::Connection,
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    columns: &str,
) -> Result<u64, StoreError> {
    let names: Vec<&str> = columns.split(',').map(str::trim).collect();
    let learners = table == "learners";
    let mut target: Vec<String> = names.iter().map(|c| (*c).to_owned()).collect();
    if learners {
        target.push("search_key".into());
    }
    let width = target.len();
    let types: Vec<Type> = {
        let probe = tx
            .prepare(&format!(
                "SELECT {} FROM {table} LIMIT 0",
                target.join(", ")
            ))
            .await?;
        probe.columns().iter().map(|c| c.type_().clone()).collect()
    };
    let sink = tx
        .copy_in(&format!(
            "COPY {table} ({}) FROM STDIN (FORMAT binary, FREEZE)",
            target.join(", ")
        ))
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &types);
    futures_util::pin_mut!(writer);
    let mut stmt = src.prepare(&format!("SELECT {columns} FROM {table}"))?;
    let mut rows = stmt.query([])?;
    let mut row: Vec<Cell> = Vec::with_capacity(width);
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        row.clear();
        for (i, ty) in types.iter().enumerate().take(names.len()) {
            row.push(cell(r.get_ref(i)?, ty, || format!("{table}.{}", names[i]))?);
        }
        if learners {
            let text = |i: usize| -> Result<String, StoreError> {
                Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
            };
            row.push(Cell::Text(search_key(&format!(
                "{} {} {}",
                text(1)?,
                text(2)?,
                text(3)?
            ))));
        }
        let values: Vec<&(dyn ToSql + Sync)> =
            row.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
        writer.as_mut().write(&values).await?;
        n += 1;
    }
    writer.finish().await?;
    Ok(n)
}
