//! Outbound webhooks. Changes reach the journal in the same commit as the
//! change itself; this deliverer reads the journal in order and posts each
//! event an endpoint subscribed to, signed with HMAC-SHA256 over the
//! timestamp and the body. A failed delivery is retried with exponential
//! backoff on the injected clock, holding back later events so an endpoint
//! sees them in order; an endpoint that keeps failing is disabled with the
//! reason shown by `GET /v1/campaigns/{id}/webhooks`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ErrorBody;
use super::body::{StrictJson, StrictPath};
use super::{ApiError, ApiResult, ApiSetupError, AppState, Caller, ErrorCode};
use crate::model::{
    CampaignSpec, EventKind, HOUR_MS, JournalEvent, Millis, SECOND_MS, Webhook, WebhookDelivery,
    WebhookEndpointState,
};
use crate::store::Store;

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Wait before the first retry of a failed delivery, doubled each
    /// time, in ms of the injected clock. Default: 10 s.
    pub first_retry_ms: Millis,
    /// Longest wait between retries, in ms. Default: 1 h.
    pub max_retry_ms: Millis,
    /// An endpoint failing for this long is disabled, in ms. Default: 24 h.
    pub disable_after_ms: Millis,
    /// Time allowed for one request, in real time. Default: 10 s.
    pub request_timeout: Duration,
    /// How often the deliverer looks for work, in real time. Default: 100 ms.
    pub poll_interval: Duration,
    /// Delivery tries kept in each endpoint's log. Default: 100.
    pub keep_tries: u64,
    /// Journal events kept after every endpoint has them, for live event
    /// streams that resume. Default: 100,000.
    pub keep_journal: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            first_retry_ms: 10 * SECOND_MS,
            max_retry_ms: HOUR_MS,
            disable_after_ms: 24 * HOUR_MS,
            request_timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(100),
            keep_tries: 100,
            keep_journal: 100_000,
        }
    }
}

/// The signature header's value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<unix seconds>.<body>">`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// A configured endpoint.
pub(super) struct Endpoint {
    id: String,
    workspace: String,
    campaign_id: String,
    webhook: Webhook,
    secret: Option<Vec<u8>>,
}

fn endpoint_id(workspace: &str, campaign: &str, url: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [workspace, campaign, url] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    format!("whk_{}", &hex::encode(hasher.finalize())[..16])
}

/// Whether `url` is one the deliverer can post to: https (TLS with the
/// platform's root certificates) or plain http.
fn is_web_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

impl Endpoint {
    /// Every campaign's endpoints, with their stored state created for new
    /// ones and problems that stop delivery (no secret, a url that is not
    /// http or https) recorded as the reason they are disabled.
    pub(super) fn set_up(
        store: &dyn Store,
        campaigns: &[CampaignSpec],
        env: &(dyn Fn(&str) -> Option<String> + Send + Sync),
        now: Millis,
    ) -> Result<Vec<Endpoint>, ApiSetupError> {
        let head = store.journal_head()?;
        let mut endpoints = Vec::new();
        for spec in campaigns {
            for webhook in &spec.webhooks {
                let id = endpoint_id(&spec.workspace, &spec.id, &webhook.url);
                let secret = env(&webhook.secret_env)
                    .filter(|secret| !secret.is_empty())
                    .map(String::into_bytes);
                let problem = if secret.is_none() {
                    Some(format!(
                        "signing secret variable \"{}\" is not set",
                        webhook.secret_env
                    ))
                } else if !is_web_url(&webhook.url) {
                    Some(format!(
                        "url \"{}\" is neither https:// nor http://, expected an https:// url",
                        webhook.url
                    ))
                } else {
                    None
                };
                let mut state = store
                    .webhook_endpoint(&id)?
                    .unwrap_or(WebhookEndpointState {
                        id: id.clone(),
                        workspace: spec.workspace.clone(),
                        campaign_id: spec.id.clone(),
                        url: webhook.url.clone(),
                        delivered_through: head,
                        failures_in_a_row: 0,
                        failing_since: None,
                        next_attempt_at: None,
                        last_success_at: None,
                        last_error: None,
                        disabled_reason: None,
                        disabled_at: None,
                        delivered: 0,
                        tries_logged: 0,
                    });
                if let Some(problem) = problem {
                    state.disabled_reason = Some(problem);
                    state.disabled_at.get_or_insert(now);
                } else if state.disabled_reason.as_deref().is_some_and(|reason| {
                    reason.starts_with("signing secret") || reason.starts_with("url ")
                }) {
                    // The config problem that disabled it is fixed.
                    state.disabled_reason = None;
                    state.disabled_at = None;
                }
                store.save_webhook_endpoint(state, None, 0)?;
                endpoints.push(Endpoint {
                    id,
                    workspace: spec.workspace.clone(),
                    campaign_id: spec.id.clone(),
                    webhook: webhook.clone(),
                    secret,
                });
            }
        }
        Ok(endpoints)
    }

