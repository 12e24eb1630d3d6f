//! Reviewers, their tokens and course grants.

use super::read::reviewer_from;
use super::sql::Cached;
use crate::domain::access::{Access, Grant, TokenRecord};
use crate::store::StoreError;
use crate::store::timefmt::opt_from_sql;
use tokio_postgres::GenericClient;

/// Every request asks these: they are prepared once per connection.
pub async fn token<C: Cached>(c: &C, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
    let st = c
        .statement(
            "SELECT r.id, r.username, r.email, r.full_name, r.role, t.revoked, t.expires
             FROM api_tokens t JOIN reviewers r ON r.id = t.reviewer_id WHERE t.token_hash = $1",
        )
        .await?;
    let Some(r) = c.client().query_opt(&st, &[&hash]).await? else {
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

pub async fn grants<C: Cached>(c: &C, reviewer: i64) -> Result<Vec<Grant>, StoreError> {
    let st = c
        .statement(
            "SELECT course_id, access FROM course_grants WHERE reviewer_id = $1 ORDER BY course_id",
        )
        .await?;
    c.client()
        .query(&st, &[&reviewer])
        .await?
        .iter()
        .map(|r| {
            let access: &str = r.try_get(1)?;
            Ok(Grant {
                course_id: r.try_get(0)?,
                access: Access::parse(access).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown access '{access}' in a grant"))
                })?,
            })
        })
        .collect()
}
