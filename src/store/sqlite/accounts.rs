//! Reviewers' tokens and course grants.

use super::read::reviewer_from;
use crate::domain::access::{Access, Grant, TokenRecord};
use crate::store::StoreError;
use crate::store::timefmt::opt_from_sql;
use rusqlite::{Connection, OptionalExtension};

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
            .ok_or_else(|| StoreError::Corrupt(format!("unknown access '{access}' in a grant")))?;
        Ok(Grant { course_id, access })
    })
    .collect()
}
