//! The contact sheet: a grid of stills, each labelled with its time in the recording and
//! the letters of what was flagged while it showed; the cursor's tile is marked with `▶`
//! and reverse video (so it shows without colour), and a line under the grid says where
//! the cursor is and what the keys do.

use crate::console::format::{fit, offset, safe};
use crate::console::layout;
use crate::console::sheet::{Grid, STATUS_ROWS, Sheet};
use crate::console::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui_image::Image;

pub fn draw(state: &State, s: &Sheet, frame: &mut Frame) {
    let Some(area) = layout::sheet_area(state) else {
        return;
    };
    frame.render_widget(Clear, area);
    let t = &state.theme;
    let message = |m: String| Paragraph::new(m).wrap(ratatui::widgets::Wrap { trim: true });
    let (Some(grid), false) = (Grid::of(area), s.stills.is_empty()) else {
        let text = match &s.error {
            Some(e) => format!("⚠ no contact sheet: {}", safe(e)),
            None => "drawing the contact sheet of this recording…".into(),
        };
        frame.render_widget(message(text).style(t.dim()), area);
        return;
    };
    let first = grid.first(s.cursor);
    for i in first..s.stills.len() {
        let Some(tile) = grid.tile(area, first, i) else {
            break;
        };
        let image = Rect {
            height: grid.image.1,
            ..tile
        };
        frame.render_widget(Image::new(&s.stills[i].1.0), image);
        let at = s.file_start_s + (s.stills[i].0 / 1000) as i64;
        let letters = s.letters(i);
        let here = i == s.cursor;
        let label = format!(
            "{}{}{}",
            if here { "▶" } else { " " },
            offset(at),
            if letters.is_empty() {
                String::new()
            } else {
                format!(" {letters}")
            }
        );
        let style = if here {
            t.selected(true)
        } else if letters.is_empty() {
            t.dim()
        } else {
            t.attention()
        };
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                fit(&label, tile.width as usize),
                style,
            ))),
            Rect {
                y: tile.y + grid.image.1,
                height: 1,
                ..tile
            },
        );
    }
    let at = s.file_start_s + (s.stills[s.cursor].0 / 1000) as i64;
    let status = format!(
        "still {}/{} at {} · ←→↑↓ move · Enter plays from here · ] [ flagged moments · Esc closes",
        s.cursor + 1,
        s.stills.len(),
        offset(at)
    );
    frame.render_widget(
        Paragraph::new(Line::styled(fit(&status, area.width as usize), t.dim())),
        Rect {
            y: area.y + area.height.saturating_sub(STATUS_ROWS),
            height: STATUS_ROWS,
            ..area
        },
    );
}
