//! Learner emails, the jobs a decision queues in its own transaction: delivered as RFC 5322
//! `.eml` files in a folder (the default), or over SMTP. A failed delivery is tried again
//! with backoff, so a decision never loses its email.

use super::relay::Relay;
use super::{JobHandler, JobSettings, Outcome, Work, jitter};
use crate::domain::JobKind;
use crate::domain::change::{ChangeKind, Delivery};
use crate::store::{ClaimedJob, EmailJob, Store, StoreError};
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use std::path::PathBuf;
use time::OffsetDateTime;

pub enum MailTransport {
    /// One `.eml` file per email, mode 0600.
    Folder(PathBuf),
    Smtp(Relay),
}

pub struct MailSettings {
    pub from: Mailbox,
    pub transport: MailTransport,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address: {0}")]
    Address(#[from] lettre::address::AddressError),
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("cannot write the email file: {0}")]
    Io(#[from] std::io::Error),
    #[error("SMTP delivery failed: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("invalid SMTP URL: {0}")]
    Url(String),
    #[error("SMTP delivery failed: cannot reach the relay ({0})")]
    Connect(#[source] std::io::Error),
    #[error("SMTP delivery failed: the relay did not answer within a minute")]
    Timeout,
}

impl MailError {
    /// Whether trying again cannot help: the SMTP server refused for good (a 5xx reply: no
    /// such mailbox, a message it will never take), or the message itself cannot be built.
    /// A 4xx reply, a connection that failed or a full disk may pass.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Smtp(e) => e.is_permanent(),
            Self::Address(_) | Self::Build(_) | Self::Url(_) => true,
            Self::Io(_) | Self::Connect(_) | Self::Timeout => false,
        }
    }
}

impl MailSettings {
    /// Over SMTP to the relay at `url`, whose certificate is checked against the system's
    /// authorities and `roots`.
    pub fn smtp(
        url: &str,
        roots: &crate::tls::ExtraRoots,
        from: Mailbox,
    ) -> Result<Self, MailError> {
        Ok(Self {
            from,
            transport: MailTransport::Smtp(Relay::from_url(url, roots)?),
        })
    }
}

/// The Message-ID is the job's, so an email resent after a crash between delivery and
/// recording it is recognisably the same message (mail servers and clients drop the copy);
/// in the folder transport it overwrites the same file.
///
/// `readable`: the body as 8-bit text, for `.eml` files a person opens. Over SMTP the body
/// goes as 7-bit (quoted-printable where it is not ASCII), which every RFC 5321 server
/// takes, with or without 8BITMIME; headers with non-ASCII words are RFC 2047 encoded
/// either way.
fn message(
    from: &Mailbox,
    id: i64,
    mail: &EmailJob,
    created: OffsetDateTime,
    readable: bool,
) -> Result<Message, MailError> {
    let to = Mailbox::new(
        Some(mail.email.to_name.clone()),
        mail.email.to_address.parse()?,
    );
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.email.subject.clone())
        .message_id(Some(format!(
            "<job-{id}.{}@{}>",
            created.unix_timestamp(),
            from.email.domain()
        )))
        .date(created.into())
        .header(ContentType::TEXT_PLAIN)
        .body(if readable {
            readable_body(&mail.email.body)
        } else {
            seven_bit_body(&mail.email.body)
        })?)
}

/// 8-bit bodies keep `.eml` files readable as plain text; lettre refuses 8-bit only for
/// over-long lines, and then picks an encoding itself.
fn readable_body(text: &str) -> Body {
    Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::EightBit)
        .unwrap_or_else(Body::new)
}

/// ASCII as it is; anything else quoted-printable, so no server needs 8BITMIME.
fn seven_bit_body(text: &str) -> Body {
    let encoding = if text.is_ascii() {
        ContentTransferEncoding::SevenBit
    } else {
        ContentTransferEncoding::QuotedPrintable
    };
    Body::new_with_encoding(text.to_owned(), encoding).unwrap_or_else(Body::new)
}

