//! Every error leaves the server as JSON `{"error": code, "message": text}` with the status
//! code that fits.

use crate::api::ErrorBody;
use crate::domain::DecisionError;
use crate::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    /// 401 with its own code, so a client can say "your token expired" and not "wrong token".
    #[error("{0}")]
    TokenExpired(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    UriTooLong(String),
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    KeyReused(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 503: the database could not answer in time (a query over its budget); worth a retry.
    #[error("{0}")]
    Unavailable(String),
    /// 500: the client reads no more; the log has what failed, with its whole chain.
    #[error("internal error; see the server log")]
    Internal(#[source] crate::store::BoxError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => Self::NotFound(m),
            StoreError::Conflict(m) => Self::Conflict(m),
            StoreError::Invalid(m) => Self::BadRequest(m),
            StoreError::Decision(d @ DecisionError::NotDecidable(_)) => {
                Self::Unprocessable(d.to_string())
            }
            StoreError::Decision(d @ DecisionError::KeyReused { .. }) => {
                Self::KeyReused(d.to_string())
            }
            StoreError::Decision(d @ DecisionError::SecondReview(_)) => {
                Self::Forbidden(d.to_string())
            }
            StoreError::Decision(d) => Self::Conflict(d.to_string()),
            StoreError::Busy(m) => {
                tracing::warn!(reason = %m, "query over its budget");
                Self::Unavailable(m)
            }
            e @ (StoreError::Corrupt(_) | StoreError::Failed { .. } | StoreError::Database(_)) => {
                Self::internal("store failure", e)
            }
        }
    }
}

impl From<crate::review::ReviewError> for ApiError {
    fn from(e: crate::review::ReviewError) -> Self {
        use crate::review::ReviewError as R;
        match e {
            R::NotFound(m) => Self::NotFound(m),
            R::Forbidden(m) => Self::Forbidden(m),
            R::Invalid(m) => Self::BadRequest(m),
            R::PreconditionRequired(m) => Self::PreconditionRequired(m),
            R::Store(e) => e.into(),
        }
    }
}

impl ApiError {
    /// A 500 for `e`, logged with its chain as `what`.
    pub fn internal(what: &'static str, e: impl Into<crate::store::BoxError>) -> Self {
        let e = e.into();
        tracing::error!(error = %crate::store::chain(e.as_ref()), "{what}");
        Self::Internal(e)
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::TokenExpired(_) => (StatusCode::UNAUTHORIZED, "token_expired"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::PreconditionRequired(_) => {
                (StatusCode::PRECONDITION_REQUIRED, "precondition_required")
            }
            Self::UriTooLong(_) => (StatusCode::URI_TOO_LONG, "uri_too_long"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not_decidable"),
            Self::KeyReused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let body = ErrorBody {
            error: code.into(),
            message: self.to_string(),
        };
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: an expired token is an invalid_token.
            let challenge = if code == "token_expired" {
                "Bearer error=\"invalid_token\", error_description=\"the token expired\""
            } else {
                "Bearer"
            };
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_query_over_its_budget_is_a_503_with_a_reason_and_a_retry_hint() {
        let resp = ApiError::from(StoreError::Busy(
            "the query took longer than its 2000 ms budget".into(),
        ))
        .into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
        let body: ErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(body.error, "unavailable");
        assert!(body.message.contains("2000 ms budget"), "{}", body.message);
    }
}
