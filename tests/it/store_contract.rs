//! The store conformance suite against sled, the embedded backend.

use outdial::store::{Durability, SledStore, StoreConfig};
use outdial_tests::store_suite::{Backend, FreshStore};

/// Fresh sled stores, each in a temporary directory of its own.
#[derive(Debug)]
struct SledBackend;

impl Backend for SledBackend {
    fn open(&self) -> FreshStore {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut config = StoreConfig::new(dir.path().join("db"));
        // The suite checks the contract, not the disk: flushed, not synced.
        config.durability = Durability::Relaxed;
        config.cache_capacity_bytes = 8 * 1024 * 1024;
        let store = SledStore::open(&config).expect("a fresh store opens");
        FreshStore::keeping(store, dir)
    }
}

outdial_tests::store_contract_tests!(SledBackend);
