//! `update(&mut State, Action) -> Vec<Effect>`: synchronous and pure. It never waits; what
//! needs the network is returned as an effect, and its answer comes back as an action that
//! carries the id of the request it answers.

mod decide;
mod detail;
mod export;
#[cfg(test)]
mod four_eyes_tests;
mod live;
mod loaded;
mod mouse;
mod navigate;
mod play;
mod presence;
mod reports;
mod sheet;
mod team;
mod undo;

use super::action::{Action, Effect};
use super::keymap::{Command, Scope};
use super::state::{Overlay, State, Tone};
use crossterm::event::{Event, KeyEvent};
use tui_input::backend::crossterm::EventHandler;

pub use navigate::sessions_query;

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    if let Some(why) = refused_token(&action) {
        return access_lost(state, why);
    }
    if state.access_lost.is_some() {
        return after_access_lost(state, action);
    }
    let mut effects = apply(state, action);
    effects.extend(sheet::sync(state));
    effects.extend(play::sync(state));
    effects.extend(detail::sync_preview(state));
    effects.extend(presence::sync(state));
    effects
}

/// The server's word that the token is no good any more, in whatever answer it came.
fn refused_token(action: &Action) -> Option<String> {
    use crate::client::ClientError::Unauthorized;
    let refused = |e: &crate::client::ClientError| match e {
        Unauthorized(m) => Some(m.clone()),
        _ => None,
    };
    match action {
        Action::AccessLost(m) => Some(m.clone()),
        Action::MeLoaded(Err(e))
        | Action::CoursesLoaded { result: Err(e), .. }
        | Action::SessionsLoaded { result: Err(e), .. }
        | Action::DetailLoaded { result: Err(e), .. }
        | Action::Decided { result: Err(e), .. }
        | Action::Undone { result: Err(e), .. }
        | Action::LmsRetried { result: Err(e), .. }
        | Action::ReportsLoaded { result: Err(e), .. }
        | Action::ReportStarted { result: Err(e), .. } => refused(e),
        _ => None,
    }
}

/// The token was refused: one plain message, no list left standing, nothing more asked.
fn access_lost(state: &mut State, why: String) -> Vec<Effect> {
    state.access_lost = Some(why);
    state.dialog = None;
    state.overlay = None;
    state.reports = None;
    state.undo = None;
    vec![]
}

/// With the token refused only quitting (and redrawing) does anything.
fn after_access_lost(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Resize(w, h) => {
            state.width = w;
            state.height = h;
            vec![]
        }
        Action::Key(key) => match state.keys.lookup(&[Scope::Global], &key) {
            Some(Command::Quit | Command::ForceQuit) => vec![Effect::Quit],
            _ => vec![],
        },
        _ => vec![],
    }
}

