//! Everything the console shows, and nothing it must wait for.

use super::theme::Theme;
use crate::api::SortKey;
use crate::domain::{CourseSummary, ExamSummary, SessionDetail, SessionId, SessionRow, Verdict};
use tui_input::Input;

pub type RequestId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Quizzes,
    Sessions,
    Detail,
}

impl Pane {
    pub fn title(self) -> &'static str {
        match self {
            Self::Quizzes => "Quiz List",
            Self::Sessions => "Sessions",
            Self::Detail => "Learner Detail",
        }
    }
}

/// Terminals at least this wide show all three panes side by side.
pub const WIDE: u16 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub text: String,
    pub tone: Tone,
}

#[derive(Debug, Default)]
pub struct QuizPane {
    pub courses: Vec<CourseSummary>,
    pub cursor: usize,
    pub request: Option<RequestId>,
    pub error: Option<String>,
}

impl QuizPane {
    pub fn exams(&self) -> impl Iterator<Item = &ExamSummary> {
        self.courses.iter().flat_map(|c| c.exams.iter())
    }

    pub fn exam_count(&self) -> usize {
        self.courses.iter().map(|c| c.exams.len()).sum()
    }

    pub fn selected(&self) -> Option<&ExamSummary> {
        self.exams().nth(self.cursor)
    }
}

#[derive(Debug)]
pub struct SessionsPane {
    pub exam: Option<ExamSummary>,
    pub rows: Vec<SessionRow>,
    pub total: u64,
    pub cursor: usize,
    pub request: Option<RequestId>,
    pub error: Option<String>,
    pub attention_only: bool,
    pub sort: SortKey,
    pub desc: bool,
    pub search: Input,
    pub searching: bool,
}

impl Default for SessionsPane {
    fn default() -> Self {
        Self {
            exam: None,
            rows: Vec::new(),
            total: 0,
            cursor: 0,
            request: None,
            error: None,
            attention_only: false,
            sort: SortKey::Started,
            desc: true,
            search: Input::default(),
            searching: false,
        }
    }
}

impl SessionsPane {
    pub fn selected(&self) -> Option<&SessionRow> {
        self.rows.get(self.cursor)
    }
}

#[derive(Debug, Default)]
pub struct DetailPane {
    /// The session the pane is for (the one under the Sessions cursor).
    pub session: Option<SessionId>,
    pub data: Option<SessionDetail>,
    pub request: Option<RequestId>,
    pub error: Option<String>,
    pub scroll: u16,
}

impl DetailPane {
    /// The loaded detail, if it is the one for the session the pane is showing.
    pub fn current(&self) -> Option<&SessionDetail> {
        self.data
            .as_ref()
            .filter(|d| Some(d.row.id) == self.session)
    }
}

#[derive(Debug)]
pub struct ConfirmDialog {
    pub session: SessionId,
    pub verdict: Verdict,
    pub learner: String,
    pub exam: String,
    pub expected_status: crate::domain::AttemptStatus,
    pub consequences: Vec<String>,
    pub reason: Input,
    pub request: Option<RequestId>,
    /// Why the last attempt did not go through; the dialog stays open so nothing typed is lost.
    pub error: Option<String>,
}

#[derive(Debug)]
pub struct State {
    pub server: String,
    pub reviewer: Option<String>,
    pub theme: Theme,
    pub width: u16,
    pub height: u16,
    pub focus: Pane,
    pub quizzes: QuizPane,
    pub sessions: SessionsPane,
    pub detail: DetailPane,
    pub dialog: Option<ConfirmDialog>,
    pub help: Option<u16>,
    pub status: Option<StatusLine>,
    pub next_request: RequestId,
    pub quit: bool,
    /// Hand the terminal back to the shell (Ctrl-z); the loop resets it once resumed.
    pub suspend: bool,
}

impl State {
    pub fn new(server: String, theme: Theme, width: u16, height: u16) -> Self {
        Self {
            server,
            reviewer: None,
            theme,
            width,
            height,
            focus: Pane::Quizzes,
            quizzes: QuizPane::default(),
            sessions: SessionsPane::default(),
            detail: DetailPane::default(),
            dialog: None,
            help: None,
            status: None,
            next_request: 1,
            quit: false,
            suspend: false,
        }
    }

    pub fn request_id(&mut self) -> RequestId {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    pub fn wide(&self) -> bool {
        self.width >= WIDE
    }

    pub fn loading(&self) -> bool {
        self.quizzes.request.is_some()
            || self.sessions.request.is_some()
            || self.detail.request.is_some()
            || self.dialog.as_ref().is_some_and(|d| d.request.is_some())
    }

    pub fn say(&mut self, tone: Tone, text: impl Into<String>) {
        self.status = Some(StatusLine {
            text: text.into(),
            tone,
        });
    }
}
