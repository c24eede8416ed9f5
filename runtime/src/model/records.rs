//! The records kept of a campaign's work: batches, contacts and their
//! logs, attempt keys, live and recent calls, counters, the journal of
//! changes told to the outside world, and webhook delivery state. The store
//! persists them, as MessagePack arrays, so a field's position is part of
//! the stored format; the API shows them.

use serde::{Deserialize, Serialize};

use super::{
    BatchGate, BatchHours, BatchRetry, BatchStatus, Blocker, CallOutcome, CampaignSpec, Contact,
    ContactStatus, EventKind, FromNumber, Goal, Millis, NumberStrategy, UploadRecord,
};

/// A stored batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchRecord {
    /// "btc_" and 16 random hex digits.
    #[serde(rename = "batch_id")]
    pub id: String,
    /// The workspace that owns the batch: Graine's organization.
    #[serde(rename = "organization_id")]
    pub workspace: String,
    pub campaign_id: String,
    pub status: BatchStatus,
    /// Why the batch has its status ("scheduled_start", "plugin_faulted", ...).
    pub status_reason: Option<String>,
    /// Who set the status: an operator, "dispatcher", ...
    pub status_by: String,
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub status_at: Millis,
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub created_at: Millis,
    pub created_by: String,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub scheduled_start: Option<Millis>,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub end_at: Option<Millis>,
    /// Calls live at once, when the batch replaces the campaign's.
    #[serde(rename = "concurrency_limit")]
    pub concurrency: Option<u32>,
    /// Attempts per contact, when the batch replaces the campaign's.
    #[serde(rename = "max_retries_override")]
    pub max_attempts: Option<u32>,
    pub calls_per_second: Option<f64>,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub started_at: Option<Millis>,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub paused_at: Option<Millis>,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub completed_at: Option<Millis>,
    /// When a contact of the batch last reached a final status.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub last_completed_at: Option<Millis>,
    pub idempotency_key: Option<String>,
    /// See [`NewBatch::request_sha256`].
    #[serde(default)]
    pub request_sha256: Option<String>,
    /// Plugin faults in a row on this batch's attempts.
    pub consecutive_plugin_faults: u32,
    #[serde(default)]
    pub numbers: Option<Vec<FromNumber>>,
    #[serde(default)]
    pub number_strategy: Option<NumberStrategy>,
    #[serde(default)]
    pub budget_micros: Option<u64>,
    #[serde(default)]
    pub goal: Option<Goal>,
    /// Override of the campaign's `max_followups`.
    #[serde(default)]
    pub max_followups: Option<u32>,
    /// Working hours replacing the campaign's calling window; null when
    /// the campaign's apply.
    #[serde(default)]
    pub hours: Option<BatchHours>,
    /// The CSV upload the batch was created from; null for a JSON create.
    #[serde(default)]
    pub upload: Option<UploadRecord>,
    /// Retry strategy replacing the campaign's; null when the campaign's
    /// applies.
    #[serde(default)]
    pub retry: Option<BatchRetry>,
    /// Dial gate replacing the campaign's; null when the campaign's
    /// applies, or it has none.
    #[serde(default)]
    pub gate: Option<BatchGate>,
}

impl BatchRecord {
    /// A new batch id: "btc_" and 16 hex digits, random, so ids made at
    /// once by several writers do not meet; whoever stores the batch still
    /// checks that the id is free.
    pub fn new_id() -> String {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};

        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        hasher.write_u128(nanos);
        format!("btc_{:016x}", hasher.finish())
    }

    /// Attempts a contact of this batch may have: the batch's own limit,
    /// else its campaign's.
    pub fn max_attempts_under(&self, spec: &CampaignSpec) -> u32 {
        self.max_attempts.unwrap_or(spec.max_attempts)
    }

    /// Follow-ups past the attempts a contact of this batch may have: the
    /// batch's own limit, else its campaign's.
    pub fn max_followups_under(&self, spec: &CampaignSpec) -> u32 {
        self.max_followups.unwrap_or(spec.max_followups)
    }

    /// The retry strategy that decides this batch's retries: its own,
    /// else its campaign's.
    pub fn retry_plugin_under<'a>(&'a self, spec: &'a CampaignSpec) -> &'a str {
        self.retry
            .as_ref()
            .map_or(&spec.retry_plugin, |retry| &retry.plugin)
    }

    /// The dial gate asked before this batch's dials: its own, else its
    /// campaign's, if any.
    pub fn gate_plugin_under<'a>(&'a self, spec: &'a CampaignSpec) -> Option<&'a str> {
        self.gate
            .as_ref()
            .map(|gate| gate.plugin.as_str())
            .or(spec.gate_plugin.as_deref())
    }
}

