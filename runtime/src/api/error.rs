//! The one error type of the HTTP API: every failure is answered as
//! `{"error": {"code", "message"}}` with a stable code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::import::{ImportError, RowError};
use crate::store::StoreError;

/// One bad row of an upload, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowProblem {
    /// Where the contact is in the upload: its CSV data row, or its index
    /// in the JSON `contacts` array.
    pub row: usize,
    /// The column or field that is wrong, when one is.
    pub field: Option<String>,
    /// The value as it was given.
    pub value: Option<String>,
    /// Why the row was refused.
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

/// Why a request failed: stable and snake_case on the wire. Each code is
/// answered with one HTTP status, so a client can branch on either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: a query parameter, path segment or body field is outside what
    /// the operation takes.
    InvalidParameter,
    /// 400: the body is not the JSON object or CSV the operation takes.
    InvalidBody,
    /// 400: a list cursor that no page handed out.
    InvalidCursor,
    /// 400: two different API keys in one request.
    AmbiguousCredentials,
    /// 401: no API key, or one the server does not know.
    Unauthorized,
    /// 403: `x-workspace-id` names another workspace than the key's.
    WorkspaceMismatch,
    /// 404: no such route.
    RouteNotFound,
    /// 404: no such campaign in the caller's workspace.
    CampaignNotFound,
    /// 404: no such batch in the caller's workspace.
    BatchNotFound,
    /// 404: no such contact in the batch.
    ContactNotFound,
    /// 404: no such webhook endpoint in the campaign.
    WebhookNotFound,
    /// 404: no such suppression list in the caller's workspace.
    SuppressionListNotFound,
    /// 405: the route does not take that method.
    MethodNotAllowed,
    /// 409: the batch or contact is in a state the change cannot leave.
    IllegalTransition,
    /// 409: an `Idempotency-Key` reused with a different request.
    IdempotencyConflict,
    /// 409: the webhook endpoint's config must be fixed before it is enabled.
    WebhookMisconfigured,
    /// 409: the workspace has a suppression list of that name.
    SuppressionListExists,
    /// 413: the body is larger than the operation accepts.
    PayloadTooLarge,
    /// 415: a content type the operation does not take.
    UnsupportedMediaType,
    /// 422: the upload's contacts are refused; `rows` says which and why.
    InvalidContacts,
    /// 422: suppression entries or numbers are refused (not numbers, an
    /// unknown default country, none at all), nothing was written; `rows`
    /// says which and why.
    InvalidEntries,
    /// 500: the server failed; the failure is logged.
    Internal,
    /// 503: the store cannot be read.
    Unhealthy,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 23] = [
        ErrorCode::InvalidParameter,
        ErrorCode::InvalidBody,
        ErrorCode::InvalidCursor,
        ErrorCode::AmbiguousCredentials,
        ErrorCode::Unauthorized,
        ErrorCode::WorkspaceMismatch,
        ErrorCode::RouteNotFound,
        ErrorCode::CampaignNotFound,
        ErrorCode::BatchNotFound,
        ErrorCode::ContactNotFound,
        ErrorCode::WebhookNotFound,
        ErrorCode::SuppressionListNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::IllegalTransition,
        ErrorCode::IdempotencyConflict,
        ErrorCode::WebhookMisconfigured,
        ErrorCode::SuppressionListExists,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InvalidContacts,
        ErrorCode::InvalidEntries,
        ErrorCode::Internal,
        ErrorCode::Unhealthy,
    ];

    /// The HTTP status this code is answered with.
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            InvalidParameter | InvalidBody | InvalidCursor | AmbiguousCredentials => {
                StatusCode::BAD_REQUEST
            }
            Unauthorized => StatusCode::UNAUTHORIZED,
            WorkspaceMismatch => StatusCode::FORBIDDEN,
            RouteNotFound
            | CampaignNotFound
            | BatchNotFound
            | ContactNotFound
            | WebhookNotFound
            | SuppressionListNotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            IllegalTransition
            | IdempotencyConflict
            | WebhookMisconfigured
            | SuppressionListExists => StatusCode::CONFLICT,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            InvalidContacts | InvalidEntries => StatusCode::UNPROCESSABLE_ENTITY,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Unhealthy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The code as it is written on the wire.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidParameter => "invalid_parameter",
            InvalidBody => "invalid_body",
            InvalidCursor => "invalid_cursor",
            AmbiguousCredentials => "ambiguous_credentials",
            Unauthorized => "unauthorized",
            WorkspaceMismatch => "workspace_mismatch",
            RouteNotFound => "route_not_found",
            CampaignNotFound => "campaign_not_found",
            BatchNotFound => "batch_not_found",
            ContactNotFound => "contact_not_found",
            WebhookNotFound => "webhook_not_found",
            SuppressionListNotFound => "suppression_list_not_found",
            MethodNotAllowed => "method_not_allowed",
            IllegalTransition => "illegal_transition",
            IdempotencyConflict => "idempotency_conflict",
            WebhookMisconfigured => "webhook_misconfigured",
            SuppressionListExists => "suppression_list_exists",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            InvalidContacts => "invalid_contacts",
            InvalidEntries => "invalid_entries",
            Internal => "internal",
            Unhealthy => "unhealthy",
        }
    }
}

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Bad rows of a refused upload.
    pub rows: Vec<RowProblem>,
}

