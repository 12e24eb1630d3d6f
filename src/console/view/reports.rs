//! The Reports view, drawn over the panes: Pending Tasks and Reports Available.

use super::centered;
use crate::console::detail_text::wrap;
use crate::console::format::{fit, fit_middle, safe, when, when_short};
use crate::console::state::{ReportsView, State};
use crate::domain::text::columns;
use crate::domain::{Job, JobState};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

fn task(state: &State, j: &Job, w: usize) -> Vec<Line<'static>> {
    let t = &state.theme;
    let style = match j.state {
        JobState::Failed => t.error(),
        _ => t.attention(),
    };
    let progress = match j.state {
        JobState::Running => format!("{:>3.0}%", j.progress * 100.0),
        _ => "    ".into(),
    };
    let who = safe(j.requested_by.as_deref().unwrap_or("—")).into_owned();
    let mut out = vec![Line::from(vec![
        Span::styled(format!("  {:<10}", j.state.label()), style),
        Span::raw(fit(
            &format!(
                " {progress}  by {who} · started {}",
                when(j.started_at.or(Some(j.created)))
            ),
            w.saturating_sub(12),
        )),
    ])];
    if let Some(e) = j
        .last_error
        .as_deref()
        .filter(|_| j.state == JobState::Failed)
    {
        for piece in wrap(&format!("why: {}", safe(e)), w.saturating_sub(4)) {
            out.push(Line::styled(format!("    {piece}"), t.dim()));
        }
    }
    out
}

fn lines(state: &State, v: &ReportsView, w: usize) -> Vec<Line<'static>> {
    let t = &state.theme;
    let mut out = vec![
        Line::styled(fit(&safe(&v.course_id), w), t.dim()),
        Line::raw(""),
    ];
    if v.warning {
        out.push(Line::styled("⚠ Before you download", t.attention()));
        let text = "This report holds confidential, personally identifiable information about \
                    learners: names, email addresses and exam results. Keep it where only course \
                    staff can read it, and delete it when it is no longer needed.";
        for piece in wrap(text, w) {
            out.push(Line::raw(piece));
        }
        out.push(Line::raw(""));
        out.push(Line::from(vec![
            Span::styled("Enter", t.key()),
            Span::raw(" download · "),
            Span::styled("Esc", t.key()),
            Span::raw(" cancel"),
        ]));
        return out;
    }
    let Some(list) = &v.list else {
        let msg = match &v.error {
            Some(e) => format!("⚠ Could not load: {}", safe(e)),
            None => "Loading…".into(),
        };
        out.push(Line::raw(fit(&msg, w)));
        return out;
    };
    out.push(Line::styled("Pending Tasks", t.heading()));
    if list.pending.is_empty() {
        out.push(Line::styled("  none — n generates a new report", t.dim()));
    }
    for j in &list.pending {
        out.extend(task(state, j, w));
    }
    out.push(Line::raw(""));
    out.push(Line::styled(
        fit("Reports Available (newest first; Enter downloads)", w),
        t.heading(),
    ));
    if list.available.is_empty() {
        out.push(Line::styled("  none yet", t.dim()));
    }
    for (i, j) in list.available.iter().enumerate() {
        let Some(r) = &j.report else { continue };
        let selected = i == v.cursor;
        // The facts stay in view; a long file name gives way in its middle.
        let facts = format!(
            "  {} · {} · {}",
            size(r.size),
            crate::export::rows_said(r.rows),
            when_short(j.finished_at)
        );
        let room = w.saturating_sub(2 + columns(&facts)).max(12);
        let text = format!(
            "{}{}{facts}",
            if selected { "▶ " } else { "  " },
            fit_middle(&safe(&r.name), room),
        );
        let style = if selected {
            t.selected(true)
        } else {
            ratatui::style::Style::new()
        };
        out.push(Line::styled(fit(&text, w), style));
    }
    if let Some(e) = &v.error {
        out.push(Line::raw(""));
        out.push(Line::styled(fit(&format!("⚠ {}", safe(e)), w), t.error()));
    }
    out
}

pub fn draw(state: &State, v: &ReportsView, frame: &mut Frame, area: Rect) {
    let rect = centered(area, 100, area.height);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .title(format!(" Reports — {} ", fit(&safe(&v.course_name), 60)));
    let inner = block.inner(rect).inner(ratatui::layout::Margin::new(1, 0));
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    frame.render_widget(Paragraph::new(lines(state, v, inner.width as usize)), inner);
}
