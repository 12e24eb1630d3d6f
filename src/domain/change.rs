//! What changed, in words the server's event stream and its background jobs share: a
//! job says what it did to a session, the stream tells every console.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Decision,
    /// A first opinion under the course's four-eyes rule: nothing changed for the learner
    /// yet; a second reviewer confirms (a `decision`) or overturns it. Its verdict is not
    /// told, so the second reviewer decides blind.
    FirstOpinion,
    /// A second reviewer disagreed with the first opinion: the session needs another look.
    Overturned,
    Undo,
    /// A new or changed session (the provider's review, Open edX).
    Session,
    /// The learner email a decision queued was delivered, or failed.
    Email,
    /// A review reached Open edX, failed to, or Open edX changed the attempt itself.
    OpenEdx,
    /// A reviewer opened the learner's detail (or is still on it): a soft claim, advice
    /// that expires by itself, never a lock.
    Claimed,
    /// The reviewer left the learner, or their claim expired.
    Released,
    /// Events were missed (a slow reader, or a resume id too old): reload everything.
    Resync,
}

/// What happened to a learner email or an Open edX delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Delivered,
    /// Failed for now; tried again later by itself.
    Retrying,
    /// Failed for good: an admin retries it (`mail retry`, `R` on the session).
    Failed,
    /// Open edX changed the attempt's status itself (a staff member there, a sync).
    Changed,
    /// Open edX changed the attempt while our review was on its way: nothing was sent.
    Conflict,
}
