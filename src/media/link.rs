//! Signed, expiring links and the server's other tags. A video player cannot send a bearer
//! token, so the URL itself carries the proof: an HMAC-SHA256 over what is being fetched,
//! until when, and for whom.
//!
//! One secret (a file only the server reads) makes every key, but no two purposes share
//! one: each purpose's key is derived from the secret with HKDF, so a key that leaks
//! through one use (a media link's, say) forges nothing of another (an Open edX provider
//! token). To rotate the secret, start the servers with a new `--link-key-file` and the old
//! one as `--previous-link-key-file`: what was signed with the old secret is still accepted,
//! nothing new is signed with it, and once the longest-lived link or token has expired
//! (`--link-ttl-secs`, ten minutes for a provider token) the old file can go.

use crate::domain::words::Word;
use ring::{hkdf, hmac};
use serde::{Deserialize, Serialize};
use std::path::Path;
use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;

/// What a key signs. Each has a key of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Purpose {
    /// A link to an evidence file.
    Media,
    /// A link to a finished report.
    Report,
    /// An access token we issue to an Open edX (the provider API).
    #[strum(serialize = "lms-token")]
    LmsToken,
}

/// The secret every purpose's key is derived from, and the one before it while links it
/// signed may still be in use.
#[derive(Clone)]
pub struct LinkKey {
    current: Secret,
    previous: Option<Secret>,
}

#[derive(Clone)]
struct Secret(Vec<u8>);

/// Names the derivation, so these keys never equal keys derived from the same secret for
/// anything else.
const SALT: &[u8] = b"proctor-review link keys v1";

impl Secret {
    fn key(&self, purpose: Purpose) -> hmac::Key {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(&self.0);
        let info = [purpose.as_str().as_bytes()];
        match prk.expand(&info, hmac::HMAC_SHA256) {
            Ok(okm) => okm.into(),
            // Only a requested length over 255 × 32 bytes fails; ours is 32.
            Err(ring::error::Unspecified) => unreachable!("HKDF-SHA256 yields a 32-byte key"),
        }
    }
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

pub use crate::secrets::KeyError;

fn message(purpose: Purpose, id: i64, expires: i64, reviewer: i64) -> String {
    format!("{}\n{id}\n{expires}\n{reviewer}", purpose.as_str())
}

impl LinkKey {
    pub fn from_bytes(secret: &[u8]) -> Self {
        Self {
            current: Secret(secret.to_vec()),
            previous: None,
        }
    }

