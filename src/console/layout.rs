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
    Counts(usize, usize),
    Blank,
}

pub fn quiz_lines(state: &State) -> Vec<QuizLine> {
    let mut out = Vec::new();
    if !state.quizzes.courses.is_empty() {
        out.push(QuizLine::Queue);
        out.push(QuizLine::Blank);
    }
    let mut i = 1;
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
    if body.width >= 64 {
        let side = body.width * 2 / 5;
        let list = Rect {
            width: body.width - side - 1,
            ..body
        };
        let preview = Rect {
            x: body.x + list.width + 1,
            width: side,
            ..body
        };
        DetailRegions {
            tabs,
            timeline,
            body: list,
            preview: Some(preview),
        }
    } else if body.height >= 14 {
        let below = body.height * 9 / 20;
        let list = Rect {
            height: body.height - below,
            ..body
        };
        let preview = Rect {
            y: body.y + list.height,
            height: below,
            ..body
        };
        DetailRegions {
            tabs,
            timeline,
            body: list,
            preview: Some(preview),
        }
    } else {
        DetailRegions {
            tabs,
            timeline,
            body,
            preview: None,
        }
    }
}

/// Learner Detail's rectangle, when it is on screen.
pub fn detail_pane(state: &State) -> Option<Rect> {
    panes(state, bars(screen(state)).main)
        .into_iter()
        .find(|(p, _)| *p == Pane::Detail)
        .map(|(_, r)| r)
}

/// Where the preview image goes inside the preview region: below its one-line caption.
pub fn preview_image(region: Rect) -> Rect {
    Rect {
        y: region.y + 1.min(region.height),
        height: region.height.saturating_sub(1),
        ..region
    }
}
