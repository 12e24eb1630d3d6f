//! The team's stats for a course the caller may see (admins: any; reviewers: their own).

use super::ReviewError;
use crate::domain::access::Actor;
use crate::domain::stats::{TeamStats, reads_from, tally};
use crate::store::Store;
use time::OffsetDateTime;

/// `window_days`: the per-reviewer figures count that many days back, today included.
pub async fn course_stats<S: Store>(
    store: &S,
    actor: &Actor,
    course: &str,
    window_days: u32,
    now: OffsetDateTime,
) -> Result<TeamStats, ReviewError> {
    super::course_reports(store, actor, course).await?;
    let since = now.date() - time::Duration::days(i64::from(window_days.max(1)) - 1);
    let (backlog, entries) = store
        .course_activity(course.to_owned(), reads_from(now, since))
        .await?;
    Ok(tally(course, now, since, backlog, &entries))
}
