//! Errors of loading and calling plugins. Messages name the plugin, what
//! was expected and what was found.

use super::info::PluginKind;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plugin {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unknown builtin plugin \"{name}\" (builtins: {known})")]
    UnknownBuiltin { name: String, known: String },
    #[error("{file} is not a WebAssembly file")]
    NotWasm { file: String },
    #[error(
        "{file} is a core WebAssembly module, not a component: build it for wasm32-wasip2 with the outdial SDK"
    )]
    CoreModule { file: String },
    #[error("{file} is not a valid component: {message}")]
    Compile { file: String, message: String },
    #[error("{file} exports {found}, which is no outdial plugin world (supported: {supported})")]
    UnknownWorld {
        file: String,
        found: String,
        supported: String,
    },
    #[error(
        "{file} exports \"{found}\", a plugin world version this outdial does not support (supported: {supported})"
    )]
    UnsupportedVersion {
        file: String,
        found: String,
        supported: String,
    },
    #[error(
        "{file} imports \"{import}\", which outdial does not provide: plugins get no network and no host services beyond outdial:plugin/host"
    )]
    ForbiddenImport { file: String, import: String },
    #[error("{file} is a {found} plugin, but a {expected} was expected here")]
    WrongKind {
        file: String,
        expected: PluginKind,
        found: PluginKind,
    },
    #[error("cannot instantiate {file}: {message}")]
    Instantiate { file: String, message: String },
    #[error("{file} could not describe itself: {message}")]
    Describe { file: String, message: String },
    #[error("plugin {plugin} does not accept config key \"{key}\" (accepted: {accepted})")]
    UnknownConfigKey {
        plugin: String,
        key: String,
        accepted: String,
    },
    #[error("plugin {plugin} requires config key \"{key}\"")]
    MissingConfigKey { plugin: String, key: String },
    #[error("plugin {plugin} refused its config: {message}")]
    ConfigRefused { plugin: String, message: String },
    #[error("cannot set up the plugin engine: {0}")]
    Engine(String),
}

/// Why a plugin call did not produce an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("plugin {plugin} trapped: {message}")]
    Trap { plugin: String, message: String },
    #[error("plugin {plugin} exceeded its CPU deadline of {cpu_ms} ms")]
    Deadline { plugin: String, cpu_ms: u64 },
    #[error("plugin {plugin} exceeded its memory limit of {limit_bytes} bytes")]
    MemoryExceeded { plugin: String, limit_bytes: usize },
    #[error("plugin {plugin} returned an error: {message}")]
    Plugin { plugin: String, message: String },
    #[error("plugin {plugin} broke the contract: {message}")]
    Contract { plugin: String, message: String },
    #[error("plugin {plugin} could not be instantiated: {message}")]
    Instantiate { plugin: String, message: String },
}

impl CallError {
    /// The plugin the error is about.
    pub fn plugin(&self) -> &str {
        match self {
            CallError::Trap { plugin, .. }
            | CallError::Deadline { plugin, .. }
            | CallError::MemoryExceeded { plugin, .. }
            | CallError::Plugin { plugin, .. }
            | CallError::Contract { plugin, .. }
            | CallError::Instantiate { plugin, .. } => plugin,
        }
    }

    /// A stable code for counters and the API.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Trap { .. } => "trap",
            CallError::Deadline { .. } => "deadline",
            CallError::MemoryExceeded { .. } => "memory",
            CallError::Plugin { .. } => "plugin_error",
            CallError::Contract { .. } => "contract",
            CallError::Instantiate { .. } => "instantiate",
        }
    }
}
