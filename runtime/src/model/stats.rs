//! Attempt statistics kept in step with every attempt's end: small records
//! read-modified-written in the same atomic change as the end itself, so
//! no statistic is ever computed by scanning contacts or attempts.

use serde::{Deserialize, Serialize};

use super::{CallOutcome, MINUTE_MS, Millis};

/// Dial numbers tracked one by one; later dials share the last slot.
pub const MAX_DIAL_SLOTS: usize = 16;

/// Sums over the ended attempts of a batch or campaign. System retries
/// (calls the provider refused before dialing) are counted apart and left
/// out of every other figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct AttemptTotals {
    /// Ended attempts that reached the network.
    pub attempts: u64,
    pub answered: u64,
    pub busy: u64,
    pub no_answer: u64,
    /// Failed, cancelled or of unknown outcome.
    pub failed: u64,
    /// Talk time of answered attempts.
    pub answered_talk_ms: u64,
    pub cost_micros: u64,
    /// Attempts that reached a success.
    pub successes: u64,
    /// Successes on a second or later dial.
    pub successes_from_retries: u64,
    /// Contacts that reached a success, each counted once: goal progress.
    pub successful_contacts: u64,
    /// Sum of sentiments in millionths, so sums are exact in any order.
    pub sentiment_micros: i64,
    /// Attempts with a sentiment.
    pub sentiment_count: u64,
    /// Attempts on which a plugin faulted.
    pub plugin_faults: u64,
    pub system_retries: u64,
    /// System retries caused by provider throttling.
    pub throttled: u64,
    /// The latest end of a provider throttle seen.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub throttled_until: Option<Millis>,
    /// Attempts per disposition label, sorted by label.
    pub dispositions: Vec<LabelCount>,
    /// Attempts and successes by dial number: index 0 is the first dial.
    pub by_dial: Vec<DialTotals>,
    /// Results per A/B variant, in order of first appearance.
    pub variants: Vec<VariantTotals>,
}

/// How many attempts got one disposition label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LabelCount {
    pub label: String,
    pub count: u64,
}

/// Attempts of one dial number and how many succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct DialTotals {
    pub attempts: u64,
    pub successes: u64,
}

/// Sums over the attempts of one A/B variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct VariantTotals {
    pub name: String,
    pub attempts: u64,
    pub answered: u64,
    pub successes: u64,
    pub answered_talk_ms: u64,
    pub cost_micros: u64,
}

/// Sums over the attempts placed from one caller id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct NumberTotals {
    pub attempts: u64,
    pub answered: u64,
    pub busy: u64,
    pub no_answer: u64,
    pub failed: u64,
}

/// One minute of a batch's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct MinuteTotals {
    /// Start of the minute, ms since the epoch.
    #[schema(value_type = crate::model::schema::EpochMillis)]
    pub minute: Millis,
    /// Attempts dialed in this minute (system retries taken back out).
    pub attempts: u64,
    /// Attempts that ended answered in this minute.
    pub answers: u64,
    /// Attempts that ended failed, cancelled or unknown in this minute.
    pub failures: u64,
}

/// Operator state of a caller id, kept across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NumberState {
    pub enabled: bool,
    /// Out of rotation until this time.
    #[schema(value_type = Option<crate::model::schema::EpochMillis>)]
    pub rested_until: Option<Millis>,
}

/// One ended attempt, as the statistics see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EndedSummary<'a> {
    pub outcome: CallOutcome,
    /// 1 for the contact's first dial.
    pub dial: u32,
    pub talk_ms: u64,
    pub cost_micros: u64,
    pub success: bool,
    /// The contact's first success.
    pub first_success: bool,
    pub sentiment: Option<f32>,
    pub label: Option<&'a str>,
    pub variant: Option<&'a str>,
    pub plugin_faulted: bool,
}

/// The start of the minute holding `at`.
pub fn minute_of(at: Millis) -> Millis {
    at.div_euclid(MINUTE_MS) * MINUTE_MS
}

/// A sentiment in millionths.
pub fn sentiment_micros(sentiment: f32) -> i64 {
    (f64::from(sentiment) * 1_000_000.0).round() as i64
}

/// The outcome class an attempt counts under: answered, busy, no answer
/// or failed.
fn outcome_slot(outcome: CallOutcome) -> usize {
    match outcome {
        CallOutcome::Answered => 0,
        CallOutcome::Busy => 1,
        CallOutcome::NoAnswer => 2,
        CallOutcome::Failed | CallOutcome::Canceled | CallOutcome::Unknown => 3,
    }
}

/// True for the outcomes the timeline counts as failures.
pub fn is_failure(outcome: CallOutcome) -> bool {
    outcome_slot(outcome) == 3
}

