//! The plugins batches name in place of their campaign's, a retry
//! strategy or a dial gate: loaded the first time a batch needs one, and
//! shared by the batches that name the same one.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use crate::model::{BatchGate, BatchRetry};
use crate::policy::{DialGate, GateLoader, RetryLoader, RetryPolicy};

/// A loaded plugin, or why it could not be loaded.
type Loaded<P> = Result<Arc<P>, String>;

/// Loads a plugin by name, configured.
type Load<P> = Box<dyn Fn(&str, &[(String, String)]) -> Loaded<P> + Send + Sync>;

/// What a batch names: a plugin and its whole config.
pub(super) trait BatchPlugin: Clone + Eq + Hash {
    fn plugin(&self) -> &str;
    fn config_pairs(&self) -> Vec<(String, String)>;
}

impl BatchPlugin for BatchRetry {
    fn plugin(&self) -> &str {
        &self.plugin
    }

    fn config_pairs(&self) -> Vec<(String, String)> {
        BatchRetry::config_pairs(self)
    }
}

impl BatchPlugin for BatchGate {
    fn plugin(&self) -> &str {
        &self.plugin
    }

    fn config_pairs(&self) -> Vec<(String, String)> {
        BatchGate::config_pairs(self)
    }
}

pub(super) struct BatchPlugins<S, P: ?Sized> {
    /// What the plugin is and what the batch's contacts do while it
    /// cannot be loaded, for the log.
    what: &'static str,
    meanwhile: &'static str,
    load: Option<Load<P>>,
    loaded: Mutex<HashMap<S, Loaded<P>>>,
}

/// Retry strategies of batches with their own.
pub(super) type BatchRetries = BatchPlugins<BatchRetry, dyn RetryPolicy>;

/// Dial gates of batches with their own.
pub(super) type BatchGates = BatchPlugins<BatchGate, dyn DialGate>;

impl BatchRetries {
    pub(super) fn new(loader: Option<Arc<dyn RetryLoader>>) -> Self {
        BatchPlugins {
            what: "retry strategy",
            meanwhile: "its contacts wait, and calls that end fall back to the built-in strategy",
            load: loader.map(|loader| -> Load<dyn RetryPolicy> {
                Box::new(move |plugin, config| loader.load(plugin, config))
            }),
            loaded: Mutex::new(HashMap::new()),
        }
    }
}

impl BatchGates {
    pub(super) fn new(loader: Option<Arc<dyn GateLoader>>) -> Self {
        BatchPlugins {
            what: "dial gate",
            // Never the campaign's gate, nor none: the batch chose its own.
            meanwhile: "its contacts wait, none dialed under another gate",
            load: loader.map(|loader| -> Load<dyn DialGate> {
                Box::new(move |plugin, config| loader.load(plugin, config))
            }),
            loaded: Mutex::new(HashMap::new()),
        }
    }
}

impl<S: BatchPlugin, P: ?Sized> BatchPlugins<S, P> {
    /// The plugin `named` names, or why it cannot be had: it has left the
    /// config since the batch was created, or this engine loads no
    /// plugins. Either answer is kept: a load is tried once per run.
    pub(super) fn get(&self, batch_id: &str, named: &S) -> Loaded<P> {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(answer) = loaded.get(named) {
            return answer.clone();
        }
        let answer = match &self.load {
            Some(load) => load(named.plugin(), &named.config_pairs()),
            None => Err("this dispatcher has no plugin host to load it".to_string()),
        };
        if let Err(why) = &answer {
            tracing::error!(batch = %batch_id, plugin = %named.plugin(), error = %why, "the batch's {} cannot be loaded: {}", self.what, self.meanwhile);
        }
        loaded.insert(named.clone(), answer.clone());
        answer
    }
}
