//! The media folder. Files are named by their SHA-256, so a clip several sessions share is
//! stored once, and a name can never point at other bytes than the row says.

use crate::domain::ContentType;
use crate::store::PlaceFiles;
use ring::digest::{Context, SHA256};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

#[derive(Debug, Clone)]
pub struct MediaFolder {
    dir: PathBuf,
}

/// What reading an incoming file found out about it.
#[derive(Debug)]
pub struct Received {
    pub sha256: String,
    pub size: u64,
    /// The type its first bytes say it is.
    pub sniffed: Option<ContentType>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("cannot store the file: {0}")]
    Io(#[from] io::Error),
}

/// An incoming file being written aside, hashed and measured as its bytes arrive.
pub struct Incoming {
    file: NamedTempFile,
    digest: Context,
    size: u64,
    head: Vec<u8>,
    limit: u64,
}

impl Incoming {
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ReceiveError> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(ReceiveError::TooLarge { limit: self.limit });
        }
        if self.head.len() < 16 {
            let take = (16 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.digest.update(chunk);
        self.file.write_all(chunk)?;
        Ok(())
    }

    /// Finishes the file; it stays aside until [`Staged::place`] moves it in.
    pub fn finish(mut self, folder: &MediaFolder) -> Result<(Received, Staged), ReceiveError> {
        if self.size == 0 {
            return Err(ReceiveError::Empty);
        }
        self.file.as_file_mut().sync_all()?;
        let sha256 = super::hex(self.digest.finish().as_ref());
        let received = Received {
            sniffed: ContentType::sniff(&self.head),
            size: self.size,
            sha256: sha256.clone(),
        };
        let staged = Staged {
            pending: vec![(self.file, folder.path_of(&sha256))],
            created: Vec::new(),
        };
        Ok((received, staged))
    }
}

impl MediaFolder {
    /// Opens (creating, mode 0700) the folder.
    pub fn open(dir: &Path) -> io::Result<Self> {
        crate::fsutil::private_dir(&dir.join(".incoming"))?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file with this SHA-256 lives. `sha256` is 64 hex digits from our own rows.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        let prefix = sha256.get(..2).unwrap_or("xx");
        self.dir.join(prefix).join(sha256)
    }

    /// Removes a file no record uses any more (retirement); a missing file is fine.
    pub fn remove(&self, sha256: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path_of(sha256)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Starts receiving a file of at most `limit` bytes.
    pub fn incoming(&self, limit: u64) -> io::Result<Incoming> {
        Ok(Incoming {
            // NamedTempFile is created 0600 and removed if it is dropped before `place`.
            file: NamedTempFile::new_in(self.dir.join(".incoming"))?,
            digest: Context::new(&SHA256),
            size: 0,
            head: Vec::new(),
            limit,
        })
    }

    /// Receives a whole file already in memory (imports, the demo).
    pub fn receive(&self, bytes: &[u8], limit: u64) -> Result<(Received, Staged), ReceiveError> {
        let mut inc = self.incoming(limit)?;
        inc.push(bytes)?;
        inc.finish(self)
    }

    /// Writes bytes under their hash if not already there, and returns the hash. For the
    /// demo's files, which are placed before their rows are seeded.
    pub fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let sha = super::hex(ring::digest::digest(&SHA256, bytes).as_ref());
        let path = self.path_of(&sha);
        if !path.exists() {
            if let Some(parent) = path.parent() {
                crate::fsutil::private_dir(parent)?;
            }
            crate::fsutil::write_private(&path, bytes)?;
        }
        Ok(sha)
    }
}

/// Files received but not yet in the folder.
#[derive(Default)]
pub struct Staged {
    pending: Vec<(NamedTempFile, PathBuf)>,
    created: Vec<PathBuf>,
}

impl Staged {
    pub fn join(&mut self, other: Staged) {
        self.pending.extend(other.pending);
    }

    /// Each received file and its SHA-256, for a home other than the folder.
    pub(crate) fn files(&self) -> impl Iterator<Item = (&NamedTempFile, String)> {
        self.pending.iter().map(|(file, target)| {
            let sha = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (file, sha)
        })
    }
}

impl PlaceFiles for Staged {
    fn place(&mut self) -> io::Result<()> {
        for (file, target) in std::mem::take(&mut self.pending) {
            if target.exists() {
                // Same hash, same bytes: the file is already there; the copy is dropped.
                continue;
            }
            if let Some(parent) = target.parent() {
                crate::fsutil::private_dir(parent)?;
            }
            file.persist_noclobber(&target).map_err(|e| e.error)?;
            self.created.push(target);
        }
        Ok(())
    }

    fn undo(&mut self) {
        for path in self.created.drain(..) {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot remove a media file whose row was not written");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn files_land_under_their_hash_private_and_once() {
        let dir = tempfile::tempdir().unwrap();
        let folder = MediaFolder::open(dir.path()).unwrap();
        let png = b"\x89PNG\r\n\x1a\nrest of the image";
        let (got, mut staged) = folder.receive(png, 1024).unwrap();
        assert_eq!(got.sniffed, Some(ContentType::Png));
        assert_eq!(got.size, png.len() as u64);
        let path = folder.path_of(&got.sha256);
        assert!(!path.exists(), "nothing in place before the row commits");
        staged.place().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), png);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        // The same bytes again: nothing new is created, so undo must not remove the first.
        let (_, mut again) = folder.receive(png, 1024).unwrap();
        again.place().unwrap();
        again.undo();
        assert!(path.exists());
        staged.undo();
        assert!(!path.exists());
        let left: Vec<_> = std::fs::read_dir(dir.path().join(".incoming"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "no temporary file is left behind");
    }

    #[test]
    fn limits_are_enforced_while_receiving() {
        let dir = tempfile::tempdir().unwrap();
        let folder = MediaFolder::open(dir.path()).unwrap();
        assert!(matches!(
            folder.receive(&[0u8; 11], 10),
            Err(ReceiveError::TooLarge { limit: 10 })
        ));
        assert!(matches!(folder.receive(&[], 10), Err(ReceiveError::Empty)));
    }
}
