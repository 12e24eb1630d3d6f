//! Bearer tokens: 256 random bits shown once; only their SHA-256 is stored. High-entropy
//! tokens need no slow password hash.

use super::AppState;
use super::error::ApiError;
use crate::domain::access::{Actor, TokenRefusal, authenticate};
use crate::domain::text::hex;
use crate::store::Store;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use time::OffsetDateTime;

const TOKEN_PREFIX: &str = "prt_";

pub fn new_token() -> Result<String, crate::random::NoRandomness> {
    Ok(format!("{TOKEN_PREFIX}{}", crate::random::hex::<32>()?))
}

pub fn hash_token(token: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim()
        .split_once(' ')
        // RFC 9110: the scheme is case-insensitive.
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
}

/// Who the request's token speaks for, with their grants; every decision is attributed
/// to them.
pub struct Authed(pub Actor);

impl<S: Store> FromRequestParts<AppState<S>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Err(ApiError::Unauthorized(
                "missing bearer token: send 'Authorization: Bearer <token>'".into(),
            ));
        }
        let token = bearer(&parts.headers).ok_or_else(|| {
            ApiError::Unauthorized(
                "malformed Authorization header: expected 'Bearer <token>'".into(),
            )
        })?;
        let record = state.store.token(hash_token(token)).await?;
        authenticate(record, OffsetDateTime::now_utc())
            .map(Authed)
            .map_err(|e| match e {
                TokenRefusal::Expired(_) => ApiError::TokenExpired(e.to_string()),
                TokenRefusal::Unknown => ApiError::Unauthorized(e.to_string()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_deterministically() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
