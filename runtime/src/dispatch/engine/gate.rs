//! The last step before a dial intent, after the windows and the limits:
//! suppression lists, frequency caps across the workspace, then each
//! campaign's dial gate (or a batch's own, in its place), asked about the
//! tick's admitted contacts in one call. An allowed dial carries the
//! gate's sha256 into its attempt; a deferred one waits with
//! `gate_deferred`; a skipped one ends `skipped`. A gate's fault lets
//! nothing through.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::{CampaignKey, DISPATCHER, Dial, Engine, EngineError, contact_zone};
use crate::model::{BatchStatus, Blocker, DAY_MS, FrequencyCap, MINUTE_MS, Millis, show_duration};
use crate::policy::{DialGate, GateCandidate, GateVerdict, LocalTime, PhoneActivity, PolicyFault};
use crate::store::{
    BatchRecord, BeginAttempt, BlockerUpdate, ContactRecord, PhoneHistory, StatusChange,
    StoreError, SuppressionHit,
};

/// Most candidates handed to a gate in one call.
pub(super) const GATE_CALL_MAX: usize = 500;

/// How long the contacts of a gate call that faulted wait before the gate
/// is asked about them again.
pub(super) const GATE_FAULT_DELAY: Millis = MINUTE_MS;

/// What the gates decided on a tick's admitted dials.
#[derive(Default)]
pub(super) struct Gated {
    pub begins: Vec<BeginAttempt>,
    pub dials: Vec<Dial>,
    /// What is written of the contacts held back, by batch: the blocker
    /// and time of a deferred or capped one, the gate's line on the log of
    /// a skipped one.
    pub deferred: BTreeMap<String, Vec<BlockerUpdate>>,
    /// Skipped contacts: batch, seq and reason.
    pub skipped: Vec<(String, u64, String)>,
}

/// A gate, or why it cannot be asked: a batch's own that would not load.
type GateAnswer = Result<Arc<dyn DialGate>, PolicyFault>;

/// The dials one gate decides on.
type GateGroup = (GateAnswer, Vec<(BeginAttempt, Dial)>);

/// What the store knows of the numbers a tick is about to dial, read once
/// for all of them: their calls across the workspace and the lists they
/// are on.
/// Kept by workspace, then number, so a lookup borrows its keys.
#[derive(Default)]
pub(super) struct Screening {
    histories: HashMap<String, HashMap<String, PhoneHistory>>,
    lists: HashMap<String, HashMap<String, Vec<SuppressionHit>>>,
}

impl Screening {
    fn history(&self, workspace: &str, phone: &str) -> Option<&PhoneHistory> {
        self.histories.get(workspace)?.get(phone)
    }

    fn hits(&self, workspace: &str, phone: &str) -> &[SuppressionHit] {
        self.lists
            .get(workspace)
            .and_then(|phones| phones.get(phone))
            .map_or(&[], Vec::as_slice)
    }

    /// What a gate is told of the number's calls across the workspace.
    fn activity(&self, workspace: &str, phone: &str, now: Millis) -> PhoneActivity {
        let Some(history) = self.history(workspace, phone) else {
            return PhoneActivity::default();
        };
        PhoneActivity {
            attempts_past_day: history.attempts_since(now - DAY_MS + 1),
            attempts_past_week: history.attempts_since(now - 7 * DAY_MS + 1),
            attempts_past_month: history.attempts_since(now - 30 * DAY_MS + 1),
            last_attempt_at: history.last_attempt_at,
            last_label: history.last_label.clone(),
        }
    }

    /// The informing lists the number is on, for the gate to weigh.
    fn informing_lists(&self, workspace: &str, phone: &str) -> Vec<String> {
        self.hits(workspace, phone)
            .iter()
            .filter(|hit| !hit.blocks)
            .map(|hit| hit.list.clone())
            .collect()
    }
}

