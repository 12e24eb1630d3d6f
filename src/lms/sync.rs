//! Reconciliation: read each course's attempts from the LMS and let the store follow what
//! changed there (a staff reset, a decision in the Django admin).

use super::client::{LmsError, LmsHttp};
use crate::store::{Reconciled, Store, StoreError};
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Lms(#[from] LmsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One pass over every course of every LMS client; each client's outcome is recorded.
pub async fn sync_all<S: Store>(store: &S, http: &LmsHttp) -> Result<Reconciled, StoreError> {
    let mut total = Reconciled::default();
    for client in store.lms_clients().await? {
        let outcome = sync_client(store, http, &client.client_id).await;
        let now = OffsetDateTime::now_utc();
        match outcome {
            Ok(r) => {
                total.absorb(r);
                store.lms_sync_result(client.client_id, None, now).await?;
            }
            Err(e) => {
                tracing::warn!(client = %client.client_id, error = %e, "Open edX sync failed");
                store
                    .lms_sync_result(client.client_id, Some(e.to_string()), now)
                    .await?;
            }
        }
    }
    Ok(total)
}

async fn sync_client<S: Store>(
    store: &S,
    http: &LmsHttp,
    client_id: &str,
) -> Result<Reconciled, SyncError> {
    let Some(client) = store.lms_client(client_id.to_owned()).await? else {
        return Ok(Reconciled::default());
    };
    let mut total = Reconciled::default();
    for course in store.lms_courses(client.client_id.clone()).await? {
        // The listing is as of when it was asked for; anything we change after that is
        // newer than what it says.
        let asked = OffsetDateTime::now_utc();
        let attempts = http.course_attempts(&client, &course).await?;
        let r = store
            .lms_reconcile(client.client_id.clone(), attempts, asked)
            .await?;
        if r.changed + r.conflicts > 0 {
            tracing::info!(course = %course, changed = r.changed, conflicts = r.conflicts, "reconciled with Open edX");
        }
        total.absorb(r);
    }
    Ok(total)
}
