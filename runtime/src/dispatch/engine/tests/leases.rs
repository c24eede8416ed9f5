//! The engine on a store shared by several nodes: it dials only the
//! campaigns whose lease it holds, leaves a lost campaign's calls to the
//! new owner, reconciles the calls of one it takes over before dialing,
//! and hands back a surplus campaign once its calls have ended.

use super::store_faults::{Rig, rig};
use super::*;
use crate::store::{Lease, LeaseRound};

fn holding(epoch: i64) -> LeaseRound {
    LeaseRound {
        held: vec![Lease {
            workspace: "ws".to_string(),
            campaign_id: "camp".to_string(),
            epoch,
        }],
        surplus: Vec::new(),
    }
}

/// Ticks every second until some calls are live.
async fn run_until_calls_are_live(rig: &mut Rig) {
    let until = rig.now + 10 * MINUTE_MS;
    rig.run_until(until, |rig| rig.engine.live_calls() >= 2)
        .await;
    assert!(rig.engine.live_calls() >= 2, "calls are live");
}

#[tokio::test]
async fn a_campaign_whose_lease_is_lost_is_not_dialed_and_its_calls_are_left_to_the_new_owner() {
    let mut rig = rig();
    rig.store.lease(holding(1));
    let batch = rig.create();
    run_until_calls_are_live(&mut rig).await;
    let placed = rig.provider.calls_placed();

    rig.store.lease(LeaseRound::default());
    let until = rig.now + 5 * MINUTE_MS;
    rig.run_until(until, |_| false).await;

    assert_eq!(rig.provider.calls_placed(), placed, "nothing dialed");
    assert_eq!(
        rig.engine.live_calls(),
        0,
        "its calls are not followed here"
    );
    assert!(
        !rig.store.live_attempts().expect("live").is_empty(),
        "their attempts stay live for the new owner to reconcile"
    );
    assert_eq!(
        rig.batch(&batch).status,
        BatchStatus::InProgress,
        "a lost lease is no fault of the batch"
    );
}

#[tokio::test]
async fn a_campaign_taken_over_has_its_live_calls_reconciled_and_none_dialed_twice() {
    let mut rig = rig();
    let batch = rig.create();
    run_until_calls_are_live(&mut rig).await;
    let left_live = rig.store.live_attempts().expect("live").len();
    assert!(left_live >= 2);

    // The node dies; another, on the same store and provider, holds no
    // lease yet.
    rig.store.lease(LeaseRound::default());
    rig.engine = Engine::new(
        rig.store.clone(),
        rig.provider.clone(),
        vec![CampaignPolicy::builtin(rig.spec.clone())],
        EngineOptions::default(),
        rig.now,
    )
    .expect("engine starts");
    rig.engine.recover(rig.now).await.expect("recover");
    let placed = rig.provider.calls_placed();
    rig.engine.tick(rig.now).await.expect("tick");
    assert_eq!(rig.provider.calls_placed(), placed, "no lease, no dial");
    assert_eq!(rig.engine.live_calls(), 0);

    // The dead node's lease runs out and this one takes it over.
    rig.store.lease(holding(2));
    rig.engine.tick(rig.now).await.expect("tick");
    let followed = rig.engine.live_calls();
    assert!(
        followed > 0 || rig.store.live_attempts().expect("live").len() < left_live,
        "the calls left live are followed or ended"
    );
    let done = |rig: &Rig| rig.batch(&batch).status == BatchStatus::Completed;
    rig.run_until(rig.now + 24 * 60 * MINUTE_MS, done).await;
    rig.assert_finished_whole(&batch);
}

#[tokio::test]
async fn a_surplus_campaign_takes_no_new_dials_and_is_handed_back_once_its_calls_end() {
    let mut rig = rig();
    rig.store.lease(holding(1));
    let batch = rig.create();
    run_until_calls_are_live(&mut rig).await;

    let mut surplus = holding(1);
    surplus.surplus = vec![("ws".to_string(), "camp".to_string())];
    rig.store.lease(surplus);
    let placed = rig.provider.calls_placed();
    let released = |rig: &Rig| !rig.store.released().is_empty();
    rig.run_until(rig.now + 30 * MINUTE_MS, released).await;

    assert_eq!(rig.provider.calls_placed(), placed, "no new dial");
    assert_eq!(
        rig.store.released(),
        [("ws".to_string(), "camp".to_string())],
        "handed back"
    );
    assert!(
        rig.store.live_attempts().expect("live").is_empty(),
        "only once every call of it ended"
    );
    assert_eq!(rig.batch(&batch).status, BatchStatus::InProgress);
}

#[tokio::test]
async fn a_call_whose_lease_runs_out_before_it_leaves_is_not_placed_and_retried_uncounted() {
    let mut rig = rig();
    let batch = rig.create();
    rig.store.allow_placing(false);
    rig.engine.tick(rig.now).await.expect("tick");
    assert_eq!(rig.provider.calls_placed(), 0, "no call left");
    assert!(
        rig.store.live_attempts().expect("live").is_empty(),
        "the intents ended as never placed"
    );
    let contacts = rig
        .store
        .list_contacts(&crate::store::ContactQuery {
            batch_id: batch.clone(),
            limit: 1_000,
            ..crate::store::ContactQuery::default()
        })
        .expect("list")
        .items;
    let retried = contacts.iter().filter(|c| c.system_retries == 1).count();
    assert!(retried > 0, "the intents ended as system retries");
    assert!(
        contacts.iter().all(|c| c.attempts_made == 0),
        "none counts as an attempt"
    );

    rig.store.allow_placing(true);
    let done = |rig: &Rig| rig.batch(&batch).status == BatchStatus::Completed;
    rig.run_until(rig.now + 24 * 60 * MINUTE_MS, done).await;
    rig.assert_finished_whole(&batch);
}
