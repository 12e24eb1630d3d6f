//! Reviewers, their tokens and course grants as an admin manages them, written once for
//! both databases. (The token lookup every request makes stays with each backend: on
//! PostgreSQL it is one typed round trip.)

use super::cells::Cells;
use super::timefmt::{from_sql, opt_from_sql, to_sql};
use super::tx::Tx;
use super::{ReviewerListing, StoreError, TokenInfo};
use crate::args;
use crate::domain::access::{Access, Grant};
use crate::domain::words::Word;
use crate::domain::{Reviewer, Role};
use time::OffsetDateTime;

/// How many hex digits of a token's hash `reviewer list` shows as its id.
pub const TOKEN_ID_LEN: usize = 12;

pub(crate) const REVIEWER_COLUMNS: &str = "id, username, email, full_name, role";

pub fn reviewer_from(r: &impl Cells) -> Result<Reviewer, StoreError> {
    Ok(Reviewer {
        id: r.cell(0)?,
        username: r.cell(1)?,
        email: r.cell(2)?,
        full_name: r.cell(3)?,
        role: Role::parse(&r.cell::<String>(4)?).unwrap_or_default(),
    })
}

pub fn grant_from(r: &impl Cells) -> Result<Grant, StoreError> {
    let access: String = r.cell(1)?;
    Ok(Grant {
        course_id: r.cell(0)?,
        access: Access::parse(&access)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown access '{access}' in a grant")))?,
    })
}

/// Every reviewer whose address is `email` (any case), with how their tokens stand: who a
/// person signing in with that address may be (see [`crate::domain::sign_in::choose`]).
pub async fn sign_in_candidates(
    tx: &mut impl Tx,
    email: &str,
) -> Result<Vec<crate::domain::sign_in::Candidate>, StoreError> {
    let sql = format!(
        "SELECT {REVIEWER_COLUMNS},
            (SELECT COUNT(*) FROM api_tokens t WHERE t.reviewer_id = r.id AND t.revoked),
            (SELECT COUNT(*) FROM api_tokens t WHERE t.reviewer_id = r.id AND NOT t.revoked)
         FROM reviewers r WHERE lower(r.email) = lower(?) ORDER BY r.id"
    );
    let mut out = Vec::new();
    for r in tx.rows(&sql, args![email.trim()]).await? {
        let revoked: i64 = r.cell(5)?;
        let unrevoked: i64 = r.cell(6)?;
        out.push(crate::domain::sign_in::Candidate {
            reviewer: reviewer_from(&r)?,
            revoked: revoked.max(0) as u64,
            unrevoked: unrevoked.max(0) as u64,
        });
    }
    Ok(out)
}

pub async fn reviewer_by_username(
    tx: &mut impl Tx,
    username: &str,
) -> Result<Option<Reviewer>, StoreError> {
    let sql = format!("SELECT {REVIEWER_COLUMNS} FROM reviewers WHERE username = ?");
    tx.row(&sql, args![username])
        .await?
        .as_ref()
        .map(reviewer_from)
        .transpose()
}

async fn named(tx: &mut impl Tx, username: &str) -> Result<Reviewer, StoreError> {
    reviewer_by_username(tx, username)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no reviewer named '{username}'")))
}

async fn grants(tx: &mut impl Tx, reviewer: i64) -> Result<Vec<Grant>, StoreError> {
    tx.rows(
        "SELECT course_id, access FROM course_grants WHERE reviewer_id = ? ORDER BY course_id",
        args![reviewer],
    )
    .await?
    .iter()
    .map(grant_from)
    .collect()
}

/// The service account that changes nobody made by hand are attributed to in the history
/// (Open edX's reconciliation, retention), made the first time it is needed. It holds no
/// token, so nobody signs in as it.
pub async fn service_account(
    tx: &mut impl Tx,
    username: &str,
    full_name: &str,
) -> Result<i64, StoreError> {
    if let Some(r) = reviewer_by_username(tx, username).await? {
        return Ok(r.id);
    }
    let made = create_reviewer(tx, username, "", full_name, crate::domain::Role::Service);
    Ok(made.await?.id)
}

pub async fn create_reviewer(
    tx: &mut impl Tx,
    username: &str,
    email: &str,
    full_name: &str,
    role: Role,
) -> Result<Reviewer, StoreError> {
    crate::domain::check_username(username).map_err(StoreError::Invalid)?;
    let made = tx
        .row(
            "INSERT INTO reviewers (username, email, full_name, created, role)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING RETURNING id",
            args![
                username,
                email,
                full_name,
                to_sql(OffsetDateTime::now_utc()),
                role.as_str()
            ],
        )
        .await?;
    let Some(made) = made else {
        return Err(StoreError::Conflict(format!(
            "a reviewer named '{username}' already exists"
        )));
    };
    Ok(Reviewer {
        id: made.cell(0)?,
        username: username.to_owned(),
        email: email.to_owned(),
        full_name: full_name.to_owned(),
        role,
    })
}

