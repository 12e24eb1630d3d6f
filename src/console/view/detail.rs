//! Learner Detail: a tab bar, the violation timeline, the tab's text with "more above /
//! below" markers, and the inline preview of the selected screenshot, scan or photo.

use super::pane_block;
use crate::console::detail_text::{self, TabText};
use crate::console::evidence;
use crate::console::format::{duration, fit, offset, safe};
use crate::console::layout::{self, DetailRegions};
use crate::console::state::{Pane, State, Tab};
use crate::console::timeline::{self, Cell};
use crate::domain::SessionDetail;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_image::Image;

fn tab_bar(state: &State, width: u16) -> Line<'static> {
    let current = state.detail.tab;
    let full: usize = Tab::ALL.iter().map(|t| t.title().len() + 4).sum();
    let short: usize = Tab::ALL.iter().map(|t| t.short().len() + 4).sum();
    let name = |t: Tab| {
        if full <= width as usize {
            t.title()
        } else if short <= width as usize || t == current {
            t.short()
        } else {
            ""
        }
    };
    let mut spans = Vec::new();
    for t in Tab::ALL {
        let n = t.index() + 1;
        let label = match name(t) {
            "" => format!(" {n} "),
            s => format!(" {n} {s} "),
        };
        // The current tab: reverse video and brackets, so it shows without colour.
        if t == current {
            spans.push(Span::styled(
                format!("[{}]", label.trim()),
                state.theme.selected(state.focus == Pane::Detail),
            ));
        } else {
            spans.push(Span::styled(label, state.theme.dim()));
        }
    }
    Line::from(spans)
}

fn timeline_lines(state: &State, d: &SessionDetail, width: u16) -> Vec<Line<'static>> {
    let t = &state.theme;
    let w = width as usize;
    let total = d.recording_secs();
    let cells = timeline::strip(&d.violations, total, w);
    let strip: Vec<Span> = cells
        .iter()
        .map(|c| match c {
            Cell::Empty => Span::styled(c.glyph().to_string(), t.dim()),
            c if c.rules() => Span::styled(c.glyph().to_string(), t.error()),
            c => Span::styled(c.glyph().to_string(), t.attention()),
        })
        .collect();
    let marked = evidence::marked_violation(d, state.detail.tab, state.detail.pick());
    let marker = match marked {
        Some(v) => {
            let at = timeline::cell_of(v.start_time, total, w);
            let label = format!(
                " {} {} {}",
                offset(v.start_time),
                timeline::glyph_of(v),
                v.kind.label()
            );
            // The label goes right of the ▲ when it fits there, else left of it.
            let text = if at + 1 + label.chars().count() <= w {
                format!("{}▲{label}", " ".repeat(at))
            } else {
                let left = label.trim_start().to_owned() + " ";
                let start = (at + 1).saturating_sub(left.chars().count() + 1);
                format!("{}{left}▲", " ".repeat(start))
            };
            Line::raw(fit(&text, w))
        }
        None => Line::styled(
            fit(
                &format!(
                    "{} violation(s) · UPPER Rules Violation · lower Suspicious · digit: several",
                    d.violations.len()
                ),
                w,
            ),
            t.dim(),
        ),
    };
    let end = duration(Some(total));
    let scale = format!(
        "0:00{}{end}",
        " ".repeat(w.saturating_sub(4 + end.chars().count()))
    );
    vec![
        Line::from(strip),
        marker,
        Line::styled(fit(&scale, w), t.dim()),
    ]
}

/// The first line to draw: keeps the selected row of a list tab in view, else the scroll.
fn first_line(state: &State, text: &TabText, height: usize) -> usize {
    let max = text.lines.len().saturating_sub(height);
    if state.detail.tab.is_list() {
        return match text.items.get(state.detail.pick()) {
            Some(r) if r.end > height => (r.end - height).min(r.start).min(max),
            _ => 0,
        };
    }
    (state.detail.scroll as usize).min(max)
}

