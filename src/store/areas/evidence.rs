//! Evidence records (video, screenshots, scans) and onboarding.

use crate::domain::{MediaId, MediaItem, SessionId};
use crate::run;
use crate::store::backend::Backend;
use crate::store::tx::Tx;
use crate::store::{NewMedia, NewOnboarding, PlaceFiles, StoreError, cells::Cells, evidence};
use std::future::Future;

pub trait Evidence: Backend {
    /// Adds evidence records and onboarding and, in the same transaction, moves the files
    /// into place: all of it or nothing.
    fn add_evidence<F: PlaceFiles>(
        &self,
        items: Vec<NewMedia>,
        onboarding: Vec<NewOnboarding>,
        files: F,
    ) -> impl Future<Output = Result<Vec<MediaItem>, StoreError>> + Send {
        self.transact_placing(files, run!(|t| evidence::add_rows(t, &items, &onboarding)))
    }

    /// One evidence record and the session it belongs to.
    fn media(
        &self,
        id: MediaId,
    ) -> impl Future<Output = Result<(SessionId, MediaItem), StoreError>> + Send {
        self.read(run!(|t| evidence::media(t, id)))
    }

    fn media_count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.read(run!(|t| async {
            let n: i64 = t.one("SELECT COUNT(*) FROM media", vec![]).await?.cell(0)?;
            Ok(n.max(0) as u64)
        }))
    }
}