impl Engine {
    /// Screens a tick's admitted dials before their intents are written:
    /// a number on a blocking list is skipped, one at a frequency cap
    /// waits until the cap lets it through, and each campaign's gate
    /// decides on the rest. Only what some campaign uses is read.
    pub(super) fn screen_dials(
        &mut self,
        begins: Vec<BeginAttempt>,
        dials: Vec<Dial>,
        batches: &HashMap<&str, &BatchRecord>,
        now: Millis,
    ) -> Result<Gated, EngineError> {
        let mut histories_of: BTreeMap<String, Vec<&ContactRecord>> = BTreeMap::new();
        let mut lists_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (campaign, contact, _) in &dials {
            let Some(state) = self.campaigns.get(campaign) else {
                continue;
            };
            let batch = batches[contact.batch_id.as_str()];
            let workspace = &batch.workspace;
            let gated = !matches!(self.gate_of(campaign, batch), Ok(None));
            if !state.policy.spec.frequency_caps.is_empty() || gated {
                histories_of
                    .entry(workspace.clone())
                    .or_default()
                    .push(contact);
            }
            if gated {
                lists_of
                    .entry(workspace.clone())
                    .or_default()
                    .push(contact.phone.clone());
            }
        }
        let mut screening = Screening::default();
        for (workspace, mut contacts) in histories_of {
            // A number's history is the same through any of its contacts.
            contacts.sort_unstable_by(|a, b| a.phone.cmp(&b.phone));
            contacts.dedup_by(|a, b| a.phone == b.phone);
            let histories = self.store.phone_histories(&workspace, &contacts, now)?;
            let by_phone = contacts
                .into_iter()
                .map(|contact| contact.phone.clone())
                .zip(histories)
                .collect();
            screening.histories.insert(workspace, by_phone);
        }
        for (workspace, mut phones) in lists_of {
            phones.sort_unstable();
            phones.dedup();
            let hits = self.store.suppressions_of(&workspace, &phones, now)?;
            let listed = phones
                .into_iter()
                .zip(hits)
                .filter(|(_, hits)| !hits.is_empty())
                .collect();
            screening.lists.insert(workspace, listed);
        }

        let mut held = Gated::default();
        let mut passed_begins = Vec::new();
        let mut passed_dials = Vec::new();
        // Dials admitted earlier in this tick count against the caps of
        // later ones to the same number.
        let mut this_tick: HashMap<(String, String), Vec<Millis>> = HashMap::new();
        for (begin, dial) in begins.into_iter().zip(dials) {
            let contact = &dial.1;
            let workspace = batches[contact.batch_id.as_str()].workspace.clone();
            let key = (workspace.clone(), contact.phone.clone());
            if let Some(hit) = screening
                .hits(&workspace, &contact.phone)
                .iter()
                .find(|hit| hit.blocks)
            {
                held.skipped.push((
                    begin.batch_id,
                    begin.seq,
                    format!("suppressed:{}", hit.list),
                ));
                continue;
            }
            let caps = &self.campaigns[&dial.0].policy.spec.frequency_caps;
            if !caps.is_empty() {
                let mut placed = screening
                    .history(&workspace, &contact.phone)
                    .map(|history| history.placed.clone())
                    .unwrap_or_default();
                placed.extend(this_tick.get(&key).into_iter().flatten());
                placed.sort_unstable();
                if let Some(free_at) = capped_until(caps, &placed, now) {
                    held.deferred
                        .entry(begin.batch_id)
                        .or_default()
                        .push(BlockerUpdate {
                            seq: begin.seq,
                            blocker: Some(Blocker::FrequencyCapped),
                            next_eligible_at: Some(free_at),
                            note: None,
                            plugin_fault: false,
                            reason: Some(cap_reason(caps, &placed, now)),
                        });
                    continue;
                }
            }
            this_tick.entry(key).or_default().push(now);
            passed_begins.push(begin);
            passed_dials.push(dial);
        }
        let mut gated = self.ask_gates(passed_begins, passed_dials, batches, &screening, now)?;
        for (batch_id, updates) in held.deferred {
            gated.deferred.entry(batch_id).or_default().extend(updates);
        }
        gated.skipped.extend(held.skipped);
        Ok(gated)
    }

