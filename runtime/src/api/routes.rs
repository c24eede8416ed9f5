//! Every route of the API, once: the router and the OpenAPI document are
//! both built from [`ROUTES`].

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{MethodRouter, get, post};
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::{AppState, batches, campaigns, contacts, events, metrics, webhooks};

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
        }
    }
}

/// One route and what the document says about it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: Method,
    /// In axum's syntax, which is also OpenAPI's: `/v1/batches/{batch_id}`.
    pub path: &'static str,
    pub operation: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    /// Query parameters: name and meaning.
    pub query: &'static [(&'static str, &'static str)],
    /// Content types of the request body; empty when there is none.
    pub body: &'static [&'static str],
    /// Content type of a successful answer.
    pub answers: &'static str,
    /// Whether an API key is needed.
    pub auth: bool,
    /// Whether the body is a contact upload, with the larger size limit.
    pub upload: bool,
}

const JSON: &str = "application/json";
const NONE: &[(&str, &str)] = &[];
const CONTROL_BODY: &[&str] = &[JSON];

const fn route(
    method: Method,
    path: &'static str,
    operation: &'static str,
    tag: &'static str,
    summary: &'static str,
) -> Route {
    Route {
        method,
        path,
        operation,
        summary,
        tag,
        query: NONE,
        body: &[],
        answers: JSON,
        auth: true,
        upload: false,
    }
}

