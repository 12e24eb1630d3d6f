//! Evidence a reviewer looks at before deciding: the recording's video segments, violation
//! screenshots, verification scans and the learner's onboarding. The files themselves live
//! in the server's media folder; these are their records.

use serde::{Deserialize, Serialize};
use std::str::FromStr;
use time::{Duration, OffsetDateTime};

pub type MediaId = i64;

/// A verified onboarding counts for this long (edx-proctoring `VERIFICATION_DAYS_VALID`).
pub const ONBOARDING_VALID_DAYS: i64 = 365;

pub use super::words::UnknownWord;
use super::words::{Word, unknown};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

// Each vocabulary is stored and sent as its words, so an unknown word is an error that says
// which words there are, never a guess; each member has a label for people.

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    IntoStaticStr,
    VariantArray,
    EnumString,
    Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", parse_err_ty = UnknownWord, parse_err_fn = unknown_media_kind)]
pub enum MediaKind {
    Video,
    Screenshot,
    IdScan,
    FaceScan,
    RoomScan,
    OnboardingPhoto,
}

fn unknown_media_kind(s: &str) -> UnknownWord {
    unknown::<MediaKind>("media kind", s)
}

impl MediaKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Video => "Video segment",
            Self::Screenshot => "Violation screenshot",
            Self::IdScan => "ID scan",
            Self::FaceScan => "Face scan",
            Self::RoomScan => "Room scan",
            Self::OnboardingPhoto => "Onboarding profile photo",
        }
    }

    pub fn is_video(self) -> bool {
        self == Self::Video
    }

    /// Scans shown on the Verification Scans tab.
    pub fn is_scan(self) -> bool {
        matches!(self, Self::IdScan | Self::FaceScan | Self::RoomScan)
    }

    /// Whether `content_type` is the kind of file this evidence can be.
    pub fn accepts(self, content_type: ContentType) -> bool {
        content_type.is_video() == self.is_video()
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    IntoStaticStr,
    VariantArray,
    EnumString,
    Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", parse_err_ty = UnknownWord, parse_err_fn = unknown_scan_result)]
pub enum ScanResult {
    Match,
    NoMatch,
    Unreadable,
}

fn unknown_scan_result(s: &str) -> UnknownWord {
    unknown::<ScanResult>("scan result", s)
}

impl ScanResult {
    pub fn label(self) -> &'static str {
        match self {
            Self::Match => "Match",
            Self::NoMatch => "No match",
            Self::Unreadable => "Unreadable",
        }
    }

    /// A glyph that carries the result without colour.
    pub fn glyph(self) -> &'static str {
        match self {
            Self::Match => "✔",
            Self::NoMatch => "✘",
            Self::Unreadable => "?",
        }
    }
}

// `InstructorDashboardOnboardingAttemptStatus`, with the instructor dashboard's labels.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    IntoStaticStr,
    VariantArray,
    EnumString,
    Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case", parse_err_ty = UnknownWord, parse_err_fn = unknown_onboarding)]
pub enum OnboardingStatus {
    NotStarted,
    SetupStarted,
    OnboardingStarted,
    Submitted,
    Verified,
    Rejected,
    Error,
    Expired,
    OtherCourseApproved,
    OnboardingResetPastDue,
}

fn unknown_onboarding(s: &str) -> UnknownWord {
    unknown::<OnboardingStatus>("onboarding status", s)
}

impl OnboardingStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "Not Started",
            Self::SetupStarted => "Setup Started",
            Self::OnboardingStarted => "Proctoring Started",
            Self::Submitted => "Submitted",
            Self::Verified => "Verified",
            Self::Rejected => "Rejected",
            Self::Error => "Error",
            Self::Expired => "Expired",
            Self::OtherCourseApproved => "Approved in Another Course",
            Self::OnboardingResetPastDue => "Reset Past Due",
        }
    }

    pub fn glyph(self) -> &'static str {
        match self {
            Self::Verified | Self::OtherCourseApproved => "✔",
            Self::Rejected | Self::Error => "✘",
            Self::Expired | Self::OnboardingResetPastDue => "⌛",
            Self::Submitted => "◷",
            _ => "·",
        }
    }
}

/// The file types evidence may have, recognised by their first bytes, never by a name or a
/// claimed header alone.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    IntoStaticStr,
    VariantArray,
    Display,
)]
pub enum ContentType {
    #[serde(rename = "image/png")]
    #[strum(serialize = "image/png")]
    Png,
    #[serde(rename = "image/jpeg")]
    #[strum(serialize = "image/jpeg")]
    Jpeg,
    #[serde(rename = "video/webm")]
    #[strum(serialize = "video/webm")]
    Webm,
    #[serde(rename = "video/mp4")]
    #[strum(serialize = "video/mp4")]
    Mp4,
}

impl ContentType {
    pub fn is_video(self) -> bool {
        matches!(self, Self::Webm | Self::Mp4)
    }

    /// Which of the accepted types these leading bytes are (magic numbers), if any.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(Self::Webm)
        } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
            Some(Self::Mp4)
        } else {
            None
        }
    }
}

impl FromStr for ContentType {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, UnknownWord> {
        // Parameters such as "; charset=…" say nothing about the bytes.
        let essence = s.split(';').next().unwrap_or("").trim();
        Self::VARIANTS
            .iter()
            .copied()
            .find(|t| t.as_str().eq_ignore_ascii_case(essence))
            .ok_or_else(|| unknown::<Self>("content type", essence))
    }
}

