//! The one error type of the HTTP API: every failure is answered as
//! `{"error": {"code", "message"}}` with a stable code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::import::{ImportError, RowError};
use crate::store::StoreError;

/// One bad row of an upload, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub row: usize,
    pub field: Option<String>,
    pub value: Option<String>,
    pub reason: String,
    /// The whole line, e.g. `row 3, column "phone": ...`.
    pub message: String,
}

impl From<&RowError> for RowProblem {
    fn from(error: &RowError) -> Self {
        RowProblem {
            row: error.row,
            field: error.field.clone(),
            value: error.value.clone(),
            reason: error.reason.clone(),
            message: error.to_string(),
        }
    }
}

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, snake_case, documented in the README.
    pub code: &'static str,
    pub message: String,
    /// Bad rows of a refused upload.
    pub rows: Vec<RowProblem>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    rows: &'a [RowProblem],
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            rows: Vec::new(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn batch_not_found(batch_id: &str) -> Self {
        ApiError::not_found("batch_not_found", format!("batch \"{batch_id}\" not found"))
    }

    pub fn campaign_not_found(campaign_id: &str) -> Self {
        ApiError::not_found(
            "campaign_not_found",
            format!("campaign \"{campaign_id}\" not found"),
        )
    }

    /// A failure that is the server's fault: logged in full, answered
    /// generically so nothing internal leaks.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to answer; the failure is logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                rows: &self.rows,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::BatchNotFound(id) => ApiError::batch_not_found(id),
            StoreError::ContactNotFound { .. } => {
                ApiError::not_found("contact_not_found", error.to_string())
            }
            StoreError::IllegalTransition(_) | StoreError::BatchNotDialing { .. } => {
                ApiError::conflict("illegal_transition", error.to_string())
            }
            StoreError::BadCursor(_) => ApiError::bad_request("invalid_cursor", error.to_string()),
            StoreError::DuplicateContact {
                contact_id, seqs, ..
            } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_contacts",
                format!(
                    "contact id \"{contact_id}\" is given to contacts {} and {} of the upload, expected unique ids",
                    seqs.0 + 1,
                    seqs.1 + 1
                ),
            ),
            _ => ApiError::internal(error),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(error: ImportError) -> Self {
        let mut api = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_contacts",
            error.to_string(),
        );
        if let ImportError::Rejected(rows) = &error {
            api.rows = rows.iter().map(RowProblem::from).collect();
        }
        if let ImportError::Io(_) = error {
            api.status = StatusCode::BAD_REQUEST;
            api.code = "invalid_body";
        }
        api
    }
}

/// The answer of every handler.
pub type ApiResult<T> = Result<T, ApiError>;
