//! Evidence records (video, screenshots, scans) and onboarding.

use crate::domain::retention::{CourseKeep, KeepFor};
use crate::domain::{MediaId, MediaItem, SessionId};
use crate::run;
use crate::store::backend::Backend;
use crate::store::frame_jobs::{self, FramesJob};
use crate::store::retention::{self, Expired};
use crate::store::tx::Tx;
use crate::store::{NewMedia, NewOnboarding, PlaceFiles, StoreError, cells::Cells, evidence};
use std::future::Future;
use time::OffsetDateTime;

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

    /// The flagged moments of a session, in order.
    fn violations(
        &self,
        session: SessionId,
    ) -> impl Future<Output = Result<Vec<crate::domain::Violation>, StoreError>> + Send {
        self.read(run!(|t| crate::store::decide::violations(t, session)))
    }

    /// Queues the drawing of a video's stills unless it is under way (see
    /// [`frame_jobs::draw`]), and says where it stands.
    fn draw_frames(
        &self,
        media: MediaId,
        retry_failed: bool,
    ) -> impl Future<Output = Result<FramesJob, StoreError>> + Send {
        let now = time::OffsetDateTime::now_utc();
        self.transact(run!(|t| frame_jobs::draw(t, media, retry_failed, now)))
    }

    /// Every video file's id.
    fn videos(&self) -> impl Future<Output = Result<Vec<MediaId>, StoreError>> + Send {
        self.read(run!(|t| frame_jobs::videos(t)))
    }

    /// Sets how long the course keeps decided sessions' evidence.
    fn set_keep_evidence(
        &self,
        course: String,
        keep: CourseKeep,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.transact(run!(|t| retention::set_keep(t, &course, keep)))
    }

    /// The course's own retention rule.
    fn keep_evidence(
        &self,
        course: String,
    ) -> impl Future<Output = Result<CourseKeep, StoreError>> + Send {
        self.read(run!(|t| retention::keep_of(t, &course)))
    }

    /// Sessions whose evidence is past its period at `now` (see [`retention::due`]).
    fn expired_evidence(
        &self,
        now: OffsetDateTime,
        default: Option<KeepFor>,
    ) -> impl Future<Output = Result<Vec<Expired>, StoreError>> + Send {
        self.read(run!(|t| retention::due(t, now, default)))
    }

    /// Deletes one expired session's evidence records with a history entry; the files no
    /// record uses any more, or None if it was no longer due.
    fn delete_expired(
        &self,
        expired: Expired,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Option<Vec<String>>, StoreError>> + Send {
        let key = self.seal_slot().get();
        self.transact(run!(|t| retention::delete(t, &expired, now, key.as_ref())))
    }

    /// Evidence files whose records are gone, waiting to be removed (oldest first).
    fn files_to_remove(
        &self,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        self.read(run!(|t| evidence::files_to_remove(t, limit)))
    }

    /// Whether a listed file may still go (see [`evidence::still_unused`]).
    fn file_still_unused(
        &self,
        sha256: String,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.transact(run!(|t| evidence::still_unused(t, &sha256)))
    }

    /// Records a listed file's removal, or why it failed (it stays listed).
    fn file_removal(
        &self,
        sha256: String,
        error: Option<String>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.transact(run!(|t| evidence::file_removal(
            t,
            &sha256,
            error.as_deref()
        )))
    }

    fn media_count(&self) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.read(run!(|t| async {
            let n: i64 = t.one("SELECT COUNT(*) FROM media", vec![]).await?.cell(0)?;
            Ok(n.max(0) as u64)
        }))
    }
}
