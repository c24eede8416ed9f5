//! Provider adapters built against `outdial:plugin@0.3.0`, `@0.2.0` or
//! `@0.1.0`.
//!
//! No version since 0.1.0 changed the provider interface, so an older
//! adapter exports the same functions under its version's interface name.
//! They are found by that name and called with the current Rust types;
//! wasmtime checks a function's type against them field by field before
//! each call, so an adapter whose types differ gets an error, never a
//! misread value.

use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Func, InstancePre, Lift, Lower,
};
use wasmtime::{Store, format_err};

use super::bindings::provider::exports::outdial::plugin::provider::{
    CallEvent, CallRequest, HttpRequest, HttpResponse, InboundWebhook, ProviderError, WebhookError,
};
use super::bindings::types;
use super::pool::{Described, World};
use super::sandbox::Sandbox;

/// The interface an older adapter exports, by version, newest first.
const EXPORTS: [&str; 3] = [
    "outdial:plugin/provider@0.3.0",
    "outdial:plugin/provider@0.2.0",
    "outdial:plugin/provider@0.1.0",
];

/// The interface's functions, in the order of [`LegacyProviderAdapter`]'s.
const FUNCTIONS: [&str; 7] = [
    "describe",
    "configure",
    "build-place-call",
    "parse-place-call",
    "parse-webhook",
    "build-status-poll",
    "parse-status-poll",
];

/// An older adapter's functions, found once per component.
pub(crate) struct LegacyProviderAdapterPre {
    pre: InstancePre<Sandbox>,
    export: &'static str,
    indices: [ComponentExportIndex; 7],
}

/// One instance of an older adapter, with the same calls as the 0.4.0
/// bindings offer.
pub(crate) struct LegacyProviderAdapter {
    describe: Func,
    configure: Func,
    build_place_call: Func,
    parse_place_call: Func,
    parse_webhook: Func,
    build_status_poll: Func,
    parse_status_poll: Func,
}

/// Calls `func` with `params`, typed as `Params` to one result `R`: the type
/// check is wasmtime's, against the component's own signature.
fn call_typed<Params, R>(
    func: &Func,
    store: &mut Store<Sandbox>,
    params: Params,
) -> wasmtime::Result<R>
where
    Params: ComponentNamedList + Lower,
    (R,): ComponentNamedList + Lift,
{
    let (answer,) = func
        .typed::<Params, (R,)>(&*store)?
        .call(&mut *store, params)?;
    Ok(answer)
}

impl World for LegacyProviderAdapter {
    type Pre = LegacyProviderAdapterPre;

    fn pre(pre: InstancePre<Sandbox>) -> wasmtime::Result<Self::Pre> {
        let component = pre.component();
        let (export, interface) = EXPORTS
            .iter()
            .find_map(|export| Some((*export, component.get_export(None, export)?.1)))
            .ok_or_else(|| format_err!("none of {} is exported", EXPORTS.join(", ")))?;
        let mut indices = Vec::with_capacity(FUNCTIONS.len());
        for name in FUNCTIONS {
            let index = component
                .get_export_index(Some(&interface), name)
                .ok_or_else(|| format_err!("`{export}` exports no function `{name}`"))?;
            indices.push(index);
        }
        let indices = indices
            .try_into()
            .unwrap_or_else(|_| unreachable!("one index per function"));
        Ok(LegacyProviderAdapterPre {
            pre,
            export,
            indices,
        })
    }

    fn instantiate(pre: &Self::Pre, store: &mut Store<Sandbox>) -> wasmtime::Result<Self> {
        let instance = pre.pre.instantiate(&mut *store)?;
        let mut funcs = Vec::with_capacity(FUNCTIONS.len());
        let export = pre.export;
        for (name, index) in FUNCTIONS.iter().zip(&pre.indices) {
            let func = instance
                .get_func(&mut *store, index)
                .ok_or_else(|| format_err!("`{export}`'s `{name}` is not a function"))?;
            funcs.push(func);
        }
        let [
            describe,
            configure,
            build_place_call,
            parse_place_call,
            parse_webhook,
            build_status_poll,
            parse_status_poll,
        ]: [Func; 7] = funcs
            .try_into()
            .unwrap_or_else(|_| unreachable!("one function per index"));
        Ok(LegacyProviderAdapter {
            describe,
            configure,
            build_place_call,
            parse_place_call,
            parse_webhook,
            build_status_poll,
            parse_status_poll,
        })
    }

    fn describe(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<Described> {
        call_typed::<_, types::Metadata>(&self.describe, store, ()).map(Described::from)
    }

    fn configure(
        &self,
        store: &mut Store<Sandbox>,
        config: &Vec<(String, String)>,
    ) -> wasmtime::Result<Result<(), types::PluginError>> {
        call_typed(&self.configure, store, (config.as_slice(),))
    }
}

impl LegacyProviderAdapter {
    /// The provider interface; the same accessor as the 0.4.0 bindings', so
    /// one call site serves adapters of every version.
    pub(crate) fn outdial_plugin_provider(&self) -> &Self {
        self
    }

    pub(crate) fn call_build_place_call(
        &self,
        store: &mut Store<Sandbox>,
        call: &CallRequest,
    ) -> wasmtime::Result<Result<HttpRequest, ProviderError>> {
        call_typed(&self.build_place_call, store, (call,))
    }

    pub(crate) fn call_parse_place_call(
        &self,
        store: &mut Store<Sandbox>,
        call: &CallRequest,
        response: &HttpResponse,
    ) -> wasmtime::Result<Result<String, ProviderError>> {
        call_typed(&self.parse_place_call, store, (call, response))
    }

    pub(crate) fn call_parse_webhook(
        &self,
        store: &mut Store<Sandbox>,
        webhook: &InboundWebhook,
    ) -> wasmtime::Result<Result<Vec<CallEvent>, WebhookError>> {
        call_typed(&self.parse_webhook, store, (webhook,))
    }

    pub(crate) fn call_build_status_poll(
        &self,
        store: &mut Store<Sandbox>,
        provider_call_id: &str,
    ) -> wasmtime::Result<Option<HttpRequest>> {
        call_typed(&self.build_status_poll, store, (provider_call_id,))
    }

    pub(crate) fn call_parse_status_poll(
        &self,
        store: &mut Store<Sandbox>,
        provider_call_id: &str,
        response: &HttpResponse,
    ) -> wasmtime::Result<Result<CallEvent, ProviderError>> {
        call_typed(&self.parse_status_poll, store, (provider_call_id, response))
    }
}
