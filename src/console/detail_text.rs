//! The text of each Learner Detail tab, wrapped to a width: label/value rows whose long
//! values wrap under themselves, comments that keep their indent. `view` draws these lines;
//! `update` counts them to know where scrolling stops, so both agree on every line.

use super::evidence::{self, Item};
use super::format::{duration, offset, safe, when};
use super::state::{State, Tab};
use super::timeline::glyph_of;
use crate::domain::email::MailState;
use crate::domain::text::columns;
use crate::domain::words::Word;
use crate::domain::{HistoryEntry, MediaItem, SessionDetail, Verdict};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use std::ops::Range;
use unicode_segmentation::UnicodeSegmentation;

/// Width of the label column of label/value rows.
pub const LABEL: usize = 13;

/// A tab's lines, and for list tabs the lines each selectable row occupies.
pub struct TabText {
    pub lines: Vec<Line<'static>>,
    pub items: Vec<Range<usize>>,
}

/// Breaks `text` into pieces of at most `width` columns at spaces. A word too long for a
/// line of its own is a token (an email, a code, a path) and is shortened in its middle,
/// never broken across lines; a run of wide (CJK) characters wraps anywhere, as such text
/// does.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_with(text, width, true)
}

/// As [`wrap`], but a word too long for a line is broken across lines, never shortened:
/// for text read to be used whole (a link in the message log).
pub fn wrap_whole(text: &str, width: usize) -> Vec<String> {
    wrap_with(text, width, false)
}

fn wrap_with(text: &str, width: usize, elide: bool) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split(' ') {
        let w = columns(word);
        let gap = usize::from(used > 0);
        if used + gap + w <= width {
            if gap == 1 {
                line.push(' ');
            }
            line.push_str(word);
            used += gap + w;
            continue;
        }
        if used > 0 {
            out.push(std::mem::take(&mut line));
            used = 0;
        }
        if elide && w > width && !has_wide(word) {
            out.push(super::format::fit_middle(word, width));
            continue;
        }
        for g in word.graphemes(true) {
            let gw = columns(g);
            if used + gw > width && used > 0 {
                out.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push_str(g);
            used += gw;
        }
    }
    if used > 0 || out.is_empty() {
        out.push(line);
    }
    out
}

fn has_wide(word: &str) -> bool {
    columns(word) > word.chars().count()
}

/// `line` in `width` columns; a cut ends in "…", so nothing is clipped unseen.
fn fit_line(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let mut left = width;
    let mut spans = Vec::new();
    for span in line.spans {
        let w = columns(&span.content);
        if w < left || (w == left && left > 0) {
            left -= w;
            spans.push(span);
            continue;
        }
        if left > 0 {
            spans.push(Span::styled(
                super::format::fit(&span.content, left),
                span.style,
            ));
        }
        break;
    }
    Line::from(spans).style(line.style)
}

struct Builder<'s> {
    state: &'s State,
    width: usize,
    lines: Vec<Line<'static>>,
}

impl Builder<'_> {
    /// A label and its value; the value wraps under itself, never under the label.
    fn field(&mut self, label: &str, value: &str, style: Style) {
        let t = &self.state.theme;
        if self.width < LABEL + 8 {
            self.lines.push(Line::styled(label.to_owned(), t.dim()));
            self.indented(2, value, style);
            return;
        }
        for (i, piece) in wrap(value, self.width - LABEL).into_iter().enumerate() {
            let head = if i == 0 {
                Span::styled(format!("{label:<LABEL$}"), t.dim())
            } else {
                Span::raw(" ".repeat(LABEL))
            };
            self.lines
                .push(Line::from(vec![head, Span::styled(piece, style)]));
        }
    }

    /// Text that keeps its indent on every wrapped line.
    fn indented(&mut self, indent: usize, text: &str, style: Style) {
        let pad = " ".repeat(indent.min(self.width / 2));
        for piece in wrap(text, self.width.saturating_sub(pad.len())) {
            self.lines
                .push(Line::styled(format!("{pad}{piece}"), style));
        }
    }

    fn blank(&mut self) {
        self.lines.push(Line::raw(""));
    }

    fn dim(&mut self, text: &str) {
        let s = self.state.theme.dim();
        self.indented(2, text, s);
    }
}

