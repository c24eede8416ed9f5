//! What a batch may set for itself instead of taking its campaign's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{CallingWindow, TimeZonePolicy};

/// What a CSV upload was, kept with the batch it created so an operator
/// sees where the contacts came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UploadRecord {
    /// The file's name, when the uploader gave it.
    pub file_name: Option<String>,
    /// Size of the upload in bytes.
    pub bytes: u64,
    /// Data rows read, header aside.
    pub rows: u64,
    /// Rows that became contacts.
    pub valid: u64,
    /// Rows left out as invalid.
    pub invalid: u64,
    /// The numbers of the rows left out, the first 100 of them.
    pub skipped_rows: Vec<u64>,
    /// Who uploaded it, as status changes name them ("api_key:ops").
    pub uploaded_by: String,
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub uploaded_at: super::Millis,
}

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

/// A batch's own retry strategy: the plugin that decides its contacts'
/// retries in place of the campaign's, with the whole config it is
/// configured with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchRetry {
    /// A `[[plugins]]` name or a built-in retry strategy.
    #[schema(example = "retry-schedule")]
    pub plugin: String,
    /// Every key the plugin is configured with: the campaign's values with
    /// the batch's own in their place when the plugin is the campaign's,
    /// else only the batch's.
    #[schema(example = json!({"busy": "5m, 5m", "no_answer": "1h"}))]
    pub config: BTreeMap<String, String>,
    /// The keys the batch set itself.
    pub overridden: Vec<String>,
}

impl BatchRetry {
    /// The config as the plugin host hands it to the plugin.
    pub fn config_pairs(&self) -> Vec<(String, String)> {
        self.config
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }
}

/// A batch's own dial gate: the plugin asked before each of its dials in
/// place of the campaign's, with the whole config it is configured with.
/// There is no way to name no gate: a batch may replace its campaign's
/// gate, never turn it off.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchGate {
    /// A `[[plugins]]` name or a built-in dial gate.
    #[schema(example = "gate-hours")]
    pub plugin: String,
    /// Every key the plugin is configured with: the campaign's values with
    /// the batch's own in their place when the plugin is the campaign's,
    /// else only the batch's.
    #[schema(example = json!({"blackout_dates": "2026-12-24, 2026-12-25"}))]
    pub config: BTreeMap<String, String>,
    /// The keys the batch set itself.
    pub overridden: Vec<String>,
}

impl BatchGate {
    /// The config as the plugin host hands it to the plugin.
    pub fn config_pairs(&self) -> Vec<(String, String)> {
        self.config
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }
}
