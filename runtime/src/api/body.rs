//! Request bodies and parameters, read strictly: unknown fields, bad types
//! and oversized bodies are refused with the field or limit named.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::{ApiError, ErrorCode};
use crate::model::Millis;

/// A JSON body read with the API's own errors; an empty body reads as the
/// type's default, so optional bodies (a pause reason) may be left out.
#[derive(Debug)]
pub struct StrictJson<T>(pub T);

/// The raw body, with a too-large body answered as `payload_too_large`.
pub async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "the request body is larger than this endpoint accepts",
                )
            } else {
                ApiError::new(ErrorCode::InvalidBody, rejection.body_text())
            }
        })
}

/// Parses a JSON object, naming the unknown field or bad value and where
/// it is. Every body of the API is an object; anything else is refused
/// before serde, which would read an array as the struct's fields in order.
pub fn parse_json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    if first.is_some_and(|byte| *byte != b'{') {
        return Err(ApiError::new(
            ErrorCode::InvalidBody,
            "invalid JSON body: expected a JSON object {...}",
        ));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        ApiError::new(
            ErrorCode::InvalidBody,
            format!(
                "invalid JSON body: {}",
                crate::config::requote(&error.to_string())
            ),
        )
    })
}

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for StrictJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_none_or(|value| value.starts_with("application/json"));
        let bytes = read_body(request, state).await?;
        if bytes.is_empty() {
            return Ok(StrictJson(T::default()));
        }
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected a body of content type \"application/json\"",
            ));
        }
        parse_json(&bytes).map(StrictJson)
    }
}

/// A time given as RFC 3339 text ("2025-03-01T09:00:00Z") or as
/// milliseconds since the epoch.
pub fn parse_time(field: &str, value: &serde_json::Value) -> Result<Millis, ApiError> {
    match value {
        serde_json::Value::Number(number) => number.as_i64().ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                format!("\"{field}\" is {number}, expected whole milliseconds since the epoch"),
            )
        }),
        serde_json::Value::String(text) => parse_time_text(field, text),
        other => Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("\"{field}\" is {other}, expected an RFC 3339 time or milliseconds"),
        )),
    }
}

/// See [`parse_time`].
pub fn parse_time_text(field: &str, text: &str) -> Result<Millis, ApiError> {
    if let Ok(millis) = text.parse::<i64>() {
        return Ok(millis);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.timestamp_millis())
        .map_err(|_| {
            ApiError::new(ErrorCode::InvalidParameter,
                format!(
                    "\"{field}\" is \"{text}\", expected an RFC 3339 time like \"2025-03-01T09:00:00Z\" or milliseconds since the epoch"
                ),
            )
        })
}

/// A page size: default 50, at most 1000.
pub fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(50),
        Some(limit @ 1..=1000) => Ok(limit),
        Some(other) => Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("\"limit\" is {other}, expected 1 to 1000"),
        )),
    }
}

/// Query parameters with the API's own errors; unknown parameters are
/// refused when `T` denies unknown fields.
#[derive(Debug)]
pub struct StrictQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> axum::extract::FromRequestParts<S>
    for StrictQuery<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|query| StrictQuery(query.0))
            .map_err(|rejection| {
                ApiError::new(
                    ErrorCode::InvalidParameter,
                    crate::config::requote(&rejection.body_text()),
                )
            })
    }
}

/// Path parameters with the API's own errors.
#[derive(Debug)]
pub struct StrictPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> axum::extract::FromRequestParts<S>
    for StrictPath<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|path| StrictPath(path.0))
            .map_err(|rejection| ApiError::new(ErrorCode::InvalidParameter, rejection.body_text()))
    }
}