const UPLOAD_QUERY: &[(&str, &str)] = &[
    (
        "skip_invalid",
        "CSV uploads: true keeps the good rows and lists the skipped ones; default false refuses the whole file",
    ),
    (
        "default_country",
        "CSV uploads: ISO 3166 country of national numbers, e.g. US",
    ),
    (
        "scheduled_start",
        "CSV uploads: no dial before this RFC 3339 time or epoch ms",
    ),
    ("end_at", "CSV uploads: the batch expires at this time"),
    (
        "concurrency",
        "CSV uploads: override of the campaign's concurrency",
    ),
    (
        "calls_per_second",
        "CSV uploads: override of the campaign's calls per second",
    ),
    (
        "max_attempts",
        "CSV uploads: override of the campaign's max attempts",
    ),
    (
        "max_followups",
        "CSV uploads: override of the campaign's follow-ups past max attempts",
    ),
    (
        "numbers",
        "CSV uploads: caller ids replacing the campaign's pool, e.g. +12125550100:2,+13125550100",
    ),
    (
        "number_strategy",
        "CSV uploads: round_robin, weighted, sticky or same_country",
    ),
    (
        "budget",
        "CSV uploads: spending limit of the batch, in currency units",
    ),
    (
        "goal",
        "CSV uploads: contacts reaching a label of goal_labels after which the batch completes",
    ),
    (
        "goal_labels",
        "CSV uploads: comma-separated success labels of goal",
    ),
];

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    Route {
        auth: false,
        answers: "text/plain",
        ..route(
            Method::Get,
            "/healthz",
            "healthz",
            "operations",
            "Liveness and store health",
        )
    },
    Route {
        auth: false,
        answers: "text/plain; version=0.0.4",
        ..route(
            Method::Get,
            "/metrics",
            "metrics",
            "operations",
            "Prometheus metrics",
        )
    },
    Route {
        auth: false,
        ..route(
            Method::Get,
            "/v1/openapi.json",
            "openapi",
            "operations",
            "This document",
        )
    },
    route(
        Method::Get,
        "/v1/campaigns",
        "list_campaigns",
        "campaigns",
        "The workspace's campaigns",
    ),
    route(
        Method::Get,
        "/v1/campaigns/{campaign_id}",
        "get_campaign",
        "campaigns",
        "One campaign's settings",
    ),
    route(
        Method::Get,
        "/v1/campaigns/{campaign_id}/stats",
        "campaign_stats",
        "campaigns",
        "A campaign's counters over all its batches",
    ),
    route(
        Method::Get,
        "/v1/campaigns/{campaign_id}/webhooks",
        "campaign_webhooks",
        "webhooks",
        "Delivery state of the campaign's webhook endpoints, with recent tries",
    ),
    Route {
        body: CONTROL_BODY,
        ..route(
            Method::Post,
            "/v1/campaigns/{campaign_id}/webhooks/{endpoint_id}/enable",
            "enable_webhook",
            "webhooks",
            "Re-enables a disabled endpoint; it resumes where it stopped",
        )
    },
    Route {
        body: &[JSON, "text/csv"],
        query: UPLOAD_QUERY,
        upload: true,
        ..route(
            Method::Post,
            "/v1/campaigns/{campaign_id}/batches",
            "create_batch",
            "batches",
            "Creates a batch from JSON contacts or a CSV upload; an Idempotency-Key header makes retries safe",
        )
    },
    Route {
        body: &[JSON, "text/csv"],
        query: UPLOAD_QUERY,
        upload: true,
        ..route(
            Method::Post,
            "/v1/campaigns/{campaign_id}/batches/preview",
            "preview_batch",
            "batches",
            "Validates an upload without creating anything: good rows, bad rows with reasons",
        )
    },
    Route {
        query: &[
            ("campaign", "only this campaign's batches"),
            ("status", "only batches with this status"),
            ("cursor", "next_cursor of the previous page"),
            ("limit", "page size, 1 to 1000, default 50"),
        ],
        ..route(
            Method::Get,
            "/v1/batches",
            "list_batches",
            "batches",
            "The workspace's batches, newest first",
        )
    },
    route(
        Method::Get,
        "/v1/batches/{batch_id}",
        "get_batch",
        "batches",
        "A batch with its live counters",
    ),
    route(
        Method::Get,
        "/v1/batches/{batch_id}/status",
        "batch_status",
        "batches",
        "Progress: status, waiting, active, completed, failed, recent calls",
    ),
    route(
        Method::Get,
        "/v1/batches/{batch_id}/stats",
        "batch_stats",
        "batches",
        "Statistics: rates, estimates and every counter",
    ),
    Route {
        answers: "text/csv",
        ..route(
            Method::Get,
            "/v1/batches/{batch_id}/export.csv",
            "export_batch",
            "batches",
            "Every contact as a CSV row, streamed",
        )
    },
    Route {
        body: CONTROL_BODY,
        ..route(
            Method::Post,
            "/v1/batches/{batch_id}/pause",
            "pause_batch",
            "controls",
            "Stops new dials; live calls finish. Idempotent",
        )
    },
    Route {
        body: CONTROL_BODY,
        ..route(
            Method::Post,
            "/v1/batches/{batch_id}/resume",
            "resume_batch",
            "controls",
            "Resumes a paused batch. Idempotent",
        )
    },
    Route {
        body: CONTROL_BODY,
        ..route(
            Method::Post,
            "/v1/batches/{batch_id}/cancel",
            "cancel_batch",
            "controls",
            "Cancels for good: waiting contacts are skipped. Idempotent",
        )
    },
    Route {
        body: CONTROL_BODY,
        ..route(
            Method::Post,
            "/v1/batches/{batch_id}/dispatch",
            "dispatch_batch",
            "controls",
            "Force dispatch: starts a pending batch now and makes retry-waiting contacts due now",
        )
    },
    route(
        Method::Get,
        "/v1/batches/{batch_id}/debug",
        "batch_debug",
        "batches",
        "Queue health: windows per time zone, effective limits, blockers, throttling, plugin faults",
    ),
    Route {
        answers: "text/event-stream",
        ..route(
            Method::Get,
            "/v1/batches/{batch_id}/events",
            "batch_events",
            "batches",
            "Server-sent events of the batch's changes and progress; resumes after Last-Event-ID",
        )
    },
    Route {
        query: &[
            ("status", "only contacts with this status"),
            ("blocker", "only waiting contacts held by this blocker"),
            (
                "disposition",
                "only contacts whose last disposition is this label",
            ),
            ("cursor", "next_cursor of the previous page"),
            ("limit", "page size, 1 to 1000, default 50"),
        ],
        ..route(
            Method::Get,
            "/v1/batches/{batch_id}/contacts",
            "list_contacts",
            "contacts",
            "The batch's contacts in upload order, filtered",
        )
    },
    route(
        Method::Get,
        "/v1/batches/{batch_id}/contacts/{seq}",
        "get_contact",
        "contacts",
        "One contact with its attempts and event log",
    ),
    Route {
        body: CONTROL_BODY,
        ..route(
            Method::Post,
            "/v1/batches/{batch_id}/contacts/{seq}/skip",
            "skip_contact",
            "contacts",
            "Takes a waiting contact out",
        )
    },
];

