//! `view(&State, &mut Frame)`: pure drawing. It reads the state, builds only what is
//! visible, and never waits on anything.

mod bars;
mod detail;

mod overlays;
mod play;
mod quizzes;
mod reports;
mod sessions;
mod sheet;
mod team;

use super::format;
use super::layout;
use super::state::{Listing, Overlay, Pane, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

pub fn view(state: &State, frame: &mut Frame) {
    let bars = layout::bars(frame.area());
    bars::title(state, frame, bars.title);
    if let Some(why) = &state.access_lost {
        access_lost(state, why, frame, bars.main);
        return;
    }
    for (pane, area) in layout::panes(state, bars.main) {
        match pane {
            Pane::Quizzes => quizzes::draw(state, frame, area),
            Pane::Sessions => sessions::draw(state, frame, area),
            Pane::Detail => detail::draw(state, frame, area),
        }
    }
    bars::hints(state, frame, bars.hints);
    bars::status(state, frame, bars.status);
    if let Some(d) = &state.dialog {
        overlays::confirm(state, d, frame, bars.main);
    }
    if let Some(r) = &state.reports {
        reports::draw(state, r, frame, bars.main);
    }
    match state.overlay {
        Some((Overlay::Keys, scroll)) => overlays::help(state, scroll, frame, bars.main),
        Some((Overlay::Messages, scroll)) => overlays::messages(state, scroll, frame, bars.main),
        Some((Overlay::Team, _)) => {
            if let Some(view) = &state.team {
                team::draw(state, view, frame, bars.main);
            }
        }
        None => {}
    }
    if state.detail.zoomed {
        play::zoom(state, frame);
    }
}

/// A pane's frame: the focused one has a heavy border and a ● before its title.
fn pane_block<'a>(state: &State, pane: Pane, title: Line<'a>) -> Block<'a> {
    let focused = state.focus == pane && state.dialog.is_none() && state.overlay.is_none();
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

#[cfg(test)]
mod tests;

/// What the Sessions pane lists, as its title and the breadcrumb say it.
fn listing_title(l: &Listing) -> String {
    match l {
        Listing::Queue => "All exams — Require Attention".to_owned(),
        Listing::Exam(e) => format::safe(&e.exam.exam_name).into_owned(),
    }
}

/// The server refused the token: said once, plainly, where the lists were (no stale list
/// left standing to act on).
fn access_lost(state: &State, why: &str, frame: &mut Frame, area: Rect) {
    use ratatui::widgets::{Paragraph, Wrap};
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .title(" Access ended ");
    let text = vec![
        Line::styled("Your access to this server has ended.", state.theme.error()),
        Line::raw(""),
        Line::raw(format!(
            "The server says: {}",
            crate::domain::text::printable(why)
        )),
        Line::raw(""),
        Line::raw(
            "Ask an admin for a new token (proctor-review token add) or to restore your \
             course grants, then start the console again.",
        ),
        Line::raw(""),
        Line::styled("q quits.", state.theme.key()),
    ];
    frame.render_widget(
        Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
        area,
    );
}
