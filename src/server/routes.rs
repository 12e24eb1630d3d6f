//! Route handlers. They check input, call the store and shape answers; the decision rules
//! themselves live in `domain`.

use super::AppState;
use super::auth::Authed;
use super::error::ApiError;
use super::ids::IdPath;
use super::query::StrictQuery;
use crate::api::{DecisionRequest, MAX_REASON_CHARS, Page, SessionQuery, valid_idempotency_key};
use crate::domain::decision::ensure_unchanged;
use crate::domain::email::{EmailContext, learner_email};
use crate::domain::lms::{AutomatedReview, decision_callback};
use crate::domain::{CourseSummary, Reviewer, Role, SessionDetail, SessionRow, plan_decision};
use crate::store::{DecisionCommand, DecisionContext, PlannedDecision, Store};
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

pub async fn me(Authed(me): Authed) -> Json<Reviewer> {
    Json(me)
}

pub async fn courses<S: Store>(
    State(st): State<AppState<S>>,
    _: Authed,
) -> Result<Json<Vec<CourseSummary>>, ApiError> {
    Ok(Json(st.store.courses().await?))
}

pub async fn sessions<S: Store>(
    State(st): State<AppState<S>>,
    _: Authed,
    IdPath(exam): IdPath,
    StrictQuery(query): StrictQuery<SessionQuery>,
) -> Result<Json<Page<SessionRow>>, ApiError> {
    let query = query
        .validate()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(st.store.sessions(exam, query).await?))
}

pub async fn session<S: Store>(
    State(st): State<AppState<S>>,
    _: Authed,
    IdPath(id): IdPath,
) -> Result<Json<SessionDetail>, ApiError> {
    Ok(Json(st.store.session(id).await?))
}

pub async fn decide<S: Store>(
    State(st): State<AppState<S>>,
    Authed(reviewer): Authed,
    IdPath(session_id): IdPath,
    body: Result<Json<DecisionRequest>, JsonRejection>,
) -> Result<Json<SessionDetail>, ApiError> {
    let Json(req) = body.map_err(bad_json)?;
    let Some(expected_status) = req.expected_status else {
        return Err(ApiError::PreconditionRequired(
            "expected_status is required: send the attempt status you saw (e.g. \"second_review_required\"), so a decision never overrides one you have not seen".into(),
        ));
    };
    if let Some(key) = &req.idempotency_key
        && !valid_idempotency_key(key)
    {
        return Err(ApiError::BadRequest(
            "idempotency_key must be 8 to 100 letters, digits, '-' or '_' (a UUID fits)".into(),
        ));
    }
    let reason = req.reason.trim().to_owned();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::BadRequest(format!(
            "reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    let contact = st.contact.clone();
    let own_emails = st.lms_learner_emails;
    let reviewer_email = reviewer.email.clone();
    let planner = move |ctx: &DecisionContext| {
        ensure_unchanged(expected_status, ctx.facts.status)?;
        let plan = plan_decision(&ctx.facts, req.verdict)?;
        // With an LMS, Open edX emails the learner and sets the grade; we only tell it.
        let lms = ctx
            .lms
            .as_ref()
            .map(|l| decision_callback(plan.verdict, &l.violations, &reviewer_email));
        let email = learner_email(
            &plan,
            &EmailContext {
                learner_name: &ctx.learner.full_name,
                learner_email: &ctx.learner.email,
                exam_name: &ctx.exam_name,
                course_id: &ctx.course_id,
                contact: &contact,
            },
        );
        let email = if lms.is_some() && !own_emails {
            None
        } else {
            email
        };
        Ok(PlannedDecision { plan, email, lms })
    };
    let detail = st
        .store
        .decide(DecisionCommand {
            session_id,
            reviewer: reviewer.clone(),
            reason,
            at: OffsetDateTime::now_utc(),
            idempotency_key: req.idempotency_key.clone(),
            planner,
        })
        .await?;
    tracing::info!(session_id, reviewer = %reviewer.username, verdict = ?req.verdict, "decision recorded");
    st.kicks.kick(crate::domain::JobKind::Email);
    st.kicks.kick(crate::domain::JobKind::LmsReview);
    Ok(Json(detail))
}

/// The recording pipeline's automated review (a provider service account): stored, and
/// delivered to the LMS without a reviewer, which makes edx-proctoring ask course staff for
/// a second review ("Require Attention").
pub async fn automated_review<S: Store>(
    State(st): State<AppState<S>>,
    Authed(account): Authed,
    IdPath(session_id): IdPath,
    body: Result<Json<AutomatedReview>, JsonRejection>,
) -> Result<Json<SessionDetail>, ApiError> {
    if account.role != Role::Service && account.role != Role::Admin {
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
    st.kicks.kick(crate::domain::JobKind::LmsReview);
    Ok(Json(detail))
}

/// Sends a session's failed delivery to Open edX again.
pub async fn lms_retry<S: Store>(
    State(st): State<AppState<S>>,
    Authed(reviewer): Authed,
    IdPath(session_id): IdPath,
) -> Result<Json<SessionDetail>, ApiError> {
    let detail = st.store.lms_retry(session_id).await?;
    tracing::info!(session_id, reviewer = %reviewer.username, "Open edX delivery retried");
    st.kicks.kick(crate::domain::JobKind::LmsReview);
    Ok(Json(detail))
}
