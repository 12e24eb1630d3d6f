//! Sessions: the learners who took the open exam, Require Attention first. Only the rows on
//! screen are built, so a list of 100 000 draws as fast as one of 20.

use super::{listing_title, pane_block};
use crate::console::format::{duration, fit, safe, when_short};
use crate::console::layout;
use crate::console::state::{Listing, Pane, State};
use crate::console::timeline;
use crate::domain::{LmsState, SessionRow};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

struct Columns {
    full_status: bool,
    /// The exam of each row (the cross-exam queue).
    exam: bool,
    /// Open edX delivery state (set when a row has one).
    lms: bool,
    username: bool,
    started: bool,
    duration: bool,
    timeline: bool,
}

/// Cells of the compact per-row timeline.
const STRIP: u16 = 12;

fn columns(width: u16) -> Columns {
    Columns {
        full_status: width >= 80,
        exam: false,
        lms: false,
        username: width >= 96,
        started: width >= 62,
        duration: width >= 72,
        timeline: width >= 46,
    }
}

fn header_line(state: &State) -> Line<'static> {
    let p = &state.sessions;
    let (to_review, of) = match &p.listing {
        None => return Line::raw(""),
        Some(Listing::Queue) => {
            let n = state.quizzes.attention_total();
            (n, n)
        }
        Some(Listing::Exam(e)) => (e.counts.require_attention, e.counts.sessions),
    };
    let mut spans = vec![
        Span::styled(format!("⚑ {to_review} to review"), state.theme.attention()),
        Span::raw(format!(" · {}/{of} shown", p.total)),
        Span::styled(
            format!(
                " · sort {} {}",
                p.sort.label(),
                if p.desc { "↓" } else { "↑" }
            ),
            state.theme.dim(),
        ),
    ];
    if p.attention_only {
        spans.push(Span::styled(" · only ⚑", state.theme.attention()));
    }
    Line::from(spans)
}

fn search_line(state: &State, width: u16) -> Option<Line<'static>> {
    let p = &state.sessions;
    if !p.searching && p.search.value().is_empty() {
        return None;
    }
    let shown = safe(p.search.value()).into_owned();
    let caret = if p.searching { "▏" } else { "" };
    Some(Line::from(vec![
        Span::styled("Search: ", state.theme.heading()),
        Span::raw(fit(
            &format!("{shown}{caret}"),
            width.saturating_sub(9) as usize,
        )),
    ]))
}