fn handler(operation: &str) -> Option<MethodRouter<AppState>> {
    Some(match operation {
        "healthz" => get(metrics::healthz),
        "metrics" => get(metrics::metrics),
        "openapi" => get(openapi_handler),
        "list_campaigns" => get(campaigns::list),
        "get_campaign" => get(campaigns::get_one),
        "campaign_stats" => get(campaigns::stats),
        "campaign_webhooks" => get(webhooks::list_endpoints),
        "enable_webhook" => post(webhooks::enable_endpoint),
        "create_batch" => post(batches::create),
        "preview_batch" => post(batches::preview),
        "list_batches" => get(batches::list),
        "get_batch" => get(batches::get_one),
        "batch_status" => get(batches::status),
        "batch_stats" => get(batches::stats),
        "export_batch" => get(batches::export),
        "pause_batch" => post(batches::pause),
        "resume_batch" => post(batches::resume),
        "cancel_batch" => post(batches::cancel),
        "dispatch_batch" => post(batches::dispatch),
        "batch_debug" => get(batches::debug),
        "batch_events" => get(events::stream),
        "list_contacts" => get(contacts::list),
        "get_contact" => get(contacts::get_one),
        "skip_contact" => post(contacts::skip),
        _ => return None,
    })
}

/// The router of every route in [`ROUTES`].
pub(super) fn build(state: AppState) -> Router {
    let settings = &state.inner.settings;
    let mut router = Router::new();
    for route in ROUTES {
        let limit = if route.upload {
            settings.max_upload_bytes
        } else {
            settings.max_json_bytes
        };
        let method_router = handler(route.operation)
            .unwrap_or_else(|| panic!("route {} has no handler", route.operation))
            .layer(DefaultBodyLimit::max(limit));
        router = router.route(route.path, method_router);
    }
    router
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(|| async {
            ApiError::not_found("route_not_found", "no such route; see /v1/openapi.json")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method; see /v1/openapi.json",
            )
        })
        .with_state(state)
}

async fn openapi_handler() -> axum::Json<Value> {
    axum::Json(openapi())
}

/// The OpenAPI 3.1 document of [`ROUTES`].
/// Inbound provider webhooks: served beside the API by the router of
/// `provider::webhooks`, which `outdial run` merges in. Not in [`ROUTES`]
/// (its handler verifies the provider's signature, not an API key), but
/// documented with them so the document lists every endpoint a server
/// answers.
pub const PROVIDER_WEBHOOK: &str = crate::provider::webhooks::WEBHOOK_ROUTE;

