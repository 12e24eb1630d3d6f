//! The decision history as a hash chain: each entry's hash covers its content and the
//! previous entry's hash, so changing, removing or reordering any recorded decision breaks
//! every hash after it. A learner's retirement may erase a decision's reason (the chain
//! keeps the reason's digest, so it still verifies, and the erasure shows).
//!
//! A hash anyone can recompute protects against mistakes, not against someone who can write
//! the database: they could edit a row and rehash everything after it. So each entry is
//! also sealed, an HMAC of its hash under a key kept outside the database ([`SealKey`]);
//! rewriting history then needs the key. Removing the newest entries leaves a shorter chain
//! that verifies: the head (count and hash) that `audit head` prints and the server logs is
//! what shows that, compared with one noted earlier (`audit verify --expect-head`).

use super::text::hex;

/// What an entry's hash covers, in a fixed order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditFields {
    pub id: i64,
    pub session_id: i64,
    pub reviewer_id: i64,
    pub decided_at: String,
    pub verdict: String,
    /// SHA-256 of the reason, so a reason can be erased without breaking the chain.
    pub reason_sha256: String,
    pub status_before: String,
    pub status_after: String,
    pub review_status_before: Option<String>,
    pub review_status_after: Option<String>,
    pub grade_possible: Option<f64>,
    pub grade_before: Option<f64>,
    pub grade_after: Option<f64>,
    pub learner_emailed: bool,
}

/// The previous hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What retirement writes over a decision's reason.
pub const ERASED_REASON: &str = "erased: learner retired";

/// The key entries are sealed with, from a file only the server (and `audit verify`) reads.
#[derive(Clone)]
pub struct SealKey(ring::hmac::Key);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    pub fn from_bytes(secret: &[u8]) -> Self {
        Self(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret))
    }

    fn message(hash: &str) -> String {
        format!("decision seal\n{hash}")
    }

    /// The seal of the entry whose hash is `hash`.
    pub fn seal(&self, hash: &str) -> String {
        hex(ring::hmac::sign(&self.0, Self::message(hash).as_bytes()).as_ref())
    }

    /// Whether `seal` is `hash`'s, in constant time.
    pub fn checks(&self, hash: &str, seal: &str) -> bool {
        let Some(tag) = unhex(seal) else {
            return false;
        };
        ring::hmac::verify(&self.0, Self::message(hash).as_bytes(), &tag).is_ok()
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

pub fn sha256(text: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref())
}

pub fn entry_hash(prev: &str, fields: &AuditFields) -> String {
    // serde_json writes a struct's fields in declaration order and floats exactly, so the
    // same content always gives the same bytes.
    let content = serde_json::to_string(fields).unwrap_or_default();
    sha256(&format!("{prev}\n{content}"))
}

/// Why an entry does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("its content was changed after it was written")]
    Altered,
    #[error("it does not follow the entry before it (one was removed, inserted or reordered)")]
    Unlinked,
    #[error("its reason was changed after it was written")]
    ReasonAltered,
    #[error("it carries no seal: it was written, or rewritten, without the audit key")]
    Unsealed,
    #[error("its seal does not match: it was rewritten without the audit key")]
    BadSeal,
}

/// One stored entry, as the verifier reads it.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub fields: AuditFields,
    pub reason: String,
    pub prev_hash: String,
    pub hash: String,
    /// The entry's seal, if it has one.
    pub seal: Option<String>,
}

/// The outcome of checking the whole chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub entries: u64,
    pub erased_reasons: u64,
    pub head: String,
    /// Every seal was checked too.
    pub sealed: bool,
}

/// Checks entries in id order, links and hashes only (what anyone can recompute); the
/// first broken one is named.
pub fn verify(
    entries: impl IntoIterator<Item = StoredEntry>,
) -> Result<Verified, Box<(StoredEntry, ChainBreak)>> {
    check(entries, None)
}

/// [`verify`], and every entry's seal under `key`.
pub fn verify_sealed(
    entries: impl IntoIterator<Item = StoredEntry>,
    key: &SealKey,
) -> Result<Verified, Box<(StoredEntry, ChainBreak)>> {
    check(entries, Some(key))
}

