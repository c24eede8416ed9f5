//! Inbound provider webhooks: `POST /v1/webhooks/providers/{campaign_id}`.
//!
//! The raw request goes to the campaign's adapter plugin, which verifies
//! its signature and reads its events; the events are made durable (written
//! and fsynced) before the provider is answered 2xx, so an acknowledged
//! event is never lost. A bad signature is answered 401 and counted;
//! duplicated and out-of-order events are harmless downstream (the engine
//! ignores events for attempts that are no longer live).
//!
//! The router stands alone so the main API can `merge` it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::adapter::{AdapterProvider, WebhookRefusal};
use crate::clock::Clock;
use crate::plugin_host::wit;

/// The path of a campaign's webhook endpoint.
pub const WEBHOOK_ROUTE: &str = "/v1/webhooks/providers/{campaign_id}";
/// The largest webhook body accepted.
pub const MAX_WEBHOOK_BYTES: usize = 256 * 1024;

/// The campaigns that receive provider webhooks, and how this server is
/// reached from outside.
pub struct WebhookEndpoints {
    /// The scheme and authority providers call, e.g.
    /// `https://outdial.example.com`: signatures cover the full public URL,
    /// which a proxy in front of outdial may not pass on.
    public_base: String,
    clock: Arc<dyn Clock>,
    adapters: RwLock<HashMap<String, Arc<AdapterProvider>>>,
}

impl WebhookEndpoints {
    /// No campaigns yet; `public_base` without a trailing slash.
    pub fn new(public_base: &str, clock: Arc<dyn Clock>) -> Self {
        WebhookEndpoints {
            public_base: public_base.trim_end_matches('/').to_string(),
            clock,
            adapters: RwLock::new(HashMap::new()),
        }
    }

    /// The public URL of `campaign_id`'s endpoint: the callback URL handed
    /// to its provider.
    pub fn callback_url(&self, campaign_id: &str) -> String {
        let encoded: String =
            form_urlencoded::byte_serialize(campaign_id.as_bytes()).collect::<String>();
        format!(
            "{}{}",
            self.public_base,
            WEBHOOK_ROUTE.replace("{campaign_id}", &encoded)
        )
    }

    /// Route `adapter`'s campaign's webhooks to it.
    pub fn register(&self, adapter: Arc<AdapterProvider>) {
        self.adapters
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(adapter.campaign_id().to_string(), adapter);
    }

    fn adapter(&self, campaign_id: &str) -> Option<Arc<AdapterProvider>> {
        self.adapters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(campaign_id)
            .cloned()
    }
}

/// The webhook router, to serve alone or merge into the API.
pub fn router(endpoints: Arc<WebhookEndpoints>) -> Router {
    Router::new()
        .route(WEBHOOK_ROUTE, post(receive))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .with_state(endpoints)
}

/// A provider's status callback.
#[utoipa::path(
    post,
    path = WEBHOOK_ROUTE,
    operation_id = "provider_webhook",
    tag = "providers",
    summary = "A provider's status callback for a campaign: verified by the campaign's adapter plugin, made durable, then answered",
    security(()),
    params(("campaign_id" = String, Path, description = "The campaign whose adapter the provider calls back")),
    request_body(
        content(
            (String = "application/x-www-form-urlencoded"),
            (Object = "application/json"),
        ),
        description = "The provider's own callback, as its adapter plugin reads it",
    ),
    responses(
        (status = 200, description = "The events are on disk", body = String, content_type = "text/plain"),
        (status = 401, description = "The signature does not verify", body = String, content_type = "text/plain"),
        (status = 404, description = "No campaign dials through an adapter under this id", body = String, content_type = "text/plain"),
        (status = 503, description = "The events could not be made durable; the provider retries", body = String, content_type = "text/plain"),
    ),
)]
pub(crate) async fn receive(
    State(endpoints): State<Arc<WebhookEndpoints>>,
    Path(campaign_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(adapter) = endpoints.adapter(&campaign_id) else {
        return (
            StatusCode::NOT_FOUND,
            format!("no campaign \"{campaign_id}\" receives provider webhooks\n"),
        )
            .into_response();
    };
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string());
    let webhook = wit::InboundWebhook {
        method: method.as_str().to_string(),
        url: format!("{}{path_and_query}", endpoints.public_base),
        headers: headers
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
            })
            .collect(),
        body: body.to_vec(),
        received_at: endpoints.clock.now(),
    };
    match adapter.accept_webhook(webhook).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(refusal) => {
            let status = match &refusal {
                WebhookRefusal::BadSignature(_) => StatusCode::UNAUTHORIZED,
                WebhookRefusal::Malformed(_) => StatusCode::BAD_REQUEST,
                WebhookRefusal::PluginFault(_) => StatusCode::INTERNAL_SERVER_ERROR,
                // Not durable: the provider must send it again.
                WebhookRefusal::NotDurable(_) => StatusCode::SERVICE_UNAVAILABLE,
            };
            let message = adapter.redactor().redact(&refusal.to_string()).into_owned();
            tracing::warn!(campaign = %campaign_id, status = status.as_u16(), error = %message, "provider webhook refused");
            (status, format!("{message}\n")).into_response()
        }
    }
}
