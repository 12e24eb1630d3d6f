//! The `proctor-review` command: the console (default), the review server (`serve`), and
//! reviewer administration.

mod course_cli;
mod db_backup_cli;
mod db_open;
mod lms_cli;
mod login_cli;
mod mail_cli;
mod retention_cli;
mod reviewer_cli;
mod serve_config;
mod stats_cli;
mod token;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use proctor_review::client::ApiClient;
use proctor_review::config::{self, Paths};
use proctor_review::embedded::{self, EmbeddedOptions};
use proctor_review::server::{self, MailSettings, MailTransport, MediaSettings, ServerOptions};
use proctor_review::store::Store;
use proctor_review::store::prelude::*;
use proctor_review::{console, demo, fsutil};
use std::net::SocketAddr;
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "proctor-review",
    version,
    about = "Review proctored-exam sessions from the terminal",
    // The console's flags belong to the console: `proctor-review --server X reviewer list`
    // is refused rather than quietly ignored.
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    console: ConsoleArgs,
}

/// Where a console-side command finds the review server.
#[derive(Args, Clone, Default)]
struct Reach {
    /// Review server to connect to; without it the console runs the embedded demo.
    #[arg(long, env = "PROCTOR_REVIEW_SERVER")]
    server: Option<String>,
    /// Deprecated: a token on the command line shows in `ps`. Use --token-file, the
    /// PROCTOR_REVIEW_TOKEN environment variable, `token_file` in the config file, or
    /// type it when asked.
    #[arg(long, hide = true)]
    token: Option<String>,
    /// File holding the reviewer token for --server (mode 0600).
    #[arg(long, env = "PROCTOR_REVIEW_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// Talk plain http to a server that is not on this machine (the token and learner data
    /// cross the network unencrypted).
    #[arg(long)]
    allow_insecure_http: bool,
    /// PEM file of the certificate authority that signed the server's certificate, when it
    /// is an institution's private one (trusted beside the system's authorities).
    #[arg(long, env = "PROCTOR_REVIEW_CA_FILE")]
    ca_file: Option<PathBuf>,
}

/// A console-side command's own files on this machine.
#[derive(Args, Clone, Default)]
struct Local {
    /// The data directory: the demo's database, outbox and log, and where you left off.
    #[arg(long, env = "PROCTOR_REVIEW_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Where downloaded reports and exports go (default: `proctor-review` in your downloads
    /// folder, else `exports` in the data directory; `paths` shows which).
    #[arg(long, env = "PROCTOR_REVIEW_EXPORT_DIR")]
    export_dir: Option<PathBuf>,
    /// Config file with `server`, `token_file`, `ca_file`, `mouse`, `export_dir` and `[keys]`.
    #[arg(long, env = "PROCTOR_REVIEW_CONFIG")]
    config: Option<PathBuf>,
}

/// The data directory, for a server-side command that keeps files there (a PostgreSQL
/// server's key and folders when no flag names them).
#[derive(Args, Clone, Default)]
struct DataDir {
    /// Where a PostgreSQL server's key and folders are kept when no flag names them
    /// (a SQLite server keeps them beside its database).
    #[arg(long = "data-dir", env = "PROCTOR_REVIEW_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct ConsoleArgs {
    #[command(flatten)]
    reach: Reach,
    #[command(flatten)]
    local: Local,
    /// Start the demo from fresh data, dropping decisions made in earlier runs.
    #[arg(long)]
    reset_demo: bool,
    /// Start on the first screen instead of where you left off on this server (the exam,
    /// filter, sort, search and session are remembered per server in the data directory).
    #[arg(long)]
    fresh: bool,
    /// Click to select and open, wheel to scroll (turns off the terminal's text selection).
    #[arg(long, env = "PROCTOR_REVIEW_MOUSE")]
    mouse: bool,
    /// Evidence previews: auto (graphics on terminals known for them, half-blocks elsewhere),
    /// detect (ask any terminal), halfblocks, kitty, sixel or iterm2 (that protocol, unasked),
    /// or off.
    #[arg(long, env = "PROCTOR_REVIEW_IMAGES", default_value = "auto")]
    images: console::images::ImageMode,
    /// The embedded demo's undo grace period in seconds (tests shorten it).
    #[arg(
        long,
        env = "PROCTOR_REVIEW_DEMO_UNDO_GRACE_SECS",
        default_value_t = 30,
        hide = true
    )]
    demo_undo_grace_secs: u32,
}

/// What starts the embedded demo when no server is named.
struct DemoStart {
    reset: bool,
    undo_grace_secs: u32,
}