impl AttemptTotals {
    /// Counts one attempt that reached the network and ended.
    pub fn record(&mut self, ended: &EndedSummary<'_>) {
        self.attempts += 1;
        match outcome_slot(ended.outcome) {
            0 => {
                self.answered += 1;
                self.answered_talk_ms += ended.talk_ms;
            }
            1 => self.busy += 1,
            2 => self.no_answer += 1,
            _ => self.failed += 1,
        }
        self.cost_micros += ended.cost_micros;
        let dial = (ended.dial.max(1) as usize).min(MAX_DIAL_SLOTS) - 1;
        if self.by_dial.len() <= dial {
            self.by_dial.resize(dial + 1, DialTotals::default());
        }
        self.by_dial[dial].attempts += 1;
        if ended.success {
            self.successes += 1;
            self.by_dial[dial].successes += 1;
            if ended.dial > 1 {
                self.successes_from_retries += 1;
            }
        }
        if ended.first_success {
            self.successful_contacts += 1;
        }
        if let Some(sentiment) = ended.sentiment {
            self.sentiment_micros += sentiment_micros(sentiment);
            self.sentiment_count += 1;
        }
        if ended.plugin_faulted {
            self.plugin_faults += 1;
        }
        if let Some(label) = ended.label {
            match self
                .dispositions
                .binary_search_by(|entry| entry.label.as_str().cmp(label))
            {
                Ok(index) => self.dispositions[index].count += 1,
                Err(index) => self.dispositions.insert(
                    index,
                    LabelCount {
                        label: label.to_string(),
                        count: 1,
                    },
                ),
            }
        }
        if let Some(name) = ended.variant {
            let index = match self.variants.iter().position(|v| v.name == name) {
                Some(index) => index,
                None => {
                    self.variants.push(VariantTotals {
                        name: name.to_string(),
                        ..VariantTotals::default()
                    });
                    self.variants.len() - 1
                }
            };
            let variant = &mut self.variants[index];
            variant.attempts += 1;
            variant.cost_micros += ended.cost_micros;
            if ended.outcome == CallOutcome::Answered {
                variant.answered += 1;
                variant.answered_talk_ms += ended.talk_ms;
            }
            variant.successes += u64::from(ended.success);
        }
    }

    /// Counts a call the provider refused before dialing.
    pub fn record_system_retry(&mut self, throttled_until: Option<Millis>) {
        self.system_retries += 1;
        if let Some(until) = throttled_until {
            self.throttled += 1;
            self.throttled_until = Some(self.throttled_until.map_or(until, |t| t.max(until)));
        }
    }
}

impl NumberTotals {
    /// Counts one ended attempt placed from the number.
    pub fn record(&mut self, outcome: CallOutcome) {
        self.attempts += 1;
        match outcome_slot(outcome) {
            0 => self.answered += 1,
            1 => self.busy += 1,
            2 => self.no_answer += 1,
            _ => self.failed += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(outcome: CallOutcome, dial: u32, success: bool) -> EndedSummary<'static> {
        EndedSummary {
            outcome,
            dial,
            talk_ms: 1_000,
            cost_micros: 10,
            success,
            first_success: success,
            sentiment: Some(0.5),
            label: Some("interested"),
            variant: Some("A"),
            plugin_faulted: false,
        }
    }

    #[test]
    fn dials_beyond_the_tracked_slots_share_the_last_one() {
        let mut totals = AttemptTotals::default();
        totals.record(&ended(CallOutcome::Answered, 40, true));
        totals.record(&ended(CallOutcome::Answered, MAX_DIAL_SLOTS as u32, false));
        assert_eq!(totals.by_dial.len(), MAX_DIAL_SLOTS);
        assert_eq!(
            totals.by_dial[MAX_DIAL_SLOTS - 1],
            DialTotals {
                attempts: 2,
                successes: 1
            }
        );
        assert_eq!(totals.successes_from_retries, 1);
    }

    #[test]
    fn labels_stay_sorted_and_counted_once_each() {
        let mut totals = AttemptTotals::default();
        for label in ["voicemail", "busy", "voicemail", "interested"] {
            totals.record(&EndedSummary {
                label: Some(label),
                ..ended(CallOutcome::Busy, 1, false)
            });
        }
        let labels: Vec<(&str, u64)> = totals
            .dispositions
            .iter()
            .map(|entry| (entry.label.as_str(), entry.count))
            .collect();
        assert_eq!(
            labels,
            vec![("busy", 1), ("interested", 1), ("voicemail", 2)]
        );
    }

    #[test]
    fn a_minute_starts_on_the_minute_even_before_the_epoch() {
        assert_eq!(minute_of(61_000), 60_000);
        assert_eq!(minute_of(-1), -60_000);
    }
}
