//! Where everything is on screen, as pure functions of the state and the terminal size.
//! The view draws into these rectangles and mouse handling reads them, so a click always
//! lands on what was drawn there.

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

/// The panes on screen: all three side by side when wide, else the focused one alone.
pub fn panes(state: &State, main: Rect) -> Vec<(Pane, Rect)> {
    if state.wide() {
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
    CourseName(usize),
    CourseId(usize),
    /// An exam's name line: its index among all exams, and (course, exam) to find it.
    Exam(usize, usize, usize),
    Counts(usize, usize),
    Blank,
}

pub fn quiz_lines(state: &State) -> Vec<QuizLine> {
    let mut out = Vec::new();
    let mut i = 0;
    for (c, course) in state.quizzes.courses.iter().enumerate() {
        out.push(QuizLine::CourseName(c));
        out.push(QuizLine::CourseId(c));
        for e in 0..course.exams.len() {
            out.push(QuizLine::Exam(i, c, e));
            out.push(QuizLine::Counts(c, e));
            i += 1;
        }
        out.push(QuizLine::Blank);
    }
    out
}

/// Height of the glyph legend under the Quiz List; it wraps when the pane is narrow.
pub fn quiz_legend_height(state: &State, width: u16) -> u16 {
    match (width < 64 && !state.quizzes.courses.is_empty(), width >= 27) {
        (false, _) => 0,
        (true, true) => 1,
        (true, false) => 2,
    }
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
        .position(|l| matches!(l, QuizLine::Exam(i, ..) if *i == state.quizzes.cursor))
        .unwrap_or(0);
    (
        area,
        window_start(cursor_line, lines.len(), area.height as usize),
    )
}
