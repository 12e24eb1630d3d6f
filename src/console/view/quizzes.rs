//! Quiz List: the course's proctored exams with their counts.

use super::pane_block;
use crate::console::format::{count_items, fit, fit_words, safe};
use crate::console::layout::{self, ItemRow, QuizLine};
use crate::console::state::{Pane, State};
use crate::domain::ExamCounts;
use crate::domain::access::Access;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

fn counts_line<'a>(state: &State, c: &ExamCounts, row: ItemRow, width: u16) -> Line<'a> {
    let t = &state.theme;
    let words = layout::count_words(width);
    let items = count_items(c, words);
    let styles = [
        if c.require_attention > 0 {
            t.attention()
        } else {
            t.dim()
        },
        Style::new(),
        t.passed(),
        t.failed(),
        t.dim(),
    ];
    let sep = if words { " · " } else { " " };
    let mut spans = vec![Span::raw(" ".repeat(row.indent))];
    for i in row.from..row.to {
        if i > row.from {
            spans.push(Span::raw(sep));
        }
        spans.push(Span::styled(items[i].clone(), styles[i]));
    }
    Line::from(spans)
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let block = pane_block(state, Pane::Quizzes, Line::from("Quiz List"));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let q = &state.quizzes;
    let width = inner.width as usize;
    let focused = state.focus == Pane::Quizzes;

    let plan = layout::quiz_lines(state);
    let (area, start) = layout::quiz_window(state, area, &plan);
    let mut lines: Vec<Line> = Vec::new();
    for line in plan.iter().skip(start).take(area.height as usize) {
        lines.push(match *line {
            QuizLine::Queue => {
                let selected = q.cursor == 0;
                let marker = if selected { "▶" } else { " " };
                let style = if selected {
                    state.theme.selected(focused)
                } else {
                    state.theme.heading()
                };
                let n = crate::console::format::count(q.attention_total());
                // The count first; a narrow pane drops "All exams", never cuts a word.
                let full = format!("{marker} ⚑{n} All exams — Require Attention");
                let text = if full.width() <= width {
                    full
                } else {
                    fit_words(&format!("{marker} ⚑{n} Require Attention"), width, "")
                };
                Line::styled(text, style)
            }
            QuizLine::CourseName(c) => {
                Line::styled(fit(&safe(&q.courses[c].name), width), state.theme.heading())
            }
            QuizLine::CourseId(c) => {
                let course = &q.courses[c];
                // Said in words: a reviewer must know before pressing p or f.
                // First, so a narrow pane cuts the id, not the word.
                let read_only = if course.access == Some(Access::Read) {
                    "read-only · "
                } else {
                    ""
                };
                Line::styled(
                    fit(&format!("  {read_only}{}", safe(&course.id)), width),
                    state.theme.dim(),
                )
            }
            QuizLine::Exam(i, c, e) => {
                let exam = &q.courses[c].exams[e].exam;
                let selected = i == q.cursor;
                let kind = if exam.is_practice_exam {
                    " (practice)"
                } else {
                    ""
                };
                let marker = if selected { "▶" } else { " " };
                let style = if selected {
                    state.theme.selected(focused)
                } else {
                    ratatui::style::Style::new()
                };
                Line::styled(
                    fit(&format!("{marker}  {}{kind}", safe(&exam.exam_name)), width),
                    style,
                )
            }
            QuizLine::Counts(_, c, e, row) => {
                counts_line(state, &q.courses[c].exams[e].counts, row, inner.width)
            }
            QuizLine::Blank => Line::raw(""),
        });
    }
    if plan.is_empty() {
        let msg = match (&q.error, q.request) {
            (Some(e), _) => format!("Could not load: {}", safe(e)),
            (None, Some(_)) => "Loading…".into(),
            (None, None) => "No proctored exams.".into(),
        };
        lines.push(Line::raw(msg));
    }
    frame.render_widget(Paragraph::new(lines), area);
    let legend = layout::quiz_legend(state, inner.width);
    if !legend.is_empty() {
        let t = &state.theme;
        let styles = [t.attention(), Style::new(), t.passed(), t.failed()];
        let lines: Vec<Line> = legend
            .iter()
            .map(|row| {
                let mut spans = Vec::new();
                let items = layout::LEGEND.iter().zip(styles).enumerate();
                for (i, (item, style)) in items.take(row.to).skip(row.from) {
                    if i > row.from {
                        spans.push(Span::raw(" "));
                    }
                    let (glyph, word) = item.split_once(' ').unwrap_or_default();
                    spans.push(Span::styled(glyph, style));
                    spans.push(Span::styled(format!(" {word}"), t.dim()));
                }
                Line::from(spans)
            })
            .collect();
        let h = (lines.len() as u16).min(inner.height);
        frame.render_widget(
            Paragraph::new(lines),
            Rect {
                y: inner.y + inner.height.saturating_sub(h),
                height: h,
                ..inner
            },
        );
    }
}
