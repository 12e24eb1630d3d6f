//! Moving between panes and rows, and what loading that implies.

use crate::api::SessionQuery;
use crate::console::action::Effect;
use crate::console::action::ListId;
use crate::console::state::{Fetch, Listing, Pane, State};
use crate::domain::words::Word;
use crate::domain::{AttemptStatus, ExamSummary};

/// Rows fetched per page of the Sessions list.
pub const PAGE: u32 = 200;
/// Fetch the next page when the cursor comes this close to the last loaded row.
const LOAD_AHEAD: usize = 50;

/// The first page of the list as it is filtered and sorted now.
pub fn sessions_query(state: &State) -> SessionQuery {
    sessions_page(state, Fetch::First)
}

fn sessions_page(state: &State, fetch: Fetch) -> SessionQuery {
    let p = &state.sessions;
    let cursor = |c: &Option<String>| c.clone().unwrap_or_default();
    SessionQuery {
        limit: PAGE,
        after: if fetch == Fetch::After {
            cursor(&p.next)
        } else {
            String::new()
        },
        before: if fetch == Fetch::Before {
            cursor(&p.prev)
        } else {
            String::new()
        },
        last: fetch == Fetch::Last,
        status: if p.attention_only {
            AttemptStatus::SecondReviewRequired.as_str().into()
        } else {
            String::new()
        },
        q: p.search.value().trim().to_owned(),
        sort: p.sort,
        desc: p.desc,
        ..SessionQuery::default()
    }
}

/// Rows one page-key moves: about one screen of the list.
pub fn page(state: &State) -> isize {
    (state.height.saturating_sub(8).max(1)) as isize
}

/// `cursor` moved by `delta`, kept within a list of `len`.
pub fn clamp_move(cursor: usize, delta: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (cursor as isize)
        .saturating_add(delta)
        .clamp(0, len as isize - 1) as usize
}

pub fn move_by(state: &mut State, delta: isize) -> Vec<Effect> {
    match state.focus {
        Pane::Quizzes => {
            state.quizzes.cursor =
                clamp_move(state.quizzes.cursor, delta, state.quizzes.entry_count());
            preview_selected(state)
        }
        Pane::Sessions => {
            state.sessions.cursor =
                clamp_move(state.sessions.cursor, delta, state.sessions.rows.len());
            follow_cursor(state)
        }
        Pane::Detail => super::detail::move_in(state, delta),
    }
}

/// Keeps the detail pane on the session under the cursor, and fetches more rows near the end.
pub fn follow_cursor(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    let selected = state.sessions.selected().map(|r| r.id);
    if selected != state.detail.session {
        state.detail.session = selected;
        state.detail.scroll = 0;
        state.detail.picks = Default::default();
        state.detail.error = None;
        state.detail.request = None;
        if let Some(session) = selected {
            let request = state.request_id();
            state.detail.request = Some(request);
            effects.push(Effect::LoadDetail { request, session });
        }
    }
    let p = &state.sessions;
    if p.request.is_none() && p.next.is_some() && p.cursor + LOAD_AHEAD >= p.rows.len() {
        effects.extend(load_page(state, Fetch::After));
    } else if p.request.is_none() && p.prev.is_some() && p.cursor < LOAD_AHEAD {
        // Above a window reached by `G`: the page before it.
        effects.extend(load_page(state, Fetch::Before));
    }
    effects
}

/// `g`: the first row; the first page is loaded again if the window starts further down.
pub fn top(state: &mut State) -> Vec<Effect> {
    if state.focus == Pane::Sessions && state.sessions.prev.is_some() {
        state.sessions.cursor = 0;
        return reload_sessions(state);
    }
    move_by(state, isize::MIN / 2)
}

/// `G`: the true last row in one press: the last page is read from the end of the index.
pub fn bottom(state: &mut State) -> Vec<Effect> {
    if state.focus == Pane::Sessions && state.sessions.next.is_some() {
        return load_page(state, Fetch::Last);
    }
    move_by(state, isize::MAX / 2)
}