/// The reviewer with this username, made (as a reviewer) if missing: the Review Dashboard's
/// launch names course staff we may not know yet.
pub async fn ensure_reviewer(
    tx: &mut impl Tx,
    username: &str,
    email: &str,
    full_name: &str,
) -> Result<Reviewer, StoreError> {
    if let Some(r) = reviewer_by_username(tx, username).await? {
        return Ok(r);
    }
    match create_reviewer(tx, username, email, full_name, Role::Reviewer).await {
        // Another server made them meanwhile.
        Err(StoreError::Conflict(_)) => named(tx, username).await,
        other => other,
    }
}

pub async fn add_token(
    tx: &mut impl Tx,
    reviewer_id: i64,
    hash: &str,
    expires: Option<OffsetDateTime>,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO api_tokens (token_hash, reviewer_id, created, expires) VALUES (?, ?, ?, ?)",
        args![
            hash,
            reviewer_id,
            to_sql(OffsetDateTime::now_utc()),
            expires.map(to_sql)
        ],
    )
    .await?;
    Ok(())
}

pub async fn grant(
    tx: &mut impl Tx,
    username: &str,
    grant: &Grant,
) -> Result<Reviewer, StoreError> {
    let reviewer = named(tx, username).await?;
    tx.exec(
        "INSERT INTO course_grants (reviewer_id, course_id, access, granted_at)
         VALUES (?, ?, ?, ?)
         ON CONFLICT (reviewer_id, course_id) DO UPDATE SET access = excluded.access,
             granted_at = excluded.granted_at",
        args![
            reviewer.id,
            &grant.course_id,
            grant.access.as_str(),
            to_sql(OffsetDateTime::now_utc())
        ],
    )
    .await?;
    Ok(reviewer)
}

/// A course's rule for a second reviewer; `NotFound` for a course the database does not have.
pub async fn second_review(
    tx: &mut impl Tx,
    course: &str,
) -> Result<crate::domain::second_review::SecondReview, StoreError> {
    let row = tx
        .row(
            "SELECT second_review FROM courses WHERE id = ?",
            args![course],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no course '{course}'")))?;
    super::rows::parse(&row.cell::<String>(0)?)
}

pub async fn set_second_review(
    tx: &mut impl Tx,
    course: &str,
    rule: crate::domain::second_review::SecondReview,
) -> Result<(), StoreError> {
    let changed = tx
        .exec(
            "UPDATE courses SET second_review = ? WHERE id = ?",
            args![rule.as_str(), course],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound(format!("no course '{course}'")));
    }
    Ok(())
}

pub async fn withdraw(tx: &mut impl Tx, username: &str, course: &str) -> Result<bool, StoreError> {
    let reviewer = named(tx, username).await?;
    let gone = tx
        .exec(
            "DELETE FROM course_grants WHERE reviewer_id = ? AND course_id = ?",
            args![reviewer.id, course],
        )
        .await?;
    Ok(gone > 0)
}

pub async fn revoke_tokens(tx: &mut impl Tx, username: &str) -> Result<u64, StoreError> {
    let reviewer = named(tx, username).await?;
    tx.exec(
        "UPDATE api_tokens SET revoked = TRUE WHERE reviewer_id = ? AND NOT revoked",
        args![reviewer.id],
    )
    .await
}

/// Revokes the one token whose hash starts with `id` (as `reviewer list` shows it).
pub async fn revoke_token(tx: &mut impl Tx, id: &str) -> Result<u64, StoreError> {
    if id.len() < TOKEN_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StoreError::Invalid(format!(
            "a token id is at least {TOKEN_ID_LEN} hex digits, as 'reviewer list' shows it"
        )));
    }
    let pattern = format!("{}%", id.to_ascii_lowercase());
    let matching: i64 = tx
        .one(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash LIKE ?",
            args![&pattern],
        )
        .await?
        .cell(0)?;
    match matching {
        0 => Err(StoreError::NotFound(format!("no token with id {id}"))),
        1 => {
            tx.exec(
                "UPDATE api_tokens SET revoked = TRUE WHERE token_hash LIKE ? AND NOT revoked",
                args![pattern],
            )
            .await
        }
        _ => Err(StoreError::Invalid(format!(
            "{id} names {matching} tokens; give more of it"
        ))),
    }
}

/// Every reviewer with their grants and tokens (never a token itself), for `reviewer list`.
pub async fn reviewers(tx: &mut impl Tx) -> Result<Vec<ReviewerListing>, StoreError> {
    let sql = format!("SELECT {REVIEWER_COLUMNS} FROM reviewers ORDER BY username");
    let people = tx
        .rows(&sql, args![])
        .await?
        .iter()
        .map(reviewer_from)
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(people.len());
    for reviewer in people {
        let tokens = tx
            .rows(
                "SELECT token_hash, created, expires, revoked FROM api_tokens
                 WHERE reviewer_id = ? ORDER BY created",
                args![reviewer.id],
            )
            .await?
            .iter()
            .map(|r| {
                let hash: String = r.cell(0)?;
                Ok(TokenInfo {
                    id: hash.chars().take(TOKEN_ID_LEN).collect(),
                    created: from_sql(&r.cell::<String>(1)?)?,
                    expires: opt_from_sql(r.cell(2)?)?,
                    revoked: r.cell(3)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.push(ReviewerListing {
            grants: grants(tx, reviewer.id).await?,
            reviewer,
            tokens,
        });
    }
    Ok(out)
}
