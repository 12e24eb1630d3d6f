//! For load balancers and service managers, without a token and without data:
//! `/healthz` says the process answers; `/readyz` that its database answers too and has
//! the schema this server knows (an instance left behind by a rolling upgrade that migrated
//! the database further is taken out of rotation, not left to misread it).

use super::AppState;
use super::error::ApiError;
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

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
    Ok(Json(json!({ "status": "ready", "schema": found })))
}
