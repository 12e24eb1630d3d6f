//! Where everything is on screen, as pure functions of the state and the terminal size.
//! The view draws into these rectangles and mouse handling reads them, so a click always
//! lands on what was drawn there.

pub mod columns;
pub use columns::{Columns, Needs, SessionTable, fit_session_table, session_columns};

use super::state::{Pane, State};
use ratatui::layout::{Constraint, Layout, Margin, Rect};

pub struct Bars {
    pub title: Rect,
    pub main: Rect,
    pub hints: Rect,
    pub status: Rect,
}

pub fn bars(area: Rect) -> Bars {
    let [title, main, hints, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    Bars {
        title,
        main,
        hints,
        status,
    }
}

/// The panes on screen: all three side by side when wide (Sessions and Detail while Detail
/// has focus), else the focused one alone.
pub fn panes(state: &State, main: Rect) -> Vec<(Pane, Rect)> {
    if state.wide() && state.focus == Pane::Detail {
        // Reading evidence wants room: the Quiz List steps aside while Detail has focus.
        let [s, d] = Layout::horizontal([Constraint::Fill(2), Constraint::Fill(3)]).areas(main);
        vec![(Pane::Sessions, s), (Pane::Detail, d)]
    } else if state.wide() {
        let [q, s, d] = Layout::horizontal([
            Constraint::Length(main.width * 9 / 40),
            Constraint::Fill(11),
            Constraint::Fill(9),
        ])
        .areas(main);
        vec![(Pane::Quizzes, q), (Pane::Sessions, s), (Pane::Detail, d)]
    } else {
        vec![(state.focus, main)]
    }
}

/// The whole terminal, as the state last saw it.
pub fn screen(state: &State) -> Rect {
    Rect::new(0, 0, state.width, state.height)
}

/// Inside a pane's border.
pub fn inner(pane: Rect) -> Rect {
    pane.inner(Margin::new(1, 1))
}

/// The first row to draw so that `cursor` stays on screen, roughly centred.
pub fn window_start(cursor: usize, len: usize, height: usize) -> usize {
    if len <= height {
        return 0;
    }
    cursor.saturating_sub(height / 2).min(len - height)
}

/// Lines above the Sessions table: the summary, and the search field when there is one.
pub fn sessions_top_lines(state: &State) -> u16 {
    let p = &state.sessions;
    1 + u16::from(p.searching || !p.search.value().is_empty())
}

/// The Sessions table: its area (header row included) and the rows' area with the index of
/// the first row drawn.
pub fn sessions_table(state: &State, pane: Rect) -> (Rect, Rect, usize) {
    let inner = inner(pane);
    let top = sessions_top_lines(state).min(inner.height);
    let table = Rect {
        y: inner.y + top,
        height: inner.height - top,
        ..inner
    };
    let rows = Rect {
        y: table.y + 1.min(table.height),
        height: table.height.saturating_sub(1),
        ..table
    };
    let p = &state.sessions;
    let start = window_start(p.cursor, p.rows.len(), rows.height as usize);
    (table, rows, start)
}

/// What each line of the Quiz List shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuizLine {
    /// The cross-exam Require Attention queue (entry 0).
    Queue,
    CourseName(usize),
    CourseId(usize),
    /// An exam's name line: its entry (1 + its index among all exams), and (course, exam)
    /// to find it.
    Exam(usize, usize, usize),
    /// A line of an exam's counts: its entry, (course, exam), and which items it holds
    /// (the counts break between items when the pane is narrow, never inside a number).
    Counts(usize, usize, usize, ItemRow),
    Blank,
}

/// One line of wrapped items (an exam's counts, the legend): items `from..to`, indented by
/// `indent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRow {
    pub from: usize,
    pub to: usize,
    pub indent: usize,
}

/// Whether the counts carry their words (a wide Quiz List).
pub fn count_words(width: u16) -> bool {
    width >= 64
}

/// How an exam's counts fill lines of `width`: on one line if they fit (indented under the
/// name when there is room), else broken between items.
pub fn count_rows(items: &[String], width: usize, sep: usize) -> Vec<ItemRow> {
    wrap_items(items, width, sep, &[4, 2])
}

/// Items on lines of `width`, `sep` columns apart: on one line with the first indent that
/// fits, else broken between items (never inside one) with the last indent.
pub fn wrap_items(items: &[String], width: usize, sep: usize, indents: &[usize]) -> Vec<ItemRow> {
    use unicode_width::UnicodeWidthStr;
    let total: usize =
        items.iter().map(|s| s.width()).sum::<usize>() + sep * items.len().saturating_sub(1);
    if let Some(&indent) = indents.iter().find(|i| *i + total <= width) {
        return vec![ItemRow {
            from: 0,
            to: items.len(),
            indent,
        }];
    }
    let indent = indents.last().copied().unwrap_or(0);
    let mut rows = Vec::new();
    let (mut from, mut used) = (0, indent);
    for (i, item) in items.iter().enumerate() {
        let w = item.width() + if i > from { sep } else { 0 };
        if i > from && used + w > width {
            rows.push(ItemRow {
                from,
                to: i,
                indent,
            });
            from = i;
            used = indent + item.width();
        } else {
            used += w;
        }
    }
    rows.push(ItemRow {
        from,
        to: items.len(),
        indent,
    });
    rows
}

