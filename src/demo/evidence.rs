//! The demo's evidence: for every finished session, a video segment and a screenshot per
//! violation, ID/face/room scans, and each learner's onboarding for the course. The files
//! are small real media in `assets/demo/media/` (made by its `make.sh`), shared between
//! sessions the way a provider's storage would deduplicate them.

use super::DemoSession;
use super::rng::Rng;
use crate::domain::{
    ContentType, MediaKind, Onboarding, OnboardingStatus, ScanResult, ViolationKind,
};
pub use crate::store::seed::SeedMedia as DemoMedia;
use std::collections::HashMap;
use std::sync::OnceLock;
use strum::VariantArray;
use time::{Duration, macros::datetime};

/// A demo media file, compiled into the binary.
pub struct Asset {
    pub name: &'static str,
    pub bytes: &'static [u8],
    pub content_type: ContentType,
    pub sha256: String,
}

macro_rules! asset {
    ($dir:literal, $name:literal, $ext:literal, $ct:expr) => {
        (
            concat!($dir, "/", $name, ".", $ext),
            include_bytes!(concat!(
                "../../assets/demo/media/",
                $dir,
                "/",
                $name,
                ".",
                $ext
            )) as &[u8],
            $ct,
        )
    };
}

macro_rules! per_kind {
    ($dir:literal, $ext:literal, $ct:expr) => {
        [
            asset!($dir, "second_person", $ext, $ct),
            asset!($dir, "no_face", $ext, $ct),
            asset!($dir, "looking_away", $ext, $ct),
            asset!($dir, "phone", $ext, $ct),
            asset!($dir, "tab_switch", $ext, $ct),
            asset!($dir, "copy_paste", $ext, $ct),
            asset!($dir, "second_monitor", $ext, $ct),
            asset!($dir, "left_room", $ext, $ct),
            asset!($dir, "voices", $ext, $ct),
            asset!($dir, "unauthorized_app", $ext, $ct),
        ]
    };
}

type Raw = (&'static str, &'static [u8], ContentType);
const MP4: ContentType = ContentType::Mp4;
// H.264 MP4, which the server draws with no system package, but for one clip in WebM as a
// browser records it, so a demo with ffmpeg shows that path too (and one without says what
// is missing).
const CLIPS: [Raw; 10] = [
    asset!("clips", "second_person", "mp4", MP4),
    asset!("clips", "no_face", "mp4", MP4),
    asset!("clips", "looking_away", "mp4", MP4),
    asset!("clips", "phone", "mp4", MP4),
    asset!("clips", "tab_switch", "mp4", MP4),
    asset!("clips", "copy_paste", "mp4", MP4),
    asset!("clips", "second_monitor", "mp4", MP4),
    asset!("clips", "left_room", "mp4", MP4),
    asset!("clips", "voices", "webm", ContentType::Webm),
    asset!("clips", "unauthorized_app", "mp4", MP4),
];
/// The whole recording's first three minutes, to skim as a contact sheet.
const RECORDING: Raw = (
    "recording.mp4",
    include_bytes!("../../assets/demo/media/recording.mp4"),
    MP4,
);
/// Seconds the demo recording lasts.
pub const RECORDING_SECS: i64 = 180;
const SHOTS: [Raw; 10] = per_kind!("shots", "jpg", ContentType::Jpeg);
const SCANS: [Raw; 6] = [
    asset!("scans", "id_card", "jpg", ContentType::Jpeg),
    asset!("scans", "face", "jpg", ContentType::Jpeg),
    asset!("scans", "face_other", "jpg", ContentType::Jpeg),
    asset!("scans", "room", "jpg", ContentType::Jpeg),
    asset!("scans", "onboarding", "jpg", ContentType::Jpeg),
    asset!("scans", "onboarding_other", "jpg", ContentType::Jpeg),
];

/// Seconds of recording a clip covers, and how far into it the flagged moment starts.
pub const CLIP_SECS: i64 = 12;
pub const LEAD_SECS: i64 = 4;

/// Every demo file, hashed once.
pub fn assets() -> &'static [Asset] {
    static ALL: OnceLock<Vec<Asset>> = OnceLock::new();
    ALL.get_or_init(|| {
        CLIPS
            .iter()
            .chain(SHOTS.iter())
            .chain(SCANS.iter())
            .chain(std::iter::once(&RECORDING))
            .map(|(name, bytes, ct)| Asset {
                name,
                bytes,
                content_type: *ct,
                sha256: crate::media::hex(
                    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref(),
                ),
            })
            .collect()
    })
}

fn asset(name: &str) -> &'static Asset {
    let all = assets();
    all.iter().find(|a| a.name == name).unwrap_or(&all[0])
}

fn kind_index(k: ViolationKind) -> usize {
    ViolationKind::VARIANTS
        .iter()
        .position(|x| *x == k)
        .unwrap_or(0)
}

fn item(session: &DemoSession, kind: MediaKind, name: &str) -> DemoMedia {
    let a = asset(name);
    DemoMedia {
        session_id: session.id,
        kind,
        asset: a.name,
        content_type: a.content_type,
        size: a.bytes.len() as u64,
        sha256: a.sha256.clone(),
        offset_start: None,
        offset_end: None,
        captured_at: None,
        violation_id: None,
        scan_result: None,
        face_match_score: None,
    }
}

