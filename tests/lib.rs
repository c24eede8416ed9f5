//! Support for outdial's integration tests: paths of the test plugins the
//! build compiled from `fixtures/`, the provider simulator, the store
//! conformance suite every `Store` backend runs, and fresh PostgreSQL
//! databases for the tests of that backend.

/// Paths of the hostile and odd test plugins, built for wasm32-wasip2.
pub mod fixtures {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

pub mod answer_check;
#[path = "postgres_support.rs"]
pub mod postgres;
pub mod provider_sim;
pub mod store_suite;
