//! The team's pace: decisions per day, each reviewer's count and pass/fail mix, and how
//! often a second reviewer agreed with their first opinions. Tallied here from the decision
//! history's entries, so the Team pane, `proctor-review stats` and the API show the same
//! numbers from one function.

use super::Verdict;
use super::second_review::{Stage, read_verdict_word};
use super::undo::UNDO_PREFIX;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};

/// Days the per-day figures cover.
pub const DAYS: usize = 14;

/// One entry of a course's decision history, as the tally needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub session_id: i64,
    pub reviewer: String,
    pub decided_at: OffsetDateTime,
    /// The history's verdict column (`fail`, `first-fail`, `undo-pass`, …).
    pub verdict: String,
    /// How long its reviewer had the learner open before it, when the server knew.
    pub opened_secs: Option<u32>,
    /// It took the session out of Require Attention (`Some(true)`) or put it back
    /// (`Some(false)`, an undo or a change in Open edX).
    pub moved: Option<bool>,
    /// When the session's exam ended: about when it joined the backlog.
    pub session_completed: Option<OffsetDateTime>,
}

/// Where a course's queue stands now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    /// Sessions in Require Attention (those awaiting a second review included).
    pub require_attention: u64,
    /// Of those, how many ended their exam on each of the last [`DAYS`] days (oldest
    /// first): what joined the backlog since each day, as far as the store knows.
    #[serde(default, skip_serializing)]
    pub completed_by_day: Vec<(Date, u64)>,
    pub awaiting_second_review: u64,
    /// When the learner who has waited longest finished their exam.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub oldest_waiting_since: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    pub date: Date,
    /// Sessions waiting at the day's end (now, for today). Sessions are taken to have
    /// joined the backlog when their exam ended; decisions move them out and back exactly.
    pub backlog: u64,
    /// Passes and Fails that took effect (first opinions and overturns are not decisions).
    pub passes: u64,
    pub fails: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewerPace {
    pub reviewer: String,
    /// Decisions that took effect today and since the window's start.
    pub today: u64,
    pub in_window: u64,
    pub passes: u64,
    pub fails: u64,
    /// Their first opinions a second reviewer settled in the window, and how many agreed.
    pub seconded: u64,
    pub agreed: u64,
    /// The median time from opening the learner to their decision (any step), in seconds;
    /// none when no decision of theirs in the window was timed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_secs: Option<u32>,
}

/// `GET /courses/{id}/stats` and `proctor-review stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamStats {
    pub course_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    /// The window's first day (the per-reviewer figures count from it).
    pub since: Date,
    pub backlog: Backlog,
    /// The last [`DAYS`] days, oldest first.
    pub days: Vec<Day>,
    /// By decisions in the window, most first.
    pub reviewers: Vec<ReviewerPace>,
}

/// How far back the tally must read for a window starting `since`.
pub fn reads_from(now: OffsetDateTime, since: Date) -> OffsetDateTime {
    let days_back = now.date() - time::Duration::days(DAYS as i64 - 1);
    since.min(days_back).midnight().assume_utc()
}

