//! Support for outdial's integration tests: paths of the test plugins the
//! build compiled from `fixtures/`, the provider simulator, and the store
//! conformance suite every `Store` backend runs.

/// Paths of the hostile and odd test plugins, built for wasm32-wasip2.
pub mod fixtures {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

pub mod answer_check;
pub mod provider_sim;
pub mod store_suite;
