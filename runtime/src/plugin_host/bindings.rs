//! Host-side bindings of the `outdial:plugin@0.2.0` worlds. The three worlds
//! share one set of `types` and one `host` import.

pub mod retry {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "outdial:plugin/retry-strategy@0.2.0",
        additional_derives: [PartialEq],
        // A plugin that reads its decision's context outside `decide`
        // traps: there is nothing to answer with.
        imports: { "outdial:plugin/retry-context": trappable },
    });
}

pub mod classifier {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "outdial:plugin/disposition-classifier@0.2.0",
        additional_derives: [PartialEq],
        with: {
            "outdial:plugin/types": super::retry::outdial::plugin::types,
            "outdial:plugin/host": super::retry::outdial::plugin::host,
        },
    });
}

pub mod provider {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "outdial:plugin/provider-adapter@0.2.0",
        additional_derives: [PartialEq],
        with: {
            "outdial:plugin/types": super::retry::outdial::plugin::types,
            "outdial:plugin/host": super::retry::outdial::plugin::host,
        },
    });
}

pub use retry::outdial::plugin::host;
pub use retry::outdial::plugin::retry_context;
pub use retry::outdial::plugin::types;
