//! outdial's integration tests: one binary, one module per area.

mod api;
mod bad_input;
mod conformance;
mod faults;
mod metrics;
mod plugin_host;
mod postgres_store;
mod providers;
mod reports;
mod security;
mod store_contract;
mod store_contract_postgres;
mod suppression;
mod validate;
mod wiring;
