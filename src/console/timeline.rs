//! The violation timeline: a strip across the recording with every violation in the cell
//! where it happened. A letter names the kind, its case the severity (UPPER = Rules
//! Violation, lower = Suspicious), and a digit counts violations that share a cell — so
//! nothing depends on colour.

use crate::domain::{Violation, ViolationKind, ViolationMark};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Empty,
    One {
        glyph: char,
        rules: bool,
    },
    /// Several violations in one cell; `rules` if any of them is a Rules Violation.
    Many {
        count: usize,
        rules: bool,
    },
}

impl Cell {
    pub fn glyph(self) -> char {
        match self {
            Cell::Empty => '─',
            Cell::One { glyph, .. } => glyph,
            Cell::Many { count, .. } if count <= 9 => {
                char::from_digit(count as u32, 10).unwrap_or('+')
            }
            Cell::Many { .. } => '+',
        }
    }

    pub fn rules(self) -> bool {
        matches!(
            self,
            Cell::One { rules: true, .. } | Cell::Many { rules: true, .. }
        )
    }
}

pub fn letter(kind: ViolationKind) -> char {
    match kind {
        ViolationKind::SecondPerson => 'S',
        ViolationKind::NoFace => 'F',
        ViolationKind::LookingAway => 'L',
        ViolationKind::Phone => 'P',
        ViolationKind::TabSwitch => 'T',
        ViolationKind::CopyPaste => 'C',
        ViolationKind::SecondMonitor => 'M',
        ViolationKind::LeftRoom => 'R',
        ViolationKind::Voices => 'V',
        ViolationKind::UnauthorizedApp => 'A',
    }
}

/// The glyph of one violation on its own.
pub fn glyph_of(v: &Violation) -> char {
    let l = letter(v.kind);
    if v.is_rules_violation() {
        l
    } else {
        l.to_ascii_lowercase()
    }
}

/// The cell (of `width`) a moment `at` seconds into a recording of `total` seconds falls in.
pub fn cell_of(at: i64, total: i64, width: usize) -> usize {
    if width == 0 {
        return 0;
    }
    let total = total.max(1);
    let at = at.clamp(0, total);
    ((at as i128 * width as i128) / (total as i128 + 1)) as usize
}

fn place(cells: &mut [Cell], i: usize, glyph: char, rules: bool) {
    let Some(c) = cells.get_mut(i) else {
        return;
    };
    *c = match *c {
        Cell::Empty => Cell::One { glyph, rules },
        Cell::One { rules: r, .. } => Cell::Many {
            count: 2,
            rules: r || rules,
        },
        Cell::Many { count, rules: r } => Cell::Many {
            count: count + 1,
            rules: r || rules,
        },
    };
}

/// The detail strip: each violation by kind and severity.
pub fn strip(violations: &[Violation], total: i64, width: usize) -> Vec<Cell> {
    let mut cells = vec![Cell::Empty; width];
    for v in violations {
        place(
            &mut cells,
            cell_of(v.start_time, total, width),
            glyph_of(v),
            v.is_rules_violation(),
        );
    }
    cells
}

/// The compact strip of a list row: severity only (`!` Rules Violation, `?` Suspicious).
pub fn compact(marks: &[ViolationMark], total: i64, width: usize) -> String {
    let mut cells = vec![Cell::Empty; width];
    for m in marks {
        place(
            &mut cells,
            cell_of(m.at, total, width),
            if m.rules { '!' } else { '?' },
            m.rules,
        );
    }
    cells
        .into_iter()
        .map(|c| match c {
            Cell::Empty => '·',
            other => other.glyph(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::fixtures::violations;

    #[test]
    fn violations_land_where_they_happened_and_overlaps_are_counted() {
        let v = violations();
        // 47 minutes over 10 cells: the phone (5:00) and looking away (5:10) share one.
        let cells = strip(&v, 47 * 60, 10);
        assert_eq!(
            cells[1],
            Cell::Many {
                count: 2,
                rules: true
            }
        );
        assert_eq!(
            cells[8],
            Cell::One {
                glyph: 't',
                rules: false
            }
        );
        assert_eq!(cells.iter().filter(|c| **c != Cell::Empty).count(), 2);
        let text: String = cells.iter().map(|c| c.glyph()).collect();
        assert_eq!(text, "─2──────t─");
        // Wide enough, they part: upper case for the Rules Violation, lower for Suspicious.
        let wide = strip(&v, 47 * 60, 470);
        assert_eq!(wide[49].glyph(), 'P');
        assert_eq!(wide[51].glyph(), 'l');
    }

    #[test]
    fn the_ends_of_the_recording_stay_inside_the_strip() {
        assert_eq!(cell_of(0, 100, 10), 0);
        assert_eq!(cell_of(100, 100, 10), 9);
        assert_eq!(cell_of(500, 100, 10), 9);
        assert_eq!(cell_of(-5, 100, 10), 0);
        assert!(cell_of(5, 0, 10) < 10);
        assert_eq!(cell_of(5, 100, 0), 0);
        let marks = [
            ViolationMark {
                at: 10,
                rules: false,
            },
            ViolationMark {
                at: 12,
                rules: true,
            },
            ViolationMark {
                at: 95,
                rules: false,
            },
        ];
        assert_eq!(compact(&marks, 100, 5), "2···?");
        assert_eq!(compact(&[], 100, 3), "···");
        let many: Vec<_> = (0..12)
            .map(|i| ViolationMark {
                at: i,
                rules: false,
            })
            .collect();
        assert_eq!(compact(&many, 1000, 4), "+···");
    }
}
