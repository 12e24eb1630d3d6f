//! A flagged moment played inline: which stretch of which file, the stills the runner has
//! fitted to the screen, and the playhead. The clock is the runner's: each `PlayTick` says
//! what time it is, and the playhead moves by the time passed times the speed, so a slow
//! terminal drops frames rather than slowing down.

use super::state::{PreviewImage, RequestId, Tab};
use crate::domain::{MediaId, SessionId};
use std::ops::Range;
use std::time::Instant;

/// Rows under a playing still: the scrubber and the status line.
pub const CONTROL_ROWS: u16 = 2;
/// Seconds shown before and after a flagged moment.
pub const MARGIN_MS: u64 = 3_000;
/// Seeking while playing moves this far.
pub const SEEK_MS: u64 = 1_000;
/// Speeds from a quarter to four times, as powers of two.
pub const SLOWEST: i8 = -2;
pub const FASTEST: i8 = 2;
/// A tick comes at least this often while playing, so a pause or a seek shows at once.
const TICK_MAX_MS: u64 = 250;
const TICK_MIN_MS: u64 = 15;

/// A flagged moment marked on the scrubber: where it falls in the file, and its letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub span: Range<u64>,
    pub glyph: char,
}

/// What `Space` plays: a stretch of one video file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    pub media: MediaId,
    /// The recording's second the file starts at (times are shown in the recording's).
    pub file_start_s: i64,
    /// Milliseconds into the file.
    pub span: Range<u64>,
    pub marks: Vec<Mark>,
}

#[derive(Debug, Clone)]
pub struct Playback {
    pub session: SessionId,
    /// The row it plays; choosing another stops it.
    pub tab: Tab,
    pub pick: usize,
    pub clip: Clip,
    /// The cells the stills were fitted to.
    pub size: (u16, u16),
    pub request: Option<RequestId>,
    /// The request whose stills are in `frames`.
    pub fitted: Option<RequestId>,
    /// Stills in time order (ms into the file) with their images.
    pub frames: Vec<(u64, PreviewImage)>,
    pub error: Option<String>,
    /// The playhead, ms into the file.
    pub at_ms: u64,
    pub playing: bool,
    /// log2 of the speed.
    pub speed: i8,
    /// When the playhead last moved with the clock (none until the first tick).
    pub clock: Option<Instant>,
    /// Ticks of an earlier playback are ignored.
    pub generation: u64,
    /// The tick chain in force: a pause, seek or speed change starts a new one.
    pub ticket: u64,
}

impl Playback {
    pub fn new(session: SessionId, tab: Tab, pick: usize, clip: Clip, generation: u64) -> Self {
        Self {
            session,
            tab,
            pick,
            at_ms: clip.span.start,
            clip,
            size: (0, 0),
            request: None,
            fitted: None,
            frames: Vec::new(),
            error: None,
            playing: true,
            speed: 0,
            clock: None,
            generation,
            ticket: 0,
        }
    }

    /// The index of the still showing at the playhead (the last at or before it).
    pub fn current(&self) -> Option<usize> {
        if self.frames.is_empty() {
            return None;
        }
        Some(
            self.frames
                .partition_point(|(t, _)| *t <= self.at_ms)
                .saturating_sub(1),
        )
    }

    pub fn image(&self) -> Option<&PreviewImage> {
        self.current().map(|i| &self.frames[i].1)
    }

    /// Where playing stops: the last still once all have come, the stretch's end while
    /// more are on their way (the first batch alone is not the whole moment).
    fn end_ms(&self) -> u64 {
        match self.frames.last() {
            Some((t, _)) if self.request.is_none() => (*t).max(self.clip.span.start),
            _ => self.clip.span.end,
        }
    }

    /// Moves the playhead with the clock; at the end it stops there.
    pub fn advance(&mut self, now: Instant) {
        if !self.playing {
            return;
        }
        if let Some(then) = self.clock {
            let passed = now.saturating_duration_since(then).as_secs_f64() * 1000.0;
            let moved = (passed * f64::powi(2.0, i32::from(self.speed))) as u64;
            self.at_ms = (self.at_ms + moved).min(self.end_ms());
        }
        self.clock = Some(now);
        if self.at_ms >= self.end_ms() && !self.frames.is_empty() {
            self.playing = false;
        }
    }

    /// Milliseconds until the next still is due at this speed.
    pub fn next_tick_ms(&self) -> u64 {
        let next = self.current().and_then(|i| self.frames.get(i + 1));
        let gap = next.map_or(TICK_MAX_MS, |(t, _)| t.saturating_sub(self.at_ms));
        let scaled = (gap as f64 / f64::powi(2.0, i32::from(self.speed))).ceil() as u64;
        scaled.clamp(TICK_MIN_MS, TICK_MAX_MS)
    }