fn load_page(state: &mut State, fetch: Fetch) -> Vec<Effect> {
    let list = match &state.sessions.listing {
        None => return vec![],
        Some(Listing::Queue) => ListId::Queue,
        Some(Listing::Exam(e)) => ListId::Exam(e.exam.id),
    };
    let request = state.request_id();
    state.sessions.request = Some(request);
    state.sessions.fetch = fetch;
    vec![Effect::LoadSessions {
        request,
        list,
        query: sessions_page(state, fetch),
    }]
}

/// Reloads the list from the top after the query changed. Answers to earlier queries are
/// then stale and will be dropped.
pub fn reload_sessions(state: &mut State) -> Vec<Effect> {
    state.sessions.error = None;
    load_page(state, Fetch::First)
}

/// Shows the Quiz List entry under the cursor in the Sessions pane, focus staying put, so
/// moving over the list previews each exam and Enter only moves into it.
pub fn preview_selected(state: &mut State) -> Vec<Effect> {
    let Some(listing) = state.quizzes.selected() else {
        return vec![];
    };
    let same = state
        .sessions
        .listing
        .as_ref()
        .is_some_and(|l| l.same(&listing));
    if same && state.sessions.error.is_none() {
        return vec![];
    }
    // The queue and the exams keep an order each: the queue is worked from its head
    // (oldest waiting first), an exam is read newest first unless the reviewer chose.
    let p = &mut state.sessions;
    if p.is_queue() != (listing == Listing::Queue) {
        let other = p.other_order;
        p.other_order = (p.sort, p.desc);
        (p.sort, p.desc) = other;
    }
    // A search belongs to the list it was made in: another list starts unfiltered (a
    // resumed search is set before the first list opens, so it stays there).
    if p.listing.is_some() {
        p.search = tui_input::Input::default();
        p.searching = false;
    }
    state.sessions.listing = Some(listing);
    state.sessions.rows.clear();
    state.sessions.base = 0;
    state.sessions.total = 0;
    state.sessions.cursor = 0;
    state.detail = Default::default();
    reload_sessions(state)
}

/// Opens `exam` from anywhere: the Quiz List cursor moves onto it, its sessions load.
pub fn go_to_exam(state: &mut State, exam: ExamSummary) -> Vec<Effect> {
    let listing = Listing::Exam(exam);
    if let Some(i) = state.quizzes.position(&listing) {
        state.quizzes.cursor = i;
    }
    let effects = preview_selected(state);
    state.focus = Pane::Sessions;
    effects
}

pub fn open(state: &mut State) -> Vec<Effect> {
    match state.focus {
        Pane::Quizzes => {
            if state.quizzes.selected().is_none() {
                return vec![];
            }
            let effects = preview_selected(state);
            state.focus = Pane::Sessions;
            effects
        }
        Pane::Sessions if state.sessions.selected().is_some() => {
            state.focus = Pane::Detail;
            vec![]
        }
        _ => vec![],
    }
}

pub fn back(state: &mut State) -> Vec<Effect> {
    state.focus = match state.focus {
        Pane::Detail => Pane::Sessions,
        _ => Pane::Quizzes,
    };
    vec![]
}

pub fn cycle_pane(state: &mut State, forward: bool) -> Vec<Effect> {
    let mut panes = vec![Pane::Quizzes];
    if state.sessions.listing.is_some() {
        panes.push(Pane::Sessions);
        if state.sessions.selected().is_some() {
            panes.push(Pane::Detail);
        }
    }
    let i = panes.iter().position(|p| *p == state.focus).unwrap_or(0);
    let n = panes.len();
    state.focus = panes[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }];
    vec![]
}

pub fn refresh(state: &mut State) -> Vec<Effect> {
    let request = state.request_id();
    state.quizzes.request = Some(request);
    let mut effects = vec![Effect::LoadCourses { request }];
    effects.extend(reload_sessions(state));
    // A failed preview is tried again too.
    state.detail.preview = None;
    if let Some(session) = state.detail.session {
        let request = state.request_id();
        state.detail.request = Some(request);
        effects.push(Effect::LoadDetail { request, session });
    }
    effects
}
