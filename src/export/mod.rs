//! Export Data, on the reviewer's machine: one session's evidence and data in a folder of
//! its own, or the Sessions table as it is filtered and sorted now. Every path component
//! that comes from data is sanitized, files are 0600 and folders 0700, and a folder is
//! replaced as a whole (written aside, then renamed) so a half-written export never stands.
//!
//! May use: `client`, `report`, `api`, `domain`.

use crate::api::{MAX_PAGE, SessionQuery};
use crate::client::{ApiClient, ClientError};
use crate::domain::text::clock;
use crate::domain::words::Word;
use crate::domain::{ExamId, MediaKind, SessionDetail, SessionRow};
use crate::report::neutralize;
use std::path::{Path, PathBuf};

/// Still images are exported; video segments stay on the server (`o` opens them).
const MAX_IMAGE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write the export: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write the export: {0}")]
    Json(#[from] serde_json::Error),
}

/// A file or folder name made from data: letters and digits of any script, `-`, `_`, `.`;
/// spaces become `_`; no leading dot; never empty; at most 80 characters. `../../etc`
/// becomes `etc`, so nothing can leave the export folder.
pub fn component(s: &str) -> String {
    let kept: String = s
        .trim()
        .chars()
        .map(|c| if c == ' ' { '_' } else { c })
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let kept = kept.trim_start_matches('.');
    let cut: String = kept.chars().take(80).collect();
    if cut.is_empty() { "_".to_owned() } else { cut }
}

/// `<export dir>/<course>/<exam>/<username>-<attempt_code>/`
pub fn session_dir(root: &Path, d: &SessionDetail) -> PathBuf {
    root.join(component(&d.course_id))
        .join(component(&d.exam_name))
        .join(component(&format!(
            "{}-{}",
            d.row.learner.username, d.attempt_code
        )))
}

fn extension(m: &crate::domain::MediaItem) -> &'static str {
    match m.content_type {
        crate::domain::ContentType::Png => "png",
        crate::domain::ContentType::Jpeg => "jpg",
        crate::domain::ContentType::Webm => "webm",
        crate::domain::ContentType::Mp4 => "mp4",
    }
}

fn image_name(m: &crate::domain::MediaItem) -> String {
    format!("{}-{}.{}", m.kind.as_str(), m.id, extension(m))
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::fsutil::write_private(path, bytes)
}

/// A clip file's name: the violation it shows first, so the folder lists in its order.
fn clip_name(m: &crate::domain::MediaItem) -> String {
    format!(
        "clip-{}-{}.{}",
        m.violation_id.unwrap_or_default(),
        m.id,
        extension(m)
    )
}

