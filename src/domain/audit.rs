//! The decision history as a hash chain: each entry's hash covers its content and the
//! previous entry's hash, so changing, removing or reordering any recorded decision breaks
//! every hash after it. A learner's retirement may erase a decision's reason (the chain
//! keeps the reason's digest, so it still verifies, and the erasure shows).

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
}

/// One stored entry, as the verifier reads it.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub fields: AuditFields,
    pub reason: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The outcome of checking the whole chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub entries: u64,
    pub erased_reasons: u64,
    pub head: String,
}

/// Checks entries in id order; the first broken one is named.
pub fn verify(
    entries: impl IntoIterator<Item = StoredEntry>,
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
    })
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
        StoredEntry {
            hash: entry_hash(prev, &fields),
            fields,
            reason: reason.into(),
            prev_hash: prev.into(),
        }
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
}