pub fn text(state: &State, d: &SessionDetail, tab: Tab, width: u16) -> TabText {
    let mut b = Builder {
        state,
        width: (width as usize).max(1),
        lines: Vec::new(),
    };
    let items = match tab {
        Tab::ExamData => {
            exam_data(&mut b, d);
            Vec::new()
        }
        Tab::Video | Tab::Violations | Tab::Scans => list(&mut b, d, tab),
        Tab::Onboarding => {
            onboarding(&mut b, d);
            Vec::new()
        }
        Tab::History => {
            history(&mut b, d);
            Vec::new()
        }
    };
    let width = b.width;
    TabText {
        // Every line is built to fit; this holds it to that for texts nobody foresaw.
        lines: b.lines.into_iter().map(|l| fit_line(l, width)).collect(),
        items,
    }
}

/// Where the session stands under the course's four-eyes rule, if it has one.
fn second_look(b: &mut Builder<'_>, d: &SessionDetail) {
    use crate::domain::second_review::SecondReview;
    let t = b.state.theme;
    let me = b.state.reviewer.as_deref();
    match &d.waiting {
        Some(w) if Some(w.first_reviewer.as_str()) == me => b.field(
            "Second look",
            "◎ your first opinion waits for a second reviewer",
            t.attention(),
        ),
        Some(w) => b.field(
            "Second look",
            &format!(
                "◎ {} gave a first opinion; yours confirms or overturns it (blind)",
                safe(&w.first_reviewer)
            ),
            t.attention(),
        ),
        None if d.second_review != SecondReview::Off => b.field(
            "Second look",
            match d.second_review {
                SecondReview::All => "every decision here waits for a second reviewer",
                _ => "a Fail here waits for a second reviewer",
            },
            t.dim(),
        ),
        None => {}
    }
}

