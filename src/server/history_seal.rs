//! The decision history's seal on a running server: the key is read (made the first time,
//! when the entries already written are sealed with it) and every entry the store appends
//! is sealed; the history's head is logged at start and every day, so a later
//! `audit verify --expect-head` can tell if entries were removed.

use crate::domain::audit::SealKey;
use crate::store::Store;
use std::path::Path;

/// Has `store` seal with the key in `key_file` (made if missing).
pub async fn seal_with<S: Store>(store: &S, key_file: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let secret = crate::secrets::load_or_create(key_file)
        .with_context(|| format!("cannot use the audit key {}", key_file.display()))?;
    let key = SealKey::from_bytes(&secret.bytes);
    // A history sealed with another key (a copied database, a server given the wrong file)
    // would fail every later verification: refuse to add to it.
    let head = store.audit_head().await?;
    if let Some((hash, seal)) = &head.newest_seal
        && !key.checks(hash, seal)
    {
        anyhow::bail!(
            "the decision history is sealed with another key than {}: start the server with \
             the audit key it was sealed with (--audit-key-file; after `db copy`, the SQLite \
             database's DATABASE.audit-key)",
            key_file.display()
        );
    }
    store.set_seal_key(key.clone());
    if secret.created {
        let sealed = store.seal_history(key).await?;
        if sealed > 0 {
            tracing::info!(
                entries = sealed,
                key = %key_file.display(),
                "sealed the decision history written before the audit key existed"
            );
        }
    }
    log_head(store).await;
    Ok(())
}

async fn log_head<S: Store>(store: &S) {
    match store.audit_head().await {
        Ok(h) => tracing::info!(entries = h.entries, head = %h.hash, "decision history head"),
        Err(e) => tracing::warn!(error = %e, "cannot read the decision history's head"),
    }
}
