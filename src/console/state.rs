//! Everything the console shows, and nothing it must wait for.

use super::keymap::{Keymap, Scope};
use super::theme::Theme;
use crate::api::SortKey;
use crate::domain::{
    CourseSummary, ExamSummary, MediaId, SessionDetail, SessionId, SessionRow, Verdict,
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
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

/// A decision its reviewer may still undo: its email and callback are held until `until`.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoOffer {
    pub session: SessionId,
    pub learner: String,
    pub verdict: Verdict,
    pub until: time::OffsetDateTime,
    /// The status message that announced the decision; the countdown rides on it.
    pub message: String,
    /// The undo request on its way.
    pub request: Option<RequestId>,
}

impl UndoOffer {
    /// Whole seconds left, as of `now` (before the first tick: all of them, roughly).
    pub fn seconds_left(&self, now: Option<time::OffsetDateTime>) -> Option<i64> {
        now.map(|n| (self.until - n).whole_seconds().max(0))
    }

    pub fn live(&self, now: Option<time::OffsetDateTime>) -> bool {
        self.seconds_left(now) != Some(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub text: String,
    pub tone: Tone,
    /// The session it is about, when it is about one: never shown under a dialog about
    /// another learner.
    pub about: Option<SessionId>,
}

/// Messages kept for the log (`m`), oldest dropped first.
pub const MESSAGES_KEPT: usize = 200;

/// A full-screen panel over the panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    /// Every key in force (`?`).
    Keys,
    /// This run's messages in full, newest first (`m`).
    Messages,
    /// The team's backlog and pace in a course (`T`).
    Team,
}

/// The Team view: one course's stats, reloaded as decisions happen while it is open.
#[derive(Debug)]
pub struct TeamView {
    pub course_id: String,
    pub course_name: String,
    pub stats: Option<crate::domain::stats::TeamStats>,
    pub request: Option<RequestId>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct QuizPane {
    pub courses: Vec<CourseSummary>,
    pub cursor: usize,
    pub request: Option<RequestId>,
    pub error: Option<String>,
}

impl QuizPane {
    /// What the reviewer may do in a course, as the server said when listing it.
    pub fn access(&self, course: &str) -> Option<crate::domain::access::Access> {
        self.courses
            .iter()
            .find(|c| c.id == course)
            .and_then(|c| c.access)
    }

    pub fn exams(&self) -> impl Iterator<Item = &ExamSummary> {
        self.courses.iter().flat_map(|c| c.exams.iter())
    }

    pub fn exam_count(&self) -> usize {
        self.courses.iter().map(|c| c.exams.len()).sum()
    }

    /// The entries the cursor moves over: the cross-exam queue first, then every exam.
    pub fn entry_count(&self) -> usize {
        match self.exam_count() {
            0 => 0,
            n => n + 1,
        }
    }

    /// Sessions waiting for this reviewer's decision across every exam listed (not their own
    /// first opinions, which wait for someone else).
    pub fn attention_total(&self) -> u64 {
        self.exams().map(|e| e.counts.to_review()).sum()
    }

    pub fn selected(&self) -> Option<Listing> {
        match self.cursor {
            _ if self.courses.is_empty() => None,
            0 => Some(Listing::Queue),
            i => self.exams().nth(i - 1).cloned().map(Listing::Exam),
        }
    }

    /// The entry of `listing`, if it is listed.
    pub fn position(&self, listing: &Listing) -> Option<usize> {
        match listing {
            Listing::Queue => (!self.courses.is_empty()).then_some(0),
            Listing::Exam(e) => self
                .exams()
                .position(|x| x.exam.id == e.exam.id)
                .map(|i| i + 1),
        }
    }

    /// Where the cursor starts: the first entry with work (the queue when there is any).
    pub fn first_with_work(&self) -> usize {
        if self.attention_total() > 0 {
            0
        } else {
            1.min(self.entry_count().saturating_sub(1))
        }
    }
}

/// What the Sessions pane lists.
#[derive(Debug, Clone, PartialEq)]
pub enum Listing {
    /// Require Attention across every exam the reviewer may see.
    Queue,
    Exam(ExamSummary),
}

impl Listing {
    pub fn exam(&self) -> Option<&ExamSummary> {
        match self {
            Self::Queue => None,
            Self::Exam(e) => Some(e),
        }
    }

