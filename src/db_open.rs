//! `--db` names either a SQLite file or a PostgreSQL URL (`postgres://…`); commands open
//! whichever it is and run the same code on it.

use anyhow::{Context, bail};
use proctor_review::store::postgres::{self, PgStore};
use proctor_review::store::sqlite::SqliteStore;
use std::path::Path;
use std::time::Duration;

pub enum Opened {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Runs `$body` with `$s` bound to the opened store, whichever backend it is.
#[macro_export]
macro_rules! on_store {
    ($opened:expr, |$s:ident| $body:expr) => {
        match $opened {
            $crate::db_open::Opened::Sqlite($s) => $body,
            $crate::db_open::Opened::Postgres($s) => $body,
        }
    };
}

/// The PostgreSQL URL `db` holds, if it holds one.
pub fn postgres_url(db: &Path) -> Option<&str> {
    db.to_str().filter(|s| postgres::is_url(s))
}

/// Opens the database; a missing SQLite file is refused unless `create` (a typo in --db
/// would otherwise make a new, empty database).
pub async fn open(db: &Path, create: bool, budget: Duration) -> anyhow::Result<Opened> {
    if let Some(url) = postgres_url(db) {
        let store = PgStore::connect(url, budget)
            .await
            .with_context(|| format!("cannot open {}", postgres::redacted(url)))?;
        return Ok(Opened::Postgres(store));
    }
    if !create && !db.exists() {
        bail!(
            "{} does not exist; check --db (the server's database), or add --create to make a new one",
            db.display()
        );
    }
    let store = SqliteStore::open(db).with_context(|| format!("cannot open {}", db.display()))?;
    store.set_query_budget(budget);
    Ok(Opened::Sqlite(store))
}

/// What command-line tools allow a query (they are not serving anyone waiting).
pub const TOOL_BUDGET: Duration = Duration::from_secs(600);

/// The database as people read it: a file, or a URL without its password.
pub fn shown(db: &Path) -> String {
    match postgres_url(db) {
        Some(url) => postgres::redacted(url),
        None => db.display().to_string(),
    }
}