pub fn openapi() -> Value {
    let mut paths = Map::new();
    paths.insert(
        PROVIDER_WEBHOOK.to_string(),
        json!({"post": {
            "operationId": "provider_webhook",
            "summary": "A provider's status callback for a campaign: verified by the campaign's adapter plugin, made durable, then answered",
            "tags": ["providers"],
            "parameters": [{"name": "campaign_id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "requestBody": {"required": true, "content": {
                "application/x-www-form-urlencoded": {},
                JSON: {}
            }},
            "responses": {
                "200": {"description": "the events are on disk"},
                "401": {"description": "the signature does not verify"},
                "404": {"description": "no campaign dials through an adapter under this id"},
                "503": {"description": "the events could not be made durable; the provider retries"}
            },
            "security": []
        }}),
    );
    for route in ROUTES {
        let mut parameters: Vec<Value> = path_parameters(route.path)
            .map(|name| {
                let schema = if name == "seq" {
                    json!({"type": "integer", "minimum": 0, "maximum": u64::MAX})
                } else {
                    json!({"type": "string"})
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        for (name, description) in route.query {
            parameters.push(json!({
                "name": name, "in": "query", "required": false,
                "description": description, "schema": query_schema(route.operation, name)
            }));
        }
        if route.operation == "create_batch" {
            parameters.push(json!({
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "a retried create with the same key and body answers the first batch; another body with the same key is 409",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}
            }));
        }
        let mut operation = json!({
            "operationId": route.operation,
            "summary": route.summary,
            "tags": [route.tag],
            "parameters": parameters,
            "responses": {
                "200": {"description": "success", "content": {route.answers: answer_schema(route.operation)}},
                "4XX": {"description": "the request was refused", "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        if !route.body.is_empty() {
            let content: Map<String, Value> = route
                .body
                .iter()
                .map(|kind| {
                    let schema = body_schema(route.operation, kind);
                    (kind.to_string(), json!({ "schema": schema }))
                })
                .collect();
            operation["requestBody"] = json!({"required": route.upload, "content": content});
        }
        if route.operation == "create_batch" {
            operation["responses"]["201"] = json!({"description": "the batch was created", "content": {JSON: answer_schema(route.operation)}});
            operation["responses"]["200"]["description"] =
                json!("a retry under the same Idempotency-Key: the batch created first");
        }
        if route.auth {
            operation["security"] = json!([{"bearer": []}, {"apiKey": []}]);
        } else {
            operation["security"] = json!([]);
        }
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[route.method.as_str()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "outdial",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Outbound call campaigns: batches, contacts, progress, controls, exports, live events and signed webhooks. Every key belongs to one workspace; another workspace's resources answer 404."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}
            },
            "schemas": {
                "Counters": object_with(&[
                    ("total", json!({"type": "integer"})),
                    ("by_status", json!({"type": "object"})),
                    ("by_blocker", json!({"type": "object"})),
                    ("waiting", json!({"type": "integer"})),
                    ("live", json!({"type": "integer"})),
                    ("finished", json!({"type": "integer"})),
                    ("attempts", json!({"type": "integer"})),
                ]),
                "Batch": object_with(&[
                    ("id", json!({"type": "string"})),
                    ("workspace", json!({"type": "string"})),
                    ("campaign_id", json!({"type": "string"})),
                    ("status", json!({"enum": wire_names(&crate::model::BatchStatus::ALL)})),
                    ("status_reason", json!({"type": ["string", "null"]})),
                    ("created_at", json!({"type": "integer"})),
                    ("scheduled_start", json!({"type": ["integer", "null"]})),
                    ("end_at", json!({"type": ["integer", "null"]})),
                    ("counters", json!({"$ref": "#/components/schemas/Counters"})),
                ]),
                "Contact": object_with(&[
                    ("batch_id", json!({"type": "string"})),
                    ("seq", json!({"type": "integer", "minimum": 0})),
                    ("contact_id", json!({"type": "string"})),
                    ("phone", json!({"type": "string"})),
                    ("status", json!({"enum": wire_names(&crate::model::ContactStatus::ALL)})),
                    ("attempts_made", json!({"type": "integer"})),
                    ("max_attempts", json!({"type": ["integer", "null"]})),
                    ("followups_made", json!({"type": "integer"})),
                    ("max_followups", json!({"type": ["integer", "null"]})),
                    ("final_reason", json!({"type": ["string", "null"]})),
                ]),
                "Campaign": object_with(&[
                    ("id", json!({"type": "string"})),
                    ("workspace", json!({"type": "string"})),
                    ("concurrency", json!({"type": "integer"})),
                    ("calls_per_second", json!({"type": "number"})),
                    ("max_attempts", json!({"type": "integer"})),
                ]),
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string", "description": "stable, snake_case"},
                            "message": {"type": "string"},
                            "rows": {"type": "array", "description": "bad rows of a refused upload"}
                        }
                    }}
                }
            }
        }
    })
}

/// The names an enum is written with on the wire, in its `ALL` order.
fn wire_names<T: serde::Serialize>(values: &[T]) -> Vec<Value> {
    values
        .iter()
        .map(|value| serde_json::to_value(value).expect("an enum serializes"))
        .collect()
}

