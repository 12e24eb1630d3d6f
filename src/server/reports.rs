//! The Proctored Exam Results report over HTTP: start one for a course (a background job),
//! list Pending Tasks and Reports Available, and fetch a finished one through a signed link
//! that expires (the platform's links last five minutes too).

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::ids::IdPath;
use super::routes::bad_path;
use super::signed;
use crate::api::{ReportList, SignedUrl, report_file_path};
use crate::domain::access::Actor;
use crate::domain::words::Word;
use crate::domain::{Job, JobKind, JobState};
use crate::media::{Purpose, SignedLink};
use crate::review;
use crate::store::Store;
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};

/// What a signed report link answers for.
pub const PURPOSE: Purpose = Purpose::Report;

pub fn router<S: Store>() -> axum::Router<AppState<S>> {
    axum::Router::new()
        .route(
            "/courses/{course_id}/reports",
            post(start::<S>).get(list::<S>),
        )
        .route("/courses/{course_id}/stats", get(stats::<S>))
        .route("/reports/{id}/link", post(link::<S>))
        .route("/reports/{id}/file", get(file::<S>))
}

pub async fn start<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    course: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let Path(course) = course.map_err(bad_path)?;
    review::course_reports(&st.store, &actor, &course).await?;
    let job = st.store.start_report(course, actor.reviewer.id).await?;
    st.kicks.kick(JobKind::Report);
    Ok((StatusCode::ACCEPTED, Json(job)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// How far back the per-reviewer figures count: `7d`, `2w` (default 7d).
    #[serde(default)]
    since: Option<String>,
}

/// `GET /courses/{course_id}/stats`: the team's backlog and pace (admins: any course;
/// reviewers: theirs).
pub async fn stats<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    course: Result<Path<String>, PathRejection>,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Json<crate::domain::stats::TeamStats>, ApiError> {
    let Path(course) = course.map_err(bad_path)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let days = match q.since.as_deref() {
        None => 7,
        Some(s) => crate::domain::stats::parse_window(s).map_err(ApiError::BadRequest)?,
    };
    let now = time::OffsetDateTime::now_utc();
    Ok(Json(
        review::course_stats(&st.store, &actor, &course, days, now).await?,
    ))
}

pub async fn list<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    course: Result<Path<String>, PathRejection>,
) -> Result<Json<ReportList>, ApiError> {
    let Path(course) = course.map_err(bad_path)?;
    review::course_reports(&st.store, &actor, &course).await?;
    let (available, pending) = st
        .store
        .jobs(JobKind::Report, Some(course))
        .await?
        .into_iter()
        .partition(|j| j.state == JobState::Done && j.report.is_some());
    Ok(Json(ReportList { pending, available }))
}

/// A finished report of a course the caller may see, or 404 naming why not.
async fn finished<S: Store>(st: &AppState<S>, actor: &Actor, id: i64) -> Result<Job, ApiError> {
    let job = review::report(&st.store, actor, id).await?;
    if job.report.is_none() {
        return Err(ApiError::NotFound(format!(
            "report {id} is not ready ({})",
            job.state.as_str()
        )));
    }
    Ok(job)
}

pub async fn link<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Result<Json<SignedUrl>, ApiError> {
    finished(&st, &actor, id).await?;
    Ok(Json(signed::issue(
        &st,
        &headers,
        PURPOSE,
        id,
        actor.reviewer.id,
        &report_file_path(id),
    )))
}

pub async fn file<S: Store>(
    State(st): State<AppState<S>>,
    IdPath(id): IdPath,
    link: Result<Query<SignedLink>, QueryRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    let actor = signed::check(&st, PURPOSE, id, link).await?;
    let job = finished(&st, &actor, id).await?;
    let Some(report) = job.report else {
        return Err(ApiError::internal(
            "a finished report job has no file",
            format!("report job {id} is done without a file"),
        ));
    };
    let what = format!("report {id}");
    // The name is ours (sanitized like the platform's), so it is safe in the header.
    let disposition = format!("attachment; filename=\"{}\"", report.name);
    let content_type = "text/csv; charset=utf-8";
    match &st.media.objects {
        Some(objects) => {
            let offer = signed::Offer {
                content_type,
                disposition: &disposition,
                what: &what,
            };
            let key = crate::media::Objects::report_key(id, &report.name);
            signed::serve_object(objects, &key, offer, req).await
        }
        None => {
            let path = crate::jobs::report::folder(&st.reports_dir, id).join(&report.name);
            signed::serve(&path, content_type, &disposition, &what, req).await
        }
    }
}