fn apply(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Start => {
            let request = state.request_id();
            state.quizzes.request = Some(request);
            vec![
                Effect::LoadMe,
                Effect::LoadCourses { request },
                Effect::FollowChanges,
            ]
        }
        Action::Resize(w, h) => {
            state.width = w;
            state.height = h;
            vec![]
        }
        Action::Key(key) => on_key(state, key),
        Action::Mouse(m) => mouse::on_mouse(state, m),
        Action::Paste(text) => on_paste(state, &text),
        Action::AccessLost(why) => access_lost(state, why),
        Action::MeLoaded(Ok(me)) => {
            state.no_grants =
                me.reviewer.role == crate::domain::Role::Reviewer && me.grants.is_empty();
            state.reviewer = Some(me.reviewer.username);
            state.reviewer_id = Some(me.reviewer.id);
            loaded::say_if_empty(state);
            vec![]
        }
        Action::MeLoaded(Err(e)) => {
            state.say(Tone::Error, e.to_string());
            vec![]
        }
        Action::CoursesLoaded { request, result } => loaded::courses(state, request, result),
        Action::SessionsLoaded { request, result } => loaded::sessions(state, request, result),
        Action::DetailLoaded { request, result } => loaded::detail(state, request, result),
        Action::Decided {
            request,
            session,
            result,
        } => decide::decided(state, request, session, result),
        Action::LmsRetried { request, result } => decide::lms_retried(state, request, result),
        Action::Tick(now) => undo::tick(state, now),
        Action::Changed(event) => live::changed(state, event),
        Action::Live(up) => live::connection(state, up),
        Action::Reconnecting(at) => live::reconnecting(state, at),
        Action::Undone { request, result } => undo::undone(state, request, result),
        Action::ReportsLoaded { request, result } => reports::loaded(state, request, result),
        Action::ReportStarted { request, result } => reports::started(state, request, result),
        Action::ReportDownloaded { request, result } => reports::downloaded(state, request, result),
        Action::ExportProgress {
            request,
            done,
            total,
        } => export::progress(state, request, done, total),
        Action::Exported { request, result } => export::finished(state, request, result),
        Action::PreviewLoaded { request, result } => detail::preview_loaded(state, request, result),
        Action::FramesLoaded {
            request,
            result,
            done,
        } => play::loaded(state, request, result, done),
        Action::SheetLoaded { request, result } => sheet::loaded(state, request, result),
        Action::PlayTick {
            generation,
            ticket,
            at,
        } => play::tick(state, generation, ticket, at),
        Action::Opened {
            request,
            session,
            kind,
            result,
        } => detail::opened(state, request, session, kind, result),
        Action::LinkReady {
            request,
            kind,
            result,
        } => detail::link_ready(state, request, kind, result),
        Action::ClaimsLoaded(result) => presence::loaded(state, result),
        Action::ClaimTaken {
            request,
            session,
            result,
        } => presence::taken(state, request, session, result),
        Action::ClaimDue(request) => presence::due(state, request),
        Action::StatsLoaded { request, result } => team::loaded(state, request, result),
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    // A message belongs to the action that caused it; the next key press clears it (the
    // log keeps it).
    state.status = None;
    // Any key but a second q takes back a q pressed during an undo window.
    let quit_armed = std::mem::take(&mut state.quit_armed);
    let bound = state.keys.lookup(&state.key_scopes(), &key);
    if bound == Some(Command::Quit) && !quit_armed && quit_would_cut_undo(state) {
        return vec![];
    }
    // An offer to go on to the next exam lasts one key: Open (Enter) takes it.
    if let Some(exam) = state.next_exam.take()
        && bound == Some(Command::Open)
        && state.dialog.is_none()
    {
        return navigate::go_to_exam(state, exam);
    }
    if let Some(cmd) = bound {
        return command(state, cmd);
    }
    // Unbound keys are text when a text field is open.
    if let Some(dialog) = state.dialog.as_mut() {
        if dialog.request.is_none() {
            dialog.reason.handle_event(&Event::Key(key));
        }
        return vec![];
    }
    if state.sessions.searching {
        let before = state.sessions.search.value().to_owned();
        state.sessions.search.handle_event(&Event::Key(key));
        if state.sessions.search.value() != before {
            return navigate::reload_sessions(state);
        }
    }
    vec![]
}

fn on_paste(state: &mut State, text: &str) -> Vec<Effect> {
    // A pasted newline must not confirm anything, and control characters never reach the screen.
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let target = match (&mut state.dialog, state.sessions.searching) {
        (Some(d), _) if d.request.is_none() => &mut d.reason,
        (None, true) => &mut state.sessions.search,
        _ => return vec![],
    };
    for c in clean.chars() {
        target.handle(tui_input::InputRequest::InsertChar(c));
    }
    if state.dialog.is_none() {
        return navigate::reload_sessions(state);
    }
    vec![]
}

