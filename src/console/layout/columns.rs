//! Which Sessions columns a pane shows, how wide each is, and their header words: pure,
//! so every width is tested without drawing.

use crate::api::SortKey;
use unicode_width::UnicodeWidthStr;

/// The exam column of the cross-exam queue.
pub const EXAM_W: u16 = 14;

/// Cells of the compact per-row timeline.
pub const STRIP: u16 = 12;

const USERNAME_W: u16 = 14;
const STARTED_W: u16 = 11;
const TOOK_W: u16 = 6;

/// The learner's name is what a reviewer reads first: it keeps this many cells (or its
/// whole width) while the least needed columns give way.
const LEARNER_MIN: u16 = 16;

/// The Sessions columns a pane of `width` shows; the least needed go first as it narrows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    pub status: bool,
    /// The status as its glyph alone (⚑ ◷ ✔ ✘), when the learner's name needs the room.
    pub status_glyph: bool,
    /// What is left for the learner's name once the other columns are placed.
    pub learner_w: u16,
    /// The exam of each row (the cross-exam queue).
    pub exam: bool,
    /// Open edX delivery state (set when a row has one).
    pub lms: bool,
    pub username: bool,
    pub started: bool,
    pub duration: bool,
    pub timeline: bool,
}

/// `queue`: the list spans exams, so each row says which, in the username's place when
/// narrow. `status_w`: the Status column's width (its labels are never cut). The column the
/// list is sorted by is always shown, in the timeline's place if need be.
pub fn session_columns(width: u16, queue: bool, sort: SortKey, status_w: u16) -> Columns {
    // The thresholds were set for a 12-column status; a wider one takes from the rest.
    let width = (width + 12).saturating_sub(status_w);
    let mut c = Columns {
        status: true,
        status_glyph: false,
        learner_w: 0,
        exam: queue,
        lms: false,
        username: width >= if queue { 112 } else { 96 },
        started: width >= 62,
        duration: width >= 72,
        timeline: width >= if queue { 64 } else { 46 },
    };
    if !c.shows(sort) {
        c.timeline = false;
        match sort {
            SortKey::Started => c.started = true,
            SortKey::Username => c.username = true,
            SortKey::Duration => c.duration = true,
            SortKey::Learner | SortKey::Violations | SortKey::Status => {}
        }
    }
    c
}

impl Columns {
    /// Whether the list can be seen sorted by `key`: its column is on screen.
    pub fn shows(&self, key: SortKey) -> bool {
        match key {
            SortKey::Started => self.started,
            SortKey::Username => self.username,
            SortKey::Duration => self.duration,
            SortKey::Learner | SortKey::Violations | SortKey::Status => true,
        }
    }
}

/// What the rows on screen ask of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// The widest status label on screen, glyph and space included.
    pub status_w: u16,
    /// The widest learner's name on screen.
    pub learner_w: u16,
    /// Every row on screen has the status the header names (the queue, ⚑ only): its
    /// column says nothing and is the first to give way.
    pub same_status: bool,
    /// Some row has an Open edX delivery to show.
    pub lms: bool,
}

/// The Sessions table as it fits a pane: which columns, their header words and widths
/// (the selection marker's first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTable {
    pub cols: Columns,
    pub header: Vec<String>,
    pub widths: Vec<u16>,
}