/// Tallies `entries` (oldest first; those undone still listed, with their undo after them).
pub fn tally(
    course_id: &str,
    now: OffsetDateTime,
    since: Date,
    backlog: Backlog,
    entries: &[Entry],
) -> TeamStats {
    let today = now.date();
    let first_day = today - time::Duration::days(DAYS as i64 - 1);
    // An undone entry counts for nothing: an undo names what it took back and follows it.
    let mut standing: Vec<&Entry> = Vec::with_capacity(entries.len());
    for e in entries {
        if let Some(undone) = e.verdict.strip_prefix(UNDO_PREFIX) {
            if let Some(i) = standing
                .iter()
                .rposition(|s| s.session_id == e.session_id && s.verdict == undone)
            {
                standing.remove(i);
            }
        } else {
            standing.push(e);
        }
    }
    let mut days: Vec<Day> = (0..DAYS as i64)
        .map(|i| Day {
            date: first_day + time::Duration::days(i),
            backlog: 0,
            passes: 0,
            fails: 0,
        })
        .collect();
    let mut pace: BTreeMap<&str, ReviewerPace> = BTreeMap::new();
    let mut timings: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    // The first opinion waiting on each session, by whom.
    let mut first_by: BTreeMap<i64, &str> = BTreeMap::new();
    for e in &standing {
        let Some((stage, verdict)) = read_verdict_word(&e.verdict) else {
            continue;
        };
        let date = e.decided_at.date();
        let in_window = date >= since;
        if in_window {
            // Everyone active in the window is listed, with or without decisions.
            pace.entry(&e.reviewer).or_default();
            if let Some(secs) = e.opened_secs {
                timings.entry(&e.reviewer).or_default().push(secs);
            }
        }
        match stage {
            Some(Stage::First) => {
                first_by.insert(e.session_id, &e.reviewer);
                continue;
            }
            Some(Stage::Confirm | Stage::Overturn) => {
                if let Some(first) = first_by.remove(&e.session_id)
                    && in_window
                {
                    let p = pace.entry(first).or_default();
                    p.seconded += 1;
                    p.agreed += u64::from(stage == Some(Stage::Confirm));
                }
                if stage == Some(Stage::Overturn) {
                    continue;
                }
            }
            None => {}
        }
        if let Some(d) = days.iter_mut().find(|d| d.date == date) {
            match verdict {
                Verdict::Pass => d.passes += 1,
                Verdict::Fail => d.fails += 1,
            }
        }
        if in_window {
            let p = pace.entry(&e.reviewer).or_default();
            p.in_window += 1;
            p.today += u64::from(date == today);
            match verdict {
                Verdict::Pass => p.passes += 1,
                Verdict::Fail => p.fails += 1,
            }
        }
    }
    for d in &mut days {
        d.backlog = backlog_at(d.date, &backlog, entries);
    }
    let mut reviewers: Vec<ReviewerPace> = pace
        .into_iter()
        .map(|(name, mut p)| {
            p.reviewer = name.to_owned();
            p.median_secs = timings.get_mut(name).and_then(|t| median(t));
            p
        })
        .collect();
    reviewers.sort_by(|a, b| {
        b.in_window
            .cmp(&a.in_window)
            .then(a.reviewer.cmp(&b.reviewer))
    });
    TeamStats {
        course_id: course_id.to_owned(),
        as_of: now,
        since,
        backlog,
        days,
        reviewers,
    }
}

/// The backlog at the end of `date`: those waiting now whose exam had ended by then, plus
/// what decisions took out since (and less what they put back), of sessions ended by then.
fn backlog_at(date: Date, now: &Backlog, entries: &[Entry]) -> u64 {
    let ended_after: u64 = now
        .completed_by_day
        .iter()
        .filter(|(d, _)| *d > date)
        .map(|(_, n)| n)
        .sum();
    let mut n = now.require_attention.saturating_sub(ended_after) as i64;
    for e in entries.iter().filter(|e| e.decided_at.date() > date) {
        let ended_by_then = e.session_completed.is_none_or(|c| c.date() <= date);
        match e.moved {
            Some(true) if ended_by_then => n += 1,
            Some(false) if ended_by_then => n -= 1,
            _ => {}
        }
    }
    n.max(0) as u64
}

fn median(values: &mut [u32]) -> Option<u32> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some(((u64::from(values[n / 2 - 1]) + u64::from(values[n / 2])) / 2) as u32),
    }
}