    pub fn same(&self, other: &Listing) -> bool {
        match (self, other) {
            (Self::Queue, Self::Queue) => true,
            (Self::Exam(a), Self::Exam(b)) => a.exam.id == b.exam.id,
            _ => false,
        }
    }
}

/// Which page of the Sessions list a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fetch {
    /// The first page, replacing the window (the selection stays if it is there).
    #[default]
    First,
    /// The page after the window.
    After,
    /// The page before it.
    Before,
    /// The last page, replacing the window (`G`).
    Last,
}

#[derive(Debug)]
pub struct SessionsPane {
    pub listing: Option<Listing>,
    /// A window of the list: rows `base..base + rows.len()` of `total`. `G` loads the last
    /// page directly, so a 250,000-row exam never has to be read through to its end.
    pub rows: Vec<SessionRow>,
    pub base: u64,
    pub total: u64,
    /// `total` is a lower bound (a search too common to count quickly).
    pub at_least: bool,
    /// Cursors of the window's first and last rows while rows lie beyond them.
    pub prev: Option<String>,
    pub next: Option<String>,
    /// What the pending request asks for, so its answer lands in the right place.
    pub fetch: Fetch,
    pub cursor: usize,
    pub request: Option<RequestId>,
    pub error: Option<String>,
    pub attention_only: bool,
    pub sort: SortKey,
    pub desc: bool,
    pub search: Input,
    pub searching: bool,
    /// The order of the other kind of list (the queue's while an exam is open, and back).
    pub other_order: (SortKey, bool),
}

impl Default for SessionsPane {
    fn default() -> Self {
        Self {
            listing: None,
            rows: Vec::new(),
            base: 0,
            total: 0,
            at_least: false,
            prev: None,
            next: None,
            fetch: Fetch::First,
            cursor: 0,
            request: None,
            error: None,
            attention_only: false,
            sort: SortKey::Started,
            desc: true,
            search: Input::default(),
            searching: false,
            other_order: (SortKey::Started, false),
        }
    }
}

impl SessionsPane {
    pub fn selected(&self) -> Option<&SessionRow> {
        self.rows.get(self.cursor)
    }

    /// The open exam; `None` for the cross-exam queue or nothing open.
    pub fn exam(&self) -> Option<&ExamSummary> {
        self.listing.as_ref().and_then(Listing::exam)
    }

    pub fn is_queue(&self) -> bool {
        self.listing == Some(Listing::Queue)
    }
}

/// The tabs of Learner Detail, in the order `[`/`]` and the number keys reach them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Tab {
    #[default]
    ExamData,
    Video,
    Violations,
    Scans,
    Onboarding,
    History,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Self::ExamData,
        Self::Video,
        Self::Violations,
        Self::Scans,
        Self::Onboarding,
        Self::History,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Self::ExamData => "Exam Data",
            Self::Video => "Video Monitoring",
            Self::Violations => "Online Violations",
            Self::Scans => "Verification Scans",
            Self::Onboarding => "Onboarding",
            Self::History => "History",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Self::ExamData => "Exam",
            Self::Video => "Video",
            Self::Violations => "Violations",
            Self::Scans => "Scans",
            Self::Onboarding => "Onboard",
            Self::History => "History",
        }
    }

    pub fn index(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    pub fn nth(i: usize) -> Self {
        Self::ALL[i % Self::ALL.len()]
    }

    /// Tabs whose rows are items to select (and open), rather than text to scroll.
    pub fn is_list(self) -> bool {
        matches!(self, Self::Video | Self::Violations | Self::Scans)
    }
}

/// A decoded image ready to draw at one size; the runner makes it off the render path.
#[derive(Clone)]
pub struct PreviewImage(pub std::sync::Arc<ratatui_image::protocol::Protocol>);

impl std::fmt::Debug for PreviewImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreviewImage")
    }
}

