//! What flows into `update` (user intents and answers) and out of it (effects to run).

use super::state::{PreviewImage, RequestId};
use crate::api::{DecisionRequest, Page, SessionQuery};
use crate::client::ClientError;
use crate::domain::{
    CourseSummary, ExamId, MediaId, MediaKind, SessionDetail, SessionId, SessionRow,
};
use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};

#[derive(Debug, Clone)]
pub enum Action {
    Start,
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    MeLoaded(Result<crate::api::Me, ClientError>),
    CoursesLoaded {
        request: RequestId,
        result: Result<Vec<CourseSummary>, ClientError>,
    },
    SessionsLoaded {
        request: RequestId,
        result: Result<Page<SessionRow>, ClientError>,
    },
    DetailLoaded {
        request: RequestId,
        result: Result<SessionDetail, ClientError>,
    },
    Decided {
        request: RequestId,
        session: SessionId,
        result: Result<SessionDetail, ClientError>,
    },
    /// A change on the server (someone's decision), as it happened.
    Changed(crate::api::ChangeEvent),
    /// The live stream of changes is up (true) or down (false; asked again with backoff).
    Live(bool),
    /// The live stream is tried again at this time.
    Reconnecting(time::OffsetDateTime),
    /// The server refused the token (revoked, expired): why.
    AccessLost(String),
    /// A second passed (asked for while something counts down).
    Tick(time::OffsetDateTime),
    Undone {
        request: RequestId,
        result: Result<SessionDetail, ClientError>,
    },
    LmsRetried {
        request: RequestId,
        result: Result<SessionDetail, ClientError>,
    },
    PreviewLoaded {
        request: RequestId,
        result: Result<PreviewImage, String>,
    },
    /// Some of a stretch's stills, fitted to the cells asked for, in time order (ms into
    /// the file); more follow unless `done`.
    FramesLoaded {
        request: RequestId,
        result: Result<Vec<(u64, PreviewImage)>, String>,
        done: bool,
    },
    /// A recording's contact sheet, each still fitted to the cells asked for.
    SheetLoaded {
        request: RequestId,
        result: Result<Vec<(u64, PreviewImage)>, String>,
    },
    /// Time for the playing moment's next still (`ticket` names the one tick chain in force).
    PlayTick {
        generation: u64,
        ticket: u64,
        at: std::time::Instant,
    },
    ReportsLoaded {
        request: RequestId,
        result: Result<crate::api::ReportList, ClientError>,
    },
    ReportStarted {
        request: RequestId,
        result: Result<crate::domain::Job, ClientError>,
    },
    ReportDownloaded {
        request: RequestId,
        result: Result<std::path::PathBuf, String>,
    },
    ExportProgress {
        request: RequestId,
        done: usize,
        total: usize,
    },
    /// An export finished: where it is and what it holds, or why it failed.
    Exported {
        request: RequestId,
        result: Result<(std::path::PathBuf, String), String>,
    },
    /// The system viewer was handed a fresh signed link (or refused, with why).
    Opened {
        request: RequestId,
        session: SessionId,
        kind: MediaKind,
        result: Result<(), String>,
    },
    /// Every claim the server holds in this reviewer's courses (after the live stream came
    /// up: what it tells from then on keeps the list current).
    ClaimsLoaded(Result<Vec<crate::api::Claim>, ClientError>),
    /// The claim taken by `request` was taken or renewed: the claims on its session.
    ClaimTaken {
        request: RequestId,
        session: SessionId,
        result: Result<Vec<crate::api::Claim>, ClientError>,
    },
    /// Time to renew the claim taken by `request`, if it is still held.
    ClaimDue(RequestId),
    StatsLoaded {
        request: RequestId,
        result: Result<crate::domain::stats::TeamStats, ClientError>,
    },
    /// A signed link to evidence, to copy.
    LinkReady {
        request: RequestId,
        kind: MediaKind,
        result: Result<String, String>,
    },
}

impl Action {
    /// Terminal events the console reacts to; key releases and repeats-as-release are dropped.
    pub fn from_event(ev: Event) -> Option<Self> {
        match ev {
            Event::Key(k) if k.kind != KeyEventKind::Release => Some(Self::Key(k)),
            Event::Paste(s) => Some(Self::Paste(s)),
            Event::Mouse(m)
                if matches!(
                    m.kind,
                    MouseEventKind::Down(_) | MouseEventKind::ScrollUp | MouseEventKind::ScrollDown
                ) =>
            {
                Some(Self::Mouse(m))
            }
            Event::Resize(w, h) => Some(Self::Resize(w, h)),
            _ => None,
        }
    }
}

