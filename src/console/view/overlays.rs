//! The confirmation dialog, the keys and the message log, drawn over the panes.

use super::centered;
use crate::console::format::{fit, safe};
use crate::console::keymap::{Command, Scope};
use crate::console::state::{ConfirmDialog, State, Tone};
use crate::domain::Verdict;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

pub fn confirm(state: &State, d: &ConfirmDialog, frame: &mut Frame, area: Rect) {
    let t = &state.theme;
    let (glyph, word, style) = match d.verdict {
        Verdict::Pass => ("✔", "Pass", t.passed()),
        Verdict::Fail => ("✘", "Fail", t.failed()),
    };
    let inner_w = centered(area, 64, 1).width.saturating_sub(4) as usize;
    let evidence = crate::console::detail_text::wrap(&format!("Evidence: {}", d.evidence), inner_w);
    let held = (!d.held_by.is_empty()).then(|| {
        format!(
            "◉ {} {} reviewing this learner — decide anyway?",
            safe(&d.held_by.join(", ")),
            if d.held_by.len() == 1 { "is" } else { "are" }
        )
    });
    // Each consequence wraps under its bullet (an indented one under a bullet of its own),
    // so the reason field below stays in place.
    let consequences: Vec<String> = d
        .consequences
        .iter()
        .flat_map(|c| {
            let (first, rest) = match c.strip_prefix("  ") {
                Some(_) => ("    ◦ ", "      "),
                None => ("  • ", "    "),
            };
            crate::console::detail_text::wrap(
                c.trim_start(),
                inner_w.saturating_sub(unicode_width::UnicodeWidthStr::width(first)),
            )
            .into_iter()
            .enumerate()
            .map(move |(i, piece)| format!("{}{piece}", if i == 0 { first } else { rest }))
        })
        .collect();
    // The frame, the heading lines, the reason field and the keys take ten lines.
    let rect = centered(
        area,
        64,
        10 + evidence.len() as u16 + u16::from(held.is_some()) + consequences.len() as u16,
    );
    let title = Line::from(vec![
        Span::raw(" "),
        Span::styled(
            format!("{glyph} {word} "),
            style.add_modifier(ratatui::style::Modifier::BOLD),
        ),
        Span::raw(fit(
            &format!("{}? ", safe(&d.learner)),
            inner_w.saturating_sub(8),
        )),
    ]);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .title(title);
    let inner = block.inner(rect).inner(ratatui::layout::Margin::new(1, 0));
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);

    let mut lines = vec![Line::styled(
        fit(
            &format!(
                "{} · {} · {}",
                safe(&d.exam),
                safe(&d.username),
                d.expected_status.label()
            ),
            inner_w,
        ),
        t.dim(),
    )];
    if let Some(held) = &held {
        lines.push(Line::styled(fit(held, inner_w), t.attention()));
    }
    for (i, piece) in evidence.into_iter().enumerate() {
        // The evidence line is a warning until the reviewer has looked at the video.
        let style = if d.evidence.contains("not opened") {
            t.attention()
        } else {
            t.heading()
        };
        lines.push(Line::styled(
            if i == 0 { piece } else { format!("  {piece}") },
            style,
        ));
    }
    lines.push(Line::raw("This will:"));
    for c in consequences {
        lines.push(Line::raw(c));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Reason (optional, kept in the history):",
        t.heading(),
    ));
    let reason_y = inner.y + lines.len() as u16;
    lines.push(Line::raw(""));
    lines.push(Line::raw(""));
    match (&d.error, d.request) {
        (Some(e), Some(_)) if d.checking.is_some() => {
            lines.push(Line::styled(format!("⟳ {}", safe(e)), t.error()))
        }
        (_, Some(_)) => lines.push(Line::styled("Sending…", t.dim())),
        (Some(e), None) => lines.push(Line::styled(
            format!("⚠ {}  (Enter retries)", safe(e)),
            t.error(),
        )),
        (None, None) => lines.push(Line::from(vec![
            Span::styled("Enter", t.key()),
            Span::raw(format!(
                " {}{} · ",
                word.to_lowercase(),
                if held.is_some() { " anyway" } else { "" }
            )),
            Span::styled("Esc", t.key()),
            Span::raw(" cancel, nothing changes"),
        ])),
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);

    // The reason field, scrolled so the caret stays visible.
    let field_w = inner.width.saturating_sub(2) as usize;
    let scroll = d.reason.visual_scroll(field_w);
    let shown: String = safe(d.reason.value()).chars().skip(scroll).collect();
    let field = Rect {
        y: reason_y.min(inner.y + inner.height.saturating_sub(1)),
        height: 1,
        ..inner
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw("› "),
            Span::raw(fit(&shown, field_w)),
        ])),
        field,
    );
    if d.request.is_none() {
        let x = field.x + 2 + (d.reason.visual_cursor().saturating_sub(scroll)) as u16;
        frame.set_cursor_position(Position::new(
            x.min(field.right().saturating_sub(1)),
            field.y,
        ));
    }
}

pub fn help(state: &State, scroll: u16, frame: &mut Frame, area: Rect) {
    let t = &state.theme;
    let mut lines = Vec::new();
    // Keys in a column of their own; what they do wraps under itself, never cut.
    let text_w = centered(area, 76, 1).width.saturating_sub(2 + 20) as usize;
    for (scope, bindings) in state.keys.by_scope() {
        lines.push(Line::styled(scope.title(), t.heading()));
        for b in bindings {
            for (i, piece) in crate::console::detail_text::wrap(b.help, text_w)
                .into_iter()
                .enumerate()
            {
                let keys = if i == 0 {
                    b.keys_label()
                } else {
                    String::new()
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {keys:<18}"), t.key()),
                    Span::raw(piece),
                ]));
            }
        }
        lines.push(Line::raw(""));
    }
    panel(state, "Keys", lines, scroll, frame, area);
}

/// This run's messages in full, newest first: what a status line had to cut is here whole.
pub fn messages(state: &State, scroll: u16, frame: &mut Frame, area: Rect) {
    let t = &state.theme;
    let rect = centered(area, 76, area.height);
    let width = rect.width.saturating_sub(6) as usize;
    let mut lines = Vec::new();
    if state.messages.is_empty() {
        lines.push(Line::styled("No messages yet.", t.dim()));
    }
    for m in state.messages.iter().rev() {
        let (glyph, style) = match m.tone {
            Tone::Success => ("✔ ", t.passed()),
            Tone::Error => ("⚠ ", t.error()),
            Tone::Info => ("ℹ ", ratatui::style::Style::new()),
        };
        for (i, piece) in crate::console::detail_text::wrap_whole(&safe(&m.text), width)
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 { glyph } else { "  " };
            lines.push(Line::styled(format!("{lead}{piece}"), style));
        }
    }
    panel(state, "Messages, newest first", lines, scroll, frame, area);
}

/// A full-height panel with `title` and the key that closes it.
fn panel(
    state: &State,
    title: &str,
    lines: Vec<Line<'_>>,
    scroll: u16,
    frame: &mut Frame,
    area: Rect,
) {
    let rect = centered(area, 76, area.height);
    let close = state.keys.key_in(Scope::Help, Command::Cancel);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .title(format!(" {title} — {close} closes "));
    let max_scroll = (lines.len() as u16).saturating_sub(rect.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(max_scroll), 0)),
        rect,
    );
}
