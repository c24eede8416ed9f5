//! Support for outdial's integration tests: paths of the test plugins the
//! build compiled from `fixtures/`, and the provider simulator.

/// Paths of the hostile and odd test plugins, built for wasm32-wasip2.
pub mod fixtures {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

pub mod answer_check;
pub mod provider_sim;