/// A stored contact and where it is in its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactRecord {
    pub batch_id: String,
    /// Position in the batch, from 0.
    pub seq: u64,
    pub contact_id: String,
    pub phone: String,
    pub name: Option<String>,
    /// Resolved IANA zone.
    pub time_zone: String,
    pub attributes: Vec<(String, String)>,
    pub status: ContactStatus,
    /// Why a waiting contact is not dialed now.
    pub blocker: Option<Blocker>,
    /// Set exactly while the contact is waiting.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub next_eligible_at: Option<Millis>,
    /// Dial attempts that count against the attempt limit.
    pub attempts_made: u32,
    /// Follow-ups dialed once the attempts were used up, against the
    /// follow-up limit.
    pub followups_made: u32,
    /// Attempts the provider refused before dialing; they do not count.
    pub system_retries: u32,
    /// Attempt records written, the last attempt's number.
    pub attempt_records: u32,
    pub live_attempt_id: Option<String>,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub last_attempt_at: Option<Millis>,
    pub last_outcome: Option<CallOutcome>,
    pub last_disposition: Option<String>,
    pub last_score: Option<f32>,
    pub from_number: Option<String>,
    pub variant: Option<String>,
    /// Why the contact reached its final status.
    pub final_reason: Option<String>,
    pub total_talk_ms: u64,
    pub total_cost_micros: u64,
    /// Events logged, the last event's number.
    pub event_count: u32,
    /// An attempt of this contact reached a success.
    #[serde(default)]
    pub succeeded: bool,
    /// Dial-gate calls that faulted while deciding on this contact: plugin
    /// faults no attempt records.
    #[serde(default)]
    pub gate_faults: u32,
    /// Why the blocker holds the contact, in the words of what set it (a
    /// dial gate's reason, the frequency cap reached).
    #[serde(default)]
    pub blocker_reason: Option<String>,
    /// The contact's part of its number's history across the workspace,
    /// for frequency caps and dial gates: the store's, not the API's.
    #[serde(skip)]
    pub dials: super::ContactDials,
}

impl ContactRecord {
    /// The contact as policies see it.
    pub fn to_contact(&self) -> Contact {
        let mut attributes = self.attributes.clone();
        if let Some(name) = &self.name {
            attributes.push(("name".to_string(), name.clone()));
        }
        Contact {
            id: self.contact_id.clone(),
            phone: self.phone.clone(),
            time_zone: self.time_zone.clone(),
            attributes,
        }
    }
}

/// One line of a contact's debug log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactEvent {
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub at: Millis,
    /// "created", "dispatched", "in_progress", "ended", "blocked",
    /// "placement_unknown", ...
    pub kind: String,
    pub detail: String,
}

/// Names one attempt; its id "<batch>-<seq>-<number>" is the provider's
/// idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptKey {
    pub batch_id: String,
    pub seq: u64,
    pub number: u32,
}

impl AttemptKey {
    /// The attempt id.
    pub fn id(&self) -> String {
        format!("{}-{}-{}", self.batch_id, self.seq, self.number)
    }

