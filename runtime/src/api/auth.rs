//! API keys: each belongs to one workspace, is known only by its sha256 and
//! is compared in constant time.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::{ApiError, ErrorCode};
use crate::config::WorkspaceSpec;

/// A key the server accepts, by its hash.
#[derive(Debug, Clone)]
pub(crate) struct KnownKey {
    sha256: [u8; 32],
    workspace: String,
    key_id: String,
}

/// Every workspace's keys, decoded once at start-up.
pub(crate) fn known_keys(workspaces: &[WorkspaceSpec]) -> Result<Vec<KnownKey>, String> {
    let mut keys = Vec::new();
    for workspace in workspaces {
        for key in &workspace.api_keys {
            let bytes = hex::decode(&key.sha256)
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or_else(|| {
                    format!(
                        "api key \"{}\" of workspace \"{}\" has a malformed sha256, expected 64 hex digits",
                        key.id, workspace.id
                    )
                })?;
            keys.push(KnownKey {
                sha256: bytes,
                workspace: workspace.id.clone(),
                key_id: key.id.clone(),
            });
        }
    }
    Ok(keys)
}

/// The lowercase hex sha256 of an API key, as configs store it.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Who is calling: the workspace their key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub workspace: String,
    pub key_id: String,
}

impl Caller {
    /// How the caller is named in status changes and logs.
    pub fn actor(&self) -> String {
        format!("api_key:{}", self.key_id)
    }
}

/// The key a request presents. Both headers may carry it, but only the
/// same key: two different keys would make one of them silently win.
fn presented_key(parts: &Parts) -> Result<Option<String>, ApiError> {
    let api_key = match parts.headers.get("x-api-key") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::unauthorized("the x-api-key header is not valid text"))?
                .trim()
                .to_string(),
        ),
    };
    let bearer = match parts.headers.get(axum::http::header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value.to_str().map_err(|_| {
                ApiError::unauthorized("the authorization header is not valid text")
            })?;
            let key = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        "the authorization header is not a bearer token, expected \"Bearer <key>\"",
                    )
                })?;
            Some(key.trim().to_string())
        }
    };
    match (api_key, bearer) {
        (Some(api_key), Some(bearer)) if api_key != bearer => Err(ApiError::new(
            ErrorCode::AmbiguousCredentials,
            "the request carries two different API keys, in \"Authorization\" and \"x-api-key\", expected one key",
        )),
        (api_key, bearer) => Ok(api_key.or(bearer)),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts)?.ok_or_else(|| {
            ApiError::unauthorized(
                "no API key, expected an \"Authorization: Bearer <key>\" or \"x-api-key\" header",
            )
        })?;
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        // Every known key is compared, in constant time, so the answer's
        // timing tells nothing about which keys exist.
        let mut found: Option<&KnownKey> = None;
        for known in &state.inner.keys {
            if bool::from(known.sha256.ct_eq(&digest)) {
                found = Some(known);
            }
        }
        let known = found.ok_or_else(|| ApiError::unauthorized("the API key is not valid"))?;
        if let Some(claimed) = parts.headers.get("x-workspace-id") {
            let claimed = claimed.to_str().unwrap_or_default();
            if claimed != known.workspace {
                return Err(ApiError::new(
                    ErrorCode::WorkspaceMismatch,
                    format!("x-workspace-id \"{claimed}\" does not match the API key's workspace"),
                ));
            }
        }
        Ok(Caller {
            workspace: known.workspace.clone(),
            key_id: known.key_id.clone(),
        })
    }
}
