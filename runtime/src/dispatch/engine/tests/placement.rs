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

/// A new engine on the harness's store, as a restarted process builds it,
/// dialing through the simulator itself: a provider that can say whether
/// it placed a call for an attempt id.
fn restarted_with_placement_queries(h: &Harness, campaign: &CampaignSpec) -> Engine {
    restarted_with(h, campaign, h.provider.clone())
}

#[tokio::test]
async fn a_restart_ends_at_once_an_intent_the_provider_never_placed_without_counting_it() {
    // The process died between making the intent durable and asking the
    // provider: no call exists. A provider that can tell frees the slot and
    // the batch at once instead of holding them for the call timeout.
    let (campaign, mut h) = a_campaign_with_a_five_minute_call_timeout();
    let (batch, attempt) = intent_without_call_id(&h);

    h.engine = restarted_with_placement_queries(&h, &campaign);
    assert_eq!(h.engine.recover(h.now).await.expect("recover"), 1);
    assert_eq!(h.engine.live_calls(), 0, "the slot is free");
    let contact = h.store.contact(&batch, 0).expect("read").expect("contact");
    assert_eq!(contact.status, ContactStatus::Retrying);
    assert_eq!(contact.attempts_made, 0, "no call rang: it does not count");
    assert_eq!(contact.system_retries, 1);
    let ended = &h.store.attempts(&batch, 0).expect("attempts")[0];
    assert_eq!(ended.id, attempt.id);
    assert!(ended.system_retry, "{ended:?}");
    assert_eq!(ended.reason(), Some("never_placed"));

    h.run(h.now + 5 * SECOND_MS, SECOND_MS).await;
    let attempts = h.store.attempts(&batch, 0).expect("attempts");
    assert_eq!(
        attempts.len(),
        2,
        "dialed again within seconds: {attempts:?}"
    );
    assert_eq!(h.provider.calls_placed_for(&attempt.id), 0);
    assert_eq!(h.provider.calls_placed_for(&attempts[1].id), 1);
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn an_attempt_id_reported_as_never_placed_is_never_placed_afterwards() {
    let sim = SimulatedProvider::new(SimulationConfig::default());
    let intent = PlacementQuery {
        campaign_id: "camp",
        attempt_id: "btc_1-0-1",
        intent_at: T0,
    };
    assert_eq!(sim.placement(&intent), Placement::NeverPlaced);
    let late = PlaceCall {
        attempt_id: "btc_1-0-1".to_string(),
        campaign_id: "camp".to_string(),
        batch_id: "btc_1".to_string(),
        contact_id: "c0".to_string(),
        to: "+14155550100".to_string(),
        from: "+15550100000".to_string(),
        parameters: Vec::new(),
    };
    assert!(matches!(
        sim.place(&late, T0 + 1),
        Err(ProviderFailure::Permanent(_))
    ));
    assert_eq!(sim.calls_placed_for("btc_1-0-1"), 0);
}

#[tokio::test]
async fn a_restart_follows_a_call_the_provider_placed_whose_answer_was_lost() {
    let (campaign, mut h) = a_campaign_with_a_five_minute_call_timeout();
    let (batch, attempt) = intent_without_call_id(&h);
    let contact = h.store.contact(&batch, 0).expect("read").expect("contact");
    let call_id = h
        .provider
        .place(
            &PlaceCall {
                attempt_id: attempt.id.clone(),
                campaign_id: campaign.id.clone(),
                batch_id: batch.clone(),
                contact_id: contact.contact_id.clone(),
                to: contact.phone.clone(),
                from: "+15550100000".to_string(),
                parameters: Vec::new(),
            },
            h.now,
        )
        .expect("the provider places the call");

    h.engine = restarted_with_placement_queries(&h, &campaign);
    assert_eq!(h.engine.recover(h.now).await.expect("recover"), 0);
    assert_eq!(h.engine.live_calls(), 1, "the call keeps its slot");
    let live = h.store.live_attempts().expect("live");
    assert_eq!(live[0].provider_call_id.as_deref(), Some(call_id.as_str()));

    h.run_until(h.now + 4 * MINUTE_MS, SECOND_MS, |h| {
        h.store.live_attempts().expect("live").is_empty()
    })
    .await;
    let ended = &h.store.attempts(&batch, 0).expect("attempts")[0];
    assert_eq!(ended.id, attempt.id);
    assert_eq!(ended.provider_call_id.as_deref(), Some(call_id.as_str()));
    assert_ne!(ended.reason(), Some("placement_unknown"));
    assert_ne!(ended.outcome, Some(CallOutcome::Unknown), "{ended:?}");
    assert!(
        ended.ended_at.unwrap() < attempt.started_at + campaign.call_timeout_ms,
        "ended by its events, not the call timeout"
    );
    assert_eq!(h.provider.calls_placed_for(&attempt.id), 1);
    h.assert_counters_match_a_recount(&batch);
}
