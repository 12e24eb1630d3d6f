//! Delivers the learner emails that decisions queued in the outbox table: as RFC 5322 `.eml`
//! files in a folder (the default), or over SMTP. A failed delivery stays queued and is
//! tried again, so a decision never loses its email.

use crate::store::{QueuedMail, Store};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{Notify, oneshot};

const RETRY_EVERY: Duration = Duration::from_secs(30);
const BATCH: u32 = 50;

pub enum MailTransport {
    /// One `.eml` file per email, mode 0600.
    Folder(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
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
}

impl MailSettings {
    pub fn smtp(url: &str, from: Mailbox) -> Result<Self, MailError> {
        Ok(Self {
            from,
            transport: MailTransport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build(),
            ),
        })
    }
}

fn message(from: &Mailbox, mail: &QueuedMail) -> Result<Message, MailError> {
    let to = Mailbox::new(
        Some(mail.email.to_name.clone()),
        mail.email.to_address.parse()?,
    );
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.email.subject.clone())
        .date(mail.created.into())
        .header(ContentType::TEXT_PLAIN)
        .body(readable_body(&mail.email.body))?)
}

/// 8-bit bodies keep `.eml` files readable as plain text; lettre refuses 8-bit only for
/// over-long lines, and then picks an encoding itself.
fn readable_body(text: &str) -> Body {
    Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::EightBit)
        .unwrap_or_else(Body::new)
}

async fn deliver(settings: &MailSettings, mail: &QueuedMail) -> Result<(), MailError> {
    let msg = message(&settings.from, mail)?;
    match &settings.transport {
        MailTransport::Folder(dir) => {
            let name = format!("{:08}-{}.eml", mail.id, mail.created.unix_timestamp());
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
        MailTransport::Smtp(t) => {
            t.send(msg).await?;
        }
    }
    Ok(())
}

async fn deliver_pending<S: Store>(store: &S, settings: &MailSettings) {
    let pending = match store.pending_mail(BATCH).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the outbox");
            return;
        }
    };
    for mail in pending {
        let outcome = match deliver(settings, &mail).await {
            Ok(()) => {
                store
                    .mail_delivered(mail.id, OffsetDateTime::now_utc())
                    .await
            }
            Err(e) => {
                tracing::warn!(mail_id = mail.id, error = %e, "email delivery failed; will retry");
                store.mail_failed(mail.id, e.to_string()).await
            }
        };
        if let Err(e) = outcome {
            tracing::error!(mail_id = mail.id, error = %e, "cannot update the outbox");
        }
    }
}

/// Delivers until `stop` fires, then makes one last pass so that what the final decisions
/// queued goes out before the server exits (what still fails stays queued for next time).
pub async fn run<S: Store>(
    store: S,
    settings: MailSettings,
    kick: Arc<Notify>,
    stop: oneshot::Receiver<()>,
) {
    tokio::pin!(stop);
    loop {
        deliver_pending(&store, &settings).await;
        tokio::select! {
            _ = kick.notified() => {}
            _ = tokio::time::sleep(RETRY_EVERY) => {}
            _ = &mut stop => break,
        }
    }
    deliver_pending(&store, &settings).await;
}
