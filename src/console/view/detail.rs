//! Learner Detail: the exam data, violations and decision history of one session.

use super::format::{duration, offset, safe, when};
use super::pane_block;
use crate::console::state::{Pane, State};
use crate::domain::{HistoryEntry, SessionDetail, Verdict};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

fn field<'a>(state: &State, name: &'static str, value: Vec<Span<'a>>) -> Line<'a> {
    let mut spans = vec![Span::styled(format!("{name:<13}"), state.theme.dim())];
    spans.extend(value);
    Line::from(spans)
}

fn text<'a>(s: String) -> Vec<Span<'a>> {
    vec![Span::raw(s)]
}

fn lines<'a>(state: &State, d: &'a SessionDetail) -> Vec<Line<'a>> {
    let t = &state.theme;
    let r = &d.row;
    let mut out = vec![
        Line::styled(safe(&r.learner.full_name).into_owned(), t.heading()),
        Line::raw(format!(
            "{} · {}",
            safe(&r.learner.username),
            safe(&r.learner.email)
        )),
        Line::styled(
            format!("{} · {}", safe(&d.exam_name), safe(&d.course_id)),
            t.dim(),
        ),
        Line::raw(""),
        field(
            state,
            "Status",
            vec![
                Span::styled(
                    format!("{} {}", r.status.glyph(), r.status.label()),
                    t.status(r.status),
                ),
                Span::styled(format!("  ({})", r.status.as_str()), t.dim()),
            ],
        ),
        field(
            state,
            "Review",
            text(
                r.review_status
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_else(|| "—".into()),
            ),
        ),
        field(
            state,
            "Learner sees",
            text(d.learner_view.label().to_owned()),
        ),
    ];
    let grade = match (d.grade_in_force, d.original_grade) {
        (Some(now), Some(orig)) if now != orig => format!("{now} in force (original {orig})"),
        (Some(now), _) => format!("{now}"),
        _ => "— (ungraded)".into(),
    };
    out.push(field(state, "Grade", text(grade)));
    out.push(field(state, "Started", text(when(r.started_at))));
    out.push(field(state, "Completed", text(when(r.completed_at))));
    let allowed = d
        .allowed_time_limit_mins
        .map(|m| format!(" of {m} min allowed"))
        .unwrap_or_default();
    out.push(field(
        state,
        "Took",
        text(format!("{}{allowed}", duration(r.duration_secs()))),
    ));
    out.push(field(
        state,
        "Time limit",
        text(format!("{} min", d.exam_time_limit_mins)),
    ));
    let kind = if d.is_sample_attempt {
        "practice"
    } else {
        "proctored"
    };
    out.push(field(
        state,
        "Attempt",
        text(format!("{kind} · track {}", safe(&d.track))),
    ));
    out.push(field(
        state,
        "Attempt code",
        text(safe(&d.attempt_code).into_owned()),
    ));
    if let Some(ext) = &d.external_id {
        out.push(field(
            state,
            "Provider id",
            text(format!(
                "{} ({})",
                safe(ext),
                safe(d.provider.as_deref().unwrap_or("—"))
            )),
        ));
    }
    if let Some(by) = &d.reviewed_by {
        out.push(field(state, "Reviewed by", text(safe(by).into_owned())));
    }

    out.push(Line::raw(""));
    out.push(Line::styled(
        format!("Online Violations ({})", d.violations.len()),
        t.heading(),
    ));
    if d.violations.is_empty() {
        out.push(Line::styled("  none reported", t.dim()));
    }
    for v in &d.violations {
        out.push(Line::from(vec![
            Span::raw(format!(
                "  {}–{} ",
                offset(v.start_time),
                offset(v.stop_time)
            )),
            Span::styled(format!("⚠ {}", safe(&v.status)), t.attention()),
            Span::raw(format!(" · {}", v.kind.label())),
        ]));
        out.push(Line::styled(format!("      {}", safe(&v.comment)), t.dim()));
    }

    out.push(Line::raw(""));
    out.push(Line::styled(
        format!("History ({})", d.history.len()),
        t.heading(),
    ));
    if d.history.is_empty() {
        out.push(Line::styled("  no decision yet", t.dim()));
    }
    for h in d.history.iter().rev() {
        out.extend(history_lines(state, h));
    }
    out
}

fn history_lines<'a>(state: &State, h: &'a HistoryEntry) -> Vec<Line<'a>> {
    let t = &state.theme;
    let (glyph, style) = match h.verdict {
        Verdict::Pass => ("✔ Pass", t.passed()),
        Verdict::Fail => ("✘ Fail", t.failed()),
    };
    let grade = match (h.grade_before, h.grade_after) {
        (Some(b), Some(a)) if b != a => format!(", grade {b} → {a}"),
        _ => String::new(),
    };
    let emailed = if h.learner_emailed {
        ", learner emailed"
    } else {
        ""
    };
    let mut lines = vec![
        Line::from(vec![
            Span::raw(format!("  {} ", when(Some(h.decided_at)))),
            Span::styled(glyph, style),
            Span::raw(format!(" by {}", safe(&h.reviewer))),
        ]),
        Line::raw(format!(
            "      {} → {}{grade}{emailed}",
            h.status_before.label(),
            h.status_after.label()
        )),
    ];
    if !h.reason.is_empty() {
        lines.push(Line::raw(format!("      “{}”", safe(&h.reason))));
    }
    lines
}

/// Lines of the detail before wrapping: the scroll limit.
pub fn line_count(state: &State, d: &SessionDetail) -> usize {
    lines(state, d).len()
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let p = &state.detail;
    let block = pane_block(state, Pane::Detail, Line::from("Learner Detail"));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let body = match (p.current(), &p.error, p.session) {
        (Some(d), _, _) => lines(state, d),
        (None, Some(e), _) => vec![Line::raw(format!("Could not load: {}", safe(e)))],
        (None, None, Some(_)) => vec![Line::raw("Loading…")],
        (None, None, None) => vec![Line::styled(
            "Select a session to see its details.",
            state.theme.dim(),
        )],
    };
    frame.render_widget(
        Paragraph::new(body)
            .wrap(Wrap { trim: false })
            .scroll((p.scroll, 0)),
        inner,
    );
}
