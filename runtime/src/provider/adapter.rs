//! A [`Provider`] backed by a provider-adapter plugin: the plugin builds
//! and parses, the host's [`HttpExecutor`] sends, webhooks arrive through
//! [`AdapterProvider::accept_webhook`] into a durable [`Inbox`] the engine
//! drains.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::http::{EgressError, HttpExecutor, HttpLimits};
use super::inbox::{Inbox, InboxError};
use super::secrets::Redactor;
use super::{
    BoxFuture, CallEnd, CallEventKind, PlaceCall, Provider, ProviderEvent, ProviderFailure,
    StatusQuery,
};
use crate::clock::Clock;
use crate::model::{CallOutcome, MachineDetection, Millis};
use crate::plugin_host::{AdapterPlugin, wit};

/// Where an adapter provider sends and receives.
#[derive(Debug, Clone)]
pub struct AdapterSetup {
    /// The campaign the provider serves (named in logs and webhook URLs).
    pub campaign_id: String,
    /// The public URL of this campaign's webhook endpoint, handed to the
    /// provider as the status callback.
    pub callback_url: String,
    /// Hosts the plugin's requests may go to.
    pub allowed_hosts: Vec<String>,
    pub limits: HttpLimits,
    /// The durable inbox file of webhook events.
    pub inbox_path: PathBuf,
}

/// What an adapter provider has seen, for metrics and tests.
#[derive(Debug, Default)]
pub struct AdapterStats {
    pub calls_placed: AtomicU64,
    pub webhooks_accepted: AtomicU64,
    /// Webhooks refused because their signature was missing, wrong or old.
    pub webhooks_bad_signature: AtomicU64,
    pub webhooks_malformed: AtomicU64,
    /// Requests the egress allow-list refused.
    pub egress_refused: AtomicU64,
    /// Traps, deadline overruns and unusable requests of the plugin.
    pub plugin_faults: AtomicU64,
    pub status_polls: AtomicU64,
}

