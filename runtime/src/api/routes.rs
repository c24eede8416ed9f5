//! Every route of the API, once. Each handler's `#[utoipa::path]` says its
//! method, path, parameters, body and answers, with schemas derived from
//! the types the handler reads and writes; [`api_router`] registers the
//! handlers, and both the router and the OpenAPI document come out of
//! that one registration, so the two cannot disagree.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use serde_json::{Map, Value, json};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody, ErrorCode};
use super::{AppState, batches, campaigns, contacts, events, metrics, suppression, webhooks};

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Delete => "delete",
        }
    }
}

/// One operation of the document, as tests and the dashboard need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    /// In axum's syntax, which is also OpenAPI's: `/v1/batches/{batch_id}`.
    pub path: String,
    pub operation: String,
    /// Whether an API key is needed.
    pub auth: bool,
}

/// Inbound provider webhooks: served beside the API by the router of
/// `provider::webhooks`, which `outdial run` merges in. Its handler
/// verifies the provider's signature, not an API key; it is documented
/// with the API so the document lists every endpoint a server answers.
pub const PROVIDER_WEBHOOK: &str = crate::provider::webhooks::WEBHOOK_ROUTE;

/// The document's parts that no single handler owns.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "outdial",
        description = "Outbound call campaigns: batches, contacts, progress, controls, exports, live events and signed webhooks. Every key belongs to one workspace; another workspace's resources answer 404. Times are milliseconds since the Unix epoch (UTC) unless a field says otherwise; requests also take RFC 3339 text where they say so.",
    ),
    paths(crate::provider::webhooks::receive),
    components(schemas(ErrorBody, ErrorCode)),
    modifiers(&SecuritySchemes),
    security(
        ("bearer" = []),
        ("apiKey" = []),
        ("bearer" = [], "workspace" = []),
        ("apiKey" = [], "workspace" = []),
    ),
    tags(
        (name = "campaigns", description = "Campaigns as the config declares them, with their counters"),
        (name = "batches", description = "Uploads of contacts, their progress, statistics, exports and queue health"),
        (name = "controls", description = "Pause, resume, cancel and force dispatch of a batch"),
        (name = "contacts", description = "A batch's contacts: the tasks table, one contact's history, skipping one"),
        (name = "webhooks", description = "Outbound webhook endpoints of a campaign"),
        (name = "suppression", description = "Suppression (do-not-call) lists of the workspace and the numbers on them"),
        (name = "providers", description = "Status callbacks from telephony providers"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
struct ApiDoc;

/// The ways a request proves who it is: one API key, in either header,
/// and optionally the workspace it expects the key to belong to.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key as \"Authorization: Bearer <key>\". A request carrying two different keys, here and in x-api-key, is refused with 400 ambiguous_credentials.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-api-key",
                "An API key in its own header.",
            ))),
        );
        components.add_security_scheme(
            "workspace",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-workspace-id",
                "Optional, beside a key: the workspace the caller expects the key to belong to. Another workspace is refused with 403 workspace_mismatch.",
            ))),
        );
    }
}

/// Body size limits of the routes: uploads take more than the rest.
#[derive(Debug, Clone, Copy)]
struct BodyLimits {
    json: usize,
    upload: usize,
}

fn limited(route: UtoipaMethodRouter<AppState>, bytes: usize) -> UtoipaMethodRouter<AppState> {
    let (schemas, paths, router) = route;
    (schemas, paths, router.layer(DefaultBodyLimit::max(bytes)))
}

