//! Time, injected: the engine never reads the system clock directly, so
//! scheduling is tested in virtual time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::model::Millis;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch, UTC.
    fn now(&self) -> Millis;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that only moves when told to; cheap to clone and share.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `now`.
    pub fn new(now: Millis) -> Self {
        ManualClock {
            now: Arc::new(AtomicI64::new(now)),
        }
    }

    /// Move the clock forward by `by` milliseconds.
    pub fn advance(&self, by: Millis) {
        self.now.fetch_add(by, Ordering::SeqCst);
    }

    /// Put the clock at `now`.
    pub fn set(&self, now: Millis) {
        self.now.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}

/// A clock that runs `scale` times faster than the system clock from a
/// chosen start: the demo lives a working day in seconds.
#[derive(Debug, Clone)]
pub struct ScaledClock {
    start: Millis,
    scale: f64,
    origin: std::time::Instant,
}

impl ScaledClock {
    /// A clock that reads `start` now and advances `scale` ms per real ms.
    pub fn new(start: Millis, scale: f64) -> Self {
        ScaledClock {
            start,
            scale,
            origin: std::time::Instant::now(),
        }
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Millis {
        let real_ms = self.origin.elapsed().as_secs_f64() * 1_000.0;
        self.start + (real_ms * self.scale) as Millis
    }
}