    fn wants(&self, event: &JournalEvent) -> bool {
        event.workspace == self.workspace
            && event.campaign_id == self.campaign_id
            && subscribed_names(event)
                .iter()
                .any(|name| self.webhook.wants(name))
    }
}

/// Every name a subscription may give an event by: its own, and the
/// config's status-based names ("attempt.ended", "contact.no_answer",
/// "batch.in_progress").
fn subscribed_names(event: &JournalEvent) -> Vec<String> {
    let mut names: Vec<String> = std::iter::once(event.kind.as_str())
        .chain(event.kind.aliases().iter().copied())
        .map(str::to_string)
        .collect();
    if event.kind == EventKind::ContactFinalized
        && let Some(status) = event.data["status"].as_str()
    {
        names.push(format!("contact.{status}"));
    }
    names
}

/// The body posted for an event; its bytes are what is signed.
#[derive(Serialize)]
struct Payload<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'a str,
    created_at: Millis,
    workspace: &'a str,
    campaign_id: &'a str,
    batch_id: &'a str,
    data: &'a serde_json::Value,
}

/// Starts delivering in the background.
pub(super) fn spawn_deliverer(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match crate::net::http_client()
            .timeout(state.inner.settings.webhooks.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(error = %error, "cannot build the webhook client; webhooks are not delivered");
                return;
            }
        };
        let mut rounds: u64 = 0;
        loop {
            for index in 0..state.inner.webhooks.len() {
                if let Err(error) = deliver_due(&state, &client, index).await {
                    tracing::error!(endpoint = %state.inner.webhooks[index].id, error = %error.message, "webhook delivery round failed");
                }
            }
            rounds += 1;
            if rounds.is_multiple_of(100)
                && let Err(error) = prune(&state).await
            {
                tracing::error!(error = %error.message, "journal pruning failed");
            }
            tokio::time::sleep(state.inner.settings.webhooks.poll_interval).await;
        }
    })
}

/// Deletes journal events every endpoint has and that are older than the
/// events kept for live streams. A disabled endpoint counts too: re-enabled,
/// it resumes where it stopped, so what it has not had must still be there.
async fn prune(state: &AppState) -> ApiResult<()> {
    let ids: Vec<String> = state.inner.webhooks.iter().map(|e| e.id.clone()).collect();
    let keep = state.inner.settings.webhooks.keep_journal;
    state
        .blocking(move |store| {
            let head = store.journal_head()?;
            let mut through = head.saturating_sub(keep);
            for id in &ids {
                if let Some(endpoint) = store.webhook_endpoint(id)? {
                    through = through.min(endpoint.delivered_through);
                }
            }
            if through > 0 {
                store.prune_journal(through)?;
            }
            Ok(())
        })
        .await
}

/// Whether this node delivers the endpoint's events now: on a store
/// several nodes share, one node at a time holds each endpoint's lease.
async fn delivers(state: &AppState, endpoint_id: &str) -> ApiResult<bool> {
    let id = endpoint_id.to_string();
    state
        .blocking(move |store| Ok(store.lease_webhook_endpoint(&id)?))
        .await
}