    /// The gate asked before `batch`'s dials: its own, else its
    /// campaign's, if any; a fault when its own cannot be loaded, for then
    /// its dials wait rather than go through another gate or none.
    fn gate_of(
        &self,
        campaign: &CampaignKey,
        batch: &BatchRecord,
    ) -> Result<Option<Arc<dyn DialGate>>, PolicyFault> {
        match &batch.gate {
            Some(gate) => match self.batch_gates.get(&batch.id, gate) {
                Ok(loaded) => Ok(Some(loaded)),
                Err(why) => Err(PolicyFault {
                    plugin: gate.plugin.clone(),
                    message: format!("the batch's dial gate cannot be loaded: {why}"),
                }),
            },
            None => Ok(self
                .campaigns
                .get(campaign)
                .and_then(|state| state.policy.gate.clone())),
        }
    }

    /// Asks each gate about the admitted dials it decides on,
    /// `GATE_CALL_MAX` at a time: a campaign's gate about its batches'
    /// dials, a batch's own gate about that batch's alone. Dials no gate
    /// decides on pass as they are.
    pub(super) fn ask_gates(
        &mut self,
        begins: Vec<BeginAttempt>,
        dials: Vec<Dial>,
        batches: &HashMap<&str, &BatchRecord>,
        facts: &Screening,
        now: Millis,
    ) -> Result<Gated, EngineError> {
        let mut gated = Gated::default();
        // By campaign, then by the batch whose own gate it is, if any.
        let mut groups: BTreeMap<(CampaignKey, Option<String>), GateGroup> = BTreeMap::new();
        for (begin, dial) in begins.into_iter().zip(dials) {
            let batch = batches[begin.batch_id.as_str()];
            let Some(gate) = self.gate_of(&dial.0, batch).transpose() else {
                gated.begins.push(begin);
                gated.dials.push(dial);
                continue;
            };
            let group = (
                dial.0.clone(),
                batch.gate.as_ref().map(|_| batch.id.clone()),
            );
            groups
                .entry(group)
                .or_insert_with(|| (gate, Vec::new()))
                .1
                .push((begin, dial));
        }
        for ((campaign, _), (gate, admitted)) in groups {
            let mut rest = admitted.into_iter().peekable();
            while rest.peek().is_some() {
                let call: Vec<(BeginAttempt, Dial)> = rest.by_ref().take(GATE_CALL_MAX).collect();
                let state = &self.campaigns[&campaign];
                let candidates: Vec<GateCandidate> = call
                    .iter()
                    .map(|(begin, (_, contact, _))| {
                        let batch = batches[begin.batch_id.as_str()];
                        let zone = contact_zone(state, batch, contact);
                        GateCandidate {
                            contact: contact.to_contact(),
                            campaign_id: batch.campaign_id.clone(),
                            batch_id: batch.id.clone(),
                            attempt_number: contact.attempt_records + 1,
                            now,
                            now_local: LocalTime::at(now, zone),
                            history: facts.activity(&batch.workspace, &contact.phone, now),
                            lists: facts.informing_lists(&batch.workspace, &contact.phone),
                        }
                    })
                    .collect();
                self.apply_verdicts(&gate, call, &candidates, now, &mut gated)?;
            }
        }
        Ok(gated)
    }

