//! Suppression lists and frequency caps hold across every campaign of a
//! workspace: a listed number is never dialed, not even one listed in the
//! middle of a batch, a `do_not_call` in one campaign stops the others, and
//! a cap counts attempts over all of them.

use std::collections::HashMap;
use std::sync::Mutex;

use super::*;
use crate::model::{FrequencyCap, HOUR_MS, NewSuppression, NewSuppressionList};
use crate::policy::{ClassifyRequest, GateCandidate, GateVerdict};
use crate::provider::simulated::OutcomeMix;

fn nobody_answers() -> SimulationConfig {
    SimulationConfig {
        seed: 11,
        outcomes: OutcomeMix {
            human: 0,
            voicemail: 0,
            call_screening: 0,
            busy: 0,
            no_answer: 1,
            failed: 0,
        },
        ..SimulationConfig::default()
    }
}

fn list(store: &SledStore, name: &str, blocks: bool) {
    store
        .create_suppression_list(
            "ws",
            NewSuppressionList {
                name: name.to_string(),
                description: None,
                blocks,
            },
            T0,
        )
        .expect("the list is created");
}

fn suppress(store: &SledStore, list: &str, phones: &[String], at: Millis) {
    let entries = phones
        .iter()
        .map(|phone| NewSuppression {
            phone: phone.clone(),
            expires_at: None,
            reason: Some("asked not to be called".to_string()),
        })
        .collect();
    store
        .add_suppressions("ws", list, entries, "test", at)
        .expect("the numbers are added");
}

/// Every attempt of the batch, with its contact's number.
fn attempts_by_phone(h: &Harness, batch: &str) -> HashMap<String, Vec<Attempt>> {
    h.all_contacts(batch)
        .into_iter()
        .map(|contact| {
            let attempts = h.store.attempts(batch, contact.seq).expect("attempts");
            (contact.phone, attempts)
        })
        .collect()
}

#[tokio::test]
async fn a_batch_places_no_call_to_the_tenth_of_its_numbers_on_a_list() {
    const CONTACTS: usize = 100;
    let mut h = harness(CampaignPolicy::builtin(spec(10, 20.0, 2)), nobody_answers());
    let listed: Vec<String> = (0..CONTACTS).step_by(10).map(us_phone).collect();
    suppress(&h.store, "dnc-internal", &listed, T0);
    let batch = h.create(contacts(CONTACTS, us_phone, "UTC"));
    h.run(T0 + 3 * HOUR_MS, 10 * SECOND_MS).await;

    let mut placed_to_others = 0;
    for contact in h.all_contacts(&batch) {
        let attempts = h.store.attempts(&batch, contact.seq).expect("attempts");
        if listed.contains(&contact.phone) {
            assert!(attempts.is_empty(), "{} was dialed", contact.phone);
            assert_eq!(contact.status, ContactStatus::Skipped);
            assert_eq!(
                contact.final_reason.as_deref(),
                Some("suppressed:dnc-internal")
            );
        } else {
            placed_to_others += attempts.len() as u64;
        }
    }
    assert_eq!(
        h.provider.calls_placed(),
        placed_to_others,
        "the provider heard of no listed number"
    );
    let counters = h.store.batch_counters(&batch).expect("counters");
    assert_eq!(counters.suppressed, listed.len() as u64);
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn a_number_added_mid_batch_is_never_dialed_after_the_add() {
    const CONTACTS: usize = 40;
    // One call at a time, each retried: the batch is still dialing when
    // the numbers are added.
    let mut h = harness(CampaignPolicy::builtin(spec(1, 1.0, 3)), nobody_answers());
    let batch = h.create(contacts(CONTACTS, us_phone, "UTC"));
    h.run(T0 + 10 * MINUTE_MS, 10 * SECOND_MS).await;
    let added_at = h.now;
    let listed: Vec<String> = (0..CONTACTS).filter(|i| i % 4 == 1).map(us_phone).collect();
    suppress(&h.store, "dnc-internal", &listed, added_at);
    h.run(T0 + 12 * HOUR_MS, 10 * SECOND_MS).await;

    let by_phone = attempts_by_phone(&h, &batch);
    for phone in &listed {
        for attempt in &by_phone[phone] {
            assert!(
                attempt.started_at < added_at,
                "{phone} was dialed at {} after its add at {added_at}",
                attempt.started_at
            );
        }
    }
    let skipped = h
        .all_contacts(&batch)
        .into_iter()
        .filter(|contact| contact.final_reason.as_deref() == Some("suppressed:dnc-internal"))
        .count();
    assert!(skipped > 0, "some listed contacts were still waiting");
    h.assert_counters_match_a_recount(&batch);
}

/// Every answered call is a person asking not to be called again.
struct StopCalling;

impl Classifier for StopCalling {
    fn identity(&self) -> &str {
        "sha256:stop-calling"
    }

    fn classify(&self, _request: &Arc<ClassifyRequest>) -> Result<Disposition, PolicyFault> {
        Ok(Disposition {
            label: "do_not_call".to_string(),
            terminal: true,
            score: None,
            sentiment: None,
            follow_up_at: None,
        })
    }
}

fn campaign(id: &str, caps: Vec<FrequencyCap>) -> CampaignSpec {
    let mut campaign = spec(10, 20.0, 5);
    campaign.id = id.to_string();
    campaign.frequency_caps = caps;
    campaign
}

fn two_campaigns(
    first: CampaignPolicy,
    second: CampaignPolicy,
    provider: SimulationConfig,
) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store_config = StoreConfig::new(dir.path().join("db"));
    store_config.durability = Durability::Relaxed;
    let store = Arc::new(SledStore::open(&store_config).expect("store opens"));
    let provider = Arc::new(SimulatedProvider::new(provider));
    let engine = Engine::new(
        store.clone(),
        provider.clone(),
        vec![first, second],
        EngineOptions::default(),
        T0,
    )
    .expect("engine starts");
    Harness {
        _dir: dir,
        store,
        provider,
        engine,
        now: T0,
    }
}

