//! The Proctored Exam Results report, byte for byte as the Open edX platform writes it:
//! its 17 columns and header, Python `str()` cells, `csv.writer`'s default dialect, and its
//! file name. One deliberate difference: text a spreadsheet would run as a formula is
//! neutralized unless raw cells are asked for.
//!
//! May use: `domain`.

use crate::domain::ReportRow;
use std::borrow::Cow;
use std::io::Write;
use time::OffsetDateTime;
use time::macros::format_description;

/// The platform's header row, literally (`query_features` in `tasks_helper/misc.py`).
pub const HEADER: [&str; 17] = [
    "course_id",
    "provider",
    "track",
    "exam_name",
    "username",
    "email",
    "attempt_code",
    "allowed_time_limit_mins",
    "is_sample_attempt",
    "started_at",
    "completed_at",
    "status",
    "review_status",
    "Suspicious Count",
    "Suspicious Comments",
    "Rules Violation Count",
    "Rules Violation Comments",
];

/// Python's `str(None)`.
const NONE: &str = "None";

/// `str()` of an aware UTC datetime: `2026-11-13 19:11:02.123456+00:00`, the fraction only
/// when there is one.
pub fn py_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (y, m, d) = (t.year(), u8::from(t.month()), t.day());
    let (h, mi, s) = (t.hour(), t.minute(), t.second());
    match t.microsecond() {
        0 => format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}+00:00"),
        us => format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}+00:00"),
    }
}

fn py_opt<T: ToString>(v: Option<T>) -> Cow<'static, str> {
    match v {
        Some(v) => Cow::Owned(v.to_string()),
        None => Cow::Borrowed(NONE),
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR first) gets a leading
/// apostrophe, so a learner's name cannot run a formula on a staff member's machine.
pub fn neutralize(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

/// The 17 cells of a row, formatted as the platform does.
pub fn cells(row: &ReportRow, raw: bool) -> [Cow<'_, str>; 17] {
    fn text(s: &str, raw: bool) -> Cow<'_, str> {
        if raw { Cow::Borrowed(s) } else { neutralize(s) }
    }
    let text = |s| text(s, raw);
    let suspicious = row.suspicious.join("; ");
    let rules = row.rules_violation.join("; ");
    [
        text(&row.course_id),
        match &row.provider {
            Some(p) => text(p),
            None => Cow::Borrowed(NONE),
        },
        text(&row.track),
        text(&row.exam_name),
        text(&row.username),
        text(&row.email),
        text(&row.attempt_code),
        py_opt(row.allowed_time_limit_mins),
        Cow::Borrowed(py_bool(row.is_sample_attempt)),
        py_opt(row.started_at.map(py_datetime)),
        py_opt(row.completed_at.map(py_datetime)),
        text(&row.status),
        match &row.review_status {
            Some(r) => text(r),
            None => Cow::Borrowed(NONE),
        },
        Cow::Owned(row.suspicious.len().to_string()),
        if raw {
            Cow::Owned(suspicious)
        } else {
            Cow::Owned(neutralize(&suspicious).into_owned())
        },
        Cow::Owned(row.rules_violation.len().to_string()),
        if raw {
            Cow::Owned(rules)
        } else {
            Cow::Owned(neutralize(&rules).into_owned())
        },
    ]
}

/// `course_filename_prefix_generator`: `org_course_run` of the course key, through
/// Django's `get_valid_filename`.
pub fn course_prefix(course_id: &str) -> String {
    let key = course_id
        .strip_prefix("course-v1:")
        .map(|k| k.split('+').collect::<Vec<_>>())
        .filter(|parts| parts.len() == 3)
        .or_else(|| Some(course_id.split('/').collect::<Vec<_>>()).filter(|p| p.len() == 3))
        .map(|parts| parts.join("_"))
        .unwrap_or_else(|| course_id.to_owned());
    let valid: String = key
        .trim()
        .replace(' ', "_")
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    match valid.as_str() {
        "" | "." | ".." => "course".to_owned(),
        _ => valid,
    }
}

/// `{org}_{course}_{run}_proctored_exam_results_report_{YYYY-MM-DD-HHMM}.csv`, the time
/// being the job's start in UTC.
pub fn file_name(course_id: &str, started: OffsetDateTime) -> String {
    let stamp = started
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!("[year]-[month]-[day]-[hour][minute]"))
        .unwrap_or_default();
    format!(
        "{}_proctored_exam_results_report_{stamp}.csv",
        course_prefix(course_id)
    )
}

/// A CSV writer in Python's default dialect: `,`, `"` doubled, minimal quoting, `\r\n`.
pub fn writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out)
}

#[cfg(test)]
mod tests;
