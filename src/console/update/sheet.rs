//! The contact sheet (`Enter` in Learner Detail): opening it on the selected recording (or
//! the session's longest), moving over it, jumping between flagged moments, and `Enter` to
//! play from a still.

use super::super::action::Effect;
use super::super::evidence;
use super::super::layout;
use super::super::playback::{Clip, Playback};
use super::super::sheet::{Grid, Sheet};
use super::super::state::{PreviewImage, RequestId, State, Tone};

/// How much `Enter` plays from a still: until the next still but at least this long.
const PLAY_FROM_MS: u64 = 30_000;

pub fn open(state: &mut State) -> Vec<Effect> {
    let (tab, pick) = (state.detail.tab, state.detail.pick());
    let Some(d) = state.detail.current() else {
        return vec![];
    };
    let Some((file, marks)) =
        evidence::sheet_target(d, tab, pick).map(|f| (f.clone(), evidence::marks_in(d, f)))
    else {
        state.say(Tone::Info, "This session has no recording to skim");
        return vec![];
    };
    let session = d.row.id;
    if !state.images {
        state.say(
            Tone::Info,
            "Images are off in this console (--images off): no contact sheet",
        );
        return vec![];
    }
    let start = file.offset_start.unwrap_or(0);
    let length_ms = file
        .offset_end
        .filter(|e| *e > start)
        .map(|e| (e - start) as u64 * 1000);
    state.detail.play = None;
    state.detail.zoomed = false;
    state.detail.sheet = Some(Sheet {
        session,
        tab,
        pick,
        media: file.id,
        file_start_s: start,
        length_ms,
        marks,
        tile: (0, 0),
        request: None,
        stills: Vec::new(),
        error: None,
        cursor: 0,
    });
    sync(state)
}

/// After every update: closes a sheet whose learner or row is gone, and refits its stills
/// when the tiles changed size.
pub fn sync(state: &mut State) -> Vec<Effect> {
    let here = (state.detail.session, state.detail.tab, state.detail.pick());
    let grid = layout::sheet_area(state).and_then(Grid::of);
    let Some(s) = state.detail.sheet.as_mut() else {
        return vec![];
    };
    let Some(grid) = grid.filter(|_| (Some(s.session), s.tab, s.pick) == here) else {
        state.detail.sheet = None;
        return vec![];
    };
    if s.tile == grid.image {
        return vec![];
    }
    let request = state.request_id();
    let Some(s) = state.detail.sheet.as_mut() else {
        return vec![];
    };
    s.tile = grid.image;
    s.request = Some(request);
    vec![Effect::LoadSheet {
        request,
        media: s.media,
        cols: grid.image.0,
        rows: grid.image.1,
    }]
}

pub fn loaded(
    state: &mut State,
    request: RequestId,
    result: Result<Vec<(u64, PreviewImage)>, String>,
) -> Vec<Effect> {
    let Some(s) = state
        .detail
        .sheet
        .as_mut()
        .filter(|s| s.request == Some(request))
    else {
        return vec![];
    };
    s.request = None;
    match result {
        Ok(stills) if stills.is_empty() => {
            s.error = Some("the server drew no stills of this recording".into())
        }
        Ok(stills) => {
            s.cursor = s.cursor.min(stills.len() - 1);
            s.stills = stills;
            s.error = None;
        }
        Err(e) => s.error = Some(e),
    }
    vec![]
}

/// Arrows: a still sideways, a row up or down.
pub fn move_by(state: &mut State, stills: isize, rows: isize) -> Vec<Effect> {
    let cols = layout::sheet_area(state)
        .and_then(Grid::of)
        .map_or(1, |g| g.cols as isize);
    if let Some(s) = state.detail.sheet.as_mut() {
        s.move_by(stills + rows * cols);
    }
    vec![]
}

/// `]`/`[`.
pub fn jump(state: &mut State, forward: bool) -> Vec<Effect> {
    let Some(s) = state.detail.sheet.as_mut() else {
        return vec![];
    };
    if !s.jump(forward) {
        let which = if forward { "after" } else { "before" };
        state.say(Tone::Info, format!("Nothing flagged {which} this still"));
    }
    vec![]
}

/// `Enter`: plays from the selected still (what is flagged there is drawn densely).
pub fn play_from(state: &mut State) -> Vec<Effect> {
    let Some(s) = state.detail.sheet.take() else {
        return vec![];
    };
    let Some((at, _)) = s.stills.get(s.cursor) else {
        state.detail.sheet = Some(s);
        return vec![];
    };
    let end = s.length_ms.unwrap_or(u64::MAX);
    let span = *at..(s.interval(s.cursor).end.max(at + PLAY_FROM_MS)).min(end);
    let clip = Clip {
        media: s.media,
        file_start_s: s.file_start_s,
        span,
        marks: s.marks.clone(),
    };
    state.detail.plays += 1;
    state.detail.play = Some(Playback::new(
        s.session,
        s.tab,
        s.pick,
        clip,
        state.detail.plays,
    ));
    vec![]
}

pub fn close(state: &mut State) -> Vec<Effect> {
    state.detail.sheet = None;
    vec![]
}