    fn apply_verdicts(
        &mut self,
        gate: &GateAnswer,
        call: Vec<(BeginAttempt, Dial)>,
        candidates: &[GateCandidate],
        now: Millis,
        gated: &mut Gated,
    ) -> Result<(), EngineError> {
        let (identity, answer) = match gate {
            Ok(gate) => (gate.identity().to_string(), gate.check(candidates)),
            // Held back as a fault would hold them: never dialed ungated.
            Err(unloadable) => (unloadable.plugin.clone(), Err(unloadable.clone())),
        };
        let answer = answer.and_then(|verdicts| {
            // A gate that loses a candidate must not let the rest through
            // out of order.
            if verdicts.len() == candidates.len() {
                Ok(verdicts)
            } else {
                Err(PolicyFault {
                    plugin: identity.clone(),
                    message: format!(
                        "answered {} verdicts for {} candidates",
                        verdicts.len(),
                        candidates.len()
                    ),
                })
            }
        });
        let verdicts = match answer {
            Ok(verdicts) => verdicts,
            Err(fault) => {
                tracing::warn!(gate = %identity, error = %fault, candidates = call.len(), "dial gate faulted: its candidates wait");
                let mut faulted_batches: Vec<String> = Vec::new();
                for (begin, _) in call {
                    if !faulted_batches.contains(&begin.batch_id) {
                        faulted_batches.push(begin.batch_id.clone());
                    }
                    gated
                        .deferred
                        .entry(begin.batch_id)
                        .or_default()
                        .push(BlockerUpdate {
                            seq: begin.seq,
                            blocker: Some(Blocker::GateDeferred),
                            next_eligible_at: Some(now + GATE_FAULT_DELAY),
                            note: Some(format!(
                                "gate {identity} faulted, nothing dialed: {}",
                                fault.message
                            )),
                            plugin_fault: true,
                            reason: Some("the gate faulted".to_string()),
                        });
                }
                for batch_id in faulted_batches {
                    self.count_gate_fault(&batch_id, now)?;
                }
                return Ok(());
            }
        };
        for (begin, _) in &call {
            self.gate_fault_streaks.remove(&begin.batch_id);
        }
        for ((mut begin, dial), verdict) in call.into_iter().zip(verdicts) {
            match verdict {
                GateVerdict::Allow => {
                    begin.gate = Some(identity.clone());
                    gated.begins.push(begin);
                    gated.dials.push(dial);
                }
                GateVerdict::Defer { until, reason } => {
                    gated
                        .deferred
                        .entry(begin.batch_id)
                        .or_default()
                        .push(BlockerUpdate {
                            seq: begin.seq,
                            blocker: Some(Blocker::GateDeferred),
                            // The plugin's answer was checked: never before now.
                            next_eligible_at: Some(until.max(now)),
                            note: Some(format!("gate {identity} deferred until {until}: {reason}")),
                            plugin_fault: false,
                            reason: Some(reason),
                        });
                }
                GateVerdict::Skip { reason } => {
                    gated
                        .deferred
                        .entry(begin.batch_id.clone())
                        .or_default()
                        .push(BlockerUpdate {
                            seq: begin.seq,
                            blocker: dial.1.blocker,
                            next_eligible_at: None,
                            note: Some(format!("gate {identity} skipped: {reason}")),
                            plugin_fault: false,
                            reason: dial.1.blocker_reason.clone(),
                        });
                    gated
                        .skipped
                        .push((begin.batch_id, begin.seq, format!("gate: {reason}")));
                }
            }
        }
        Ok(())
    }

    /// Skips contacts a list or a gate refused, one durable write per
    /// batch; a contact that stopped waiting meanwhile is left alone.
    pub(super) fn skip_screened(
        &mut self,
        skipped: Vec<(String, u64, String)>,
        now: Millis,
    ) -> Result<(), EngineError> {
        let mut by_batch: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
        for (batch_id, seq, reason) in skipped {
            by_batch.entry(batch_id).or_default().push((seq, reason));
        }
        for (batch_id, skips) in by_batch {
            for answer in self.store.skip_contacts(&batch_id, skips, now)? {
                if let Err(err) = answer {
                    tracing::debug!(batch = %batch_id, error = %err, "screened contact not skipped");
                }
            }
        }
        Ok(())
    }

    /// Counts a faulted gate call against each batch it held back; a batch
    /// with `max_consecutive_plugin_faults` in a row is paused.
    fn count_gate_fault(&mut self, batch_id: &str, now: Millis) -> Result<(), EngineError> {
        let streak = self
            .gate_fault_streaks
            .entry(batch_id.to_string())
            .or_default();
        *streak += 1;
        let streak = *streak;
        let batch = self.batch(batch_id)?;
        let limit = self
            .campaigns
            .get(&(batch.workspace.clone(), batch.campaign_id.clone()))
            .map_or(0, |state| state.policy.spec.max_consecutive_plugin_faults);
        if limit == 0 || streak < limit {
            return Ok(());
        }
        let change = StatusChange {
            batch_id: batch_id.to_string(),
            to: BatchStatus::Paused,
            reason: Some("plugin_faulted".to_string()),
            by: DISPATCHER.to_string(),
            at: now,
            only_from: vec![BatchStatus::InProgress],
        };
        match self.store.set_batch_status(change) {
            Ok(_) => {
                tracing::warn!(batch = %batch_id, faults = streak, "batch paused: its dial gate faulted on every call");
                self.gate_fault_streaks.remove(batch_id);
            }
            Err(StoreError::IllegalTransition(_)) => {}
            Err(err) => return Err(err.into()),
        }
        Ok(())
    }
}

