//! The report job: rows stream from the database through the CSV writer into a file written
//! aside in the job's own folder, renamed (0600) only when complete. Progress is recorded as
//! it goes; a failure leaves no partial report behind.

use super::{JobHandler, JobSettings, Outcome, Work};
use crate::domain::JobKind;
use crate::domain::{Job, ReportFile};
use crate::report;
use crate::store::Store;
use crate::store::{ClaimedJob, StoreError};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::NamedTempFile;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the report job has no course")]
    NoCourse,
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot read the course's attempts: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// The folder that holds a job's report.
pub fn folder(reports_dir: &Path, job: i64) -> PathBuf {
    reports_dir.join(job.to_string())
}

type Csv = csv::Writer<BufWriter<NamedTempFile>>;

pub async fn build<S: Store>(
    store: &S,
    settings: &JobSettings,
    job: &Job,
) -> Result<ReportFile, ReportError> {
    let course = job.course_id.clone().ok_or(ReportError::NoCourse)?;
    let started = job.started_at.unwrap_or(job.created);
    let name = report::file_name(&course, started);
    let dir = folder(&settings.reports_dir, job.id);
    crate::fsutil::private_dir(&dir)?;
    let mut result = write(store, settings, job, &course, &dir, &name).await;
    if let (Ok(_), Some(objects)) = (&result, &settings.objects) {
        let key = crate::media::Objects::report_key(job.id, &name);
        if let Err(e) = objects.put_file(&key, &dir.join(&name)).await {
            result = Err(ReportError::Io(e));
        }
    }
    // A failed report leaves nothing; one in the object store is served from there only.
    if result.is_err() || settings.objects.is_some() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn write<S: Store>(
    store: &S,
    settings: &JobSettings,
    job: &Job,
    course: &str,
    dir: &Path,
    name: &str,
) -> Result<ReportFile, ReportError> {
    let total = store.report_size(course.to_owned()).await?.max(1);
    // NamedTempFile is 0600 and removed if anything below fails.
    let mut csv: Csv = report::writer(BufWriter::with_capacity(
        256 * 1024,
        NamedTempFile::new_in(dir)?,
    ));
    csv.write_record(report::HEADER)
        .map_err(std::io::Error::other)?;
    let csv = Arc::new(Mutex::new(Some(csv)));
    let done = Arc::new(AtomicU64::new(0));

    let progress = {
        let (store, done, id) = (store.clone(), done.clone(), job.id);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let n = done.load(Ordering::Relaxed);
                let _ = store.job_progress(id, n as f64 / total as f64).await;
            }
        })
    };
    let raw = settings.raw_cells;
    let rows = {
        let (csv, done) = (csv.clone(), done.clone());
        store
            .report_rows(course.to_owned(), move |row| {
                let mut guard = csv.lock().map_err(|_| "report writer poisoned")?;
                let w = guard.as_mut().ok_or("report writer gone")?;
                w.write_record(report::cells(&row, raw).iter().map(|c| c.as_bytes()))?;
                done.fetch_add(1, Ordering::Relaxed);
                Ok(())
            })
            .await
    };
    progress.abort();
    let rows = rows?;
    let csv = csv
        .lock()
        .ok()
        .and_then(|mut g| g.take())
        .ok_or_else(|| std::io::Error::other("report writer gone"))?;
    let file = tokio::task::spawn_blocking(move || -> std::io::Result<NamedTempFile> {
        let mut buf = csv
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        buf.flush()?;
        let file = buf.into_inner().map_err(|e| e.into_error())?;
        file.as_file().sync_all()?;
        Ok(file)
    })
    .await
    .map_err(std::io::Error::other)??;
    let size = file.as_file().metadata()?.len();
    file.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(ReportFile {
        name: name.to_owned(),
        size,
        rows,
    })
}

/// The Proctored Exam Results report of a course.
pub struct Reports;

impl<S: Store> JobHandler<S> for Reports {
    fn kind(&self) -> JobKind {
        JobKind::Report
    }

    fn run<'a>(&'a self, work: &'a Work<S>, job: ClaimedJob) -> Outcome<'a> {
        Box::pin(run(work, job))
    }
}

async fn run<S: Store>(work: &Work<S>, c: ClaimedJob) -> Result<(), StoreError> {
    let (store, settings) = (&work.store, &*work.settings);
    let job = c.job;
    match build(store, settings, &job).await {
        Ok(file) => {
            let result = serde_json::to_string::<ReportFile>(&file).ok();
            tracing::info!(job = job.id, rows = file.rows, "report ready");
            store.job_done(job.id, result).await
        }
        Err(e) => {
            tracing::error!(job = job.id, error = %e, "report failed");
            store.job_failed(job.id, e.to_string()).await
        }
    }
}