/// Exports one session (its violation clips too with `clips`); `progress(done, total)`
/// after each file. Returns the folder.
pub async fn session(
    client: &ApiClient,
    d: &SessionDetail,
    root: &Path,
    clips: bool,
    mut progress: impl FnMut(usize, usize),
) -> Result<PathBuf, ExportError> {
    let target = session_dir(root, d);
    let parent = target.parent().unwrap_or(root).to_owned();
    crate::fsutil::private_dir(&parent)?;
    // Written aside in the same folder, so the final rename cannot cross file systems.
    let staging = tempfile::Builder::new()
        .prefix(".export-")
        .tempdir_in(&parent)?;
    let images: Vec<_> = d
        .media
        .iter()
        .filter(|m| m.kind != MediaKind::Video)
        .collect();
    let videos: Vec<_> = d
        .media
        .iter()
        .filter(|m| clips && m.kind == MediaKind::Video && m.violation_id.is_some())
        .collect();
    let total = images.len() + videos.len() + 2;
    for (i, m) in images.iter().enumerate() {
        let link = client.media_link(m.id).await?;
        let bytes = client.fetch_signed(&link.url, MAX_IMAGE_BYTES).await?;
        write_file(&staging.path().join(image_name(m)), &bytes)?;
        progress(i + 1, total);
    }
    for (i, m) in videos.iter().enumerate() {
        // Clips can be large: streamed to the (0600) file, not held in memory.
        let link = client.media_link(m.id).await?;
        let mut file = crate::fsutil::append_private(&staging.path().join(clip_name(m)))?;
        client
            .stream_signed(&link.url, |chunk| {
                std::io::Write::write_all(&mut file, chunk)
            })
            .await?;
        progress(images.len() + i + 1, total);
    }

    let mut csv = crate::report::writer(Vec::new());
    csv.write_record(["start", "stop", "kind", "status", "comment", "image"])?;
    for v in &d.violations {
        let image = d.screenshot_of(v.id).map(image_name).unwrap_or_default();
        csv.write_record([
            clock(v.start_time),
            clock(v.stop_time),
            v.kind.as_str().to_owned(),
            neutralize(&v.status).into_owned(),
            neutralize(&v.comment).into_owned(),
            image,
        ])?;
    }
    let bytes = csv
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    write_file(&staging.path().join("violations.csv"), &bytes)?;
    progress(total - 1, total);
    write_file(
        &staging.path().join("session.json"),
        &serde_json::to_vec_pretty(d)?,
    )?;
    progress(total, total);

    // Replace as a whole: the old folder steps aside, the new one takes its name.
    let staged = staging.keep();
    std::fs::set_permissions(&staged, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let old = parent.join(format!(".old-{}", std::process::id()));
    let had_old = target.exists();
    if had_old {
        std::fs::rename(&target, &old)?;
    }
    if let Err(e) = std::fs::rename(&staged, &target) {
        if had_old {
            let _ = std::fs::rename(&old, &target);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e.into());
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(target)
}

/// The Sessions table's columns: the status in the console's words and as stored, and
/// what a head of assessment sorts by.
pub const TABLE_HEADER: [&str; 16] = [
    "status",
    "status_code",
    "review_status",
    "learner",
    "username",
    "email",
    "exam",
    "course",
    "violations",
    "grade",
    "grade_possible",
    "reviewed_by",
    "decided_at",
    "started_at",
    "completed_at",
    "duration_secs",
];

/// Which list a table export reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOf {
    Exam(ExamId),
    /// Require Attention across every exam the reviewer may see.
    Queue,
}

/// Exam names and courses by exam id, for the rows' exam and course columns.
pub type ExamNames = std::collections::HashMap<ExamId, (String, String)>;

fn table_row(r: &SessionRow, exams: &ExamNames) -> [String; 16] {
    let t = |t: Option<time::OffsetDateTime>| t.map(crate::report::py_datetime).unwrap_or_default();
    let (exam, course) = exams
        .get(&r.exam_id)
        .map_or(("", ""), |(e, c)| (e.as_str(), c.as_str()));
    [
        r.status.label().to_owned(),
        r.status.as_str().to_owned(),
        r.review_status
            .map(|s| s.as_str())
            .unwrap_or_default()
            .to_owned(),
        neutralize(&r.learner.full_name).into_owned(),
        neutralize(&r.learner.username).into_owned(),
        neutralize(&r.learner.email).into_owned(),
        neutralize(exam).into_owned(),
        neutralize(course).into_owned(),
        r.violation_count.to_string(),
        r.grade
            .map(|g| crate::domain::trim_float(g.earned))
            .unwrap_or_default(),
        r.grade
            .map(|g| crate::domain::trim_float(g.possible))
            .unwrap_or_default(),
        neutralize(r.reviewed_by.as_deref().unwrap_or_default()).into_owned(),
        t(r.decided_at),
        t(r.started_at),
        t(r.completed_at),
        r.duration_secs().map(|s| s.to_string()).unwrap_or_default(),
    ]
}

/// "1 row", "2 rows".
pub fn rows_said(n: u64) -> String {
    if n == 1 {
        "1 row".to_owned()
    } else {
        format!("{n} rows")
    }
}

/// Exports every row of a list under `query` (all pages, in its order) to `path`.
pub async fn table(
    client: &ApiClient,
    of: TableOf,
    exams: &ExamNames,
    query: &SessionQuery,
    path: &Path,
) -> Result<u64, ExportError> {
    if let Some(dir) = path.parent() {
        crate::fsutil::private_dir(dir)?;
    }
    let mut csv = crate::report::writer(Vec::new());
    csv.write_record(TABLE_HEADER)?;
    let mut q = SessionQuery {
        offset: 0,
        limit: MAX_PAGE,
        ..query.clone()
    };
    let mut n = 0;
    loop {
        let page = match of {
            TableOf::Exam(exam) => client.sessions(exam, &q).await?,
            TableOf::Queue => client.queue(&q).await?,
        };
        for r in &page.items {
            csv.write_record(table_row(r, exams))?;
        }
        n += page.items.len() as u64;
        // Each page starts after the last row read, so rows that move while the export
        // runs are neither skipped nor written twice by an offset shifting under it.
        match page.next {
            Some(next) if !page.items.is_empty() => q.after = next,
            _ => break,
        }
    }
    let bytes = csv
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    write_file(path, &bytes)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::component;

    #[test]
    fn names_from_data_cannot_leave_the_export_folder() {
        assert_eq!(component("../../etc"), "etc");
        assert_eq!(component("/etc/passwd"), "etcpasswd");
        assert_eq!(component(".hidden"), "hidden");
        assert_eq!(component(".."), "_");
        assert_eq!(component(""), "_");
        assert_eq!(
            component("course-v1:MITx+6.0001x+2026_Fall"),
            "course-v1MITx6.0001x2026_Fall"
        );
        assert_eq!(component("Midterm Exam"), "Midterm_Exam");
        assert_eq!(component("陈静 \u{1b}[2J"), "陈静_2J");
        assert_eq!(component(&"x".repeat(300)).len(), 80);
    }
}
