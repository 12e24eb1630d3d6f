//! Answers from the server. Each carries the id of the request it answers; an answer to a
//! request that has since been superseded is dropped, so it can never land on the wrong row.

use super::navigate::follow_cursor;
use crate::api::Page;
use crate::client::ClientError;
use crate::console::action::Effect;
use crate::console::state::{Fetch, Listing, Pane, Place, RequestId, SavedPane, State, Tone};
use crate::domain::{CourseSummary, SessionDetail, SessionRow};

pub fn courses(
    state: &mut State,
    request: RequestId,
    result: Result<Vec<CourseSummary>, ClientError>,
) -> Vec<Effect> {
    if state.quizzes.request != Some(request) {
        return vec![];
    }
    state.quizzes.request = None;
    let first = state.quizzes.courses.is_empty();
    match result {
        Ok(courses) => {
            state.quizzes.courses = courses;
            state.quizzes.error = None;
            state.quizzes.cursor = if first {
                state.quizzes.first_with_work()
            } else {
                state
                    .quizzes
                    .cursor
                    .min(state.quizzes.entry_count().saturating_sub(1))
            };
            // Keep the open exam's counts in step with the list.
            if let Some(Listing::Exam(open)) = state.sessions.listing.as_mut()
                && let Some(fresh) = state.quizzes.exams().find(|e| e.exam.id == open.exam.id)
            {
                *open = fresh.clone();
            }
            say_if_empty(state);
            if first {
                if let Some(place) = state.resume.take() {
                    return resume(state, place);
                }
                return super::navigate::preview_selected(state);
            }
        }
        Err(e) => {
            if super::live::away(state, &e) {
                return vec![];
            }
            state.quizzes.error = Some(e.to_string());
            state.say(Tone::Error, format!("Could not load the quiz list: {e}"));
        }
    }
    vec![]
}

pub fn sessions(
    state: &mut State,
    request: RequestId,
    result: Result<Page<SessionRow>, ClientError>,
) -> Vec<Effect> {
    if state.sessions.request != Some(request) {
        return vec![];
    }
    state.sessions.request = None;
    let page = match result {
        Ok(page) => page,
        Err(e) if super::live::away(state, &e) => return vec![],
        Err(e) => {
            state.sessions.error = Some(e.to_string());
            state.say(Tone::Error, format!("Could not load sessions: {e}"));
            return vec![];
        }
    };
    let p = &mut state.sessions;
    p.error = None;
    p.total = page.total;
    p.at_least = page.at_least;
    match p.fetch {
        Fetch::Last => {
            // `G`: the last page is the window now, the cursor on its last row.
            p.base = page.offset;
            p.rows = page.items;
            p.cursor = p.rows.len().saturating_sub(1);
            p.prev = page.prev;
            p.next = page.next;
        }
        Fetch::First => {
            // A fresh list: stay on the same session if it is still there.
            let keep = p.selected().map(|r| r.id).or(state.resume_session.take());
            p.base = 0;
            p.rows = page.items;
            p.cursor = keep
                .and_then(|id| p.rows.iter().position(|r| r.id == id))
                .unwrap_or(0);
            p.prev = None;
            p.next = page.next;
        }
        Fetch::After => {
            p.rows.extend(page.items);
            p.next = page.next;
        }
        Fetch::Before => {
            // The page before the window: the cursor stays on its row.
            p.cursor += page.items.len();
            p.base = page.offset;
            p.rows.splice(0..0, page.items);
            p.prev = page.prev;
        }
    }
    follow_cursor(state)
}

/// Opens the list the reviewer left, as they left it; an exam they can no longer see leaves
/// them on the first screen.
fn resume(state: &mut State, place: Place) -> Vec<Effect> {
    let listing = match place.exam {
        None => Some(Listing::Queue),
        Some(id) => state
            .quizzes
            .exams()
            .find(|e| e.exam.id == id)
            .cloned()
            .map(Listing::Exam),
    };
    let Some(i) = listing.and_then(|l| state.quizzes.position(&l)) else {
        return super::navigate::preview_selected(state);
    };
    state.quizzes.cursor = i;
    let p = &mut state.sessions;
    // Opening the first list swaps in the queue's own order (see preview_selected).
    if place.exam.is_none() {
        p.other_order = (place.sort, place.desc);
    } else {
        (p.sort, p.desc) = (place.sort, place.desc);
    }
    p.attention_only = place.attention_only;
    p.search = tui_input::Input::new(place.search);
    state.resume_session = place.session;
    state.focus = match place.focus {
        SavedPane::QuizList => Pane::Quizzes,
        SavedPane::Sessions => Pane::Sessions,
        SavedPane::Detail => Pane::Detail,
    };
    super::navigate::preview_selected(state)
}

pub fn detail(
    state: &mut State,
    request: RequestId,
    result: Result<SessionDetail, ClientError>,
) -> Vec<Effect> {
    if state.detail.request != Some(request) {
        return vec![];
    }
    state.detail.request = None;
    match result {
        Ok(d) => {
            patch_row(state, &d);
            state.detail.error = None;
            let id = d.row.id;
            state.detail.data = Some(d);
            // A Pass or Fail pressed while it loaded, still on the same session.
            if let Some((wanted, verdict)) = state.detail.wanted_verdict.take()
                && wanted == id
                && state.sessions.selected().is_some_and(|r| r.id == id)
                && state.dialog.is_none()
            {
                return super::decide::open_confirm(state, verdict);
            }
        }
        Err(e) if super::live::away(state, &e) => {}
        Err(e) => {
            state.detail.error = Some(e.to_string());
            state.say(Tone::Error, format!("Could not load the session: {e}"));
        }
    }
    vec![]
}

/// Brings the list row of a session in line with its freshly loaded detail.
pub fn patch_row(state: &mut State, d: &SessionDetail) {
    if let Some(row) = state.sessions.rows.iter_mut().find(|r| r.id == d.row.id) {
        *row = d.row.clone();
    }
}

/// An empty Quiz List, said in words that fit the reviewer: nothing granted to them yet, or
/// nothing on the server yet.
pub(super) fn say_if_empty(state: &mut State) {
    if state.quizzes.request.is_some() || state.quizzes.exam_count() > 0 || state.reviewer.is_none()
    {
        return;
    }
    if state.no_grants {
        state.say(
            Tone::Info,
            "You have no courses on this server yet (an admin grants them with \
             `proctor-review reviewer grant --username YOU --course COURSE_ID`).",
        );
    } else {
        state.say(Tone::Info, "The server has no proctored exams yet.");
    }
}
