//! A call placement whose answer never came back (a timeout, a connection
//! lost after the request went out): the provider may have the call, so
//! the contact is not dialed again until its events or the call timeout
//! say what happened.

use std::collections::HashSet;
use std::sync::Mutex;

use super::*;

/// The simulator behind a network that loses the answer to some
/// placements: for some the call was placed all the same, for others the
/// request never got through.
struct LostAnswers {
    inner: Arc<SimulatedProvider>,
    placed_unanswered: Mutex<HashSet<String>>,
    never_placed: Mutex<HashSet<String>>,
}

impl Provider for LostAnswers {
    fn name(&self) -> &str {
        "lost-answers"
    }

    fn place_call(
        &self,
        call: PlaceCall,
        now: Millis,
    ) -> BoxFuture<'_, Result<String, ProviderFailure>> {
        // First attempts only: contact 0, 2, 4, ... placed and unanswered,
        // 1, 5, 9, ... never placed.
        let seq: u64 = call.attempt_id.split('-').nth(1).unwrap().parse().unwrap();
        let first = call.attempt_id.ends_with("-1");
        let lost = "the request was sent and its answer lost: timed out".to_string();
        if first && seq.is_multiple_of(2) {
            self.inner
                .place(&call, now)
                .expect("the simulator places it");
            self.placed_unanswered
                .lock()
                .unwrap()
                .insert(call.attempt_id);
            return Box::pin(std::future::ready(Err(ProviderFailure::PlacementUnknown(
                lost,
            ))));
        }
        if first && seq % 4 == 1 {
            self.never_placed.lock().unwrap().insert(call.attempt_id);
            return Box::pin(std::future::ready(Err(ProviderFailure::PlacementUnknown(
                lost,
            ))));
        }
        self.inner.place_call(call, now)
    }

    fn drain_events(&self, now: Millis) -> Vec<ProviderEvent> {
        self.inner.drain_events(now)
    }
}

#[tokio::test]
async fn a_call_whose_placement_went_unanswered_is_waited_for_and_its_contact_never_dialed_meanwhile()
 {
    let network: Arc<Mutex<Option<Arc<LostAnswers>>>> = Arc::new(Mutex::new(None));
    let keep = network.clone();
    let mut h = harness_with(
        CampaignPolicy::builtin(spec(50, 100.0, 2)),
        SimulationConfig {
            seed: 11,
            ..SimulationConfig::default()
        },
        move |inner| {
            let lost = Arc::new(LostAnswers {
                inner,
                placed_unanswered: Mutex::new(HashSet::new()),
                never_placed: Mutex::new(HashSet::new()),
            });
            *keep.lock().unwrap() = Some(lost.clone());
            lost
        },
    );
    let network = network
        .lock()
        .unwrap()
        .clone()
        .expect("the engine's provider");
    let batch = h.create(contacts(20, us_phone, "America/New_York"));
    h.run_until(T0 + 6 * 60 * MINUTE_MS, SECOND_MS, |h| {
        h.batch(&batch).status.is_final()
    })
    .await;
    assert!(h.batch(&batch).status.is_final(), "the batch finishes");

    let call_timeout = 10 * MINUTE_MS;
    let placed_unanswered = network.placed_unanswered.lock().unwrap().clone();
    let never_placed = network.never_placed.lock().unwrap().clone();
    assert_eq!((placed_unanswered.len(), never_placed.len()), (10, 5));
    for seq in 0..20u64 {
        let attempts = h.store.attempts(&batch, seq).expect("attempts");
        for attempt in &attempts {
            assert!(
                h.provider.calls_placed_for(&attempt.id) <= 1,
                "{} placed twice",
                attempt.id
            );
        }
        let first = &attempts[0];
        let log = h
            .store
            .contact_detail(&batch, seq)
            .expect("detail")
            .expect("the contact")
            .events;
        let waits: Vec<_> = log
            .iter()
            .filter(|event| event.kind == "placement_unknown")
            .collect();
        if placed_unanswered.contains(&first.id) || never_placed.contains(&first.id) {
            // The log says why the contact waits while its first call may ring.
            assert_eq!(waits.len(), 1, "contact {seq}: {log:?}");
            assert_eq!(waits[0].at, first.started_at, "contact {seq}: {log:?}");
            assert!(
                waits[0].detail.contains("waits for its events"),
                "{}",
                waits[0].detail
            );
        } else {
            assert!(waits.is_empty(), "contact {seq}: {log:?}");
        }
        if placed_unanswered.contains(&first.id) {
            // Its events told how the call went, as for any other call.
            assert_ne!(first.reason(), Some("placement_unknown"));
            assert!(first.provider_call_id.is_some(), "{first:?}");
            assert!(first.ended_at.unwrap() < first.started_at + call_timeout);
            assert!(!first.system_retry);
        } else if never_placed.contains(&first.id) {
            assert_eq!(first.reason(), Some("placement_unknown"));
            assert_eq!(first.outcome, Some(CallOutcome::Unknown));
            assert!(first.ended_at.unwrap() >= first.started_at + call_timeout);
            assert!(!first.system_retry, "it may have been a call: it counts");
        }
        if let Some(second) = attempts.get(1) {
            assert!(
                second.started_at >= first.ended_at.unwrap(),
                "contact {seq} was dialed again while its first call may have rung"
            );
        }
    }
    h.assert_counters_match_a_recount(&batch);
}