const U32_MAX: u64 = u32::MAX as u64;

/// What a query parameter takes, as its handler parses it: a value
/// outside this schema is refused with 400 `invalid_parameter`.
fn query_schema(operation: &str, name: &str) -> Value {
    use crate::model::{BatchStatus, Blocker, ContactStatus, NumberStrategy};
    match (operation, name) {
        ("list_batches", "status") => json!({"enum": wire_names(&BatchStatus::ALL)}),
        ("list_contacts", "status") => json!({"enum": wire_names(&ContactStatus::ALL)}),
        (_, "blocker") => json!({"enum": wire_names(&Blocker::ALL)}),
        (_, "number_strategy") => json!({"enum": wire_names(&[
            NumberStrategy::RoundRobin,
            NumberStrategy::Weighted,
            NumberStrategy::Sticky,
            NumberStrategy::SameCountry,
        ])}),
        (_, "limit") => json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        (_, "skip_invalid") => json!({"type": "boolean"}),
        (_, "concurrency" | "max_attempts") => {
            json!({"type": "integer", "minimum": 1, "maximum": U32_MAX})
        }
        (_, "max_followups") => json!({"type": "integer", "minimum": 0, "maximum": 100}),
        (_, "goal") => json!({"type": "integer", "minimum": 1, "maximum": u64::MAX}),
        (_, "goal_labels") => json!({"type": "string", "pattern": "[^\\s,]"}),
        (_, "calls_per_second") => {
            json!({"type": "number", "exclusiveMinimum": 0, "maximum": 10_000})
        }
        (_, "budget") => json!({"type": "number", "exclusiveMinimum": 0, "maximum": 1e12}),
        ("list_contacts", "cursor") => json!({"type": "string", "pattern": "^[0-9]{1,19}$"}),
        (_, "scheduled_start" | "end_at") => json!({"anyOf": [
            {"type": "string", "format": "date-time"},
            {"type": "string", "pattern": "^[0-9]{1,15}$"}
        ], "description": "RFC 3339 time or epoch ms"}),
        _ => json!({"type": "string"}),
    }
}