fn command(state: &mut State, cmd: Command) -> Vec<Effect> {
    use Command as C;
    match cmd {
        C::Quit | C::ForceQuit => vec![Effect::Quit],
        C::Suspend => vec![Effect::Suspend],
        C::Help => {
            state.overlay = Some((Overlay::Keys, 0));
            vec![]
        }
        C::Messages => {
            state.overlay = Some((Overlay::Messages, 0));
            vec![]
        }
        C::Team => team::open(state),
        C::Up if state.detail.sheet.is_some() => sheet::move_by(state, 0, -1),
        C::Down if state.detail.sheet.is_some() => sheet::move_by(state, 0, 1),
        C::StepBack if state.detail.sheet.is_some() => sheet::move_by(state, -1, 0),
        C::StepForward if state.detail.sheet.is_some() => sheet::move_by(state, 1, 0),
        C::NextTab if state.detail.sheet.is_some() => sheet::jump(state, true),
        C::PrevTab if state.detail.sheet.is_some() => sheet::jump(state, false),
        C::Confirm if state.detail.sheet.is_some() => sheet::play_from(state),
        C::Cancel if state.detail.sheet.is_some() => sheet::close(state),
        C::ContactSheet => sheet::open(state),
        C::PlayPause => play::play_pause(state),
        C::StepForward => play::adjust(state, |p| p.step(true)),
        C::StepBack => play::adjust(state, |p| p.step(false)),
        C::Faster => play::adjust(state, |p| p.faster(true)),
        C::Slower => play::adjust(state, |p| p.faster(false)),
        C::Zoom => play::zoom(state),
        C::StopPlay => play::stop(state),
        C::Cancel if state.overlay.is_some() => {
            state.overlay = None;
            vec![]
        }
        C::Up if state.reports.is_some() => reports::move_by(state, -1),
        C::Down if state.reports.is_some() => reports::move_by(state, 1),
        C::Cancel if state.reports.is_some() => reports::close(state),
        C::Confirm if state.reports.is_some() => reports::download(state),
        C::Refresh if state.reports.is_some() => reports::refresh(state),
        C::OpenReports => reports::open(state),
        C::ExportSession if state.export_ask.is_some() => export::answer(state, Some(false)),
        C::ExportWithClips => export::answer(state, Some(true)),
        C::Cancel if state.export_ask.is_some() => export::answer(state, None),
        C::ExportSession => export::ask(state),
        C::RetryLms => decide::retry_lms(state),
        C::Undo => undo::start(state),
        C::ExportTable => export::table(state),
        C::NewReport => reports::start(state),
        C::Up | C::Down if state.overlay.is_some() => {
            scroll_overlay(state, if cmd == C::Up { -1 } else { 1 });
            vec![]
        }
        C::Up => navigate::move_by(state, -1),
        C::Down => navigate::move_by(state, 1),
        C::PageUp => navigate::move_by(state, -navigate::page(state)),
        C::PageDown => navigate::move_by(state, navigate::page(state)),
        C::Top => navigate::top(state),
        C::Bottom => navigate::bottom(state),
        C::Open => navigate::open(state),
        C::Back => navigate::back(state),
        C::NextPane => navigate::cycle_pane(state, true),
        C::PrevPane => navigate::cycle_pane(state, false),
        C::Search => {
            state.sessions.searching = true;
            vec![]
        }
        C::ApplySearch => {
            state.sessions.searching = false;
            vec![]
        }
        C::ClearSearch => {
            state.sessions.searching = false;
            if state.sessions.search.value().is_empty() {
                return vec![];
            }
            state.sessions.search.reset();
            navigate::reload_sessions(state)
        }
        C::ToggleAttention => {
            state.sessions.attention_only = !state.sessions.attention_only;
            navigate::reload_sessions(state)
        }
        C::CycleSort => {
            state.sessions.sort = state.sessions.sort.next();
            state.sessions.desc = state.sessions.sort.natural_desc();
            navigate::reload_sessions(state)
        }
        C::ReverseSort => {
            state.sessions.desc = !state.sessions.desc;
            navigate::reload_sessions(state)
        }
        C::Refresh => navigate::refresh(state),
        C::Pass => decide::open_confirm(state, crate::domain::Verdict::Pass),
        C::Fail => decide::open_confirm(state, crate::domain::Verdict::Fail),
        C::Confirm => decide::confirm(state),
        C::NextTab => detail::cycle_tab(state, true),
        C::PrevTab => detail::cycle_tab(state, false),
        C::Tab(i) => detail::set_tab(state, super::state::Tab::nth(i as usize)),
        C::OpenEvidence => detail::open(state),
        C::CopyLink => detail::copy_link(state),
        C::Cancel => decide::cancel(state),
    }
}

#[cfg(test)]
mod tests;

pub(super) fn scroll_overlay(state: &mut State, by: i32) {
    if let Some((_, scroll)) = state.overlay.as_mut() {
        *scroll = scroll.saturating_add_signed(by.clamp(-100, 100) as i16);
    }
}

/// Quitting while a decision can still be undone: says what happens to it and asks for a
/// second q (true), so nobody quits unaware that the window closes with the console.
fn quit_would_cut_undo(state: &mut State) -> bool {
    let Some(offer) = &state.undo else {
        return false;
    };
    if offer.seconds_left(state.now).is_some_and(|left| left <= 0) {
        return false;
    }
    // Short enough for 80 columns; the countdown ("u to undo (N s)") says how long is left.
    let when = if state.embedded {
        "its email goes now"
    } else {
        "its email waits for the undo window"
    };
    let message = format!(
        "q again quits: the {} of {} stands, {when}",
        offer.verdict.word(),
        offer.learner
    );
    state.quit_armed = true;
    state.say(Tone::Info, message);
    true
}
