//! `proctor-review course …`: a course's review rules. Run by an admin on the server's
//! database; servers read the rule at each decision, so a change applies at once.

use clap::Subcommand;
use proctor_review::domain::second_review::SecondReview;
use proctor_review::store::Store;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CourseCommand {
    /// Change how a course's decisions are reviewed.
    Set {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// The course id, e.g. course-v1:MITx+6.0001x+2026_Fall
        course: String,
        /// Whether a decision needs a second reviewer before it reaches the learner, the
        /// grade and Open edX: `fail` (a Fail does), `all` (every decision does) or `off`.
        #[arg(long, value_parser = parse_rule)]
        second_review: SecondReview,
    },
    /// A course's review rules.
    Show {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        course: String,
    },
}

fn parse_rule(s: &str) -> Result<SecondReview, String> {
    s.parse()
}

pub async fn run(cmd: CourseCommand) -> anyhow::Result<()> {
    let db = match &cmd {
        CourseCommand::Set { db, .. } | CourseCommand::Show { db, .. } => db.clone(),
    };
    let opened = crate::db_open::open(&db, false, crate::db_open::TOOL_BUDGET).await?;
    crate::on_store!(opened, |store| run_on(&store, cmd).await)
}

async fn run_on<S: Store>(store: &S, cmd: CourseCommand) -> anyhow::Result<()> {
    match cmd {
        CourseCommand::Set {
            db: _,
            course,
            second_review,
        } => {
            store
                .set_second_review(course.clone(), second_review)
                .await?;
            println!("{course}: second review {}", second_review.describe());
            if second_review != SecondReview::Off {
                println!(
                    "A second reviewer decides blind: the first verdict shows once they choose."
                );
            }
        }
        CourseCommand::Show { db: _, course } => {
            let rule = store.second_review(course.clone()).await?;
            println!("{course}");
            println!("  second review  {}", rule.describe());
        }
    }
    Ok(())
}
