//! Quiz List: the course's proctored exams with their counts.

use super::format::{fit, safe};
use super::{pane_block, window_start};
use crate::console::state::{Pane, State};
use crate::domain::ExamCounts;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

fn counts_line<'a>(state: &State, c: &ExamCounts, width: usize) -> Line<'a> {
    let t = &state.theme;
    let words = width >= 64;
    let part = |glyph: &str, n: u64, word: &str| {
        if words {
            format!("{glyph} {n} {word}")
        } else {
            format!("{glyph}{n}")
        }
    };
    let sep = if words { " · " } else { " " };
    Line::from(vec![
        Span::raw("    "),
        Span::styled(
            part("⚑", c.require_attention, "require attention"),
            if c.require_attention > 0 {
                t.attention()
            } else {
                t.dim()
            },
        ),
        Span::raw(sep),
        Span::raw(part("◷", c.pending, "pending")),
        Span::raw(sep),
        Span::styled(part("✔", c.passed, "passed"), t.passed()),
        Span::raw(sep),
        Span::styled(part("✘", c.failed, "failed"), t.failed()),
        Span::raw(sep),
        Span::styled(
            if words {
                format!("{} sessions", c.sessions)
            } else {
                format!("Σ{}", c.sessions)
            },
            t.dim(),
        ),
    ])
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let block = pane_block(state, Pane::Quizzes, Line::from("Quiz List"));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let q = &state.quizzes;
    let width = inner.width as usize;
    let focused = state.focus == Pane::Quizzes;

    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_line = 0;
    let mut i = 0;
    for course in &q.courses {
        lines.push(Line::styled(
            fit(&safe(&course.name), width),
            state.theme.heading(),
        ));
        lines.push(Line::styled(
            fit(&format!("  {}", safe(&course.id)), width),
            state.theme.dim(),
        ));
        for e in &course.exams {
            let selected = i == q.cursor;
            if selected {
                cursor_line = lines.len();
            }
            let kind = if e.exam.is_practice_exam {
                " (practice)"
            } else {
                ""
            };
            let name = format!(
                "{}{} {}{kind}",
                if selected { "▶" } else { " " },
                " ",
                safe(&e.exam.exam_name)
            );
            let style = if selected {
                state.theme.selected(focused)
            } else {
                ratatui::style::Style::new()
            };
            lines.push(Line::styled(fit(&name, width), style));
            lines.push(counts_line(state, &e.counts, width));
            i += 1;
        }
        lines.push(Line::raw(""));
    }
    if lines.is_empty() {
        let msg = match (&q.error, q.request) {
            (Some(e), _) => format!("Could not load: {}", safe(e)),
            (None, Some(_)) => "Loading…".into(),
            (None, None) => "No proctored exams.".into(),
        };
        lines.push(Line::raw(msg));
    }
    // The compact counts need a key to their glyphs; it wraps onto two lines when narrow.
    let legend_h: u16 = match (width < 64 && !q.courses.is_empty(), width >= 27) {
        (false, _) => 0,
        (true, true) => 1,
        (true, false) => 2,
    };
    let height = inner.height.saturating_sub(legend_h) as usize;
    let start = window_start(cursor_line, lines.len(), height);
    let visible: Vec<Line> = lines.into_iter().skip(start).take(height).collect();
    frame.render_widget(
        Paragraph::new(visible),
        Rect {
            height: height as u16,
            ..inner
        },
    );
    if legend_h > 0 {
        let t = &state.theme;
        let l = Line::from(vec![
            Span::styled("⚑", t.attention()),
            Span::raw(" attn ◷ pend "),
            Span::styled("✔", t.passed()),
            Span::raw(" pass "),
            Span::styled("✘", t.failed()),
            Span::raw(" fail"),
        ]);
        let y = inner.y + inner.height.saturating_sub(legend_h);
        frame.render_widget(
            Paragraph::new(l).style(t.dim()).wrap(Wrap { trim: true }),
            Rect {
                y,
                height: legend_h.min(inner.height),
                ..inner
            },
        );
    }
}
