//! Follow-ups the person asked for ("call me back") may go past the
//! attempt limit, but only up to the follow-up limit, and are counted
//! apart from attempts.

use super::*;
use crate::policy::{ClassifyRequest, PolicyFault};
use crate::provider::simulated::OutcomeMix;

/// Every answered call ends with the person asking to be called back in
/// ten minutes.
struct AlwaysCallBack;

impl Classifier for AlwaysCallBack {
    fn identity(&self) -> &str {
        "sha256:call-back"
    }

    fn classify(&self, request: &Arc<ClassifyRequest>) -> Result<Disposition, PolicyFault> {
        let attempt = &request.attempt;
        Ok(Disposition {
            label: "callback_requested".to_string(),
            terminal: false,
            score: None,
            sentiment: None,
            follow_up_at: attempt.ended_at.map(|ended| ended + 10 * MINUTE_MS),
        })
    }
}

/// Three attempts and `max_followups` follow-ups, every call answered by a
/// person who asks to be called back.
fn calling_back(max_followups: u32) -> Harness {
    let mut campaign = spec(20, 50.0, 3);
    campaign.max_followups = max_followups;
    let mut policy = CampaignPolicy::builtin(campaign);
    policy.classifier = Arc::new(AlwaysCallBack);
    harness(
        policy,
        SimulationConfig {
            seed: 5,
            outcomes: OutcomeMix::EVERY_CALL_ANSWERED,
            ..SimulationConfig::default()
        },
    )
}

async fn run_to_the_end(h: &mut Harness, batch: &str) {
    h.run_until(T0 + 24 * 60 * MINUTE_MS, 10 * SECOND_MS, |h| {
        h.batch(batch).status == BatchStatus::Completed
    })
    .await;
    assert_eq!(h.batch(batch).status, BatchStatus::Completed);
}

#[tokio::test]
async fn a_follow_up_past_the_attempt_limit_is_dialed_once_and_counted_apart() {
    let mut h = calling_back(1);
    let batch = h.create(contacts(12, us_phone, "America/New_York"));
    run_to_the_end(&mut h, &batch).await;

    for contact in h.all_contacts(&batch) {
        let attempts = h.store.attempts(&batch, contact.seq).expect("attempts");
        assert_eq!(
            attempts.len(),
            4,
            "3 attempts and 1 follow-up: {attempts:?}"
        );
        assert_eq!(
            (contact.attempts_made, contact.followups_made),
            (3, 1),
            "contact {}",
            contact.seq
        );
        assert!(attempts[..3].iter().all(|attempt| !attempt.followup));
        assert!(attempts[3].followup, "{:?}", attempts[3]);
        assert_eq!(
            contact.final_reason.as_deref(),
            Some("max_followups_reached"),
            "the reason names the limit that ended the contact"
        );
        let adjusted = attempts[3]
            .decision
            .as_ref()
            .and_then(|decision| decision.adjusted.clone());
        assert_eq!(
            adjusted.as_deref(),
            Some("3 of 3 attempts and 1 of 1 follow-ups made")
        );
    }
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn with_no_follow_ups_allowed_a_contact_ends_at_its_attempt_limit() {
    let mut h = calling_back(0);
    let batch = h.create(contacts(6, us_phone, "America/New_York"));
    run_to_the_end(&mut h, &batch).await;

    for contact in h.all_contacts(&batch) {
        assert_eq!((contact.attempts_made, contact.followups_made), (3, 0));
        assert_eq!(
            h.store.attempts(&batch, contact.seq).expect("read").len(),
            3
        );
        assert_eq!(
            contact.final_reason.as_deref(),
            Some("max_followups_reached")
        );
    }
    h.assert_counters_match_a_recount(&batch);
}

#[tokio::test]
async fn a_batch_may_allow_more_follow_ups_than_its_campaign() {
    let mut h = calling_back(1);
    let batch = h.create(NewBatch {
        max_followups: Some(2),
        ..contacts(6, us_phone, "America/New_York")
    });
    run_to_the_end(&mut h, &batch).await;

    for contact in h.all_contacts(&batch) {
        assert_eq!((contact.attempts_made, contact.followups_made), (3, 2));
        assert_eq!(
            h.store.attempts(&batch, contact.seq).expect("read").len(),
            5
        );
    }
    h.assert_counters_match_a_recount(&batch);
}

#[test]
fn a_retry_after_a_follow_up_past_the_limit_gives_up_at_the_attempt_limit() {
    let window = CompiledWindow::new(&CallingWindow::default()).expect("valid window");
    let tally = Tally {
        attempts_made: 3,
        max_attempts: 3,
        followups_made: 1,
        max_followups: 2,
    };
    let retry = Decision::RetryAt { at: T0 + MINUTE_MS };
    let (decision, adjusted) = clamp(retry, &window, chrono_tz::UTC, None, &tally, T0);
    assert_eq!(
        decision,
        Decision::GiveUp {
            reason: "max_attempts_reached".to_string()
        }
    );
    assert_eq!(
        adjusted.as_deref(),
        Some("3 of 3 attempts and 1 of 2 follow-ups made")
    );
    let follow_up = Decision::FollowUpAt { at: T0 + MINUTE_MS };
    let (decision, _) = clamp(follow_up.clone(), &window, chrono_tz::UTC, None, &tally, T0);
    assert_eq!(decision, follow_up, "one follow-up is left");
}

/// The first three calls end with the person asking to be called back;
/// the follow-up ends without a request.
struct CallBackThreeTimes;

impl Classifier for CallBackThreeTimes {
    fn identity(&self) -> &str {
        "sha256:call-back-three-times"
    }

    fn classify(&self, request: &Arc<ClassifyRequest>) -> Result<Disposition, PolicyFault> {
        let mut disposition = AlwaysCallBack.classify(request)?;
        if request.attempt.number > 3 {
            disposition.label = "not_interested".to_string();
            disposition.follow_up_at = None;
        }
        Ok(disposition)
    }
}

#[tokio::test]
async fn a_strategy_counting_the_follow_up_as_an_attempt_does_not_name_the_final_reason() {
    // The built-in strategy gives up with "4 of 3 attempts made" after the
    // follow-up: it cannot tell a follow-up from an attempt. The host says
    // which limit ended the contact.
    let mut campaign = spec(20, 50.0, 3);
    campaign.max_followups = 1;
    let mut policy = CampaignPolicy::builtin(campaign);
    policy.classifier = Arc::new(CallBackThreeTimes);
    let mut h = harness(
        policy,
        SimulationConfig {
            seed: 5,
            outcomes: OutcomeMix::EVERY_CALL_ANSWERED,
            ..SimulationConfig::default()
        },
    );
    let batch = h.create(contacts(6, us_phone, "America/New_York"));
    run_to_the_end(&mut h, &batch).await;

    for contact in h.all_contacts(&batch) {
        assert_eq!((contact.attempts_made, contact.followups_made), (3, 1));
        assert_eq!(
            contact.final_reason.as_deref(),
            Some("max_attempts_reached"),
            "contact {}",
            contact.seq
        );
        let attempts = h.store.attempts(&batch, contact.seq).expect("attempts");
        let decision = attempts[3].decision.as_ref().expect("a decision");
        assert_eq!(
            decision.adjusted.as_deref(),
            Some("3 of 3 attempts and 1 of 1 follow-ups made")
        );
    }
    h.assert_counters_match_a_recount(&batch);
}
