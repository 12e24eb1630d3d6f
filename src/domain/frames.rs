//! Stills drawn from a recording so a reviewer can watch it in the terminal: which moments
//! the server keeps (a contact sheet across the whole file, dense frames around each flagged
//! moment), and the frame pack, the one binary both sides read them in.
//!
//! Times here are milliseconds into the video file, not into the exam.

// Lists of flagged spans often hold just one; that is what they mean.
#![allow(clippy::single_range_in_vec_init)]

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Dense frames come this often: 8 a second, enough to follow a hand or a head turn.
pub const DENSE_EVERY_MS: u64 = 125;
/// Dense frames start this long before a flagged moment and end this long after it.
pub const DENSE_MARGIN_MS: u64 = 3_000;
/// A file this short is drawn densely from end to end (a violation's clip).
pub const DENSE_WHOLE_MS: u64 = 60_000;
/// Stills are at most this wide (pixels): enough to see an object on a desk.
pub const MAX_WIDTH: u32 = 480;
/// A contact sheet keeps about this many stills at most, whatever the length.
const SHEET_TARGET: u64 = 300;
/// The intervals a sheet's stills are spaced by (seconds): round numbers people read.
const SHEET_STEPS: [u64; 9] = [1, 2, 5, 10, 15, 20, 30, 60, 120];

/// Which moments of one file become stills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// A sheet still every this many milliseconds from the start.
    pub sheet_every_ms: u64,
    /// Stretches drawn at [`DENSE_EVERY_MS`], sorted and not overlapping.
    pub dense: Vec<Range<u64>>,
}

impl Plan {
    /// The plan for a file `length_ms` long whose flagged moments (ms into the file) are
    /// `flagged`.
    pub fn new(length_ms: u64, flagged: &[Range<u64>]) -> Self {
        let secs = length_ms.div_ceil(1000).max(1);
        let sheet_every_ms = SHEET_STEPS
            .iter()
            .copied()
            .find(|step| secs.div_ceil(*step) <= SHEET_TARGET)
            .unwrap_or(SHEET_STEPS[SHEET_STEPS.len() - 1])
            * 1000;
        let mut spans: Vec<Range<u64>> = if length_ms <= DENSE_WHOLE_MS {
            vec![0..length_ms]
        } else {
            flagged
                .iter()
                .map(|r| {
                    r.start.saturating_sub(DENSE_MARGIN_MS)
                        ..(r.end + DENSE_MARGIN_MS).min(length_ms)
                })
                .filter(|r| r.start < r.end)
                .collect()
        };
        spans.sort_by_key(|r| r.start);
        let mut dense: Vec<Range<u64>> = Vec::new();
        for r in spans {
            match dense.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => dense.push(r),
            }
        }
        Self {
            sheet_every_ms,
            dense,
        }
    }

    /// Every wanted moment in order, each with whether it is a sheet still.
    pub fn moments(&self, length_ms: u64) -> Vec<(u64, bool)> {
        let mut out: Vec<(u64, bool)> = (0..length_ms.max(1))
            .step_by(self.sheet_every_ms.max(1) as usize)
            .map(|t| (t, true))
            .collect();
        for r in &self.dense {
            out.extend(
                (r.start..r.end.max(r.start + 1))
                    .step_by(DENSE_EVERY_MS as usize)
                    .map(|t| (t, false)),
            );
        }
        out.sort_by_key(|(t, sheet)| (*t, !*sheet));
        out.dedup_by_key(|(t, _)| *t);
        out
    }

    /// A short name for the plan, part of where its pack is kept: the same file with the
    /// same flagged moments is drawn once, whichever session shows it.
    pub fn fingerprint(&self) -> String {
        let mut text = format!("v1 sheet {} dense {}", self.sheet_every_ms, DENSE_EVERY_MS);
        for r in &self.dense {
            text.push_str(&format!(" {}-{}", r.start, r.end));
        }
        // FNV-1a: a name, not a secret.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// Follows decoded frames in time order and says which to keep: a frame is kept for every
/// wanted moment it is the first frame at or after.
#[derive(Debug)]
pub struct Selector {
    moments: Vec<(u64, bool)>,
    next: usize,
}

impl Selector {
    pub fn new(moments: Vec<(u64, bool)>) -> Self {
        Self { moments, next: 0 }
    }

    /// For a frame shown at `at_ms`: `None` to skip it, else whether it is a sheet still.
    pub fn take(&mut self, at_ms: u64) -> Option<bool> {
        let mut kept = None;
        while let Some((t, sheet)) = self.moments.get(self.next) {
            if *t > at_ms {
                break;
            }
            kept = Some(kept.unwrap_or(false) || *sheet);
            self.next += 1;
        }
        kept
    }

    /// Whether every wanted moment has its frame (decoding may stop).
    pub fn done(&self) -> bool {
        self.next >= self.moments.len()
    }
}

/// One still of a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameInfo {
    pub at_ms: u64,
    /// Whether it is on the contact sheet (else it is one of a flagged moment's).
    pub sheet: bool,
}

/// What a file's stills are: the answer to `GET /media/{id}/frames`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameIndex {
    pub frames: Vec<FrameInfo>,
    pub width: u32,
    pub height: u32,
    pub length_ms: u64,
}

impl FrameIndex {
    /// The sheet's stills, in order.
    pub fn sheet(&self) -> impl Iterator<Item = &FrameInfo> {
        self.frames.iter().filter(|f| f.sheet)
    }
}

