//! Host-side bindings of the `outdial:plugin@0.1.0` worlds. The three worlds
//! share one set of `types` and one `host` import.

pub mod retry {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "outdial:plugin/retry-strategy@0.1.0",
        additional_derives: [PartialEq],
    });
}

pub mod classifier {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "outdial:plugin/disposition-classifier@0.1.0",
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
        world: "outdial:plugin/provider-adapter@0.1.0",
        additional_derives: [PartialEq],
        with: {
            "outdial:plugin/types": super::retry::outdial::plugin::types,
            "outdial:plugin/host": super::retry::outdial::plugin::host,
        },
    });
}

pub use retry::outdial::plugin::host;
pub use retry::outdial::plugin::types;
