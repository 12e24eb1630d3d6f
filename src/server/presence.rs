//! Who is looking at which learner: soft claims a console takes when a reviewer opens a
//! learner's detail, renews while it stays open and releases on leaving. They are advice
//! for the team (rows show them, the queue's "next" skips them), never a lock: a decision
//! still relies on `expected_status`. Claims live in memory, as a projection of the event
//! stream, so a claim made on another server sharing the database arrives the way a
//! decision does; a server that starts later learns them at their next renewal.

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::ids::IdPath;
use crate::api::{CLAIM_HOLD_SECS, ChangeEvent, ChangeKind, Claim};
use crate::domain::SessionId;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often expired claims are swept (and said to be released).
pub const SWEEP: Duration = Duration::from_secs(5);

/// A claim as this server keeps it: the event that announced it (to say its release in the
/// same words), when it expires and since when it is held.
type Held = (ChangeEvent, Instant, Instant);

/// The claims this server knows of, by session and reviewer.
#[derive(Default)]
pub struct Presence {
    held: Mutex<HashMap<(SessionId, String), Held>>,
}

/// What an event does to the claims, if it is about one.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// Not a claim event: everything else is told as it is.
    NotAClaim,
    /// A new claim, or the release of a held one: worth telling the consoles.
    News,
    /// A renewal, or the release of a claim nobody held: nothing to tell.
    Nothing,
}

fn claim_of(e: &ChangeEvent) -> Claim {
    Claim {
        session_id: e.session_id,
        exam_id: e.exam_id,
        course_id: e.course_id.clone(),
        reviewer: e.reviewer.clone().unwrap_or_default(),
    }
}

impl Presence {
    /// Applies a claim or release at `now`.
    pub fn apply(&self, e: &ChangeEvent, now: Instant) -> Applied {
        let Some(reviewer) = e.reviewer.clone() else {
            return Applied::NotAClaim;
        };
        let Ok(mut held) = self.held.lock() else {
            return Applied::Nothing;
        };
        let key = (e.session_id, reviewer);
        match e.kind {
            ChangeKind::Claimed => {
                let until = now + Duration::from_secs(CLAIM_HOLD_SECS);
                match held.get_mut(&key) {
                    Some(claim) => {
                        claim.1 = until;
                        Applied::Nothing
                    }
                    None => {
                        held.insert(key, (e.clone(), until, now));
                        Applied::News
                    }
                }
            }
            ChangeKind::Released => match held.remove(&key) {
                Some(_) => Applied::News,
                None => Applied::Nothing,
            },
            _ => Applied::NotAClaim,
        }
    }

    /// The releases of the claims not renewed in time, to publish (which takes them out).
    pub fn expired(&self, now: Instant) -> Vec<ChangeEvent> {
        let Ok(held) = self.held.lock() else {
            return vec![];
        };
        held.values()
            .filter(|(_, until, _)| *until <= now)
            .map(|(e, ..)| ChangeEvent {
                kind: ChangeKind::Released,
                ..e.clone()
            })
            .collect()
    }

    /// The live claims in the courses `visible` admits, by session.
    pub fn claims(&self, visible: impl Fn(&str) -> bool) -> Vec<Claim> {
        let Ok(held) = self.held.lock() else {
            return vec![];
        };
        let mut out: Vec<Claim> = held
            .values()
            .filter(|(e, ..)| visible(&e.course_id))
            .map(|(e, ..)| claim_of(e))
            .collect();
        out.sort_by(|a, b| (a.session_id, &a.reviewer).cmp(&(b.session_id, &b.reviewer)));
        out
    }

    /// `reviewer`'s claim on `session`, as announced.
    pub fn held_by(&self, session: SessionId, reviewer: &str) -> Option<ChangeEvent> {
        let held = self.held.lock().ok()?;
        held.get(&(session, reviewer.to_owned()))
            .map(|(e, ..)| e.clone())
    }

    /// How long `reviewer` has held `session` (had its learner open), if they do.
    pub fn held_for(&self, session: SessionId, reviewer: &str) -> Option<Duration> {
        let held = self.held.lock().ok()?;
        held.get(&(session, reviewer.to_owned()))
            .map(|(_, _, since)| since.elapsed())
    }
}