fn body(state: &State, d: &SessionDetail, frame: &mut Frame, area: Rect) {
    if area.height == 0 {
        return;
    }
    let text = detail_text::text(state, d, state.detail.tab, area.width);
    let h = area.height as usize;
    let start = first_line(state, &text, h);
    let mut shown: Vec<Line> = text.lines.iter().skip(start).take(h).cloned().collect();
    let more_above = start > 0;
    let more_below = start + h < text.lines.len();
    let note = |s: String| Line::styled(s, state.theme.key());
    if more_above && let Some(first) = shown.first_mut() {
        *first = note(format!("▲ {start} more above"));
    }
    if more_below && let Some(last) = shown.last_mut() {
        *last = note(format!("▼ {} more below", text.lines.len() - start - h + 1));
    }
    frame.render_widget(Paragraph::new(shown), area);
}

/// What `o` does on this row, in the words of the caption: it may play a clip rather than
/// open the image shown.
fn o_does(d: &SessionDetail, tab: crate::console::state::Tab, pick: usize) -> &'static str {
    match evidence::open_target(d, tab, pick) {
        Some((m, _)) if m.kind == crate::domain::MediaKind::Video => "o plays the clip",
        Some(_) => "o opens it full size",
        None => "nothing for o to open",
    }
}

fn preview(state: &State, d: &SessionDetail, frame: &mut Frame, region: Rect) {
    let t = &state.theme;
    let target = evidence::preview_target(d, state.detail.tab, state.detail.pick());
    let caption = match (target, &state.detail.play) {
        (_, Some(_)) => "Video, played here · z zooms".to_owned(),
        (Some(m), None) => format!(
            "{} · {}",
            m.kind.label(),
            o_does(d, state.detail.tab, state.detail.pick())
        ),
        (None, None) => "no image for this row".into(),
    };
    frame.render_widget(
        Paragraph::new(Line::styled(fit(&caption, region.width as usize), t.dim())),
        Rect {
            height: 1.min(region.height),
            ..region
        },
    );
    let area = layout::preview_image(region);
    if let Some(play) = &state.detail.play {
        super::play::stage(state, play, frame, area);
        return;
    }
    let p = state
        .detail
        .preview
        .as_ref()
        .filter(|p| target.is_some_and(|m| m.id == p.media));
    let message = match p {
        Some(p) => match (&p.image, &p.error) {
            (Some(img), _) => {
                frame.render_widget(Image::new(&img.0), area);
                None
            }
            (None, Some(e)) => Some(format!("⚠ preview failed: {}", safe(e))),
            (None, None) => Some("loading preview…".to_owned()),
        },
        None if target.is_some() => Some("loading preview…".to_owned()),
        None => None,
    };
    if let Some(m) = message {
        frame.render_widget(
            Paragraph::new(Line::styled(fit(&m, area.width as usize), t.dim())),
            area,
        );
    }
}

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let p = &state.detail;
    let title = match p.current() {
        Some(d) => {
            let mut spans = vec![Span::raw(format!(
                "Learner Detail — {}",
                safe(&d.row.learner.full_name)
            ))];
            let others = state.others_on(d.row.id);
            if !others.is_empty() {
                spans.push(Span::styled(
                    format!(" · ◉ {} on it too", safe(&others.join(", "))),
                    state.theme.attention(),
                ));
            }
            Line::from(spans)
        }
        None => Line::from("Learner Detail"),
    };
    let block = pane_block(state, Pane::Detail, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(d) = p.current() else {
        let msg = match (&p.error, p.session) {
            (Some(e), _) => format!("Could not load: {}", safe(e)),
            (None, Some(_)) => "Loading…".into(),
            (None, None) => "Select a session to see its details.".into(),
        };
        // A long reason wraps; it is never clipped unseen.
        frame.render_widget(
            Paragraph::new(msg)
                .style(state.theme.dim())
                .wrap(ratatui::widgets::Wrap { trim: true }),
            inner,
        );
        return;
    };
    let DetailRegions {
        tabs,
        timeline,
        body: text_area,
        preview: preview_area,
    } = layout::detail_regions(state, area);
    frame.render_widget(Paragraph::new(tab_bar(state, tabs.width)), tabs);
    if timeline.height > 0 {
        frame.render_widget(
            Paragraph::new(timeline_lines(state, d, timeline.width)),
            timeline,
        );
    }
    body(state, d, frame, text_area);
    if let Some(region) = preview_area {
        preview(state, d, frame, region);
    }
    if let Some(sheet) = &p.sheet {
        super::sheet::draw(state, sheet, frame);
    }
}