/// "7d", "2w", "30d": a window's length in days, counted back from today (1d = today).
pub fn parse_window(s: &str) -> Result<u32, String> {
    let bad = || format!("'{s}' is not a window: write days or weeks, e.g. 7d or 2w");
    let (n, unit) = s.trim().split_at(s.trim().len().saturating_sub(1));
    let n: u32 = n.parse().map_err(|_| bad())?;
    let days = match unit {
        "d" => n,
        "w" => n.checked_mul(7).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    if days == 0 || days > 3660 {
        return Err(bad());
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn entry(session: i64, who: &str, at: OffsetDateTime, verdict: &str) -> Entry {
        Entry {
            session_id: session,
            reviewer: who.into(),
            decided_at: at,
            verdict: verdict.into(),
            opened_secs: Some(session as u32 * 60),
            moved: None,
            session_completed: None,
        }
    }

    #[test]
    fn the_tally_counts_decisions_in_force_and_second_review_agreement() {
        let now = datetime!(2026-12-03 15:00 UTC);
        let today = datetime!(2026-12-03 09:00 UTC);
        let yesterday = datetime!(2026-12-02 09:00 UTC);
        let long_ago = datetime!(2026-10-01 09:00 UTC);
        let entries = [
            entry(1, "ada", long_ago, "fail"),
            entry(2, "ada", yesterday, "pass"),
            entry(3, "ada", today, "fail"),
            entry(3, "ada", today, "undo-fail"),
            entry(4, "bo", yesterday, "first-fail"),
            entry(4, "ada", today, "confirm-fail"),
            entry(5, "bo", today, "first-fail"),
            entry(5, "cy", today, "overturn-pass"),
            entry(6, "cy", today, "first-fail"),
        ];
        let since = now.date() - time::Duration::days(6);
        let s = tally("c", now, since, Backlog::default(), &entries);
        assert_eq!(s.days.len(), DAYS);
        assert_eq!(s.days.last().map(|d| (d.passes, d.fails)), Some((0, 1)));
        assert_eq!(s.days[DAYS - 2].passes, 1);
        let ada = &s.reviewers[0];
        assert_eq!(
            (
                ada.reviewer.as_str(),
                ada.today,
                ada.in_window,
                ada.passes,
                ada.fails
            ),
            ("ada", 1, 2, 1, 1),
            "the undone Fail and the decision before the window are not counted"
        );
        assert_eq!(
            ada.median_secs,
            Some(180),
            "ada's standing steps in the window took 2 and 4 minutes; the undone one is not counted"
        );
        let bo = s.reviewers.iter().find(|r| r.reviewer == "bo").unwrap();
        assert_eq!((bo.seconded, bo.agreed, bo.in_window), (2, 1, 0));
        let cy = s.reviewers.iter().find(|r| r.reviewer == "cy").unwrap();
        assert_eq!(
            (cy.seconded, cy.in_window),
            (0, 0),
            "an overturn and a waiting opinion are not decisions"
        );
    }

    #[test]
    fn the_backlog_of_each_day_comes_back_from_what_ended_and_what_was_decided() {
        let now = datetime!(2026-12-03 15:00 UTC);
        let day = |d: u8| {
            time::Date::from_calendar_date(2026, time::Month::December, d)
                .unwrap()
                .with_hms(9, 0, 0)
                .unwrap()
                .assume_utc()
        };
        // Waiting now: 5, two of them ended today. Yesterday 3 left the backlog, one of
        // them ended yesterday; an undo today put one back that ended long ago.
        let backlog = Backlog {
            require_attention: 5,
            completed_by_day: vec![(day(3).date(), 2)],
            ..Backlog::default()
        };
        let moved = |session: i64, at: OffsetDateTime, out: bool, ended: OffsetDateTime| Entry {
            moved: Some(out),
            session_completed: Some(ended),
            ..entry(session, "ada", at, if out { "fail" } else { "undo-fail" })
        };
        let long_ago = datetime!(2026-10-01 09:00 UTC);
        let entries = [
            moved(1, day(2), true, long_ago),
            moved(2, day(2), true, long_ago),
            moved(3, day(2), true, day(2)),
            moved(4, day(3), false, long_ago),
        ];
        let s = tally("c", now, now.date(), backlog, &entries);
        let at = |d: u8| {
            s.days
                .iter()
                .find(|x| x.date == day(d).date())
                .unwrap()
                .backlog
        };
        assert_eq!(at(3), 5, "today: as it is now");
        assert_eq!(at(2), 5 - 2 - 1, "before today's endings and today's undo");
        assert_eq!(
            at(1),
            3 - 1 + 2,
            "those ended by then, but 4 (out until today), and 1 and 2 (decided on the 2nd)"
        );
    }

    #[test]
    fn windows_read_as_days_or_weeks() {
        assert_eq!(parse_window("7d"), Ok(7));
        assert_eq!(parse_window("2w"), Ok(14));
        assert!(parse_window("0d").is_err());
        assert!(parse_window("7").is_err());
        assert!(parse_window("seven days").is_err());
    }
}