/// The cap that holds a number back, as queue health tells it: "2
/// attempts in 24h".
fn cap_reason(caps: &[FrequencyCap], placed: &[Millis], now: Millis) -> String {
    let holding = caps
        .iter()
        .filter_map(|cap| Some((capped_until(std::slice::from_ref(cap), placed, now)?, cap)))
        .max_by_key(|(free_at, _)| *free_at);
    match holding {
        Some((_, cap)) => format!(
            "{} attempts in {}",
            cap.max_attempts,
            show_duration(cap.period_ms)
        ),
        None => "frequency cap".to_string(),
    }
}

/// When a number that was dialed at `placed` (oldest first, this tick's
/// admitted dials included) may be dialed again under `caps`: `None` when
/// every cap lets a dial through at `now`, else the first moment all do,
/// when enough of the counted attempts have aged out of each window.
pub(super) fn capped_until(
    caps: &[FrequencyCap],
    placed: &[Millis],
    now: Millis,
) -> Option<Millis> {
    caps.iter()
        .filter_map(|cap| {
            let window_start = now - cap.period_ms;
            let counted = &placed[placed.partition_point(|at| *at <= window_start)..];
            let allowed = cap.max_attempts as usize;
            // The dial is allowed once fewer than `allowed` attempts are in
            // the window: after the oldest `counted - allowed + 1` age out.
            (counted.len() >= allowed).then(|| counted[counted.len() - allowed] + cap.period_ms)
        })
        .max()
}

#[cfg(test)]
mod cap_tests {
    use super::*;
    use crate::model::HOUR_MS;

    const NOW: Millis = 1_000 * HOUR_MS;

    fn cap(max_attempts: u32, hours: i64) -> FrequencyCap {
        FrequencyCap {
            max_attempts,
            period_ms: hours * HOUR_MS,
        }
    }

    #[test]
    fn a_number_under_every_cap_is_not_capped() {
        let placed = [NOW - 30 * HOUR_MS, NOW - 2 * HOUR_MS];
        assert_eq!(capped_until(&[cap(2, 24)], &placed, NOW), None);
        assert_eq!(capped_until(&[], &placed, NOW), None);
    }

    #[test]
    fn a_capped_number_waits_until_its_oldest_counted_attempt_ages_out() {
        let placed = [NOW - 20 * HOUR_MS, NOW - 2 * HOUR_MS];
        assert_eq!(
            capped_until(&[cap(2, 24)], &placed, NOW),
            Some(NOW + 4 * HOUR_MS)
        );
    }

    #[test]
    fn with_several_attempts_over_the_cap_enough_of_them_must_age_out() {
        let placed = [NOW - 20 * HOUR_MS, NOW - 10 * HOUR_MS, NOW - HOUR_MS];
        assert_eq!(
            capped_until(&[cap(1, 24)], &placed, NOW),
            Some(NOW + 23 * HOUR_MS),
            "all three must leave a window that allows one"
        );
    }

    #[test]
    fn the_strictest_cap_decides_when_several_apply() {
        let placed = [NOW - 100 * HOUR_MS, NOW - 3 * HOUR_MS];
        let caps = [cap(3, 24), cap(2, 7 * 24), cap(1, 4)];
        assert_eq!(
            capped_until(&caps, &placed, NOW),
            Some(NOW - 100 * HOUR_MS + 7 * 24 * HOUR_MS)
        );
    }

    #[test]
    fn an_attempt_exactly_one_period_old_no_longer_counts() {
        let placed = [NOW - 24 * HOUR_MS];
        assert_eq!(capped_until(&[cap(1, 24)], &placed, NOW), None);
    }
}
