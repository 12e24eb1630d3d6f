//! Export Data: `e` saves the selected session's evidence and data, `E` the whole Sessions
//! list as it is filtered and sorted now. Progress and the finished path show in the status
//! bar.

use super::navigate::sessions_query;
use crate::console::action::Effect;
use crate::console::state::{RequestId, State, Tone};
use std::path::PathBuf;

/// `e`: asks whether the export takes the violations' clips (they can be large).
pub fn ask(state: &mut State) -> Vec<Effect> {
    let Some(d) = state.detail.current() else {
        return session(state, false);
    };
    let clips = d
        .media
        .iter()
        .filter(|m| m.kind.is_video() && m.violation_id.is_some())
        .count();
    if clips == 0 {
        return session(state, false);
    }
    let name = d.row.learner.full_name.clone();
    state.export_ask = Some(d.row.id);
    let k = |c| state.keys.key_in(crate::console::keymap::Scope::Export, c);
    use crate::console::keymap::Command as C;
    let said = format!(
        "Export {name}'s evidence: {} without the {clips} video clip(s), {} with them, {} neither",
        k(C::ExportSession),
        k(C::ExportWithClips),
        k(C::Cancel)
    );
    state.say(Tone::Info, said);
    vec![]
}

/// The answer to [`ask`]: `None` exports nothing.
pub fn answer(state: &mut State, clips: Option<bool>) -> Vec<Effect> {
    let asked = state.export_ask.take();
    match clips {
        Some(clips) if asked.is_some() && asked == state.detail.session => session(state, clips),
        _ => {
            state.say(Tone::Info, "Nothing exported");
            vec![]
        }
    }
}

pub fn session(state: &mut State, clips: bool) -> Vec<Effect> {
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
        clips,
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