/// What the Quiz List's glyphs mean, in the words the rest of the console uses.
pub const LEGEND: [&str; 4] = ["⚑ require attention", "◷ pending", "✔ passed", "✘ failed"];

/// The legend under a narrow Quiz List, broken between items.
pub fn quiz_legend(state: &State, width: u16) -> Vec<ItemRow> {
    if count_words(width) || state.quizzes.courses.is_empty() {
        return vec![];
    }
    wrap_items(&LEGEND.map(String::from), width as usize, 1, &[0])
}

/// The width the Quiz List's lines have now (the whole screen when it is the one pane).
fn quiz_width(state: &State) -> u16 {
    let main = bars(screen(state)).main;
    let pane = panes(state, main)
        .into_iter()
        .find(|(p, _)| *p == Pane::Quizzes)
        .map_or(main, |(_, r)| r);
    inner(pane).width
}

pub fn quiz_lines(state: &State) -> Vec<QuizLine> {
    let width = quiz_width(state);
    let words = count_words(width);
    let sep = if words { 3 } else { 1 };
    let mut out = Vec::new();
    if !state.quizzes.courses.is_empty() {
        out.push(QuizLine::Queue);
        out.push(QuizLine::Blank);
    }
    let mut i = 1;
    for (c, course) in state.quizzes.courses.iter().enumerate() {
        out.push(QuizLine::CourseName(c));
        out.push(QuizLine::CourseId(c));
        for (e, exam) in course.exams.iter().enumerate() {
            out.push(QuizLine::Exam(i, c, e));
            let items = super::format::count_items(&exam.counts, words);
            for row in count_rows(&items, width as usize, sep) {
                out.push(QuizLine::Counts(i, c, e, row));
            }
            i += 1;
        }
        out.push(QuizLine::Blank);
    }
    out
}

/// Height of the glyph legend under the Quiz List.
pub fn quiz_legend_height(state: &State, width: u16) -> u16 {
    quiz_legend(state, width).len() as u16
}

/// The Quiz List lines on screen: their area and the index of the first line drawn.
pub fn quiz_window(state: &State, pane: Rect, lines: &[QuizLine]) -> (Rect, usize) {
    let inner = inner(pane);
    let area = Rect {
        height: inner
            .height
            .saturating_sub(quiz_legend_height(state, inner.width)),
        ..inner
    };
    let cursor_line = lines
        .iter()
        .position(|l| match l {
            QuizLine::Queue => state.quizzes.cursor == 0,
            QuizLine::Exam(i, ..) => *i == state.quizzes.cursor,
            _ => false,
        })
        .unwrap_or(0);
    (
        area,
        window_start(cursor_line, lines.len(), area.height as usize),
    )
}

/// The parts of Learner Detail: the tab bar, the violation timeline (on the tabs about
/// the recording, when there is room), the tab's body, and the preview beside or below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailRegions {
    pub tabs: Rect,
    pub timeline: Rect,
    pub body: Rect,
    pub preview: Option<Rect>,
}

/// Rows of the timeline: the strip, the marker, the scale.
pub const TIMELINE_ROWS: u16 = 3;

pub fn detail_regions(state: &State, pane: Rect) -> DetailRegions {
    use super::state::Tab;
    let inner = inner(pane);
    let tab = state.detail.tab;
    let tabs = Rect {
        height: 1.min(inner.height),
        ..inner
    };
    let rest = Rect {
        y: tabs.y + tabs.height,
        height: inner.height - tabs.height,
        ..inner
    };
    let wants_timeline = matches!(tab, Tab::ExamData | Tab::Video | Tab::Violations);
    let t_rows = if wants_timeline && rest.height >= 12 {
        TIMELINE_ROWS
    } else {
        0
    };
    let timeline = Rect {
        height: t_rows,
        ..rest
    };
    let body = Rect {
        y: rest.y + t_rows,
        height: rest.height - t_rows,
        ..rest
    };
    let previews = state.images
        && matches!(
            tab,
            Tab::Video | Tab::Violations | Tab::Scans | Tab::Onboarding
        );
    if !previews {
        return DetailRegions {
            tabs,
            timeline,
            body,
            preview: None,
        };
    }
    let (list, preview) = preview_split(body);
    DetailRegions {
        tabs,
        timeline,
        body: list,
        preview,
    }
}

/// Evidence is mostly widescreen video frames and screenshots.
const EVIDENCE_ASPECT: f32 = 16.0 / 9.0;
/// The list beside or above a preview keeps at least this much room.
const LIST_MIN_WIDTH: u16 = 36;
const LIST_MIN_HEIGHT: u16 = 7;

