//! Pass and Fail: a confirmation that states the consequences, then the decision for the
//! session id that was on screen, then on to the next session that needs attention.

use super::loaded::patch_row;
use super::navigate::follow_cursor;
use crate::api::DecisionRequest;
use crate::client::ClientError;
use crate::console::action::Effect;
use crate::console::keymap::Command;
use crate::console::state::{ConfirmDialog, RequestId, State, Tone, UndoOffer};
use crate::domain::access::Access;
use crate::domain::{AttemptStatus, SessionDetail, SessionId, Verdict, plan_decision};
use tui_input::Input;

/// Asking again after a lost answer: 1 s, then 2, 4, 8, at most 10 s apart.
fn recheck_delay_ms(tries: u32) -> u64 {
    (1000u64 << tries.min(4)).min(10_000)
}

/// Whether an error leaves the decision's outcome unknown: the request may have reached the
/// server and been applied, with the answer lost on the way back.
fn outcome_unknown(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Unreachable { .. }
            | ClientError::Timeout
            | ClientError::Server { .. }
            | ClientError::Decode(_)
    )
}

pub fn open_confirm(state: &mut State, verdict: Verdict) -> Vec<Effect> {
    let Some(row) = state.sessions.selected() else {
        let why = if state.sessions.listing.is_some() && state.sessions.request.is_some() {
            "The list is still loading; press again once its rows show."
        } else {
            "Open an exam and select a session first."
        };
        state.say(Tone::Info, why);
        return vec![];
    };
    let Some(detail) = state.detail.current().filter(|d| d.row.id == row.id) else {
        // The dialog needs the session's facts (grade, email); it opens once they are here.
        state.detail.wanted_verdict = Some((row.id, verdict));
        state.say(
            Tone::Info,
            format!(
                "Loading the session; the {} opens when it is here.",
                verdict.word()
            ),
        );
        return vec![];
    };
    if state.quizzes.access(&detail.course_id) == Some(Access::Read) {
        state.say(
            Tone::Info,
            format!(
                "Read-only access to this course: you can look but not {}.",
                verdict.word().to_lowercase()
            ),
        );
        return vec![];
    }
    if let Some(w) = &detail.waiting
        && state.reviewer.as_deref() == Some(w.first_reviewer.as_str())
    {
        state.say(
            Tone::Info,
            "You gave the first opinion on this learner: a different reviewer confirms or overturns it (u undoes yours while its countdown runs).",
        );
        return vec![];
    }
    let key = format!("{}-{}", state.run_id, state.next_request);
    match plan_decision(&detail.decision_facts(), verdict) {
        Ok(plan) => {
            state.dialog = Some(ConfirmDialog {
                session: detail.row.id,
                verdict,
                learner: detail.row.learner.full_name.clone(),
                username: detail.row.learner.username.clone(),
                exam: detail.exam_name.clone(),
                expected_status: detail.row.status,
                consequences: consequences(detail, &plan),
                evidence: crate::console::evidence::summary(
                    detail,
                    state.detail.video_opened.contains(&detail.row.id),
                ),
                reason: Input::default(),
                request: None,
                error: None,
                idempotency_key: key,
                checking: None,
                held_by: state
                    .others_on(detail.row.id)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            });
        }
        Err(e) => state.say(
            Tone::Error,
            format!("Cannot {}: {e}", verdict.word().to_lowercase()),
        ),
    }
    vec![]
}

/// What the dialog says a decision will do, under the course's four-eyes rule too.
fn consequences(d: &SessionDetail, plan: &crate::domain::DecisionPlan) -> Vec<String> {
    let takes_effect = if d.row.lms.is_some() {
        plan.describe_for_lms()
    } else {
        plan.describe()
    };
    if d.waiting.is_some() {
        let mut lines = vec![
            "second look, blind: the first verdict shows after yours".to_owned(),
            format!("if it was a {} too:", plan.verdict.word()),
        ];
        lines.extend(takes_effect.into_iter().map(|l| format!("  {l}")));
        lines.push("if not: back to Require Attention; nobody is told".into());
        return lines;
    }
    if d.second_review.covers(plan.verdict) {
        return vec![
            format!(
                "your {} is the first opinion: nothing changes yet",
                plan.verdict.word()
            ),
            "nobody is told until a second reviewer confirms it".into(),
        ];
    }
    takes_effect
}

pub fn confirm(state: &mut State) -> Vec<Effect> {
    let request = state.request_id();
    let Some(d) = state.dialog.as_mut() else {
        return vec![];
    };
    if d.request.is_some() {
        return vec![];
    }
    d.request = Some(request);
    d.error = None;
    vec![decide_effect(d, request, 0)]
}

fn decide_effect(d: &ConfirmDialog, request: RequestId, delay_ms: u64) -> Effect {
    Effect::Decide {
        request,
        session: d.session,
        body: DecisionRequest {
            verdict: d.verdict,
            reason: d.reason.value().trim().to_owned(),
            expected_status: Some(d.expected_status),
            idempotency_key: Some(d.idempotency_key.clone()),
        },
        delay_ms,
    }
}

