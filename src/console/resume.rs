//! Where the reviewer was when they quit — exam, filter, sort, search, session, pane — kept
//! per server in the data directory, so the next run starts there. The file holds search
//! text and session ids, so it is the owner's alone (0600) like every file of learner data.

use super::state::Place;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The places file and this run's server in it.
#[derive(Debug, Clone)]
pub struct Places {
    pub file: PathBuf,
    /// The server's address, or "embedded demo" (its address changes every run).
    pub server: String,
}

impl Places {
    pub fn new(data_dir: &Path, server: impl Into<String>) -> Self {
        Self {
            file: data_dir.join("places.json"),
            server: server.into(),
        }
    }

    /// The place saved for this server. A missing or unreadable file is a fresh start,
    /// never an error that keeps the console from opening.
    pub fn load(&self) -> Option<Place> {
        let mut all = self.read_all();
        all.remove(&self.server)
    }

    pub fn save(&self, place: &Place) -> std::io::Result<()> {
        let mut all = self.read_all();
        all.insert(self.server.clone(), place.clone());
        let json = serde_json::to_vec_pretty(&all).map_err(std::io::Error::other)?;
        crate::fsutil::write_private(&self.file, &json)
    }

    fn read_all(&self) -> BTreeMap<String, Place> {
        match std::fs::read(&self.file) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(file = %self.file.display(), error = %e, "ignoring an unreadable places file");
                BTreeMap::new()
            }),
            Err(_) => BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::SortKey;
    use crate::console::state::SavedPane;
    use crate::domain::ExamId;
    use std::os::unix::fs::PermissionsExt;

    fn place(exam: Option<ExamId>) -> Place {
        Place {
            exam,
            attention_only: true,
            sort: SortKey::Violations,
            desc: true,
            search: "ana".into(),
            session: Some(11),
            focus: SavedPane::Sessions,
        }
    }

    #[test]
    fn each_server_keeps_its_own_place_in_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = Places::new(dir.path(), "https://a.example.edu");
        let b = Places::new(dir.path(), "embedded demo");
        assert_eq!(a.load(), None);
        a.save(&place(Some(3))).unwrap();
        b.save(&place(None)).unwrap();
        assert_eq!(a.load(), Some(place(Some(3))));
        assert_eq!(b.load(), Some(place(None)));
        let mode = std::fs::metadata(&a.file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&a.file, "{not json").unwrap();
        assert_eq!(a.load(), None, "a broken file is a fresh start");
    }
}