/// One evidence file's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaItem {
    pub id: MediaId,
    pub kind: MediaKind,
    pub content_type: ContentType,
    pub size: u64,
    pub sha256: String,
    /// Seconds into the recording this video segment covers.
    pub offset_start: Option<i64>,
    pub offset_end: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub captured_at: Option<OffsetDateTime>,
    /// The violation a screenshot (or segment) shows.
    pub violation_id: Option<i64>,
    pub scan_result: Option<ScanResult>,
    /// 0.0 to 1.0: how closely the face matches the onboarding profile.
    pub face_match_score: Option<f64>,
}

impl MediaItem {
    /// The media fragment (`#t=start,end`, seconds into this file) that shows the stretch
    /// `from..to` of the recording, for a segment that covers it.
    pub fn fragment(&self, from: i64, to: i64) -> Option<String> {
        let start = self.offset_start?;
        let end = self.offset_end.unwrap_or(i64::MAX);
        if !self.kind.is_video() || to < start || from > end {
            return None;
        }
        let a = (from - start).max(0);
        let b = (to.min(end) - start).max(a);
        Some(format!("#t={a},{b}"))
    }

    /// Whether this video segment shows any of the stretch `from..to` of the recording.
    pub fn covers(&self, from: i64, to: i64) -> bool {
        self.fragment(from, to).is_some()
    }
}

/// A learner's onboarding (identity profile) for the exam's course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Onboarding {
    pub status: OnboardingStatus,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub submitted_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub verified_at: Option<OffsetDateTime>,
}

impl Onboarding {
    /// A verified onboarding stops counting a year after it was verified.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        match self.status {
            OnboardingStatus::Verified | OnboardingStatus::OtherCourseApproved => self
                .verified_at
                .map(|v| v + Duration::days(ONBOARDING_VALID_DAYS)),
            _ => None,
        }
    }

    pub fn expired_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at().is_some_and(|e| e <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn magic_numbers_decide_the_type() {
        assert_eq!(
            ContentType::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ContentType::Png)
        );
        assert_eq!(
            ContentType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ContentType::Jpeg)
        );
        assert_eq!(
            ContentType::sniff(&[0x1A, 0x45, 0xDF, 0xA3, 1]),
            Some(ContentType::Webm)
        );
        assert_eq!(
            ContentType::sniff(b"\0\0\0\x18ftypmp42"),
            Some(ContentType::Mp4)
        );
        assert_eq!(ContentType::sniff(b"GIF89a"), None);
        assert_eq!(ContentType::sniff(b""), None);
        assert_eq!(
            "image/JPEG; q=1".parse::<ContentType>(),
            Ok(ContentType::Jpeg)
        );
        assert!("text/html".parse::<ContentType>().is_err());
        assert!(MediaKind::Video.accepts(ContentType::Webm));
        assert!(!MediaKind::Screenshot.accepts(ContentType::Webm));
        assert!(!MediaKind::Video.accepts(ContentType::Png));
    }

    #[test]
    fn unknown_words_name_what_was_expected() {
        let e = "selfie".parse::<MediaKind>().unwrap_err();
        assert!(e.to_string().contains("unknown media kind 'selfie'"));
        assert!(e.to_string().contains("screenshot"));
        assert_eq!(
            "other_course_approved".parse::<OnboardingStatus>(),
            Ok(OnboardingStatus::OtherCourseApproved)
        );
    }

    fn segment(start: i64, end: i64) -> MediaItem {
        MediaItem {
            id: 1,
            kind: MediaKind::Video,
            content_type: ContentType::Webm,
            size: 1,
            sha256: String::new(),
            offset_start: Some(start),
            offset_end: Some(end),
            captured_at: None,
            violation_id: None,
            scan_result: None,
            face_match_score: None,
        }
    }

    #[test]
    fn fragments_point_into_the_segment() {
        let s = segment(600, 612);
        assert_eq!(s.fragment(604, 609).as_deref(), Some("#t=4,9"));
        assert_eq!(
            s.fragment(590, 700).as_deref(),
            Some("#t=0,12"),
            "clipped to the segment"
        );
        assert_eq!(s.fragment(100, 200), None);
        assert!(!segment(0, 10).covers(11, 20));
    }

    #[test]
    fn a_verified_onboarding_expires_after_a_year() {
        let o = Onboarding {
            status: OnboardingStatus::Verified,
            started_at: None,
            submitted_at: None,
            verified_at: Some(datetime!(2026-01-10 12:00 UTC)),
        };
        assert_eq!(o.expires_at(), Some(datetime!(2027-01-10 12:00 UTC)));
        assert!(!o.expired_at(datetime!(2026-11-26 0:00 UTC)));
        assert!(o.expired_at(datetime!(2027-01-11 0:00 UTC)));
        let pending = Onboarding {
            status: OnboardingStatus::Submitted,
            ..o
        };
        assert_eq!(pending.expires_at(), None);
    }
}

/// What describes an evidence file besides its bytes: the query of
/// `POST /sessions/{id}/media` (the body is the file, its `Content-Type` the type), and an
/// item of an import manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaMeta {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_start: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_end: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_match_score: Option<f64>,
}