fn exam_data(b: &mut Builder<'_>, d: &SessionDetail) {
    let t = b.state.theme;
    let r = &d.row;
    b.field("Learner", &safe(&r.learner.full_name), t.heading());
    b.field("Username", &safe(&r.learner.username), Style::new());
    b.field("Email", &safe(&r.learner.email), Style::new());
    b.field("Exam", &safe(&d.exam_name), Style::new());
    b.field("Course", &safe(&d.course_id), t.dim());
    b.blank();
    b.field(
        "Status",
        &format!("{} {}", r.status.glyph(), r.status.label()),
        t.status(r.status),
    );
    let review = r.review_status.map(|s| s.as_str()).unwrap_or("—");
    b.field("Review", review, Style::new());
    second_look(b, d);
    b.field("Learner sees", d.learner_view.label(), Style::new());
    let grade = match (d.grade_in_force, d.original_grade) {
        (Some(now), Some(orig)) if now != orig => format!("{now} in force (original {orig})"),
        (Some(now), _) => format!("{now}"),
        _ => "— (ungraded)".into(),
    };
    b.field("Grade", &grade, Style::new());
    if let Some(lms) = &r.lms {
        // With Open edX the LMS sets the grade and emails the learner; we only tell it.
        b.field(
            "Open edX",
            lms.state.label(),
            match lms.state {
                s if s.needs_attention() => t.error(),
                crate::domain::LmsState::Waiting => t.attention(),
                _ => Style::new(),
            },
        );
        if let Some(note) = &lms.note {
            b.field("", &safe(note), t.dim());
        }
        if lms.state.needs_attention() || lms.state == crate::domain::LmsState::Waiting {
            b.field("", "L sends it to Open edX again now", t.dim());
        }
        b.field(
            "Grade effect",
            "set by Open edX (its course's grade-override flag)",
            t.dim(),
        );
    }
    b.field("Started", &when(r.started_at), Style::new());
    b.field("Completed", &when(r.completed_at), Style::new());
    let allowed = d
        .allowed_time_limit_mins
        .map(|m| format!(" of {m} min allowed"))
        .unwrap_or_default();
    b.field(
        "Took",
        &format!("{}{allowed}", duration(r.duration_secs())),
        Style::new(),
    );
    b.field(
        "Time limit",
        &format!("{} min", d.exam_time_limit_mins),
        Style::new(),
    );
    let kind = if d.is_sample_attempt {
        "practice"
    } else {
        "proctored"
    };
    b.field(
        "Attempt",
        &format!(
            "{kind} · track {}",
            if d.track.is_empty() {
                "— (not sent by Open edX)".into()
            } else {
                safe(&d.track)
            }
        ),
        Style::new(),
    );
    b.field("Attempt code", &safe(&d.attempt_code), Style::new());
    if let Some(ext) = &d.external_id {
        let provider = safe(d.provider.as_deref().unwrap_or("—")).into_owned();
        b.field(
            "Provider id",
            &format!("{} ({provider})", safe(ext)),
            Style::new(),
        );
    }
    if let Some(by) = &d.row.reviewed_by {
        b.field("Reviewed by", &safe(by), Style::new());
    }
    b.blank();
    let (n, rules) = d.violation_counts();
    b.field(
        "Violations",
        &format!(
            "{n} ({rules} Rules Violation, {} Suspicious) — tab 3",
            n - rules
        ),
        if n > 0 { t.attention() } else { Style::new() },
    );
    let videos = d.media_of(crate::domain::MediaKind::Video).count();
    b.field(
        "Video",
        &format!("{videos} segment(s) — tab 2"),
        Style::new(),
    );
    let scans = d.media.iter().filter(|m| m.kind.is_scan()).count();
    b.field("Scans", &format!("{scans} — tab 4"), Style::new());
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

fn scan_line(m: &MediaItem) -> String {
    let result = m
        .scan_result
        .map(|r| format!("{} {}", r.glyph(), r.label()))
        .unwrap_or_else(|| "· no result".into());
    let score = m
        .face_match_score
        .map(|s| format!(" · score {s:.2}"))
        .unwrap_or_default();
    format!("{result}{score}")
}

fn list(b: &mut Builder<'_>, d: &SessionDetail, tab: Tab) -> Vec<Range<usize>> {
    let t = b.state.theme;
    let pick = b.state.detail.picks[tab.index()];
    let all = evidence::items(d, tab);
    if all.is_empty() {
        b.dim(match tab {
            Tab::Video => "No video segments were recorded for this session.",
            Tab::Violations => "No violations were reported.",
            _ => "No verification scans were taken.",
        });
        return Vec::new();
    }
    let mut ranges = Vec::with_capacity(all.len());
    for (i, item) in all.iter().enumerate() {
        let start = b.lines.len();
        let selected = i == pick;
        let marker = if selected { "▶ " } else { "  " };
        let row_style = if selected {
            t.selected(b.state.focus == super::state::Pane::Detail)
        } else {
            Style::new()
        };
        match item {
            Item::Violation(v) => {
                let sev = if v.is_rules_violation() {
                    t.error()
                } else {
                    t.attention()
                };
                let head = format!(
                    "{marker}{}–{} {} {}",
                    offset(v.start_time),
                    offset(v.stop_time),
                    glyph_of(v),
                    safe(&v.status)
                );
                push_row(b, head, row_style.patch(sev), v.kind.label());
                let comment = safe(&v.comment).into_owned();
                b.indented(4, &comment, t.dim());
                let clip = match (d.clip_of(v).is_some(), d.screenshot_of(v.id).is_some()) {
                    (true, true) => "clip and screenshot",
                    (true, false) => "clip",
                    (false, true) => "screenshot",
                    (false, false) => "no media",
                };
                b.indented(4, clip, t.dim());
            }
            Item::Segment(m) => {
                let (a, z) = (m.offset_start.unwrap_or(0), m.offset_end.unwrap_or(0));
                let head = format!("{marker}{}–{}", offset(a), offset(z));
                let info = format!("{} · {}", duration(Some(z - a)), size(m.size));
                push_row(b, head, row_style, &info);
                let flagged: Vec<_> = evidence::flagged_in(d, m).collect();
                if flagged.is_empty() {
                    b.dim("nothing flagged in this segment");
                }
                for v in flagged {
                    let s = if v.is_rules_violation() {
                        t.error()
                    } else {
                        t.attention()
                    };
                    let text = format!(
                        "⚑ {} {} {} ({})",
                        offset(v.start_time),
                        glyph_of(v),
                        v.kind.label(),
                        safe(&v.status)
                    );
                    b.indented(4, &text, s);
                }
            }
            Item::Scan(m) => {
                let head = format!("{marker}{}", m.kind.label());
                let result = scan_line(m);
                let bad = m
                    .scan_result
                    .is_some_and(|r| r != crate::domain::ScanResult::Match);
                let s = if bad { t.error() } else { t.passed() };
                push_row(b, head, row_style, "");
                b.indented(4, &result, s);
                b.indented(4, &format!("taken {}", when(m.captured_at)), t.dim());
            }
        }
        ranges.push(start..b.lines.len());
    }
    ranges
}

/// A row's first line: its head, then `info` after it if it fits, else on its own line.
fn push_row(b: &mut Builder<'_>, head: String, style: Style, info: &str) {
    let hw: usize = columns(&head);
    let iw: usize = columns(info);
    if info.is_empty() {
        b.lines.push(Line::styled(head, style));
    } else if hw + 1 + iw <= b.width {
        b.lines.push(Line::from(vec![
            Span::styled(head, style),
            Span::raw(format!(" {info}")),
        ]));
    } else {
        b.lines.push(Line::styled(head, style));
        b.indented(4, info, Style::new());
    }
}

fn onboarding(b: &mut Builder<'_>, d: &SessionDetail) {
    let t = b.state.theme;
    let Some(o) = &d.onboarding else {
        b.dim("No onboarding on record for this learner in this course.");
        return;
    };
    let ok = matches!(
        o.status,
        crate::domain::OnboardingStatus::Verified
            | crate::domain::OnboardingStatus::OtherCourseApproved
    );
    b.field(
        "Status",
        &format!("{} {}", o.status.glyph(), o.status.label()),
        if ok { t.passed() } else { t.error() },
    );
    b.field("Started", &when(o.started_at), Style::new());
    b.field("Submitted", &when(o.submitted_at), Style::new());
    b.field("Verified", &when(o.verified_at), Style::new());
    let expiry = match (o.expires_at(), d.row.started_at) {
        (Some(e), Some(exam)) if e <= exam => (
            format!("{} — ⚠ expired before this exam", when(Some(e))),
            t.error(),
        ),
        (Some(e), _) => (
            format!("{} (valid for this exam)", when(Some(e))),
            Style::new(),
        ),
        (None, _) => ("—".to_owned(), Style::new()),
    };
    b.field("Expires", &expiry.0, expiry.1);
    let photo = if d
        .media_of(crate::domain::MediaKind::OnboardingPhoto)
        .next()
        .is_some()
    {
        "profile photo shown; o opens it"
    } else {
        "no profile photo"
    };
    b.field("Photo", photo, t.dim());
}

fn history(b: &mut Builder<'_>, d: &SessionDetail) {
    if d.history.is_empty() {
        b.dim("No decision yet.");
    }
    for h in d.history.iter().rev() {
        history_entry(b, h);
    }
}

/// What an entry was, in words and glyphs that read without colour.
fn history_heading(h: &HistoryEntry, t: &crate::console::theme::Theme) -> (String, Style) {
    use crate::domain::second_review::Stage;
    let word = |v: Verdict| match v {
        Verdict::Pass => ("✔", "Pass", t.passed()),
        Verdict::Fail => ("✘", "Fail", t.failed()),
    };
    match (h.stage, h.verdict, h.undoes) {
        (Some(Stage::First), Some(v), _) => {
            let (g, w, _) = word(v);
            (
                format!("◎ First opinion: {g} {w} (waited for a second reviewer)"),
                t.attention(),
            )
        }
        (Some(Stage::First), None, None) => (
            "◎ First opinion, shown once you decide (you review blind)".into(),
            t.attention(),
        ),
        (Some(Stage::Confirm), Some(v), _) => {
            let (g, w, style) = word(v);
            (format!("{g} {w} confirmed by a second reviewer"), style)
        }
        (Some(Stage::Overturn), Some(v), _) => {
            let (g, w, _) = word(v);
            (
                format!("↺ Overturned ({g} {w}): back to Require Attention"),
                t.attention(),
            )
        }
        (_, Some(v), _) => {
            let (g, w, style) = word(v);
            (format!("{g} {w}"), style)
        }
        (stage, None, Some(v)) => {
            let what = match stage {
                Some(Stage::First) => "first opinion",
                Some(Stage::Confirm) => "confirmation",
                Some(Stage::Overturn) => "overturn",
                None => "",
            };
            let (_, w, _) = word(v);
            let what = if what.is_empty() {
                w.to_owned()
            } else {
                format!("{w} {what}")
            };
            (format!("↶ {what} undone (nobody was told)"), t.dim())
        }
        (_, None, None) if h.evidence_deleted => ("✂ Evidence deleted (retention)".into(), t.dim()),
        (_, None, None) => ("⇅ Changed in Open edX".into(), t.dim()),
    }
}

fn history_entry(b: &mut Builder<'_>, h: &HistoryEntry) {
    let t = b.state.theme;
    let (glyph, style) = history_heading(h, &t);
    let at = when(Some(h.decided_at));
    if columns(&at) + 1 + columns(&glyph) <= b.width {
        b.lines.push(Line::from(vec![
            Span::raw(format!("{at} ")),
            Span::styled(glyph, style),
        ]));
    } else {
        b.lines.push(Line::raw(at));
        b.indented(2, &glyph, style);
    }
    b.indented(2, &format!("by {}", safe(&h.reviewer)), Style::new());
    let grade = match (h.grade_before, h.grade_after) {
        (Some(x), Some(y)) if x != y => format!(", grade {x} → {y}"),
        _ => String::new(),
    };
    // Retention changes no status; saying "Passed → Passed" would read as a decision.
    if !h.evidence_deleted {
        b.indented(
            2,
            &format!(
                "{} → {}{grade}",
                h.status_before.label(),
                h.status_after.label()
            ),
            Style::new(),
        );
    }
    if let Some(email) = &h.email {
        let style = match email.state {
            MailState::Failed => t.failed(),
            MailState::Cancelled => t.dim(),
            MailState::Queued => t.dim(),
            MailState::Delivered => Style::new(),
        };
        b.indented(2, &email.describe(), style);
    }
    if !h.reason.is_empty() {
        b.indented(2, &format!("“{}”", safe(&h.reason)), t.dim());
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_breaks_at_spaces_and_inside_words_that_cannot_fit() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("wkowalski@learners.example.edu", 12), ["wkowal…e.edu"]);
        assert_eq!(
            wrap("mail wkowalski@learners.example.edu now", 16),
            ["mail", "wkowalsk…ple.edu", "now"]
        );
        assert_eq!(wrap("陈静陈静陈", 4), ["陈静", "陈静", "陈"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("x", 0), ["x"]);
    }

    use crate::console::fixtures::{detail, opened, rows};
    use crate::console::state::Tab;
    use crate::domain::text::columns;
    use proptest::prelude::*;

    /// Retention's entry says what it is in History, not "Changed in Open edX".
    #[test]
    fn a_retention_entry_reads_as_evidence_deleted() {
        let state = opened();
        let mut d = detail(&rows()[0]);
        d.history.push(crate::domain::HistoryEntry {
            id: 9,
            reviewer: "retention".into(),
            decided_at: time::macros::datetime!(2026-11-10 10:00 UTC),
            verdict: None,
            reason: "evidence deleted after the course's retention period (180d): 2 files".into(),
            status_before: crate::domain::AttemptStatus::Verified,
            status_after: crate::domain::AttemptStatus::Verified,
            review_status_before: None,
            review_status_after: None,
            grade_before: None,
            grade_after: None,
            email: None,
            undoes: None,
            stage: None,
            evidence_deleted: true,
        });
        let text: String = super::text(&state, &d, Tab::History, 80)
            .lines
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(text.contains("✂ Evidence deleted (retention)"), "{text}");
        assert!(text.contains("by retention"), "{text}");
        assert!(!text.contains("Changed in Open edX"), "{text}");
        assert!(!text.contains("→"), "no status change is shown: {text}");
    }

    proptest! {
        /// A piece of wrapped text fits its width, and the text is all there unless a
        /// token was shortened, which shows "…".
        #[test]
        fn wrapped_pieces_fit_and_lose_nothing_unmarked(
            s in crate::console::format::tests::text(),
            width in 2usize..60,
        ) {
            let pieces = wrap(&s, width);
            for p in &pieces {
                prop_assert!(columns(p) <= width, "{p:?} wider than {width}");
            }
            let kept: String = pieces.concat().chars().filter(|c| *c != ' ').collect();
            let all: String = s.chars().filter(|c| *c != ' ').collect();
            prop_assert!(kept == all || pieces.iter().any(|p| p.contains('…')), "{pieces:?}");
        }

        /// No line of any Learner Detail tab is wider than the pane, whatever the names,
        /// emails and reasons: ratatui never clips one unseen.
        #[test]
        fn no_detail_line_is_wider_than_its_pane(
            name in crate::console::format::tests::text(),
            email in crate::console::format::tests::text(),
            reason in crate::console::format::tests::text(),
            width in 12u16..200,
        ) {
            let state = opened();
            let mut d = detail(&rows()[0]);
            d.row.learner.full_name = name;
            d.row.learner.email = email;
            d.history.push(crate::domain::HistoryEntry {
                id: 1,
                reviewer: reason.clone(),
                decided_at: time::macros::datetime!(2026-11-10 10:00 UTC),
                verdict: None,
                reason,
                status_before: crate::domain::AttemptStatus::Rejected,
                status_after: crate::domain::AttemptStatus::SecondReviewRequired,
                review_status_before: None,
                review_status_after: None,
                grade_before: None,
                grade_after: None,
                email: None,
                undoes: Some(crate::domain::Verdict::Pass),
                stage: None,
                evidence_deleted: false,
            });
            for tab in [Tab::ExamData, Tab::Video, Tab::Violations, Tab::Scans, Tab::Onboarding, Tab::History] {
                for line in super::text(&state, &d, tab, width).lines {
                    prop_assert!(line.width() <= usize::from(width), "{tab:?} at {width}: {line:?}");
                }
            }
        }
    }
}
