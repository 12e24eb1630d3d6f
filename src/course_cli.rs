//! `proctor-review course …`: a course's review rules. Run by an admin on the server's
//! database; servers read the rule at each decision, so a change applies at once.

use clap::Subcommand;
use proctor_review::domain::retention::CourseKeep;
use proctor_review::domain::second_review::SecondReview;
use proctor_review::store::Store;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CourseCommand {
    /// Change how a course's decisions are reviewed, or how long its evidence is kept.
    #[command(group(clap::ArgGroup::new("change").required(true).multiple(true)
        .args(["second_review", "keep_evidence"])))]
    Set {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// The course id, e.g. course-v1:MITx+6.0001x+2026_Fall
        course: String,
        /// Whether a decision needs a second reviewer before it reaches the learner, the
        /// grade and Open edX: `fail` (a Fail does), `all` (every decision does) or `off`.
        #[arg(long, value_parser = parse_rule)]
        second_review: Option<SecondReview>,
        /// How long decided sessions' evidence is kept after their last decision: 180d, 26w,
        /// 1y, forever, or `default` (the server's --keep-evidence).
        #[arg(long, value_parser = parse_keep)]
        keep_evidence: Option<CourseKeep>,
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

fn parse_keep(s: &str) -> Result<CourseKeep, String> {
    CourseKeep::parse(s)
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
            keep_evidence,
        } => {
            if let Some(rule) = second_review {
                store.set_second_review(course.clone(), rule).await?;
                println!("{course}: second review {}", rule.describe());
                if rule != SecondReview::Off {
                    println!(
                        "A second reviewer decides blind: the first verdict shows once they choose."
                    );
                }
            }
            if let Some(keep) = keep_evidence {
                store.set_keep_evidence(course.clone(), keep).await?;
                println!("{course}: evidence {}", keep.describe());
            }
        }
        CourseCommand::Show { db: _, course } => {
            let rule = store.second_review(course.clone()).await?;
            let keep = store.keep_evidence(course.clone()).await?;
            println!("{course}");
            println!("  second review  {}", rule.describe());
            println!("  evidence       {}", keep.describe());
        }
    }
    Ok(())
}