/// Delivers the endpoint's due events, in order, until one fails or none
/// is left.
async fn deliver_due(state: &AppState, client: &reqwest::Client, index: usize) -> ApiResult<()> {
    let endpoint = &state.inner.webhooks[index];
    let settings = &state.inner.settings.webhooks;
    // Taken before the state is read: the cursor is the last holder's.
    if !delivers(state, &endpoint.id).await? {
        return Ok(());
    }
    let id = endpoint.id.clone();
    let Some(mut endpoint_state) = state
        .blocking(move |store| Ok(store.webhook_endpoint(&id)?))
        .await?
    else {
        return Ok(());
    };
    if endpoint_state.disabled_reason.is_some() {
        return Ok(());
    }
    let Some(secret) = &endpoint.secret else {
        return Ok(());
    };
    if endpoint_state
        .next_attempt_at
        .is_some_and(|at| at > state.inner.clock.now())
    {
        return Ok(());
    }
    loop {
        let after = endpoint_state.delivered_through;
        let journal = state
            .blocking(move |store| Ok(store.journal(after, 500)?))
            .await?;
        let Some(last) = journal.last().map(|event| event.seq) else {
            return Ok(());
        };
        let Some(event) = journal.into_iter().find(|event| endpoint.wants(event)) else {
            // Nothing here for this endpoint: remember how far it has read.
            endpoint_state.delivered_through = last;
            save(state, &mut endpoint_state, None).await?;
            continue;
        };
        let now = state.inner.clock.now();
        let body = serde_json::to_vec(&Payload {
            id: event.id(),
            kind: event.kind.as_str(),
            created_at: event.at,
            workspace: &event.workspace,
            campaign_id: &event.campaign_id,
            batch_id: &event.batch_id,
            data: &event.data,
        })
        .map_err(ApiError::internal)?;
        let timestamp = now.div_euclid(1_000);
        if !delivers(state, &endpoint.id).await? {
            // Another node took the endpoint over (this one stalled).
            return Ok(());
        }
        let answer = client
            .post(&endpoint.webhook.url)
            .header("content-type", "application/json")
            .header("user-agent", concat!("outdial/", env!("CARGO_PKG_VERSION")))
            .header("x-outdial-event-id", event.id())
            .header("x-outdial-event", event.kind.as_str())
            .header("x-outdial-timestamp", timestamp.to_string())
            .header("x-outdial-signature", sign(secret, timestamp, &body))
            .body(body)
            .send()
            .await;
        let (http_status, error) = match answer {
            Ok(response) if response.status().is_success() => {
                (Some(response.status().as_u16()), None)
            }
            Ok(response) => (
                Some(response.status().as_u16()),
                Some(format!("the endpoint answered {}", response.status())),
            ),
            Err(error) => (None, Some(format!("request failed: {error}"))),
        };
        let delivery = WebhookDelivery {
            event_id: event.id(),
            event_kind: event.kind.to_string(),
            at: now,
            attempt: endpoint_state.failures_in_a_row + 1,
            http_status,
            error: error.clone(),
            succeeded: error.is_none(),
        };
        match error {
            None => {
                state
                    .inner
                    .metrics
                    .webhook_delivered
                    .fetch_add(1, Ordering::Relaxed);
                endpoint_state.delivered_through = event.seq;
                endpoint_state.failures_in_a_row = 0;
                endpoint_state.failing_since = None;
                endpoint_state.next_attempt_at = None;
                endpoint_state.last_success_at = Some(now);
                endpoint_state.delivered += 1;
                save(state, &mut endpoint_state, Some(delivery)).await?;
            }
            Some(error) => {
                state
                    .inner
                    .metrics
                    .webhook_failed
                    .fetch_add(1, Ordering::Relaxed);
                // Everything before the failing event is done.
                endpoint_state.delivered_through = event.seq - 1;
                endpoint_state.failures_in_a_row += 1;
                let since = *endpoint_state.failing_since.get_or_insert(now);
                endpoint_state.last_error = Some(error.clone());
                if now - since >= settings.disable_after_ms {
                    endpoint_state.disabled_reason = Some(format!(
                        "failing for {} s over {} tries, last: {error}",
                        (now - since) / 1_000,
                        endpoint_state.failures_in_a_row
                    ));
                    endpoint_state.disabled_at = Some(now);
                    endpoint_state.next_attempt_at = None;
                    tracing::warn!(endpoint = %endpoint.id, url = %endpoint.webhook.url, "webhook endpoint disabled");
                } else {
                    let exponent = endpoint_state.failures_in_a_row.saturating_sub(1).min(30);
                    let wait = settings
                        .first_retry_ms
                        .saturating_mul(1 << exponent)
                        .min(settings.max_retry_ms);
                    endpoint_state.next_attempt_at = Some(now + wait);
                }
                save(state, &mut endpoint_state, Some(delivery)).await?;
                return Ok(());
            }
        }
    }
}

/// Saves the endpoint's state; a logged try is counted in `endpoint` too,
/// as the store counts it.
async fn save(
    state: &AppState,
    endpoint: &mut WebhookEndpointState,
    delivery: Option<WebhookDelivery>,
) -> ApiResult<()> {
    let keep = state.inner.settings.webhooks.keep_tries;
    let saved = endpoint.clone();
    let logged = delivery.is_some();
    state
        .blocking(move |store| Ok(store.save_webhook_endpoint(saved, delivery, keep)?))
        .await?;
    if logged {
        endpoint.tries_logged += 1;
    }
    Ok(())
}

/// A webhook endpoint: its delivery state and latest tries.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    #[serde(flatten)]
    state: WebhookEndpointState,
    /// The event kinds it is sent, as the config's filter names them.
    #[schema(example = json!(["batch.*", "contact.finalized"]))]
    events: Vec<String>,
    /// False once deliveries failed for too long; see `disabled_reason`.
    enabled: bool,
    /// Events journaled but not delivered yet (all kinds; upper bound).
    behind: u64,
    recent_tries: Vec<WebhookDelivery>,
}

