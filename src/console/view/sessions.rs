//! Sessions: the learners who took the open exam, Require Attention first. Only the rows on
//! screen are built, so a list of 100 000 draws as fast as one of 20.

use super::{listing_title, pane_block};
use crate::api::SortKey;
use crate::console::format::{count, duration, fit, fit_words, safe, when_short};
use crate::console::keymap::{Command, Scope};
use crate::console::layout::columns::{EXAM_W, STRIP};
use crate::console::layout::{self, Columns, Needs, fit_session_table};
use crate::console::state::{Listing, Pane, State};
use crate::console::timeline;
use crate::domain::{AttemptStatus, LmsState, SessionRow};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use unicode_width::UnicodeWidthStr;

fn header_line(state: &State, width: u16) -> Line<'static> {
    let p = &state.sessions;
    let (to_review, of) = match &p.listing {
        None => return Line::raw(""),
        Some(Listing::Queue) => {
            let n = state.quizzes.attention_total();
            (n, n)
        }
        Some(Listing::Exam(e)) => (e.counts.to_review(), e.counts.sessions),
    };
    let review = format!("⚑ {} to review", count(to_review));
    let plus = if p.at_least { "+" } else { "" };
    // The queue keeps a decided row in view until it is reloaded, so it may show more than
    // wait: it says how many of those it shows, and the counts add up ("19 to review ·
    // 20 shown, 1 decided") rather than read "20/19".
    let shown = if matches!(p.listing, Some(Listing::Queue)) {
        let decided = p
            .rows
            .iter()
            .filter(|r| r.status != crate::domain::AttemptStatus::SecondReviewRequired)
            .count();
        let decided = if decided > 0 {
            format!(", {decided} decided")
        } else {
            String::new()
        };
        format!(" · {}{plus} shown{decided}", count(p.total))
    } else {
        format!(" · {}{plus}/{} shown", count(p.total), count(of))
    };
    let words = order_words(p.sort, p.desc);
    // The order in full when it fits, else just the sort; the filter is always said.
    let filter = if p.attention_only { "only ⚑, " } else { "" };
    let long = if p.attention_only {
        format!(" · only ⚑, {words}")
    } else {
        format!(" · ⚑ first, then {words}")
    };
    let room = (width as usize).saturating_sub(review.width() + shown.width());
    let order = if long.width() <= room {
        long
    } else {
        fit_words(&format!(" · {filter}{words}"), room, "")
    };
    Line::from(vec![
        Span::styled(review, state.theme.attention()),
        Span::raw(shown),
        Span::styled(order, state.theme.dim()),
    ])
}

/// The order as a reviewer would say it.
fn order_words(sort: SortKey, desc: bool) -> &'static str {
    match (sort, desc) {
        (SortKey::Started, true) => "newest first",
        (SortKey::Started, false) => "oldest first",
        (SortKey::Learner, false) => "learner A→Z",
        (SortKey::Learner, true) => "learner Z→A",
        (SortKey::Username, false) => "username A→Z",
        (SortKey::Username, true) => "username Z→A",
        (SortKey::Violations, true) => "most violations first",
        (SortKey::Violations, false) => "fewest violations first",
        (SortKey::Duration, true) => "longest first",
        (SortKey::Duration, false) => "shortest first",
        (SortKey::Status, false) => "by status",
        (SortKey::Status, true) => "by status, reversed",
    }
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

/// A row's status as glyph and words: a first opinion waiting for a second reviewer is a
/// state of its own here, though Open edX still sees Require Attention.
fn status_words(r: &SessionRow) -> (&'static str, &'static str) {
    if r.awaiting_from.is_some() && r.status == AttemptStatus::SecondReviewRequired {
        ("◎", "Awaiting 2nd review")
    } else {
        (r.status.glyph(), r.status.label())
    }
}

