//! Soft claims: the learner open in Learner Detail is claimed (renewed while it stays open,
//! released on leaving), and the claims of the rest of the team, as the live stream tells
//! them, mark rows, the detail's title and the decision dialog, and let the queue's "next"
//! go past learners a colleague is already on. Advice only: nothing here stops a decision.

use crate::api::{CLAIM_RENEW_SECS, ChangeEvent, ChangeKind, Claim};
use crate::client::ClientError;
use crate::console::action::Effect;
use crate::console::state::{Pane, RequestId, State, Tone};
use crate::domain::SessionId;

/// Takes, moves or lets go of this console's claim so it follows the learner open in
/// Learner Detail. Runs after every action, so no path into or out of the detail is missed.
pub fn sync(state: &mut State) -> Vec<Effect> {
    let want = state
        .detail
        .session
        .filter(|_| state.focus == Pane::Detail && state.access_lost.is_none());
    let held = state.presence.held.map(|(s, _)| s);
    if want == held {
        return vec![];
    }
    let mut effects = Vec::new();
    if let Some(session) = held {
        drop_claim(state, session, state.reviewer.clone().as_deref());
        effects.push(Effect::Release { session });
    }
    state.presence.held = None;
    if let Some(session) = want {
        let request = state.request_id();
        state.presence.held = Some((session, request));
        effects.push(Effect::Claim { request, session });
    }
    effects
}

fn drop_claim(state: &mut State, session: SessionId, reviewer: Option<&str>) {
    state
        .presence
        .claims
        .retain(|c| !(c.session_id == session && Some(c.reviewer.as_str()) == reviewer));
}

/// The claims in force, after the live stream came up.
pub fn loaded(state: &mut State, result: Result<Vec<Claim>, ClientError>) -> Vec<Effect> {
    match result {
        Ok(claims) => state.presence.claims = claims,
        // Presence is advice: without it the console works as before.
        Err(e) => tracing::debug!(error = %e, "claims could not be loaded"),
    }
    vec![]
}

/// The claim was taken or renewed: the claims on its session, and the next renewal.
pub fn taken(
    state: &mut State,
    request: RequestId,
    session: SessionId,
    result: Result<Vec<Claim>, ClientError>,
) -> Vec<Effect> {
    if state.presence.held != Some((session, request)) {
        return vec![];
    }
    if let Ok(on) = result {
        state.presence.claims.retain(|c| c.session_id != session);
        state.presence.claims.extend(on);
    }
    // A failed claim is tried again at the next renewal; nothing waits on it.
    vec![Effect::RenewClaim {
        request,
        delay_ms: CLAIM_RENEW_SECS * 1000,
    }]
}

/// A renewal's time came: renewed if the claim is still held.
pub fn due(state: &mut State, request: RequestId) -> Vec<Effect> {
    match state.presence.held {
        Some((session, r)) if r == request => vec![Effect::Claim { request, session }],
        _ => vec![],
    }
}

/// A colleague took or let go of a learner.
pub fn heard(state: &mut State, e: &ChangeEvent) -> Vec<Effect> {
    let Some(reviewer) = e.reviewer.clone() else {
        return vec![];
    };
    match e.kind {
        ChangeKind::Claimed => {
            let claim = Claim {
                session_id: e.session_id,
                exam_id: e.exam_id,
                course_id: e.course_id.clone(),
                reviewer,
            };
            if state.presence.claims.contains(&claim) {
                return vec![];
            }
            let mine = state.reviewer.as_deref() == Some(claim.reviewer.as_str());
            if !mine && state.presence.held.map(|(s, _)| s) == Some(e.session_id) {
                state.say_about(
                    e.session_id,
                    Tone::Info,
                    format!("◉ {} is now also on {}", claim.reviewer, e.learner),
                );
            }
            state.presence.claims.push(claim);
        }
        ChangeKind::Released => drop_claim(state, e.session_id, Some(&reviewer)),
        _ => {}
    }
    vec![]
}

/// Whether a colleague is on `session`.
pub fn held_by_other(state: &State, session: SessionId) -> bool {
    !state.others_on(session).is_empty()
}

#[cfg(test)]
mod tests {
    use crate::api::{ChangeEvent, ChangeKind};
    use crate::console::action::{Action, Effect};
    use crate::console::fixtures::*;
    use crate::console::state::{Pane, State};
    use crate::console::update::update;
    use crate::domain::*;
    use crossterm::event::KeyCode;

    fn claim_event(kind: ChangeKind, session: SessionId, who: &str) -> Action {
        Action::Changed(ChangeEvent {
            id: 9,
            kind,
            session_id: session,
            exam_id: 1,
            course_id: "course-v1:TestX+T1+2026".into(),
            learner: "Chen".into(),
            status: AttemptStatus::SecondReviewRequired,
            reviewer: Some(who.into()),
            verdict: None,
            delivery: None,
            note: None,
        })
    }

