//! What each Learner Detail tab lists, what its selected row previews and opens, and what
//! the evidence adds up to. `update` and `view` both read these, so the row a key acts on
//! is the row that was drawn.

use super::playback::{Clip, Mark};
use super::state::Tab;
use crate::domain::{MediaItem, MediaKind, SessionDetail, Violation};

/// A selectable row of a list tab.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    Segment(&'a MediaItem),
    Violation(&'a Violation),
    Scan(&'a MediaItem),
}

pub fn items(d: &SessionDetail, tab: Tab) -> Vec<Item<'_>> {
    match tab {
        Tab::Video => d.media_of(MediaKind::Video).map(Item::Segment).collect(),
        Tab::Violations => d.violations.iter().map(Item::Violation).collect(),
        Tab::Scans => d
            .media
            .iter()
            .filter(|m| m.kind.is_scan())
            .map(Item::Scan)
            .collect(),
        _ => Vec::new(),
    }
}

/// The violations a video segment shows.
pub fn flagged_in<'a>(
    d: &'a SessionDetail,
    segment: &'a MediaItem,
) -> impl Iterator<Item = &'a Violation> {
    d.violations
        .iter()
        .filter(move |v| segment.covers(v.start_time, v.stop_time))
}

fn picked<'a>(d: &'a SessionDetail, tab: Tab, pick: usize) -> Option<Item<'a>> {
    items(d, tab).get(pick).copied()
}

/// The violation the timeline marks: the selected one, or the first a selected segment shows.
pub fn marked_violation(d: &SessionDetail, tab: Tab, pick: usize) -> Option<&Violation> {
    match picked(d, tab, pick)? {
        Item::Violation(v) => Some(v),
        Item::Segment(s) => flagged_in(d, s).next(),
        Item::Scan(_) => None,
    }
}

/// The image shown beside the tab's rows.
pub fn preview_target(d: &SessionDetail, tab: Tab, pick: usize) -> Option<&MediaItem> {
    match tab {
        Tab::Onboarding => d.media_of(MediaKind::OnboardingPhoto).next(),
        _ => match picked(d, tab, pick)? {
            Item::Scan(m) => Some(m),
            Item::Violation(v) => d.screenshot_of(v.id),
            Item::Segment(s) => flagged_in(d, s).find_map(|v| d.screenshot_of(v.id)),
        },
    }
}

/// What `o` opens: for a violation its clip at the flagged moment (its screenshot if
/// there is no clip), for a segment the segment at its first flagged moment, else the image.
pub fn open_target(
    d: &SessionDetail,
    tab: Tab,
    pick: usize,
) -> Option<(&MediaItem, Option<String>)> {
    match tab {
        Tab::Onboarding => d
            .media_of(MediaKind::OnboardingPhoto)
            .next()
            .map(|m| (m, None)),
        _ => match picked(d, tab, pick)? {
            Item::Scan(m) => Some((m, None)),
            Item::Violation(v) => d
                .clip_of(v)
                .map(|(m, f)| (m, Some(f)))
                .or_else(|| d.screenshot_of(v.id).map(|m| (m, None))),
            Item::Segment(s) => Some((
                s,
                flagged_in(d, s)
                    .next()
                    .and_then(|v| s.fragment(v.start_time, v.stop_time)),
            )),
        },
    }
}

/// What `Space` plays on this row: a violation's clip from 3 s before the moment to 3 s
/// after it; a segment around its first flagged moment, or all of it if nothing is flagged
/// there (the whole recording: a skim over its contact sheet).
pub fn play_target(d: &SessionDetail, tab: Tab, pick: usize) -> Option<Clip> {
    use super::playback::MARGIN_MS;
    let (file, moment) = match picked(d, tab, pick)? {
        // Its own clip when it has one, else whatever video covers it.
        Item::Violation(v) => (
            d.media_of(MediaKind::Video)
                .find(|m| m.violation_id == Some(v.id) && m.covers(v.start_time, v.stop_time))
                .or_else(|| d.clip_of(v).map(|(m, _)| m))?,
            Some(v),
        ),
        Item::Segment(s) => (s, flagged_in(d, s).next()),
        Item::Scan(_) => return None,
    };
    let start = file.offset_start.unwrap_or(0);
    let length = file
        .offset_end
        .filter(|e| *e > start)
        .map_or(u64::MAX, |e| (e - start) as u64 * 1000);
    let ms = |secs: i64| ((secs - start).max(0) as u64 * 1000).min(length);
    let span = match moment {
        Some(v) => {
            ms(v.start_time).saturating_sub(MARGIN_MS)
                ..(ms(v.stop_time.max(v.start_time)) + MARGIN_MS).min(length)
        }
        None => 0..length,
    };
    let marks = marks_in(d, file);
    Some(Clip {
        media: file.id,
        file_start_s: start,
        span,
        marks,
    })
}

