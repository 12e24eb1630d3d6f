//! The Reports view: a course's Pending Tasks updating live, its Reports Available, a new
//! report on `n`, and downloads on Enter — after a once-a-run warning that a report holds
//! learners' personal data.

use crate::api::ReportList;
use crate::client::ClientError;
use crate::console::action::Effect;
use crate::console::state::{Listing, Pane, ReportsView, RequestId, State, Tone};
use crate::domain::Job;
use std::path::PathBuf;

/// How often the list is fetched again while something is pending.
const LIVE_MS: u64 = 500;

/// The course the reviewer is looking at: under the Quiz List cursor, or the open exam's.
/// On the cross-exam queue: the course of the session under the Sessions cursor, else the
/// first course listed.
pub(super) fn course(state: &State) -> Option<(String, String)> {
    let q = &state.quizzes;
    let listing = match state.focus {
        Pane::Quizzes => q.selected(),
        _ => state.sessions.listing.clone(),
    }?;
    let course_id = match &listing {
        Listing::Exam(e) => e.exam.course_id.clone(),
        Listing::Queue => state
            .sessions
            .selected()
            .and_then(|r| q.exams().find(|e| e.exam.id == r.exam_id))
            .map(|e| e.exam.course_id.clone())
            .or_else(|| q.courses.first().map(|c| c.id.clone()))?,
    };
    let name = q
        .courses
        .iter()
        .find(|c| c.id == course_id)
        .map_or_else(|| course_id.clone(), |c| c.name.clone());
    Some((course_id, name))
}

fn load(state: &mut State, delay_ms: u64) -> Vec<Effect> {
    let request = state.request_id();
    let Some(view) = state.reports.as_mut() else {
        return vec![];
    };
    view.request = Some(request);
    vec![Effect::LoadReports {
        request,
        course: view.course_id.clone(),
        delay_ms,
    }]
}

pub fn open(state: &mut State) -> Vec<Effect> {
    let Some((id, name)) = course(state) else {
        state.say(
            Tone::Info,
            "Select an exam first; reports are made per course.",
        );
        return vec![];
    };
    state.reports = Some(ReportsView::new(id, name));
    load(state, 0)
}

pub fn close(state: &mut State) -> Vec<Effect> {
    match state.reports.as_mut() {
        Some(v) if v.warning => v.warning = false,
        _ => state.reports = None,
    }
    vec![]
}

pub fn refresh(state: &mut State) -> Vec<Effect> {
    load(state, 0)
}

pub fn move_by(state: &mut State, delta: isize) -> Vec<Effect> {
    if let Some(v) = state.reports.as_mut() {
        let n = v.list.as_ref().map_or(0, |l| l.available.len());
        v.cursor = super::navigate::clamp_move(v.cursor, delta, n);
    }
    vec![]
}

pub fn start(state: &mut State) -> Vec<Effect> {
    let request = state.request_id();
    let Some(v) = state.reports.as_mut() else {
        return vec![];
    };
    if v.starting.is_some() {
        return vec![];
    }
    v.starting = Some(request);
    vec![Effect::StartReport {
        request,
        course: v.course_id.clone(),
    }]
}

/// Enter: the warning first (once a run), then the download.
pub fn download(state: &mut State) -> Vec<Effect> {
    let request = state.request_id();
    let warned = state.pii_warned;
    let dir: PathBuf = state.export_dir.clone();
    let Some(v) = state.reports.as_mut() else {
        return vec![];
    };
    let Some(job) = v.selected().cloned() else {
        let key = state
            .keys
            .key_for(crate::console::keymap::Command::NewReport);
        state.say(
            Tone::Info,
            format!("No report to download yet: press {key} to generate one."),
        );
        return vec![];
    };
    if !warned && !v.warning {
        v.warning = true;
        return vec![];
    }
    v.warning = false;
    v.downloading = Some(request);
    state.pii_warned = true;
    state.say(Tone::Info, "Downloading the report…");
    vec![Effect::DownloadReport { request, job, dir }]
}

pub fn loaded(
    state: &mut State,
    request: RequestId,
    result: Result<ReportList, ClientError>,
) -> Vec<Effect> {
    let Some(v) = state
        .reports
        .as_mut()
        .filter(|v| v.request == Some(request))
    else {
        return vec![];
    };
    v.request = None;
    match result {
        Ok(list) => {
            let keep = v.selected().map(|j| j.id);
            v.cursor = keep
                .and_then(|id| list.available.iter().position(|j| j.id == id))
                .unwrap_or(0);
            let live = list.pending.iter().any(|j| j.state.pending());
            v.list = Some(list);
            v.error = None;
            if live {
                return load(state, LIVE_MS);
            }
        }
        Err(e) => v.error = Some(e.to_string()),
    }
    vec![]
}

pub fn started(
    state: &mut State,
    request: RequestId,
    result: Result<Job, ClientError>,
) -> Vec<Effect> {
    let Some(v) = state
        .reports
        .as_mut()
        .filter(|v| v.starting == Some(request))
    else {
        return vec![];
    };
    v.starting = None;
    match result {
        Ok(_) => state.say(
            Tone::Success,
            "Report requested; it shows under Pending Tasks until it is ready.",
        ),
        // Already running: the list shows it.
        Err(ClientError::Conflict(m)) => state.say(Tone::Info, m),
        Err(e) => state.say(Tone::Error, format!("Could not start the report: {e}")),
    }
    load(state, 0)
}

pub fn downloaded(
    state: &mut State,
    request: RequestId,
    result: Result<PathBuf, String>,
) -> Vec<Effect> {
    let Some(v) = state
        .reports
        .as_mut()
        .filter(|v| v.downloading == Some(request))
    else {
        return vec![];
    };
    v.downloading = None;
    match result {
        Ok(path) => state.say(Tone::Success, format!("✔ Saved {}", path.display())),
        Err(e) => state.say(Tone::Error, format!("Could not download the report: {e}")),
    }
    vec![]
}
