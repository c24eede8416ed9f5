//! The Wasm plugin host: loads, checks, sandboxes and calls plugins.
