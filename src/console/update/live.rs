//! Changes other reviewers make, as they happen: rows and counts are patched, the open
//! session is reloaded and said to have changed before the reviewer presses a key. While
//! the live stream is down the console refreshes by itself at each reconnect attempt.

use super::decide::refresh_counts;
use super::navigate::{refresh, reload_sessions};
use crate::api::{ChangeEvent, ChangeKind, Delivery};
use crate::console::action::Effect;
use crate::console::state::{State, Tone};
use crate::domain::Verdict;

/// "ada failed Wojciech Kowalski just now"
fn sentence(e: &ChangeEvent) -> String {
    let who = e.reviewer.as_deref().unwrap_or("the provider");
    let did = match (e.kind, e.verdict) {
        (ChangeKind::Decision, Some(Verdict::Fail)) => "failed".to_owned(),
        (ChangeKind::Decision, Some(Verdict::Pass)) => "passed".to_owned(),
        (ChangeKind::Undo, Some(v)) => format!("undid the {} of", v.word()),
        (ChangeKind::FirstOpinion, _) => {
            return format!(
                "{who} gave a first opinion on {} just now: it waits for a second reviewer",
                e.learner
            );
        }
        (ChangeKind::Overturned, _) => {
            return format!(
                "{who} overturned the first opinion on {} just now: it needs another look",
                e.learner
            );
        }
        _ => format!("changed ({})", e.status.label()),
    };
    format!("{who} {did} {} just now", e.learner)
}

/// What a job did, in words, and how it sounds: "✉ Learner email to Ada Lovelace delivered".
fn news(e: &ChangeEvent) -> Option<(Tone, String)> {
    let who = &e.learner;
    let why = e
        .note
        .as_deref()
        .map(|n| format!(": {n}"))
        .unwrap_or_default();
    let said = match (e.kind, e.delivery?) {
        (ChangeKind::Email, Delivery::Delivered) => {
            (Tone::Success, format!("✉ Learner email to {who} delivered"))
        }
        (ChangeKind::Email, Delivery::Retrying) => (
            Tone::Info,
            format!("✉ Learner email to {who} not delivered yet{why}; tried again by itself"),
        ),
        (ChangeKind::Email, _) => (
            Tone::Error,
            format!("⚠ Learner email to {who} failed{why}; an admin resends it (mail retry)"),
        ),
        (_, Delivery::Delivered) => (Tone::Success, format!("Open edX has the review of {who}")),
        (_, Delivery::Retrying) => (
            Tone::Info,
            format!("Open edX did not take the review of {who} yet{why}; tried again by itself"),
        ),
        (_, Delivery::Failed) => (
            Tone::Error,
            format!("⚠ Open edX refused the review of {who}{why}; R sends it again"),
        ),
        (_, Delivery::Changed) => (
            Tone::Info,
            format!("Open edX changed {who} to {}", e.status.label()),
        ),
        (_, Delivery::Conflict) => (
            Tone::Error,
            format!("⚠ Open edX changed {who} while our review was on its way; nothing was sent"),
        ),
    };
    Some(said)
}

/// A learner email delivered for the decision the status bar is telling of: its line says
/// "learner email delivered" where it said "queued", or adds it to a colleague's decision
/// ("ada failed … just now"), and keeps who decided (true).
fn delivered_as_said(state: &mut State, e: &ChangeEvent) -> bool {
    const QUEUED: &str = "learner email queued";
    if (e.kind, e.delivery) != (ChangeKind::Email, Some(Delivery::Delivered)) {
        return false;
    }
    let Some(line) = state
        .status
        .as_mut()
        .filter(|l| l.about == Some(e.session_id))
    else {
        return false;
    };
    if line.text.contains(QUEUED) {
        line.text = line.text.replace(QUEUED, "learner email delivered");
    } else if line.text.ends_with(" just now") {
        line.text.push_str(" · ✉ learner email delivered");
    } else {
        return false;
    }
    let text = line.text.clone();
    state.log(Tone::Success, text, Some(e.session_id));
    true
}