/// The evidence of one session, decided by its own seed so the rest of the demo is untouched.
pub fn of_session(s: &DemoSession) -> Vec<DemoMedia> {
    let (Some(start), Some(_)) = (s.started_at, s.completed_at) else {
        return Vec::new();
    };
    let mut rng = Rng::new(0xE71D_E1CE ^ s.id as u64);
    let mut out = Vec::new();
    let doubtful = s.violations.len() >= 4 || rng.below(5) == 0;
    let scan_at = Some(start - Duration::minutes(1));
    out.push(DemoMedia {
        scan_result: Some(if rng.below(12) == 0 {
            ScanResult::Unreadable
        } else {
            ScanResult::Match
        }),
        captured_at: scan_at,
        ..item(s, MediaKind::IdScan, "scans/id_card.jpg")
    });
    let (face, result, score) = if doubtful && rng.below(2) == 0 {
        (
            "scans/face_other.jpg",
            ScanResult::NoMatch,
            0.21 + f64::from(rng.below(30)) / 100.0,
        )
    } else {
        (
            "scans/face.jpg",
            ScanResult::Match,
            0.86 + f64::from(rng.below(13)) / 100.0,
        )
    };
    out.push(DemoMedia {
        scan_result: Some(result),
        face_match_score: Some(score),
        captured_at: scan_at,
        ..item(s, MediaKind::FaceScan, face)
    });
    out.push(DemoMedia {
        captured_at: scan_at,
        ..item(s, MediaKind::RoomScan, "scans/room.jpg")
    });
    for v in &s.violations {
        let k = kind_index(v.kind);
        let seg_start = (v.start_time - LEAD_SECS).max(0);
        out.push(DemoMedia {
            offset_start: Some(seg_start),
            offset_end: Some(seg_start + CLIP_SECS),
            captured_at: Some(start + Duration::seconds(seg_start)),
            violation_id: Some(v.id),
            ..item(s, MediaKind::Video, CLIPS[k].0)
        });
        out.push(DemoMedia {
            captured_at: Some(start + Duration::seconds(v.start_time + 2)),
            violation_id: Some(v.id),
            ..item(s, MediaKind::Screenshot, SHOTS[k].0)
        });
    }
    // After the clips, so a violation's own clip is the one that opens for it.
    out.push(DemoMedia {
        offset_start: Some(0),
        offset_end: Some(RECORDING_SECS),
        captured_at: Some(start),
        ..item(s, MediaKind::Video, RECORDING.0)
    });
    out
}

/// Each learner's onboarding for each course they sat an exam in, with its profile photo
/// attached to their first session there.
pub fn onboarding(
    sessions: &[DemoSession],
    course_of_exam: &HashMap<i64, String>,
    seen: &mut std::collections::HashSet<(usize, String)>,
) -> (Vec<(i64, Onboarding)>, Vec<DemoMedia>) {
    let mut rows = Vec::new();
    let mut photos = Vec::new();
    for s in sessions {
        let Some(course) = course_of_exam.get(&s.exam_id) else {
            continue;
        };
        if !seen.insert((s.learner, course.clone())) {
            continue;
        }
        let mut rng = Rng::new(0x000B_0A4D ^ s.learner as u64);
        let verified_at =
            datetime!(2026-08-20 10:00 UTC) + Duration::hours(i64::from(rng.below(24 * 60)));
        let status = match rng.below(20) {
            0 => OnboardingStatus::Rejected,
            1 => OnboardingStatus::Submitted,
            2 => OnboardingStatus::OtherCourseApproved,
            3 => OnboardingStatus::Expired,
            _ => OnboardingStatus::Verified,
        };
        let verified_at = match status {
            OnboardingStatus::Verified | OnboardingStatus::OtherCourseApproved => Some(verified_at),
            // Verified more than a year ago, so no longer valid.
            OnboardingStatus::Expired => Some(verified_at - Duration::days(400)),
            _ => None,
        };
        let started_at =
            Some(verified_at.unwrap_or(datetime!(2026-10-01 09:00 UTC)) - Duration::days(2));
        rows.push((
            s.id,
            Onboarding {
                status,
                started_at,
                submitted_at: started_at.map(|t| t + Duration::hours(1)),
                verified_at,
            },
        ));
        let photo = if s.learner % 3 == 1 {
            "scans/onboarding_other.jpg"
        } else {
            "scans/onboarding.jpg"
        };
        photos.push(DemoMedia {
            captured_at: started_at,
            ..item(s, MediaKind::OnboardingPhoto, photo)
        });
    }
    (rows, photos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_real_media_of_its_type() {
        let total: usize = assets().iter().map(|a| a.bytes.len()).sum();
        assert!(total < 5 * 1024 * 1024, "assets are {total} bytes");
        for a in assets() {
            assert_eq!(
                ContentType::sniff(a.bytes),
                Some(a.content_type),
                "{}",
                a.name
            );
            if !a.content_type.is_video() {
                image::load_from_memory(a.bytes).unwrap_or_else(|e| panic!("{}: {e}", a.name));
            }
        }
    }
}
