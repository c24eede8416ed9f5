//! The `outdial` process killed with SIGKILL at random moments of a batch
//! and resumed each time: no accepted contact is lost, no attempt id is
//! dialed twice, every dialed attempt was durable before its call, and the
//! counters still equal a recount.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use outdial::model::BatchStatus;
use outdial::provider::simulated::{call_log_path, placements_in_call_log};
use outdial::store::{AttemptKey, BatchQuery, SledStore, Store, StoreConfig};

const CONTACTS: u32 = 5_000;
const KILLS: usize = 6;

#[test]
fn a_batch_killed_and_resumed_loses_no_contact_and_dials_no_attempt_twice() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data_dir = dir.path().join("demo");
    // Kill moments vary from run to run; the seed is printed so a failure
    // can be replayed.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |elapsed| elapsed.as_nanos() as u64);
    println!("kill schedule seed {seed}");
    let mut random = seed | 1;

    let mut killed = 0;
    for kill in 0..KILLS {
        let mut child = demo(&data_dir, kill > 0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("outdial starts");
        // Between 0.6 and 2.6 s: from plugin loading to the thick of the
        // batch.
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        let after = Duration::from_millis(600 + random % 2_000);
        std::thread::sleep(after);
        if let Some(status) = child.try_wait().expect("child status") {
            println!("run {kill} ended by itself after {after:?}: {status}");
            break;
        }
        println!("run {kill} killed after {after:?}");
        child.kill().expect("SIGKILL is delivered");
        killed += 1;
        child.wait().expect("the killed child is reaped");
    }

    assert!(killed >= 2, "only {killed} runs were killed mid-batch");

    let finished = demo(&data_dir, true)
        .args(["--timeout", "240"])
        .output()
        .expect("outdial runs");
    let stdout = String::from_utf8_lossy(&finished.stdout);
    assert!(
        finished.status.success(),
        "the resumed run did not finish cleanly:\n{stdout}\n{}",
        String::from_utf8_lossy(&finished.stderr)
    );

    let store = SledStore::open(&StoreConfig::new(data_dir.join("store"))).expect("store opens");
    let batches = store
        .list_batches(&BatchQuery {
            workspace: "demo".to_string(),
            campaign_id: None,
            cursor: None,
            limit: 10,
        })
        .expect("batches");
    assert_eq!(batches.items.len(), 1, "one batch, created once");
    let batch = &batches.items[0];
    assert_eq!(batch.status, BatchStatus::Completed, "{stdout}");
    let counters = store.batch_counters(&batch.id).expect("counters");
    assert_eq!(counters.total, u64::from(CONTACTS), "no contact lost");
    assert_eq!(counters.finished(), counters.total, "nothing stuck");
    assert_eq!(counters, store.recount(&batch.id).expect("recount"));
    assert!(store.live_attempts().expect("live").is_empty());

    let placed = placements_in_call_log(&call_log_path(&data_dir)).expect("the call log reads");
    assert!(!placed.is_empty(), "calls were placed");

    // The simulated provider can say whether it placed a call for an
    // attempt id, so a kill between an intent and its placement never
    // leaves an attempt to end as placement_unknown: it is looked up.
    let mut never_placed = 0;
    for seq in 0..u64::from(CONTACTS) {
        for attempt in store.attempts(&batch.id, seq).expect("attempts") {
            assert_ne!(
                attempt.reason(),
                Some("placement_unknown"),
                "{attempt:?} was left unknown though the provider can tell"
            );
            if attempt.reason() == Some("never_placed") {
                never_placed += 1;
                assert!(attempt.system_retry, "{attempt:?} counted");
                assert!(!placed.contains_key(&attempt.id), "{attempt:?} was placed");
            }
        }
    }
    println!("{never_placed} intents the provider never placed ended at recovery, uncounted");
    for (attempt_id, times) in &placed {
        assert_eq!(*times, 1, "attempt {attempt_id} was dialed {times} times");
        let key = AttemptKey::parse(attempt_id).expect("a well-formed attempt id");
        let attempts = store.attempts(&key.batch_id, key.seq).expect("attempts");
        assert!(
            attempts.iter().any(|attempt| attempt.number == key.number),
            "attempt {attempt_id} was dialed without a durable record"
        );
    }
}

fn demo(data_dir: &Path, resume: bool) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_outdial"));
    command
        .arg("demo")
        .args(["--contacts", &CONTACTS.to_string()])
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("OUTDIAL_DATA_DIR");
    if resume {
        command.arg("--resume");
    }
    command
}