/// The inline preview: which file, at what size (columns, rows), and how far it got.
#[derive(Debug, Clone)]
pub struct Preview {
    pub media: MediaId,
    pub size: (u16, u16),
    pub request: Option<RequestId>,
    pub image: Option<PreviewImage>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct DetailPane {
    /// The session the pane is for (the one under the Sessions cursor).
    pub session: Option<SessionId>,
    pub data: Option<SessionDetail>,
    pub request: Option<RequestId>,
    pub error: Option<String>,
    /// Scroll of the text tabs (Exam Data, Onboarding, History).
    pub scroll: u16,
    pub tab: Tab,
    /// The selected row of each list tab, by [`Tab::index`].
    pub picks: [usize; 6],
    pub preview: Option<Preview>,
    /// An `o` on its way: the request and the session it opens evidence of.
    pub opening: Option<RequestId>,
    /// A `y` on its way: the link it asked for.
    pub linking: Option<RequestId>,
    /// Sessions whose video the reviewer opened in this run (the confirmation says so).
    pub video_opened: HashSet<SessionId>,
    /// A Pass or Fail pressed before the session had loaded: its dialog opens when it has.
    pub wanted_verdict: Option<(SessionId, crate::domain::Verdict)>,
    /// The flagged moment playing inline.
    pub play: Option<super::playback::Playback>,
    /// Whether the playing moment, or else the previewed image, fills the terminal.
    pub zoomed: bool,
    /// Counts playbacks, so a tick of an earlier one is not taken for this one's.
    pub plays: u64,
    /// A recording's contact sheet, over the pane.
    pub sheet: Option<super::sheet::Sheet>,
}

impl DetailPane {
    pub fn pick(&self) -> usize {
        self.picks[self.tab.index()]
    }

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
    /// Told apart from a namesake by their username, not by an internal id.
    pub username: String,
    pub exam: String,
    pub expected_status: crate::domain::AttemptStatus,
    pub consequences: Vec<String>,
    /// What the evidence says, so nobody decides without knowing what was flagged.
    pub evidence: String,
    pub reason: Input,
    pub request: Option<RequestId>,
    /// Why the last attempt did not go through; the dialog stays open so nothing typed is lost.
    pub error: Option<String>,
    /// Sent with every try of this decision, so the server applies it at most once.
    pub idempotency_key: String,
    /// Set when a try's answer was lost: how many times the console has asked again since.
    /// Until an answer comes, nobody knows whether the decision was recorded.
    pub checking: Option<u32>,
    /// The colleagues on this learner when the dialog opened: they are asked about first.
    pub held_by: Vec<String>,
}

/// The Reports view of one course: Pending Tasks and Reports Available.
#[derive(Debug)]
pub struct ReportsView {
    pub course_id: String,
    pub course_name: String,
    pub list: Option<crate::api::ReportList>,
    /// The selected row of Reports Available.
    pub cursor: usize,
    pub request: Option<RequestId>,
    pub starting: Option<RequestId>,
    pub downloading: Option<RequestId>,
    pub error: Option<String>,
    /// The once-a-run warning that a report holds personal data is on screen.
    pub warning: bool,
}

impl ReportsView {
    pub fn new(course_id: String, course_name: String) -> Self {
        Self {
            course_id,
            course_name,
            list: None,
            cursor: 0,
            request: None,
            starting: None,
            downloading: None,
            error: None,
            warning: false,
        }
    }

