//! Provider events lost, duplicated and reordered, in virtual time: every
//! attempt ends once, with the outcome the provider reported, and nothing
//! is dialed twice.

use std::collections::HashMap;
use std::sync::Mutex;

use super::*;
use crate::provider::StatusQuery;

/// The simulator behind a network that delivers every final event twice
/// (once now, once a drain later), holds ringing and answered events back
/// until after the final one, and loses finals outright for some calls
/// (the simulator's own `lost_final_event_rate`, answered by its poll).
struct UnreliableNetwork {
    inner: Arc<SimulatedProvider>,
    held: Mutex<Vec<ProviderEvent>>,
    delivered_finals: Mutex<HashMap<String, u32>>,
}

impl Provider for UnreliableNetwork {
    fn name(&self) -> &str {
        "unreliable"
    }

    fn place_call(
        &self,
        call: PlaceCall,
        now: Millis,
    ) -> BoxFuture<'_, Result<String, ProviderFailure>> {
        self.inner.place_call(call, now)
    }

    fn drain_events(&self, now: Millis) -> Vec<ProviderEvent> {
        let mut held = self.held.lock().unwrap();
        let mut out: Vec<ProviderEvent> = std::mem::take(&mut *held);
        let mut early = Vec::new();
        for event in self.inner.drain_events(now) {
            match event.kind {
                CallEventKind::Ended(_) => {
                    *self
                        .delivered_finals
                        .lock()
                        .unwrap()
                        .entry(event.attempt_id.clone())
                        .or_default() += 1;
                    held.push(event.clone());
                    out.push(event);
                }
                _ => early.push(event),
            }
        }
        // Ringing and answered arrive after the final event of the drain.
        out.extend(early);
        out
    }

    fn poll_status(
        &self,
        call: &StatusQuery<'_>,
    ) -> Option<BoxFuture<'_, Result<Option<ProviderEvent>, ProviderFailure>>> {
        self.inner.poll_status(call)
    }
}

#[tokio::test]
async fn lost_duplicated_and_reordered_events_end_each_attempt_once_as_reported() {
    const CONTACTS: usize = 60;
    let network: Arc<Mutex<Option<Arc<UnreliableNetwork>>>> = Arc::default();
    let slot = network.clone();
    let mut h = harness_with(
        CampaignPolicy::builtin(spec(6, 10.0, 3)),
        SimulationConfig {
            seed: 9,
            lost_final_event_rate: 0.2,
            ..SimulationConfig::default()
        },
        move |inner| {
            let wrapped = Arc::new(UnreliableNetwork {
                inner,
                held: Mutex::new(Vec::new()),
                delivered_finals: Mutex::new(HashMap::new()),
            });
            *slot.lock().unwrap() = Some(wrapped.clone());
            wrapped
        },
    );
    let network = network.lock().unwrap().clone().expect("wrapped");
    let batch = h.create(contacts(CONTACTS, us_phone, "UTC"));
    let done = |h: &Harness| h.batch(&batch).status == BatchStatus::Completed;
    h.run_until(T0 + 7 * DAY_MS, 5 * SECOND_MS, done).await;
    assert_eq!(h.batch(&batch).status, BatchStatus::Completed);
    h.assert_counters_match_a_recount(&batch);

    let attempts: Vec<Attempt> = (0..CONTACTS as u64)
        .flat_map(|seq| h.store.attempts(&batch, seq).expect("attempts"))
        .collect();
    let delivered = network.delivered_finals.lock().unwrap().clone();
    let mut lost = 0;
    for attempt in &attempts {
        assert!(attempt.ended_at.is_some(), "{attempt:?}");
        assert_eq!(
            h.provider.calls_placed_for(&attempt.id),
            1,
            "{}",
            attempt.id
        );
        let script = h.provider.script(&attempt.id);
        // The outcome is the one the provider reported, not a host guess.
        assert_eq!(attempt.talk_ms, script.talk_ms, "{}", attempt.id);
        assert_eq!(attempt.sip_code, Some(script.sip_code), "{}", attempt.id);
        if !delivered.contains_key(&attempt.id) {
            lost += 1;
        }
        assert_ne!(
            attempt.reason(),
            Some("lost_final_event"),
            "the poll answered"
        );
    }
    assert!(lost > 0, "some final events were lost");
    assert!(delivered.len() > attempts.len() / 2, "most were delivered");
    // Each attempt ended once: one end event per attempt in the logs.
    for seq in 0..CONTACTS as u64 {
        let detail = h
            .store
            .contact_detail(&batch, seq)
            .expect("detail")
            .expect("contact");
        assert!(detail.contact.status.is_final());
        let ends = detail
            .events
            .iter()
            .filter(|event| event.kind.contains("ended"))
            .count();
        assert_eq!(ends, detail.attempts.len(), "{:?}", detail.events);
    }
    assert_eq!(h.provider.calls_placed() as usize, attempts.len());
}
