//! The proctoring-provider REST API that edx-proctoring's REST backend (Proctortrack) calls,
//! under `/provider`: the operator sets `base_url` to `https://<our host>/provider`. The LMS
//! gets a short-lived token from our client-credentials endpoint and sends it on every call;
//! exams and attempts it registers become our exams and sessions, keyed by the ids we return.

use super::AppState;
use super::error::ApiError;
use crate::domain::AttemptStatus;
use crate::domain::words::Word;
use crate::lms::jwt;
use crate::media::Purpose;
use crate::store::{LmsAttempt, LmsClient, LmsExam, Store};
use axum::extract::{FromRequestParts, Path, Query, RawForm, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use time::OffsetDateTime;

/// How long a token we issue to an LMS lasts. edx-rest-api-client caches it for about this
/// long, so it is asked for again every few minutes.
const TOKEN_SECS: i64 = 600;

pub fn router<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/edx/oauth2/access_token", post(token::<S>))
        .route("/api/v1/config/", get(config))
        .route("/api/v1/exam/", post(create_exam::<S>))
        .route(
            "/api/v1/exam/{exam}/",
            post(update_exam::<S>).get(get_exam::<S>),
        )
        .route("/api/v1/exam/{exam}/attempt/", post(register_attempt::<S>))
        .route(
            "/api/v1/exam/{exam}/attempt/{attempt}/",
            get(get_attempt::<S>)
                .patch(patch_attempt::<S>)
                .delete(delete_attempt::<S>),
        )
        .route("/api/v1/user/{user}/", delete(retire_user::<S>))
        .route("/api/v1/courses/{*rest}", get(onboarding_statuses::<S>))
        .route("/launch/edx/instructor/{client}/", get(launch::<S>))
        .route("/api/v1/instructor/{client}/", get(launch::<S>))
}

fn token_text(client: &str, expires: i64) -> String {
    format!("{}\n{client}\n{expires}", Purpose::LmsToken.as_str())
}

/// The LMS client a request's token was issued to.
pub struct LmsAuthed(pub LmsClient);