    pub fn selected(&self) -> Option<&crate::domain::Job> {
        self.list
            .as_ref()
            .and_then(|l| l.available.get(self.cursor))
    }
}

/// Who is on which learner (their soft claims), and the claim this console holds.
#[derive(Debug, Default)]
pub struct Presence {
    /// Every live claim the server told of, this reviewer's own included.
    pub claims: Vec<crate::api::Claim>,
    /// The learner this console claims (the one open in Learner Detail) and the request
    /// that took the claim: a renewal answers only the claim it was scheduled for.
    pub held: Option<(SessionId, RequestId)>,
}

#[derive(Debug)]
pub struct State {
    pub server: String,
    pub reviewer: Option<String>,
    /// This reviewer's id, as `/me` said: a first opinion waiting on a row names its
    /// reviewer by id.
    pub reviewer_id: Option<i64>,
    pub theme: Theme,
    /// Whether evidence images are previewed in the terminal.
    pub images: bool,
    pub width: u16,
    pub height: u16,
    pub focus: Pane,
    pub quizzes: QuizPane,
    pub sessions: SessionsPane,
    pub detail: DetailPane,
    pub dialog: Option<ConfirmDialog>,
    pub reports: Option<ReportsView>,
    /// Reviewers were told, once this run, that reports hold personal data.
    pub pii_warned: bool,
    /// Where downloads and exports are saved.
    pub export_dir: std::path::PathBuf,
    /// An export under way.
    pub exporting: Option<RequestId>,
    /// `e` asked whether to take the clips: the session it will export.
    pub export_ask: Option<SessionId>,
    /// A resend to Open edX under way.
    pub lms_retry: Option<RequestId>,
    /// The open overlay and how far it is scrolled.
    pub overlay: Option<(Overlay, u16)>,
    /// The message from the reviewer's last action (or a later event); the next action
    /// clears it.
    pub status: Option<StatusLine>,
    /// Every message of this run, oldest first.
    pub messages: std::collections::VecDeque<StatusLine>,
    /// Whether live changes are arriving (None until the first answer).
    pub live: Option<bool>,
    /// While they are not: when the next attempt to reconnect is made (the status bar
    /// counts down to it).
    pub live_retry: Option<time::OffsetDateTime>,
    /// A `Tick` is on its way: the clock is kept for a countdown (undo, reconnecting).
    pub ticking: bool,
    /// Offered after the last Require Attention session of an exam was decided: Enter goes.
    pub next_exam: Option<ExamSummary>,
    /// The decision that `u` can still take back.
    pub undo: Option<UndoOffer>,
    /// The time as of the last tick (asked for only while something counts down).
    pub now: Option<time::OffsetDateTime>,
    pub next_request: RequestId,
    /// Random per run; with a request id it makes each decision's idempotency key.
    pub run_id: String,
    /// The keys in force: the defaults with the reviewer's config applied.
    pub keys: Keymap,
    /// The server no longer takes this reviewer's token (revoked, expired): why. The
    /// console says so in one place and asks nothing more.
    pub access_lost: Option<String>,
    /// `q` was pressed once while a decision could still be undone; the next `q` quits.
    pub quit_armed: bool,
    /// The server runs inside this process (the demo) and stops with the console.
    pub embedded: bool,
    /// The reviewer holds no course grant (so an empty Quiz List is theirs, not the server's).
    pub no_grants: bool,
    /// Where the last run on this server left off, until the Quiz List has loaded.
    pub resume: Option<Place>,
    /// The session to put the cursor on when the first page arrives.
    pub resume_session: Option<SessionId>,
    pub presence: Presence,
    pub team: Option<TeamView>,
}

impl State {
    pub fn new(server: String, theme: Theme, width: u16, height: u16) -> Self {
        Self {
            server,
            reviewer: None,
            reviewer_id: None,
            theme,
            images: true,
            width,
            height,
            focus: Pane::Quizzes,
            quizzes: QuizPane::default(),
            sessions: SessionsPane::default(),
            detail: DetailPane::default(),
            dialog: None,
            reports: None,
            pii_warned: false,
            export_dir: std::path::PathBuf::from("exports"),
            exporting: None,
            export_ask: None,
            lms_retry: None,
            overlay: None,
            status: None,
            messages: Default::default(),
            undo: None,
            next_exam: None,
            now: None,
            live: None,
            next_request: 1,
            keys: Keymap::default(),
            access_lost: None,
            live_retry: None,
            ticking: false,
            quit_armed: false,
            embedded: false,
            no_grants: false,
            resume: None,
            resume_session: None,
            run_id: "console-run".into(),
            presence: Presence::default(),
            team: None,
        }
    }