/// Stills with their JPEG bytes: a header line of JSON, then the images back to back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FramePack {
    pub frames: Vec<(FrameInfo, Vec<u8>)>,
    pub width: u32,
    pub height: u32,
    pub length_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct PackHeader {
    width: u32,
    height: u32,
    length_ms: u64,
    frames: Vec<(FrameInfo, usize)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a frame pack: {0}")]
pub struct PackError(pub String);

const MAGIC: &[u8] = b"PRFRAMES1\n";

impl FramePack {
    pub const CONTENT_TYPE: &'static str = "application/vnd.proctor-review.frames";

    pub fn index(&self) -> FrameIndex {
        FrameIndex {
            frames: self.frames.iter().map(|(f, _)| f.clone()).collect(),
            width: self.width,
            height: self.height,
            length_ms: self.length_ms,
        }
    }

    /// The stills shown from `from_ms` up to `to_ms` (with the one showing at `from_ms`),
    /// or only the sheet's.
    pub fn part(&self, range: Range<u64>, sheet_only: bool) -> FramePack {
        let first = self
            .frames
            .iter()
            .rposition(|(f, _)| f.at_ms <= range.start && (f.sheet || !sheet_only))
            .unwrap_or(0);
        FramePack {
            frames: self
                .frames
                .iter()
                .enumerate()
                .filter(|(i, (f, _))| {
                    (*i == first || range.contains(&f.at_ms)) && (f.sheet || !sheet_only)
                })
                .map(|(_, f)| f.clone())
                .collect(),
            ..self.shell()
        }
    }

    fn shell(&self) -> FramePack {
        FramePack {
            frames: Vec::new(),
            width: self.width,
            height: self.height,
            length_ms: self.length_ms,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let header = PackHeader {
            width: self.width,
            height: self.height,
            length_ms: self.length_ms,
            frames: self
                .frames
                .iter()
                .map(|(f, b)| (f.clone(), b.len()))
                .collect(),
        };
        let mut out = MAGIC.to_vec();
        // Serialising our own plain structs cannot fail.
        out.extend(serde_json::to_vec(&header).unwrap_or_default());
        out.push(b'\n');
        for (_, b) in &self.frames {
            out.extend_from_slice(b);
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PackError> {
        let bad = |why: &str| PackError(why.to_owned());
        let rest = bytes.strip_prefix(MAGIC).ok_or_else(|| bad("no header"))?;
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| bad("the header does not end"))?;
        let header: PackHeader =
            serde_json::from_slice(&rest[..end]).map_err(|e| PackError(e.to_string()))?;
        let mut body = &rest[end + 1..];
        let mut frames = Vec::with_capacity(header.frames.len());
        for (info, len) in header.frames {
            if body.len() < len {
                return Err(bad("it ends before its last frame"));
            }
            let (image, tail) = body.split_at(len);
            frames.push((info, image.to_vec()));
            body = tail;
        }
        Ok(Self {
            frames,
            width: header.width,
            height: header.height,
            length_ms: header.length_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clip_is_dense_throughout_and_a_long_recording_only_where_flagged() {
        let clip = Plan::new(12_000, &[4_000..9_000]);
        assert_eq!(clip.dense, vec![0..12_000]);
        assert_eq!(clip.sheet_every_ms, 1_000);
        let m = clip.moments(12_000);
        assert_eq!(m.len(), 96, "8 a second for 12 s");
        assert_eq!(m.iter().filter(|(_, s)| *s).count(), 12);

        let two_hours = 2 * 3600 * 1000;
        let exam = Plan::new(two_hours, &[600_000..605_000, 603_000..610_000, 0..1_000]);
        assert_eq!(exam.sheet_every_ms, 30_000, "240 stills for two hours");
        assert_eq!(exam.dense, vec![0..4_000, 597_000..613_000]);
        let m = exam.moments(two_hours);
        assert_eq!(m.iter().filter(|(_, s)| *s).count(), 240);
        assert!(m.windows(2).all(|w| w[0].0 < w[1].0), "in order, once each");
        assert_ne!(exam.fingerprint(), clip.fingerprint());
        assert_eq!(exam.fingerprint(), exam.clone().fingerprint());
    }

    #[test]
    fn each_wanted_moment_keeps_the_first_frame_at_or_after_it() {
        let mut s = Selector::new(vec![(0, true), (100, false), (125, false), (1000, true)]);
        assert_eq!(s.take(0), Some(true));
        assert_eq!(s.take(99), None);
        // One frame at 10 fps serves both dense moments before it.
        assert_eq!(s.take(200), Some(false));
        assert_eq!(s.take(900), None);
        assert!(!s.done());
        assert_eq!(s.take(1000), Some(true));
        assert!(s.done());
    }

    #[test]
    fn a_pack_reads_back_what_was_written_and_a_part_keeps_the_frame_showing_at_its_start() {
        let info = |at_ms, sheet| FrameInfo { at_ms, sheet };
        let pack = FramePack {
            frames: vec![
                (info(0, true), vec![1, 2]),
                (info(500, false), vec![3]),
                (info(1000, true), vec![4, 5, 6]),
                (info(1500, false), vec![]),
            ],
            width: 320,
            height: 180,
            length_ms: 2000,
        };
        let back = FramePack::from_bytes(&pack.to_bytes()).unwrap();
        assert_eq!(back, pack);
        let part = pack.part(700..1600, false);
        let ats: Vec<u64> = part.frames.iter().map(|(f, _)| f.at_ms).collect();
        assert_eq!(ats, vec![500, 1000, 1500]);
        let sheet = pack.part(0..2000, true);
        assert_eq!(sheet.index().sheet().count(), 2);
        assert!(FramePack::from_bytes(b"PRFRAMES1\n{}").is_err());
        let mut cut = pack.to_bytes();
        cut.pop();
        assert_eq!(
            FramePack::from_bytes(&cut),
            Err(PackError("it ends before its last frame".into()))
        );
    }
}