#[derive(Subcommand)]
enum Command {
    /// Run the review server.
    #[command(args_override_self = true)]
    Serve(Box<ServeArgs>),
    /// Reviewers: add, list, grant and withdraw courses, revoke their tokens.
    #[command(subcommand)]
    Reviewer(reviewer_cli::ReviewerCommand),
    /// Courses: whether decisions need a second reviewer (four eyes).
    #[command(subcommand)]
    Course(course_cli::CourseCommand),
    /// Tokens: make another for a reviewer, revoke one.
    #[command(subcommand)]
    Token(reviewer_cli::TokenCommand),
    /// Add evidence (video, screenshots, scans, onboarding) to a server's database.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Learner emails that could not be delivered: list them, send them again.
    #[command(subcommand)]
    Mail(mail_cli::MailCommand),
    /// Check the decision history's hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Look after the database: check the Quiz List's counts against the sessions.
    #[command(subcommand)]
    Db(DbCommand),
    /// Connect Open edX, and see which reviews have not reached it.
    #[command(subcommand)]
    Lms(lms_cli::LmsCommand),
    /// Show where the demo database, outbox, log, exports and config file are.
    Paths(Local),
    /// A course's backlog and pace: Require Attention and awaiting a second review, the
    /// oldest waiting learner, decisions per day, and each reviewer's count, pass/fail mix
    /// and second-review agreement (with --server, or from the embedded demo).
    Stats {
        /// The course id, e.g. course-v1:MITx+6.0001x+2026_Fall
        #[arg(long)]
        course: String,
        /// How far back the per-reviewer figures count: 7d, 2w, 30d…
        #[arg(long, default_value = "7d")]
        since: String,
        #[arg(long, value_enum, default_value = "table")]
        format: stats_cli::Format,
        #[command(flatten)]
        reach: Reach,
        #[command(flatten)]
        local: Local,
    },
    /// Generate a course's Proctored Exam Results report and download it (with --server,
    /// or from the embedded demo); prints the file's path.
    Report {
        /// The course id, e.g. course-v1:MITx+6.0001x+2026_Fall
        #[arg(long)]
        course: String,
        /// Folder to save it in (default: the export folder, see `paths`).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        reach: Reach,
        #[command(flatten)]
        local: Local,
    },
    /// Print every key binding in force (the defaults with the config file's `[keys]`) as a
    /// Markdown table.
    Keys(Local),
    /// Sign in with your institution's identity provider: enter the code shown at the
    /// provider's page, and the token is kept for you (no token passed by hand).
    Login {
        #[command(flatten)]
        reach: Reach,
        #[command(flatten)]
        local: Local,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Settings from a TOML file, one key per flag (`listen = "0.0.0.0:8750"`, `create =
    /// true`); flags given here win. See deploy/config.toml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// How the server logs to stderr: `text` for people, `json` (one object per line:
    /// timestamp, level, target, fields) for a log collector.
    #[arg(
        long,
        value_enum,
        env = "PROCTOR_REVIEW_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    /// SQLite database file (a new one needs --create), or a PostgreSQL URL
    /// (postgres://user@host:port/dbname; TLS with ?sslmode=require) that several servers share.
    #[arg(long, env = "PROCTOR_REVIEW_DB")]
    db: PathBuf,
    /// Make a new SQLite database if --db names none (without it a missing file is
    /// refused, so a typo never starts an empty server).
    #[arg(long)]
    create: bool,
    #[command(flatten)]
    data_dir: DataDir,
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8750")]
    listen: SocketAddr,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key); both files are read
    /// again on SIGHUP, so a renewed certificate needs no restart.
    #[arg(long, env = "PROCTOR_REVIEW_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "PROCTOR_REVIEW_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The address reviewers reach this server at, e.g. https://review.example.edu (behind a
    /// proxy, say): evidence links and the Open edX launch page start with it.
    #[arg(long, env = "PROCTOR_REVIEW_PUBLIC_URL")]
    public_url: Option<url::Url>,
    /// Reviewers sign in with this OpenID Connect provider (`proctor-review login`), e.g.
    /// https://login.example.edu/realms/staff; its ID token's verified email is matched to a
    /// reviewer an admin added. Tokens made by hand keep working.
    #[arg(long, env = "PROCTOR_REVIEW_OIDC_ISSUER", requires = "oidc_client_id")]
    oidc_issuer: Option<String>,
    /// The public client registered at the provider for the device authorization grant.
    #[arg(long, env = "PROCTOR_REVIEW_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    oidc_client_id: Option<String>,
    /// The ID token claim matched to reviewers' addresses: `email` (refused unless
    /// `email_verified` is true or absent), or one your provider verifies, e.g. `upn`.
    #[arg(long, default_value = "email")]
    oidc_claim: String,
    /// Days a token from a sign-in works before the reviewer signs in again.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=365))]
    oidc_token_days: u32,
    /// PEM file of a private certificate authority trusted for Open edX, the identity
    /// provider and the SMTP relay beside the system's authorities.
    #[arg(long, env = "PROCTOR_REVIEW_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// Also serve /metrics here with no token, for a scraper on a private network (on the
    /// main address it needs an admin's token).
    #[arg(long, env = "PROCTOR_REVIEW_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Folder for learner emails as .eml files (default: `outbox` beside the database).
    #[arg(long)]
    outbox: Option<PathBuf>,
    /// Send learner emails over SMTP instead, e.g. smtps://user:pass@smtp.example.edu
    #[arg(long, env = "PROCTOR_REVIEW_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// Sender of learner emails.
    #[arg(long, default_value = "Course Team <proctoring@example.edu>")]
    mail_from: String,
    /// Contact address learners are given for appeals.
    #[arg(long, default_value = "course-staff@example.edu")]
    contact: String,
    /// Load the demo data (with N sessions) into an empty database.
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "80")]
    seed_demo: Option<usize>,
    #[command(flatten)]
    media: MediaArgs,
    /// The secret signed links and Open edX tokens are made with (made, mode 0600, if
    /// missing; default: beside a SQLite database, else in the data directory). Servers that
    /// share a database give it the same file, so a link one of them issued works on every one.
    #[arg(long, env = "PROCTOR_REVIEW_LINK_KEY_FILE")]
    link_key_file: Option<PathBuf>,
    /// The secret before a rotation: what it signed is still accepted (nothing new is
    /// signed with it); remove it once the longest link lifetime has passed.
    #[arg(long, env = "PROCTOR_REVIEW_PREVIOUS_LINK_KEY_FILE")]
    previous_link_key_file: Option<PathBuf>,
    /// The key the decision history is sealed with (made, mode 0600, if missing; default:
    /// beside a SQLite database, else in the data directory). Keep it outside the database
    /// and give every server sharing the database the same file; `audit verify` needs it.
    #[arg(long, env = "PROCTOR_REVIEW_AUDIT_KEY_FILE")]
    audit_key_file: Option<PathBuf>,
    /// How long a signed link to evidence works, in seconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    link_ttl_secs: u64,
    /// Folder of finished reports (default: `reports` beside the database).
    #[arg(long)]
    reports_dir: Option<PathBuf>,
    /// The ffmpeg program that draws stills of recordings openh264 does not decode (WebM;
    /// default: `ffmpeg` on PATH, if there is one; `none`: do without).
    #[arg(long, env = "PROCTOR_REVIEW_FFMPEG")]
    ffmpeg: Option<PathBuf>,
    /// Write report cells exactly as stored, even those a spreadsheet would run as formulas.
    #[arg(long)]
    raw_cells: bool,
    /// Reconcile with each connected Open edX every N seconds (0: never).
    #[arg(long, default_value_t = 300)]
    lms_sync_secs: u64,
    /// Also send our own learner emails for sessions Open edX registered (it emails them too).
    #[arg(long)]
    lms_learner_emails: bool,
    /// Seconds a client has to send a whole request head; also how long an idle
    /// kept-alive connection stays open.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout_secs: u64,
    /// Seconds a request body may stall between two pieces before the request is dropped.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout_secs: u64,
    /// Connections served at once (also kept below the process's descriptor limit); more
    /// wait to be accepted.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Milliseconds a list, search or lookup may take; one that runs over is stopped and
    /// answered with 503 (a client that hangs up stops its query too).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    query_budget_ms: u64,
    /// Most learner emails sent per second (a backlog drains at this pace); 0 sends them as
    /// fast as the mail server takes them.
    #[arg(long, default_value_t = mail_cli::DEFAULT_MAIL_PER_SECOND, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    mail_per_second: u32,
    /// Delivery attempts per learner email before it is marked failed (see `mail failed`).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    mail_attempts: u32,
    /// Wait after an email's first failed delivery, in milliseconds; doubles each time, to
    /// an hour at most.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    mail_retry_ms: u64,
    /// Seconds a reviewer can undo a Pass or Fail (`u` in the console); the learner email and
    /// the Open edX callback wait that long, so an undone decision reaches nobody. 0: none.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=3600))]
    undo_grace_secs: u32,
    /// Seconds after which a silent server counts as stopped and the jobs it was running
    /// are queued again (tests shorten it).
    #[arg(long, default_value_t = 45, hide = true, value_parser = clap::value_parser!(u64).range(1..=3600))]
    instance_stale_secs: u64,
    /// On SIGTERM, how long running jobs (an email, a report, an LMS callback) may finish
    /// before they are handed back for another server to do; keep it under the load
    /// balancer's or orchestrator's grace period.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=3600))]
    drain_secs: u64,
    /// How often the decision history's head is logged, in seconds.
    #[arg(long, default_value_t = 86_400, hide = true, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    history_head_every_secs: u64,
    /// How often job workers look for work queued by other processes, in milliseconds.
    #[arg(long, default_value_t = 15_000, hide = true, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    job_poll_ms: u64,
    /// How long decided sessions' evidence (recordings, stills, screenshots, scans) is kept
    /// after their last decision, for courses that set no period of their own (`course
    /// set --keep-evidence`): 180d, 26w, 1y or forever. Undecided and disputed sessions
    /// keep theirs; decisions, history and reports stay.
    #[arg(long, env = "PROCTOR_REVIEW_KEEP_EVIDENCE", value_parser = retention_cli::parse_keep, default_value = "forever")]
    keep_evidence: retention_cli::Keep,
    /// How often retention runs, in seconds (tests shorten it).
    #[arg(long, default_value_t = 86_400, hide = true, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    retention_every_secs: u64,
    /// The largest evidence upload accepted, in MiB.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    max_media_mib: u64,
}