    /// The key named by an attempt id.
    pub fn parse(id: &str) -> Result<AttemptKey, BadAttemptId> {
        let bad = || BadAttemptId(id.to_string());
        let mut parts = id.rsplitn(3, '-');
        let number = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
        let seq = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
        let batch_id = parts.next().filter(|b| !b.is_empty()).ok_or_else(bad)?;
        Ok(AttemptKey {
            batch_id: batch_id.to_string(),
            seq,
            number,
        })
    }
}

/// An attempt id that is not "<batch>-<seq>-<number>".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed attempt id \"{0}\"")]
pub struct BadAttemptId(pub String);

/// An attempt whose call may be live at the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LiveAttempt {
    pub attempt_id: String,
    pub batch_id: String,
    pub campaign_id: String,
    pub seq: u64,
    pub number: u32,
    pub provider_call_id: Option<String>,
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub started_at: Millis,
}

impl LiveAttempt {
    /// The attempt's key.
    pub fn key(&self) -> AttemptKey {
        AttemptKey {
            batch_id: self.batch_id.clone(),
            seq: self.seq,
            number: self.number,
        }
    }
}

/// A recently ended attempt, for live monitoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecentCall {
    pub attempt_id: String,
    pub contact_id: String,
    pub phone: String,
    pub outcome: Option<CallOutcome>,
    pub disposition: Option<String>,
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub ended_at: Millis,
    pub talk_ms: u64,
    /// The contact's status after the attempt.
    pub status: ContactStatus,
    pub reason: Option<String>,
}

/// Counts kept in step with every state change, read in O(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct Counters {
    pub total: u64,
    /// Contacts per status, indexed by [`ContactStatus::index`].
    pub by_status: [u64; ContactStatus::ALL.len()],
    /// Waiting contacts per blocker, indexed like [`Blocker::ALL`]. A
    /// record written when there were fewer blockers reads back with the
    /// newer ones at 0.
    #[serde(deserialize_with = "blocker_slots")]
    pub by_blocker: [u64; Blocker::ALL.len()],
    /// Attempt records.
    pub attempts: u64,
    /// Attempts that were answered.
    pub answered: u64,
    /// Attempts that ended.
    pub ended: u64,
    pub system_retries: u64,
    pub talk_ms: u64,
    pub cost_micros: u64,
    /// Attempts on which a policy plugin faulted and the built-in policy
    /// stood in.
    #[serde(default)]
    pub plugin_faults: u64,
    /// Contacts skipped because their number is on a blocking suppression
    /// list (final reason "suppressed:...").
    #[serde(default)]
    pub suppressed: u64,
    /// Contacts skipped by a dial-gate plugin (final reason "gate:...").
    #[serde(default)]
    pub gate_skipped: u64,
}

/// Reads `by_blocker` whatever its stored length: missing slots are 0,
/// slots of blockers this build does not know are dropped.
fn blocker_slots<'de, D>(deserializer: D) -> Result<[u64; Blocker::ALL.len()], D::Error>
where
    D: serde::Deserializer<'de>,
{
    let stored: Vec<u64> = Vec::deserialize(deserializer)?;
    let mut slots = [0; Blocker::ALL.len()];
    for (slot, value) in slots.iter_mut().zip(stored) {
        *slot = value;
    }
    Ok(slots)
}

impl Counters {
    /// Contacts with `status`.
    pub fn status(&self, status: ContactStatus) -> u64 {
        self.by_status[status.index()]
    }

    /// Waiting contacts carrying `blocker`.
    pub fn blocker(&self, blocker: Blocker) -> u64 {
        self.by_blocker[blocker_index(blocker)]
    }

    /// Contacts waiting for a dial.
    pub fn waiting(&self) -> u64 {
        sum_where(&self.by_status, ContactStatus::is_waiting)
    }

    /// Contacts with a call live.
    pub fn live(&self) -> u64 {
        sum_where(&self.by_status, ContactStatus::is_live)
    }