fn check(
    entries: impl IntoIterator<Item = StoredEntry>,
    key: Option<&SealKey>,
) -> Result<Verified, Box<(StoredEntry, ChainBreak)>> {
    let mut prev = GENESIS.to_owned();
    let (mut n, mut erased) = (0, 0);
    for e in entries {
        if e.prev_hash != prev {
            return Err(Box::new((e, ChainBreak::Unlinked)));
        }
        if entry_hash(&e.prev_hash, &e.fields) != e.hash {
            return Err(Box::new((e, ChainBreak::Altered)));
        }
        if let Some(key) = key {
            match &e.seal {
                None => return Err(Box::new((e, ChainBreak::Unsealed))),
                Some(seal) if !key.checks(&e.hash, seal) => {
                    return Err(Box::new((e, ChainBreak::BadSeal)));
                }
                Some(_) => {}
            }
        }
        if sha256(&e.reason) != e.fields.reason_sha256 {
            if e.reason == ERASED_REASON {
                erased += 1;
            } else {
                return Err(Box::new((e, ChainBreak::ReasonAltered)));
            }
        }
        prev = e.hash.clone();
        n += 1;
    }
    Ok(Verified {
        entries: n,
        erased_reasons: erased,
        head: prev,
        sealed: key.is_some(),
    })
}

/// The history's newest end: what `audit head` prints and the server logs.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    pub entries: u64,
    pub hash: String,
    /// The newest sealed entry's hash and seal, to tell at start whether the history was
    /// sealed with this key.
    pub newest_seal: Option<(String, String)>,
}

/// A session as it is now, for checking it against its history.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionNow {
    pub session_id: i64,
    pub status: String,
    /// When it last changed (stored text, ordered as time).
    pub modified: String,
    /// Its learner was retired (and their reasons may be erased).
    pub learner_retired: bool,
}

/// What a verified chain and the sessions disagree on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Finding {
    #[error(
        "session {session} is {now}, but its history (decision {decision}) leaves it {recorded}: \
         its status was changed behind the history's back"
    )]
    StatusChanged {
        session: i64,
        decision: i64,
        recorded: String,
        now: String,
    },
    #[error(
        "decision {decision} (session {session}) has its reason erased, but its learner was \
         never retired: the erasure is forged"
    )]
    ForgedErasure { decision: i64, session: i64 },
}

