//! Playing a flagged moment inline (`Space`), stepping and seeking through it, its speed,
//! and the zoom that gives it (or the previewed image) the whole terminal. The stills come
//! from the runner fitted to the cells they are drawn in; the playback follows the
//! selection, so choosing another row stops it and drops its stills.

use super::super::action::Effect;
use super::super::evidence;
use super::super::layout;
use super::super::playback::Playback;
use super::super::state::{PreviewImage, RequestId, State, Tone};
use std::time::Instant;

/// `Space`: pauses or plays on what is playing, else plays the selected row's moment.
pub fn play_pause(state: &mut State) -> Vec<Effect> {
    let here = (state.detail.session, state.detail.tab, state.detail.pick());
    if let Some(p) = state.detail.play.as_mut()
        && (Some(p.session), p.tab, p.pick) == here
    {
        p.toggle();
        return tick_now(p);
    }
    start(state)
}

fn start(state: &mut State) -> Vec<Effect> {
    let (tab, pick) = (state.detail.tab, state.detail.pick());
    let Some((session, target)) = state
        .detail
        .current()
        .map(|d| (d.row.id, evidence::play_target(d, tab, pick)))
    else {
        return vec![];
    };
    let Some(clip) = target else {
        let o = state
            .keys
            .key_for(super::super::keymap::Command::OpenEvidence);
        state.say(
            Tone::Info,
            format!("Nothing to play on this row: choose a violation or a video segment ({o} opens what there is)"),
        );
        return vec![];
    };
    if !state.images {
        state.say(
            Tone::Info,
            "Images are off in this console (--images off), so nothing plays here",
        );
        return vec![];
    }
    state.detail.plays += 1;
    state.detail.play = Some(Playback::new(session, tab, pick, clip, state.detail.plays));
    sync(state)
}

/// Starts a new tick chain (the one before it ends at its next tick).
fn tick_now(p: &mut Playback) -> Vec<Effect> {
    if p.playing && !p.frames.is_empty() {
        p.ticket += 1;
        vec![Effect::PlayTick {
            generation: p.generation,
            ticket: p.ticket,
            delay_ms: 0,
        }]
    } else {
        vec![]
    }
}

/// After every update: stops a playback whose row is no longer selected, and asks for
/// its stills again when the room it is drawn in changed size.
pub fn sync(state: &mut State) -> Vec<Effect> {
    let here = (state.detail.session, state.detail.tab, state.detail.pick());
    let stage = layout::play_stage(state).map(|r| (r.width, r.height));
    let loaded = state.detail.current().is_some();
    let Some(p) = state.detail.play.as_mut() else {
        return vec![];
    };
    let stays = (Some(p.session), p.tab, p.pick) == here
        && loaded
        && stage.is_some_and(|(w, h)| w >= 4 && h >= 2);
    if !stays {
        state.detail.play = None;
        state.detail.zoomed = false;
        return vec![];
    }
    let Some(size) = stage.filter(|s| *s != p.size) else {
        return vec![];
    };
    let request = state.request_id();
    let Some(p) = state.detail.play.as_mut() else {
        return vec![];
    };
    p.size = size;
    p.request = Some(request);
    vec![Effect::LoadFrames {
        request,
        media: p.clip.media,
        from_ms: p.clip.span.start,
        to_ms: p.clip.span.end,
        cols: size.0,
        rows: size.1,
    }]
}

pub fn loaded(
    state: &mut State,
    request: RequestId,
    result: Result<Vec<(u64, PreviewImage)>, String>,
    done: bool,
) -> Vec<Effect> {
    let Some(p) = state
        .detail
        .play
        .as_mut()
        .filter(|p| p.request == Some(request))
    else {
        return vec![];
    };
    if done {
        p.request = None;
    }
    // Stills fitted to an earlier size are replaced by the first batch of the new ones.
    if p.fitted != Some(request) {
        p.fitted = Some(request);
        p.frames.clear();
    }
    match result {
        Ok(frames) => {
            let first = p.frames.is_empty() && !frames.is_empty();
            p.frames.extend(frames);
            p.error = None;
            if p.frames.is_empty() && done {
                p.error = Some("the server drew no stills for this moment".into());
                return vec![];
            }
            // It was seen: the confirmation says so.
            let session = p.session;
            // The first stills start the clock; later batches (or a refit) join it.
            let effects = if first && p.clock.is_none() {
                tick_now(p)
            } else {
                vec![]
            };
            state.detail.video_opened.insert(session);
            effects
        }
        Err(e) => {
            p.error = Some(e);
            p.request = None;
            vec![]
        }
    }
}

pub fn tick(state: &mut State, generation: u64, ticket: u64, at: Instant) -> Vec<Effect> {
    let Some(p) = state
        .detail
        .play
        .as_mut()
        .filter(|p| p.generation == generation && p.ticket == ticket && p.playing)
    else {
        return vec![];
    };
    p.advance(at);
    if !p.playing {
        return vec![];
    }
    vec![Effect::PlayTick {
        generation,
        ticket,
        delay_ms: p.next_tick_ms(),
    }]
}

/// `→`/`←`, `,`/`.`.
pub fn adjust(state: &mut State, f: impl FnOnce(&mut Playback)) -> Vec<Effect> {
    match state.detail.play.as_mut() {
        Some(p) => {
            f(p);
            tick_now(p)
        }
        None => vec![],
    }
}

/// `z`: the playing moment, or the previewed image, over the whole terminal, or back.
pub fn zoom(state: &mut State) -> Vec<Effect> {
    let image = state
        .detail
        .current()
        .and_then(|d| evidence::preview_target(d, state.detail.tab, state.detail.pick()));
    if !state.detail.zoomed && state.detail.play.is_none() && image.is_none() {
        state.say(Tone::Info, "No image on this row to zoom");
        return vec![];
    }
    state.detail.zoomed = !state.detail.zoomed;
    vec![]
}

/// `Esc`: leaves the zoom first, then stops playing.
pub fn stop(state: &mut State) -> Vec<Effect> {
    if state.detail.zoomed {
        state.detail.zoomed = false;
    } else {
        state.detail.play = None;
    }
    vec![]
}
