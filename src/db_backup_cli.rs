//! `proctor-review db backup` and `db restore`: a copy of a SQLite installation taken while
//! its server runs, checked before it is called a backup; a restore into a new file,
//! checked the same way. PostgreSQL has its own tools: the command prints the invocation.

use anyhow::Context;
use proctor_review::domain::audit;
use proctor_review::store::prelude::*;
use std::path::Path;

/// Copies `db` into the new file `to` and checks the copy: its decision history verifies
/// and is sealed with `key_file`, and its kept counts equal a recount.
pub async fn backup(db: &Path, to: &Path, key_file: &Path) -> anyhow::Result<()> {
    if let Some(url) = crate::db_open::postgres_url(db) {
        // Printed without its password: the operator has it, a terminal's scrollback need not.
        let url = match url::Url::parse(url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("PASSWORD"));
                u.to_string()
            }
            _ => url.to_owned(),
        };
        println!(
            "PostgreSQL is backed up with its own tools, while the servers run:\n  \
             pg_dump --format=custom --no-owner --file={} '{url}'\n\
             Restore into an empty database with\n  \
             pg_restore --no-owner --dbname=postgres://…/new {}\n\
             then check it with `proctor-review audit verify --db postgres://…/new \
             --audit-key-file {}`. Keep the audit key with the dump: without it the \
             history cannot be verified.",
            to.display(),
            to.display(),
            key_file.display()
        );
        return Ok(());
    }
    if !db.exists() {
        anyhow::bail!("no database at {}", db.display());
    }
    let (from, into) = (db.to_owned(), to.to_owned());
    tokio::task::spawn_blocking(move || {
        proctor_review::store::sqlite::backup::backup(&from, &into)
    })
    .await??;
    match verify(to, key_file).await {
        Ok(said) => {
            println!("ok: {} backed up to {}; {said}", db.display(), to.display());
            println!(
                "Keep the audit key ({}) with it: the history is sealed with that key.",
                key_file.display()
            );
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(to);
            Err(e.context("the copy did not check out, so it was removed"))
        }
    }
}

/// Restores the backup `from` into the new file `db`, checked as a backup is.
pub async fn restore(from: &Path, db: &Path, key_file: &Path) -> anyhow::Result<()> {
    if crate::db_open::postgres_url(db).is_some() {
        anyhow::bail!("a PostgreSQL database is restored with pg_restore (see `db backup`)");
    }
    if db.exists() {
        anyhow::bail!(
            "{} exists; a restore goes into a new file (stop the server and move the old one aside)",
            db.display()
        );
    }
    let (source, into) = (from.to_owned(), db.to_owned());
    tokio::task::spawn_blocking(move || {
        proctor_review::store::sqlite::backup::backup(&source, &into)
    })
    .await??;
    match verify(db, key_file).await {
        Ok(said) => {
            println!(
                "ok: restored {} into {}; {said}",
                from.display(),
                db.display()
            );
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(db);
            Err(e.context("the restored database did not check out, so it was removed"))
        }
    }
}

/// What a copy must hold to be trusted: a history that verifies under `key_file`, sessions
/// that agree with it, and kept counts equal to a recount.
async fn verify(db: &Path, key_file: &Path) -> anyhow::Result<String> {
    let secret = proctor_review::secrets::load(key_file).with_context(|| {
        format!(
            "checking the copy needs the key the history is sealed with ({}); pass --audit-key-file",
            key_file.display()
        )
    })?;
    let key = audit::SealKey::from_bytes(&secret);
    let opened = crate::db_open::open(db, false, crate::db_open::TOOL_BUDGET).await?;
    let (chain, sessions, drift) = crate::on_store!(opened, |store| (
        store.audit_chain().await?,
        store.audit_sessions().await?,
        store.check_counts(false).await?
    ));
    let verified = audit::verify_sealed(chain.iter().cloned(), &key).map_err(|broken| {
        let (entry, why) = *broken;
        anyhow::anyhow!(
            "its history is broken at decision {}: {why}",
            entry.fields.id
        )
    })?;
    if let Some(p) = audit::cross_check(&chain, &sessions).first() {
        anyhow::bail!("its sessions disagree with their history: {p}");
    }
    if let Some(d) = drift.first() {
        anyhow::bail!(
            "its kept counts differ from a recount (exam {} {}: {} kept, {} counted)",
            d.exam_id,
            d.status,
            d.kept,
            d.actual
        );
    }
    Ok(format!(
        "{} decisions verified and sealed (head {}), counts match",
        verified.entries, verified.head
    ))
}