/// `POST /sessions/{id}/claim`: takes or renews the caller's claim on a session they may
/// see; answers every claim on it, theirs included.
pub async fn claim<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(id): IdPath,
) -> Result<Json<Vec<Claim>>, ApiError> {
    let d = crate::review::session(&st.store, &actor, id).await?;
    st.events.session_changed(
        ChangeKind::Claimed,
        &d,
        Some(&actor.reviewer.username),
        None,
    );
    let on = st
        .events
        .presence
        .claims(|c| c == d.course_id)
        .into_iter()
        .filter(|c| c.session_id == id)
        .collect();
    Ok(Json(on))
}

/// `DELETE /sessions/{id}/claim`: the caller left the learner. Releasing what one does not
/// hold changes nothing, so a console may release as often as it likes.
pub async fn release<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(id): IdPath,
) -> StatusCode {
    if let Some(mut e) = st.events.presence.held_by(id, &actor.reviewer.username) {
        e.kind = ChangeKind::Released;
        st.events.announce_and_publish(e);
    }
    StatusCode::NO_CONTENT
}

/// `GET /claims`: every live claim in the courses the caller may see.
pub async fn claims<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
) -> Json<Vec<Claim>> {
    Json(
        st.events
            .presence
            .claims(|course| actor.may_see(course).is_ok()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AttemptStatus;

    fn event(kind: ChangeKind, session: SessionId, who: &str) -> ChangeEvent {
        ChangeEvent {
            id: 0,
            kind,
            session_id: session,
            exam_id: 2,
            course_id: "course-v1:Demo+Bio+2026".into(),
            learner: "Ada Lovelace".into(),
            status: AttemptStatus::SecondReviewRequired,
            reviewer: Some(who.into()),
            verdict: None,
            delivery: None,
            note: None,
        }
    }

    #[test]
    fn a_claim_is_news_once_and_renewals_say_nothing() {
        let p = Presence::default();
        let t = Instant::now();
        assert_eq!(
            p.apply(&event(ChangeKind::Claimed, 7, "ada"), t),
            Applied::News
        );
        assert_eq!(
            p.apply(&event(ChangeKind::Claimed, 7, "ada"), t),
            Applied::Nothing
        );
        assert_eq!(
            p.apply(&event(ChangeKind::Claimed, 7, "bo"), t),
            Applied::News
        );
        assert_eq!(p.claims(|_| true).len(), 2);
        assert_eq!(p.claims(|_| false), vec![]);
        assert_eq!(
            p.apply(&event(ChangeKind::Released, 7, "ada"), t),
            Applied::News
        );
        assert_eq!(
            p.apply(&event(ChangeKind::Released, 7, "ada"), t),
            Applied::Nothing,
            "releasing twice tells nobody twice"
        );
        assert_eq!(
            p.claims(|_| true)
                .into_iter()
                .map(|c| c.reviewer)
                .collect::<Vec<_>>(),
            ["bo"]
        );
        assert_eq!(
            p.apply(&event(ChangeKind::Decision, 7, "bo"), t),
            Applied::NotAClaim
        );
    }

    #[test]
    fn a_claim_not_renewed_expires_and_its_release_is_told() {
        let p = Presence::default();
        let t = Instant::now();
        p.apply(&event(ChangeKind::Claimed, 7, "ada"), t);
        let hold = Duration::from_secs(CLAIM_HOLD_SECS);
        // Renewed halfway: it lasts from the renewal.
        p.apply(&event(ChangeKind::Claimed, 7, "ada"), t + hold / 2);
        assert_eq!(p.expired(t + hold), vec![]);
        let gone = p.expired(t + hold / 2 + hold);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].kind, ChangeKind::Released);
        assert_eq!(gone[0].reviewer.as_deref(), Some("ada"));
        assert_eq!(p.apply(&gone[0], t + hold * 2), Applied::News);
        assert_eq!(p.claims(|_| true), vec![]);
    }
}
