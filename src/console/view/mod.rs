//! `view(&State, &mut Frame)`: pure drawing. It reads the state, builds only what is
//! visible, and never waits on anything.

mod bars;
mod detail;
pub use detail::line_count as detail_line_count;
pub mod format;
mod overlays;
mod quizzes;
mod sessions;

use super::state::{Pane, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

pub fn view(state: &State, frame: &mut Frame) {
    let [title, main, hints, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    bars::title(state, frame, title);
    if state.wide() {
        let [q, s, d] = Layout::horizontal([
            Constraint::Length(main.width * 9 / 40),
            Constraint::Fill(11),
            Constraint::Fill(9),
        ])
        .areas(main);
        quizzes::draw(state, frame, q);
        sessions::draw(state, frame, s);
        detail::draw(state, frame, d);
    } else {
        match state.focus {
            Pane::Quizzes => quizzes::draw(state, frame, main),
            Pane::Sessions => sessions::draw(state, frame, main),
            Pane::Detail => detail::draw(state, frame, main),
        }
    }
    bars::hints(state, frame, hints);
    bars::status(state, frame, status);
    if let Some(d) = &state.dialog {
        overlays::confirm(state, d, frame, main);
    }
    if let Some(scroll) = state.help {
        overlays::help(state, scroll, frame, main);
    }
}

/// A pane's frame: the focused one has a heavy border and a ● before its title.
fn pane_block<'a>(state: &State, pane: Pane, title: Line<'a>) -> Block<'a> {
    let focused = state.focus == pane && state.dialog.is_none() && state.help.is_none();
    let mut spans = vec![Span::raw(if focused { " ● " } else { " " })];
    spans.extend(title.spans);
    spans.push(Span::raw(" "));
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(state.theme.border(focused))
        .title(Line::from(spans).style(if focused {
            state.theme.heading()
        } else {
            Style::new()
        }))
}

/// A rectangle of at most `w`×`h` in the middle of `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The first row to draw so that `cursor` stays on screen, roughly centred.
fn window_start(cursor: usize, len: usize, height: usize) -> usize {
    if len <= height {
        return 0;
    }
    cursor.saturating_sub(height / 2).min(len - height)
}

#[cfg(test)]
mod tests;