/// Every failure's answer: `{"error": {"code", "message", "rows"?}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What failed and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// For people: names the field, parameter or row and what was expected.
    #[schema(example = "\"limit\" is 0, expected 1 to 1000")]
    pub message: String,
    /// The bad rows of a refused upload, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub rows: Vec<RowProblem>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            rows: Vec::new(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Unauthorized, message)
    }

    pub fn batch_not_found(batch_id: &str) -> Self {
        ApiError::new(
            ErrorCode::BatchNotFound,
            format!("batch \"{batch_id}\" not found"),
        )
    }

    pub fn campaign_not_found(campaign_id: &str) -> Self {
        ApiError::new(
            ErrorCode::CampaignNotFound,
            format!("campaign \"{campaign_id}\" not found"),
        )
    }

    /// A failure that is the server's fault: logged in full, answered
    /// generically so nothing internal leaks.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "request failed");
        ApiError::new(
            ErrorCode::Internal,
            "the server failed to answer; the failure is logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                rows: self.rows,
            },
        };
        (status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::BatchNotFound(id) => ApiError::batch_not_found(id),
            StoreError::ContactNotFound { .. } => {
                ApiError::new(ErrorCode::ContactNotFound, error.to_string())
            }
            StoreError::IllegalTransition(_) | StoreError::BatchNotDialing { .. } => {
                ApiError::new(ErrorCode::IllegalTransition, error.to_string())
            }
            StoreError::BadCursor(_) => ApiError::new(ErrorCode::InvalidCursor, error.to_string()),
            StoreError::SuppressionListNotFound { list, .. } => ApiError::new(
                ErrorCode::SuppressionListNotFound,
                format!("suppression list \"{list}\" not found"),
            ),
            StoreError::SuppressionListExists { list, .. } => ApiError::new(
                ErrorCode::SuppressionListExists,
                format!("suppression list \"{list}\" already exists, expected a new name"),
            ),
            StoreError::InvalidSuppressionListName(problem) => {
                ApiError::new(ErrorCode::InvalidParameter, format!("\"name\": {problem}"))
            }
            StoreError::DuplicateContact {
                contact_id, seqs, ..
            } => ApiError::new(
                ErrorCode::InvalidContacts,
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
        let mut api = ApiError::new(ErrorCode::InvalidContacts, error.to_string());
        if let ImportError::Rejected(rows) = &error {
            api.rows = rows.iter().map(RowProblem::from).collect();
        }
        if let ImportError::Io(_) = error {
            api.code = ErrorCode::InvalidBody;
        }
        api
    }
}

/// The answer of every handler.
pub type ApiResult<T> = Result<T, ApiError>;
