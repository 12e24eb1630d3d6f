//! Stills drawn from recordings, so the console can play a flagged moment and skim a whole
//! recording where no video player exists. H.264 in MP4 (what the demo and most providers
//! record) is decoded in-process by openh264, built from its bundled source: nothing to
//! install. Anything else (browsers' WebM, other codecs) goes to the `ffmpeg` program when
//! the server has one; without it the server says so instead of drawing.
//!
//! A file's stills are derived once on the job system and kept as one frame pack, named by
//! the file's SHA-256 and its plan ([`crate::domain::frames::Plan`]), beside the evidence.

// Lists of flagged spans often hold just one; that is what they mean.
#![allow(clippy::single_range_in_vec_init)]

mod ffmpeg;
mod h264;
mod shelf;

pub use ffmpeg::find as find_ffmpeg;
pub use shelf::Shelf;

use crate::domain::frames::{FrameInfo, FramePack, MAX_WIDTH, Plan, Selector};
use crate::domain::{ContentType, MediaItem, Violation};
use image::RgbImage;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What the server draws stills with, and where it keeps them.
#[derive(Debug, Clone)]
pub struct Drawing {
    pub shelf: Shelf,
    /// The `ffmpeg` program, for what openh264 does not decode.
    pub ffmpeg: Option<PathBuf>,
}

/// What is wanted of one file: its length as its record says (if it does) and the flagged
/// moments it shows, in milliseconds into the file. Its [`key`](Self::key) names the pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub length_hint_ms: Option<u64>,
    pub flagged: Vec<Range<u64>>,
}

impl Wanted {
    /// For a video record and its session's violations (seconds into the recording).
    pub fn of(item: &MediaItem, violations: &[Violation]) -> Self {
        let start = item.offset_start.unwrap_or(0);
        let length_hint_ms = item
            .offset_end
            .filter(|end| *end > start)
            .map(|end| (end - start) as u64 * 1000);
        let ms = |secs: i64| (secs - start).max(0) as u64 * 1000;
        let flagged = violations
            .iter()
            .filter(|v| item.offset_end.is_none_or(|end| v.start_time < end))
            .filter(|v| v.stop_time.max(v.start_time) >= start)
            .map(|v| ms(v.start_time)..ms(v.stop_time.max(v.start_time)))
            .map(|r| match length_hint_ms {
                Some(len) => r.start.min(len)..r.end.min(len),
                None => r,
            })
            .collect();
        Self {
            length_hint_ms,
            flagged,
        }
    }

    /// The pack's name beside its file: the same file with the same flagged moments is
    /// drawn once, whichever session shows it.
    pub fn key(&self) -> String {
        Plan::new(
            self.length_hint_ms.unwrap_or(UNKNOWN_LENGTH_MS),
            &self.flagged,
        )
        .fingerprint()
    }
}

