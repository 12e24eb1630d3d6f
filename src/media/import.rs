//! `proctor-review evidence import`: a folder of evidence described by a JSON manifest,
//! checked item by item, then written all together or not at all.

use super::{MediaFolder, Objects, Placement, Staged, describe};
use crate::api::MediaMeta;
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
    let mut records = Vec::with_capacity(manifest.items.len());
    let mut staged = Staged::default();
    for (i, item) in manifest.items.iter().enumerate() {
        let label = format!("item {} ({})", i + 1, item.file);
        let path = base.join(&item.file);
        let size = std::fs::metadata(&path)
            .with_context(|| format!("{label}: cannot read {}", path.display()))?
            .len();
        if size > limit {
            bail!("{label}: {size} bytes is more than the limit of {limit}");
        }
        let bytes = std::fs::read(&path)
            .with_context(|| format!("{label}: cannot read {}", path.display()))?;
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
    store
        .add_evidence(records, onboarding, placed)
        .await
        .context("nothing was imported")?;
    let into = match objects {
        Some(o) => o.shown().to_owned(),
        None => folder.dir().display().to_string(),
    };
    Ok(format!(
        "imported {files} evidence file(s) and {rows} onboarding record(s) into {into}"
    ))
}