/// Every route of the API with its documentation.
fn api_router(limits: BodyLimits) -> OpenApiRouter<AppState> {
    let json = |route| limited(route, limits.json);
    let upload = |route| limited(route, limits.upload);
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(json(routes!(metrics::healthz)))
        .routes(json(routes!(metrics::metrics)))
        .routes(json(routes!(openapi_document)))
        .routes(json(routes!(campaigns::list)))
        .routes(json(routes!(campaigns::get_one)))
        .routes(json(routes!(campaigns::stats)))
        .routes(json(routes!(webhooks::list_endpoints)))
        .routes(json(routes!(webhooks::enable_endpoint)))
        .routes(upload(routes!(batches::create)))
        .routes(upload(routes!(batches::preview)))
        .routes(json(routes!(batches::list)))
        .routes(json(routes!(batches::get_one)))
        .routes(json(routes!(batches::status)))
        .routes(json(routes!(batches::stats)))
        .routes(json(routes!(batches::export)))
        .routes(json(routes!(super::reports::attempts_csv)))
        .routes(json(routes!(super::reports::transcripts_jsonl)))
        .routes(json(routes!(batches::pause)))
        .routes(json(routes!(batches::resume)))
        .routes(json(routes!(batches::cancel)))
        .routes(json(routes!(batches::dispatch)))
        .routes(json(routes!(batches::debug)))
        .routes(json(routes!(events::stream)))
        .routes(json(routes!(contacts::list)))
        .routes(json(routes!(contacts::get_one)))
        .routes(json(routes!(contacts::skip)))
        .routes(json(routes!(suppression::create, suppression::list)))
        .routes(json(routes!(suppression::get_one)))
        .routes(json(routes!(suppression::add, suppression::entries)))
        .routes(upload(routes!(suppression::upload)))
        .routes(json(routes!(suppression::remove_one)))
        .routes(json(routes!(suppression::remove_many)))
        .routes(json(routes!(suppression::check)))
}

/// The router of every API route, state applied.
pub(super) fn build(state: AppState) -> Router {
    let settings = &state.inner.settings;
    let (router, _) = api_router(BodyLimits {
        json: settings.max_json_bytes,
        upload: settings.max_upload_bytes,
    })
    .split_for_parts();
    router
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(|| async {
            ApiError::new(
                ErrorCode::RouteNotFound,
                "no such route; see /v1/openapi.json",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this route does not take that method; see /v1/openapi.json",
            )
        })
        .with_state(state)
}

/// The OpenAPI 3.1 document of the API.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    operation_id = "openapi",
    tag = "operations",
    summary = "This document",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)),
)]
pub(super) async fn openapi_document() -> axum::Json<Value> {
    axum::Json(openapi().clone())
}

/// The OpenAPI 3.1 document, built once.
pub fn openapi() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // Limits shape the router, not the document.
        let (_, document) = api_router(BodyLimits { json: 0, upload: 0 }).split_for_parts();
        let mut document = serde_json::to_value(&document).expect("the document serializes");
        document["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
        make_empty_bodies_optional(&mut document);
        make_parameters_not_null(&mut document);
        require_every_answer_field(&mut document);
        add_common_errors(&mut document);
        narrow_error_codes(&mut document);
        document
    })
}

/// Whether `operation` needs an API key: its own security requirements,
/// or the document's, offer no empty (anonymous) option.
fn needs_key(operation: &Value, global_security: &Value) -> bool {
    operation
        .get("security")
        .unwrap_or(global_security)
        .as_array()
        .is_some_and(|options| !options.iter().any(|option| option == &json!({})))
}

/// Every operation of the document.
pub fn routes() -> Vec<Route> {
    let mut found = Vec::new();
    let document = openapi();
    let global_security = &document["security"];
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let method = match method.as_str() {
                "get" => Method::Get,
                "post" => Method::Post,
                "delete" => Method::Delete,
                other => panic!("the API uses no {other} route"),
            };
            found.push(Route {
                method,
                path: path.clone(),
                operation: operation["operationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                auth: needs_key(operation, global_security),
            });
        }
    }
    found
}

/// The component names `value` refers to, directly or through others.
fn referenced(value: &Value, components: &Value, found: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Object(object) => {
            if let Some(name) = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
                && found.insert(name.to_string())
            {
                referenced(&components[name], components, found);
            }
            for child in object.values() {
                referenced(child, components, found);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|child| referenced(child, components, found)),
        _ => {}
    }
}

