//! outdial: outbound call campaigns whose policy runs as sandboxed Wasm
//! plugins.

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conformance;
pub mod dispatch;
pub mod import;
pub mod model;
pub mod net;
pub mod phone;
pub mod plugin_host;
pub mod policy;
pub mod provider;
pub mod reporting;
pub mod store;
pub mod text_key;

#[cfg(test)]
mod layering;