/// The learner's name, and who else is on them ("◉ ada", "◉ ada+1"): the glyph and the
/// name say it without colour, and the name gives up room for it.
fn learner_cell(state: &State, r: &SessionRow, width: usize) -> Line<'static> {
    let name = safe(&r.learner.full_name);
    let others = state.others_on(r.id);
    let Some(first) = others.first() else {
        return Line::raw(fit(&name, width));
    };
    let more = match others.len() {
        1 => String::new(),
        n => format!("+{}", n - 1),
    };
    let tag = format!("◉ {}{more}", fit(&safe(first), 8));
    let room = width.saturating_sub(tag.width() + 1);
    Line::from(vec![
        Span::raw(format!("{} ", fit(&name, room))),
        Span::styled(tag, state.theme.attention()),
    ])
}

fn row<'a>(
    state: &State,
    r: &'a SessionRow,
    cols: &Columns,
    selected: bool,
    focused: bool,
) -> Row<'a> {
    let mut cells = vec![Cell::from(if selected { "▶" } else { " " })];
    if cols.status {
        // One word for a status at every width: narrow panes drop columns or keep only the
        // glyph (the Quiz List's legend reads it), never rename.
        let (glyph, label) = status_words(r);
        let status = if cols.status_glyph {
            glyph.to_owned()
        } else {
            format!("{glyph} {label}")
        };
        cells.push(Cell::from(Span::styled(
            status,
            state.theme.status(r.status),
        )));
    }
    // Values cut to their column end in "…", so a cut is never taken for the whole.
    cells.push(Cell::from(learner_cell(state, r, cols.learner_w as usize)));
    if cols.exam {
        let name = state
            .quizzes
            .exams()
            .find(|e| e.exam.id == r.exam_id)
            .map_or_else(|| "—".to_owned(), |e| e.exam.exam_name.clone());
        cells.push(Cell::from(fit(&safe(&name), EXAM_W as usize)));
    }
    if cols.username {
        cells.push(Cell::from(fit(&safe(&r.learner.username), 14)));
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

    let mut top = vec![header_line(state, inner.width)];
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
            (None, None) if !p.search.value().is_empty() => format!(
                "No session matches the search \"{}\" — {} then {} clears it.",
                safe(p.search.value()),
                state.keys.key_in(Scope::Sessions, Command::Search),
                state.keys.key_in(Scope::Search, Command::ClearSearch),
            ),
            (None, None) => "No sessions.".into(),
        };
        frame.render_widget(
            Paragraph::new(msg).wrap(ratatui::widgets::Wrap { trim: true }),
            table_area,
        );
        return;
    }

    let body_h = body.height as usize;
    let visible = &p.rows[start..(start + body_h).min(p.rows.len())];
    let needs = Needs {
        // As wide as the longest label on screen (its glyph and a space before it).
        status_w: visible
            .iter()
            .map(|r| 2 + status_words(r).1.width())
            .max()
            .unwrap_or(0) as u16,
        learner_w: visible
            .iter()
            .map(|r| learner_cell(state, r, usize::MAX).width() as u16)
            .max()
            .unwrap_or(0),
        same_status: (p.is_queue() || p.attention_only)
            && visible
                .iter()
                .all(|r| status_words(r).0 == AttemptStatus::SecondReviewRequired.glyph()),
        // Only sessions an LMS registered have a delivery to show.
        lms: p.rows.iter().any(|r| r.lms.is_some()),
    };
    let fitted = fit_session_table(inner.width, p.is_queue(), p.sort, p.desc, needs);
    let cols = fitted.cols;
    let widths = fitted.widths.into_iter().map(Constraint::Length);
    let header = fitted.header;

    let focused = state.focus == Pane::Sessions && state.dialog.is_none();
    let rows = visible
        .iter()
        .enumerate()
        .map(|(i, r)| row(state, r, &cols, start + i == p.cursor, focused));
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(state.theme.heading()))
        .column_spacing(1);
    frame.render_widget(table, table_area);
}
