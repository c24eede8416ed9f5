//! outdial's integration tests: one binary, one module per area.

mod plugin_host;
mod providers;
