//! `proctor-review mail …`: the learner emails that could not be delivered, and sending
//! them again once the mail server is fixed.

use clap::Subcommand;
use proctor_review::domain::JobKind;
use proctor_review::domain::text::printable;
use std::path::PathBuf;
use time::OffsetDateTime;

#[derive(Subcommand)]
pub enum MailCommand {
    /// How many learner emails are waiting, held or failed, and how long the wait will
    /// take at the rate the servers are sending.
    Status {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
    },
    /// List learner emails whose delivery failed for good (after every retry).
    Failed {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
    },
    /// Queue failed emails again with a fresh retry budget; a running server sends them
    /// within its poll interval (15 s).
    #[command(group(clap::ArgGroup::new("which").required(true).args(["job", "all"])))]
    Retry {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// One email job (the id `mail failed` and the console's History show); or --all.
        #[arg(long, value_name = "JOB_ID")]
        job: Option<i64>,
        /// Every failed email.
        #[arg(long)]
        all: bool,
    },
}

/// `serve --mail-per-second`'s default.
pub const DEFAULT_MAIL_PER_SECOND: u32 = 50;

pub async fn run(cmd: MailCommand) -> anyhow::Result<()> {
    let db = match &cmd {
        MailCommand::Status { db } | MailCommand::Failed { db } | MailCommand::Retry { db, .. } => {
            db.clone()
        }
    };
    let opened = crate::db_open::open(&db, false, crate::db_open::TOOL_BUDGET).await?;
    crate::on_store!(opened, |store| run_on(&store, cmd).await)
}

async fn run_on<S: proctor_review::store::Store>(
    store: &S,
    cmd: MailCommand,
) -> anyhow::Result<()> {
    match cmd {
        MailCommand::Status { db: _ } => {
            let t = store.job_tally(JobKind::Email).await?;
            println!(
                "Learner emails: {} due, {} sending, {} held (undo window or backoff), {} failed{}.",
                t.due,
                t.running,
                t.later,
                t.failed,
                if t.failed > 0 {
                    " (mail failed lists them)"
                } else {
                    ""
                }
            );
            println!(
                "Delivered in the last minute: {}; {}.",
                t.done_last_minute,
                t.drain_estimate(DEFAULT_MAIL_PER_SECOND)
            );
            Ok(())
        }
        MailCommand::Failed { db: _ } => {
            let failed = store.failed_emails().await?;
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
        MailCommand::Retry { db: _, job, all: _ } => {
            let n = store
                .requeue_failed(JobKind::Email, job, OffsetDateTime::now_utc())
                .await?;
            println!("{n} email(s) queued again.");
            Ok(())
        }
    }
}
