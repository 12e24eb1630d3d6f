//! Asking for a course's report and bringing it home: start the job (or join the one
//! already running), follow its progress, then download it through a fresh signed link.

use super::{ApiClient, ClientError};
use crate::domain::{Job, JobState};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ReportFetchError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the report failed on the server: {0}")]
    Failed(String),
    #[error("cannot save the report: {0}")]
    Io(#[from] std::io::Error),
}

/// Starts the report, or finds the one already being made for the course.
pub async fn start(client: &ApiClient, course: &str) -> Result<Job, ClientError> {
    match client.start_report(course).await {
        Err(ClientError::Conflict(msg)) => client
            .reports(course)
            .await?
            .pending
            .into_iter()
            .find(|j| j.state.pending())
            .ok_or(ClientError::Conflict(msg)),
        other => other,
    }
}

/// Waits for job `id` to finish, telling `progress` how far it is.
pub async fn wait(
    client: &ApiClient,
    course: &str,
    id: i64,
    mut progress: impl FnMut(&Job),
) -> Result<Job, ReportFetchError> {
    loop {
        let list = client.reports(course).await?;
        if let Some(job) = list.available.iter().find(|j| j.id == id) {
            progress(job);
            return Ok(job.clone());
        }
        match list.pending.iter().find(|j| j.id == id) {
            Some(j) if j.state == JobState::Failed => {
                return Err(ReportFetchError::Failed(
                    j.last_error
                        .clone()
                        .unwrap_or_else(|| "no reason given".into()),
                ));
            }
            Some(j) => progress(j),
            None => {
                return Err(ReportFetchError::Client(ClientError::NotFound(format!(
                    "report {id} is no longer listed"
                ))));
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Downloads a finished report into `dir` under its own name (mode 0600, written aside and
/// renamed when complete); returns the path.
pub async fn download(
    client: &ApiClient,
    job: &Job,
    dir: &Path,
) -> Result<PathBuf, ReportFetchError> {
    let name = job
        .report
        .as_ref()
        .map(|r| r.name.clone())
        .ok_or_else(|| ReportFetchError::Failed(format!("report {} has no file", job.id)))?;
    // The name comes from the server: keep only its last component.
    let name = Path::new(&name)
        .file_name()
        .map(|n| n.to_owned())
        .ok_or_else(|| ReportFetchError::Failed("the report's name is not a file name".into()))?;
    crate::fsutil::private_dir(dir)?;
    let link = client.report_link(job.id).await?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    client
        .stream_signed(&link.url, |chunk| file.write_all(chunk))
        .await?;
    file.as_file().sync_all()?;
    let path = dir.join(name);
    file.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}