/// Every field of an answer is always written, null when it has no
/// value, but utoipa reads an `Option` field as one that may be left
/// out; so every field of a schema only answers use is required. Schemas
/// a request uses keep their optional fields.
fn require_every_answer_field(document: &mut Value) {
    // Left out when there is none: the bad rows of an error that has
    // none, the id of a stream event that is no journal event, and the
    // end time and error of a recent call that the other one has.
    const LEFT_OUT_WHEN_EMPTY: [(&str, &str); 5] = [
        ("ErrorDetail", "rows"),
        ("StreamEvent", "id"),
        ("RecentCallView", "completedAt"),
        ("RecentCallView", "failedAt"),
        ("RecentCallView", "error"),
    ];
    let components = document["components"]["schemas"].clone();
    let mut in_requests = std::collections::BTreeSet::new();
    for operation in document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
    {
        for part in ["requestBody", "parameters"] {
            if let Some(value) = operation.get(part) {
                referenced(value, &components, &mut in_requests);
            }
        }
    }
    let Some(schemas) = document["components"]["schemas"].as_object_mut() else {
        return;
    };
    for (name, schema) in schemas.iter_mut() {
        if in_requests.contains(name) {
            continue;
        }
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        let required: Vec<Value> = properties
            .keys()
            .filter(|field| !LEFT_OUT_WHEN_EMPTY.contains(&(name.as_str(), field.as_str())))
            .map(|field| json!(field))
            .collect();
        schema["required"] = Value::Array(required);
    }
}

