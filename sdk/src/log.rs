//! Log lines that reach the host's log under the plugin's name.

#[cfg(target_arch = "wasm32")]
use crate::wit::retry_world::outdial::plugin::host;

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Write one line to the host's log.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        let level = match level {
            Level::Trace => host::LogLevel::Trace,
            Level::Debug => host::LogLevel::Debug,
            Level::Info => host::LogLevel::Info,
            Level::Warn => host::LogLevel::Warn,
            Level::Error => host::LogLevel::Error,
        };
        host::log(level, message);
    }
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Log at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Log at info level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Log at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Hand a panic message to the host just before the instance traps.
pub(crate) fn report_panic(message: &str) {
    #[cfg(target_arch = "wasm32")]
    host::report_panic(message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("plugin panicked: {message}");
}