pub fn cancel(state: &mut State) -> Vec<Effect> {
    match &state.dialog {
        // Nobody knows whether it was recorded: never say "nothing changed". Stop asking,
        // and show the session as the server has it.
        Some(d) if d.checking.is_some() => {
            let (session, word) = (d.session, d.verdict.word());
            state.dialog = None;
            state.say(
                Tone::Error,
                format!(
                    "Stopped checking: whether the {word} was recorded is unknown. The session is reloaded — its History shows what the server has."
                ),
            );
            let request = state.request_id();
            state.detail.request = Some(request);
            return vec![Effect::LoadDetail { request, session }];
        }
        // The request is on its way; its answer must still be shown.
        Some(d) if d.request.is_some() => state.say(
            Tone::Info,
            "The decision is being sent; wait for the answer.",
        ),
        Some(_) => {
            state.dialog = None;
            state.say(Tone::Info, "Cancelled; nothing changed.");
        }
        None => {}
    }
    vec![]
}

pub fn decided(
    state: &mut State,
    request: RequestId,
    session: SessionId,
    result: Result<SessionDetail, ClientError>,
) -> Vec<Effect> {
    let Some(dialog) = state.dialog.as_mut().filter(|d| d.request == Some(request)) else {
        return vec![];
    };
    let verdict = dialog.verdict;
    let was_unknown = dialog.checking.is_some();
    match result {
        Ok(d) => {
            state.dialog = None;
            let mut summary = outcome_line(verdict, &d);
            if was_unknown {
                summary = format!("Confirmed after a lost answer: {summary}");
            }
            state.say_about(d.row.id, Tone::Success, summary.clone());
            let mut ticking = Vec::new();
            if let Some(until) = d.undo_until {
                state.undo = Some(UndoOffer {
                    session: d.row.id,
                    learner: d.row.learner.full_name.clone(),
                    verdict,
                    until,
                    message: summary,
                    request: None,
                });
                ticking.extend(super::undo::keep_time(state));
            }
            patch_row(state, &d);
            if state.detail.session == Some(d.row.id) {
                state.detail.data = Some(d);
            }
            let mut effects = next_attention(state, session);
            effects.extend(ticking);
            effects.extend(refresh_counts(state));
            effects
        }
        Err(ClientError::Conflict(msg)) => {
            // Someone else decided first, or the session changed: show it as it now is,
            // and the counts with it.
            state.dialog = None;
            state.say(Tone::Error, format!("{} refused: {msg}", verdict.word()));
            let request = state.request_id();
            state.detail.request = Some(request);
            let mut effects = vec![Effect::LoadDetail { request, session }];
            effects.extend(refresh_counts(state));
            effects
        }
        Err(e) if outcome_unknown(&e) => {
            let tries = dialog.checking.map_or(0, |n| n + 1);
            dialog.checking = Some(tries);
            let stop = state
                .keys
                .key_in(crate::console::keymap::Scope::Confirm, Command::Cancel);
            dialog.error = Some(format!(
                "Outcome unknown ({e}). Checking with the server… {stop} stops checking."
            ));
            let request = state.request_id();
            let Some(dialog) = state.dialog.as_mut() else {
                return vec![];
            };
            dialog.request = Some(request);
            let effect = decide_effect(dialog, request, recheck_delay_ms(tries));
            state.say(
                Tone::Error,
                format!(
                    "{} outcome unknown: the answer was lost. Checking… (same request, applied at most once)",
                    verdict.word()
                ),
            );
            vec![effect]
        }
        Err(e) => {
            // The server answered and refused: nothing was recorded.
            dialog.request = None;
            dialog.checking = None;
            dialog.error = Some(e.to_string());
            state.say(Tone::Error, format!("{} not recorded: {e}", verdict.word()));
            vec![]
        }
    }
}

/// `L`: the selected session's review goes to Open edX again, now.
pub fn retry_lms(state: &mut State) -> Vec<Effect> {
    let Some(d) = state.detail.current() else {
        let key = state.keys.key_for(Command::RetryLms);
        state.say(
            Tone::Info,
            format!("Select a session whose details have loaded, then press {key}."),
        );
        return vec![];
    };
    let session = d.row.id;
    match d.row.lms.as_ref().map(|l| l.state) {
        None => {
            state.say(Tone::Info, "This session did not come from Open edX.");
            vec![]
        }
        Some(crate::domain::LmsState::Delivered) => {
            state.say(Tone::Info, "Open edX already has this review.");
            vec![]
        }
        Some(_) => {
            let request = state.request_id();
            state.lms_retry = Some(request);
            state.say(Tone::Info, "Sending the review to Open edX again…");
            vec![Effect::RetryLms { request, session }]
        }
    }
}