    /// Contacts in a final status.
    pub fn finished(&self) -> u64 {
        sum_where(&self.by_status, ContactStatus::is_final)
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counters) {
        self.total += other.total;
        for (mine, theirs) in self.by_status.iter_mut().zip(other.by_status) {
            *mine += theirs;
        }
        for (mine, theirs) in self.by_blocker.iter_mut().zip(other.by_blocker) {
            *mine += theirs;
        }
        self.attempts += other.attempts;
        self.answered += other.answered;
        self.ended += other.ended;
        self.system_retries += other.system_retries;
        self.talk_ms += other.talk_ms;
        self.cost_micros += other.cost_micros;
        self.plugin_faults += other.plugin_faults;
        self.suppressed += other.suppressed;
        self.gate_skipped += other.gate_skipped;
    }
}

fn sum_where(by_status: &[u64], keep: fn(ContactStatus) -> bool) -> u64 {
    ContactStatus::ALL
        .into_iter()
        .filter(|status| keep(*status))
        .map(|status| by_status[status.index()])
        .sum()
}

/// Position of `blocker` in [`Blocker::ALL`].
pub fn blocker_index(blocker: Blocker) -> usize {
    Blocker::ALL
        .iter()
        .position(|b| *b == blocker)
        .expect("Blocker::ALL lists every blocker")
}

/// A change told to the outside world (webhooks, live event streams),
/// journaled in the same atomic write as the change itself, so no change is
/// ever told without having happened nor happens without being told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JournalEvent {
    /// Position in the journal, from 1, in commit order.
    pub seq: u64,
    pub kind: EventKind,
    pub workspace: String,
    pub campaign_id: String,
    pub batch_id: String,
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub at: Millis,
    /// The event's payload; its shape depends on `kind`.
    pub data: serde_json::Value,
}

impl JournalEvent {
    /// The event's stable id, the same on every delivery of it.
    pub fn id(&self) -> String {
        format!("evt_{:016x}", self.seq)
    }
}

/// Delivery state of one outbound webhook endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookEndpointState {
    /// Stable id derived from the workspace, campaign and url.
    pub id: String,
    pub workspace: String,
    pub campaign_id: String,
    pub url: String,
    /// Every journal event up to this one was delivered or is not wanted.
    pub delivered_through: u64,
    /// Failed tries of the event at the head of the queue.
    pub failures_in_a_row: u32,
    /// When the head event first failed.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub failing_since: Option<Millis>,
    /// When the head event is tried again.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub next_attempt_at: Option<Millis>,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub last_success_at: Option<Millis>,
    pub last_error: Option<String>,
    /// Why deliveries stopped; `None` while the endpoint is enabled.
    pub disabled_reason: Option<String>,
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub disabled_at: Option<Millis>,
    pub delivered: u64,
    /// Delivery tries logged so far, the last log entry's number.
    pub tries_logged: u64,
}

