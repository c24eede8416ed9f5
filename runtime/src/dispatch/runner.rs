//! Ticks an [`Engine`] in real time on a thread of its own.
//!
//! The engine's store writes block until they are durable, so it runs on a
//! dedicated thread with a single-threaded tokio runtime for the provider
//! calls, away from the runtime that serves the API.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::engine::Engine;
use crate::clock::Clock;

/// A running engine; dropping it stops the engine after its current tick.
pub struct Runner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Runner {
    /// Recovers interrupted attempts, then ticks `engine` every `interval`.
    pub fn spawn(
        mut engine: Engine,
        clock: Arc<dyn Clock>,
        interval: Duration,
    ) -> std::io::Result<Runner> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("dispatcher".to_string())
            .spawn(move || {
                runtime.block_on(async {
                    if let Err(err) = engine.recover(clock.now()).await {
                        tracing::error!(error = %err, "recovery of live attempts failed");
                    }
                    while !stopping.load(Ordering::SeqCst) {
                        if let Err(err) = engine.tick(clock.now()).await {
                            tracing::error!(error = %err, "dispatcher tick failed");
                        }
                        tokio::time::sleep(interval).await;
                    }
                });
            })?;
        Ok(Runner {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the engine and waits for its current tick to finish.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("dispatcher thread panicked");
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.shutdown();
    }
}
