//! Ids in paths are plain decimal: `+1`, ` 1`, `01x` or `1e3` name nothing, so they are
//! refused instead of being read as a number that happens to exist.

use super::error::ApiError;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

/// The path's one id (`/sessions/{id}`, `/media/{id}/file`, …).
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(super::routes::bad_path)?;
        parse_id(&raw).map(IdPath)
    }
}

/// A session the recording pipeline names in a path: by our id, or as it knows the attempt
/// — the attempt id we gave Open edX (`pra-…`) or the attempt's code. Nothing else
/// names a session; an unknown one is answered as any other unknown id.
pub struct SessionPath(pub crate::domain::SessionId);

impl<S: crate::store::Store> FromRequestParts<super::AppState<S>> for SessionPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &super::AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(super::routes::bad_path)?;
        if let Ok(id) = parse_id(&raw) {
            return Ok(SessionPath(id));
        }
        state
            .store
            .session_by_reference(raw.clone())
            .await?
            .map(SessionPath)
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no session with id or attempt '{}'",
                    crate::domain::text::printable(&raw)
                ))
            })
    }
}

pub fn parse_id(raw: &str) -> Result<i64, ApiError> {
    let digits = !raw.is_empty() && raw.len() <= 19 && raw.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| raw.parse::<i64>().ok())
        .flatten()
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "bad path: '{}' is not an id (ids are whole numbers written with digits only)",
                crate::domain::text::printable(raw)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::parse_id;

    #[test]
    fn only_plain_digits_are_ids() {
        assert_eq!(parse_id("17").ok(), Some(17));
        assert_eq!(parse_id("0").ok(), Some(0));
        for bad in [
            "+1",
            "-1",
            " 1",
            "1 ",
            "",
            "1e3",
            "0x10",
            "99999999999999999999",
            "١",
        ] {
            assert!(parse_id(bad).is_err(), "{bad:?} accepted");
        }
    }
}