#[derive(Args)]
struct MediaArgs {
    /// Folder of evidence files (default: `media` beside the database). With
    /// --object-store, only where uploads arrive before they go there.
    #[arg(long)]
    media_dir: Option<PathBuf>,
    /// Keep evidence and reports in an object store instead of folders:
    /// s3://BUCKET[/PREFIX] (settings from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    /// AWS_REGION, AWS_ENDPOINT, AWS_ALLOW_HTTP) or file:///FOLDER.
    #[arg(long, env = "PROCTOR_REVIEW_OBJECT_STORE")]
    object_store: Option<String>,
}

impl MediaArgs {
    fn objects(&self) -> anyhow::Result<Option<proctor_review::media::Objects>> {
        self.object_store
            .as_deref()
            .map(proctor_review::media::Objects::open)
            .transpose()
            .map_err(Into::into)
    }

    fn dir(
        &self,
        db: &std::path::Path,
        data_dir: Option<&std::path::Path>,
    ) -> anyhow::Result<PathBuf> {
        match &self.media_dir {
            Some(d) => Ok(d.clone()),
            None => beside(db, data_dir, "media"),
        }
    }
}

/// Where a server keeps what is not in its database (media, reports, outbox, link key) when
/// the operator names no place: beside a SQLite file; for a PostgreSQL database, a folder
/// of its own in the user's data directory (made 0700). Never the working directory: a
/// secret made there ends up committed or shared with the next checkout.
fn beside(
    db: &std::path::Path,
    data_dir: Option<&std::path::Path>,
    name: &str,
) -> anyhow::Result<PathBuf> {
    let Some(url) = db_open::postgres_url(db) else {
        return Ok(db
            .parent()
            .map(|p| p.join(name))
            .unwrap_or_else(|| PathBuf::from(name)));
    };
    let home = Paths::resolve(data_dir.map(PathBuf::from))?
        .data_dir
        .join("servers")
        .join(server_slug(url));
    fsutil::private_dir(&home).with_context(|| format!("cannot create {}", home.display()))?;
    Ok(home.join(name))
}

/// The demo's parts, counted on the terminal as they go in (not when stderr is a log).
fn with_progress(
    batches: impl Iterator<Item = proctor_review::store::seed::SeedData> + Send + 'static,
    total: usize,
) -> impl Iterator<Item = proctor_review::store::seed::SeedData> + Send + 'static {
    use std::io::IsTerminal;
    let show = std::io::stderr().is_terminal();
    let mut done = 0usize;
    batches.inspect(move |part| {
        done += part.sessions.len();
        if show {
            eprint!("\rloading demo data: {done} of {total} sessions");
            if done >= total {
                eprintln!();
            }
        }
    })
}

/// The audit key's file: the one named, else beside a SQLite database, else in the data
/// directory with the server's other files.
fn audit_key_file(
    db: &std::path::Path,
    data_dir: Option<&std::path::Path>,
    named: &Option<PathBuf>,
) -> anyhow::Result<PathBuf> {
    match (named, db_open::postgres_url(db)) {
        (Some(f), _) => Ok(f.clone()),
        (None, Some(_)) => beside(db, data_dir, "audit.key"),
        (None, None) => Ok(embedded::audit_key_path(db)),
    }
}

