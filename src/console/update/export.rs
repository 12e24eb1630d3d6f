//! Export Data: `e` saves the selected session's evidence and data, `E` the whole Sessions
//! list as it is filtered and sorted now. Progress and the finished path show in the status
//! bar.

use super::navigate::sessions_query;
use crate::console::action::Effect;
use crate::console::state::{RequestId, State, Tone};
use std::path::PathBuf;

pub fn session(state: &mut State) -> Vec<Effect> {
    let Some(d) = state.detail.current().cloned() else {
        let key = state
            .keys
            .key_for(crate::console::keymap::Command::ExportSession);
        state.say(
            Tone::Info,
            format!("Select a session whose details have loaded, then press {key}."),
        );
        return vec![];
    };
    let request = state.request_id();
    state.exporting = Some(request);
    state.say(
        Tone::Info,
        format!("Exporting {}…", d.row.learner.full_name),
    );
    vec![Effect::ExportSession {
        request,
        detail: Box::new(d),
        dir: state.export_dir.clone(),
    }]
}

pub fn table(state: &mut State) -> Vec<Effect> {
    if state.sessions.listing.is_none() {
        state.say(Tone::Info, "Open a list first: the queue or an exam.");
        return vec![];
    }
    let exam = state.sessions.exam().cloned().map(Box::new);
    let exams = state
        .quizzes
        .exams()
        .map(|e| {
            (
                e.exam.id,
                (e.exam.exam_name.clone(), e.exam.course_id.clone()),
            )
        })
        .collect();
    let request = state.request_id();
    state.exporting = Some(request);
    state.say(
        Tone::Info,
        format!(
            "Exporting all {}…",
            crate::export::rows_said(state.sessions.total)
        ),
    );
    vec![Effect::ExportTable {
        request,
        exam,
        exams,
        query: sessions_query(state),
        dir: state.export_dir.clone(),
    }]
}

pub fn progress(state: &mut State, request: RequestId, done: usize, total: usize) -> Vec<Effect> {
    if state.exporting == Some(request) {
        state.say(Tone::Info, format!("Exporting… {done}/{total} files"));
    }
    vec![]
}

pub fn finished(
    state: &mut State,
    request: RequestId,
    result: Result<(PathBuf, String), String>,
) -> Vec<Effect> {
    if state.exporting != Some(request) {
        return vec![];
    }
    state.exporting = None;
    match result {
        Ok((path, what)) => state.say(
            Tone::Success,
            format!("✔ Exported {what} to {}", path.display()),
        ),
        Err(e) => state.say(Tone::Error, format!("Export failed: {e}")),
    }
    vec![]
}
