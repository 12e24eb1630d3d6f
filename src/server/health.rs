//! For load balancers and service managers, without a token and without data:
//! `/healthz` says the process answers; `/readyz` that its database answers too and has
//! the schema this server knows (an instance left behind by a rolling upgrade that migrated
//! the database further is taken out of rotation, not left to misread it), and that its
//! object store, when it has one, answers within a moment.

use super::AppState;
use super::error::ApiError;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// How long readiness waits for the object store.
const OBJECTS_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn ready<S: Store>(State(st): State<AppState<S>>) -> Result<Json<Value>, ApiError> {
    let (found, known) = st.store.schema_versions().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness: the database does not answer");
        ApiError::Unavailable("the database does not answer".into())
    })?;
    if found != known {
        return Err(ApiError::Unavailable(format!(
            "the database has schema version {found}; this server knows {known}"
        )));
    }
    if let Some(objects) = &st.media.objects {
        // Any answer counts, a missing object included; an S3 client left to itself retries
        // for minutes, so the probe waits this long and no more.
        let key = crate::media::Objects::media_key("readyz");
        match tokio::time::timeout(OBJECTS_PATIENCE, objects.meta(&key)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the object store refused");
                return Err(ApiError::Unavailable(format!(
                    "the object store {} does not answer",
                    objects.shown()
                )));
            }
            Err(_) => {
                return Err(ApiError::Unavailable(format!(
                    "the object store {} did not answer within {} s",
                    objects.shown(),
                    OBJECTS_PATIENCE.as_secs()
                )));
            }
        }
    }
    Ok(Json(json!({ "status": "ready", "schema": found })))
}