/// One try to deliver an event to an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WebhookDelivery {
    pub event_id: String,
    pub event_kind: String,
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub at: Millis,
    /// The try's number for this event, from 1.
    pub attempt: u32,
    /// The endpoint's HTTP status, when it answered.
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub succeeded: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Counters` as it was stored with eleven blockers, before the
    /// suppression counters.
    #[derive(Serialize)]
    struct ElevenBlockerCounters {
        total: u64,
        by_status: [u64; ContactStatus::ALL.len()],
        by_blocker: [u64; 11],
        attempts: u64,
        answered: u64,
        ended: u64,
        system_retries: u64,
        talk_ms: u64,
        cost_micros: u64,
        plugin_faults: u64,
    }

    #[test]
    fn a_counters_record_with_eleven_blocker_slots_decodes_with_the_rest_at_zero() {
        let mut by_blocker = [0; 11];
        by_blocker[3] = 7;
        by_blocker[10] = 2;
        let old = ElevenBlockerCounters {
            total: 9,
            by_status: [1; ContactStatus::ALL.len()],
            by_blocker,
            attempts: 4,
            answered: 3,
            ended: 2,
            system_retries: 1,
            talk_ms: 500,
            cost_micros: 60,
            plugin_faults: 1,
        };
        let bytes = rmp_serde::to_vec(&old).expect("encodes");
        let counters: Counters = rmp_serde::from_slice(&bytes).expect("decodes");
        assert_eq!(counters.total, 9);
        assert_eq!(counters.by_blocker[3], 7);
        assert_eq!(counters.by_blocker[10], 2);
        assert!(counters.by_blocker[11..].iter().all(|slot| *slot == 0));
        assert_eq!(counters.plugin_faults, 1);
        assert_eq!((counters.suppressed, counters.gate_skipped), (0, 0));
    }

    #[test]
    fn counters_read_back_as_they_were_written() {
        let mut counters = Counters {
            total: 5,
            suppressed: 2,
            gate_skipped: 1,
            ..Counters::default()
        };
        counters.by_blocker[0] = 3;
        let bytes = rmp_serde::to_vec(&counters).expect("encodes");
        assert_eq!(
            rmp_serde::from_slice::<Counters>(&bytes).expect("decodes"),
            counters
        );
    }

    /// A batch as stored, with every field added since the first format
    /// set, so that dropping one shows.
    fn batch_with_its_own_settings() -> BatchRecord {
        BatchRecord {
            id: "btc_0000000000000001".to_string(),
            workspace: "acme".to_string(),
            campaign_id: "spring".to_string(),
            status: BatchStatus::Pending,
            status_reason: Some("created".to_string()),
            status_by: "api_key:ops".to_string(),
            status_at: 1_000,
            created_at: 1_000,
            created_by: "api_key:ops".to_string(),
            scheduled_start: None,
            end_at: None,
            concurrency: Some(2),
            max_attempts: Some(3),
            calls_per_second: None,
            started_at: None,
            paused_at: None,
            completed_at: None,
            last_completed_at: None,
            idempotency_key: None,
            request_sha256: None,
            consecutive_plugin_faults: 0,
            numbers: None,
            number_strategy: None,
            budget_micros: None,
            goal: None,
            max_followups: None,
            hours: None,
            upload: None,
            retry: Some(BatchRetry {
                plugin: "retry-backoff".to_string(),
                config: [("base_delay".to_string(), "2m".to_string())].into(),
                overridden: vec!["base_delay".to_string()],
            }),
            gate: None,
        }
    }

    #[test]
    fn a_batch_record_stored_before_batches_had_their_own_gate_reads_with_the_campaigns() {
        let record = batch_with_its_own_settings();
        // Records are arrays of their fields: an older one ends before
        // `gate`.
        let encoded = rmp_serde::to_vec(&record).expect("encodes");
        let mut fields: Vec<serde_json::Value> = rmp_serde::from_slice(&encoded).expect("an array");
        assert_eq!(fields.pop(), Some(serde_json::Value::Null), "gate is last");
        let older = rmp_serde::to_vec(&fields).expect("encodes");
        let loaded: BatchRecord = rmp_serde::from_slice(&older).expect("the older record loads");
        assert_eq!(loaded, record);
        assert_eq!(loaded.gate, None);
    }

    #[test]
    fn a_batch_records_own_gate_reads_back_as_it_was_written() {
        let record = BatchRecord {
            gate: Some(BatchGate {
                plugin: "gate-hours".to_string(),
                config: [("blackout_dates".to_string(), "2026-12-24".to_string())].into(),
                overridden: vec!["blackout_dates".to_string()],
            }),
            ..batch_with_its_own_settings()
        };
        let encoded = rmp_serde::to_vec(&record).expect("encodes");
        assert_eq!(
            rmp_serde::from_slice::<BatchRecord>(&encoded).expect("decodes"),
            record
        );
    }

    #[test]
    fn a_new_batch_id_is_btc_and_sixteen_hex_digits_and_never_repeats() {
        let ids: std::collections::BTreeSet<String> =
            (0..1_000).map(|_| BatchRecord::new_id()).collect();
        assert_eq!(ids.len(), 1_000);
        for id in &ids {
            let digits = id.strip_prefix("btc_").expect(id);
            assert_eq!(digits.len(), 16, "{id}");
            assert!(digits.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        }
    }
}