/// Whether the change can move the session's status (so a decision begun before it would
/// be refused). Deliveries leave it as it was.
fn moves_status(e: &ChangeEvent) -> bool {
    match e.kind {
        ChangeKind::Email => false,
        ChangeKind::OpenEdx => e.delivery == Some(Delivery::Changed),
        _ => true,
    }
}

pub fn changed(state: &mut State, e: ChangeEvent) -> Vec<Effect> {
    match e.kind {
        ChangeKind::Resync => {
            let mut effects = refresh(state);
            effects.push(Effect::LoadClaims);
            return effects;
        }
        ChangeKind::Claimed | ChangeKind::Released => return super::presence::heard(state, &e),
        _ => {}
    }
    if let Some(row) = state
        .sessions
        .rows
        .iter_mut()
        .find(|r| r.id == e.session_id)
    {
        row.status = e.status;
    }
    let mine = e.reviewer.is_some() && e.reviewer == state.reviewer;
    let mut effects = Vec::new();
    if !mine && delivered_as_said(state, &e) {
        // The status bar's own line about the decision now says it was delivered.
    } else if !mine {
        let (tone, said) = news(&e).unwrap_or_else(|| (Tone::Info, sentence(&e)));
        if let Some(d) = state
            .dialog
            .as_mut()
            .filter(|d| d.session == e.session_id && moves_status(&e))
        {
            // A first opinion or an overturn leaves the status as it was: a decision would
            // go through, but as another step than the dialog says.
            let then = match e.kind {
                ChangeKind::FirstOpinion | ChangeKind::Overturned => {
                    "yours would now be another step than this says"
                }
                _ => "a decision now would be refused",
            };
            d.error = Some(format!("{said}: Esc, then look again — {then}"));
        }
        // A running undo countdown keeps the status bar; the log has every change.
        if state.undo.as_ref().is_some_and(|o| o.live(state.now)) {
            state.log(tone, said, Some(e.session_id));
        } else {
            state.say_about(e.session_id, tone, said);
        }
        if state.detail.session == Some(e.session_id) {
            let request = state.request_id();
            state.detail.request = Some(request);
            effects.push(Effect::LoadDetail {
                request,
                session: e.session_id,
            });
        }
    }
    // One Quiz List request at a time: a burst of changes costs one reload.
    if state.quizzes.request.is_none() && moves_status(&e) {
        effects.extend(refresh_counts(state));
    }
    effects.extend(super::team::changed(state));
    effects
}

/// The live stream is tried again at `at`: the status bar counts down to it.
pub fn reconnecting(state: &mut State, at: time::OffsetDateTime) -> Vec<Effect> {
    state.live_retry = Some(at);
    super::undo::keep_time(state)
}

/// Whether a failed load is only the server being away while the live stream reconnects:
/// the status bar already says so, and the screen keeps what it had.
pub fn away(state: &State, e: &crate::client::ClientError) -> bool {
    use crate::client::ClientError as E;
    state.live == Some(false) && matches!(e, E::Unreachable { .. } | E::Timeout)
}

/// The live stream came up or went down. Down: refresh now (and at every reconnect
/// attempt), so the screen never goes stale for long.
pub fn connection(state: &mut State, up: bool) -> Vec<Effect> {
    let was = state.live.replace(up);
    match (was, up) {
        // Claims are read once the stream is up, so none taken in between is missed.
        (None, true) => vec![Effect::LoadClaims],
        (Some(false), true) => {
            state.live_retry = None;
            state.say(Tone::Info, "Live updates are back.");
            vec![Effect::LoadClaims]
        }
        // Never connected: the first loads say what is wrong.
        (None, false) => vec![],
        (Some(was_up), false) => {
            if was_up {
                state.say(
                    Tone::Error,
                    "Lost the server: the screen keeps what it had and reconnects by itself.",
                );
            }
            let mut effects = refresh_counts(state);
            if state.sessions.request.is_none() {
                effects.extend(reload_sessions(state));
            }
            effects
        }
        _ => vec![],
    }
}
