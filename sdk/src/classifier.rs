//! Disposition classifiers: say what an ended call means.

use crate::{Attempt, Contact, Disposition, Plugin, PluginError};

/// A plugin that labels ended attempts.
///
/// Every label it can return must be listed in its metadata's `labels`;
/// the host refuses any other.
pub trait Classifier: Plugin {
    /// Label `attempt`, which just ended; `previous` holds the earlier
    /// attempts on the same contact, oldest first.
    fn classify(
        &self,
        contact: &Contact,
        attempt: &Attempt,
        previous: &[Attempt],
    ) -> Result<Disposition, PluginError>;
}

impl Disposition {
    /// A disposition with just a label and whether it ends the contact.
    pub fn new(label: &str, terminal: bool) -> Self {
        Disposition {
            label: label.to_string(),
            terminal,
            score: None,
            sentiment: None,
            follow_up_at: None,
        }
    }
}

/// Export `$plugin`, a [`Classifier`], as the component's implementation of
/// the `disposition-classifier` world. Expands to nothing outside Wasm.
#[macro_export]
macro_rules! export_classifier {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::__private::wit::classifier_world as bindings;

            struct OutdialExport;

            impl bindings::exports::outdial::plugin::classifier::Guest for OutdialExport {
                fn describe() -> $crate::Metadata {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Plugin>::metadata()
                }
                fn configure(config: Vec<(String, String)>) -> Result<(), $crate::PluginError> {
                    $crate::__private::configure::<$plugin>(config)
                }
                fn classify(
                    contact: $crate::Contact,
                    attempt: $crate::Attempt,
                    previous: Vec<$crate::Attempt>,
                ) -> Result<$crate::Disposition, $crate::PluginError> {
                    $crate::__private::with_plugin(|plugin: &$plugin| {
                        $crate::classifier::Classifier::classify(
                            plugin, &contact, &attempt, &previous,
                        )
                    })
                }
            }

    bindings::export_classifier_world!(OutdialExport with_types_in bindings);
        };
    };
}
