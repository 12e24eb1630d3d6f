//! `proctor-review evidence import`: a folder of evidence described by a JSON manifest,
//! checked item by item, then written all together or not at all.

use super::{MediaFolder, Objects, Placement, Staged, describe};
use crate::domain::evidence::MediaMeta;
use crate::domain::{Onboarding, OnboardingStatus, SessionId};
use crate::store::{NewOnboarding, Store};
use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default)]
    pub items: Vec<ManifestItem>,
    #[serde(default)]
    pub onboarding: Vec<ManifestOnboarding>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestItem {
    pub session_id: SessionId,
    /// Relative to the manifest's folder.
    pub file: String,
    pub content_type: String,
    pub kind: String,
    pub offset_start: Option<i64>,
    pub offset_end: Option<i64>,
    pub captured_at: Option<String>,
    pub violation_id: Option<i64>,
    pub scan_result: Option<String>,
    pub face_match_score: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestOnboarding {
    /// Any session of the learner in the course.
    pub session_id: SessionId,
    pub status: String,
    pub started_at: Option<String>,
    pub submitted_at: Option<String>,
    pub verified_at: Option<String>,
}

fn time_of(label: &str, field: &str, v: &Option<String>) -> anyhow::Result<Option<OffsetDateTime>> {
    v.as_deref()
        .map(|t| OffsetDateTime::parse(t, &Rfc3339))
        .transpose()
        .with_context(|| format!("{label}: {field} is not an RFC 3339 time"))
}

fn onboarding_row(i: usize, o: &ManifestOnboarding) -> anyhow::Result<NewOnboarding> {
    let label = format!("onboarding {}", i + 1);
    let status: OnboardingStatus = o
        .status
        .parse()
        .map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
    Ok(NewOnboarding {
        onboarding: Onboarding {
            status,
            started_at: time_of(&label, "started_at", &o.started_at)?,
            submitted_at: time_of(&label, "submitted_at", &o.submitted_at)?,
            verified_at: time_of(&label, "verified_at", &o.verified_at)?,
        },
        label,
        session_id: o.session_id,
    })
}

/// Why a manifest's file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ItemFileError {
    #[error("'{0}' is not a path inside the manifest's folder (no absolute paths, no '..')")]
    Outside(String),
    #[error("'{0}' leads outside the manifest's folder (through a link)")]
    LinksOutside(String),
    #[error("'{0}' is not a regular file")]
    NotAFile(String),
    #[error("'{file}' is more than the limit of {limit} bytes")]
    TooLarge { file: String, limit: u64 },
    #[error("cannot read '{file}': {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

/// Reads `file` (as the manifest names it) from the manifest's folder `base` (canonical):
/// only a relative path without `..`, which after following links is still inside `base`,
/// a regular file (a FIFO or a device would hang or never end), and at most `limit` bytes
/// read whatever its metadata says.
pub fn read_inside(base: &Path, file: &str, limit: u64) -> Result<Vec<u8>, ItemFileError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Component;
    let named = Path::new(file);
    if file.is_empty()
        || !named
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(ItemFileError::Outside(file.to_owned()));
    }
    let read = |source| ItemFileError::Read {
        file: file.to_owned(),
        source,
    };
    let real = std::fs::canonicalize(base.join(named)).map_err(read)?;
    if !real.starts_with(base) {
        return Err(ItemFileError::LinksOutside(file.to_owned()));
    }
    // Not following a link here keeps the file the one just checked; not blocking keeps a
    // FIFO from holding the import until a writer comes.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&real)
        .map_err(read)?;
    if !f.metadata().map_err(read)?.is_file() {
        return Err(ItemFileError::NotAFile(file.to_owned()));
    }
    let mut bytes = Vec::new();
    f.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > limit {
        return Err(ItemFileError::TooLarge {
            file: file.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

pub async fn run<S: Store>(
    store: &S,
    folder: &MediaFolder,
    objects: Option<&Objects>,
    manifest_path: &Path,
    limit: u64,
) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(manifest_path)
        .with_context(|| format!("cannot read the manifest {}", manifest_path.display()))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("invalid manifest {}", manifest_path.display()))?;
    if manifest.items.is_empty() && manifest.onboarding.is_empty() {
        bail!(
            "the manifest {} lists nothing to import",
            manifest_path.display()
        );
    }
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    let base = std::fs::canonicalize(if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    })
    .with_context(|| format!("cannot read the manifest's folder {}", base.display()))?;
    let mut records = Vec::with_capacity(manifest.items.len());
    let mut staged = Staged::default();
    for (i, item) in manifest.items.iter().enumerate() {
        let label = format!("item {} ({})", i + 1, item.file);
        let bytes =
            read_inside(&base, &item.file, limit).map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
        let (got, one) = folder
            .receive(&bytes, limit)
            .map_err(|e| anyhow::anyhow!("{label}: {e}"))?;
        let meta = MediaMeta {
            kind: item.kind.clone(),
            offset_start: item.offset_start,
            offset_end: item.offset_end,
            captured_at: item.captured_at.clone(),
            violation_id: item.violation_id,
            scan_result: item.scan_result.clone(),
            face_match_score: item.face_match_score,
        };
        records.push(
            describe(&label, item.session_id, &meta, &item.content_type, &got)
                .map_err(|r| anyhow::anyhow!("{r}"))?,
        );
        staged.join(one);
    }
    let onboarding = manifest
        .onboarding
        .iter()
        .enumerate()
        .map(|(i, o)| onboarding_row(i, o))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (files, rows) = (records.len(), onboarding.len());
    let placed = Placement::of(staged, objects)
        .await
        .context("cannot put the files in the object store; nothing was imported")?;
    let added = store
        .add_evidence(records, onboarding, placed)
        .await
        .context("nothing was imported")?;
    // A server draws the videos' stills before anyone asks (a queued job it finds by itself).
    let mut queued = 0;
    for video in added.iter().filter(|m| m.kind.is_video()) {
        match store.draw_frames(video.id, false).await {
            Ok(_) => queued += 1,
            Err(e) => tracing::warn!(media = video.id, error = %e, "cannot queue a video's stills"),
        }
    }
    let into = match objects {
        Some(o) => o.shown().to_owned(),
        None => folder.dir().display().to_string(),
    };
    Ok(format!(
        "imported {files} evidence file(s) and {rows} onboarding record(s) into {into}; stills of {queued} video(s) queued for the server to draw"
    ))
}
