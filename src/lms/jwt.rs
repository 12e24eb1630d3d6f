//! HS256 JSON Web Tokens, the one kind edx-proctoring signs for its provider (the
//! instructor-dashboard launch, PyJWT with the client secret). Only HS256 is accepted: a
//! token naming any other algorithm, `none` included, is refused before its signature is
//! looked at. (A general JWT crate would bring RSA and elliptic curves we never use.)

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde_json::Value;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is not a JWT")]
    Malformed,
    #[error("the token is not signed with HS256")]
    Algorithm,
    #[error("the token's signature does not match the client secret")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token has no expiry")]
    NoExpiry,
    #[error("the token was issued for client '{0}', not this one")]
    Issuer(String),
}

fn part(s: &str) -> Result<Value, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

pub fn sign(claims: &Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{body}");
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// The claims of a token signed with `secret`, issued by `issuer`, not expired at `now`.
pub fn verify(
    token: &str,
    secret: &[u8],
    issuer: &str,
    now: OffsetDateTime,
) -> Result<Value, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(b), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    if part(h)?.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(JwtError::Algorithm);
    }
    let sig = URL_SAFE_NO_PAD
        .decode(sig.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed)?;
    hmac::verify(
        &hmac::Key::new(hmac::HMAC_SHA256, secret),
        format!("{h}.{b}").as_bytes(),
        &sig,
    )
    .map_err(|_| JwtError::Signature)?;
    let claims = part(b)?;
    // PyJWT writes `exp` as a float when it is computed from time.time().
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .ok_or(JwtError::NoExpiry)?;
    if (now.unix_timestamp() as f64) >= exp {
        return Err(JwtError::Expired);
    }
    match claims.get("iss").and_then(Value::as_str) {
        Some(iss) if iss == issuer => Ok(claims),
        other => Err(JwtError::Issuer(other.unwrap_or("").to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_untampered_unexpired_hs256_tokens_from_the_client_pass() {
        let now = OffsetDateTime::now_utc();
        let exp = now.unix_timestamp() as f64 + 60.5;
        let t = sign(
            &json!({"iss": "c1", "exp": exp, "course_id": "x"}),
            b"s3cret",
        );
        assert_eq!(verify(&t, b"s3cret", "c1", now).unwrap()["course_id"], "x");
        assert_eq!(verify(&t, b"other", "c1", now), Err(JwtError::Signature));
        assert!(matches!(
            verify(&t, b"s3cret", "c2", now),
            Err(JwtError::Issuer(_))
        ));
        let later = now + time::Duration::seconds(61);
        assert_eq!(verify(&t, b"s3cret", "c1", later), Err(JwtError::Expired));
        // Swapping the payload keeps the signature of the old one.
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged_body =
            URL_SAFE_NO_PAD.encode(json!({"iss": "c1", "exp": exp + 1e6}).to_string());
        parts[1] = &forged_body;
        assert_eq!(
            verify(&parts.join("."), b"s3cret", "c1", now),
            Err(JwtError::Signature)
        );
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(json!({"iss": "c1", "exp": exp}).to_string())
        );
        assert_eq!(
            verify(&none, b"s3cret", "c1", now),
            Err(JwtError::Algorithm)
        );
        assert_eq!(
            verify("garbage", b"s3cret", "c1", now),
            Err(JwtError::Malformed)
        );
    }
}
