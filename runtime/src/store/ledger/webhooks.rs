//! A webhook endpoint's state and the log of its delivery tries.

use crate::store::WebhookEndpointState;

/// Where a logged delivery try goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryLogged {
    /// The try's number in the endpoint's log.
    pub number: u64,
    /// The try that leaves the log, keeping the newest `keep_tries`.
    pub dropped: Option<u64>,
}

/// Logs one more delivery try on `state`, keeping the newest `keep_tries`.
pub fn log_delivery(state: &mut WebhookEndpointState, keep_tries: u64) -> DeliveryLogged {
    state.tries_logged += 1;
    DeliveryLogged {
        number: state.tries_logged,
        dropped: state.tries_logged.checked_sub(keep_tries),
    }
}
