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

/// Keeps the countdown going while there is something to undo.
pub fn tick(state: &mut State, now: OffsetDateTime) -> Vec<Effect> {
    state.now = Some(now);
    match &state.undo {
        Some(o) if o.live(state.now) => vec![Effect::Tick { delay_ms: 1000 }],
        Some(o) if o.request.is_some() => vec![],
        Some(_) => {
            state.undo = None;
            vec![]
        }
        None => vec![],
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
