//! `proctor-review stats`: a course's backlog and pace as a table, CSV or JSON, for a head
//! of assessment's spreadsheet. The same numbers as the console's Team pane (`T`).

use proctor_review::domain::stats::TeamStats;
use proctor_review::domain::text::utc_minute;
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

fn agreement(seconded: u64, agreed: u64) -> String {
    match seconded {
        0 => "—".into(),
        n => format!("{}%", (agreed * 100 + n / 2) / n),
    }
}

/// A median time to decide, as the console says durations: "4m10s", "—" when none was
/// timed.
fn minutes(secs: Option<u32>) -> String {
    proctor_review::console::format::duration(secs.map(i64::from))
}

pub fn print(s: &TeamStats, format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(s)?)?,
        Format::Csv => {
            // One table a spreadsheet can take: a row per reviewer, then a row per day.
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "kind",
                "name",
                "today",
                "in_window",
                "passes",
                "fails",
                "seconded",
                "agreed",
                "median_secs_to_decide",
                "backlog",
            ])?;
            for r in &s.reviewers {
                w.write_record([
                    "reviewer".to_owned(),
                    r.reviewer.clone(),
                    r.today.to_string(),
                    r.in_window.to_string(),
                    r.passes.to_string(),
                    r.fails.to_string(),
                    r.seconded.to_string(),
                    r.agreed.to_string(),
                    r.median_secs.map(|m| m.to_string()).unwrap_or_default(),
                    String::new(),
                ])?;
            }
            for d in &s.days {
                w.write_record([
                    "day".to_owned(),
                    d.date.to_string(),
                    String::new(),
                    (d.passes + d.fails).to_string(),
                    d.passes.to_string(),
                    d.fails.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    d.backlog.to_string(),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            let b = &s.backlog;
            writeln!(out, "{} — as of {}", s.course_id, utc_minute(s.as_of))?;
            writeln!(
                out,
                "Backlog: {} require attention ({} awaiting a second review)",
                b.require_attention, b.awaiting_second_review
            )?;
            if let Some(since) = b.oldest_waiting_since {
                let days = (s.as_of - since).whole_days();
                writeln!(
                    out,
                    "Oldest waiting: exam taken {days} day(s) ago ({})",
                    utc_minute(since)
                )?;
            }
            writeln!(
                out,
                "\nPer day: backlog at its end, decisions (✔ passes, ✘ fails):"
            )?;
            for d in &s.days {
                writeln!(
                    out,
                    "  {}  ⚑{:>6}  ✔{:>4}  ✘{:>4}",
                    d.date, d.backlog, d.passes, d.fails
                )?;
            }
            writeln!(out, "\nReviewers since {}:", s.since)?;
            writeln!(
                out,
                "  {:<20} {:>6} {:>7} {:>6} {:>6} {:>10} {:>9}",
                "reviewer", "today", "window", "pass", "fail", "2nd agrees", "median"
            )?;
            for r in &s.reviewers {
                writeln!(
                    out,
                    "  {:<20} {:>6} {:>7} {:>6} {:>6} {:>10} {:>9}",
                    r.reviewer,
                    r.today,
                    r.in_window,
                    r.passes,
                    r.fails,
                    agreement(r.seconded, r.agreed),
                    minutes(r.median_secs)
                )?;
            }
        }
    }
    Ok(())
}
