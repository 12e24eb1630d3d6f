//! Title, hint and status bars.

use super::listing_title;
use crate::console::format::{fit, fit_words, safe};
use crate::console::state::{Pane, State, Tone};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

/// A bar: `left` cut to what fits, `right` flush against the right edge.
fn spread<'a>(
    left: String,
    left_style: Style,
    right: String,
    right_style: Style,
    width: u16,
) -> Line<'a> {
    let width = width as usize;
    let left = fit(&left, width.saturating_sub(right.width() + 1));
    let pad = width.saturating_sub(left.width() + right.width());
    Line::from(vec![
        Span::styled(left, left_style),
        Span::raw(" ".repeat(pad)),
        Span::styled(right, right_style),
    ])
}

pub fn title(state: &State, frame: &mut Frame, area: Rect) {
    let mut crumbs = vec![Pane::Quizzes.title().to_owned()];
    if let Some(l) = &state.sessions.listing
        && (state.focus != Pane::Quizzes || state.wide())
    {
        crumbs.push(listing_title(l));
    }
    if state.focus == Pane::Detail
        && let Some(r) = state.sessions.selected()
    {
        crumbs.push(safe(&r.learner.full_name).into_owned());
    }
    let who = match &state.reviewer {
        Some(r) => format!("{} ", safe(r)),
        None => String::new(),
    };
    let line = spread(
        format!(" proctor-review │ {}", crumbs.join(" › ")),
        state.theme.heading(),
        who,
        Style::new(),
        area.width,
    );
    frame.render_widget(
        Paragraph::new(line).style(Style::new().add_modifier(Modifier::REVERSED)),
        area,
    );
}

pub fn hints(state: &State, frame: &mut Frame, area: Rect) {
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for (keys, word) in state.keys.hints(&state.key_scopes()) {
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

/// The last action's result or error on the left; loading state and server on the right.
pub fn status(state: &State, frame: &mut Frame, area: Rect) {
    // Under a dialog, a message about another learner would be read as about this one.
    let shown = state
        .status
        .as_ref()
        .filter(|s| match (&state.dialog, s.about) {
            (Some(d), Some(about)) => d.session == about,
            _ => true,
        });
    // A running undo offer stays on the bar after its message has been cleared.
    let undo_line = state
        .undo
        .as_ref()
        .filter(|o| o.request.is_none() && o.live(state.now))
        .map(|o| crate::console::state::StatusLine {
            text: o.message.clone(),
            tone: Tone::Success,
            about: Some(o.session),
        });
    let shown = shown.or(undo_line.as_ref().filter(|_| state.status.is_none()));
    let (glyph, style, text) = match shown {
        Some(s) => match s.tone {
            Tone::Success => ("", state.theme.passed(), s.text.as_str()),
            Tone::Error => ("⚠ ", state.theme.error(), s.text.as_str()),
            Tone::Info => ("ℹ ", Style::new(), s.text.as_str()),
        },
        None => ("", Style::new(), ""),
    };
    let busy = if state.loading() {
        "⟳ loading… · "
    } else {
        ""
    };
    // Said in words: the reviewer must know the list may be behind.
    let live = match (state.live, state.live_retry, state.now) {
        (Some(false), Some(at), Some(now)) if at > now => {
            let secs = (at - now).as_seconds_f64().ceil() as i64;
            format!("○ reconnecting in {secs} s · ")
        }
        (Some(false), _, _) => "○ reconnecting… · ".to_owned(),
        _ => String::new(),
    };
    // The countdown rides on the message that announced the decision.
    let countdown = match (&state.undo, shown) {
        (Some(o), Some(s)) if o.request.is_none() && s.text.starts_with(&o.message) => {
            let key = state.keys.key_for(crate::console::keymap::Command::Undo);
            match o.seconds_left(state.now) {
                Some(n) if n > 0 => format!(" — {key} to undo ({n} s)"),
                Some(_) => String::new(),
                None => format!(" — {key} to undo"),
            }
        }
        _ => String::new(),
    };
    let width = area.width as usize;
    let message = format!(" {glyph}{}", safe(text));
    // The server's address gives way to a message that needs the room.
    let mut right = format!("{busy}{live}{} ", state.server);
    if message.width() + countdown.width() + right.width() + 1 > width {
        right = format!("{busy}{live}");
    }
    let room = width.saturating_sub(right.width() + countdown.width() + 1);
    let more = format!(
        " ({} shows all)",
        state
            .keys
            .key_for(crate::console::keymap::Command::Messages)
    );
    let line = spread(
        format!("{}{countdown}", fit_words(&message, room, &more)),
        style,
        right,
        state.theme.dim(),
        area.width,
    );
    frame.render_widget(Paragraph::new(line), area);
}
