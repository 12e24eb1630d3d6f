//! Where frame packs are kept: beside the evidence, in the media folder's `frames/` or under
//! the object store's `frames/` — one folder per source file, named by its SHA-256, so a
//! retired file's stills go with it.

use crate::media::{MediaFolder, Objects};
use object_store::path::Path as Key;
use std::io;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Shelf {
    folder: MediaFolder,
    objects: Option<Objects>,
}

/// A source file to decode: the media folder's own, or a private copy of an object.
pub enum Source {
    Folder(PathBuf),
    Copy(tempfile::NamedTempFile),
}

impl Source {
    pub fn path(&self) -> &std::path::Path {
        match self {
            Source::Folder(p) => p,
            Source::Copy(f) => f.path(),
        }
    }
}

impl Shelf {
    pub fn new(folder: MediaFolder, objects: Option<Objects>) -> Self {
        Self { folder, objects }
    }

    fn dir_of(&self, sha256: &str) -> PathBuf {
        self.folder.dir().join("frames").join(sha256)
    }

    fn key_of(sha256: &str, plan: &str) -> Key {
        Key::from(format!("frames/{sha256}/{plan}.pack"))
    }

    /// The pack drawn for this file and plan, if there is one.
    pub async fn get(&self, sha256: &str, plan: &str) -> io::Result<Option<Vec<u8>>> {
        match &self.objects {
            Some(o) => match o.get(&Self::key_of(sha256, plan), None).await {
                Ok(got) => Ok(Some(got.bytes().await.map_err(io::Error::other)?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(io::Error::other(e)),
            },
            None => match tokio::fs::read(self.dir_of(sha256).join(format!("{plan}.pack"))).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// Keeps a pack (0600, written aside and renamed, so a reader never sees half of one).
    pub async fn put(&self, sha256: &str, plan: &str, bytes: Vec<u8>) -> io::Result<()> {
        match &self.objects {
            Some(o) => o
                .put_bytes(&Self::key_of(sha256, plan), &bytes)
                .await
                .map(|_| ()),
            None => {
                let dir = self.dir_of(sha256);
                let to = dir.join(format!("{plan}.pack"));
                tokio::task::spawn_blocking(move || {
                    crate::fsutil::private_dir(&dir)?;
                    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
                    io::Write::write_all(&mut tmp, &bytes)?;
                    tmp.persist(&to).map_err(|e| e.error)?;
                    Ok(())
                })
                .await
                .map_err(io::Error::other)?
            }
        }
    }

    /// Removes an evidence file no record uses any more, and its stills.
    pub async fn retire(&self, sha256: &str) -> io::Result<()> {
        match &self.objects {
            Some(o) => o
                .delete(&Objects::media_key(sha256))
                .await
                .map_err(io::Error::other),
            None => self.folder.remove(sha256),
        }?;
        self.remove(sha256).await
    }

    /// Removes every pack of a file no record uses any more.
    pub async fn remove(&self, sha256: &str) -> io::Result<()> {
        match &self.objects {
            Some(o) => o.delete_under(&format!("frames/{sha256}/")).await,
            None => match tokio::fs::remove_dir_all(self.dir_of(sha256)).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        }
    }

    /// The file to decode.
    pub async fn source(&self, sha256: &str) -> io::Result<Source> {
        let Some(o) = &self.objects else {
            return Ok(Source::Folder(self.folder.path_of(sha256)));
        };
        let got = o
            .get(&Objects::media_key(sha256), None)
            .await
            .map_err(io::Error::other)?;
        let mut copy = tempfile::NamedTempFile::new_in(self.folder.dir().join(".incoming"))?;
        let mut stream = got.into_stream();
        use futures_util::StreamExt;
        while let Some(chunk) = stream.next().await {
            io::Write::write_all(&mut copy, &chunk.map_err(io::Error::other)?)?;
        }
        Ok(Source::Copy(copy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pack_is_kept_per_file_and_plan_and_goes_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let folder = MediaFolder::open(&dir.path().join("media")).unwrap();
        let url = url::Url::from_directory_path(dir.path().join("objects")).unwrap();
        for shelf in [
            Shelf::new(folder.clone(), None),
            Shelf::new(folder.clone(), Some(Objects::open(url.as_str()).unwrap())),
        ] {
            let sha = "ab".repeat(32);
            assert_eq!(shelf.get(&sha, "p1").await.unwrap(), None);
            shelf.put(&sha, "p1", vec![1, 2, 3]).await.unwrap();
            shelf.put(&sha, "p2", vec![4]).await.unwrap();
            assert_eq!(shelf.get(&sha, "p1").await.unwrap(), Some(vec![1, 2, 3]));
            shelf.remove(&sha).await.unwrap();
            assert_eq!(shelf.get(&sha, "p1").await.unwrap(), None);
            assert_eq!(shelf.get(&sha, "p2").await.unwrap(), None);
            shelf.remove(&sha).await.unwrap();
        }
    }
}
