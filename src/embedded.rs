//! Starts a review server inside this process on an ephemeral 127.0.0.1 port. The console
//! uses it for the demo, and tests use it for a real server with a real database.

use crate::demo::DemoData;
use crate::domain::access::{Access, CourseScope, Grant};
use crate::server::{
    self, MailSettings, MailTransport, MediaSettings, ServerOptions, hash_token, new_token,
};
use crate::store::prelude::*;
use crate::store::sqlite::SqliteStore;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const DEMO_REVIEWER: &str = "demo-reviewer";

pub struct EmbeddedOptions {
    pub db: PathBuf,
    /// Where learner emails go: the demo writes `.eml` files to a folder.
    pub mail: MailTransport,
    /// Start from a fresh demo database, dropping earlier decisions.
    pub reset: bool,
    /// What to load into an empty database.
    pub data: DemoData,
    /// Evidence files (the demo's are put here).
    pub media_dir: PathBuf,
    /// Finished reports.
    pub reports_dir: PathBuf,
    /// How long a decision can be undone before its email goes out.
    pub undo_grace: time::Duration,
}

pub struct RunningServer {
    pub url: String,
    /// A token minted for this run, for the demo reviewer.
    pub token: String,
    pub store: SqliteStore,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The server's link-signing key lives beside its database.
pub fn link_key_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".link-key");
    PathBuf::from(p)
}

/// So does the key its decision history is sealed with.
pub fn audit_key_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".audit-key");
    PathBuf::from(p)
}

pub fn remove_database(db: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(PathBuf::from(p)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

async fn open(db: &Path) -> anyhow::Result<SqliteStore> {
    let path = db.to_owned();
    tokio::task::spawn_blocking(move || SqliteStore::open(&path))
        .await?
        .with_context(|| format!("cannot open the demo database {}", db.display()))
}

pub async fn start(opts: EmbeddedOptions) -> anyhow::Result<RunningServer> {
    if opts.reset {
        remove_database(&opts.db)
            .with_context(|| format!("cannot remove {}", opts.db.display()))?;
        // Printed before the console takes the screen, so it is there after quitting.
        eprintln!(
            "Demo reset: {} starts afresh; earlier decisions are gone (emails already written stay in the outbox).",
            opts.db.display()
        );
    }
    let mut store = open(&opts.db).await?;
    if !store.is_empty().await? && store.media_count().await? == 0 {
        // A demo database from before evidence existed; its violations cannot be matched
        // to the demo's media, so it starts afresh.
        tracing::warn!(db = %opts.db.display(), "demo database predates evidence; starting it afresh");
        drop(store);
        remove_database(&opts.db)
            .with_context(|| format!("cannot remove {}", opts.db.display()))?;
        store = open(&opts.db).await?;
    }
    crate::server::history_seal::seal_with(&store, &audit_key_path(&opts.db)).await?;
    let media = MediaSettings::open(&opts.media_dir, &link_key_path(&opts.db))?;
    media
        .put_files(crate::demo::evidence::assets().iter().map(|a| a.bytes))
        .await
        .context("cannot write the demo's media files")?;
    if store.is_empty().await? {
        store
            .seed(opts.data)
            .await
            .context("cannot load the demo data")?;
    }
    let reviewer = store
        .ensure_reviewer(
            DEMO_REVIEWER.into(),
            "demo-reviewer@example.edu".into(),
            "Demo Reviewer".into(),
        )
        .await?;
    // The demo reviewer reviews every demo course (a reviewer, not an admin: the console
    // shows what a course-scoped reviewer sees).
    for course in store.courses(CourseScope::All).await? {
        store
            .grant(
                DEMO_REVIEWER.into(),
                Grant {
                    course_id: course.id,
                    access: Access::Review,
                },
            )
            .await?;
    }
    let token = new_token()?;
    store
        .add_token(reviewer.id, hash_token(&token), None)
        .await?;

    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let options = ServerOptions {
        metrics_listener: None,
        // The demo listens on 127.0.0.1 only, for the console in the same process.
        tls: None,
        public_url: None,
        lms_roots: Default::default(),
        oidc: None,
        // The demo keeps what it has.
        keep_evidence: None,
        retention_every: crate::jobs::retention::EVERY,
        // The demo runs inside the console's process: no scrape endpoint there.
        metrics: None,
        contact: "course-staff@example.edu".into(),
        mail: MailSettings {
            from: "Course Team <proctoring@example.edu>"
                .parse()
                .context("bad built-in sender address")?,
            transport: opts.mail,
        },
        media,
        reports_dir: opts.reports_dir,
        raw_cells: false,
        lms_sync: None,
        lms_learner_emails: false,
        http: server::HttpLimits::default(),
        email_retry: crate::domain::job::RetryPolicy::EMAIL,
        mail_per_second: 50,
        job_poll: crate::jobs::POLL,
        instance_stale: crate::jobs::STALE,
        job_drain: crate::jobs::DRAIN,
        history_head_every: crate::jobs::audit::EVERY,
        send_held_at_stop: true,
        undo_grace: opts.undo_grace,
    };
    let task = tokio::spawn(server::run(listener, store.clone(), options, async {
        let _ = rx.await;
    }));
    Ok(RunningServer {
        url: format!("http://{addr}"),
        token,
        store,
        shutdown: Some(tx),
        task,
    })
}
