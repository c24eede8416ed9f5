//! The dispatcher: dials due contacts within every limit a campaign sets.
//!
//! [`Engine`] is a tick-based core, deterministic under a manual clock;
//! [`runner`] ticks it in real time. Operator controls (pause, resume,
//! cancel, force dispatch) live in [`control`] and act on the store
//! directly: the store's single writer orders them against the engine's
//! own writes. Progress, statistics and queue health are in
//! [`crate::reporting`].

mod batch_plugins;
pub mod control;
pub mod engine;
pub mod limits;
pub mod numbers;
pub mod rate;
pub mod runner;
pub mod window;

pub use engine::{CampaignPolicy, Engine, EngineError, EngineOptions, TickReport};
