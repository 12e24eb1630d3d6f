//! What operators run: the schema, seeding, count checks, the audit chain, and the news
//! servers sharing one database give each other.

use crate::domain::audit::{Head, SealKey, SessionNow, StoredEntry};
use crate::run;
use crate::store::backend::Backend;
use crate::store::cells::Cells;
use crate::store::seed::{SeedBatches, SeedData};
use crate::store::tx::Tx;
use crate::store::{CountDrift, StoreError, audit, counts, queries, rows};
use std::future::Future;

pub trait Operations: Backend {
    /// The database answers a query and its schema is the one this program knows:
    /// `(the database's schema version, this program's)`.
    fn schema_versions(&self) -> impl Future<Output = Result<(u32, u32), StoreError>> + Send;

    /// Loads a data set into an empty database, part by part, in one transaction.
    fn seed_batches(
        &self,
        batches: SeedBatches,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn seed(&self, data: SeedData) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.seed_batches(Box::new(std::iter::once(data)))
    }

    fn is_empty(&self) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.read(run!(|t| async {
            let sql = "SELECT NOT EXISTS (SELECT 1 FROM exams)";
            t.one(sql, vec![]).await?.cell(0)
        }))
    }

    /// Recounts sessions per exam and status and compares the counts kept for the Quiz
    /// List; with `repair`, the kept counts are replaced by the recount (in one transaction).
    fn check_counts(
        &self,
        repair: bool,
    ) -> impl Future<Output = Result<Vec<CountDrift>, StoreError>> + Send {
        self.transact(run!(|t| counts::check(t, repair)))
    }

    /// Folds the Quiz List's counts each change appended (see [`counts::fold`]); how many
    /// rows went. A running server does this every [`counts::FOLD_EVERY`].
    fn fold_counts(&self) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.transact(run!(|t| counts::fold(t)))
    }

    /// Seals every history entry written from now on with `key`.
    fn set_seal_key(&self, key: SealKey) {
        self.seal_slot().set(key);
    }

    /// The decision history's hash chain, in order, for `audit verify`.
    fn audit_chain(&self) -> impl Future<Output = Result<Vec<StoredEntry>, StoreError>> + Send {
        self.read(run!(|t| audit::entries(t)))
    }

    /// How many entries the history has, and the newest one's hash: what `audit head`
    /// prints and the server logs, to notice later if entries were removed.
    fn audit_head(&self) -> impl Future<Output = Result<Head, StoreError>> + Send {
        self.read(run!(|t| async {
            let r = t.one(queries::AUDIT_HEAD, vec![]).await?;
            Ok(rows::head(r.cell(0)?, r.cell(1)?, r.cell(2)?))
        }))
    }

    /// Every session that has a history, as it is now, to check against it.
    fn audit_sessions(&self) -> impl Future<Output = Result<Vec<SessionNow>, StoreError>> + Send {
        self.read(run!(|t| audit::sessions(t)))
    }

    /// Seals every entry that has no seal yet, with `key`; how many. Only when the key is
    /// new: later, an entry without a seal is one someone wrote without the key.
    fn seal_history(&self, key: SealKey) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.transact(run!(|t| audit::seal_unsealed(t, &key)))
    }

    /// Tells the other servers sharing this database about a change (JSON). A database
    /// only one server uses (SQLite) has nobody to tell.
    fn announce(&self, payload: String) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = payload;
        std::future::ready(Ok(()))
    }

    /// What the other servers sharing this database announce, as it arrives; `None` when
    /// no other server can share it.
    fn announcements(&self) -> Option<tokio::sync::mpsc::Receiver<String>> {
        None
    }
}
