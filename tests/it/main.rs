//! outdial's integration tests: one binary, one module per area.

mod api;
mod conformance;
mod plugin_host;
mod providers;
mod wiring;