    /// The key scopes in force, most specific first.
    /// The other reviewers on `session` (not this one), by username.
    pub fn others_on(&self, session: SessionId) -> Vec<&str> {
        let me = self.reviewer.as_deref();
        let mut who: Vec<&str> = self
            .presence
            .claims
            .iter()
            .filter(|c| c.session_id == session && Some(c.reviewer.as_str()) != me)
            .map(|c| c.reviewer.as_str())
            .collect();
        who.sort_unstable();
        who.dedup();
        who
    }

    pub fn key_scopes(&self) -> Vec<Scope> {
        if self.overlay.is_some() {
            vec![Scope::Help]
        } else if self.dialog.is_some() {
            vec![Scope::Confirm]
        } else if self.reports.is_some() {
            vec![Scope::Reports]
        } else if self.export_ask.is_some() {
            vec![Scope::Export, Scope::Global]
        } else if self.sessions.searching {
            vec![Scope::Search]
        } else {
            match self.focus {
                Pane::Quizzes => vec![Scope::Quizzes, Scope::Global],
                Pane::Sessions => vec![Scope::Sessions, Scope::Session, Scope::Global],
                Pane::Detail if self.detail.sheet.is_some() => vec![Scope::Sheet, Scope::Global],
                Pane::Detail if self.detail.play.is_some() || self.detail.zoomed => {
                    vec![
                        Scope::Playback,
                        Scope::Detail,
                        Scope::Session,
                        Scope::Global,
                    ]
                }
                Pane::Detail => vec![Scope::Detail, Scope::Session, Scope::Global],
            }
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
            || self.detail.opening.is_some()
            || self.exporting.is_some()
            || self
                .detail
                .preview
                .as_ref()
                .is_some_and(|p| p.request.is_some())
            || self.dialog.as_ref().is_some_and(|d| d.request.is_some())
            || self.reports.as_ref().is_some_and(|r| {
                r.request.is_some() || r.starting.is_some() || r.downloading.is_some()
            })
    }

    pub fn say(&mut self, tone: Tone, text: impl Into<String>) {
        self.status = Some(self.log(tone, text.into(), None));
    }

    /// Says something about one session (hidden under a dialog about another).
    pub fn say_about(&mut self, session: SessionId, tone: Tone, text: impl Into<String>) {
        self.status = Some(self.log(tone, text.into(), Some(session)));
    }

    /// Adds to the message on the bar (and to its entry in the log).
    pub fn extend_status(&mut self, tail: &str) {
        if let Some(s) = self.status.as_mut() {
            s.text.push_str(tail);
            if let Some(last) = self.messages.back_mut() {
                last.text.push_str(tail);
            }
        }
    }

    /// Keeps a message for the log without taking the status bar.
    pub fn log(&mut self, tone: Tone, text: String, about: Option<SessionId>) -> StatusLine {
        let line = StatusLine { text, tone, about };
        if self.messages.len() == MESSAGES_KEPT {
            self.messages.pop_front();
        }
        self.messages.push_back(line.clone());
        line
    }
}

/// Where the reviewer was when they last quit, per server (see `resume`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// None: the cross-exam Require Attention queue.
    pub exam: Option<crate::domain::ExamId>,
    pub attention_only: bool,
    pub sort: SortKey,
    pub desc: bool,
    pub search: String,
    pub session: Option<SessionId>,
    pub focus: SavedPane,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SavedPane {
    QuizList,
    Sessions,
    Detail,
}

impl State {
    /// Where the reviewer is, to start there next time; nothing before a list was opened.
    pub fn place(&self) -> Option<Place> {
        let p = &self.sessions;
        let listing = p.listing.as_ref()?;
        Some(Place {
            exam: match listing {
                Listing::Queue => None,
                Listing::Exam(e) => Some(e.exam.id),
            },
            attention_only: p.attention_only,
            sort: p.sort,
            desc: p.desc,
            search: p.search.value().to_owned(),
            session: p.selected().map(|r| r.id),
            focus: match self.focus {
                Pane::Quizzes => SavedPane::QuizList,
                Pane::Sessions => SavedPane::Sessions,
                Pane::Detail => SavedPane::Detail,
            },
        })
    }
}
