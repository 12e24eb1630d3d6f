//! Reviewers, their tokens and course grants.

use super::read::{reviewer_by_username, reviewer_from};
use super::sql::is_unique_violation;
use crate::domain::access::{Access, Grant, TokenRecord};
use crate::domain::{Reviewer, Role};
use crate::store::timefmt::{from_sql, opt_from_sql, to_sql};
use crate::store::{ReviewerListing, StoreError, TokenInfo};
use time::OffsetDateTime;
use tokio_postgres::GenericClient;
use tokio_postgres::types::Type;

const TOKEN_ID_LEN: usize = crate::store::sqlite::TOKEN_ID_LEN;

pub async fn token<C: GenericClient + Sync>(
    c: &C,
    hash: &str,
) -> Result<Option<TokenRecord>, StoreError> {
    let Some(r) = c
        .query_typed_opt(
            "SELECT r.id, r.username, r.email, r.full_name, r.role, t.revoked, t.expires
             FROM api_tokens t JOIN reviewers r ON r.id = t.reviewer_id WHERE t.token_hash = $1",
            &[(&hash, Type::TEXT)],
        )
        .await?
    else {
        return Ok(None);
    };
    let reviewer = reviewer_from(&r)?;
    Ok(Some(TokenRecord {
        grants: grants(c, reviewer.id).await?,
        reviewer,
        revoked: r.try_get(5)?,
        expires: opt_from_sql(r.try_get(6)?)?,
    }))
}

pub async fn grants<C: GenericClient + Sync>(
    c: &C,
    reviewer: i64,
) -> Result<Vec<Grant>, StoreError> {
    c.query_typed(
        "SELECT course_id, access FROM course_grants WHERE reviewer_id = $1 ORDER BY course_id",
        &[(&reviewer, Type::INT8)],
    )
    .await?
    .iter()
    .map(|r| {
        let access: &str = r.try_get(1)?;
        Ok(Grant {
            course_id: r.try_get(0)?,
            access: Access::parse(access).ok_or_else(|| {
                StoreError::Backend(format!("unknown access '{access}' in a grant"))
            })?,
        })
    })
    .collect()
}

pub async fn create_reviewer<C: GenericClient + Sync>(
    c: &C,
    username: &str,
    email: &str,
    full_name: &str,
    role: Role,
) -> Result<Reviewer, StoreError> {
    crate::domain::check_username(username).map_err(StoreError::Invalid)?;
    let res = c
        .query_one(
            "INSERT INTO reviewers (username, email, full_name, created, role)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[
                &username,
                &email,
                &full_name,
                &to_sql(OffsetDateTime::now_utc()),
                &role.as_str(),
            ],
        )
        .await;
    match res {
        Ok(r) => Ok(Reviewer {
            id: r.try_get(0)?,
            username: username.to_owned(),
            email: email.to_owned(),
            full_name: full_name.to_owned(),
            role,
        }),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "a reviewer named '{username}' already exists"
        ))),
        Err(e) => Err(e.into()),
    }
}

pub async fn add_token<C: GenericClient + Sync>(
    c: &C,
    reviewer_id: i64,
    hash: &str,
    expires: Option<OffsetDateTime>,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO api_tokens (token_hash, reviewer_id, created, expires) VALUES ($1, $2, $3, $4)",
        &[
            &hash,
            &reviewer_id,
            &to_sql(OffsetDateTime::now_utc()),
            &expires.map(to_sql),
        ],
    )
    .await?;
    Ok(())
}

async fn named<C: GenericClient + Sync>(c: &C, username: &str) -> Result<Reviewer, StoreError> {
    reviewer_by_username(c, username)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no reviewer named '{username}'")))
}

pub async fn grant<C: GenericClient + Sync>(
    c: &C,
    username: &str,
    grant: &Grant,
) -> Result<Reviewer, StoreError> {
    let reviewer = named(c, username).await?;
    c.execute(
        "INSERT INTO course_grants (reviewer_id, course_id, access, granted_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (reviewer_id, course_id) DO UPDATE SET access = excluded.access,
             granted_at = excluded.granted_at",
        &[
            &reviewer.id,
            &grant.course_id,
            &grant.access.as_str(),
            &to_sql(OffsetDateTime::now_utc()),
        ],
    )
    .await?;
    Ok(reviewer)
}

pub async fn withdraw<C: GenericClient + Sync>(
    c: &C,
    username: &str,
    course: &str,
) -> Result<bool, StoreError> {
    let reviewer = named(c, username).await?;
    Ok(c.execute(
        "DELETE FROM course_grants WHERE reviewer_id = $1 AND course_id = $2",
        &[&reviewer.id, &course],
    )
    .await?
        > 0)
}

pub async fn revoke_tokens<C: GenericClient + Sync>(
    c: &C,
    username: &str,
) -> Result<u64, StoreError> {
    let reviewer = named(c, username).await?;
    Ok(c.execute(
        "UPDATE api_tokens SET revoked = TRUE WHERE reviewer_id = $1 AND NOT revoked",
        &[&reviewer.id],
    )
    .await?)
}

pub async fn revoke_token<C: GenericClient + Sync>(c: &C, id: &str) -> Result<u64, StoreError> {
    if id.len() < TOKEN_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StoreError::Invalid(format!(
            "a token id is at least {TOKEN_ID_LEN} hex digits, as 'reviewer list' shows it"
        )));
    }
    let pattern = format!("{}%", id.to_ascii_lowercase());
    let matching: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash LIKE $1",
            &[&pattern],
        )
        .await?
        .try_get(0)?;
    match matching {
        0 => Err(StoreError::NotFound(format!("no token with id {id}"))),
        1 => Ok(c
            .execute(
                "UPDATE api_tokens SET revoked = TRUE WHERE token_hash LIKE $1 AND NOT revoked",
                &[&pattern],
            )
            .await?),
        _ => Err(StoreError::Invalid(format!(
            "{id} names {matching} tokens; give more of it"
        ))),
    }
}

pub async fn reviewers<C: GenericClient + Sync>(c: &C) -> Result<Vec<ReviewerListing>, StoreError> {
    let people = c
        .query(
            "SELECT id, username, email, full_name, role FROM reviewers ORDER BY username",
            &[],
        )
        .await?
        .iter()
        .map(reviewer_from)
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(people.len());
    for reviewer in people {
        let tokens = c
            .query(
                "SELECT token_hash, created, expires, revoked FROM api_tokens
                 WHERE reviewer_id = $1 ORDER BY created",
                &[&reviewer.id],
            )
            .await?
            .iter()
            .map(|r| {
                let hash: &str = r.try_get(0)?;
                Ok(TokenInfo {
                    id: hash.chars().take(TOKEN_ID_LEN).collect(),
                    created: from_sql(r.try_get(1)?)?,
                    expires: opt_from_sql(r.try_get(2)?)?,
                    revoked: r.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.push(ReviewerListing {
            grants: grants(c, reviewer.id).await?,
            reviewer,
            tokens,
        });
    }
    Ok(out)
}
