//! Learner Detail: its tabs, the selected row of each list tab, the inline preview that
//! follows the selection, and `o`, which hands evidence to the system's viewer.

use super::navigate::clamp_move;
use crate::console::action::Effect;
use crate::console::detail_text;
use crate::console::evidence;
use crate::console::layout;
use crate::console::state::{Preview, PreviewImage, RequestId, State, Tab, Tone};
use crate::domain::{MediaId, MediaKind, SessionId};

pub fn set_tab(state: &mut State, tab: Tab) -> Vec<Effect> {
    state.detail.tab = tab;
    state.detail.scroll = 0;
    vec![]
}

pub fn cycle_tab(state: &mut State, forward: bool) -> Vec<Effect> {
    let i = state.detail.tab.index();
    let n = Tab::ALL.len();
    set_tab(state, Tab::nth(if forward { i + 1 } else { i + n - 1 }))
}

/// Moves the selection in a list tab, or scrolls a text tab; scrolling stops when the last
/// line is on screen.
pub fn move_in(state: &mut State, delta: isize) -> Vec<Effect> {
    let Some(d) = state.detail.current() else {
        return vec![];
    };
    let tab = state.detail.tab;
    if tab.is_list() {
        let n = evidence::items(d, tab).len();
        let i = tab.index();
        state.detail.picks[i] = clamp_move(state.detail.picks[i], delta, n);
        return vec![];
    }
    let Some(body) = layout::detail_pane(state).map(|p| layout::detail_regions(state, p).body)
    else {
        return vec![];
    };
    let lines = detail_text::text(state, d, tab, body.width).lines.len();
    let last = lines.saturating_sub(body.height as usize);
    state.detail.scroll =
        clamp_move(state.detail.scroll as usize, delta, last + 1).min(u16::MAX as usize) as u16;
    vec![]
}

/// The evidence the selection points at (media, its kind, the session, a fragment), or
/// `None` after saying why there is none.
fn target(state: &mut State) -> Option<(MediaId, MediaKind, SessionId, Option<String>)> {
    let Some(d) = state.detail.current() else {
        state.say(
            Tone::Info,
            "Select a session first; its evidence opens from here.",
        );
        return None;
    };
    let tab = state.detail.tab;
    let Some((media, fragment)) = evidence::open_target(d, tab, state.detail.pick()) else {
        let why = match tab {
            Tab::ExamData | Tab::History => {
                "Nothing to open on this tab: try Video (2), Violations (3), Scans (4) or Onboarding (5)."
            }
            _ => "This row has no video or image to open.",
        };
        state.say(Tone::Info, why);
        return None;
    };
    Some((media.id, media.kind, d.row.id, fragment))
}

pub fn open(state: &mut State) -> Vec<Effect> {
    let Some((media, kind, session, fragment)) = target(state) else {
        return vec![];
    };
    let request = state.request_id();
    state.detail.opening = Some(request);
    state.say(
        Tone::Info,
        format!("Opening the {}…", kind.label().to_lowercase()),
    );
    vec![Effect::Open {
        request,
        session,
        media,
        kind,
        fragment,
    }]
}

pub fn opened(
    state: &mut State,
    request: RequestId,
    session: SessionId,
    kind: MediaKind,
    result: Result<(), String>,
) -> Vec<Effect> {
    if state.detail.opening == Some(request) {
        state.detail.opening = None;
    }
    match result {
        Ok(()) => {
            if kind.is_video() {
                state.detail.video_opened.insert(session);
            }
            state.say(
                Tone::Success,
                format!(
                    "Opened the {} in your viewer (its link expires in a few minutes)",
                    kind.label().to_lowercase()
                ),
            );
        }
        Err(e) => {
            use crate::console::keymap::Command as C;
            let y = state.keys.key_for(C::CopyLink);
            // A video plays in the terminal; the keys first: a narrow status bar cuts the end.
            let keys = if kind.is_video() {
                format!(
                    "{} plays it here, {y} copies its link",
                    state.keys.key_for(C::PlayPause)
                )
            } else {
                format!(
                    "{} zooms it here, {y} copies its link",
                    state.keys.key_for(C::Zoom)
                )
            };
            state.say(Tone::Error, format!("Could not open it ({keys}): {e}"));
        }
    }
    vec![]
}

pub fn copy_link(state: &mut State) -> Vec<Effect> {
    let Some((media, kind, _, fragment)) = target(state) else {
        return vec![];
    };
    let request = state.request_id();
    state.detail.linking = Some(request);
    vec![Effect::LinkFor {
        request,
        media,
        kind,
        fragment,
    }]
}

pub fn link_ready(
    state: &mut State,
    request: RequestId,
    kind: MediaKind,
    result: Result<String, String>,
) -> Vec<Effect> {
    // Only the newest ask is answered: an older link would copy the wrong evidence.
    if state.detail.linking != Some(request) {
        return vec![];
    }
    state.detail.linking = None;
    match result {
        Ok(url) => {
            // The log keeps the link for a terminal that ignores clipboard requests.
            state.log(Tone::Info, url.clone(), None);
            state.say(
                Tone::Success,
                format!(
                    "Copied a link to the {} (expires in a few minutes; also in the log, m)",
                    kind.label().to_lowercase()
                ),
            );
            vec![Effect::Clipboard(url)]
        }
        Err(e) => {
            state.say(Tone::Error, format!("Could not make a link: {e}"));
            vec![]
        }
    }
}

pub fn preview_loaded(
    state: &mut State,
    request: RequestId,
    result: Result<PreviewImage, String>,
) -> Vec<Effect> {
    let Some(p) = state
        .detail
        .preview
        .as_mut()
        .filter(|p| p.request == Some(request))
    else {
        return vec![];
    };
    p.request = None;
    match result {
        Ok(image) => p.image = Some(image),
        Err(e) => p.error = Some(e),
    }
    vec![]
}

/// The image the preview should show now, and at what size: it follows the selection, the
/// tab and the terminal size, on whatever action changed them.
fn wanted(state: &State) -> Option<(i64, (u16, u16))> {
    if !state.images {
        return None;
    }
    let area = if state.detail.zoomed {
        // The whole terminal but the caption's line.
        ratatui::layout::Rect::new(0, 1, state.width, state.height.saturating_sub(1))
    } else {
        let pane = layout::detail_pane(state)?;
        let region = layout::detail_regions(state, pane).preview?;
        layout::preview_image(region)
    };
    if area.width < 4 || area.height < 2 {
        return None;
    }
    let d = state.detail.current()?;
    let m = evidence::preview_target(d, state.detail.tab, state.detail.pick())?;
    Some((m.id, (area.width, area.height)))
}

pub fn sync_preview(state: &mut State) -> Vec<Effect> {
    let Some((media, size)) = wanted(state) else {
        state.detail.preview = None;
        // A zoomed image whose row is gone leaves the zoom with it.
        if state.detail.play.is_none() {
            state.detail.zoomed = false;
        }
        return vec![];
    };
    if state
        .detail
        .preview
        .as_ref()
        .is_some_and(|p| p.media == media && p.size == size)
    {
        return vec![];
    }
    let request = state.request_id();
    state.detail.preview = Some(Preview {
        media,
        size,
        request: Some(request),
        image: None,
        error: None,
    });
    vec![Effect::LoadPreview {
        request,
        media,
        cols: size.0,
        rows: size.1,
    }]
}
