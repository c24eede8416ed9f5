//! Support for outdial's integration tests: paths of the test plugins the
//! build compiled from `fixtures/`.

/// Paths of the hostile and odd test plugins, built for wasm32-wasip2.
pub mod fixtures {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}
