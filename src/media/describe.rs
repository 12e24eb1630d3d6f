//! Checks an incoming file against what it claims to be, the same way for uploads and
//! imports, and turns it into the record the store writes.

use super::folder::Received;
use crate::domain::evidence::MediaMeta;
use crate::domain::{ContentType, MediaKind, ScanResult, SessionId};
use crate::store::NewMedia;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Why a file was refused: its type (or bytes), or what was said about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Type(String),
    #[error("{0}")]
    Meta(String),
}

pub fn describe(
    label: &str,
    session_id: SessionId,
    meta: &MediaMeta,
    claimed: &str,
    got: &Received,
) -> Result<NewMedia, Refusal> {
    let fail = |m: String| Refusal::Meta(format!("{label}: {m}"));
    let bad_type = |m: String| Refusal::Type(format!("{label}: {m}"));
    let kind: MediaKind = meta.kind.parse().map_err(|e| fail(format!("{e}")))?;
    let claimed: ContentType = claimed.parse().map_err(|e| bad_type(format!("{e}")))?;
    match got.sniffed {
        Some(t) if t == claimed => {}
        Some(t) => {
            return Err(bad_type(format!(
                "declared as {claimed} but the bytes are {t}"
            )));
        }
        None => {
            return Err(bad_type(format!(
                "declared as {claimed} but the bytes are not an image or video this server accepts"
            )));
        }
    }
    if !kind.accepts(claimed) {
        return Err(fail(format!(
            "a {} cannot be {claimed}",
            kind.label().to_lowercase()
        )));
    }
    let scan_fields = meta.scan_result.is_some() || meta.face_match_score.is_some();
    if scan_fields && !(kind.is_scan() || kind == MediaKind::OnboardingPhoto) {
        return Err(fail(
            "scan_result and face_match_score belong to scans".into(),
        ));
    }
    let scan_result = meta
        .scan_result
        .as_deref()
        .map(str::parse::<ScanResult>)
        .transpose()
        .map_err(|e| fail(format!("{e}")))?;
    if let Some(s) = meta.face_match_score
        && !(0.0..=1.0).contains(&s)
    {
        return Err(fail(format!("face_match_score {s} is not between 0 and 1")));
    }
    match (meta.offset_start, meta.offset_end) {
        (Some(a), _) if a < 0 => return Err(fail("offset_start is negative".into())),
        (Some(a), Some(b)) if b < a => {
            return Err(fail("offset_end is before offset_start".into()));
        }
        (None, Some(_)) => return Err(fail("offset_end without offset_start".into())),
        _ => {}
    }
    if kind.is_video() && meta.offset_start.is_none() {
        return Err(fail(
            "a video segment needs offset_start (seconds into the recording)".into(),
        ));
    }
    let captured_at = meta
        .captured_at
        .as_deref()
        .map(|t| OffsetDateTime::parse(t, &Rfc3339))
        .transpose()
        .map_err(|e| fail(format!("captured_at is not an RFC 3339 time: {e}")))?;
    Ok(NewMedia {
        label: label.to_owned(),
        session_id,
        kind,
        content_type: claimed,
        size: got.size,
        sha256: got.sha256.clone(),
        offset_start: meta.offset_start,
        offset_end: meta.offset_end,
        captured_at,
        violation_id: meta.violation_id,
        scan_result,
        face_match_score: meta.face_match_score,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn got(t: Option<ContentType>) -> Received {
        Received {
            sha256: "ab".repeat(32),
            size: 10,
            sniffed: t,
        }
    }

    fn meta(kind: &str) -> MediaMeta {
        MediaMeta {
            kind: kind.into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_bytes_must_be_what_the_item_claims() {
        let describe = |l, s, m: &MediaMeta, c, g: &Received| {
            super::describe(l, s, m, c, g).map_err(|e| e.to_string())
        };
        let png = got(Some(ContentType::Png));
        assert!(describe("x", 1, &meta("screenshot"), "image/png", &png).is_ok());
        let e = describe("item 2", 1, &meta("screenshot"), "image/jpeg", &png).unwrap_err();
        assert_eq!(
            e,
            "item 2: declared as image/jpeg but the bytes are image/png"
        );
        let e = describe("x", 1, &meta("screenshot"), "image/png", &got(None)).unwrap_err();
        assert!(e.contains("not an image or video"), "{e}");
        let e = describe("x", 1, &meta("video"), "image/png", &png).unwrap_err();
        assert!(e.contains("a video segment cannot be image/png"), "{e}");
        let e = describe("x", 1, &meta("selfie"), "image/png", &png).unwrap_err();
        assert!(e.contains("unknown media kind"), "{e}");
        let e = describe("x", 1, &meta("screenshot"), "text/html", &png).unwrap_err();
        assert!(e.contains("unknown content type"), "{e}");
    }

    #[test]
    fn metadata_is_checked() {
        let describe = |l, s, m: &MediaMeta, c, g: &Received| {
            super::describe(l, s, m, c, g).map_err(|e| e.to_string())
        };
        let webm = got(Some(ContentType::Webm));
        let e = describe("x", 1, &meta("video"), "video/webm", &webm).unwrap_err();
        assert!(e.contains("needs offset_start"), "{e}");
        let backwards = MediaMeta {
            offset_start: Some(10),
            offset_end: Some(5),
            ..meta("video")
        };
        assert!(describe("x", 1, &backwards, "video/webm", &webm).is_err());
        let jpg = got(Some(ContentType::Jpeg));
        let score = MediaMeta {
            face_match_score: Some(1.5),
            ..meta("face_scan")
        };
        assert!(describe("x", 1, &score, "image/jpeg", &jpg).is_err());
        let misplaced = MediaMeta {
            scan_result: Some("match".into()),
            ..meta("screenshot")
        };
        assert!(describe("x", 1, &misplaced, "image/jpeg", &jpg).is_err());
        let ok = MediaMeta {
            scan_result: Some("no_match".into()),
            face_match_score: Some(0.31),
            captured_at: Some("2026-11-13T19:12:00Z".into()),
            ..meta("face_scan")
        };
        let m = describe("x", 1, &ok, "image/jpeg", &jpg).unwrap();
        assert_eq!(m.scan_result, Some(ScanResult::NoMatch));
        assert!(m.captured_at.is_some());
    }
}
