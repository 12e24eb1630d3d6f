//! `u`: taking back the last Pass or Fail while its grace period runs. The server holds
//! the learner email and the Open edX callback until then, so an undone decision reaches
//! nobody; the status bar counts down.

use super::decide::refresh_counts;
use super::loaded::patch_row;
use crate::client::ClientError;
use crate::console::action::Effect;
use crate::console::state::{RequestId, State, Tone};
use crate::domain::SessionDetail;
use time::OffsetDateTime;

pub fn start(state: &mut State) -> Vec<Effect> {
    let now = state.now;
    let Some(offer) = state.undo.as_mut().filter(|o| o.live(now)) else {
        state.undo = None;
        state.say(
            Tone::Info,
            "Nothing to undo: once its countdown ends, the way back is a new decision.",
        );
        return vec![];
    };
    if offer.request.is_some() {
        return vec![];
    }
    let session = offer.session;
    let text = format!("Undoing the {} of {}…", offer.verdict.word(), offer.learner);
    let request = state.request_id();
    if let Some(o) = state.undo.as_mut() {
        o.request = Some(request);
    }
    state.say(Tone::Info, text);
    vec![Effect::Undo { request, session }]
}

/// Starts the clock for a countdown, unless it already runs: one `Tick` chain at a time.
pub fn keep_time(state: &mut State) -> Vec<Effect> {
    if std::mem::replace(&mut state.ticking, true) {
        vec![]
    } else {
        vec![Effect::Tick { delay_ms: 0 }]
    }
}

/// Keeps the clock going while a countdown runs: a decision to undo, or a reconnection.
pub fn tick(state: &mut State, now: OffsetDateTime) -> Vec<Effect> {
    state.now = Some(now);
    let undo = match &state.undo {
        Some(o) if o.live(state.now) => true,
        Some(o) if o.request.is_some() => false,
        Some(_) => {
            state.undo = None;
            false
        }
        None => false,
    };
    let reconnect = state.live == Some(false) && state.live_retry.is_some_and(|at| at > now);
    state.ticking = undo || reconnect;
    if state.ticking {
        vec![Effect::Tick { delay_ms: 1000 }]
    } else {
        vec![]
    }
}

pub fn undone(
    state: &mut State,
    request: RequestId,
    result: Result<SessionDetail, ClientError>,
) -> Vec<Effect> {
    let Some(offer) = state.undo.take_if(|o| o.request == Some(request)) else {
        return vec![];
    };
    match result {
        Ok(d) => {
            state.say(
                Tone::Success,
                format!(
                    "↶ Undid the {} of {}: nobody was told; the session is back to {}",
                    offer.verdict.word(),
                    d.row.learner.full_name,
                    d.row.status.label()
                ),
            );
            patch_row(state, &d);
            if state.detail.session == Some(d.row.id) {
                state.detail.data = Some(d);
            }
            refresh_counts(state)
        }
        Err(e) => {
            state.say(Tone::Error, format!("Not undone: {e}"));
            vec![]
        }
    }
}