impl<S: Store> FromRequestParts<AppState<S>> for LmsAuthed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or_else(|| {
                ApiError::Unauthorized("missing token: send 'Authorization: JWT <token>'".into())
            })?;
        let token = header
            .strip_prefix("JWT ")
            .or_else(|| header.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::Unauthorized("expected 'Authorization: JWT <token>'".into())
            })?;
        // expires.tag.client — the client id last, as it may contain dots.
        let mut parts = token.splitn(3, '.');
        let (Some(expires), Some(tag), Some(client)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(ApiError::Unauthorized(
                "not a token issued by this server".into(),
            ));
        };
        let expires: i64 = expires
            .parse()
            .map_err(|_| ApiError::Unauthorized("not a token issued by this server".into()))?;
        if !state
            .media
            .key
            .check_tag(Purpose::LmsToken, &token_text(client, expires), tag)
        {
            return Err(ApiError::Unauthorized(
                "not a token issued by this server".into(),
            ));
        }
        if OffsetDateTime::now_utc().unix_timestamp() >= expires {
            return Err(ApiError::Unauthorized(
                "the token has expired; ask for a new one".into(),
            ));
        }
        let found = state.store.lms_client(client.to_owned()).await?;
        found.map(LmsAuthed).ok_or_else(|| {
            ApiError::Unauthorized("the token's client is no longer configured".into())
        })
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// OAuth2 client credentials: the LMS's `client_id` and `client_secret`, in the form body
/// or as HTTP Basic auth (edx-rest-api-client sends the form).
async fn token<S: Store>(
    State(st): State<AppState<S>>,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        );
    }
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())));
    let (id, secret) = match (form.get("client_id"), form.get("client_secret"), basic) {
        (Some(id), Some(secret), _) => (id.clone(), secret.clone()),
        (_, _, Some(pair)) => pair,
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "send client_id and client_secret",
            );
        }
    };
    let client = match st.store.lms_client(id.clone()).await {
        Ok(c) => c,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // Comparing digests keeps the comparison's timing from telling how much of a guess was right.
    let digest = |s: &str| ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    let known =
        client.is_some_and(|c| digest(&c.client_secret).as_ref() == digest(&secret).as_ref());
    if !known {
        tracing::warn!(client = %crate::domain::text::printable(&id), "LMS token refused");
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    let expires = OffsetDateTime::now_utc().unix_timestamp() + TOKEN_SECS;
    let tag = st
        .media
        .key
        .tag(Purpose::LmsToken, &token_text(&id, expires));
    Json(json!({
        "access_token": format!("{expires}.{tag}.{id}"),
        "token_type": "JWT",
        "expires_in": TOKEN_SECS,
        "scope": "read write",
    }))
    .into_response()
}

/// What edx-proctoring shows learners about us (`get_proctoring_config`).
async fn config(_: LmsAuthed) -> Json<Value> {
    Json(json!({
        "name": "proctor-review",
        "download_url": "",
        "rules": {
            "allow_notes": "Allow paper notes",
            "allow_multiple_monitors": "Allow a second monitor",
        },
        "instructions": [
            "Keep your face in view of the webcam for the whole exam.",
            "Stay alone in the room; no phone, notes or second screen unless allowed.",
        ],
    }))
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed request body: {e}")))
}

async fn create_exam<S: Store>(
    State(st): State<AppState<S>>,
    LmsAuthed(client): LmsAuthed,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let exam: LmsExam = body(&bytes)?;
    let id = st.store.lms_save_exam(client.client_id, exam).await?;
    Ok(Json(json!({ "id": id })))
}

async fn update_exam<S: Store>(
    State(st): State<AppState<S>>,
    LmsAuthed(client): LmsAuthed,
    Path(exam_id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut exam: LmsExam = body(&bytes)?;
    exam.external_id = Some(exam_id);
    let id = st.store.lms_save_exam(client.client_id, exam).await?;
    Ok(Json(json!({ "id": id })))
}

async fn get_exam<S: Store>(
    _: State<AppState<S>>,
    _: LmsAuthed,
    Path(exam_id): Path<String>,
) -> Json<Value> {
    Json(json!({ "id": exam_id, "rules": {} }))
}

async fn register_attempt<S: Store>(
    State(st): State<AppState<S>>,
    LmsAuthed(client): LmsAuthed,
    Path(exam_id): Path<String>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let attempt: LmsAttempt = body(&bytes)?;
    let id = st
        .store
        .lms_register_attempt(client.client_id, exam_id, attempt)
        .await?;
    Ok(Json(json!({ "id": id, "status": "created" })))
}

async fn get_attempt<S: Store>(
    State(st): State<AppState<S>>,
    LmsAuthed(client): LmsAuthed,
    Path((exam, attempt)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let status = st
        .store
        .lms_attempt(client.client_id, exam, attempt.clone())
        .await?;
    Ok(Json(json!({
        "id": attempt,
        "status": status.as_str(),
        "instructions": [],
        "download_url": "",
    })))
}

#[derive(Deserialize)]
struct StatusPatch {
    status: String,
}

async fn patch_attempt<S: Store>(
    State(st): State<AppState<S>>,
    LmsAuthed(client): LmsAuthed,
    Path((exam, attempt)): Path<(String, String)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let patch: StatusPatch = body(&bytes)?;
    let status = match patch.status.as_str() {
        "started" => AttemptStatus::Started,
        "submitted" => AttemptStatus::Submitted,
        "error" => AttemptStatus::Error,
        other => {
            return Err(ApiError::BadRequest(format!(
                "status '{}' is not one of started, submitted, error",
                crate::domain::text::printable(other)
            )));
        }
    };
    st.store
        .lms_set_attempt_status(client.client_id, exam, attempt.clone(), status)
        .await?;
    Ok(Json(json!({ "id": attempt, "status": status.as_str() })))
}

async fn delete_attempt<S: Store>(
    State(st): State<AppState<S>>,
    LmsAuthed(client): LmsAuthed,
    Path((exam, attempt)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    st.store
        .lms_delete_attempt(client.client_id, exam, attempt)
        .await?;
    Ok(Json(json!({ "status": "deleted" })))
}

/// GDPR retirement: the learner's personal data and evidence go; anonymous decision
/// counts stay. Answers `true`, or `false` for a learner we never saw.
async fn retire_user<S: Store>(
    State(st): State<AppState<S>>,
    LmsAuthed(client): LmsAuthed,
    Path(user): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let Some(unused) = st.store.lms_retire_user(client.client_id, user).await? else {
        return Ok(Json(json!(false)));
    };
    // A file that cannot be removed now stays listed; the next retention run retries it.
    let shelf = st.media.drawing().shelf;
    for sha in unused {
        crate::jobs::retention::remove_file(&st.store, &shelf, &sha).await?;
    }
    tracing::info!("a learner was retired");
    Ok(Json(json!(true)))
}

#[derive(Deserialize)]
struct OnboardingQuery {
    user_id: Option<String>,
    status: Option<String>,
    page: Option<usize>,
    page_size: Option<usize>,
}

/// Onboarding in the provider-profile vocabulary edx-proctoring reads (statuses.py
/// L275-330): one learner (`?user_id=`) or a page of the course; a learner we have no
/// onboarding for is `no-profile`.
async fn onboarding_statuses<S: Store>(
    State(st): State<AppState<S>>,
    LmsAuthed(client): LmsAuthed,
    Path(rest): Path<String>,
    Query(q): Query<OnboardingQuery>,
) -> Result<Json<Value>, ApiError> {
    let Some(course) = rest.strip_suffix("/onboarding_statuses") else {
        return Err(ApiError::NotFound("no such endpoint".into()));
    };
    let rows = st
        .store
        .lms_onboarding(client.client_id, course.to_owned(), q.user_id.clone())
        .await?;
    let item = |o: &crate::store::LmsOnboarding| {
        let expires = o.onboarding.expires_at().and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
        json!({
            "user_id": o.user_id,
            "status": crate::domain::lms::profile_status(o.onboarding.status),
            "expiration_date": expires,
        })
    };
    if let Some(user) = q.user_id {
        return Ok(Json(match rows.first() {
            Some(o) => item(o),
            None => json!({"user_id": user, "status": "no-profile", "expiration_date": null}),
        }));
    }
    let wanted: Option<Vec<&str>> = q.status.as_deref().map(|s| s.split(',').collect());
    let items: Vec<Value> = rows
        .iter()
        .map(item)
        .filter(|v| {
            wanted
                .as_ref()
                .is_none_or(|w| w.iter().any(|s| v["status"] == *s))
        })
        .collect();
    let size = q.page_size.unwrap_or(25).clamp(1, 500);
    let pages = items.len().div_ceil(size);
    let page = q.page.unwrap_or(1).max(1);
    let results: Vec<Value> = items
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    Ok(Json(json!({
        "results": results,
        "count": items.len(),
        "num_pages": pages,
        "next": (page < pages).then_some(page + 1),
        "previous": (page > 1).then_some(page - 1),
    })))
}

#[derive(Deserialize)]
struct LaunchQuery {
    jwt: Option<String>,
}

fn html_escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '&' => "&amp;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

/// Shell-quotes for the command the page shows.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The instructor-dashboard launch: edx-proctoring redirects course staff here with an HS256
/// JWT (60 s) signed with the client secret. There is no web dashboard; the page says how to
/// open this course, exam or attempt in the console.
async fn launch<S: Store>(
    State(st): State<AppState<S>>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<LaunchQuery>,
) -> Result<Response, ApiError> {
    let refuse = |msg: String| {
        (
            StatusCode::FORBIDDEN,
            Html(format!(
                "<!doctype html><title>proctor-review</title><h1>Launch refused</h1><p>{}</p>",
                html_escape(&msg)
            )),
        )
            .into_response()
    };
    let Some(client) = st.store.lms_client(client_id.clone()).await? else {
        return Ok(refuse("this server knows no such Open edX client".into()));
    };
    let Some(token) = q.jwt else {
        return Ok(refuse("the link carries no launch token".into()));
    };
    let claims = match jwt::verify(
        &token,
        client.client_secret.as_bytes(),
        &client.client_id,
        OffsetDateTime::now_utc(),
    ) {
        Ok(c) => c,
        Err(e) => {
            return Ok(refuse(format!(
                "{e}; open the Review Dashboard again from Open edX"
            )));
        }
    };
    let course = claims
        .get("course_id")
        .and_then(Value::as_str)
        .unwrap_or("");
    let attempt = claims.get("attempt_id").and_then(Value::as_str);
    let who = claims
        .pointer("/user/full_name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let cmd = format!(
        "PROCTOR_REVIEW_TOKEN=<your token> proctor-review --server {}",
        sh_quote(&super::signed::origin(&st, &headers))
    );
    let target = match attempt {
        Some(a) => format!(
            "attempt {a}: choose course {course} in the Quiz List, then press / and type the learner's name or email"
        ),
        None => format!("course {course}: choose it in the Quiz List"),
    };
    Ok(Html(format!(
        "<!doctype html><meta charset=utf-8><title>proctor-review</title>\
         <h1>Review in the terminal</h1>\
         <p>Hello {who}. Sessions are reviewed in the proctor-review console. Run:</p>\
         <pre>{cmd}</pre><p>and open {target}.</p>\
         <p>Ask your proctor-review administrator for a token (<code>proctor-review reviewer add</code>) if you have none.</p>",
        who = html_escape(who),
        target = html_escape(&target),
        cmd = html_escape(&cmd),
    ))
    .into_response())
}