/// Which list of sessions to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListId {
    /// Require Attention across every exam.
    Queue,
    Exam(ExamId),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Leave the console (the loop restores the terminal).
    Quit,
    /// Give the terminal back to the shell until `fg`.
    Suspend,
    LoadMe,
    LoadCourses {
        request: RequestId,
    },
    LoadSessions {
        request: RequestId,
        list: ListId,
        query: SessionQuery,
    },
    LoadDetail {
        request: RequestId,
        session: SessionId,
    },
    /// Send a decision after `delay_ms` (0 the first time; more when asking again after a
    /// lost answer).
    Decide {
        request: RequestId,
        session: SessionId,
        body: DecisionRequest,
        delay_ms: u64,
    },
    /// Send the session's review to Open edX again.
    RetryLms {
        request: RequestId,
        session: SessionId,
    },
    /// Follow the server's live changes for as long as the console runs.
    FollowChanges,
    /// Take back the reviewer's decision on the session (within its grace period).
    Undo {
        request: RequestId,
        session: SessionId,
    },
    /// Send `Action::Tick` after `delay_ms`.
    Tick {
        delay_ms: u64,
    },
    /// List a course's reports, after `delay_ms` (live updates while tasks are pending).
    LoadReports {
        request: RequestId,
        course: String,
        delay_ms: u64,
    },
    StartReport {
        request: RequestId,
        course: String,
    },
    /// Download a finished report into `dir` through a fresh signed link.
    DownloadReport {
        request: RequestId,
        job: crate::domain::Job,
        dir: std::path::PathBuf,
    },
    /// Export one session's evidence and data into the export folder.
    ExportSession {
        request: RequestId,
        detail: Box<SessionDetail>,
        dir: std::path::PathBuf,
        /// The violations' video clips too.
        clips: bool,
    },
    /// Export the exam's whole Sessions list under `query` as CSV.
    ExportTable {
        request: RequestId,
        /// The exam's list, or None for the queue (every exam).
        exam: Option<Box<crate::domain::ExamSummary>>,
        /// Names and courses of the exams the rows may belong to.
        exams: crate::export::ExamNames,
        query: SessionQuery,
        dir: std::path::PathBuf,
    },
    /// Fetch a video's stills from `from_ms` to `to_ms` (one frame pack, waiting while the
    /// server draws them) and fit each into `cols`×`rows` cells.
    LoadFrames {
        request: RequestId,
        media: MediaId,
        from_ms: u64,
        to_ms: u64,
        cols: u16,
        rows: u16,
    },
    /// Fetch a video's contact sheet (waiting while the server draws it) and fit each
    /// still into `cols`×`rows` cells.
    LoadSheet {
        request: RequestId,
        media: MediaId,
        cols: u16,
        rows: u16,
    },
    /// Send `Action::PlayTick` after `delay_ms`.
    PlayTick {
        generation: u64,
        ticket: u64,
        delay_ms: u64,
    },
    /// Fetch, decode and fit an image into `cols`×`rows` cells.
    LoadPreview {
        request: RequestId,
        media: MediaId,
        cols: u16,
        rows: u16,
    },
    /// Open evidence in the system's viewer through a fresh signed link, `fragment` (a
    /// media fragment such as `#t=4,9`) appended.
    Open {
        request: RequestId,
        session: SessionId,
        media: MediaId,
        kind: MediaKind,
        fragment: Option<String>,
    },
    /// Ask for a fresh signed link to evidence (`fragment` appended), to copy it.
    LinkFor {
        request: RequestId,
        media: MediaId,
        kind: MediaKind,
        fragment: Option<String>,
    },
    LoadClaims,
    /// The team's stats in a course (the Team view).
    LoadStats {
        request: RequestId,
        course: String,
    },
    /// Take (or renew) the claim on the learner open in Learner Detail.
    Claim {
        request: RequestId,
        session: SessionId,
    },
    /// Send `Action::ClaimDue(request)` after `delay_ms`.
    RenewClaim {
        request: RequestId,
        delay_ms: u64,
    },
    /// Let go of the claim on a learner this console left.
    Release {
        session: SessionId,
    },
    /// Put `text` on the clipboard of the terminal the reviewer sits at (OSC 52: it
    /// travels with the output, so it works over SSH). The terminal's, not the runner's.
    Clipboard(String),
}
