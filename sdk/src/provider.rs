//! Provider adapters: speak a provider's HTTP API without doing I/O.

use crate::Plugin;
pub use crate::wit::provider_world::exports::outdial::plugin::provider::{
    CallEvent, CallRequest, CallState, HttpRequest, HttpResponse, InboundWebhook, ProviderError,
    WebhookError,
};

/// A plugin that builds a provider's HTTP requests and reads its answers
/// and webhooks. The host sends the requests, within the campaign's egress
/// allow-list, and hands the responses back.
pub trait ProviderAdapter: Plugin {
    /// Build the request that places `call`.
    fn build_place_call(&self, call: &CallRequest) -> Result<HttpRequest, ProviderError>;

    /// Read the provider's answer to the place-call request: its call id.
    fn parse_place_call(
        &self,
        call: &CallRequest,
        response: &HttpResponse,
    ) -> Result<String, ProviderError>;

    /// Verify the signature of a status webhook and read its events.
    fn parse_webhook(&self, webhook: &InboundWebhook) -> Result<Vec<CallEvent>, WebhookError>;

    /// Build a request for a call's current state; `None` when the provider
    /// has no such API.
    fn build_status_poll(&self, _provider_call_id: &str) -> Option<HttpRequest> {
        None
    }

    /// Read the answer to a status poll.
    fn parse_status_poll(
        &self,
        _provider_call_id: &str,
        _response: &HttpResponse,
    ) -> Result<CallEvent, ProviderError> {
        Err(ProviderError::Permanent(
            "this adapter cannot poll call status".to_string(),
        ))
    }
}

impl HttpResponse {
    /// The value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl InboundWebhook {
    /// The value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Export `$plugin`, a [`ProviderAdapter`], as the component's
/// implementation of the `provider-adapter` world. Expands to nothing
/// outside Wasm.
#[macro_export]
macro_rules! export_provider_adapter {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::__private::wit::provider_world as bindings;
            use $crate::provider::{
                CallEvent, CallRequest, HttpRequest, HttpResponse, InboundWebhook, ProviderAdapter,
                ProviderError, WebhookError,
            };

            struct OutdialExport;

            impl bindings::exports::outdial::plugin::provider::Guest for OutdialExport {
                fn describe() -> $crate::Metadata {
                    $crate::__private::install_panic_hook();
                    <$plugin as $crate::Plugin>::metadata()
                }
                fn configure(config: Vec<(String, String)>) -> Result<(), $crate::PluginError> {
                    $crate::__private::configure::<$plugin>(config)
                }
                fn build_place_call(call: CallRequest) -> Result<HttpRequest, ProviderError> {
                    $crate::__private::with_plugin(|plugin: &$plugin| {
                        plugin.build_place_call(&call)
                    })
                }
                fn parse_place_call(
                    call: CallRequest,
                    response: HttpResponse,
                ) -> Result<String, ProviderError> {
                    $crate::__private::with_plugin(|plugin: &$plugin| {
                        plugin.parse_place_call(&call, &response)
                    })
                }
                fn parse_webhook(webhook: InboundWebhook) -> Result<Vec<CallEvent>, WebhookError> {
                    $crate::__private::with_plugin(|plugin: &$plugin| {
                        plugin.parse_webhook(&webhook)
                    })
                }
                fn build_status_poll(provider_call_id: String) -> Option<HttpRequest> {
                    $crate::__private::with_plugin(|plugin: &$plugin| {
                        plugin.build_status_poll(&provider_call_id)
                    })
                }
                fn parse_status_poll(
                    provider_call_id: String,
                    response: HttpResponse,
                ) -> Result<CallEvent, ProviderError> {
                    $crate::__private::with_plugin(|plugin: &$plugin| {
                        plugin.parse_status_poll(&provider_call_id, &response)
                    })
                }
            }

    bindings::export_provider_world!(OutdialExport with_types_in bindings);
        };
    };
}