/// Checks each session against its history: its status must be what its latest entry left
/// it at (unless something that writes no entry, an automated review or Open edX, changed
/// it since), and a reason may be erased only for a retired learner.
pub fn cross_check(entries: &[StoredEntry], sessions: &[SessionNow]) -> Vec<Finding> {
    use std::collections::HashMap;
    let now: HashMap<i64, &SessionNow> = sessions.iter().map(|s| (s.session_id, s)).collect();
    let mut latest: HashMap<i64, &StoredEntry> = HashMap::new();
    let mut findings = Vec::new();
    for e in entries {
        latest.insert(e.fields.session_id, e);
        let retired = now
            .get(&e.fields.session_id)
            .is_some_and(|s| s.learner_retired);
        if e.reason == ERASED_REASON && !retired {
            findings.push(Finding::ForgedErasure {
                decision: e.fields.id,
                session: e.fields.session_id,
            });
        }
    }
    let mut sessions: Vec<_> = latest.into_iter().collect();
    sessions.sort_by_key(|(id, _)| *id);
    for (id, e) in sessions {
        let Some(s) = now.get(&id) else { continue };
        let untouched_since = s.modified <= e.fields.decided_at;
        if untouched_since && s.status != e.fields.status_after {
            findings.push(Finding::StatusChanged {
                session: id,
                decision: e.fields.id,
                recorded: e.fields.status_after.clone(),
                now: s.status.clone(),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, prev: &str, reason: &str) -> StoredEntry {
        let fields = AuditFields {
            id,
            session_id: 7,
            reviewer_id: 1,
            decided_at: "2026-11-26T04:00:00.000000Z".into(),
            verdict: "fail".into(),
            reason_sha256: sha256(reason),
            status_before: "second_review_required".into(),
            status_after: "rejected".into(),
            review_status_before: Some("Suspicious".into()),
            review_status_after: Some("Suspicious".into()),
            grade_possible: Some(20.0),
            grade_before: Some(14.5),
            grade_after: Some(0.0),
            learner_emailed: true,
        };
        let hash = entry_hash(prev, &fields);
        StoredEntry {
            seal: Some(key().seal(&hash)),
            hash,
            fields,
            reason: reason.into(),
            prev_hash: prev.into(),
        }
    }

    fn key() -> SealKey {
        SealKey::from_bytes(b"0123456789abcdef0123456789abcdef")
    }

    fn chain() -> Vec<StoredEntry> {
        let a = entry(1, GENESIS, "phone");
        let b = entry(2, &a.hash, "second monitor");
        let c = entry(3, &b.hash, "");
        vec![a, b, c]
    }

    #[test]
    fn an_intact_chain_verifies_and_any_change_is_named() {
        assert_eq!(verify(chain()).unwrap().entries, 3);

        let mut altered = chain();
        altered[1].fields.grade_after = Some(20.0);
        let (e, why) = *verify(altered).unwrap_err();
        assert_eq!((e.fields.id, why), (2, ChainBreak::Altered));

        let mut removed = chain();
        removed.remove(1);
        let (e, why) = *verify(removed).unwrap_err();
        assert_eq!((e.fields.id, why), (3, ChainBreak::Unlinked));

        let mut reason = chain();
        reason[0].reason = "no phone".into();
        assert_eq!(verify(reason).unwrap_err().1, ChainBreak::ReasonAltered);

        let mut retired = chain();
        retired[0].reason = ERASED_REASON.into();
        assert_eq!(verify(retired).unwrap().erased_reasons, 1);
    }

    #[test]
    fn a_rehash_without_the_key_is_caught_by_the_seals() {
        assert!(verify_sealed(chain(), &key()).unwrap().sealed);
        // Edit the middle entry and recompute every hash after it, as anyone can.
        let mut rehashed = chain();
        rehashed[1].fields.grade_after = Some(20.0);
        let mut prev = rehashed[0].hash.clone();
        for e in rehashed.iter_mut().skip(1) {
            e.prev_hash = prev.clone();
            e.hash = entry_hash(&prev, &e.fields);
            prev = e.hash.clone();
        }
        assert_eq!(
            verify(rehashed.clone()).unwrap().entries,
            3,
            "plain hashes agree"
        );
        let (e, why) = *verify_sealed(rehashed.clone(), &key()).unwrap_err();
        assert_eq!((e.fields.id, why), (2, ChainBreak::BadSeal));
        rehashed[1].seal = None;
        assert_eq!(
            verify_sealed(rehashed, &key()).unwrap_err().1,
            ChainBreak::Unsealed
        );
        let other = SealKey::from_bytes(b"another key, another server.....");
        assert_eq!(
            verify_sealed(chain(), &other).unwrap_err().1,
            ChainBreak::BadSeal
        );
    }

    #[test]
    fn a_status_changed_behind_the_history_and_a_forged_erasure_are_named() {
        let mut entries = chain();
        entries[2].reason = ERASED_REASON.into();
        let at = "2026-11-26T04:00:00.000000Z".to_owned();
        let session = |status: &str, modified: &str, retired| SessionNow {
            session_id: 7,
            status: status.into(),
            modified: modified.into(),
            learner_retired: retired,
        };
        assert!(cross_check(&entries, &[session("rejected", &at, true)]).is_empty());
        assert_eq!(
            cross_check(&entries, &[session("verified", &at, true)]),
            vec![Finding::StatusChanged {
                session: 7,
                decision: 3,
                recorded: "rejected".into(),
                now: "verified".into(),
            }]
        );
        // Changed later by something that writes no entry (an automated review).
        let later = "2026-11-27T04:00:00.000000Z";
        assert!(cross_check(&entries, &[session("verified", later, true)]).is_empty());
        assert_eq!(
            cross_check(&entries, &[session("rejected", &at, false)]),
            vec![Finding::ForgedErasure {
                decision: 3,
                session: 7
            }]
        );
    }
}
