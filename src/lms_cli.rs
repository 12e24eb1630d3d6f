//! `proctor-review lms …`: connect an Open edX instance, and list what has not reached it.

use crate::db_open::{self, TOOL_BUDGET};
use crate::on_store;
use anyhow::Context;
use clap::Subcommand;
use proctor_review::domain::words::Word;
use proctor_review::store::LmsClient;
use proctor_review::store::prelude::*;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum LmsCommand {
    /// Connect an Open edX instance (or change its settings): the credentials it uses to
    /// call us, and its own, for the review callback.
    Add {
        /// The server's database: a SQLite file or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// What Open edX puts in PROCTORING_BACKENDS[…]['client_id'].
        #[arg(long)]
        client_id: String,
        /// …and in ['client_secret'] (also signs the instructor-dashboard launch).
        #[arg(long, env = "PROCTOR_REVIEW_LMS_CLIENT_SECRET", hide_env_values = true)]
        client_secret: String,
        /// The LMS root URL, e.g. https://lms.example.edu
        #[arg(long)]
        lms_url: String,
        /// The LMS OAuth2 application of our service user (group `proctortrack_review`,
        /// course staff on the courses).
        #[arg(long)]
        lms_client_id: String,
        #[arg(long, env = "PROCTOR_REVIEW_LMS_SECRET", hide_env_values = true)]
        lms_client_secret: String,
        /// The backend's name in PROCTORING_BACKENDS.
        #[arg(long, default_value = "proctortrack")]
        backend: String,
    },
    /// List reviews that have not (yet) reached Open edX: waiting, failed, or in conflict.
    Status {
        /// The server's database: a SQLite file or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
    },
}

pub async fn run(cmd: LmsCommand) -> anyhow::Result<()> {
    match cmd {
        LmsCommand::Add {
            db,
            client_id,
            client_secret,
            lms_url,
            lms_client_id,
            lms_client_secret,
            backend,
        } => {
            let url =
                url::Url::parse(&lms_url).with_context(|| format!("--lms-url '{lms_url}'"))?;
            anyhow::ensure!(
                matches!(url.scheme(), "http" | "https"),
                "--lms-url must be an http(s) URL"
            );
            anyhow::ensure!(
                client_secret.len() >= 16,
                "--client-secret is too short (at least 16 characters: it signs launch links)"
            );
            let client = LmsClient {
                client_id: client_id.clone(),
                client_secret,
                lms_url: lms_url.trim_end_matches('/').to_owned(),
                lms_client_id,
                lms_client_secret,
                backend,
            };
            let opened = db_open::open(&db, false, TOOL_BUDGET).await?;
            on_store!(opened, |store| store.save_lms_client(client).await?);
            println!("Open edX client '{client_id}' saved for {lms_url}.");
            println!(
                "In the LMS: PROCTORING_BACKENDS['proctortrack']['base_url'] = 'https://<this server>/provider'"
            );
            Ok(())
        }
        LmsCommand::Status { db } => {
            let opened = db_open::open(&db, false, TOOL_BUDGET).await?;
            let (rows, clients) = on_store!(opened, |store| (
                store.lms_undelivered().await?,
                store.lms_clients().await?
            ));
            if rows.is_empty() && clients.is_empty() {
                println!(
                    "No Open edX is connected to this server; connect one with `proctor-review lms add`."
                );
            } else if rows.is_empty() {
                println!("Every review has reached Open edX.");
                return Ok(());
            }
            println!(
                "session  attempt               state      tries  queued                learner / exam — reason"
            );
            for r in rows {
                println!(
                    "{:<8} {:<21} {:<10} {:<6} {:<21} {} / {} — {}",
                    r.session_id,
                    r.external_id,
                    r.state.as_str(),
                    r.attempts,
                    r.queued_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    proctor_review::domain::text::printable(&r.learner),
                    proctor_review::domain::text::printable(&r.exam_name),
                    proctor_review::domain::text::printable(r.note.as_deref().unwrap_or("")),
                );
            }
            Ok(())
        }
    }
}