/// The file the contact sheet shows: the selected segment in Video Monitoring, else the
/// session's longest video (its recording).
pub fn sheet_target(d: &SessionDetail, tab: Tab, pick: usize) -> Option<&MediaItem> {
    if let (Tab::Video, Some(Item::Segment(s))) = (tab, picked(d, tab, pick)) {
        return Some(s);
    }
    d.media_of(MediaKind::Video)
        .max_by_key(|m| m.offset_end.unwrap_or(0) - m.offset_start.unwrap_or(0))
}

/// The flagged moments a file shows, in its own time (ms), with their timeline letters.
pub fn marks_in(d: &SessionDetail, file: &MediaItem) -> Vec<Mark> {
    let start = file.offset_start.unwrap_or(0);
    let ms = |secs: i64| (secs - start).max(0) as u64 * 1000;
    flagged_in(d, file)
        .map(|v| Mark {
            span: ms(v.start_time)..ms(v.stop_time.max(v.start_time)),
            glyph: super::timeline::glyph_of(v),
        })
        .collect()
}

/// One line for the Pass/Fail confirmation: what was flagged, and whether the reviewer has
/// watched the video (played a moment here or opened it in a player).
pub fn summary(d: &SessionDetail, video_opened: bool) -> String {
    let (n, rules) = d.violation_counts();
    let flagged = match n {
        0 => "no violations flagged".to_owned(),
        _ => format!(
            "{n} violation{}: {rules} Rules Violation, {} Suspicious",
            if n == 1 { "" } else { "s" },
            n - rules
        ),
    };
    let video = match (d.media_of(MediaKind::Video).next().is_some(), video_opened) {
        (false, _) => "no video",
        (true, true) => "video watched",
        (true, false) => "video not watched",
    };
    let mismatch = d
        .media
        .iter()
        .filter(|m| m.scan_result == Some(crate::domain::ScanResult::NoMatch))
        .count();
    if mismatch > 0 {
        format!("{flagged}; {video}; {mismatch} scan without a match")
    } else {
        format!("{flagged}; {video}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::fixtures::{detail, row};
    use crate::domain::AttemptStatus;

    #[test]
    fn each_tab_previews_and_opens_what_its_row_shows() {
        let d = detail(&row(7, "Ana", AttemptStatus::SecondReviewRequired));
        assert_eq!(items(&d, Tab::Video).len(), 2);
        assert_eq!(items(&d, Tab::Violations).len(), 3);
        assert_eq!(items(&d, Tab::Scans).len(), 3);
        assert!(items(&d, Tab::ExamData).is_empty());

        // The phone at 300 s: its screenshot, and its clip from 4 s in.
        assert_eq!(
            preview_target(&d, Tab::Violations, 0).map(|m| m.id),
            Some(703)
        );
        let (clip, frag) = open_target(&d, Tab::Violations, 0).unwrap();
        assert_eq!((clip.id, frag.as_deref()), (701, Some("#t=4,12")));
        // Looking away at 310 s falls after that segment: its screenshot opens instead.
        let (shot, frag) = open_target(&d, Tab::Violations, 1).unwrap();
        assert_eq!((shot.id, frag), (704, None));
        // The tab switch has a clip but no screenshot.
        assert_eq!(preview_target(&d, Tab::Violations, 2), None);
        assert_eq!(marked_violation(&d, Tab::Video, 1).map(|v| v.id), Some(103));
        assert_eq!(
            preview_target(&d, Tab::Scans, 1).map(|m| m.kind),
            Some(MediaKind::FaceScan)
        );
        assert_eq!(
            open_target(&d, Tab::Onboarding, 0).map(|(m, _)| m.id),
            Some(708)
        );
        assert!(open_target(&d, Tab::History, 0).is_none());

        // Space on the phone at 300 s plays its clip (from 296 s) from 1 s to 12 s in.
        let clip = play_target(&d, Tab::Violations, 0).unwrap();
        assert_eq!((clip.media, clip.file_start_s), (701, 296));
        assert_eq!(clip.span, 1_000..12_000);
        assert_eq!(clip.marks.len(), 1);
        assert!(
            play_target(&d, Tab::Violations, 1).is_none(),
            "no clip covers it"
        );
        assert!(play_target(&d, Tab::Scans, 0).is_none());
        assert!(open_target(&d, Tab::Violations, 9).is_none());
    }

    #[test]
    fn the_summary_counts_what_was_flagged_and_what_was_seen() {
        let mut d = detail(&row(7, "Ana", AttemptStatus::SecondReviewRequired));
        assert_eq!(
            summary(&d, false),
            "3 violations: 1 Rules Violation, 2 Suspicious; video not watched; 1 scan without a match"
        );
        d.media.retain(|m| m.kind == MediaKind::Video);
        assert_eq!(
            summary(&d, true),
            "3 violations: 1 Rules Violation, 2 Suspicious; video watched"
        );
        d.violations.clear();
        d.media.clear();
        assert_eq!(summary(&d, false), "no violations flagged; no video");
    }
}
