//! An online copy of a SQLite database while its server runs: SQLite's backup API copies
//! every page in one step, inside one read transaction, so the copy is the database as it
//! stood at one moment, and writers (in WAL mode) never wait for it.

use crate::store::StoreError;
use std::path::Path;
use std::time::Duration;

/// Copies the database at `from` into the new file `to` (mode 0600); refuses a `to` that
/// exists, so a backup never overwrites anything.
pub fn backup(from: &Path, to: &Path) -> Result<(), StoreError> {
    if to.exists() {
        return Err(StoreError::Invalid(format!(
            "{} exists; a backup goes to a new file",
            to.display()
        )));
    }
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let source = rusqlite::Connection::open_with_flags(from, flags)?;
    source.busy_timeout(Duration::from_secs(30))?;
    // Made private before a page of learner data is in it.
    crate::fsutil::write_private(to, b"")
        .map_err(|e| StoreError::failed("cannot create the backup file", e))?;
    let mut target = rusqlite::Connection::open(to)?;
    let copied = rusqlite::backup::Backup::new(&source, &mut target).and_then(|b| {
        use rusqlite::backup::StepResult;
        loop {
            // -1: every page in one step, so no write in between restarts the copy.
            match b.step(-1)? {
                StepResult::Done => return Ok(()),
                // A writer holds a lock for a moment (not in WAL mode): try again.
                StepResult::Busy | StepResult::Locked | StepResult::More => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    if let Err(e) = copied {
        drop(target);
        let _ = std::fs::remove_file(to);
        return Err(e.into());
    }
    // The copy stands alone: no write-ahead log beside it.
    target.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}