/// A folder name for a PostgreSQL database: its host, port and name (no user, no secret).
fn server_slug(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = rest.split('?').next().unwrap_or(rest);
    rest.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every decision's hash, its link to the one before and its seal (under the
    /// audit key, kept outside the database), and check each session's status and erased
    /// reasons against its history; names what was changed, removed, reordered or forged
    /// (exit status 1).
    Verify {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// The key the history is sealed with (default: where `serve` keeps it).
        #[arg(long, env = "PROCTOR_REVIEW_AUDIT_KEY_FILE")]
        audit_key_file: Option<PathBuf>,
        #[command(flatten)]
        data_dir: DataDir,
        /// A head hash noted earlier (`audit head`, or the server's log): it must still be in
        /// the history, or entries after it were removed.
        #[arg(long, value_name = "HASH")]
        expect_head: Option<String>,
    },
    /// Print how many entries the history has and the newest one's hash: note it somewhere
    /// the database's users cannot write, to check later with `audit verify --expect-head`.
    Head {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Recount sessions per exam and status and compare them with the counts the Quiz List
    /// shows; names each difference (exit status 1), and with --repair puts it right.
    Check {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// Replace the kept counts with the recount (one transaction).
        #[arg(long)]
        repair: bool,
    },
    /// Copy a SQLite database while its server runs (SQLite's online backup: the database
    /// as it stood at one moment) into a new file, mode 0600, and check the copy: its
    /// decision history verifies and its counts match a recount. On PostgreSQL, prints the
    /// pg_dump invocation.
    Backup {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// The new file (refused if it exists).
        #[arg(long)]
        to: PathBuf,
        /// The key the history is sealed with (default: where `serve` keeps it).
        #[arg(long, env = "PROCTOR_REVIEW_AUDIT_KEY_FILE")]
        audit_key_file: Option<PathBuf>,
        #[command(flatten)]
        data_dir: DataDir,
    },
    /// Restore a backup into a new SQLite file and check it as a backup is checked.
    Restore {
        /// The backup taken with `db backup`.
        #[arg(long)]
        from: PathBuf,
        /// The new database file (refused if it exists).
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// The key the history is sealed with: the one `db backup` said to keep with it.
        #[arg(long, env = "PROCTOR_REVIEW_AUDIT_KEY_FILE")]
        audit_key_file: PathBuf,
    },
    /// Move a SQLite installation into a new, empty PostgreSQL database: every table, the
    /// decision history with its hash chain, pending jobs. Refuses a target that holds
    /// data; checks row counts and the chain before it commits. Media and report folders
    /// are not in the database: copy them (or point --media-dir at them).
    Copy {
        /// The SQLite database file.
        #[arg(long)]
        from: PathBuf,
        /// postgres://user@host:port/dbname
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// Import evidence files described by a JSON manifest (all or nothing).
    Import {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        #[command(flatten)]
        media: MediaArgs,
        #[command(flatten)]
        data_dir: DataDir,
        /// Largest file accepted, in MiB.
        #[arg(long, default_value_t = 200)]
        max_media_mib: u64,
        /// The manifest; file paths in it are relative to its folder.
        manifest: PathBuf,
    },
    /// Queue the drawing of videos' stills (for the console's playback and contact sheet);
    /// a running server draws them. Failed ones are tried again.
    Frames {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// Every video in the database (for those imported before stills existed).
        #[arg(long, required = true)]
        all: bool,
    },
    /// Evidence past its retention period: list it (--dry-run), or have a running server
    /// delete it now instead of at its daily run.
    Expire {
        /// The server's database: a SQLite file, or a postgres:// URL.
        #[arg(long, env = "PROCTOR_REVIEW_DB")]
        db: PathBuf,
        /// With --dry-run: the server's default period, for courses that set none (as
        /// `serve --keep-evidence`). A run uses the server's own.
        #[arg(long, env = "PROCTOR_REVIEW_KEEP_EVIDENCE", value_parser = retention_cli::parse_keep, default_value = "forever")]
        keep_evidence: retention_cli::Keep,
        /// List what would go, delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            explain(&e);
            std::process::ExitCode::FAILURE
        }
    }
}

/// Every long flag of `serve`, for `serve --config`.
fn serve_flags() -> Vec<String> {
    use clap::CommandFactory;
    Cli::command()
        .find_subcommand("serve")
        .map(|c| {
            c.get_arguments()
                .filter_map(|a| a.get_long().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A command that fails ends with one line saying what failed and why, each cause after a
/// colon (the backtrace only when RUST_BACKTRACE asks for it).
fn explain(e: &anyhow::Error) {
    eprintln!("error: {e:#}");
    if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
        eprintln!("{}", e.backtrace());
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse_from(serve_config::expand(
        std::env::args_os().collect(),
        &serve_flags(),
    )?);
    // Whatever this process writes is learner data or a secret, also where a library makes
    // the file (an object store's local folder): private to its owner.
    // SAFETY: umask only sets the process's file-creation mask; no memory is involved.
    unsafe {
        libc::umask(0o077);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async_main(cli))
}

async fn async_main(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Serve(args)) => {
            log_to_stderr(args.log_format);
            serve(*args).await
        }
        Some(Command::Reviewer(cmd)) => reviewer_cli::run(cmd).await,
        Some(Command::Token(cmd)) => reviewer_cli::run_token(cmd).await,
        Some(Command::Course(cmd)) => course_cli::run(cmd).await,
        Some(Command::Evidence(EvidenceCommand::Import {
            db,
            media,
            data_dir,
            max_media_mib,
            manifest,
        })) => {
            let opened = db_open::open(&db, false, db_open::TOOL_BUDGET).await?;
            let dir = media.dir(&db, data_dir.data_dir.as_deref())?;
            let folder = proctor_review::media::MediaFolder::open(&dir)?;
            let objects = media.objects()?;
            let report = on_store!(opened, |store| {
                proctor_review::media::import::run(
                    &store,
                    &folder,
                    objects.as_ref(),
                    &manifest,
                    max_media_mib * 1024 * 1024,
                )
                .await?
            });
            println!("{report}");
            Ok(())
        }
        Some(Command::Evidence(EvidenceCommand::Frames { db, all: _ })) => {
            let opened = db_open::open(&db, false, db_open::TOOL_BUDGET).await?;
            let queued = on_store!(opened, |store| {
                let videos = store.videos().await?;
                for id in &videos {
                    store.draw_frames(*id, true).await?;
                }
                videos.len()
            });
            println!(
                "stills of {queued} video(s) queued; a running server draws them (those drawn already are kept)"
            );
            Ok(())
        }
        Some(Command::Evidence(EvidenceCommand::Expire {
            db,
            keep_evidence,
            dry_run,
        })) => retention_cli::expire(&db, keep_evidence.0, dry_run).await,
        Some(Command::Lms(cmd)) => lms_cli::run(cmd).await,
        Some(Command::Mail(cmd)) => mail_cli::run(cmd).await,
        Some(Command::Audit(AuditCommand::Verify {
            db,
            audit_key_file: named,
            data_dir,
            expect_head,
        })) => {
            let key = audit_key_file(&db, data_dir.data_dir.as_deref(), &named)?;
            audit_verify(&db, &key, expect_head.as_deref()).await
        }
        Some(Command::Audit(AuditCommand::Head { db })) => {
            let opened = db_open::open(&db, false, db_open::TOOL_BUDGET).await?;
            let head = on_store!(opened, |store| store.audit_head().await?);
            println!("entries: {}\nhead: {}", head.entries, head.hash);
            Ok(())
        }
        Some(Command::Db(DbCommand::Check { db, repair })) => db_check(&db, repair).await,
        Some(Command::Db(DbCommand::Copy { from, to })) => db_copy(&from, &to).await,
        Some(Command::Db(DbCommand::Backup {
            db,
            to,
            audit_key_file: named,
            data_dir,
        })) => {
            let key = audit_key_file(&db, data_dir.data_dir.as_deref(), &named)?;
            db_backup_cli::backup(&db, &to, &key).await
        }
        Some(Command::Db(DbCommand::Restore {
            from,
            db,
            audit_key_file,
        })) => db_backup_cli::restore(&from, &db, &audit_key_file).await,
        Some(Command::Paths(local)) => {
            let paths = Paths::resolve(local.data_dir.clone())?;
            let cfg = config::load(local.config.as_deref().unwrap_or(&paths.config_file))?;
            println!("data dir:      {}", paths.data_dir.display());
            println!("demo database: {}", paths.demo_db().display());
            println!("demo outbox:   {}", paths.outbox().display());
            println!("demo media:    {}", paths.media_dir().display());
            println!(
                "exports:       {}",
                export_dir(&local, &paths, &cfg).display()
            );
            println!("log file:      {}", paths.log_file().display());
            println!("config file:   {}", paths.config_file.display());
            Ok(())
        }
        Some(Command::Report {
            course,
            out,
            reach,
            local,
        }) => report(&reach, &local, &course, out).await,
        Some(Command::Stats {
            course,
            since,
            format,
            reach,
            local,
        }) => stats(&reach, &local, &course, &since, format).await,
        Some(Command::Login { reach, local }) => login(&reach, &local).await,
        Some(Command::Keys(local)) => {
            let (paths, cfg) = setup(&local)?;
            print!("{}", keymap(&local, &paths, &cfg)?.markdown());
            Ok(())
        }
        None => run_console(cli.console).await,
    }
}

/// The data folder (made private), the log file and the config file of a console-side command.
fn setup(args: &Local) -> anyhow::Result<(Paths, config::ConfigFile)> {
    let paths = Paths::resolve(args.data_dir.clone())?;
    fsutil::private_dir(&paths.data_dir)
        .with_context(|| format!("cannot create {}", paths.data_dir.display()))?;
    log_to_file(&paths)?;
    let cfg = config::load(args.config.as_deref().unwrap_or(&paths.config_file))?;
    Ok((paths, cfg))
}

/// The keys in force: the defaults with the config file's `[keys]` applied. Every setting
/// that cannot work is reported with its file and line, before the screen is taken.
fn keymap(
    args: &Local,
    paths: &Paths,
    cfg: &config::ConfigFile,
) -> anyhow::Result<console::keymap::Keymap> {
    use console::keymap::{KeySetting, Keymap};
    let settings: Vec<KeySetting> = cfg
        .key_entries()
        .into_iter()
        .map(|e| KeySetting {
            name: e.name,
            keys: e.keys,
            line: e.line,
        })
        .collect();
    Keymap::customized(&settings).map_err(|errors| {
        let file = args
            .config
            .as_deref()
            .unwrap_or(&paths.config_file)
            .display();
        let lines: Vec<String> = errors
            .iter()
            .map(|e| format!("  {file}:{}: {}", e.line, e.message))
            .collect();
        anyhow::anyhow!(
            "the [keys] table in {file} cannot be used as it is:\n{}",
            lines.join("\n")
        )
    })
}

/// Where exports and downloaded reports go: the flag, the config file, else the default.
fn export_dir(local: &Local, paths: &Paths, cfg: &config::ConfigFile) -> PathBuf {
    local
        .export_dir
        .clone()
        .or(cfg.export_dir.clone())
        .unwrap_or_else(|| paths.default_export_dir())
}

/// `proctor-review login`: the device flow, then the token kept in the config.
async fn login(reach: &Reach, local: &Local) -> anyhow::Result<()> {
    let (paths, cfg) = setup(local)?;
    let Some(server) = reach.server.clone().or(cfg.server.clone()) else {
        anyhow::bail!("login needs --server URL (the review server to sign in to)");
    };
    proctor_review::client::check_transport(&server, reach.allow_insecure_http)?;
    let roots = match reach.ca_file.as_ref().or(cfg.ca_file.as_ref()) {
        Some(f) => proctor_review::client::ExtraRoots::read(f)?,
        None => Default::default(),
    };
    let config_file = local.config.clone().unwrap_or(paths.config_file.clone());
    login_cli::run(login_cli::Login {
        server: &server,
        roots,
        config_file: &config_file,
        token_file: reach.token_file.clone().or(cfg.token_file.clone()),
    })
    .await
}

/// The review server to talk to: `--server` (with its token), or the embedded demo.
async fn connect(
    args: &Reach,
    demo: DemoStart,
    paths: &Paths,
    cfg: &config::ConfigFile,
) -> anyhow::Result<(ApiClient, Option<embedded::RunningServer>)> {
    let server = args.server.clone().or(cfg.server.clone());
    Ok(match server {
        Some(url) => {
            proctor_review::client::check_transport(&url, args.allow_insecure_http)?;
            let token = token::find(args, cfg)?;
            let roots = match args.ca_file.as_ref().or(cfg.ca_file.as_ref()) {
                Some(f) => proctor_review::client::ExtraRoots::read(f)?,
                None => Default::default(),
            };
            let client = ApiClient::trusting(&url, &token, &roots)?;
            preflight(&client, &url).await?;
            (client, None)
        }
        None => {
            let running = embedded::start(EmbeddedOptions {
                db: paths.demo_db(),
                mail: MailTransport::Folder(paths.outbox()),
                reset: demo.reset,
                data: demo::embedded()?,
                media_dir: paths.media_dir(),
                reports_dir: paths.data_dir.join("reports"),
                undo_grace: time::Duration::seconds(i64::from(demo.undo_grace_secs)),
            })
            .await?;
            tracing::info!(url = %running.url, "embedded demo server started");
            (ApiClient::new(&running.url, &running.token)?, Some(running))
        }
    })
}

/// Before the screen is taken: a refused token, something that is not a review server, or
/// a server that does not answer ends here with the reason and the likely fix, not in an
/// empty console. (Once running, a lost server is retried and said in the status bar.)
async fn preflight(client: &ApiClient, url: &str) -> anyhow::Result<()> {
    use proctor_review::client::ClientError;
    match client.me().await {
        Err(ClientError::Unauthorized(m)) => {
            anyhow::bail!("{url} refused the token: {m}")
        }
        Err(ClientError::NotFound(_)) => anyhow::bail!(
            "{url}: not a proctor-review server (GET /api/v1/me answered 404); check --server"
        ),
        Err(ClientError::Decode(_)) => anyhow::bail!(
            "{url}: not a proctor-review server (GET /api/v1/me did not answer as one); check --server"
        ),
        Err(e @ ClientError::Untrusted { .. }) => anyhow::bail!(e),
        Err(ClientError::Unreachable { reason, .. }) => anyhow::bail!(
            "{url} does not answer ({reason}); check the address and port in --server, and that \
             the review server is running there (proctor-review serve)"
        ),
        Err(ClientError::Timeout) => anyhow::bail!(
            "{url} did not answer in time; check --server, and that the review server there is \
             not overloaded"
        ),
        _ => Ok(()),
    }
}

async fn run_console(args: ConsoleArgs) -> anyhow::Result<()> {
    let (paths, cfg) = setup(&args.local)?;
    let keys = keymap(&args.local, &paths, &cfg)?;
    let demo = DemoStart {
        reset: args.reset_demo,
        undo_grace_secs: args.demo_undo_grace_secs,
    };
    let (client, embedded) = connect(&args.reach, demo, &paths, &cfg).await?;
    let server = match embedded {
        Some(_) => "embedded demo".to_owned(),
        None => client.server_label(),
    };
    let mouse = args.mouse || cfg.mouse.unwrap_or(false);
    let result = console::run(
        client,
        console::Options {
            keys,
            places: console::resume::Places::new(&paths.data_dir, server),
            fresh: args.fresh,
            mouse,
            images: args.images,
            export_dir: export_dir(&args.local, &paths, &cfg),
            embedded: embedded.is_some(),
        },
    )
    .await;
    if let Some(s) = embedded {
        s.stop().await;
    }
    result
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let budget = std::time::Duration::from_millis(args.query_budget_ms);
    let opened = db_open::open(&args.db, args.create, budget).await?;
    let data_dir = args.data_dir.data_dir.clone();
    on_store!(opened, |store| serve_on(store, args, data_dir).await)
}

async fn serve_on<S: Store>(
    store: S,
    args: ServeArgs,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let home = |name| beside(&args.db, data_dir.as_deref(), name);
    if let Some(n) = args.seed_demo
        && store.is_empty().await?
    {
        let started = std::time::Instant::now();
        store
            .seed_batches(Box::new(with_progress(
                demo::batches(n, demo::DEMO_SEED)?,
                n,
            )))
            .await
            .with_context(|| {
                format!(
                    "cannot load {n} demo sessions into {}; nothing was loaded (it is one \
                     transaction), so start again",
                    db_open::shown(&args.db)
                )
            })?;
        tracing::info!(
            sessions = n,
            secs = started.elapsed().as_secs(),
            "demo data loaded"
        );
    }
    let from = args
        .mail_from
        .parse()
        .with_context(|| format!("--mail-from '{}' is not an email address", args.mail_from))?;
    let ca_roots = match &args.ca_file {
        Some(f) => proctor_review::client::ExtraRoots::read(f)?,
        None => Default::default(),
    };
    let mail = match &args.smtp_url {
        Some(url) => MailSettings::smtp(url, &ca_roots, from).context("invalid --smtp-url")?,
        None => {
            let dir = match &args.outbox {
                Some(d) => d.clone(),
                None => home("outbox")?,
            };
            MailSettings {
                from,
                transport: MailTransport::Folder(dir),
            }
        }
    };
    let link_key = match (&args.link_key_file, db_open::postgres_url(&args.db)) {
        (Some(f), _) => f.clone(),
        (None, Some(_)) => home("link.key")?,
        (None, None) => embedded::link_key_path(&args.db),
    };
    let audit_key = audit_key_file(&args.db, data_dir.as_deref(), &args.audit_key_file)?;
    proctor_review::server::history_seal::seal_with(&store, &audit_key).await?;
    let mut media =
        MediaSettings::open(&args.media.dir(&args.db, data_dir.as_deref())?, &link_key)?;
    if let Some(previous) = &args.previous_link_key_file {
        media.key = media.key.with_previous(previous)?;
    }
    media.objects = args.media.objects()?;
    media.link_ttl = std::time::Duration::from_secs(args.link_ttl_secs);
    media.max_bytes = args.max_media_mib * 1024 * 1024;
    media.ffmpeg = proctor_review::media::frames::find_ffmpeg(args.ffmpeg.as_deref());
    match &media.ffmpeg {
        Some(p) => {
            tracing::info!(ffmpeg = %p.display(), "stills of WebM recordings are drawn with ffmpeg")
        }
        None => tracing::info!("no ffmpeg: stills are drawn of H.264 MP4 recordings only"),
    }
    if args.seed_demo.is_some() {
        media
            .put_files(
                proctor_review::demo::evidence::assets()
                    .iter()
                    .map(|a| a.bytes),
            )
            .await
            .context("cannot write the demo's media files")?;
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(std::sync::Arc::new(server::tls::Certified::load(
            server::tls::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            },
        )?)),
        _ => None,
    };
    // Listening for SIGHUP before the address is announced: a hang-up sent as soon as
    // the server is up must reload, not end the process (SIGHUP's default).
    if let Some(c) = &tls {
        c.clone().reload_on_hangup()?;
    }
    if let Some(u) = &args.public_url
        && !matches!(u.scheme(), "http" | "https")
    {
        anyhow::bail!("--public-url {u}: expected https://HOST[:PORT]");
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    if tls.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "serving plain HTTP beyond this machine: tokens and learner data cross the network \
             unencrypted; give --tls-cert and --tls-key, or keep a TLS proxy in front"
        );
    }
    let metrics_listener = match args.metrics_listen {
        Some(at) => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("cannot listen on {at} for metrics"))?,
        ),
        None => None,
    };
    // Scripts and tests read this line to find the port.
    println!("listening on {scheme}://{addr}");
    if let Some(m) = &metrics_listener {
        tracing::info!(at = %m.local_addr()?, "metrics without a token");
    }
    tracing::info!(%addr, db = %db_open::shown(&args.db), "review server started");
    // What an admin does next (stderr: stdout's first line is for scripts). Not among
    // JSON lines, where a collector expects nothing but log objects.
    if args.log_format == LogFormat::Text {
        eprintln!(
            "Next: add a reviewer with\n  proctor-review reviewer add --db {} --username NAME --email ADDRESS --course COURSE_ID\nand connect with\n  proctor-review --server {scheme}://{addr} --token-file FILE_HOLDING_THE_TOKEN",
            db_open::shown(&args.db)
        );
    }
    let shutdown = shutdown_signal();
    server::run(
        listener,
        store,
        ServerOptions {
            metrics: server::install_metrics(),
            metrics_listener,
            tls,
            public_url: args.public_url,
            oidc: match (&args.oidc_issuer, &args.oidc_client_id) {
                (Some(issuer), Some(client_id)) => Some(server::sign_in::OidcSettings {
                    issuer: issuer.clone(),
                    client_id: client_id.clone(),
                    claim: args.oidc_claim.clone(),
                    token_lifetime: time::Duration::days(i64::from(args.oidc_token_days)),
                    roots: ca_roots.clone(),
                }),
                _ => None,
            },
            lms_roots: ca_roots,
            keep_evidence: args.keep_evidence.0,
            retention_every: std::time::Duration::from_secs(args.retention_every_secs),
            contact: args.contact,
            mail,
            media,
            reports_dir: match &args.reports_dir {
                Some(d) => d.clone(),
                None => home("reports")?,
            },
            raw_cells: args.raw_cells,
            lms_sync: (args.lms_sync_secs > 0)
                .then(|| std::time::Duration::from_secs(args.lms_sync_secs)),
            lms_learner_emails: args.lms_learner_emails,
            http: server::HttpLimits {
                header_timeout: std::time::Duration::from_secs(args.header_timeout_secs),
                body_timeout: std::time::Duration::from_secs(args.body_timeout_secs),
                max_connections: args.max_connections as usize,
                ..Default::default()
            },
            email_retry: proctor_review::domain::job::RetryPolicy {
                first_wait: std::time::Duration::from_millis(args.mail_retry_ms),
                attempts: args.mail_attempts,
            },
            mail_per_second: args.mail_per_second,
            job_poll: std::time::Duration::from_millis(args.job_poll_ms),
            instance_stale: std::time::Duration::from_secs(args.instance_stale_secs),
            job_drain: std::time::Duration::from_secs(args.drain_secs),
            history_head_every: std::time::Duration::from_secs(args.history_head_every_secs),
            send_held_at_stop: false,
            undo_grace: time::Duration::seconds(i64::from(args.undo_grace_secs)),
        },
        shutdown,
    )
    .await?;
    Ok(())
}