fn batch_of(campaign: &str, count: usize) -> NewBatch {
    NewBatch {
        campaign_id: campaign.to_string(),
        ..contacts(count, us_phone, "UTC")
    }
}

#[tokio::test]
async fn a_do_not_call_in_one_campaign_stops_the_others_from_calling_the_number() {
    const CONTACTS: usize = 20;
    let mut first = CampaignPolicy::builtin(campaign("first", Vec::new()));
    first.classifier = Arc::new(StopCalling);
    let second = CampaignPolicy::builtin(campaign("second", Vec::new()));
    let answered = SimulationConfig {
        seed: 3,
        outcomes: OutcomeMix {
            human: 1,
            voicemail: 0,
            call_screening: 0,
            busy: 0,
            no_answer: 0,
            failed: 0,
        },
        ..SimulationConfig::default()
    };
    let mut h = two_campaigns(first, second, answered);
    let first_batch = h.create(batch_of("first", CONTACTS));
    h.run(T0 + HOUR_MS, 10 * SECOND_MS).await;
    let placed_by_first = h.provider.calls_placed();
    assert_eq!(
        placed_by_first, CONTACTS as u64,
        "each person was called once"
    );
    let internal = h
        .store
        .suppression_list("ws", "dnc-internal")
        .expect("read")
        .expect("always there");
    assert_eq!(internal.entries, CONTACTS as u64);

    let second_batch = h.create(batch_of("second", CONTACTS));
    h.run(h.now + HOUR_MS, 10 * SECOND_MS).await;
    assert_eq!(
        h.provider.calls_placed(),
        placed_by_first,
        "the second campaign called nobody"
    );
    for contact in h.all_contacts(&second_batch) {
        assert_eq!(
            contact.final_reason.as_deref(),
            Some("suppressed:dnc-internal")
        );
    }
    h.assert_counters_match_a_recount(&first_batch);
    h.assert_counters_match_a_recount(&second_batch);
}

