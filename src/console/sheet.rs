//! A recording's contact sheet: its stills in a grid over Learner Detail, each with its time
//! and the letters of what was flagged while it was showing, a cursor to move, `Enter` to
//! play from a still and `]`/`[` to jump between flagged moments.

use super::playback::Mark;
use super::state::{PreviewImage, RequestId, Tab};
use crate::domain::{MediaId, SessionId};
use ratatui::layout::Rect;

/// Columns a tile is at least wide (image and the gap after it).
const MIN_TILE: u16 = 18;
/// Rows under the grid: what the cursor is on and the keys.
pub const STATUS_ROWS: u16 = 1;

#[derive(Debug, Clone)]
pub struct Sheet {
    pub session: SessionId,
    pub tab: Tab,
    pub pick: usize,
    pub media: MediaId,
    pub file_start_s: i64,
    /// The file's length, ms (the last still's interval ends there).
    pub length_ms: Option<u64>,
    pub marks: Vec<Mark>,
    /// The cells each still was fitted to.
    pub tile: (u16, u16),
    pub request: Option<RequestId>,
    pub stills: Vec<(u64, PreviewImage)>,
    pub error: Option<String>,
    pub cursor: usize,
}

/// How the grid falls in its area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub cols: usize,
    /// An image's cells.
    pub image: (u16, u16),
    /// Rows a tile takes: its image and its label.
    pub tile_rows: u16,
    /// Grid rows that fit.
    pub rows: usize,
}

impl Grid {
    pub fn of(area: Rect) -> Option<Grid> {
        let room = area.height.saturating_sub(STATUS_ROWS);
        if area.width < MIN_TILE || room < 3 {
            return None;
        }
        let cols = (area.width + 1) / MIN_TILE;
        let w = (area.width + 1) / cols - 1;
        // A 16:9 picture in cells twice as tall as wide (half-blocks: two pixels a cell).
        let h = (u32::from(w) * 9 / 32).clamp(2, u32::from(room.saturating_sub(1)).max(2)) as u16;
        let tile_rows = h + 1;
        Some(Grid {
            cols: cols as usize,
            image: (w, h),
            tile_rows,
            rows: usize::from((room / tile_rows).max(1)),
        })
    }

    /// The first still drawn: the cursor's row is always in view.
    pub fn first(&self, cursor: usize) -> usize {
        let row = cursor / self.cols;
        row.saturating_sub(self.rows - 1) * self.cols
    }

    /// Where the still `i` (drawn from `first`) goes in `area`.
    pub fn tile(&self, area: Rect, first: usize, i: usize) -> Option<Rect> {
        let k = i.checked_sub(first)?;
        let (row, col) = (k / self.cols, k % self.cols);
        if row >= self.rows {
            return None;
        }
        Some(Rect {
            x: area.x + col as u16 * (self.image.0 + 1),
            y: area.y + row as u16 * self.tile_rows,
            width: self.image.0,
            height: self.tile_rows,
        })
    }
}

impl Sheet {
    /// The stretch (ms into the file) still `i` stands for: until the next still.
    pub fn interval(&self, i: usize) -> std::ops::Range<u64> {
        let start = self.stills.get(i).map_or(0, |(t, _)| *t);
        let end = match self.stills.get(i + 1) {
            Some((t, _)) => *t,
            None => self.length_ms.unwrap_or(start + 1).max(start + 1),
        };
        start..end
    }

    /// The letters of what was flagged while still `i` showed.
    pub fn letters(&self, i: usize) -> String {
        let r = self.interval(i);
        self.marks
            .iter()
            .filter(|m| m.span.start < r.end && m.span.end.max(m.span.start + 1) > r.start)
            .map(|m| m.glyph)
            .collect()
    }

    /// Moves the cursor by `by` stills, within the sheet.
    pub fn move_by(&mut self, by: isize) {
        let last = self.stills.len().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(by).min(last);
    }

    /// `]`/`[`: the next (or previous) still where something flagged starts.
    pub fn jump(&mut self, forward: bool) -> bool {
        let starts = |i: usize| {
            let r = self.interval(i);
            self.marks.iter().any(|m| r.contains(&m.span.start))
        };
        let found = if forward {
            (self.cursor + 1..self.stills.len()).find(|i| starts(*i))
        } else {
            (0..self.cursor).rev().find(|i| starts(*i))
        };
        if let Some(i) = found {
            self.cursor = i;
        }
        found.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(times: &[u64]) -> Sheet {
        let still = |t: &u64| (*t, crate::console::fixtures::blank_image());
        Sheet {
            session: 1,
            tab: Tab::Video,
            pick: 0,
            media: 9,
            file_start_s: 0,
            length_ms: Some(10_000),
            marks: vec![
                Mark {
                    span: 2_500..4_000,
                    glyph: 'P',
                },
                Mark {
                    span: 8_000..8_000,
                    glyph: 'f',
                },
            ],
            tile: (16, 4),
            request: None,
            stills: times.iter().map(still).collect(),
            error: None,
            cursor: 0,
        }
    }

    #[test]
    fn each_still_carries_the_letters_of_what_was_flagged_while_it_showed() {
        let s = sheet(&[0, 2_000, 4_000, 6_000, 8_000]);
        let letters: Vec<String> = (0..5).map(|i| s.letters(i)).collect();
        assert_eq!(letters, ["", "P", "", "", "f"]);
        assert_eq!(s.interval(4), 8_000..10_000);
    }

    #[test]
    fn the_cursor_moves_within_the_sheet_and_jumps_between_flagged_moments() {
        let mut s = sheet(&[0, 2_000, 4_000, 6_000, 8_000]);
        assert!(s.jump(true));
        assert_eq!(s.cursor, 1);
        assert!(s.jump(true));
        assert_eq!(s.cursor, 4);
        assert!(!s.jump(true), "nothing flagged after the last");
        assert!(s.jump(false));
        assert_eq!(s.cursor, 1);
        s.move_by(-5);
        assert_eq!(s.cursor, 0);
        s.move_by(99);
        assert_eq!(s.cursor, 4);
    }

    #[test]
    fn the_grid_fills_the_area_and_keeps_the_cursor_row_in_view() {
        let area = Rect::new(10, 5, 74, 30);
        let g = Grid::of(area).unwrap();
        assert_eq!(g.cols, 4);
        assert_eq!(g.image, (17, 4));
        assert_eq!((g.tile_rows, g.rows), (5, 5));
        assert_eq!(g.first(3), 0);
        assert_eq!(g.first(21), 4, "the sixth row shows as the last");
        assert_eq!(g.tile(area, 0, 5), Some(Rect::new(28, 10, 17, 5)));
        assert_eq!(g.tile(area, 0, 20), None, "below the fold");
        assert!(Grid::of(Rect::new(0, 0, 10, 30)).is_none());
    }
}
