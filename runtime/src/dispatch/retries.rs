//! The retry strategies batches name in place of their campaign's: loaded
//! the first time a batch needs one, and shared by the batches that name
//! the same one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::BatchRetry;
use crate::policy::{RetryLoader, RetryPolicy};

/// A loaded strategy, or why it could not be loaded.
type Loaded = Result<Arc<dyn RetryPolicy>, String>;

pub(super) struct BatchRetries {
    loader: Option<Arc<dyn RetryLoader>>,
    loaded: Mutex<HashMap<BatchRetry, Loaded>>,
}

impl BatchRetries {
    pub(super) fn new(loader: Option<Arc<dyn RetryLoader>>) -> Self {
        BatchRetries {
            loader,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    /// The strategy `retry` names, or why it cannot be had: its plugin has
    /// left the config since the batch was created, or this engine loads no
    /// plugins. Either answer is kept: a load is tried once per run.
    pub(super) fn get(&self, batch_id: &str, retry: &BatchRetry) -> Loaded {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(answer) = loaded.get(retry) {
            return answer.clone();
        }
        let answer = match &self.loader {
            Some(loader) => loader.load(&retry.plugin, &retry.config_pairs()),
            None => Err("this dispatcher has no plugin host to load it".to_string()),
        };
        if let Err(why) = &answer {
            tracing::error!(batch = %batch_id, plugin = %retry.plugin, error = %why, "the batch's retry strategy cannot be loaded: its contacts wait, and calls that end fall back to the built-in strategy");
        }
        loaded.insert(retry.clone(), answer.clone());
        answer
    }
}