/// An object with `fields`, every one of them required; other fields may
/// be there too.
fn object_with(fields: &[(&str, Value)]) -> Value {
    let required: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    let properties: Map<String, Value> = fields
        .iter()
        .map(|(name, schema)| (name.to_string(), schema.clone()))
        .collect();
    json!({"type": "object", "required": required, "properties": properties})
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The media type entry of an operation's successful JSON answer.
fn answer_schema(operation: &str) -> Value {
    let list_of = |key: &str, item: &str| {
        object_with(&[
            (key, json!({"type": "array", "items": schema_ref(item)})),
            ("next_cursor", json!({"type": ["string", "null"]})),
        ])
    };
    let batch_status = || json!({"enum": wire_names(&crate::model::BatchStatus::ALL)});
    let schema = match operation {
        "list_campaigns" => object_with(&[(
            "campaigns",
            json!({"type": "array", "items": schema_ref("Campaign")}),
        )]),
        "get_campaign" => schema_ref("Campaign"),
        "campaign_stats" => object_with(&[
            ("campaign_id", json!({"type": "string"})),
            ("total", json!({"type": "integer"})),
        ]),
        "campaign_webhooks" => object_with(&[("endpoints", json!({"type": "array"}))]),
        "create_batch" => object_with(&[
            ("batch", schema_ref("Batch")),
            ("created", json!({"type": "integer"})),
            ("skipped", json!({"type": "array"})),
        ]),
        "preview_batch" => object_with(&[
            ("valid", json!({"type": "integer"})),
            ("invalid", json!({"type": "integer"})),
            ("rows", json!({"type": "array"})),
            ("sample", json!({"type": "array"})),
        ]),
        "list_batches" => list_of("batches", "Batch"),
        "get_batch" | "pause_batch" | "resume_batch" | "cancel_batch" | "dispatch_batch" => {
            schema_ref("Batch")
        }
        "batch_status" => object_with(&[
            ("status", batch_status()),
            ("isComplete", json!({"type": "boolean"})),
            ("waiting", json!({"type": "integer"})),
            ("active", json!({"type": "integer"})),
            ("completed", json!({"type": "integer"})),
            ("failed", json!({"type": "integer"})),
            ("total", json!({"type": "integer"})),
            ("recent_calls", json!({"type": "array"})),
        ]),
        "batch_stats" => object_with(&[
            ("total", json!({"type": "integer"})),
            ("processed", json!({"type": "integer"})),
            ("succeeded", json!({"type": "integer"})),
            ("failed", json!({"type": "integer"})),
            ("pending", json!({"type": "integer"})),
            ("percentComplete", json!({"type": "number"})),
            ("counters", schema_ref("Counters")),
        ]),
        "batch_debug" => object_with(&[
            ("batch_id", json!({"type": "string"})),
            ("status", batch_status()),
            ("status_reason", json!({"type": ["string", "null"]})),
            ("live_calls", json!({"type": "integer"})),
            ("blockers", json!({"type": "object"})),
            ("queue", json!({"type": "object"})),
        ]),
        "list_contacts" => list_of("contacts", "Contact"),
        "skip_contact" => schema_ref("Contact"),
        "get_contact" => json!({"allOf": [
            schema_ref("Contact"),
            object_with(&[
                ("attempts", json!({"type": "array"})),
                ("events", json!({"type": "array"})),
            ])
        ]}),
        "enable_webhook" | "openapi" => json!({"type": "object"}),
        _ => return json!({}),
    };
    json!({ "schema": schema })
}

/// `schema` or `null`: an optional field of a body may be sent as null.
fn nullable(schema: Value) -> Value {
    json!({"anyOf": [schema, {"type": "null"}]})
}

/// The request body of an operation in one content type.
fn body_schema(operation: &str, content_type: &str) -> Value {
    let reason = json!({"type": "object", "additionalProperties": false, "properties": {
        "reason": nullable(json!({"type": "string", "maxLength": 500, "description": "recorded with the change"}))
    }});
    let time = json!({"anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_i64}
    ], "description": "RFC 3339 time or epoch ms"});
    match (operation, content_type) {
        (_, "text/csv") => {
            json!({"type": "string", "description": "a header row naming the columns (phone required), then one contact a row"})
        }
        ("create_batch" | "preview_batch", _) => nullable_properties(json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "contacts": {"type": "array", "items": {"type": "object"}, "description": "contacts: phone required; contact_id, first_name, last_name, email, time_zone, metadata, ..."},
                "skip_invalid": {"type": "boolean"},
                "default_country": {"type": "string"},
                "scheduled_start": time,
                "end_at": time,
                "concurrency": query_schema(operation, "concurrency"),
                "calls_per_second": query_schema(operation, "calls_per_second"),
                "max_attempts": query_schema(operation, "max_attempts"),
                "max_followups": query_schema(operation, "max_followups"),
                "numbers": {"type": "array", "minItems": 1, "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["number"],
                    "properties": {
                        "number": {"type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$"},
                        "weight": nullable(json!({"type": "integer", "minimum": 1, "maximum": U32_MAX})),
                        "enabled": nullable(json!({"type": "boolean"}))
                    }
                }},
                "number_strategy": query_schema(operation, "number_strategy"),
                "budget": query_schema(operation, "budget"),
                "goal": {
                    "type": "object",
                    "required": ["target", "success_labels"],
                    "properties": {
                        "target": query_schema(operation, "goal"),
                        "success_labels": {"type": "array", "minItems": 1, "items": {"type": "string"},
                            "contains": {"type": "string", "pattern": "\\S"}}
                    }
                }
            }
        })),
        ("enable_webhook", _) => json!({"type": "object", "additionalProperties": false}),
        _ => reason,
    }
}

/// Every property of an object schema made nullable: the handlers read
/// each as an `Option`.
fn nullable_properties(mut schema: Value) -> Value {
    if let Some(properties) = schema["properties"].as_object_mut() {
        for property in properties.values_mut() {
            *property = nullable(property.take());
        }
    }
    schema
}

/// The `{name}` parameters of a path, in order.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|part| {
        part.strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
    })
}