/// The cells a 16:9 image fills in `region` below its caption (a cell is half as wide as
/// it is tall).
fn image_cells(region: Rect) -> u32 {
    let rows = f32::from(region.height.saturating_sub(1));
    let width = f32::from(region.width).min(rows * 2.0 * EVIDENCE_ASPECT);
    let height = (width / EVIDENCE_ASPECT / 2.0).min(rows);
    (width * height) as u32
}

/// Splits Learner Detail's body between its list and the preview: beside it or below it,
/// whichever lets the image be larger, the list keeping room to be read.
pub fn preview_split(body: Rect) -> (Rect, Option<Rect>) {
    let side = (body.width >= LIST_MIN_WIDTH + 24).then(|| {
        let width = (body.width / 2).min(body.width - LIST_MIN_WIDTH);
        let list = Rect {
            width: body.width - width - 1,
            ..body
        };
        let preview = Rect {
            x: body.x + list.width + 1,
            width,
            ..body
        };
        (list, preview)
    });
    let below = (body.height >= LIST_MIN_HEIGHT + 6).then(|| {
        let height = (body.height * 3 / 5).min(body.height - LIST_MIN_HEIGHT);
        let list = Rect {
            height: body.height - height,
            ..body
        };
        let preview = Rect {
            y: body.y + list.height,
            height,
            ..body
        };
        (list, preview)
    });
    let best = match (side, below) {
        (Some(s), Some(b)) if image_cells(b.1) > image_cells(s.1) => Some(b),
        (Some(s), _) => Some(s),
        (None, b) => b,
    };
    match best {
        Some((list, preview)) => (list, Some(preview)),
        None => (body, None),
    }
}

/// Learner Detail's rectangle, when it is on screen.
pub fn detail_pane(state: &State) -> Option<Rect> {
    panes(state, bars(screen(state)).main)
        .into_iter()
        .find(|(p, _)| *p == Pane::Detail)
        .map(|(_, r)| r)
}

/// Where the contact sheet is drawn: Learner Detail below its tab bar.
pub fn sheet_area(state: &State) -> Option<Rect> {
    let tabs = detail_regions(state, detail_pane(state)?).tabs;
    let inner = inner(detail_pane(state)?);
    Some(Rect {
        y: tabs.y + tabs.height,
        height: inner.height.saturating_sub(tabs.height),
        ..inner
    })
}

/// Where a playing moment's stills are drawn: the preview's image area, or the whole
/// terminal when zoomed, without the rows of its controls.
pub fn play_stage(state: &State) -> Option<Rect> {
    let area = if state.detail.zoomed {
        Rect::new(0, 0, state.width, state.height)
    } else {
        preview_image(detail_regions(state, detail_pane(state)?).preview?)
    };
    Some(Rect {
        height: area.height.saturating_sub(super::playback::CONTROL_ROWS),
        ..area
    })
}

/// Where the preview image goes inside the preview region: below its one-line caption.
pub fn preview_image(region: Rect) -> Rect {
    Rect {
        y: region.y + 1.min(region.height),
        height: region.height.saturating_sub(1),
        ..region
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::SortKey;

    #[test]
    fn counts_break_between_items_and_only_when_they_must() {
        let items: Vec<String> = ["⚑174", "◷62", "✔139", "✘48", "Σ500"]
            .map(String::from)
            .to_vec();
        // 22 columns of counts: indented by 4 at 26, by 2 at 24, on two lines below that.
        let rows = count_rows(&items, 26, 1);
        assert_eq!(
            rows,
            [ItemRow {
                from: 0,
                to: 5,
                indent: 4
            }]
        );
        assert_eq!(count_rows(&items, 25, 1)[0].indent, 2);
        let rows = count_rows(&items, 20, 1);
        assert_eq!(
            rows.iter().map(|r| (r.from, r.to)).collect::<Vec<_>>(),
            [(0, 4), (4, 5)]
        );
    }

    #[test]
    fn narrow_session_panes_drop_the_least_needed_columns_first() {
        let cols = |w, queue, sort| session_columns(w, queue, sort, 12);
        let c = cols(44, false, SortKey::Violations);
        assert!(!c.username && !c.started && !c.duration && !c.timeline);
        let c = cols(52, false, SortKey::Violations);
        assert!(c.timeline && !c.started && !c.duration && !c.username);
        let c = cols(64, false, SortKey::Violations);
        assert!(c.timeline && c.started && !c.duration);
        let c = cols(98, false, SortKey::Violations);
        assert!(c.started && c.duration && c.username && c.timeline);
        let c = cols(98, true, SortKey::Violations);
        assert!(c.exam && !c.username, "the exam takes the username's place");
        let c = session_columns(98, false, SortKey::Violations, 20);
        assert!(!c.username, "a wide status takes from the rest");
        let c = cols(52, false, SortKey::Duration);
        assert!(
            c.duration && !c.timeline,
            "the sorted column is always shown"
        );
    }
}