    /// Reads the server's secret, making it (mode 0600) the first time, so links stay valid
    /// across restarts. A file others may read is made the owner's alone, with a warning:
    /// whoever read it can forge links until the secret is rotated.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        Ok(Self::from_bytes(
            &crate::secrets::load_or_create(path)?.bytes,
        ))
    }

    /// Also accepts what the secret in `path` signed (it must exist): the secret before a
    /// rotation, until what it signed has expired.
    pub fn with_previous(mut self, path: &Path) -> Result<Self, KeyError> {
        self.previous = Some(Secret(crate::secrets::load(path)?));
        Ok(self)
    }

    fn secrets(&self) -> impl Iterator<Item = &Secret> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    pub fn sign(
        &self,
        purpose: Purpose,
        id: i64,
        expires: OffsetDateTime,
        reviewer: i64,
    ) -> SignedLink {
        let expires = expires.unix_timestamp();
        let tag = hmac::sign(
            &self.current.key(purpose),
            message(purpose, id, expires, reviewer).as_bytes(),
        );
        SignedLink {
            expires,
            reviewer,
            signature: super::hex(tag.as_ref()),
        }
    }

    /// An HMAC over any text, hex, with `purpose`'s key; for tokens that are not links
    /// (the LMS's access tokens).
    pub fn tag(&self, purpose: Purpose, text: &str) -> String {
        super::hex(hmac::sign(&self.current.key(purpose), text.as_bytes()).as_ref())
    }

    /// Checks a [`tag`](Self::tag) in constant time.
    pub fn check_tag(&self, purpose: Purpose, text: &str, tag: &str) -> bool {
        decode_hex(tag).is_some_and(|t| {
            self.secrets()
                .any(|s| hmac::verify(&s.key(purpose), text.as_bytes(), &t).is_ok())
        })
    }

    /// Checks the signature (in constant time) before the expiry, so a forged link never
    /// learns whether its time was right.
    pub fn verify(
        &self,
        purpose: Purpose,
        id: i64,
        link: &SignedLink,
        now: OffsetDateTime,
    ) -> Result<(), LinkError> {
        let tag = decode_hex(&link.signature).ok_or(LinkError::Forged)?;
        let signed = message(purpose, id, link.expires, link.reviewer);
        if !self
            .secrets()
            .any(|s| hmac::verify(&s.key(purpose), signed.as_bytes(), &tag).is_ok())
        {
            return Err(LinkError::Forged);
        }
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
        let link = key.sign(Purpose::Media, 7, now + Duration::minutes(5), 3);
        assert_eq!(key.verify(Purpose::Media, 7, &link, now), Ok(()));
        assert_eq!(
            key.verify(Purpose::Media, 7, &link, now + Duration::minutes(6)),
            Err(LinkError::Expired)
        );
        assert_eq!(
            key.verify(Purpose::Media, 8, &link, now),
            Err(LinkError::Forged)
        );
        assert_eq!(
            key.verify(Purpose::Report, 7, &link, now),
            Err(LinkError::Forged)
        );
        let other_reviewer = SignedLink {
            reviewer: 4,
            ..link.clone()
        };
        assert_eq!(
            key.verify(Purpose::Media, 7, &other_reviewer, now),
            Err(LinkError::Forged)
        );
        let later = SignedLink {
            expires: link.expires + 3600,
            ..link.clone()
        };
        assert_eq!(
            key.verify(Purpose::Media, 7, &later, now),
            Err(LinkError::Forged)
        );
        let mut sig = link.signature.clone().into_bytes();
        sig[0] = if sig[0] == b'0' { b'1' } else { b'0' };
        let flipped = SignedLink {
            signature: String::from_utf8(sig).unwrap(),
            ..link
        };
        assert_eq!(
            key.verify(Purpose::Media, 7, &flipped, now),
            Err(LinkError::Forged)
        );
    }

    #[test]
    fn the_key_survives_a_restart_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.key");
        let now = OffsetDateTime::now_utc();
        let link = LinkKey::load_or_create(&path).unwrap().sign(
            Purpose::Media,
            1,
            now + Duration::minutes(1),
            1,
        );
        let again = LinkKey::load_or_create(&path).unwrap();
        assert_eq!(again.verify(Purpose::Media, 1, &link, now), Ok(()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            LinkKey::load_or_create(&path),
            Err(KeyError::Damaged(_))
        ));
    }

    #[test]
    fn no_purpose_signs_for_another_and_the_raw_secret_signs_nothing() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let key = LinkKey::from_bytes(secret);
        let now = OffsetDateTime::now_utc();
        let exp = (now + Duration::minutes(5)).unix_timestamp();
        // What anyone holding the secret file could compute before keys were derived.
        let raw = super::super::hex(
            hmac::sign(
                &hmac::Key::new(hmac::HMAC_SHA256, secret),
                format!("media\n1\n{exp}\n1").as_bytes(),
            )
            .as_ref(),
        );
        let forged = SignedLink {
            expires: exp,
            reviewer: 1,
            signature: raw,
        };
        assert_eq!(
            key.verify(Purpose::Media, 1, &forged, now),
            Err(LinkError::Forged)
        );
        // A media link's signature is no report link's, and a token tag made for one
        // purpose is refused for another.
        let media = key.sign(Purpose::Media, 1, now + Duration::minutes(5), 1);
        assert_eq!(
            key.verify(Purpose::Report, 1, &media, now),
            Err(LinkError::Forged)
        );
        let text = "lms-token\nedx\n99";
        let tag = key.tag(Purpose::LmsToken, text);
        assert!(key.check_tag(Purpose::LmsToken, text, &tag));
        assert!(!key.check_tag(Purpose::Media, text, &tag));
    }

    #[test]
    fn a_rotated_secret_still_verifies_what_it_signed_but_signs_nothing_new() {
        let dir = tempfile::tempdir().unwrap();
        let old_path = dir.path().join("old.key");
        let new_path = dir.path().join("new.key");
        let now = OffsetDateTime::now_utc();
        let old = LinkKey::load_or_create(&old_path).unwrap();
        let issued = old.sign(Purpose::Media, 5, now + Duration::minutes(5), 2);
        let old_tag = old.tag(Purpose::LmsToken, "t");
        let rotated = LinkKey::load_or_create(&new_path)
            .unwrap()
            .with_previous(&old_path)
            .unwrap();
        assert_eq!(rotated.verify(Purpose::Media, 5, &issued, now), Ok(()));
        assert!(rotated.check_tag(Purpose::LmsToken, "t", &old_tag));
        let fresh = rotated.sign(Purpose::Media, 5, now + Duration::minutes(5), 2);
        assert_ne!(fresh, issued, "new links are signed with the new secret");
        let without_old = LinkKey::load_or_create(&new_path).unwrap();
        assert_eq!(
            without_old.verify(Purpose::Media, 5, &issued, now),
            Err(LinkError::Forged)
        );
        assert!(matches!(
            LinkKey::load_or_create(&new_path)
                .unwrap()
                .with_previous(&dir.path().join("missing.key")),
            Err(KeyError::Io { .. })
        ));
    }

    #[test]
    fn a_key_others_can_read_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.key");
        LinkKey::load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        LinkKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