impl AdapterStats {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Why a webhook was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum WebhookRefusal {
    #[error("bad signature: {0}")]
    BadSignature(String),
    #[error("malformed webhook: {0}")]
    Malformed(String),
    #[error("the adapter plugin failed: {0}")]
    PluginFault(String),
    #[error(transparent)]
    NotDurable(#[from] InboxError),
}

/// A provider spoken to through an adapter plugin.
pub struct AdapterProvider {
    name: String,
    setup: AdapterSetup,
    plugin: Arc<AdapterPlugin>,
    executor: HttpExecutor,
    redactor: Redactor,
    clock: Arc<dyn Clock>,
    inbox: Inbox,
    stats: AdapterStats,
}

impl AdapterProvider {
    /// A provider for `setup.campaign_id` through `plugin`, configured with
    /// secrets the `redactor` knows.
    pub fn new(
        plugin: Arc<AdapterPlugin>,
        setup: AdapterSetup,
        redactor: Redactor,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<AdapterProvider> {
        let executor = HttpExecutor::new(&setup.allowed_hosts, setup.limits.clone())
            .map_err(|err| anyhow::anyhow!("campaign \"{}\": {err}", setup.campaign_id))?;
        let inbox = Inbox::open(&setup.inbox_path)?;
        Ok(AdapterProvider {
            name: plugin.info().name.clone(),
            setup,
            plugin,
            executor,
            redactor,
            clock,
            inbox,
            stats: AdapterStats::default(),
        })
    }

    /// The counters of this provider.
    pub fn stats(&self) -> &AdapterStats {
        &self.stats
    }

    /// The campaign this provider serves.
    pub fn campaign_id(&self) -> &str {
        &self.setup.campaign_id
    }

    /// The redactor of this provider's secrets.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Verify `webhook` through the plugin and make its events durable;
    /// answers how many events it carried. Only after `Ok` may the
    /// provider be told the webhook was received.
    pub async fn accept_webhook(
        &self,
        webhook: wit::InboundWebhook,
    ) -> Result<usize, WebhookRefusal> {
        let received_at = webhook.received_at;
        let parsed = self.plugin.parse_webhook(&webhook).map_err(|err| {
            AdapterStats::bump(&self.stats.plugin_faults);
            WebhookRefusal::PluginFault(self.clean(&err.to_string()))
        })?;
        let events = match parsed {
            Ok(events) => events,
            Err(wit::WebhookError::BadSignature(why)) => {
                AdapterStats::bump(&self.stats.webhooks_bad_signature);
                return Err(WebhookRefusal::BadSignature(self.clean(&why)));
            }
            Err(wit::WebhookError::Malformed(why)) => {
                AdapterStats::bump(&self.stats.webhooks_malformed);
                return Err(WebhookRefusal::Malformed(self.clean(&why)));
            }
        };
        let mut normalized = Vec::with_capacity(events.len());
        for event in events {
            let Some(attempt_id) = event.attempt_id.clone() else {
                AdapterStats::bump(&self.stats.webhooks_malformed);
                return Err(WebhookRefusal::Malformed(format!(
                    "the event about call {} names no attempt",
                    event.provider_call_id
                )));
            };
            if let Some(event) = self.normalize(event, &attempt_id, received_at) {
                normalized.push(event);
            }
        }
        let count = normalized.len();
        self.inbox.append(normalized).await?;
        AdapterStats::bump(&self.stats.webhooks_accepted);
        Ok(count)
    }

    /// A plugin's event in the engine's terms; `None` for states the engine
    /// does not track (queued).
    fn normalize(
        &self,
        event: wit::CallEvent,
        attempt_id: &str,
        received_at: Millis,
    ) -> Option<ProviderEvent> {
        let kind = match event.state {
            wit::CallState::Queued => return None,
            wit::CallState::Ringing => CallEventKind::Ringing,
            wit::CallState::InProgress => CallEventKind::Answered,
            wit::CallState::Ended => {
                let mut metadata = event.metadata;
                self.redactor.redact_pairs(&mut metadata);
                CallEventKind::Ended(CallEnd {
                    outcome: event.outcome.map_or(CallOutcome::Unknown, outcome_of),
                    sip_code: event.sip_code,
                    talk_ms: event.talk_ms.unwrap_or(0),
                    ring_ms: 0,
                    machine_detection: detection_of(event.machine_detection),
                    transcript: event.transcript.map(|text| self.clean(&text)),
                    cost_micros: event.cost_micros,
                    metadata,
                })
            }
        };
        Some(ProviderEvent {
            attempt_id: attempt_id.to_string(),
            provider_call_id: event.provider_call_id,
            at: event.at.unwrap_or(received_at),
            kind,
        })
    }

    fn clean(&self, text: &str) -> String {
        self.redactor.redact(text).into_owned()
    }

    /// A plugin or egress fault: counted, logged, and answered as such.
    fn fault(&self, attempt_id: &str, what: &str, message: &str) -> ProviderFailure {
        AdapterStats::bump(&self.stats.plugin_faults);
        let message = self.clean(message);
        tracing::warn!(
            campaign = %self.setup.campaign_id,
            plugin = %self.name,
            attempt = %attempt_id,
            error = %message,
            "{what}"
        );
        ProviderFailure::PluginFault(message)
    }

    fn egress_failure(&self, attempt_id: &str, err: EgressError) -> ProviderFailure {
        if matches!(err, EgressError::NotAllowed { .. }) {
            AdapterStats::bump(&self.stats.egress_refused);
        }
        if err.is_plugin_fault() {
            return self.fault(attempt_id, "adapter request refused", &err.to_string());
        }
        ProviderFailure::Transient(self.clean(&err.to_string()))
    }

    fn provider_error(&self, error: wit::ProviderError) -> ProviderFailure {
        match error {
            wit::ProviderError::Throttled(retry_after_ms) => {
                ProviderFailure::Throttled { retry_after_ms }
            }
            wit::ProviderError::InvalidNumber(why) => {
                ProviderFailure::InvalidNumber(self.clean(&why))
            }
            wit::ProviderError::Auth(why) => ProviderFailure::Auth(self.clean(&why)),
            wit::ProviderError::Transient(why) => ProviderFailure::Transient(self.clean(&why)),
            wit::ProviderError::Permanent(why) => ProviderFailure::Permanent(self.clean(&why)),
        }
    }

    async fn place(&self, call: PlaceCall, now: Millis) -> Result<String, ProviderFailure> {
        let request = wit::CallRequest {
            attempt_id: call.attempt_id.clone(),
            to: call.to,
            caller: call.from,
            callback_url: self.setup.callback_url.clone(),
            parameters: call.parameters,
        };
        let http = match self.plugin.build_place_call(&request, now) {
            Err(err) => {
                return Err(self.fault(
                    &call.attempt_id,
                    "adapter failed to build a call",
                    &err.to_string(),
                ));
            }
            Ok(Err(error)) => return Err(self.provider_error(error)),
            Ok(Ok(http)) => http,
        };
        let response = self.executor.execute(&http).await.map_err(|err| {
            if err.may_have_reached_the_provider() {
                ProviderFailure::PlacementUnknown(self.clean(&err.to_string()))
            } else {
                self.egress_failure(&call.attempt_id, err)
            }
        })?;
        match self.plugin.parse_place_call(&request, &response, now) {
            Err(err) => Err(self.fault(
                &call.attempt_id,
                "adapter failed to read the provider's answer",
                &err.to_string(),
            )),
            Ok(Err(error)) => Err(self.provider_error(error)),
            Ok(Ok(call_id)) => {
                AdapterStats::bump(&self.stats.calls_placed);
                Ok(call_id)
            }
        }
    }

    async fn poll(
        &self,
        request: wit::HttpRequest,
        provider_call_id: String,
        attempt_id: String,
    ) -> Result<Option<ProviderEvent>, ProviderFailure> {
        AdapterStats::bump(&self.stats.status_polls);
        let response = self
            .executor
            .execute(&request)
            .await
            .map_err(|err| self.egress_failure(&attempt_id, err))?;
        let now = self.clock.now();
        match self
            .plugin
            .parse_status_poll(&provider_call_id, &response, now)
        {
            Err(err) => Err(self.fault(
                &attempt_id,
                "adapter failed to read a status poll",
                &err.to_string(),
            )),
            Ok(Err(error)) => Err(self.provider_error(error)),
            Ok(Ok(event)) => Ok(self.normalize(event, &attempt_id, now)),
        }
    }
}

impl Provider for AdapterProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn place_call(
        &self,
        call: PlaceCall,
        now: Millis,
    ) -> BoxFuture<'_, Result<String, ProviderFailure>> {
        Box::pin(self.place(call, now))
    }