    fn me(s: &mut State) {
        s.reviewer = Some("ada".into());
    }

    fn claim_of(fx: &[Effect]) -> Option<(u64, SessionId)> {
        fx.iter().find_map(|e| match e {
            Effect::Claim { request, session } => Some((*request, *session)),
            _ => None,
        })
    }

    #[test]
    fn the_learner_open_in_detail_is_claimed_renewed_and_released_on_leaving() {
        let mut s = opened();
        me(&mut s);
        assert_eq!(s.presence.held, None, "browsing the list claims nobody");
        let fx = update(&mut s, code(KeyCode::Enter));
        assert_eq!(s.focus, Pane::Detail);
        let (request, session) = claim_of(&fx).expect("opening the detail claims");
        assert_eq!(session, 11);
        let fx = update(
            &mut s,
            Action::ClaimTaken {
                request,
                session,
                result: Ok(vec![]),
            },
        );
        assert_eq!(
            fx,
            [Effect::RenewClaim {
                request,
                delay_ms: crate::api::CLAIM_RENEW_SECS * 1000
            }]
        );
        assert_eq!(
            update(&mut s, Action::ClaimDue(request)),
            [Effect::Claim { request, session }],
            "renewed while it stays open"
        );
        let fx = update(&mut s, code(KeyCode::Esc));
        assert!(fx.contains(&Effect::Release { session: 11 }), "{fx:?}");
        assert_eq!(s.presence.held, None);
        assert_eq!(
            update(&mut s, Action::ClaimDue(request)),
            [],
            "a renewal scheduled before leaving renews nothing"
        );
    }

    #[test]
    fn a_colleagues_claim_marks_the_learner_and_goes_with_their_release() {
        let mut s = opened();
        me(&mut s);
        update(&mut s, claim_event(ChangeKind::Claimed, 13, "bo"));
        update(&mut s, claim_event(ChangeKind::Claimed, 13, "ada"));
        assert_eq!(s.others_on(13), ["bo"], "one's own claim is not news");
        assert!(s.status.is_none(), "a claim elsewhere says nothing");
        update(&mut s, claim_event(ChangeKind::Released, 13, "bo"));
        assert!(s.others_on(13).is_empty());
        // On the learner one has open, a colleague's arrival is said.
        update(&mut s, code(KeyCode::Enter));
        update(&mut s, claim_event(ChangeKind::Claimed, 11, "bo"));
        assert_eq!(s.status.as_ref().unwrap().text, "◉ bo is now also on Chen");
    }

    #[test]
    fn after_a_decision_the_queue_goes_past_learners_a_colleague_is_on() {
        let mut s = opened();
        me(&mut s);
        update(&mut s, claim_event(ChangeKind::Claimed, 13, "bo"));
        update(&mut s, key('f'));
        let dialog = s.dialog.as_ref().unwrap();
        assert!(dialog.held_by.is_empty(), "nobody else is on Ana");
        let fx = update(&mut s, code(KeyCode::Enter));
        let Effect::Decide { request, .. } = fx[0].clone() else {
            panic!("{fx:?}")
        };
        let mut failed = detail(&rows()[0]);
        failed.row.status = AttemptStatus::Rejected;
        update(
            &mut s,
            Action::Decided {
                request,
                session: 11,
                result: Ok(failed),
            },
        );
        assert_eq!(
            s.sessions.selected().map(|r| r.id),
            Some(11),
            "Chen, the only one left, is bo's: the cursor stays"
        );
        let said = &s.status.as_ref().unwrap().text;
        assert!(
            said.contains("— no more here but the 1 a colleague is on (◉); Final has 2"),
            "{said}"
        );
    }

    #[test]
    fn deciding_a_learner_a_colleague_is_on_asks_first() {
        let mut s = opened();
        me(&mut s);
        update(&mut s, claim_event(ChangeKind::Claimed, 11, "bo"));
        update(&mut s, key('f'));
        assert_eq!(s.dialog.as_ref().unwrap().held_by, ["bo"]);
    }

    #[test]
    fn claims_are_read_when_the_live_stream_comes_up_and_after_a_resync() {
        let mut s = opened();
        assert_eq!(update(&mut s, Action::Live(true)), [Effect::LoadClaims]);
        let claim = crate::api::Claim {
            session_id: 12,
            exam_id: 1,
            course_id: "c".into(),
            reviewer: "bo".into(),
        };
        update(&mut s, Action::ClaimsLoaded(Ok(vec![claim])));
        assert_eq!(s.others_on(12), ["bo"]);
        let fx = update(&mut s, claim_event(ChangeKind::Resync, 0, "x"));
        assert!(fx.contains(&Effect::LoadClaims), "{fx:?}");
    }
}
