//! `proctor-review evidence expire`: what retention would delete now (`--dry-run`), or a
//! run of it now instead of at its daily time (a running server deletes, so files go
//! wherever that server keeps them).

use proctor_review::domain::JobKind;
use proctor_review::domain::retention::{KeepFor, human_bytes};
use proctor_review::store::prelude::*;
use std::path::Path;

/// A `--keep-evidence` value: a period, or none for forever.
#[derive(Debug, Clone, Copy)]
pub struct Keep(pub Option<KeepFor>);

/// Parses `--keep-evidence` (`180d`, `26w`, `1y`, `forever`).
pub fn parse_keep(s: &str) -> Result<Keep, String> {
    KeepFor::parse(s).map(Keep)
}

pub async fn expire(db: &Path, default: Option<KeepFor>, dry_run: bool) -> anyhow::Result<()> {
    let opened = crate::db_open::open(db, false, crate::db_open::TOOL_BUDGET).await?;
    crate::on_store!(opened, |store| expire_on(&store, default, dry_run).await)
}

async fn expire_on<S: Store>(
    store: &S,
    default: Option<KeepFor>,
    dry_run: bool,
) -> anyhow::Result<()> {
    if dry_run {
        let due = store
            .expired_evidence(time::OffsetDateTime::now_utc(), default)
            .await?;
        let (files, bytes) = due
            .iter()
            .fold((0, 0), |(f, b), e| (f + e.files, b + e.bytes));
        for e in &due {
            println!(
                "session {}\t{}\tkept {}d\tlast decided {}\t{} file(s), {}",
                e.session_id,
                e.course_id,
                e.keep.days,
                e.last_decided.date(),
                e.files,
                human_bytes(e.bytes)
            );
        }
        println!(
            "{} session(s) past their retention period: {files} evidence record(s), {} \
             (dry run: nothing deleted)",
            due.len(),
            human_bytes(bytes)
        );
        return Ok(());
    }
    // The server judges by its own --keep-evidence; what this command was given is only
    // for the dry run.
    if store.run_now(JobKind::Retention).await? {
        println!(
            "retention queued to run now; a running server deletes what is past its period \
             (by its own --keep-evidence where a course sets none) and logs what it freed"
        );
    } else {
        println!("retention is running already");
    }
    Ok(())
}
