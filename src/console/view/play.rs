//! A flagged moment playing: the still at the playhead, the scrubber under it (the
//! stretch, its flagged moments in the timeline's letters, the playhead), and a status
//! line that says in words what is happening; and the zoom, which gives the still (or the
//! previewed image) the whole terminal.

use crate::console::evidence;
use crate::console::format::{fit, safe};
use crate::console::playback::Playback;
use crate::console::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui_image::Image;

/// `m:ss.d` of a moment in the recording.
fn clock(secs: f64) -> String {
    let tenths = (secs.max(0.0) * 10.0).round() as u64;
    format!("{}:{:02}.{}", tenths / 600, (tenths / 10) % 60, tenths % 10)
}

/// The scrubber: `─` along the stretch, flagged moments in their letters, `●` the playhead.
pub fn scrubber(p: &Playback, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let (from, to) = (
        p.clip.span.start,
        p.clip.span.end.max(p.clip.span.start + 1),
    );
    let cell = |t: u64| {
        ((t.clamp(from, to) - from) as u128 * (width as u128 - 1) / (to - from) as u128) as usize
    };
    let mut cells = vec!['─'; width];
    for m in &p.clip.marks {
        if m.span.end < from || m.span.start > to {
            continue;
        }
        for c in &mut cells[cell(m.span.start)..=cell(m.span.end)] {
            *c = m.glyph;
        }
    }
    cells[cell(p.at_ms)] = '●';
    cells.into_iter().collect()
}

/// The status line: playing or paused in words, where, which still, how fast, the stretch.
pub fn status(p: &Playback) -> String {
    let state = if p.playing {
        "▶ playing"
    } else {
        "❚❚ paused"
    };
    let at = clock(p.recording_secs(p.at_ms));
    let still = match p.current() {
        Some(i) => format!(" · {}/{}", i + 1, p.frames.len()),
        None => String::new(),
    };
    format!(
        "{state} {at}{still} · {} · of {}–{} · Space pause · ←→ step · , . speed · z zoom · Esc stop",
        p.speed_label(),
        clock(p.recording_secs(p.clip.span.start)),
        clock(p.recording_secs(p.clip.span.end))
    )
}

/// Draws the playback into `area` (image above, the controls in its last rows).
pub fn stage(state: &State, p: &Playback, frame: &mut Frame, area: Rect) {
    let t = &state.theme;
    let controls = crate::console::playback::CONTROL_ROWS.min(area.height);
    let image = Rect {
        height: area.height - controls,
        ..area
    };
    match (p.image(), &p.error) {
        (_, Some(e)) => {
            let o = state
                .keys
                .key_for(crate::console::keymap::Command::OpenEvidence);
            let y = state
                .keys
                .key_for(crate::console::keymap::Command::CopyLink);
            frame.render_widget(
                Paragraph::new(format!(
                    "⚠ cannot play it here: {} · {o} opens it in a player, {y} copies its link",
                    safe(e)
                ))
                .style(t.error())
                .wrap(ratatui::widgets::Wrap { trim: true }),
                image,
            );
        }
        (Some(img), None) => frame.render_widget(Image::new(&img.0), image),
        (None, None) => frame.render_widget(
            Paragraph::new(Line::styled(
                fit("drawing the stills of this moment…", image.width as usize),
                t.dim(),
            )),
            image,
        ),
    }
    if controls == 0 {
        return;
    }
    let w = area.width as usize;
    let lines = vec![
        Line::styled(scrubber(p, w), t.attention()),
        Line::styled(fit(&status(p), w), t.dim()),
    ];
    frame.render_widget(
        Paragraph::new(lines),
        Rect {
            y: image.y + image.height,
            height: controls,
            ..area
        },
    );
}

/// The zoom: the playing moment, or the previewed image, over everything.
pub fn zoom(state: &State, frame: &mut Frame) {
    let all = frame.area();
    frame.render_widget(Clear, all);
    if let Some(p) = &state.detail.play {
        stage(state, p, frame, all);
        return;
    }
    let Some(d) = state.detail.current() else {
        return;
    };
    let target = evidence::preview_target(d, state.detail.tab, state.detail.pick());
    let caption = match target {
        Some(m) => format!("{} · z or Esc returns", m.kind.label()),
        None => "no image on this row · z or Esc returns".into(),
    };
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(
            fit(&caption, all.width as usize),
            state.theme.dim(),
        ))),
        Rect { height: 1, ..all },
    );
    let area = Rect {
        y: 1,
        height: all.height.saturating_sub(1),
        ..all
    };
    let shown =
        state.detail.preview.as_ref().filter(|p| {
            target.is_some_and(|m| m.id == p.media) && p.size == (area.width, area.height)
        });
    match shown.and_then(|p| p.image.as_ref()) {
        Some(img) => frame.render_widget(Image::new(&img.0), area),
        None => frame.render_widget(
            Paragraph::new(Line::styled(
                "loading the image at full size…",
                state.theme.dim(),
            )),
            area,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::playback::{Clip, Mark};
    use crate::console::state::Tab;

    #[test]
    fn the_scrubber_marks_the_moment_in_its_letter_and_the_playhead() {
        let clip = Clip {
            media: 1,
            file_start_s: 296,
            span: 1_000..11_000,
            marks: vec![Mark {
                span: 4_000..6_000,
                glyph: 'P',
            }],
        };
        let mut p = Playback::new(7, Tab::Violations, 0, clip, 1);
        assert_eq!(scrubber(&p, 11), "●──PPP─────");
        p.at_ms = 11_000;
        p.playing = false;
        assert_eq!(scrubber(&p, 11), "───PPP────●");
        let s = status(&p);
        assert!(
            s.starts_with("❚❚ paused 5:07.0 · 1× · of 4:57.0–5:07.0"),
            "{s}"
        );
        assert_eq!(clock(59.96), "1:00.0");
    }
}
