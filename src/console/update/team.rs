//! The Team view (`T`): a course's backlog and the team's pace, fetched when it opens and
//! again after each change the live stream tells while it is open (one request at a time).

use crate::client::ClientError;
use crate::console::action::Effect;
use crate::console::state::{Overlay, RequestId, State, TeamView, Tone};
use crate::domain::stats::TeamStats;

pub fn open(state: &mut State) -> Vec<Effect> {
    let Some((course_id, course_name)) = super::reports::course(state) else {
        state.say(
            Tone::Info,
            "Select an exam first; the team's figures are per course.",
        );
        return vec![];
    };
    let keep = state
        .team
        .take()
        .filter(|t| t.course_id == course_id)
        .and_then(|t| t.stats);
    state.team = Some(TeamView {
        course_id,
        course_name,
        stats: keep,
        request: None,
        error: None,
    });
    state.overlay = Some((Overlay::Team, 0));
    load(state)
}

fn load(state: &mut State) -> Vec<Effect> {
    let request = state.request_id();
    let Some(view) = state.team.as_mut() else {
        return vec![];
    };
    view.request = Some(request);
    vec![Effect::LoadStats {
        request,
        course: view.course_id.clone(),
    }]
}

/// Something changed on the server: the open view is brought up to date.
pub fn changed(state: &mut State) -> Vec<Effect> {
    let open = matches!(state.overlay, Some((Overlay::Team, _)));
    match &state.team {
        Some(v) if open && v.request.is_none() => load(state),
        _ => vec![],
    }
}

pub fn loaded(
    state: &mut State,
    request: RequestId,
    result: Result<TeamStats, ClientError>,
) -> Vec<Effect> {
    let Some(view) = state.team.as_mut().filter(|v| v.request == Some(request)) else {
        return vec![];
    };
    view.request = None;
    match result {
        Ok(stats) => {
            view.stats = Some(stats);
            view.error = None;
        }
        Err(e) => view.error = Some(e.to_string()),
    }
    vec![]
}

#[cfg(test)]
mod tests {
    use crate::console::action::{Action, Effect};
    use crate::console::fixtures::*;
    use crate::console::state::Overlay;
    use crate::console::update::update;
    use crate::domain::stats::{Backlog, TeamStats};

    fn stats() -> TeamStats {
        let now = time::macros::datetime!(2026-12-03 12:00 UTC);
        crate::domain::stats::tally("c", now, now.date(), Backlog::default(), &[])
    }

    #[test]
    fn t_shows_the_courses_team_and_keeps_it_current_while_open() {
        let mut s = opened();
        let fx = update(&mut s, key('T'));
        assert_eq!(s.overlay, Some((Overlay::Team, 0)));
        let [Effect::LoadStats { request, course }] = &fx[..] else {
            panic!("{fx:?}")
        };
        assert_eq!(course, "course-v1:TestX+T1+2026");
        let request = *request;
        update(
            &mut s,
            Action::StatsLoaded {
                request,
                result: Ok(stats()),
            },
        );
        assert!(s.team.as_ref().unwrap().stats.is_some());
        // A colleague's decision while it is open: the figures are fetched again, once.
        let e = crate::api::ChangeEvent {
            id: 3,
            kind: crate::api::ChangeKind::Decision,
            session_id: 12,
            exam_id: 1,
            course_id: course.clone(),
            learner: "Bo".into(),
            status: crate::domain::AttemptStatus::Rejected,
            reviewer: Some("ada".into()),
            verdict: Some(crate::domain::Verdict::Fail),
            delivery: None,
            note: None,
        };
        let fx = update(&mut s, Action::Changed(e.clone()));
        let reloads: Vec<u64> = fx
            .iter()
            .filter_map(|f| match f {
                Effect::LoadStats { request, .. } => Some(*request),
                _ => None,
            })
            .collect();
        assert_eq!(reloads.len(), 1);
        let fx = update(&mut s, Action::Changed(e.clone()));
        assert!(
            !fx.iter().any(|f| matches!(f, Effect::LoadStats { .. })),
            "one request at a time"
        );
        update(
            &mut s,
            Action::StatsLoaded {
                request: reloads[0],
                result: Ok(stats()),
            },
        );
        // Closed, with nothing on its way: a change fetches nothing.
        update(&mut s, code(crossterm::event::KeyCode::Esc));
        assert_eq!(s.overlay, None);
        let fx = update(&mut s, Action::Changed(e));
        assert!(
            !fx.iter().any(|f| matches!(f, Effect::LoadStats { .. })),
            "closed: nothing fetched"
        );
    }
}