/// A campaign's webhook endpoints.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EndpointList {
    endpoints: Vec<EndpointView>,
}

/// Tries shown per endpoint.
const RECENT_TRIES: usize = 20;

#[utoipa::path(
    get,
    path = "/v1/campaigns/{campaign_id}/webhooks",
    operation_id = "campaign_webhooks",
    tag = "webhooks",
    summary = "Delivery state of the campaign's webhook endpoints, with recent tries",
    params(("campaign_id" = String, Path, description = "The campaign, as its config names it")),
    responses(
        (status = 200, description = "The endpoints", body = EndpointList),
        (status = 404, description = "No such campaign in the key's workspace", body = ErrorBody),
    ),
)]
pub async fn list_endpoints(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath(campaign_id): StrictPath<String>,
) -> ApiResult<Json<EndpointList>> {
    let spec = state.campaign(&caller, &campaign_id)?.clone();
    let wanted: Vec<(String, Vec<String>)> = state
        .inner
        .webhooks
        .iter()
        .filter(|e| e.workspace == spec.workspace && e.campaign_id == spec.id)
        .map(|e| (e.id.clone(), e.webhook.events.clone()))
        .collect();
    state
        .blocking(move |store| {
            let head = store.journal_head()?;
            let mut endpoints = Vec::new();
            for (id, events) in wanted {
                let Some(endpoint) = store.webhook_endpoint(&id)? else {
                    continue;
                };
                endpoints.push(EndpointView {
                    enabled: endpoint.disabled_reason.is_none(),
                    behind: head.saturating_sub(endpoint.delivered_through),
                    recent_tries: store.webhook_deliveries(&id, RECENT_TRIES)?,
                    events,
                    state: endpoint,
                });
            }
            Ok(EndpointList { endpoints })
        })
        .await
        .map(Json)
}

/// An enable takes no settings; the body may be left out or be `{}`.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableBody {}

#[utoipa::path(
    post,
    path = "/v1/campaigns/{campaign_id}/webhooks/{endpoint_id}/enable",
    operation_id = "enable_webhook",
    tag = "webhooks",
    summary = "Re-enables a disabled endpoint; it resumes where it stopped",
    params(("campaign_id" = String, Path, description = "The campaign, as its config names it"), ("endpoint_id" = String, Path, description = "The endpoint, as its campaign lists it")),
    request_body(content = Option<EnableBody>, content_type = "application/json", description = "Optional and empty"),
    responses(
        (status = 200, description = "The endpoint's delivery state", body = WebhookEndpointState),
        (status = 404, description = "No such campaign or endpoint", body = ErrorBody),
        (status = 409, description = "The endpoint's config must be fixed first", body = ErrorBody),
        (status = 415, description = "A body that is not JSON", body = ErrorBody),
    ),
)]
pub async fn enable_endpoint(
    State(state): State<AppState>,
    caller: Caller,
    StrictPath((campaign_id, endpoint_id)): StrictPath<(String, String)>,
    StrictJson(_body): StrictJson<EnableBody>,
) -> ApiResult<Json<WebhookEndpointState>> {
    let spec = state.campaign(&caller, &campaign_id)?.clone();
    let endpoint = state
        .inner
        .webhooks
        .iter()
        .find(|e| e.id == endpoint_id && e.workspace == spec.workspace && e.campaign_id == spec.id)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::WebhookNotFound,
                format!(
                    "webhook endpoint \"{endpoint_id}\" of campaign \"{campaign_id}\" not found"
                ),
            )
        })?;
    if endpoint.secret.is_none() || !is_web_url(&endpoint.webhook.url) {
        return Err(ApiError::new(
            ErrorCode::WebhookMisconfigured,
            "the endpoint cannot be enabled until its config problem is fixed; see disabled_reason",
        ));
    }
    let keep = state.inner.settings.webhooks.keep_tries;
    state
        .blocking(move |store| {
            let mut endpoint = store
                .webhook_endpoint(&endpoint_id)?
                .ok_or_else(|| ApiError::internal("a configured endpoint has no state"))?;
            endpoint.disabled_reason = None;
            endpoint.disabled_at = None;
            endpoint.failures_in_a_row = 0;
            endpoint.failing_since = None;
            endpoint.next_attempt_at = None;
            store.save_webhook_endpoint(endpoint.clone(), None, keep)?;
            Ok(endpoint)
        })
        .await
        .map(Json)
}
