//! Changes other reviewers make, as they happen: rows and counts are patched, the open
//! session is reloaded and said to have changed before the reviewer presses a key. While
//! the live stream is down the console refreshes by itself at each reconnect attempt.

use super::decide::refresh_counts;
use super::navigate::{refresh, reload_sessions};
use crate::api::{ChangeEvent, ChangeKind};
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
        _ => format!("changed ({})", e.status.label()),
    };
    format!("{who} {did} {} just now", e.learner)
}

pub fn changed(state: &mut State, e: ChangeEvent) -> Vec<Effect> {
    if e.kind == ChangeKind::Resync {
        return refresh(state);
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
    if !mine {
        let said = sentence(&e);
        if let Some(d) = state.dialog.as_mut().filter(|d| d.session == e.session_id) {
            d.error = Some(format!(
                "{said}: Esc, then look again — a decision now would be refused"
            ));
        }
        // A running undo countdown keeps the status bar; the log has every change.
        if state.undo.as_ref().is_some_and(|o| o.live(state.now)) {
            state.log(Tone::Info, said, Some(e.session_id));
        } else {
            state.say_about(e.session_id, Tone::Info, said);
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
    if state.quizzes.request.is_none() {
        effects.extend(refresh_counts(state));
    }
    effects
}

/// The live stream came up or went down. Down: refresh now (and at every reconnect
/// attempt), so the screen never goes stale for long.
pub fn connection(state: &mut State, up: bool) -> Vec<Effect> {
    let was = state.live.replace(up);
    match (was, up) {
        (Some(false), true) => {
            state.say(Tone::Info, "Live updates are back.");
            vec![]
        }
        // Never connected: the first loads say what is wrong.
        (None, false) => vec![],
        (Some(was_up), false) => {
            if was_up {
                state.say(
                    Tone::Error,
                    "Live updates dropped; refreshing by itself until they are back.",
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
