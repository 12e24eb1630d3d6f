//! Mouse, when the reviewer turned it on (`--mouse`): click to select or open, wheel to
//! scroll. Clicks are found with the same geometry the view draws with. A decision is never
//! taken by mouse: the confirmation wants the keyboard.

use super::navigate;
use crate::console::action::Effect;
use crate::console::layout::{self, QuizLine};
use crate::console::state::{Pane, State};
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

const WHEEL_ROWS: isize = 3;

pub fn on_mouse(state: &mut State, m: MouseEvent) -> Vec<Effect> {
    if state.dialog.is_some() {
        return vec![];
    }
    let at = Position::new(m.column, m.row);
    if state.overlay.is_some() {
        match m.kind {
            MouseEventKind::ScrollDown => super::scroll_overlay(state, WHEEL_ROWS as i32),
            MouseEventKind::ScrollUp => super::scroll_overlay(state, -WHEEL_ROWS as i32),
            MouseEventKind::Down(_) => state.overlay = None,
            _ => {}
        }
        return vec![];
    }
    if let MouseEventKind::Down(_) = m.kind {
        // A click is the reviewer's next action: the last one's message has had its turn.
        state.status = None;
    }
    let main = layout::bars(layout::screen(state)).main;
    let Some((pane, area)) = layout::panes(state, main)
        .into_iter()
        .find(|(_, r)| r.contains(at))
    else {
        return vec![];
    };
    match m.kind {
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let delta = if m.kind == MouseEventKind::ScrollDown {
                WHEEL_ROWS
            } else {
                -WHEEL_ROWS
            };
            if pane == Pane::Sessions && state.sessions.listing.is_none() {
                return vec![];
            }
            state.focus = pane;
            navigate::move_by(state, delta)
        }
        MouseEventKind::Down(MouseButton::Left) => click(state, pane, area, at),
        _ => vec![],
    }
}

fn click(state: &mut State, pane: Pane, area: Rect, at: Position) -> Vec<Effect> {
    match pane {
        Pane::Quizzes => {
            let lines = layout::quiz_lines(state);
            let (list, start) = layout::quiz_window(state, area, &lines);
            if !list.contains(at) {
                state.focus = Pane::Quizzes;
                return vec![];
            }
            let line = start + usize::from(at.y - list.y);
            let exam = match lines.get(line) {
                Some(QuizLine::Queue) => Some(0),
                Some(QuizLine::Exam(i, ..)) => Some(*i),
                // The counts belong to the exam above them.
                Some(QuizLine::Counts(i, ..)) => Some(*i),
                _ => None,
            };
            state.focus = Pane::Quizzes;
            match exam {
                Some(i) => {
                    state.quizzes.cursor = i;
                    navigate::open(state)
                }
                None => vec![],
            }
        }
        Pane::Sessions => {
            if state.sessions.listing.is_none() {
                return vec![];
            }
            let (_, rows, start) = layout::sessions_table(state, area);
            state.focus = Pane::Sessions;
            if !rows.contains(at) {
                return vec![];
            }
            let i = start + usize::from(at.y - rows.y);
            if i >= state.sessions.rows.len() {
                return vec![];
            }
            // A click on the row already selected opens it, as Enter would.
            if i == state.sessions.cursor {
                return navigate::open(state);
            }
            state.sessions.cursor = i;
            navigate::follow_cursor(state)
        }
        Pane::Detail => {
            if state.sessions.selected().is_some() {
                state.focus = Pane::Detail;
            }
            vec![]
        }
    }
}
