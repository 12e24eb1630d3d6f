//! `proctor-review mail …`: the learner emails that could not be delivered, and sending
//! them again once the mail server is fixed.

use anyhow::Context;
use clap::Subcommand;
use proctor_review::domain::JobKind;
use proctor_review::domain::text::printable;
use proctor_review::store::Store;
use proctor_review::store::sqlite::SqliteStore;
use std::path::PathBuf;
use time::OffsetDateTime;

#[derive(Subcommand)]
pub enum MailCommand {
    /// List learner emails whose delivery failed for good (after every retry).
    Failed {
        #[arg(long)]
        db: PathBuf,
    },
    /// Queue failed emails again with a fresh retry budget; a running server sends them
    /// within its poll interval (15 s).
    Retry {
        #[arg(long)]
        db: PathBuf,
        /// One email job (the id `mail failed` and the console's History show).
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        job: Option<i64>,
        /// Every failed email.
        #[arg(long)]
        all: bool,
    },
}

pub async fn run(cmd: MailCommand) -> anyhow::Result<()> {
    let open = |db: &PathBuf| {
        SqliteStore::open(db).with_context(|| format!("cannot open {}", db.display()))
    };
    match cmd {
        MailCommand::Failed { db } => {
            let failed = open(&db)?.failed_emails().await?;
            if failed.is_empty() {
                println!("No failed learner emails.");
            }
            for f in failed {
                println!(
                    "job {}  session {}  {}  to {}  \"{}\"  {} attempts: {}",
                    f.job,
                    f.session_id.map_or("-".into(), |s| s.to_string()),
                    f.created
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    printable(&f.to),
                    printable(&f.subject),
                    f.attempts,
                    printable(f.error.as_deref().unwrap_or("unknown error")),
                );
            }
            Ok(())
        }
        MailCommand::Retry { db, job, all: _ } => {
            let n = open(&db)?
                .requeue_failed(JobKind::Email, job, OffsetDateTime::now_utc())
                .await?;
            println!("{n} email(s) queued again.");
            Ok(())
        }
    }
}
