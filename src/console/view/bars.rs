//! Title, hint and status bars.

use super::format::{fit, safe};
use crate::console::keymap;
use crate::console::state::{Pane, State, Tone};
use crate::console::update::scopes;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

pub fn title(state: &State, frame: &mut Frame, area: Rect) {
    let mut crumbs = vec![Pane::Quizzes.title().to_owned()];
    if let Some(e) = &state.sessions.exam
        && (state.focus != Pane::Quizzes || state.wide())
    {
        crumbs.push(safe(&e.exam.exam_name).into_owned());
    }
    if state.focus == Pane::Detail
        && let Some(r) = state.sessions.selected()
    {
        crumbs.push(safe(&r.learner.full_name).into_owned());
    }
    let right = match &state.reviewer {
        Some(r) => format!("{} · {} ", safe(r), state.server),
        None => format!("{} ", state.server),
    };
    let left = format!(" proctor-review │ {}", crumbs.join(" › "));
    let room = (area.width as usize).saturating_sub(right.width() + 1);
    let left = fit(&left, room);
    let pad = (area.width as usize).saturating_sub(left.width() + right.width());
    let line = Line::from(vec![
        Span::styled(left, state.theme.heading()),
        Span::raw(" ".repeat(pad)),
        Span::styled(right, state.theme.dim()),
    ]);
    frame.render_widget(
        Paragraph::new(line)
            .style(ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::REVERSED)),
        area,
    );
}

pub fn hints(state: &State, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (keys, word) in keymap::hints(&scopes(state)) {
        let w = keys.width() + word.width() + 3;
        if used + w > area.width as usize {
            break;
        }
        used += w;
        spans.push(Span::styled(keys, state.theme.key()));
        spans.push(Span::raw(format!(" {word}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn status(state: &State, frame: &mut Frame, area: Rect) {
    let busy = if state.loading() {
        "⟳ loading… "
    } else {
        ""
    };
    let right_w = busy.width();
    let (glyph, style, text) = match &state.status {
        Some(s) => match s.tone {
            Tone::Success => ("", state.theme.passed(), s.text.as_str()),
            Tone::Error => ("⚠ ", state.theme.error(), s.text.as_str()),
            Tone::Info => ("ℹ ", ratatui::style::Style::new(), s.text.as_str()),
        },
        None => ("", ratatui::style::Style::new(), ""),
    };
    let room = (area.width as usize).saturating_sub(right_w + 2);
    let msg = fit(&format!("{glyph}{}", safe(text)), room);
    let pad = (area.width as usize).saturating_sub(msg.width() + 1 + right_w);
    let line = Line::from(vec![
        Span::raw(" "),
        Span::styled(msg, style),
        Span::raw(" ".repeat(pad)),
        Span::styled(busy, state.theme.dim()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}
