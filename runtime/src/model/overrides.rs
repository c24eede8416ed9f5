//! What a batch may set for itself instead of taking its campaign's.

use serde::{Deserialize, Serialize};

use super::{CallingWindow, TimeZonePolicy};

/// A batch's own working hours: they replace the campaign's whole calling
/// window (rules, zone policy and default zone) for the batch's contacts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchHours {
    /// When the batch's contacts may be called, on their local clocks.
    pub calling_window: CallingWindow,
    /// How a contact's time zone is found.
    pub time_zone_policy: TimeZonePolicy,
    /// The zone used when nothing better is known.
    pub default_time_zone: String,
}
