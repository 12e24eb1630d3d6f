//! Signed, expiring links. A video player cannot send a bearer token, so the URL itself
//! carries the proof: an HMAC-SHA256, under a key only the server knows, over what is being
//! fetched, until when, and for whom. One signer serves every kind of download.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::path::Path;
use time::OffsetDateTime;

#[derive(Clone)]
pub struct LinkKey {
    key: hmac::Key,
}

/// The query string of a signed link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedLink {
    /// Unix seconds after which the link is refused.
    pub expires: i64,
    /// The reviewer it was issued to.
    pub reviewer: i64,
    pub signature: String,
}

impl SignedLink {
    /// The link's query string.
    pub fn query(&self) -> String {
        format!(
            "expires={}&reviewer={}&signature={}",
            self.expires, self.reviewer, self.signature
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this link has expired; ask the console for a fresh one")]
    Expired,
    #[error("this link is not valid (altered or not issued by this server)")]
    Forged,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or create the link key {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the link key {0} is damaged (expected 64 hex digits); remove it to make a new one")]
    Damaged(String),
    #[error("no secure random numbers available")]
    Random,
}

fn message(purpose: &str, id: i64, expires: i64, reviewer: i64) -> String {
    format!("{purpose}\n{id}\n{expires}\n{reviewer}")
}

impl LinkKey {
    pub fn from_bytes(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// Reads the server's key, making it (mode 0600) the first time, so links stay valid
    /// across restarts.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let text = text.trim();
                let bytes = (0..text.len())
                    .step_by(2)
                    .map(|i| {
                        text.get(i..i + 2)
                            .and_then(|h| u8::from_str_radix(h, 16).ok())
                    })
                    .collect::<Option<Vec<u8>>>()
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| KeyError::Damaged(path.display().to_string()))?;
                Ok(Self::from_bytes(&bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                SystemRandom::new()
                    .fill(&mut secret)
                    .map_err(|_| KeyError::Random)?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    crate::fsutil::private_dir(dir).map_err(io)?;
                }
                crate::fsutil::write_private(path, super::hex(&secret).as_bytes()).map_err(io)?;
                Ok(Self::from_bytes(&secret))
            }
            Err(e) => Err(io(e)),
        }
    }

    pub fn sign(
        &self,
        purpose: &str,
        id: i64,
        expires: OffsetDateTime,
        reviewer: i64,
    ) -> SignedLink {
        let expires = expires.unix_timestamp();
        let tag = hmac::sign(
            &self.key,
            message(purpose, id, expires, reviewer).as_bytes(),
        );
        SignedLink {
            expires,
            reviewer,
            signature: super::hex(tag.as_ref()),
        }
    }

    /// An HMAC over any text, hex; for tokens that are not links (the LMS's access tokens).
    pub fn tag(&self, text: &str) -> String {
        super::hex(hmac::sign(&self.key, text.as_bytes()).as_ref())
    }

    /// Checks a [`tag`](Self::tag) in constant time.
    pub fn check_tag(&self, text: &str, tag: &str) -> bool {
        decode_hex(tag).is_some_and(|t| hmac::verify(&self.key, text.as_bytes(), &t).is_ok())
    }

    /// Checks the signature (in constant time) before the expiry, so a forged link never
    /// learns whether its time was right.
    pub fn verify(
        &self,
        purpose: &str,
        id: i64,
        link: &SignedLink,
        now: OffsetDateTime,
    ) -> Result<(), LinkError> {
        let tag = decode_hex(&link.signature).ok_or(LinkError::Forged)?;
        hmac::verify(
            &self.key,
            message(purpose, id, link.expires, link.reviewer).as_bytes(),
            &tag,
        )
        .map_err(|_| LinkError::Forged)?;
        if now.unix_timestamp() >= link.expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn a_link_is_good_for_its_item_reviewer_and_time_only() {
        let key = LinkKey::from_bytes(b"0123456789abcdef0123456789abcdef");
        let now = OffsetDateTime::now_utc();
        let link = key.sign("media", 7, now + Duration::minutes(5), 3);
        assert_eq!(key.verify("media", 7, &link, now), Ok(()));
        assert_eq!(
            key.verify("media", 7, &link, now + Duration::minutes(6)),
            Err(LinkError::Expired)
        );
        assert_eq!(key.verify("media", 8, &link, now), Err(LinkError::Forged));
        assert_eq!(key.verify("report", 7, &link, now), Err(LinkError::Forged));
        let other_reviewer = SignedLink {
            reviewer: 4,
            ..link.clone()
        };
        assert_eq!(
            key.verify("media", 7, &other_reviewer, now),
            Err(LinkError::Forged)
        );
        let later = SignedLink {
            expires: link.expires + 3600,
            ..link.clone()
        };
        assert_eq!(key.verify("media", 7, &later, now), Err(LinkError::Forged));
        let mut sig = link.signature.clone().into_bytes();
        sig[0] = if sig[0] == b'0' { b'1' } else { b'0' };
        let flipped = SignedLink {
            signature: String::from_utf8(sig).unwrap(),
            ..link
        };
        assert_eq!(
            key.verify("media", 7, &flipped, now),
            Err(LinkError::Forged)
        );
    }

    #[test]
    fn the_key_survives_a_restart_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.key");
        let now = OffsetDateTime::now_utc();
        let link =
            LinkKey::load_or_create(&path)
                .unwrap()
                .sign("media", 1, now + Duration::minutes(1), 1);
        let again = LinkKey::load_or_create(&path).unwrap();
        assert_eq!(again.verify("media", 1, &link, now), Ok(()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            LinkKey::load_or_create(&path),
            Err(KeyError::Damaged(_))
        ));
    }
}