/// JPEG quality of a still: small enough for 8 a second over SSH, sharp enough to read.
const QUALITY: u8 = 70;
/// With no length known (a WebM without one), the sheet is spaced as for this long.
const UNKNOWN_LENGTH_MS: u64 = 6 * 3600 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum FramesError {
    #[error(
        "this recording is {0} and the server has no ffmpeg to draw its frames (install Debian's ffmpeg package, or start serve with --ffmpeg PATH)"
    )]
    NoFfmpeg(&'static str),
    #[error("cannot decode the recording: {0}")]
    Decode(String),
    #[error("cannot run ffmpeg: {0}")]
    Ffmpeg(#[source] std::io::Error),
    #[error("cannot read the recording: {0}")]
    Io(#[from] std::io::Error),
}

/// Whether this server can draw stills of a file of this type (checked before any work is
/// queued, so the console can say at once what is missing).
pub fn can_draw(content_type: ContentType, ffmpeg: Option<&Path>) -> Result<(), FramesError> {
    match (content_type, ffmpeg) {
        (ContentType::Mp4, _) | (_, Some(_)) => Ok(()),
        (ContentType::Webm, None) => Err(FramesError::NoFfmpeg("WebM")),
        (_, None) => Err(FramesError::NoFfmpeg("not a video")),
    }
}

/// Collects the stills a plan wants as a decoder shows frames in order.
struct Collector {
    selector: Selector,
    pack: FramePack,
    last_ms: u64,
}

impl Collector {
    fn new(length_hint_ms: Option<u64>, flagged: &[Range<u64>]) -> Self {
        let length = length_hint_ms.unwrap_or(UNKNOWN_LENGTH_MS);
        let plan = Plan::new(length, flagged);
        Self {
            selector: Selector::new(plan.moments(length)),
            pack: FramePack::default(),
            last_ms: 0,
        }
    }

    /// Whether the frame shown at `at_ms` is wanted; the decoder converts only those.
    fn wants(&mut self, at_ms: u64) -> Option<bool> {
        self.last_ms = self.last_ms.max(at_ms);
        self.selector.take(at_ms)
    }

    fn keep(&mut self, at_ms: u64, sheet: bool, rgb: RgbImage) -> Result<(), FramesError> {
        let rgb = if rgb.width() > MAX_WIDTH {
            let h = (u64::from(rgb.height()) * u64::from(MAX_WIDTH) / u64::from(rgb.width())).max(1)
                as u32;
            image::imageops::resize(&rgb, MAX_WIDTH, h, image::imageops::FilterType::Triangle)
        } else {
            rgb
        };
        let mut jpeg = Vec::with_capacity(16 * 1024);
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
            .encode_image(&rgb)
            .map_err(|e| FramesError::Decode(format!("cannot encode a still: {e}")))?;
        self.pack.width = rgb.width();
        self.pack.height = rgb.height();
        self.pack.frames.push((FrameInfo { at_ms, sheet }, jpeg));
        Ok(())
    }

    fn done(&self) -> bool {
        self.selector.done()
    }

    fn finish(mut self, frame_ms: u64) -> Result<FramePack, FramesError> {
        if self.pack.frames.is_empty() {
            return Err(FramesError::Decode("it has no pictures".into()));
        }
        self.pack.length_ms = self.last_ms + frame_ms;
        Ok(self.pack)
    }
}

/// Draws the stills of the file at `source`: a contact sheet across it and dense frames
/// around `flagged` (milliseconds into the file). Blocking: run it off the async threads.
pub fn derive(
    source: &Path,
    content_type: ContentType,
    wanted: &Wanted,
    ffmpeg: Option<&Path>,
) -> Result<FramePack, FramesError> {
    let (length_hint_ms, flagged) = (wanted.length_hint_ms, wanted.flagged.as_slice());
    can_draw(content_type, ffmpeg)?;
    if content_type == ContentType::Mp4 {
        match h264::derive(source, flagged) {
            Ok(pack) => return Ok(pack),
            // Not H.264, or a profile openh264 does not take: ffmpeg may.
            Err(e) if ffmpeg.is_none() => return Err(e),
            Err(e) => tracing::debug!(error = %e, "openh264 could not draw it; trying ffmpeg"),
        }
    }
    match ffmpeg {
        Some(program) => ffmpeg::derive(program, source, length_hint_ms, flagged),
        None => Err(FramesError::NoFfmpeg("WebM")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::frames::DENSE_EVERY_MS;

    fn want(length_hint_ms: Option<u64>, flagged: &[Range<u64>]) -> Wanted {
        Wanted {
            length_hint_ms,
            flagged: flagged.to_vec(),
        }
    }

    #[test]
    fn a_segment_wants_the_flagged_moments_it_shows_in_its_own_time() {
        let v = |id, start_time, stop_time| Violation {
            id,
            start_time,
            stop_time,
            duration: stop_time - start_time,
            kind: crate::domain::ViolationKind::Phone,
            status: "Suspicious".into(),
            comment: String::new(),
        };
        let item = MediaItem {
            id: 1,
            kind: crate::domain::MediaKind::Video,
            content_type: ContentType::Mp4,
            size: 1,
            sha256: String::new(),
            offset_start: Some(296),
            offset_end: Some(308),
            captured_at: None,
            violation_id: None,
            scan_result: None,
            face_match_score: None,
        };
        let w = Wanted::of(
            &item,
            &[v(1, 10, 20), v(2, 300, 305), v(3, 306, 330), v(4, 400, 410)],
        );
        assert_eq!(w.length_hint_ms, Some(12_000));
        assert_eq!(w.flagged, vec![4_000..9_000, 10_000..12_000]);
        // A clip is drawn densely end to end: one pack serves every session showing it.
        let unflagged = |w: &Wanted| Wanted {
            flagged: vec![],
            ..w.clone()
        };
        assert_eq!(w.key(), unflagged(&w).key());
        let long = Wanted {
            length_hint_ms: Some(600_000),
            ..w.clone()
        };
        assert_ne!(long.key(), unflagged(&long).key());
    }

    fn demo(name: &str) -> tempfile::NamedTempFile {
        let asset = crate::demo::evidence::assets()
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no demo asset {name}"));
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, asset.bytes).unwrap();
        f
    }

    #[test]
    fn a_demo_clip_is_drawn_with_no_system_package() {
        let clip = demo("clips/phone.mp4");
        let pack = derive(
            clip.path(),
            ContentType::Mp4,
            &want(None, &[4000..9000]),
            None,
        )
        .unwrap();
        assert_eq!((pack.width, pack.height), (320, 180));
        assert!(
            (11_900..=12_200).contains(&pack.length_ms),
            "{}",
            pack.length_ms
        );
        // 10 fps source, 8 wanted a second: every wanted moment has its own frame.
        assert_eq!(pack.frames.len(), 96);
        assert_eq!(pack.index().sheet().count(), 12);
        let gaps = pack.frames.windows(2).map(|w| w[1].0.at_ms - w[0].0.at_ms);
        assert!(
            gaps.clone().all(|g| g <= 2 * DENSE_EVERY_MS),
            "{:?}",
            gaps.collect::<Vec<_>>()
        );
        // The phone is there at 6 s (blue box in the bottom right), not at 1 s.
        let at = |ms| {
            let (_, jpeg) = pack.frames.iter().find(|(f, _)| f.at_ms >= ms).unwrap();
            image::load_from_memory(jpeg).unwrap().to_rgb8()
        };
        let blue = |img: &RgbImage| {
            let p = img.get_pixel(250, 115);
            p[2] > 150 && p[0] < 100
        };
        assert!(
            blue(&at(6000)),
            "the flagged thing shows in the flagged moment"
        );
        assert!(!blue(&at(1000)));
    }

    #[test]
    fn the_long_recording_gives_a_sheet_and_dense_frames_only_where_flagged() {
        let rec = demo("recording.mp4");
        let pack = derive(
            rec.path(),
            ContentType::Mp4,
            &want(None, &[40_000..48_000]),
            None,
        )
        .unwrap();
        let sheet: Vec<u64> = pack.index().sheet().map(|f| f.at_ms).collect();
        assert_eq!(sheet.len(), 180, "a still a second for three minutes");
        let dense = pack.frames.iter().filter(|(f, _)| !f.sheet).count();
        // 5 fps source: 14 s around the phone give 5 a second, minus the sheet's own.
        assert!((50..=60).contains(&dense), "{dense} dense frames");
        assert!(
            pack.frames
                .iter()
                .all(|(f, _)| f.sheet || (37_000..51_000).contains(&f.at_ms))
        );
    }

    #[test]
    fn webm_without_ffmpeg_says_what_is_missing_and_with_it_is_drawn() {
        let clip = demo("clips/voices.webm");
        let e = derive(
            clip.path(),
            ContentType::Webm,
            &want(Some(12_000), &[]),
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("WebM and the server has no ffmpeg"),
            "{e}"
        );
        let Some(ffmpeg) = find_ffmpeg(None) else {
            assert!(
                std::env::var_os("PROCTOR_REVIEW_REQUIRE_FFMPEG").is_none(),
                "ffmpeg is required here but not on PATH"
            );
            eprintln!("skipped: no ffmpeg on PATH");
            return;
        };
        let pack = derive(
            clip.path(),
            ContentType::Webm,
            &want(Some(12_000), &[4000..9000]),
            Some(&ffmpeg),
        )
        .unwrap();
        assert_eq!(pack.frames.len(), 96);
        assert_eq!(pack.frames[8].0.at_ms, 1000);
        assert!(
            (11_900..=12_200).contains(&pack.length_ms),
            "{}",
            pack.length_ms
        );
    }
}