/// Fits the Sessions table to `width`: the least needed columns give way first, the sorted
/// one last, and the status shortens to its glyph before the learner's name is cut below
/// sixteen cells. The sorted column's header carries the order's arrow.
pub fn fit_session_table(
    width: u16,
    queue: bool,
    sort: SortKey,
    desc: bool,
    needs: Needs,
) -> SessionTable {
    let status_w = needs.status_w.max("Status ↓".width() as u16);
    let mut cols = session_columns(width, queue, sort, status_w);
    cols.lms = needs.lms;
    let viol_w: u16 = if sort == SortKey::Violations { 6 } else { 4 };
    let learner_needs = needs
        .learner_w
        .clamp("Learner ↓".width() as u16, LEARNER_MIN);
    let glyph_w = "St ↓".width() as u16;
    let taken = |c: &Columns| -> u16 {
        let optional = [
            (c.status, if c.status_glyph { glyph_w } else { status_w }),
            (c.exam, EXAM_W),
            (c.username, USERNAME_W),
            (c.lms, 1),
            (c.timeline, STRIP),
            (c.started, STARTED_W),
            (c.duration, TOOK_W),
        ];
        let shown = optional.iter().filter(|(on, _)| *on);
        let gaps = 2 + shown.clone().count() as u16;
        1 + viol_w + shown.map(|(_, w)| *w).sum::<u16>() + gaps
    };
    let give_way = |c: &mut Columns, round: usize| -> bool {
        let sorted = |k: SortKey| sort == k && round == 0;
        if c.status && needs.same_status && sort != SortKey::Status {
            c.status = false;
        } else if c.timeline {
            c.timeline = false;
        } else if c.duration && !sorted(SortKey::Duration) {
            c.duration = false;
        } else if c.username && !sorted(SortKey::Username) {
            c.username = false;
        } else if c.started && !sorted(SortKey::Started) {
            c.started = false;
        } else if c.status && !c.status_glyph {
            c.status_glyph = true;
        } else if c.exam && round > 0 {
            c.exam = false;
        } else {
            return false;
        }
        true
    };
    for round in 0..2 {
        while taken(&cols) + learner_needs > width && give_way(&mut cols, round) {}
    }
    cols.learner_w = width.saturating_sub(taken(&cols)).max(1);
    let arrow = if desc { " ↓" } else { " ↑" };
    let name = |title: &str, key: Option<SortKey>| -> String {
        match key {
            Some(k) if k == sort => format!("{title}{arrow}"),
            _ => title.to_owned(),
        }
    };
    let mut table = SessionTable {
        cols,
        header: vec![String::new()],
        widths: vec![1],
    };
    let mut add = |on: bool, title: &str, key: Option<SortKey>, w: u16| {
        if on {
            table.header.push(name(title, key));
            table.widths.push(w);
        }
    };
    let c = cols;
    add(
        c.status && c.status_glyph,
        "St",
        Some(SortKey::Status),
        glyph_w,
    );
    add(
        c.status && !c.status_glyph,
        "Status",
        Some(SortKey::Status),
        status_w,
    );
    add(true, "Learner", Some(SortKey::Learner), c.learner_w);
    add(c.exam, "Exam", None, EXAM_W);
    add(c.username, "Username", Some(SortKey::Username), USERNAME_W);
    add(c.lms, "⇅", None, 1);
    add(true, "Viol", Some(SortKey::Violations), viol_w);
    add(c.timeline, "Timeline", None, STRIP);
    add(c.started, "Started", Some(SortKey::Started), STARTED_W);
    add(c.duration, "Took", Some(SortKey::Duration), TOOK_W);
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs() -> Needs {
        Needs {
            status_w: 2 + "Pending review".width() as u16,
            learner_w: 20,
            same_status: false,
            lms: false,
        }
    }

    fn fitted(width: u16, queue: bool, sort: SortKey, needs: Needs) -> SessionTable {
        fit_session_table(width, queue, sort, true, needs)
    }

    /// The table with its spacing (one cell between columns) fills the pane exactly.
    fn used(t: &SessionTable) -> u16 {
        t.widths.iter().sum::<u16>() + t.widths.len() as u16 - 1
    }

    #[test]
    fn columns_give_way_in_order_as_the_pane_narrows() {
        let cases: [(u16, &[&str]); 5] = [
            (
                120,
                &[
                    "",
                    "Status",
                    "Learner ↓",
                    "Username",
                    "Viol",
                    "Timeline",
                    "Started",
                    "Took",
                ],
            ),
            (
                90,
                &[
                    "",
                    "Status",
                    "Learner ↓",
                    "Viol",
                    "Timeline",
                    "Started",
                    "Took",
                ],
            ),
            (
                70,
                &["", "Status", "Learner ↓", "Viol", "Timeline", "Started"],
            ),
            (50, &["", "Status", "Learner ↓", "Viol"]),
            (30, &["", "St", "Learner ↓", "Viol"]),
        ];
        for (width, header) in cases {
            let t = fitted(width, false, SortKey::Learner, needs());
            assert_eq!(t.header, header, "at {width} columns");
            assert_eq!(used(&t), width, "at {width} columns: {t:?}");
        }
    }

    #[test]
    fn the_sorted_column_stays_and_carries_the_arrow() {
        for (sort, title) in [
            (SortKey::Duration, "Took ↓"),
            (SortKey::Username, "Username ↓"),
            (SortKey::Started, "Started ↓"),
            (SortKey::Violations, "Viol ↓"),
        ] {
            let t = fitted(44, false, sort, needs());
            assert!(
                t.header.iter().any(|h| h == title),
                "{sort:?}: {:?}",
                t.header
            );
            assert_eq!(t.header.iter().filter(|h| h.ends_with('↓')).count(), 1);
        }
    }

    #[test]
    fn a_status_every_row_shares_goes_first_in_the_queue() {
        let same = Needs {
            same_status: true,
            ..needs()
        };
        let t = fitted(80, true, SortKey::Learner, same);
        assert!(!t.cols.status, "{:?}", t.header);
        assert!(t.cols.exam, "the queue says which exam");
        // Sorted by status, the column stays whatever the rows hold.
        let t = fitted(80, true, SortKey::Status, same);
        assert!(t.cols.status);
    }

    #[test]
    fn the_learner_keeps_sixteen_cells_while_anything_can_give_way() {
        for width in 30..=140 {
            let t = fitted(width, true, SortKey::Started, needs());
            assert!(t.cols.learner_w >= 16, "at {width}: {t:?}");
            assert_eq!(used(&t), width, "at {width}: {t:?}");
        }
    }

    #[test]
    fn deliveries_take_a_column_only_when_a_row_has_one() {
        let t = fitted(100, false, SortKey::Learner, needs());
        assert!(!t.header.iter().any(|h| h == "⇅"));
        let lms = Needs {
            lms: true,
            ..needs()
        };
        let t = fitted(100, false, SortKey::Learner, lms);
        assert!(t.header.iter().any(|h| h == "⇅"));
        assert_eq!(used(&t), 100);
    }
}