#[tokio::test]
async fn a_cap_of_two_a_day_holds_across_two_campaigns_dialing_the_same_numbers() {
    const CONTACTS: usize = 10;
    let cap = vec![FrequencyCap {
        max_attempts: 2,
        period_ms: 24 * HOUR_MS,
    }];
    let mut h = two_campaigns(
        CampaignPolicy::builtin(campaign("first", cap.clone())),
        CampaignPolicy::builtin(campaign("second", cap)),
        nobody_answers(),
    );
    let first = h.create(batch_of("first", CONTACTS));
    let second = h.create(batch_of("second", CONTACTS));
    h.run(T0 + 30 * HOUR_MS, 30 * SECOND_MS).await;

    let mut starts: HashMap<String, Vec<Millis>> = HashMap::new();
    for batch in [&first, &second] {
        for (phone, attempts) in attempts_by_phone(&h, batch) {
            starts
                .entry(phone)
                .or_default()
                .extend(attempts.iter().map(|attempt| attempt.started_at));
        }
    }
    for (phone, mut times) in starts {
        times.sort_unstable();
        for window in times.windows(3) {
            assert!(
                window[2] - window[0] >= 24 * HOUR_MS,
                "{phone} got three attempts within a day: {window:?}"
            );
        }
        assert!(
            times.len() >= 3,
            "{phone} was dialed again once a day had passed"
        );
    }
    let capped = h
        .all_contacts(&first)
        .into_iter()
        .chain(h.all_contacts(&second))
        .filter(|contact| contact.blocker == Some(Blocker::FrequencyCapped))
        .count();
    assert!(
        capped > 0,
        "contacts wait with the frequency_capped blocker"
    );
    h.assert_counters_match_a_recount(&first);
    h.assert_counters_match_a_recount(&second);
}

/// Allows every dial and keeps what it was handed.
#[derive(Default)]
struct Watching {
    handed: Mutex<Vec<GateCandidate>>,
}

impl DialGate for Arc<Watching> {
    fn identity(&self) -> &str {
        "sha256:watching"
    }

    fn check(&self, candidates: &[GateCandidate]) -> Result<Vec<GateVerdict>, PolicyFault> {
        self.handed
            .lock()
            .expect("not poisoned")
            .extend_from_slice(candidates);
        Ok(vec![GateVerdict::Allow; candidates.len()])
    }
}

#[tokio::test]
async fn a_gate_is_handed_the_numbers_calls_across_campaigns_and_its_informing_lists() {
    let gate = Arc::new(Watching::default());
    let first = CampaignPolicy::builtin(campaign("first", Vec::new()));
    let second = CampaignPolicy::builtin(campaign("second", Vec::new())).with_gate(gate.clone());
    let mut h = two_campaigns(first, second, nobody_answers());
    list(&h.store, "consent", false);
    suppress(&h.store, "consent", &[us_phone(0)], T0);
    h.create(batch_of("first", 2));
    h.run(T0 + 10 * MINUTE_MS, 10 * SECOND_MS).await;
    h.create(batch_of("second", 2));
    h.run(h.now + 5 * MINUTE_MS, 10 * SECOND_MS).await;

    let handed = gate.handed.lock().expect("not poisoned");
    let first_number = handed
        .iter()
        .find(|candidate| candidate.contact.phone == us_phone(0))
        .expect("the gate was asked about the first number");
    assert_eq!(first_number.lists, vec!["consent".to_string()]);
    assert_eq!(
        first_number.history.attempts_past_day, 1,
        "the first campaign's call counts"
    );
    assert_eq!(first_number.history.attempts_past_month, 1);
    assert!(first_number.history.last_attempt_at.is_some());
    assert_eq!(
        first_number.history.last_label.as_deref(),
        Some("no_answer"),
        "the first campaign's classifier labelled it"
    );
    let second_number = handed
        .iter()
        .find(|candidate| candidate.contact.phone == us_phone(1))
        .expect("the gate was asked about the second number");
    assert!(
        second_number.lists.is_empty(),
        "only informing lists the number is on"
    );
}
