//! The Team view: the course's backlog, decisions per day as a bar chart (each bar carries
//! its number and its day, so it reads without colour) and each reviewer's pace.

use super::centered;
use crate::console::format::{fit, safe};
use crate::console::keymap::{Command, Scope};
use crate::console::state::{State, TeamView};
use crate::domain::stats::TeamStats;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Block, BorderType, Borders, Clear, Paragraph, Sparkline,
};

/// Rows the bar chart takes (bars, their numbers and their days).
const CHART_H: u16 = 8;
/// Rows the backlog's trend takes.
const TREND_H: u16 = 3;

pub fn draw(state: &State, view: &TeamView, frame: &mut Frame, area: Rect) {
    let t = &state.theme;
    let rect = centered(area, 76, area.height);
    let close = state.keys.key_in(Scope::Help, Command::Cancel);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .title(format!(
            " Team — {} — {close} closes ",
            fit(&safe(&view.course_name), 44)
        ));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    let width = inner.width as usize;
    let Some(s) = &view.stats else {
        let msg = match (&view.error, view.request) {
            (Some(e), _) => format!("Could not load: {}", safe(e)),
            _ => "Loading…".into(),
        };
        frame.render_widget(Paragraph::new(msg).style(t.dim()), inner);
        return;
    };
    let mut head = backlog_lines(s, width);
    head.push(Line::styled(fit(&backlog_trend(s), width), t.heading()));
    let [top, trend, heading, chart, rest] = Layout::vertical([
        Constraint::Length(head.len() as u16),
        Constraint::Length(TREND_H),
        Constraint::Length(1),
        Constraint::Length(CHART_H),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(head), top);
    // One day as wide as a bar below (and its gap), so the two read together.
    // Drawn from the fortnight's least (the line above says it in numbers), so a backlog
    // moving between 30 and 42 shows its movement, not a block.
    let least = s.days.iter().map(|d| d.backlog).min().unwrap_or(0);
    let spread: Vec<u64> = s
        .days
        .iter()
        .flat_map(|d| [d.backlog - least + 1; 4])
        .collect();
    // A backlog that did not move is a low flat line, not a wall.
    let top = spread.iter().copied().max().unwrap_or(1);
    let scale = if top <= 1 { 8 } else { top };
    frame.render_widget(
        Sparkline::default()
            .data(&spread)
            .max(scale)
            .style(t.attention()),
        trend,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit("Decisions per day (passes + fails that took effect)", width),
            t.heading(),
        )),
        heading,
    );
    let bars: Vec<Bar> = s
        .days
        .iter()
        .map(|d| {
            Bar::default()
                .value(d.passes + d.fails)
                .label(Line::from(format!("{:02}", d.date.day())))
                .text_value(format!("{}", d.passes + d.fails))
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(3)
            .bar_gap(1)
            .bar_style(t.heading())
            .value_style(t.selected(false)),
        chart,
    );
    let mut lines = vec![Line::styled(
        fit(
            &format!(
                "Reviewers since {}: today, window, ✔ ✘, median time, 2nd agreeing",
                s.since
            ),
            width,
        ),
        t.heading(),
    )];
    if s.reviewers.is_empty() {
        lines.push(Line::styled("  nobody decided here in the window", t.dim()));
    }
    for r in &s.reviewers {
        let agree = match r.seconded {
            0 => "—".to_owned(),
            n => format!("{}% ({}/{n})", (r.agreed * 100 + n / 2) / n, r.agreed),
        };
        lines.push(Line::raw(fit(
            &format!(
                "  {:<16} {:>4} {:>6}   ✔{:<4} ✘{:<4} {:>7}  {agree}",
                fit(&safe(&r.reviewer), 16),
                r.today,
                r.in_window,
                r.passes,
                r.fails,
                crate::console::format::duration(r.median_secs.map(i64::from))
            ),
            width,
        )));
    }
    frame.render_widget(Paragraph::new(lines), rest);
}

/// The backlog's 14 days in numbers, so the trend reads without the picture.
fn backlog_trend(s: &TeamStats) -> String {
    let (Some(first), Some(last)) = (s.days.first(), s.days.last()) else {
        return String::new();
    };
    let most = s.days.iter().max_by_key(|d| d.backlog).unwrap_or(last);
    format!(
        "Backlog over 14 days: {} on {:02}-{:02} → {} now (most {}, on {:02}-{:02}; least {})",
        first.backlog,
        u8::from(first.date.month()),
        first.date.day(),
        last.backlog,
        most.backlog,
        u8::from(most.date.month()),
        most.date.day(),
        s.days.iter().map(|d| d.backlog).min().unwrap_or(0)
    )
}

fn backlog_lines(s: &TeamStats, width: usize) -> Vec<Line<'static>> {
    let b = &s.backlog;
    let mut out = vec![Line::raw(fit(
        &format!(
            "Backlog  ⚑ {} require attention · ◎ {} awaiting a second review",
            b.require_attention, b.awaiting_second_review
        ),
        width,
    ))];
    let oldest = match b.oldest_waiting_since {
        Some(since) => {
            let days = (s.as_of - since).whole_days();
            format!(
                "Oldest waiting  exam taken {days} day(s) ago ({})",
                since.date()
            )
        }
        None => "Oldest waiting  nobody is waiting".into(),
    };
    out.push(Line::raw(fit(&oldest, width)));
    out
}