    /// Space: pauses, or plays on (from the start again once it reached the end).
    pub fn toggle(&mut self) {
        if self.playing {
            self.playing = false;
        } else {
            if self.at_ms >= self.end_ms() {
                self.at_ms = self.clip.span.start;
            }
            self.playing = true;
        }
        self.clock = None;
    }

    /// `→`/`←`: a still forward or back when paused, a second when playing.
    pub fn step(&mut self, forward: bool) {
        if self.playing {
            self.at_ms = if forward {
                (self.at_ms + SEEK_MS).min(self.end_ms())
            } else {
                self.at_ms.saturating_sub(SEEK_MS).max(self.clip.span.start)
            };
            self.clock = None;
            return;
        }
        let Some(i) = self.current() else {
            return;
        };
        let to = if forward {
            (i + 1).min(self.frames.len() - 1)
        } else {
            i.saturating_sub(1)
        };
        self.at_ms = self.frames[to].0;
    }

    /// `,`/`.`: half or double the speed, within a quarter and four times.
    pub fn faster(&mut self, faster: bool) {
        self.speed = if faster {
            (self.speed + 1).min(FASTEST)
        } else {
            (self.speed - 1).max(SLOWEST)
        };
        self.clock = None;
    }

    pub fn speed_label(&self) -> &'static str {
        match self.speed {
            -2 => "¼×",
            -1 => "½×",
            0 => "1×",
            1 => "2×",
            _ => "4×",
        }
    }

    /// The playhead in the recording's time, in seconds.
    pub fn recording_secs(&self, ms: u64) -> f64 {
        self.clip.file_start_s as f64 + ms as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::fixtures::blank_image as image;
    use std::time::Duration;

    fn playing(times: &[u64]) -> Playback {
        let clip = Clip {
            media: 1,
            file_start_s: 296,
            span: 1_000..9_000,
            marks: vec![],
        };
        let mut p = Playback::new(7, Tab::Violations, 0, clip, 1);
        p.frames = times.iter().map(|t| (*t, image())).collect();
        p
    }

    #[test]
    fn the_playhead_moves_with_the_clock_at_the_chosen_speed_and_stops_at_the_end() {
        let mut p = playing(&[1_000, 1_125, 1_250, 1_375, 1_500]);
        let t0 = Instant::now();
        p.advance(t0);
        assert_eq!((p.at_ms, p.current()), (1_000, Some(0)));
        assert_eq!(p.next_tick_ms(), 125);
        p.advance(t0 + Duration::from_millis(260));
        assert_eq!(p.current(), Some(2), "two stills later");
        p.faster(true);
        assert_eq!(p.speed_label(), "2×");
        p.advance(t0 + Duration::from_millis(300));
        assert_eq!(p.next_tick_ms(), 58, "half the gap, at twice the speed");
        p.advance(t0 + Duration::from_millis(400));
        assert_eq!(p.at_ms, 1_460);
        p.advance(t0 + Duration::from_millis(2_000));
        assert_eq!(
            (p.at_ms, p.playing),
            (1_500, false),
            "stopped on the last still"
        );
        p.toggle();
        assert_eq!((p.at_ms, p.playing), (1_000, true), "again from the start");
    }

    #[test]
    fn while_stills_are_still_coming_it_plays_on_past_the_last_one_that_came() {
        let mut p = playing(&[1_000]);
        p.request = Some(3);
        let t0 = Instant::now();
        p.advance(t0);
        p.advance(t0 + Duration::from_millis(500));
        assert!(p.playing, "not the end: more stills are coming");
        assert_eq!((p.at_ms, p.current()), (1_500, Some(0)));
        p.frames.push((1_625, image()));
        p.request = None;
        p.advance(t0 + Duration::from_millis(700));
        assert!(!p.playing, "all came; the last one is the end");
        assert_eq!(p.at_ms, 1_625);
    }

    #[test]
    fn paused_arrows_step_a_still_and_playing_they_seek_a_second() {
        let mut p = playing(&[1_000, 1_125, 1_250, 3_000]);
        p.toggle();
        assert!(!p.playing);
        p.step(true);
        p.step(true);
        assert_eq!(p.at_ms, 1_250);
        p.step(false);
        assert_eq!(p.at_ms, 1_125);
        p.step(false);
        p.step(false);
        assert_eq!(p.at_ms, 1_000, "never before the first");
        p.toggle();
        p.step(true);
        assert_eq!((p.at_ms, p.current()), (2_000, Some(2)));
        p.step(true);
        p.step(true);
        assert_eq!(p.at_ms, 3_000, "never past the last");
        p.step(false);
        assert_eq!(p.at_ms, 2_000);
        for _ in 0..9 {
            p.faster(false);
        }
        assert_eq!(p.speed_label(), "¼×");
        assert!((p.recording_secs(2_000) - 298.0).abs() < 1e-9);
    }
}