fn row<'a>(
    state: &State,
    r: &'a SessionRow,
    cols: &Columns,
    selected: bool,
    focused: bool,
) -> Row<'a> {
    let label = if cols.full_status {
        r.status.label()
    } else {
        r.status.short_label()
    };
    let status = format!("{} {label}", r.status.glyph());
    let mut cells = vec![
        Cell::from(if selected { "▶" } else { " " }),
        Cell::from(Span::styled(status, state.theme.status(r.status))),
        Cell::from(safe(&r.learner.full_name).into_owned()),
    ];
    if cols.exam {
        let name = state
            .quizzes
            .exams()
            .find(|e| e.exam.id == r.exam_id)
            .map_or_else(
                || format!("exam {}", r.exam_id),
                |e| e.exam.exam_name.clone(),
            );
        cells.push(Cell::from(safe(&name).into_owned()));
    }
    if cols.username {
        cells.push(Cell::from(safe(&r.learner.username).into_owned()));
    }
    if cols.lms {
        // Where the latest review stands with Open edX; nothing while it has arrived.
        let (glyph, style) = match r.lms.as_ref().map(|l| l.state) {
            Some(s) if s.needs_attention() => (s.glyph(), state.theme.error()),
            Some(s @ LmsState::Waiting) => (s.glyph(), state.theme.attention()),
            Some(s) => (s.glyph(), state.theme.dim()),
            None => (" ", Style::new()),
        };
        cells.push(Cell::from(Span::styled(glyph, style)));
    }
    cells.push(Cell::from(
        Line::from(r.violation_count.to_string()).right_aligned(),
    ));
    if cols.timeline {
        let strip = match r.duration_secs() {
            Some(total) if total > 0 => timeline::compact(&r.marks, total, STRIP as usize),
            _ => String::new(),
        };
        let style = if r.marks.iter().any(|m| m.rules) {
            state.theme.error()
        } else {
            state.theme.attention()
        };
        cells.push(Cell::from(Span::styled(strip, style)));
    }
    if cols.started {
        cells.push(Cell::from(when_short(r.started_at)));
    }
    if cols.duration {
        cells.push(Cell::from(
            Line::from(duration(r.duration_secs())).right_aligned(),
        ));
    }
    let style = if selected {
        state.theme.selected(focused)
    } else {
        Style::new()
    };
    Row::new(cells).style(style)
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let p = &state.sessions;
    let title = match &p.listing {
        Some(l) => Line::from(format!("Sessions — {}", listing_title(l))),
        None => Line::from("Sessions"),
    };
    let block = pane_block(state, Pane::Sessions, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if p.listing.is_none() {
        frame.render_widget(
            Paragraph::new("Select an exam in the Quiz List and press Enter.")
                .style(state.theme.dim()),
            inner,
        );
        return;
    }

    let mut top = vec![header_line(state)];
    if let Some(l) = search_line(state, inner.width) {
        top.push(l);
    }
    let (table_area, body, start) = layout::sessions_table(state, area);
    frame.render_widget(
        Paragraph::new(top),
        Rect {
            height: table_area.y.saturating_sub(inner.y),
            ..inner
        },
    );

    if p.rows.is_empty() {
        let msg = match (&p.error, p.request) {
            (Some(e), _) => format!("Could not load: {}", safe(e)),
            (None, Some(_)) => "Loading…".into(),
            (None, None) if !p.search.value().is_empty() => "No session matches the search.".into(),
            (None, None) => "No sessions.".into(),
        };
        frame.render_widget(Paragraph::new(msg), table_area);
        return;
    }

    let mut cols = columns(inner.width);
    // Only sessions an LMS registered have a delivery to show.
    cols.lms = p.rows.iter().any(|r| r.lms.is_some());
    let mut header = vec!["", "Status", "Learner"];
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(if cols.full_status { 19 } else { 12 }),
        Constraint::Min(10),
    ];
    // The queue spans exams: each row says which, in the username's place when narrow.
    cols.exam = p.is_queue();
    if cols.exam {
        header.push("Exam");
        widths.push(Constraint::Length(12));
        cols.username &= inner.width >= 112;
        cols.timeline &= inner.width >= 64;
    }
    if cols.username {
        header.push("Username");
        widths.push(Constraint::Length(14));
    }
    if cols.lms {
        header.push("⇅");
        widths.push(Constraint::Length(1));
    }
    header.push("Viol");
    widths.push(Constraint::Length(4));
    if cols.timeline {
        header.push("Timeline");
        widths.push(Constraint::Length(STRIP));
    }
    if cols.started {
        header.push("Started");
        widths.push(Constraint::Length(11));
    }
    if cols.duration {
        header.push("Took");
        widths.push(Constraint::Length(6));
    }

    let body_h = body.height as usize;
    let focused = state.focus == Pane::Sessions && state.dialog.is_none();
    let rows = p.rows[start..(start + body_h).min(p.rows.len())]
        .iter()
        .enumerate()
        .map(|(i, r)| row(state, r, &cols, start + i == p.cursor, focused));
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(state.theme.heading()))
        .column_spacing(1);
    frame.render_widget(table, table_area);
}

#[cfg(test)]
mod tests {
    use super::columns;

    #[test]
    fn narrow_panes_drop_the_least_needed_columns_first() {
        let c = columns(44);
        assert!(!c.username && !c.started && !c.duration && !c.full_status && !c.timeline);
        let c = columns(52);
        assert!(c.timeline && !c.started && !c.duration && !c.username && !c.full_status);
        let c = columns(64);
        assert!(c.timeline && c.started && !c.duration);
        let c = columns(98);
        assert!(c.started && c.duration && c.username && c.full_status && c.timeline);
    }
}
