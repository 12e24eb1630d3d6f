//! How long evidence is kept (`course set COURSE --keep-evidence 180d`, `serve
//! --keep-evidence`), and which sessions' evidence has outlived it. Only evidence goes
//! (recordings, their stills, screenshots, scans and photos); decisions, the audit chain and
//! reports stay. A session still open to review keeps everything, whatever its age.

use super::AttemptStatus;
use time::{Duration, OffsetDateTime};

/// A retention period in whole days; `None` where a value means "keep forever".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepFor {
    pub days: u32,
}

impl KeepFor {
    /// `180d`, `26w` or `1y` (365 days); `forever` (or `off`) gives `None`.
    pub fn parse(s: &str) -> Result<Option<KeepFor>, String> {
        let t = s.trim();
        if matches!(t, "forever" | "off") {
            return Ok(None);
        }
        let bad = || format!("'{s}' is not a retention period: give e.g. 180d, 26w, 1y or forever");
        let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (n, unit) = t.split_at(split);
        let n: u32 = n.parse().map_err(|_| bad())?;
        let per = match unit {
            "d" => 1,
            "w" => 7,
            "y" => 365,
            _ => return Err(bad()),
        };
        let days = n
            .checked_mul(per)
            .filter(|d| *d <= 36_500)
            .ok_or_else(|| format!("'{s}': at most 100 years"))?;
        Ok(Some(KeepFor { days }))
    }

    /// The newest decision time whose evidence is past this period at `now`.
    pub fn cutoff(self, now: OffsetDateTime) -> OffsetDateTime {
        now - Duration::days(i64::from(self.days))
    }
}

/// A course's own rule: the server's default, forever, or a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourseKeep {
    Default,
    Forever,
    For(KeepFor),
}

impl CourseKeep {
    /// `default`, `forever`, or a period such as `180d`.
    pub fn parse(s: &str) -> Result<CourseKeep, String> {
        if s.trim() == "default" {
            return Ok(Self::Default);
        }
        Ok(match KeepFor::parse(s)? {
            Some(k) => Self::For(k),
            None => Self::Forever,
        })
    }

    /// As the courses table keeps it (NULL for the default).
    pub fn stored(self) -> Option<String> {
        match self {
            Self::Default => None,
            Self::Forever => Some("forever".into()),
            Self::For(k) => Some(format!("{}d", k.days)),
        }
    }

    pub fn from_stored(s: Option<&str>) -> Result<CourseKeep, String> {
        match s {
            None => Ok(Self::Default),
            Some(s) => Self::parse(s),
        }
    }

    /// The period in force, given the server's default.
    pub fn effective(self, default: Option<KeepFor>) -> Option<KeepFor> {
        match self {
            Self::Default => default,
            Self::Forever => None,
            Self::For(k) => Some(k),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Self::Default => "the server's default (serve --keep-evidence)".into(),
            Self::Forever => "kept forever".into(),
            Self::For(k) => format!("kept {}d after the last decision", k.days),
        }
    }
}

/// A session as retention judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judged {
    pub status: AttemptStatus,
    /// A first opinion waits for a second reviewer.
    pub awaiting_second_review: bool,
    /// Open edX and we disagree about it (a review conflict waiting for a person).
    pub lms_conflict: bool,
    /// Its newest decision.
    pub last_decided: Option<OffsetDateTime>,
}

impl Judged {
    /// Decided for good: passed or failed, nobody's opinion still waiting, nothing disputed.
    pub fn settled(&self) -> bool {
        matches!(
            self.status,
            AttemptStatus::Verified | AttemptStatus::Rejected
        ) && !self.awaiting_second_review
            && !self.lms_conflict
    }

    /// Whether its evidence goes under `keep` at `now`: settled, and decided longer ago
    /// than the period.
    pub fn expired(&self, keep: Option<KeepFor>, now: OffsetDateTime) -> bool {
        match (keep, self.last_decided) {
            (Some(k), Some(at)) => self.settled() && at <= k.cutoff(now),
            _ => false,
        }
    }
}

/// The history entry's reason for a retention deletion.
pub fn deletion_reason(keep: KeepFor, files: usize, bytes: u64, kinds: &[String]) -> String {
    format!(
        "evidence deleted after the course's retention period ({}d): {files} file{} ({}), {}",
        keep.days,
        if files == 1 { "" } else { "s" },
        kinds.join(", "),
        human_bytes(bytes)
    )
}

pub fn human_bytes(bytes: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / MB)
    } else {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn periods_parse_in_days_weeks_and_years() {
        assert_eq!(KeepFor::parse("180d"), Ok(Some(KeepFor { days: 180 })));
        assert_eq!(KeepFor::parse("26w"), Ok(Some(KeepFor { days: 182 })));
        assert_eq!(KeepFor::parse("1y"), Ok(Some(KeepFor { days: 365 })));
        assert_eq!(KeepFor::parse("forever"), Ok(None));
        assert_eq!(CourseKeep::parse("default"), Ok(CourseKeep::Default));
        for k in [CourseKeep::Forever, CourseKeep::For(KeepFor { days: 30 })] {
            assert_eq!(CourseKeep::from_stored(k.stored().as_deref()), Ok(k));
        }
        let server = Some(KeepFor { days: 7 });
        assert_eq!(CourseKeep::Default.effective(server), server);
        assert_eq!(CourseKeep::Forever.effective(server), None);
        for bad in ["", "180", "d", "12m", "-3d", "1.5y", "999y"] {
            let e = KeepFor::parse(bad).unwrap_err();
            assert!(e.contains(bad) || e.contains("100 years"), "{bad}: {e}");
        }
    }

    #[test]
    fn only_settled_sessions_past_the_period_lose_their_evidence() {
        let now = datetime!(2026-12-03 12:00 UTC);
        let keep = Some(KeepFor { days: 180 });
        let old = Some(now - Duration::days(181));
        let young = Some(now - Duration::days(179));
        let at = |status, awaiting, conflict, last| Judged {
            status,
            awaiting_second_review: awaiting,
            lms_conflict: conflict,
            last_decided: last,
        };
        use AttemptStatus::*;
        // (session, expected under 180 days)
        let table = [
            (at(Verified, false, false, old), true),
            (at(Rejected, false, false, old), true),
            (at(Verified, false, false, young), false),
            (at(Rejected, false, false, young), false),
            // undecided, whatever the age
            (at(SecondReviewRequired, false, false, old), false),
            (at(Submitted, false, false, old), false),
            (at(SecondReviewRequired, false, false, None), false),
            // disputed: a first opinion waits, or Open edX disagrees
            (at(SecondReviewRequired, true, false, old), false),
            (at(Rejected, true, false, old), false),
            (at(Verified, false, true, old), false),
            (at(Rejected, false, true, young), false),
        ];
        for (i, (s, expected)) in table.iter().enumerate() {
            assert_eq!(s.expired(keep, now), *expected, "row {i}: {s:?}");
            assert!(!s.expired(None, now), "row {i} kept forever");
        }
        // Exactly at the cutoff counts as past it.
        assert!(at(Verified, false, false, Some(now - Duration::days(180))).expired(keep, now));
    }
}