/// How old a half-written email must be before a starting server removes it: older than any
/// write in progress on a server sharing the folder.
const LEFTOVER_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes what a killed server left half-written in the outbox (`.tmp…` files: an email is
/// written under a temporary name and renamed whole). Its job was never marked done, so
/// it is written again; the leftover is only clutter holding learner data.
pub async fn sweep_leftovers(dir: &std::path::Path) {
    let dir = dir.to_owned();
    let swept = tokio::task::spawn_blocking(move || -> std::io::Result<usize> {
        let mut n = 0;
        let entries = match std::fs::read_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            other => other?,
        };
        for entry in entries {
            let entry = entry?;
            let old = entry
                .metadata()?
                .modified()?
                .elapsed()
                .is_ok_and(|age| age >= LEFTOVER_AGE);
            if entry.file_name().to_string_lossy().starts_with(".tmp") && old {
                std::fs::remove_file(entry.path())?;
                n += 1;
            }
        }
        Ok(n)
    })
    .await;
    match swept {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::info!(
            files = n,
            "removed half-written emails a stopped server left"
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot clear half-written emails from the outbox")
        }
        Err(e) => tracing::warn!(error = %e, "cannot clear half-written emails from the outbox"),
    }
}

/// Sends the email of job `id`, queued at `created`.
pub async fn deliver(
    settings: &MailSettings,
    id: i64,
    created: OffsetDateTime,
    mail: &EmailJob,
) -> Result<(), MailError> {
    let readable = matches!(settings.transport, MailTransport::Folder(_));
    let msg = message(&settings.from, id, mail, created, readable)?;
    match &settings.transport {
        MailTransport::Folder(dir) => {
            let name = format!("{id:08}-{}.eml", created.unix_timestamp());
            let path = dir.join(name);
            let bytes = msg.formatted();
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || {
                crate::fsutil::private_dir(&dir)?;
                crate::fsutil::write_private(&path, &bytes)
            })
            .await
            .map_err(std::io::Error::other)??;
        }
        MailTransport::Smtp(relay) => relay.send(&msg).await?,
    }
    Ok(())
}

/// Learner emails: at most `mail_per_second`, and one last pass as the server stops.
pub struct Emails;

impl<S: Store> JobHandler<S> for Emails {
    fn kind(&self) -> JobKind {
        JobKind::Email
    }

    fn run<'a>(&'a self, work: &'a Work<S>, job: ClaimedJob) -> Outcome<'a> {
        Box::pin(run(work, job))
    }

    /// `0` is as fast as the relay takes them.
    fn per_second(&self, settings: &JobSettings) -> Option<u32> {
        (settings.mail_per_second > 0).then_some(settings.mail_per_second)
    }

    fn at_once(&self, settings: &JobSettings) -> usize {
        match settings.mail.transport {
            MailTransport::Smtp(_) => super::relay::CONNECTIONS,
            // Files: each write is quick, and in order they read in order.
            MailTransport::Folder(_) => 1,
        }
    }

    fn last_pass(&self) -> bool {
        true
    }
}

async fn run<S: Store>(work: &Work<S>, c: ClaimedJob) -> Result<(), StoreError> {
    let (store, settings) = (&work.store, &*work.settings);
    let job = c.job;
    let tell = |delivery, note| settings.tell(c.session, ChangeKind::Email, delivery, note);
    let mail: EmailJob = match serde_json::from_str(&c.payload) {
        Ok(m) => m,
        Err(e) => {
            return store
                .job_failed(job.id, format!("unreadable email job: {e}"))
                .await;
        }
    };
    let delivered = deliver(&settings.mail, job.id, job.created, &mail).await;
    if delivered.is_err() {
        metrics::counter!("delivery_failures_total", "to" => "mail").increment(1);
    }
    match delivered {
        Ok(()) => {
            tracing::info!(job = job.id, attempt = job.attempts, "email delivered");
            store.job_done(job.id, None).await?;
            tell(Delivery::Delivered, None);
        }
        Err(e) if e.is_permanent() => {
            tracing::error!(job = job.id, error = %e, "email refused for good; not retried");
            store.job_failed(job.id, e.to_string()).await?;
            tell(Delivery::Failed, Some(e.to_string()));
        }
        Err(e) if job.attempts >= settings.email_retry.attempts => {
            tracing::error!(job = job.id, attempts = job.attempts, error = %e, "email delivery failed for good");
            store.job_failed(job.id, e.to_string()).await?;
            tell(Delivery::Failed, Some(e.to_string()));
        }
        Err(e) => {
            let next =
                OffsetDateTime::now_utc() + settings.email_retry.backoff(job.attempts, jitter());
            tracing::warn!(job = job.id, error = %e, %next, "email delivery failed; will retry");
            store.job_retry(job.id, e.to_string(), next).await?;
            tell(Delivery::Retrying, Some(e.to_string()));
        }
    }
    Ok(())
}
