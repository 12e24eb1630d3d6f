//! `proctor-review reviewer …` and `token …`: accounts, their course grants and tokens.
//! Run by an admin on the server's database.

use clap::Subcommand;
use proctor_review::domain::Role;
use proctor_review::domain::access::{Access, Grant};
use proctor_review::domain::text::{printable, utc_minute};
use proctor_review::domain::words::Word;
use proctor_review::server::{hash_token, new_token};
use proctor_review::store::{ReviewerListing, Store};
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

#[derive(Subcommand)]
pub enum ReviewerCommand {
    /// Create a reviewer and print a new token for them (shown once).
    Add {
        /// The server's database.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// Make the database if it does not exist yet (else a typo is refused).
        #[arg(long)]
        create: bool,
        /// Letters, digits and @ . + - _ (1–150), as Open edX usernames (default: the part
        /// of --email before the @).
        #[arg(long)]
        username: Option<String>,
        /// Their email address (shown to colleagues in History; a decision's reviewer of
        /// record in Open edX; what sign-in with the identity provider matches).
        #[arg(long)]
        email: String,
        /// Full name shown in History (default: the username).
        #[arg(long, default_value = "")]
        name: String,
        /// reviewer (sees granted courses), admin (every course; may add evidence) or
        /// service (the provider's account: automated reviews and evidence).
        #[arg(long, default_value = "reviewer", value_parser = parse_role)]
        role: Role,
        /// A course they review (repeat for more), e.g. course-v1:MITx+6.0001x+2026_Fall.
        #[arg(long = "course", value_name = "COURSE_ID")]
        courses: Vec<String>,
        /// A course they may see but not decide in (repeat for more).
        #[arg(long = "read-only-course", value_name = "COURSE_ID")]
        read_only: Vec<String>,
        /// The token stops working after this many days (default: until revoked).
        #[arg(long, conflicts_with = "sign_in")]
        expires_in_days: Option<u32>,
        /// Make no token: they sign in with the institution's identity provider
        /// (`proctor-review login`) and are matched by --email.
        #[arg(long)]
        sign_in: bool,
    },
    /// Every reviewer with role, course grants and tokens.
    List {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
    },
    /// Let a reviewer see (and, unless --read-only, decide in) a course. A course id that
    /// no exam uses yet is accepted: the grant applies once the course arrives.
    Grant {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        #[arg(long)]
        username: String,
        #[arg(long = "course", value_name = "COURSE_ID", required = true)]
        courses: Vec<String>,
        /// See only: sessions, evidence and reports, but no Pass or Fail.
        #[arg(long)]
        read_only: bool,
    },
    /// Take a course grant away; the course disappears from the reviewer's console.
    Withdraw {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        #[arg(long)]
        username: String,
        #[arg(long = "course", value_name = "COURSE_ID", required = true)]
        courses: Vec<String>,
    },
    /// Revoke every token of a reviewer (they are refused at once).
    Revoke {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make another token for a reviewer and print it (shown once).
    Add {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        #[arg(long)]
        username: String,
        /// The token stops working after this many days (default: until revoked).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Revoke one token by the id `reviewer list` shows.
    Revoke {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// The token's id as `reviewer list` shows it (the start of its hash, 12+ digits).
        #[arg(long)]
        id: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("'{s}' is not a role: reviewer, admin or service"))
}

/// The server's database; a missing file is refused unless `create` (a typo in --db would
/// otherwise make a new, empty database and a token the server never heard of).
async fn open(db: &Path, create: bool) -> anyhow::Result<crate::db_open::Opened> {
    crate::db_open::open(db, create, crate::db_open::TOOL_BUDGET).await
}

fn expiry(days: Option<u32>) -> Option<OffsetDateTime> {
    days.map(|d| OffsetDateTime::now_utc() + Duration::days(i64::from(d)))
}

/// Makes a token, stores its hash and prints it: the only time it is ever shown.
async fn issue_token(
    store: &impl Store,
    reviewer: i64,
    days: Option<u32>,
) -> anyhow::Result<String> {
    let token = new_token()?;
    let expires = expiry(days);
    store
        .add_token(reviewer, hash_token(&token), expires)
        .await?;
    if let Some(at) = expires {
        eprintln!("The token works until {}.", utc_minute(at));
    }
    Ok(token)
}

pub async fn run(cmd: ReviewerCommand) -> anyhow::Result<()> {
    let (db, create) = match &cmd {
        ReviewerCommand::Add { db, create, .. } => (db.clone(), *create),
        ReviewerCommand::List { db }
        | ReviewerCommand::Grant { db, .. }
        | ReviewerCommand::Withdraw { db, .. }
        | ReviewerCommand::Revoke { db, .. } => (db.clone(), false),
    };
    crate::on_store!(open(&db, create).await?, |store| run_on(&store, cmd).await)
}

async fn run_on<S: Store>(store: &S, cmd: ReviewerCommand) -> anyhow::Result<()> {
    match cmd {
        ReviewerCommand::Add {
            db: _,
            create: _,
            username,
            email,
            name,
            role,
            courses,
            read_only,
            expires_in_days,
            sign_in,
        } => {
            let username = match username {
                Some(u) => u,
                None => email.split('@').next().unwrap_or_default().to_owned(),
            };
            proctor_review::domain::check_username(&username).map_err(anyhow::Error::msg)?;
            email
                .parse::<lettre::Address>()
                .map_err(|e| anyhow::anyhow!("--email '{}': {e}", printable(&email)))?;
            for course in courses.iter().chain(&read_only) {
                check_grant(store, course).await?;
            }
            let name = if name.is_empty() {
                username.clone()
            } else {
                name
            };
            let reviewer = store
                .create_reviewer(username.clone(), email, name, role)
                .await?;
            let grants = courses
                .into_iter()
                .map(|c| (c, Access::Review))
                .chain(read_only.into_iter().map(|c| (c, Access::Read)));
            for (course_id, access) in grants {
                store
                    .grant(username.clone(), Grant { course_id, access })
                    .await?;
            }
            if sign_in {
                eprintln!(
                    "Reviewer '{}' added, with no token: they sign in with the institution's \
                     identity provider as {} (proctor-review login --server https://YOUR-SERVER).",
                    reviewer.username, reviewer.email
                );
                return Ok(());
            }
            let token = issue_token(store, reviewer.id, expires_in_days).await?;
            eprintln!(
                "Reviewer '{}' created. Their token (shown only now):",
                reviewer.username
            );
            println!("{token}");
            eprintln!(
                "Save it in a file only they can read (chmod 600) and connect with:\n  proctor-review --server https://YOUR-SERVER --token-file FILE"
            );
            Ok(())
        }
        ReviewerCommand::List { db: _ } => {
            let all = store.reviewers().await?;
            if all.is_empty() {
                println!(
                    "No reviewers yet; add one with\n  proctor-review reviewer add --db … --username NAME --email ADDRESS --course COURSE_ID"
                );
            }
            for listing in all {
                print!("{}", describe(&listing, OffsetDateTime::now_utc()));
            }
            Ok(())
        }
        ReviewerCommand::Grant {
            db: _,
            username,
            courses,
            read_only,
        } => {
            let access = if read_only {
                Access::Read
            } else {
                Access::Review
            };
            for course in &courses {
                check_grant(store, course).await?;
            }
            for course_id in courses {
                let r = store
                    .grant(
                        username.clone(),
                        Grant {
                            course_id: course_id.clone(),
                            access,
                        },
                    )
                    .await?;
                if r.role != Role::Reviewer {
                    eprintln!(
                        "Note: '{username}' is {} and sees every course; the grant matters only if the role changes.",
                        r.role.as_str()
                    );
                }
                println!("{username}: {} {course_id}", access.as_str());
            }
            Ok(())
        }
        ReviewerCommand::Withdraw {
            db: _,
            username,
            courses,
        } => {
            for course_id in courses {
                if store.withdraw(username.clone(), course_id.clone()).await? {
                    println!("{username}: no longer sees {course_id}");
                } else {
                    println!("{username} had no grant for {course_id}");
                }
            }
            Ok(())
        }
        ReviewerCommand::Revoke { db: _, username } => {
            let n = store.revoke_tokens(username.clone()).await?;
            println!("Revoked {n} token(s) of '{username}'.");
            Ok(())
        }
    }
}

/// Refuses a course id that is not one; says so (with the closest known courses) when no
/// exam uses a well-formed one yet — the grant then waits for the course.
async fn check_grant<S: Store>(store: &S, course: &str) -> anyhow::Result<()> {
    proctor_review::domain::check_course_id(course).map_err(anyhow::Error::msg)?;
    let known: Vec<String> = store
        .courses(proctor_review::domain::access::CourseScope::All)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    if known.iter().any(|k| k == course) {
        return Ok(());
    }
    let mut closest: Vec<(f64, &String)> = known
        .iter()
        .map(|k| (strsim::normalized_levenshtein(k, course), k))
        .collect();
    closest.sort_by(|a, b| b.0.total_cmp(&a.0));
    let names: Vec<&str> = closest.iter().take(3).map(|(_, k)| k.as_str()).collect();
    if names.is_empty() {
        eprintln!("Note: no exam uses {course} yet; the grant applies once the course arrives.");
    } else {
        eprintln!(
            "Note: no exam uses {course} yet; the grant applies once the course arrives. \
             Closest known: {}",
            names.join(", ")
        );
    }
    Ok(())
}

pub async fn run_token(cmd: TokenCommand) -> anyhow::Result<()> {
    let db = match &cmd {
        TokenCommand::Add { db, .. } | TokenCommand::Revoke { db, .. } => db.clone(),
    };
    crate::on_store!(open(&db, false).await?, |store| token_on(&store, cmd).await)
}

async fn token_on<S: Store>(store: &S, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Add {
            db: _,
            username,
            expires_in_days,
        } => {
            let reviewer = store
                .reviewer_by_username(username.clone())
                .await?
                .ok_or_else(|| anyhow::anyhow!("no reviewer named '{username}'"))?;
            let token = issue_token(store, reviewer.id, expires_in_days).await?;
            eprintln!("A new token for '{username}' (shown only now):");
            println!("{token}");
            Ok(())
        }
        TokenCommand::Revoke { db: _, id } => {
            match store.revoke_token(id.clone()).await? {
                0 => println!("Token {id} was already revoked."),
                _ => println!("Revoked token {id}."),
            }
            Ok(())
        }
    }
}

/// One reviewer as `reviewer list` prints them.
fn describe(l: &ReviewerListing, now: OffsetDateTime) -> String {
    let r = &l.reviewer;
    let mut out = format!(
        "{}  {}  <{}>  {}\n",
        printable(&r.username),
        r.role.as_str(),
        printable(&r.email),
        printable(&r.full_name)
    );
    match r.role {
        Role::Reviewer if l.grants.is_empty() => out.push_str("  courses: none\n"),
        Role::Reviewer => {
            for g in &l.grants {
                out.push_str(&format!(
                    "  {:<6}  {}\n",
                    g.access.as_str(),
                    printable(&g.course_id)
                ));
            }
        }
        _ => out.push_str("  courses: all\n"),
    }
    for t in &l.tokens {
        let state = match t.expires {
            _ if t.revoked => "revoked".to_owned(),
            Some(at) if at <= now => format!("expired {}", utc_minute(at)),
            Some(at) => format!("valid until {}", utc_minute(at)),
            None => "valid".to_owned(),
        };
        out.push_str(&format!(
            "  token {}  made {}  {state}\n",
            t.id,
            utc_minute(t.created)
        ));
    }
    out
}
