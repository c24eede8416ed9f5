//! Suppression import: N numbers added to one list through
//! `add_suppressions`, 10,000 a call as the API cuts an upload, each call
//! one atomic durable write; then the dial-time lookup of numbers on it
//! and off it.
//!
//! Run: `cargo bench -p outdial-tests --bench suppression -- [--entries N]`.
//! Prints one JSON line, figures last.

use std::time::Instant;

use outdial::store::{DNC_INTERNAL, NewSuppression, SledStore, Store, StoreConfig};

#[path = "support/mod.rs"]
mod support;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Entries a call, as the API sends them.
const CHUNK: u64 = 10_000;
/// Lookups timed after the import.
const LOOKUPS: u64 = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let entries = support::number_flag(&args, "--entries", 1_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store =
        SledStore::open(&StoreConfig::new(dir.path().join("store"))).expect("the store opens");
    // Numbers spread over the whole range, as a real list's are.
    let phone = |i: u64| format!("+1{:010}", 2_000_000_000 + (i * 7_919) % 7_000_000_000);
    let started = Instant::now();
    let mut from = 0;
    while from < entries {
        let to = (from + CHUNK).min(entries);
        let chunk = (from..to)
            .map(|i| NewSuppression {
                phone: phone(i),
                expires_at: None,
                reason: Some("imported".to_string()),
            })
            .collect();
        store
            .add_suppressions("bench", DNC_INTERNAL, chunk, "bench", support::START)
            .expect("a chunk is written");
        from = to;
    }
    let import_s = started.elapsed().as_secs_f64();
    let list = store
        .suppression_list("bench", DNC_INTERNAL)
        .expect("the list reads")
        .expect("the list");
    assert_eq!(list.entries, entries);
    let probes: Vec<String> = (0..LOOKUPS)
        .map(|i| {
            if i % 2 == 0 {
                phone(i * 31 % entries.max(1))
            } else {
                format!("+44{:010}", i)
            }
        })
        .collect();
    let looked = Instant::now();
    let hits = store
        .suppressions_of("bench", &probes, support::START)
        .expect("the lookups read");
    let lookup_us = looked.elapsed().as_secs_f64() * 1e6 / LOOKUPS as f64;
    assert_eq!(
        hits.iter().filter(|hit| !hit.is_empty()).count() as u64,
        LOOKUPS / 2
    );
    println!(
        "{{\"bench\":\"suppression\",\"entries\":{entries},\"chunk\":{CHUNK},\"import_s\":{import_s:.2},\"entries_per_s\":{:.0},\"lookup_us\":{lookup_us:.1}}}",
        entries as f64 / import_s
    );
}