async fn db_check(db: &std::path::Path, repair: bool) -> anyhow::Result<()> {
    let opened = db_open::open(db, false, db_open::TOOL_BUDGET).await?;
    let drift = on_store!(opened, |store| store.check_counts(repair).await?);
    if drift.is_empty() {
        println!("ok: the Quiz List's counts match the sessions");
        return Ok(());
    }
    for d in &drift {
        println!(
            "exam {} {}: counted {}, sessions {}",
            d.exam_id, d.status, d.kept, d.actual
        );
    }
    if repair {
        println!("repaired: {} counts recounted", drift.len());
        return Ok(());
    }
    println!(
        "{} counts differ; run again with --repair to recount them",
        drift.len()
    );
    std::process::exit(1);
}

async fn db_copy(from: &std::path::Path, to: &str) -> anyhow::Result<()> {
    use proctor_review::store::postgres::{self, PgStore};
    if !postgres::is_url(to) {
        anyhow::bail!("--to must be a postgres:// URL, not '{to}'");
    }
    if db_open::postgres_url(from).is_some() || !from.exists() {
        anyhow::bail!("--from must be an existing SQLite file: {}", from.display());
    }
    // The source is brought up to this program's schema first, as a server would.
    let source = db_open::open(from, false, db_open::TOOL_BUDGET).await?;
    drop(source);
    let target = PgStore::connect(to, db_open::TOOL_BUDGET)
        .await
        .with_context(|| format!("cannot open {}", postgres::redacted(to)))?;
    let copied = target.copy_from_sqlite(from).await.with_context(|| {
        format!(
            "cannot copy {} to {}",
            from.display(),
            postgres::redacted(to)
        )
    })?;
    for (table, n) in &copied.tables {
        println!("{table}: {n} rows");
    }
    match proctor_review::domain::audit::verify(target.audit_chain().await?) {
        Ok(v) => {
            println!(
                "ok: copied; {} decisions verified on the target, head {}",
                v.entries, v.head
            );
            println!(
                "The history stays sealed with {}: give it to the PostgreSQL servers and to \
                 `audit verify` as --audit-key-file.",
                embedded::audit_key_path(from).display()
            );
        }
        Err(broken) => anyhow::bail!(
            "the copy's decision history does not verify at decision {}: {}",
            broken.0.fields.id,
            broken.1
        ),
    }
    Ok(())
}

