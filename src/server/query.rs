//! Query strings whose percent-escapes do not decode to UTF-8 are refused: the usual parser
//! would quietly turn them into U+FFFD and search for something the client never sent.

use super::error::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

pub struct StrictQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for StrictQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        if let Some(field) = raw.split('&').find(|pair| !decodes_to_utf8(pair)) {
            let name = field.split('=').next().unwrap_or("");
            return Err(ApiError::BadRequest(format!(
                "bad query: '{}' is not valid UTF-8 once percent-decoded",
                crate::domain::text::printable(name)
            )));
        }
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| StrictQuery(q))
            .map_err(|r| ApiError::BadRequest(format!("bad query: {}", r.body_text())))
    }
}

fn decodes_to_utf8(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    std::str::from_utf8(&out).is_ok()
}

#[cfg(test)]
mod tests {
    use super::decodes_to_utf8;

    #[test]
    fn invalid_utf8_escapes_are_noticed() {
        assert!(decodes_to_utf8("q=caf%C3%A9"));
        assert!(decodes_to_utf8("q=100%"));
        assert!(decodes_to_utf8("q=%4"));
        assert!(!decodes_to_utf8("q=%FF"));
        assert!(!decodes_to_utf8("q=caf%C3"));
    }
}