pub fn lms_retried(
    state: &mut State,
    request: RequestId,
    result: Result<SessionDetail, ClientError>,
) -> Vec<Effect> {
    if state.lms_retry != Some(request) {
        return vec![];
    }
    state.lms_retry = None;
    match result {
        Ok(d) => {
            state.say(
                Tone::Success,
                format!(
                    "↻ {} queued for Open edX; r refreshes to see it arrive",
                    d.row.learner.full_name
                ),
            );
            patch_row(state, &d);
            if state.detail.session == Some(d.row.id) {
                state.detail.data = Some(d);
            }
        }
        Err(e) => state.say(Tone::Error, format!("Not sent to Open edX: {e}")),
    }
    vec![]
}

/// Asks for the Quiz List again, so its counts and the "to review" header stay true.
pub fn refresh_counts(state: &mut State) -> Vec<Effect> {
    let request = state.request_id();
    state.quizzes.request = Some(request);
    vec![Effect::LoadCourses { request }]
}

fn outcome_line(verdict: Verdict, d: &SessionDetail) -> String {
    use crate::domain::second_review::Stage;
    let learner = &d.row.learner.full_name;
    match d.history.last().and_then(|h| h.stage) {
        Some(Stage::First) => {
            return format!(
                "◎ First opinion recorded: {} of {learner} — it waits for a second reviewer",
                verdict.word()
            );
        }
        Some(Stage::Overturn) => {
            let first = d
                .history
                .iter()
                .rev()
                .find(|h| h.stage == Some(Stage::First));
            let (who, was) = first.map_or(("the first reviewer", "another verdict"), |h| {
                (
                    h.reviewer.as_str(),
                    h.verdict.map_or("another verdict", |v| v.word()),
                )
            });
            return format!(
                "↺ Overturned: {who} gave {was}, you {}; {learner} is back in Require Attention",
                verdict.word()
            );
        }
        _ => {}
    }
    let (glyph, word) = match verdict {
        Verdict::Pass => ("✔", "Passed"),
        Verdict::Fail => ("✘", "Failed"),
    };
    // A confirmation says whose first opinion it agreed with.
    let word = match d.history.iter().rev().nth(1) {
        Some(first) if d.history.last().and_then(|h| h.stage) == Some(Stage::Confirm) => {
            format!("{word} (agreeing with {})", first.reviewer)
        }
        _ => word.to_owned(),
    };
    let grade = d
        .grade_in_force
        .map(|g| format!(", grade {g}"))
        .unwrap_or_default();
    let emailed = match d.history.last() {
        Some(h) if h.email.is_some() => ", learner email queued",
        _ => "",
    };
    let lms = if d.row.lms.is_some() {
        ", on its way to Open edX"
    } else {
        ""
    };
    format!(
        "{glyph} {word} {}{grade}{emailed}{lms}",
        d.row.learner.full_name
    )
}

/// After a decision the cursor moves to the next session that still requires attention
/// (wrapping to the top), so a reviewer can work down the queue.
fn next_attention(state: &mut State, decided: SessionId) -> Vec<Effect> {
    let rows = &state.sessions.rows;
    let from = rows
        .iter()
        .position(|r| r.id == decided)
        .unwrap_or(state.sessions.cursor);
    let n = rows.len();
    let me = state.reviewer_id;
    // One's own first opinions wait for someone else.
    let waiting = |i: &usize| {
        rows[*i].status == AttemptStatus::SecondReviewRequired
            && (rows[*i].awaiting_from.is_none() || rows[*i].awaiting_from != me)
    };
    // A learner a colleague is already on is theirs: the queue goes past it.
    let free = |i: &usize| !super::presence::held_by_other(state, rows[*i].id);
    let mut skipped = 0;
    let next = (1..n).map(|k| (from + k) % n).filter(waiting).find(|i| {
        let free = free(i);
        skipped += usize::from(!free);
        free
    });
    match next {
        Some(i) => {
            state.sessions.cursor = i;
            follow_cursor(state)
        }
        None => {
            // Another exam with work, if any: the reviewer goes on without the Quiz List.
            let here = state.sessions.exam().map(|e| e.exam.id);
            let next = state
                .quizzes
                .exams()
                .find(|e| Some(e.exam.id) != here && e.counts.to_review() > 0)
                .cloned();
            let others = match skipped {
                0 => String::new(),
                1 => " but the 1 a colleague is on (◉)".to_owned(),
                n => format!(" but the {n} colleagues are on (◉)"),
            };
            let tail = match &next {
                Some(e) if here.is_some() => format!(
                    " — no more here{others}; {} has {}: {} to go",
                    e.exam.exam_name,
                    e.counts.to_review(),
                    state.keys.key_for(Command::Open)
                ),
                _ => format!(" — no more sessions require attention here{others}"),
            };
            state.extend_status(&tail);
            if here.is_some() {
                state.next_exam = next;
            }
            vec![]
        }
    }
}