async fn audit_verify(
    db: &std::path::Path,
    key_file: &std::path::Path,
    expect_head: Option<&str>,
) -> anyhow::Result<()> {
    use proctor_review::domain::audit;
    let secret = proctor_review::secrets::load(key_file).with_context(|| {
        format!(
            "audit verify needs the key the history is sealed with ({}); pass --audit-key-file",
            key_file.display()
        )
    })?;
    let key = audit::SealKey::from_bytes(&secret);
    let opened = db_open::open(db, false, db_open::TOOL_BUDGET).await?;
    let (chain, sessions) = on_store!(opened, |store| (
        store.audit_chain().await?,
        store.audit_sessions().await?
    ));
    let verified = match audit::verify_sealed(chain.iter().cloned(), &key) {
        Ok(v) => v,
        Err(broken) => {
            let (entry, why) = *broken;
            println!(
                "BROKEN at decision {} (session {}, {}): {why}",
                entry.fields.id, entry.fields.session_id, entry.fields.decided_at
            );
            std::process::exit(1);
        }
    };
    let mut problems: Vec<String> = audit::cross_check(&chain, &sessions)
        .iter()
        .map(ToString::to_string)
        .collect();
    if let Some(noted) = expect_head
        && noted != audit::GENESIS
        && !chain.iter().any(|e| e.hash == noted)
    {
        problems.push(format!(
            "the head noted earlier ({noted}) is not in the history: entries were removed \
             (the history now ends at {} after {} entries)",
            verified.head, verified.entries
        ));
    }
    if problems.is_empty() {
        println!(
            "ok: {} decisions verified and sealed ({} reasons erased at a learner's retirement); head {}",
            verified.entries, verified.erased_reasons, verified.head
        );
        return Ok(());
    }
    for p in &problems {
        println!("BROKEN: {p}");
    }
    std::process::exit(1);
}

