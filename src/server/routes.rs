//! Route handlers. They parse input, call the application layer (`review`) and shape
//! answers; who may do what, and the decision rules, live below them.

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::ids::{IdPath, SessionPath};
use super::query::StrictQuery;
use crate::api::{ChangeKind, DecisionRequest, Me, Page, SessionQuery};
use crate::domain::lms::AutomatedReview;
use crate::domain::words::Word;
use crate::domain::{CourseSummary, Role, SessionDetail, SessionRow};
use crate::review::{self, DecisionInput};
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use time::OffsetDateTime;

pub(super) fn bad_path(r: PathRejection) -> ApiError {
    ApiError::BadRequest(format!("bad path: {}", r.body_text()))
}

fn bad_json(r: JsonRejection) -> ApiError {
    match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge("request body is too large".into()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(
            "send the body as JSON with 'Content-Type: application/json'".into(),
        ),
        _ => ApiError::BadRequest(format!("malformed request body: {}", r.body_text())),
    }
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint; the API lives under /api/v1".into())
}

pub async fn uri_limit(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if len > super::MAX_URI_BYTES {
        return ApiError::UriTooLong(format!(
            "the request URI is {len} bytes long; at most {} are accepted",
            super::MAX_URI_BYTES
        ))
        .into_response();
    }
    next.run(req).await
}

/// Wrong method on a known path; axum adds the `Allow` header listing the right ones.
pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{method} is not allowed here; the Allow header lists the methods that are"
    ))
}

pub async fn me(Authed(me): Authed) -> Json<Me> {
    Json(Me {
        grants: me.grants(),
        reviewer: me.reviewer,
    })
}

pub async fn courses<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
) -> Result<Json<Vec<CourseSummary>>, ApiError> {
    Ok(Json(review::courses(&st.store, &actor).await?))
}

pub async fn sessions<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(exam): IdPath,
    StrictQuery(query): StrictQuery<SessionQuery>,
) -> Result<Json<Page<SessionRow>>, ApiError> {
    let query = query
        .validate()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(
        review::sessions(&st.store, &actor, exam, query).await?,
    ))
}

/// The cross-exam Require Attention queue (`status` in the query is ignored).
pub async fn queue<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    StrictQuery(query): StrictQuery<SessionQuery>,
) -> Result<Json<Page<SessionRow>>, ApiError> {
    let query = query
        .validate()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(review::queue(&st.store, &actor, query).await?))
}

pub async fn session<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(id): IdPath,
) -> Result<Json<SessionDetail>, ApiError> {
    Ok(Json(review::session(&st.store, &actor, id).await?))
}

pub async fn decide<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(session_id): IdPath,
    body: Result<Json<DecisionRequest>, JsonRejection>,
) -> Result<Json<SessionDetail>, ApiError> {
    let Json(req) = body.map_err(bad_json)?;
    let verdict = req.verdict;
    let input = DecisionInput {
        verdict,
        reason: req.reason,
        expected_status: req.expected_status,
        idempotency_key: req.idempotency_key,
        opened_secs: st
            .events
            .presence
            .held_for(session_id, &actor.reviewer.username)
            .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX)),
    };
    let detail = review::decide(
        &st.store,
        &actor,
        session_id,
        input,
        &st.decide,
        OffsetDateTime::now_utc(),
    )
    .await?;
    tracing::info!(session_id, reviewer = %actor.reviewer.username, ?verdict, "decision recorded");
    use crate::domain::second_review::Stage;
    // A first opinion's verdict is not told: the second reviewer decides blind.
    let (kind, told) = match detail.history.last().and_then(|h| h.stage) {
        Some(Stage::First) => (ChangeKind::FirstOpinion, None),
        Some(Stage::Overturn) => (ChangeKind::Overturned, None),
        _ => (ChangeKind::Decision, Some(verdict)),
    };
    let step = match kind {
        ChangeKind::FirstOpinion => "first_opinion",
        ChangeKind::Overturned => "overturn",
        _ => "decision",
    };
    metrics::counter!("decisions_total", "verdict" => verdict.as_str(), "step" => step)
        .increment(1);
    st.events
        .session_changed(kind, &detail, Some(&actor.reviewer.username), told);
    st.kicks.kick(crate::domain::JobKind::Email);
    st.kicks.kick(crate::domain::JobKind::LmsReview);
    Ok(Json(detail))
}

/// Takes back the caller's latest decision on the session within the grace period; its
/// email and Open edX callback are cancelled, so nobody was told.
pub async fn undo<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(session_id): IdPath,
) -> Result<Json<SessionDetail>, ApiError> {
    let detail = review::undo(
        &st.store,
        &actor,
        session_id,
        &st.decide,
        OffsetDateTime::now_utc(),
    )
    .await?;
    tracing::info!(session_id, reviewer = %actor.reviewer.username, "decision undone");
    let undid = detail.history.last().and_then(|h| h.undoes);
    st.events.session_changed(
        ChangeKind::Undo,
        &detail,
        Some(&actor.reviewer.username),
        undid,
    );
    Ok(Json(detail))
}

/// The recording pipeline's automated review (a provider service account): stored, and
/// delivered to the LMS without a reviewer, which makes edx-proctoring ask course staff for
/// a second review ("Require Attention").
pub async fn automated_review<S: Store>(
    State(st): State<AppState<S>>,
    Authed(account): Authed,
    SessionPath(session_id): SessionPath,
    body: Result<Json<AutomatedReview>, JsonRejection>,
) -> Result<Json<SessionDetail>, ApiError> {
    let role = account.reviewer.role;
    if role != Role::Service && role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only the provider's service account (or an admin) reports automated reviews".into(),
        ));
    }
    let Json(review) = body.map_err(bad_json)?;
    let detail = st.store.automated_review(session_id, review).await?;
    tracing::info!(
        session_id,
        status = detail.row.status.as_str(),
        "automated review recorded"
    );
    st.events
        .session_changed(ChangeKind::Session, &detail, None, None);
    st.kicks.kick(crate::domain::JobKind::LmsReview);
    Ok(Json(detail))
}

/// Sends a session's failed delivery to Open edX again.
pub async fn lms_retry<S: Store>(
    State(st): State<AppState<S>>,
    Authed(actor): Authed,
    IdPath(session_id): IdPath,
) -> Result<Json<SessionDetail>, ApiError> {
    review::retry_session(&st.store, &actor, session_id).await?;
    let detail = st.store.lms_retry(session_id).await?;
    tracing::info!(session_id, reviewer = %actor.reviewer.username, "Open edX delivery retried");
    st.kicks.kick(crate::domain::JobKind::LmsReview);
    Ok(Json(detail))
}