/// Every operation of the document, to be changed in place.
fn operations_mut(document: &mut Value) -> impl Iterator<Item = &mut Value> {
    document["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
}

/// An optional header or query parameter is left out, never sent as
/// `null`, which is how utoipa writes an `Option` parameter.
fn make_parameters_not_null(document: &mut Value) {
    for operation in operations_mut(document) {
        let Some(parameters) = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for parameter in parameters {
            let Some(kinds) = parameter
                .get_mut("schema")
                .and_then(|schema| schema.get_mut("type"))
            else {
                continue;
            };
            if let Some(list) = kinds.as_array_mut() {
                list.retain(|kind| kind != "null");
                if let [only] = list.as_slice() {
                    *kinds = only.clone();
                }
            }
        }
    }
}

/// A control's body may be left out, which `Option<Body>` says; but the
/// body itself is never `null`, which is how utoipa writes an `Option`.
fn make_empty_bodies_optional(document: &mut Value) {
    for operation in operations_mut(document) {
        let Some(body) = operation.get_mut("requestBody") else {
            continue;
        };
        let Some(content) = body["content"].as_object_mut() else {
            continue;
        };
        let mut optional = false;
        for media in content.values_mut() {
            let schema = &mut media["schema"];
            let choices = schema["oneOf"].as_array().cloned().unwrap_or_default();
            if let [first, second] = choices.as_slice()
                && *second == json!({"type": "null"})
            {
                *schema = first.clone();
                optional = true;
            }
        }
        if optional {
            body["required"] = json!(false);
        }
    }
}

/// The failures every operation can meet, written once here rather than
/// on each handler: a server fault, and for operations behind a key a bad
/// parameter or credentials.
fn add_common_errors(document: &mut Value) {
    let global_security = document["security"].clone();
    for operation in operations_mut(document) {
        let needs_key = needs_key(operation, &global_security);
        let mut common = vec![("500", "The server failed; the failure is logged")];
        if operation.get("requestBody").is_some() {
            common.push(("413", "The body is larger than the operation accepts"));
        }
        if needs_key {
            common.extend([
                (
                    "400",
                    "A parameter or the body is outside what the operation takes, or two different keys were sent",
                ),
                ("401", "No API key, or one the server does not know"),
                ("403", "x-workspace-id names another workspace than the key's"),
            ]);
        }
        let Some(responses) = operation["responses"].as_object_mut() else {
            continue;
        };
        for (status, description) in common {
            responses.entry(status).or_insert_with(|| {
                json!({
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
                })
            });
        }
    }
}

/// Each error answer of an operation lists the codes its status is
/// answered with, so a client sees e.g. which codes a 404 can carry.
fn narrow_error_codes(document: &mut Value) {
    let error_ref = json!({"$ref": "#/components/schemas/ErrorBody"});
    for operation in operations_mut(document) {
        let Some(responses) = operation["responses"].as_object_mut() else {
            continue;
        };
        for (status, response) in responses.iter_mut() {
            let Ok(status) = status.parse::<u16>() else {
                continue;
            };
            let Some(schema) = response
                .pointer_mut("/content/application~1json/schema")
                .filter(|schema| **schema == error_ref)
            else {
                continue;
            };
            let codes: Vec<Value> = ErrorCode::ALL
                .into_iter()
                .filter(|code| code.status().as_u16() == status)
                .map(|code| json!(code.as_str()))
                .collect();
            let mut code = Map::new();
            code.insert("enum".into(), Value::Array(codes));
            *schema = json!({"allOf": [
                error_ref,
                {"type": "object", "properties": {"error": {"type": "object", "properties": {"code": code}}}}
            ]});
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Where in `value` a schema says "an object" or "an array" and
    /// nothing about what it holds.
    fn shapeless(value: &Value, at: &str, found: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                let kinds: Vec<&str> = match object.get("type") {
                    Some(Value::String(kind)) => vec![kind.as_str()],
                    Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let described = ["properties", "additionalProperties", "allOf", "items"]
                    .iter()
                    .any(|key| object.contains_key(*key));
                if (kinds.contains(&"object") || kinds.contains(&"array")) && !described {
                    found.push(at.to_string());
                }
                for (key, child) in object {
                    shapeless(child, &format!("{at}/{key}"), found);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    shapeless(child, &format!("{at}/{index}"), found);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_object_and_array_of_the_document_says_what_it_holds() {
        let document = super::openapi();
        let mut found = Vec::new();
        shapeless(document, "", &mut found);
        // Free-form by nature: the document's own answer, and a provider's
        // callback, which is the provider's format read by its adapter.
        found.retain(|at| {
            !at.starts_with("/paths//v1/openapi.json/")
                && !at.starts_with("/paths//v1/webhooks/providers/")
        });
        assert!(found.is_empty(), "shapeless schemas at {found:#?}");
    }

    #[test]
    fn every_operation_answers_errors_with_the_codes_of_their_status() {
        let document = super::openapi();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                assert!(
                    responses.contains_key("500"),
                    "{method} {path} documents no 500"
                );
                for (status, answer) in responses {
                    let status: u16 = status.parse().unwrap();
                    let schema = &answer["content"]["application/json"]["schema"];
                    if status < 400 || schema.is_null() {
                        continue;
                    }
                    let codes =
                        &schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"];
                    let codes = codes
                        .as_array()
                        .unwrap_or_else(|| panic!("{method} {path} {status}: {schema}"));
                    assert!(!codes.is_empty(), "{method} {path} {status}");
                    for code in codes {
                        let code = super::ErrorCode::ALL
                            .into_iter()
                            .find(|known| known.as_str() == code)
                            .unwrap();
                        assert_eq!(code.status().as_u16(), status);
                    }
                }
            }
        }
    }

    #[test]
    fn the_docs_list_every_error_code_with_its_status() {
        let page = include_str!("../../../docs/http-api.md");
        let listed: Vec<(String, u16)> = page
            .lines()
            .filter_map(|line| {
                let mut cells = line.split('|').map(str::trim).skip(1);
                let code = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
                let status = cells.next()?.parse().ok()?;
                Some((code.to_string(), status))
            })
            .collect();
        let codes: Vec<(String, u16)> = super::ErrorCode::ALL
            .into_iter()
            .map(|code| (code.as_str().to_string(), code.status().as_u16()))
            .collect();
        assert_eq!(listed, codes);
    }

    #[test]
    fn every_error_code_is_written_as_the_document_names_it() {
        for code in super::ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
