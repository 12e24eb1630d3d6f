//! Changes announced to every server on the database: NOTIFY on one channel, and on each
//! server one connection that LISTENs and hands what it hears to the live event stream.

use crate::store::StoreError;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;

const CHANNEL: &str = "proctor_review_changes";

pub async fn announce<C: tokio_postgres::GenericClient + Sync>(
    c: &C,
    payload: &str,
) -> Result<(), StoreError> {
    c.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
        .await?;
    Ok(())
}

/// What other servers announce, for as long as the receiver is kept; the connection is
/// made again (after a pause) whenever it is lost.
pub fn listen(config: tokio_postgres::Config, tls: MakeRustlsConnect) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        while !tx.is_closed() {
            if let Err(e) = hear(&config, tls.clone(), &tx).await {
                tracing::warn!(error = %e, "lost the connection that hears other servers' changes; connecting again");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    rx
}

/// Listens until the connection ends or nobody wants the changes any more.
async fn hear(
    config: &tokio_postgres::Config,
    tls: MakeRustlsConnect,
    tx: &mpsc::Sender<String>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(tls).await?;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    // The connection is driven below while LISTEN is on its way.
    let listen = format!("LISTEN {CHANNEL}");
    let listening = client.batch_execute(&listen);
    tokio::pin!(listening);
    let mut listened = false;
    loop {
        tokio::select! {
            r = &mut listening, if !listened => {
                r?;
                listened = true;
                tracing::debug!("hearing other servers' changes");
            }
            m = messages.next() => match m {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if tx.send(n.payload().to_owned()).await.is_err() {
                        return Ok(());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            _ = tx.closed() => return Ok(()),
        }
    }
}
