//! Providers: who actually places the calls. The engine speaks to every
//! provider through [`Provider`]: it asks for a call to be placed and later
//! drains the normalized events the provider reported about its calls.

use std::future::Future;
use std::pin::Pin;

pub mod adapter;
pub mod http;
pub mod inbox;
pub mod registry;
pub mod secrets;
pub mod simulated;
pub mod webhooks;

pub use adapter::{AdapterProvider, AdapterSetup};
pub use registry::{ProviderContext, ProviderRouter, ProviderSetupError, Providers, providers_for};
pub use simulated::{SimulatedProvider, SimulationConfig};

use crate::model::{CallOutcome, MachineDetection, Millis};

/// A call the engine asks a provider to place.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceCall {
    /// The attempt id: the idempotency key. A provider must never place two
    /// calls for one attempt id.
    pub attempt_id: String,
    /// The campaign the call belongs to: which provider places it when
    /// several serve one engine.
    pub campaign_id: String,
    pub batch_id: String,
    pub contact_id: String,
    /// Destination, E.164.
    pub to: String,
    /// Caller id, E.164.
    pub from: String,
    /// Per-call parameters (A/B variant's agent or script id, ...).
    pub parameters: Vec<(String, String)>,
}

/// Why a provider did not accept a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderFailure {
    #[error("throttled: retry after {retry_after_ms} ms")]
    Throttled { retry_after_ms: u64 },
    #[error("invalid number: {0}")]
    InvalidNumber(String),
    #[error("authentication refused: {0}")]
    Auth(String),
    #[error("transient failure: {0}")]
    Transient(String),
    /// The request to place the call may have reached the provider, but
    /// no answer came back: the call may exist. Never retried at once.
    #[error("placement unknown: {0}")]
    PlacementUnknown(String),
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// The adapter plugin misbehaved (trapped, or built a request the host
    /// refused, e.g. to a host outside the egress allow-list). Counts
    /// toward pausing the batch with `plugin_faulted`.
    #[error("plugin fault: {0}")]
    PluginFault(String),
}

/// How a call ended, as the provider reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEnd {
    pub outcome: CallOutcome,
    pub sip_code: Option<u16>,
    pub talk_ms: u64,
    pub ring_ms: u64,
    pub machine_detection: MachineDetection,
    pub transcript: Option<String>,
    pub cost_micros: Option<u64>,
    /// Ended reason, summary, ...
    pub metadata: Vec<(String, String)>,
}

/// What happened to a call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEventKind {
    Ringing,
    Answered,
    Ended(CallEnd),
}

/// A provider's report about one call, normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderEvent {
    pub attempt_id: String,
    pub provider_call_id: String,
    /// When it happened, by the provider's account.
    pub at: Millis,
    pub kind: CallEventKind,
}

/// A call a status poll asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusQuery<'a> {
    pub campaign_id: &'a str,
    pub provider_call_id: &'a str,
    pub attempt_id: &'a str,
}

/// A dial intent whose placement answer was never recorded, as a
/// placement query asks about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacementQuery<'a> {
    pub campaign_id: &'a str,
    pub attempt_id: &'a str,
    /// When the intent was made durable: the call, if any, was placed
    /// after it.
    pub intent_at: Millis,
}

/// What a provider knows of the call for an attempt id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// It placed a call for the attempt, under this call id.
    Placed { provider_call_id: String },
    /// It never placed a call for the attempt and never will: the attempt
    /// id is spent, and a later placement under it is refused.
    NeverPlaced,
    /// It cannot tell (it forgot, or its records do not reach back).
    Unknown,
}

/// A boxed future, so providers can be used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Places calls and reports what became of them.
pub trait Provider: Send + Sync + 'static {
    /// The provider's name, for logs and the debug view.
    fn name(&self) -> &str;

    /// Ask for `call` to be placed; answers the provider's call id.
    fn place_call(
        &self,
        call: PlaceCall,
        now: Millis,
    ) -> BoxFuture<'_, Result<String, ProviderFailure>>;

    /// Every event reported up to `now` and not drained yet, in order.
    fn drain_events(&self, now: Millis) -> Vec<ProviderEvent>;

    /// Ask the provider where a call stands, for a call whose final event
    /// is overdue. `None` when this provider cannot be asked.
    fn poll_status(
        &self,
        _call: &StatusQuery<'_>,
    ) -> Option<BoxFuture<'_, Result<Option<ProviderEvent>, ProviderFailure>>> {
        None
    }

    /// Ask whether a call was placed for an attempt whose placement answer
    /// was never recorded: the process died, or the answer was lost, after
    /// the intent was made durable. `None` when this provider cannot be
    /// asked; only one that finds calls by the attempt id (its idempotency
    /// key or client reference) and can refuse later placements under it
    /// can answer [`Placement::NeverPlaced`].
    fn find_placement(
        &self,
        _intent: &PlacementQuery<'_>,
    ) -> Option<BoxFuture<'_, Result<Placement, ProviderFailure>>> {
        None
    }
}
