//! Reviewers' tokens and course grants.

use super::read::{reviewer_by_username, reviewer_from};
use crate::domain::Reviewer;
use crate::domain::access::{Access, Grant, TokenRecord};
use crate::store::timefmt::{opt_from_sql, to_sql};
use crate::store::{ReviewerListing, StoreError, TokenInfo};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

/// Tokens are named by the start of their hash: enough to tell them apart, useless to log in.
pub const TOKEN_ID_LEN: usize = 12;

pub fn token(c: &Connection, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
    let found = c
        .query_row(
            "SELECT r.id, r.username, r.email, r.full_name, r.role, t.revoked, t.expires
             FROM api_tokens t JOIN reviewers r ON r.id = t.reviewer_id WHERE t.token_hash = ?1",
            [hash],
            |r| {
                Ok((
                    reviewer_from(r)?,
                    r.get::<_, bool>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            },
        )
        .optional()?;
    let Some((reviewer, revoked, expires)) = found else {
        return Ok(None);
    };
    Ok(Some(TokenRecord {
        grants: grants(c, reviewer.id)?,
        reviewer,
        revoked,
        expires: opt_from_sql(expires)?,
    }))
}

pub fn grants(c: &Connection, reviewer: i64) -> Result<Vec<Grant>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT course_id, access FROM course_grants WHERE reviewer_id = ?1 ORDER BY course_id",
    )?;
    let rows = stmt.query_map([reviewer], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    rows.map(|row| {
        let (course_id, access) = row?;
        let access = Access::parse(&access)
            .ok_or_else(|| StoreError::Backend(format!("unknown access '{access}' in a grant")))?;
        Ok(Grant { course_id, access })
    })
    .collect()
}

pub fn add_token(
    c: &Connection,
    reviewer_id: i64,
    hash: &str,
    expires: Option<OffsetDateTime>,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO api_tokens (token_hash, reviewer_id, created, expires) VALUES (?1, ?2, ?3, ?4)",
        params![
            hash,
            reviewer_id,
            to_sql(OffsetDateTime::now_utc()),
            expires.map(to_sql)
        ],
    )?;
    Ok(())
}

fn named(c: &Connection, username: &str) -> Result<Reviewer, StoreError> {
    reviewer_by_username(c, username)?
        .ok_or_else(|| StoreError::NotFound(format!("no reviewer named '{username}'")))
}

pub fn grant(c: &Connection, username: &str, grant: &Grant) -> Result<Reviewer, StoreError> {
    let reviewer = named(c, username)?;
    c.execute(
        "INSERT INTO course_grants (reviewer_id, course_id, access, granted_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (reviewer_id, course_id) DO UPDATE SET access = excluded.access,
             granted_at = excluded.granted_at",
        params![
            reviewer.id,
            grant.course_id,
            grant.access.as_str(),
            to_sql(OffsetDateTime::now_utc())
        ],
    )?;
    Ok(reviewer)
}

pub fn withdraw(c: &Connection, username: &str, course: &str) -> Result<bool, StoreError> {
    let reviewer = named(c, username)?;
    Ok(c.execute(
        "DELETE FROM course_grants WHERE reviewer_id = ?1 AND course_id = ?2",
        params![reviewer.id, course],
    )? > 0)
}

pub fn revoke_tokens(c: &Connection, username: &str) -> Result<u64, StoreError> {
    let reviewer = named(c, username)?;
    Ok(c.execute(
        "UPDATE api_tokens SET revoked = 1 WHERE reviewer_id = ?1 AND revoked = 0",
        [reviewer.id],
    )? as u64)
}

/// Revokes the token whose id (the start of its hash, as `reviewer list` shows) is `id`.
pub fn revoke_token(c: &Connection, id: &str) -> Result<u64, StoreError> {
    if id.len() < TOKEN_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StoreError::Invalid(format!(
            "a token id is at least {TOKEN_ID_LEN} hex digits, as 'reviewer list' shows it"
        )));
    }
    let pattern = format!("{}%", id.to_ascii_lowercase());
    let matching: i64 = c.query_row(
        "SELECT COUNT(*) FROM api_tokens WHERE token_hash LIKE ?1",
        [&pattern],
        |r| r.get(0),
    )?;
    match matching {
        0 => Err(StoreError::NotFound(format!("no token with id {id}"))),
        1 => Ok(c.execute(
            "UPDATE api_tokens SET revoked = 1 WHERE token_hash LIKE ?1 AND revoked = 0",
            [&pattern],
        )? as u64),
        _ => Err(StoreError::Invalid(format!(
            "{id} names {matching} tokens; give more of it"
        ))),
    }
}

pub fn reviewers(c: &Connection) -> Result<Vec<ReviewerListing>, StoreError> {
    let mut stmt =
        c.prepare("SELECT id, username, email, full_name, role FROM reviewers ORDER BY username")?;
    let people = stmt
        .query_map([], reviewer_from)?
        .collect::<Result<Vec<_>, _>>()?;
    let mut tokens = c.prepare(
        "SELECT token_hash, created, expires, revoked FROM api_tokens
         WHERE reviewer_id = ?1 ORDER BY created",
    )?;
    people
        .into_iter()
        .map(|reviewer| {
            let rows = tokens
                .query_map([reviewer.id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, bool>(3)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let tokens = rows
                .into_iter()
                .map(|(hash, created, expires, revoked)| {
                    Ok(TokenInfo {
                        id: hash.chars().take(TOKEN_ID_LEN).collect(),
                        created: crate::store::timefmt::from_sql(&created)?,
                        expires: opt_from_sql(expires)?,
                        revoked,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(ReviewerListing {
                grants: grants(c, reviewer.id)?,
                reviewer,
                tokens,
            })
        })
        .collect()
}
