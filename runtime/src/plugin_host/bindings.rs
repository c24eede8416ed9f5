//! Host-side bindings of the `outdial:plugin@0.4.0` worlds, and of the
//! released versions before it, which the host still loads. The worlds of
//! a version share one set of `types` and one `host` import.

pub mod retry {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "outdial:plugin/retry-strategy@0.4.0",
        additional_derives: [PartialEq],
        // A plugin that reads its decision's context outside `decide`
        // traps: there is nothing to answer with.
        imports: { "outdial:plugin/retry-context": trappable },
    });
}

pub mod classifier {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "outdial:plugin/disposition-classifier@0.4.0",
        additional_derives: [PartialEq],
        // Likewise outside `classify`.
        imports: { "outdial:plugin/classify-context": trappable },
        with: {
            "outdial:plugin/types": super::retry::outdial::plugin::types,
            "outdial:plugin/host": super::retry::outdial::plugin::host,
        },
    });
}

pub mod provider {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "outdial:plugin/provider-adapter@0.4.0",
        additional_derives: [PartialEq],
        with: {
            "outdial:plugin/types": super::retry::outdial::plugin::types,
            "outdial:plugin/host": super::retry::outdial::plugin::host,
        },
    });
}

pub mod gate {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "outdial:plugin/dial-gate@0.4.0",
        additional_derives: [PartialEq],
        with: {
            "outdial:plugin/types": super::retry::outdial::plugin::types,
            "outdial:plugin/host": super::retry::outdial::plugin::host,
        },
    });
}

pub use classifier::outdial::plugin::classify_context;
pub use retry::outdial::plugin::host;
pub use retry::outdial::plugin::retry_context;
pub use retry::outdial::plugin::types;

/// The `outdial:plugin@0.3.0` worlds. 0.4.0 only added the dial gate, so
/// its shared types are bound to the same Rust types; its `host`,
/// `retry-context` and `classify-context` are imported under their 0.3.0
/// names.
pub mod v0_3 {
    pub mod retry {
        wasmtime::component::bindgen!({
            path: "../sdk/wit/v0.3.0",
            world: "outdial:plugin/retry-strategy@0.3.0",
            additional_derives: [PartialEq],
            imports: { "outdial:plugin/retry-context": trappable },
            with: {
                "outdial:plugin/types": crate::plugin_host::bindings::types,
            },
        });
    }

    pub mod classifier {
        wasmtime::component::bindgen!({
            path: "../sdk/wit/v0.3.0",
            world: "outdial:plugin/disposition-classifier@0.3.0",
            additional_derives: [PartialEq],
            imports: { "outdial:plugin/classify-context": trappable },
            with: {
                "outdial:plugin/types": crate::plugin_host::bindings::types,
                "outdial:plugin/host": super::retry::outdial::plugin::host,
            },
        });
    }

    pub use classifier::outdial::plugin::classify_context;
    pub use retry::outdial::plugin::host;
    pub use retry::outdial::plugin::retry_context;
}

/// The `outdial:plugin@0.2.0` worlds. Its shared types are 0.4.0's, field
/// for field (0.3.0 only added the outlines to them), so they are bound to
/// the same Rust types. Its `host` and `retry-context` are imported under
/// their 0.2.0 names, and its classifier is handed its whole input.
pub mod v0_2 {
    pub mod retry {
        wasmtime::component::bindgen!({
            path: "../sdk/wit/v0.2.0",
            world: "outdial:plugin/retry-strategy@0.2.0",
            additional_derives: [PartialEq],
            imports: { "outdial:plugin/retry-context": trappable },
            with: {
                "outdial:plugin/types": crate::plugin_host::bindings::types,
            },
        });
    }

    pub mod classifier {
        wasmtime::component::bindgen!({
            path: "../sdk/wit/v0.2.0",
            world: "outdial:plugin/disposition-classifier@0.2.0",
            with: {
                "outdial:plugin/types": crate::plugin_host::bindings::types,
                "outdial:plugin/host": super::retry::outdial::plugin::host,
            },
        });
    }

    pub use retry::outdial::plugin::host;
    pub use retry::outdial::plugin::retry_context;
}

/// The `outdial:plugin@0.1.0` worlds. Its shared types are also 0.4.0's,
/// field for field; its retry strategy is handed the whole history.
pub mod v0_1 {
    pub mod retry {
        wasmtime::component::bindgen!({
            path: "../sdk/wit/v0.1.0",
            world: "outdial:plugin/retry-strategy@0.1.0",
            additional_derives: [PartialEq],
            with: {
                "outdial:plugin/types": crate::plugin_host::bindings::types,
            },
        });
    }

    pub mod classifier {
        wasmtime::component::bindgen!({
            path: "../sdk/wit/v0.1.0",
            world: "outdial:plugin/disposition-classifier@0.1.0",
            with: {
                "outdial:plugin/types": crate::plugin_host::bindings::types,
                "outdial:plugin/host": super::retry::outdial::plugin::host,
            },
        });
    }

    pub use retry::outdial::plugin::host;
}