/// Ctrl-C or SIGTERM (what service managers send): stop accepting, finish requests in
/// flight, deliver queued mail, exit.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; shutting down"),
        () = term => tracing::info!("SIGTERM; shutting down"),
    }
}

/// `proctor-review report`: start (or join) the course's report, show its progress on
/// stderr, download it and print where it is.
async fn stats(
    reach: &Reach,
    local: &Local,
    course: &str,
    since: &str,
    format: stats_cli::Format,
) -> anyhow::Result<()> {
    proctor_review::domain::stats::parse_window(since).map_err(anyhow::Error::msg)?;
    let (paths, cfg) = setup(local)?;
    let demo = DemoStart {
        reset: false,
        undo_grace_secs: 30,
    };
    let (client, embedded) = connect(reach, demo, &paths, &cfg).await?;
    let result = client.stats(course, since).await;
    if let Some(s) = embedded {
        s.stop().await;
    }
    stats_cli::print(&result?, format, &mut std::io::stdout().lock())
}

async fn report(
    reach: &Reach,
    local: &Local,
    course: &str,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    use proctor_review::client::report as fetch;
    use std::io::Write;
    let (paths, cfg) = setup(local)?;
    // The demo as the console left it: a report reads its decisions.
    let demo = DemoStart {
        reset: false,
        undo_grace_secs: 30,
    };
    let (client, embedded) = connect(reach, demo, &paths, &cfg).await?;
    let result = async {
        let job = fetch::start(&client, course).await?;
        let mut stderr = std::io::stderr();
        let done = fetch::wait(&client, course, job.id, |j| {
            let filled = (j.progress.clamp(0.0, 1.0) * 30.0).round() as usize;
            let _ = write!(
                stderr,
                "\r{} [{}{}] {:>3.0}%",
                j.state.label(),
                "█".repeat(filled),
                "·".repeat(30 - filled),
                j.progress * 100.0
            );
        })
        .await;
        let _ = writeln!(stderr);
        let done = done?;
        let dir = out.unwrap_or_else(|| export_dir(local, &paths, &cfg));
        let path = fetch::download(&client, &done, &dir).await?;
        println!("{}", path.display());
        anyhow::Ok(())
    }
    .await;
    if let Some(s) = embedded {
        s.stop().await;
    }
    result
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("PROCTOR_REVIEW_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn log_to_stderr(format: LogFormat) {
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter())
        // Plain text: colour codes would be scrubbed with everything else.
        .with_ansi(false)
        .with_writer(proctor_review::logsafe::Sanitized(std::io::stderr));
    let _ = match format {
        LogFormat::Text => log.try_init(),
        // JSON escapes what it carries; the sanitizer still sees every line.
        LogFormat::Json => log.json().flatten_event(true).try_init(),
    };
}

/// The console owns the screen, so its log goes to a private file.
fn log_to_file(paths: &Paths) -> anyhow::Result<()> {
    let file = fsutil::append_private(&paths.log_file())
        .with_context(|| format!("cannot open the log file {}", paths.log_file().display()))?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(false)
        .with_writer(proctor_review::logsafe::Sanitized(std::sync::Mutex::new(
            file,
        )))
        .try_init();
    Ok(())
}
