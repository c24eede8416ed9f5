//! What the operator reads about a batch and a campaign: progress,
//! statistics and queue health ("why is it not dialing?"), computed from
//! the store's counters and records and the dispatcher's own rules.

pub mod health;
pub mod progress;
pub mod statistics;
