//! An object store for evidence and report files, for servers that share no folder: S3 or
//! anything that speaks its API (MinIO, Ceph, R2…), or a local folder through the same
//! interface (`file://`, which the tests use). Evidence is kept under `media/` by its
//! SHA-256, as in the media folder; reports under `reports/<job>/`.
//!
//! Incoming files are still received into the local media folder's `.incoming` and hashed
//! there; they are uploaded before the rows that name them are written, and removed again if
//! those rows are not (an object nobody names is harmless: it is named by its content).

use super::folder::Staged;
use crate::store::PlaceFiles;
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, GetResult, ObjectMeta, ObjectStore, ObjectStoreExt};
use std::path::Path;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("--object-store '{0}' is neither s3://BUCKET[/PREFIX] nor file:///ABSOLUTE/FOLDER")]
    Url(String),
    #[error("cannot use the object store {url}: {source}")]
    Open {
        url: String,
        source: object_store::Error,
    },
    #[error("cannot make the folder {0}: {1}")]
    Folder(String, std::io::Error),
}

/// Evidence and reports in an object store.
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    shown: String,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects").field("at", &self.shown).finish()
    }
}

impl Objects {
    /// Opens `s3://bucket[/prefix]` (credentials, region and endpoint from the usual
    /// `AWS_*` variables) or `file:///folder` (made, private, if missing).
    pub fn open(url: &str) -> Result<Self, ObjectsError> {
        let parsed = url::Url::parse(url).map_err(|_| ObjectsError::Url(url.to_owned()))?;
        let opened = |source| ObjectsError::Open {
            url: url.to_owned(),
            source,
        };
        let store: Arc<dyn ObjectStore> = match parsed.scheme() {
            "file" => {
                let dir = parsed
                    .to_file_path()
                    .map_err(|_| ObjectsError::Url(url.to_owned()))?;
                crate::fsutil::private_dir(&dir)
                    .map_err(|e| ObjectsError::Folder(dir.display().to_string(), e))?;
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(&dir).map_err(opened)?,
                )
            }
            "s3" => {
                // The S3 client speaks rustls without a default crypto provider: without
                // this, `serve --object-store s3://…` panicked as it built the client.
                crate::tls::ready();
                let bucket = parsed
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| ObjectsError::Url(url.to_owned()))?;
                let s3 = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .map_err(opened)?;
                let prefix = parsed.path().trim_matches('/');
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
                }
            }
            _ => return Err(ObjectsError::Url(url.to_owned())),
        };
        Ok(Self {
            store,
            shown: url.to_owned(),
        })
    }

    /// Where it is, for messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The key of the evidence file with this SHA-256 (64 hex digits from our own rows).
    pub fn media_key(sha256: &str) -> Key {
        let prefix = sha256.get(..2).unwrap_or("xx");
        Key::from(format!("media/{prefix}/{sha256}"))
    }

    /// The key of a finished report (the name is ours, sanitized like the platform's).
    pub fn report_key(job: i64, name: &str) -> Key {
        Key::from(format!("reports/{job}/{name}"))
    }

    async fn exists(&self, key: &Key) -> object_store::Result<bool> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Uploads the local file under `key` unless something is there already (content
    /// addressed: the same bytes); whether it was uploaded.
    pub async fn put_file(&self, key: &Key, file: &Path) -> std::io::Result<bool> {
        counted("put", self.put_file_once(key, file).await)
    }

    async fn put_file_once(&self, key: &Key, file: &Path) -> std::io::Result<bool> {
        if self.exists(key).await.map_err(std::io::Error::other)? {
            return Ok(false);
        }
        let mut from = tokio::fs::File::open(file).await?;
        // Large files go up in parts, small ones in one request.
        let mut to = object_store::buffered::BufWriter::new(self.store.clone(), key.clone());
        if let Err(e) = tokio::io::copy(&mut from, &mut to).await {
            let _ = to.abort().await;
            return Err(e);
        }
        to.shutdown().await?;
        Ok(true)
    }

    /// Uploads bytes under `key` unless something is there already.
    pub async fn put_bytes(&self, key: &Key, bytes: &[u8]) -> std::io::Result<bool> {
        counted("put", self.put_bytes_once(key, bytes).await)
    }

    async fn put_bytes_once(&self, key: &Key, bytes: &[u8]) -> std::io::Result<bool> {
        if self.exists(key).await.map_err(std::io::Error::other)? {
            return Ok(false);
        }
        self.store
            .put(key, bytes.to_vec().into())
            .await
            .map_err(std::io::Error::other)?;
        Ok(true)
    }

    /// Removes the object; a missing one is fine.
    pub async fn delete(&self, key: &Key) -> object_store::Result<()> {
        counted("delete", self.delete_once(key).await)
    }

    async fn delete_once(&self, key: &Key) -> object_store::Result<()> {
        match self.store.delete(key).await {
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    /// Removes every object whose key starts with `prefix` (a folder's worth).
    pub async fn delete_under(&self, prefix: &str) -> std::io::Result<()> {
        counted("delete", self.delete_under_once(prefix).await)
    }

    async fn delete_under_once(&self, prefix: &str) -> std::io::Result<()> {
        use futures_util::StreamExt;
        let prefix = Key::from(prefix);
        let mut listed = self.store.list(Some(&prefix));
        while let Some(meta) = listed.next().await {
            let meta = meta.map_err(std::io::Error::other)?;
            self.delete_once(&meta.location)
                .await
                .map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    /// The object's size and version, or `None` when it is missing.
    pub async fn meta(&self, key: &Key) -> object_store::Result<Option<ObjectMeta>> {
        counted("head", self.meta_once(key).await)
    }

    async fn meta_once(&self, key: &Key) -> object_store::Result<Option<ObjectMeta>> {
        match self.store.head(key).await {
            Ok(m) => Ok(Some(m)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads the object, or the part `range` of it.
    pub async fn get(
        &self,
        key: &Key,
        range: Option<std::ops::Range<u64>>,
    ) -> object_store::Result<GetResult> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let got = self.store.get_opts(key, options).await;
        if matches!(got, Err(object_store::Error::NotFound { .. })) {
            return got;
        }
        counted("get", got)
    }

    /// Moves staged evidence into the store, before its rows are written.
    pub async fn upload(&self, staged: Staged) -> std::io::Result<Uploaded> {
        let mut uploaded = Uploaded {
            objects: self.clone(),
            created: Vec::new(),
        };
        for (file, sha256) in staged.files() {
            let key = Self::media_key(&sha256);
            match self.put_file(&key, file.path()).await {
                Ok(true) => uploaded.created.push(key),
                Ok(false) => {}
                Err(e) => {
                    uploaded.undo();
                    return Err(e);
                }
            }
        }
        Ok(uploaded)
    }
}

/// Counts a failed call to the store (`object_store_errors_total{op}` on /metrics); a
/// missing object is an answer, not an error, and is never counted here.
fn counted<T, E>(op: &'static str, result: Result<T, E>) -> Result<T, E> {
    if result.is_err() {
        metrics::counter!("object_store_errors_total", "op" => op).increment(1);
    }
    result
}

/// Evidence already in the object store, waiting for its rows.
pub struct Uploaded {
    objects: Objects,
    /// What this upload put there (not what was there already), to remove if the rows
    /// are not written.
    created: Vec<Key>,
}

impl PlaceFiles for Uploaded {
    fn place(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    fn undo(&mut self) {
        let created = std::mem::take(&mut self.created);
        if created.is_empty() {
            return;
        }
        let objects = self.objects.clone();
        // Called inside the store's transaction, which may hold a thread of the runtime.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for key in created {
                    if let Err(e) = objects.delete(&key).await {
                        tracing::warn!(%key, error = %e, "cannot remove an evidence object whose row was not written");
                    }
                }
            });
        }
    }
}

/// Evidence on its way in: into the media folder, or already in the object store.
pub enum Placement {
    Folder(Staged),
    Objects(Uploaded),
}

impl Placement {
    /// Stages into the folder, or uploads to `objects` when there is one.
    pub async fn of(staged: Staged, objects: Option<&Objects>) -> std::io::Result<Self> {
        Ok(match objects {
            Some(o) => Placement::Objects(o.upload(staged).await?),
            None => Placement::Folder(staged),
        })
    }
}

impl PlaceFiles for Placement {
    fn place(&mut self) -> std::io::Result<()> {
        match self {
            Placement::Folder(s) => s.place(),
            Placement::Objects(u) => u.place(),
        }
    }

    fn undo(&mut self) {
        match self {
            Placement::Folder(s) => s.undo(),
            Placement::Objects(u) => u.undo(),
        }
    }
}

/// Parses a `Range` header for one range of a `size`-byte object: `Ok(None)` for the whole
/// object (no header, several ranges, or one we do not understand, which a server may
/// ignore), `Err(())` when the range lies beyond the end (416).
#[allow(clippy::result_unit_err)]
pub fn byte_range(header: Option<&str>, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), Some(end)) if start <= end => start..(end + 1).min(size),
        (Some(start), None) if b.is_empty() => start..size,
        (None, Some(suffix)) if a.is_empty() => {
            if suffix == 0 {
                return Err(());
            }
            size.saturating_sub(suffix)..size
        }
        _ => return Ok(None),
    };
    if range.start >= size {
        return Err(());
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_players_send_them() {
        assert_eq!(byte_range(None, 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-3"), 10), Ok(Some(0..4)));
        assert_eq!(byte_range(Some("bytes=4-"), 10), Ok(Some(4..10)));
        assert_eq!(byte_range(Some("bytes=-3"), 10), Ok(Some(7..10)));
        assert_eq!(byte_range(Some("bytes=5-99"), 10), Ok(Some(5..10)));
        assert_eq!(byte_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(byte_range(Some("bytes=0-1,4-5"), 10), Ok(None));
        assert_eq!(byte_range(Some("items=0-1"), 10), Ok(None));
        assert_eq!(byte_range(Some("bytes=3-1"), 10), Ok(None));
    }

    #[tokio::test]
    async fn evidence_lands_once_under_its_hash_and_an_undo_removes_only_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let url = url::Url::from_directory_path(dir.path().join("objects")).unwrap();
        let objects = Objects::open(url.as_str()).unwrap();
        let folder = super::super::MediaFolder::open(&dir.path().join("media")).unwrap();
        let png = b"\x89PNG\r\n\x1a\nrest of the image";
        let (got, staged) = folder.receive(png, 1024).unwrap();
        let mut first = objects.upload(staged).await.unwrap();
        let key = Objects::media_key(&got.sha256);
        let read = objects.get(&key, Some(8..12)).await.unwrap();
        assert_eq!(read.bytes().await.unwrap().as_ref(), b"rest");
        assert!(
            !folder.path_of(&got.sha256).exists(),
            "nothing in the media folder"
        );

        let (_, again) = folder.receive(png, 1024).unwrap();
        let mut second = objects.upload(again).await.unwrap();
        // The object was there: the second upload made nothing its undo could remove.
        assert!(second.created.is_empty());
        second.undo();
        assert!(objects.meta(&key).await.unwrap().is_some(), "not its own");
        first.undo();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while objects.meta(&key).await.unwrap().is_some() {
            assert!(std::time::Instant::now() < deadline, "never removed");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(matches!(
            Objects::open("ftp://x/y"),
            Err(ObjectsError::Url(_))
        ));
    }
}
