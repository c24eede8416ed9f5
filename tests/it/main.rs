//! outdial's integration tests: one binary, one module per area.

mod conformance;
mod plugin_host;