    fn drain_events(&self, _now: Millis) -> Vec<ProviderEvent> {
        self.inbox.drain()
    }

    fn poll_status(
        &self,
        call: &StatusQuery<'_>,
    ) -> Option<BoxFuture<'_, Result<Option<ProviderEvent>, ProviderFailure>>> {
        let StatusQuery {
            provider_call_id,
            attempt_id,
            ..
        } = *call;
        let request = match self
            .plugin
            .build_status_poll(provider_call_id, self.clock.now())
        {
            Ok(request) => request?,
            Err(err) => {
                self.fault(
                    attempt_id,
                    "adapter failed to build a status poll",
                    &err.to_string(),
                );
                return None;
            }
        };
        Some(Box::pin(self.poll(
            request,
            provider_call_id.to_string(),
            attempt_id.to_string(),
        )))
    }
}

fn outcome_of(outcome: wit::CallOutcome) -> CallOutcome {
    match outcome {
        wit::CallOutcome::Answered => CallOutcome::Answered,
        wit::CallOutcome::Busy => CallOutcome::Busy,
        wit::CallOutcome::NoAnswer => CallOutcome::NoAnswer,
        wit::CallOutcome::Failed => CallOutcome::Failed,
        wit::CallOutcome::Canceled => CallOutcome::Canceled,
        wit::CallOutcome::Unknown => CallOutcome::Unknown,
    }
}

fn detection_of(detection: wit::MachineDetection) -> MachineDetection {
    match detection {
        wit::MachineDetection::NotRun => MachineDetection::NotRun,
        wit::MachineDetection::Human => MachineDetection::Human,
        wit::MachineDetection::Machine => MachineDetection::Machine,
        wit::MachineDetection::CallScreening => MachineDetection::CallScreening,
        wit::MachineDetection::Fax => MachineDetection::Fax,
        wit::MachineDetection::Unknown => MachineDetection::Unknown,
    }
}
