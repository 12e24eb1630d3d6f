//! What a database backend gives the shared store: three ways to run shared code over its
//! [`Tx`], and nothing else. Every transaction, rule and query the store has is written once
//! over these (the area traits' provided methods in [`super::areas`]); a backend adds only
//! what truly differs — its connections, its search, its locks and notifications.

use super::tx::Tx;
use super::{PlaceFiles, StoreError};
use std::future::Future;
use std::pin::Pin;

/// Shared code's future, borrowing the connection it runs on.
pub type TxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// `run!(|tx| shared(tx, &a, b))`: a closure for [`Backend`] from a call of shared code;
/// what the call borrows is moved into the closure first.
#[macro_export]
macro_rules! run {
    (|$tx:ident| $body:expr) => {
        move |$tx| Box::pin(async move { $body.await })
    };
}

pub trait Backend: Clone + Send + Sync + 'static {
    /// A connection inside a transaction.
    type Tx<'c>: Tx;
    /// A connection outside any transaction: each statement stands alone.
    type Conn<'c>: Tx;

    /// Runs `f` in one transaction: committed if it succeeds, rolled back if not. Other
    /// servers' transactions interleave only as [`Tx::lock`] allows.
    fn transact<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'a, 'c> FnOnce(&'a mut Self::Tx<'c>) -> TxFuture<'a, T> + Send + 'static,
    {
        self.transact_placing(NoFiles, f)
    }

    /// As [`transact`](Self::transact), and `files` move into place before the commit and
    /// out again if it fails: rows and files stand or fall together.
    fn transact_placing<T, F, P>(
        &self,
        files: P,
        f: F,
    ) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        P: PlaceFiles,
        F: for<'a, 'c> FnOnce(&'a mut Self::Tx<'c>) -> TxFuture<'a, T> + Send + 'static;

    /// Runs `f`, which writes in a single statement (or in statements each of which may
    /// stand alone), without a transaction of its own where the database allows it.
    fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'a, 'c> FnOnce(&'a mut Self::Conn<'c>) -> TxFuture<'a, T> + Send + 'static;

    /// Runs `f`, which only reads, on a connection kept for quick reads.
    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + Send
    where
        T: Send + 'static,
        F: for<'a, 'c> FnOnce(&'a mut Self::Conn<'c>) -> TxFuture<'a, T> + Send + 'static;

    /// What new history entries are sealed with (none until the server sets it).
    fn seal_slot(&self) -> &super::SealSlot;

    /// How the connection pool is used now (readers on SQLite; the pool on PostgreSQL).
    fn pool_use(&self) -> PoolUse;
}

/// Connections at work and waiting, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUse {
    pub in_use: usize,
    pub idle: usize,
}

/// No files to place.
pub struct NoFiles;

impl PlaceFiles for NoFiles {
    fn place(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    fn undo(&mut self) {}
}
