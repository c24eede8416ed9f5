//! Server settings from flags and environment over the config file: a flag
//! beats an environment variable, which beats the file.

use std::path::PathBuf;

/// Environment variable overriding `server.bind`.
pub const BIND_ENV: &str = "OUTDIAL_BIND";
/// Environment variable overriding `server.data_dir`.
pub const DATA_DIR_ENV: &str = "OUTDIAL_DATA_DIR";

/// Environment variable choosing the store: "sled" or a PostgreSQL URL;
/// beats `[store]`, and `--store` beats it.
pub const STORE_ENV: &str = "OUTDIAL_STORE";
/// Where `[store] url` is read from when the file names no variable.
pub const DATABASE_URL_ENV: &str = "OUTDIAL_DATABASE_URL";
/// Connections a node keeps to PostgreSQL unless `[store] pool_size` says.
pub const DEFAULT_POOL_SIZE: usize = 8;
/// Most connections `[store] pool_size` may ask for.
pub const MAX_POOL_SIZE: usize = 64;
/// How long a campaign lease lasts unless `[store] lease_ttl` says.
pub const DEFAULT_LEASE_TTL_MS: u64 = 8_000;
/// The range `[store] lease_ttl` may take, in milliseconds: below it a
/// busy database would let leases lapse, above it a dead node's campaigns
/// wait too long.
pub const LEASE_TTL_RANGE_MS: std::ops::RangeInclusive<u64> = 2_000..=60_000;

/// The store a node keeps its state in.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The embedded store, in the data directory.
    Sled,
    /// One PostgreSQL database, which several nodes may share.
    Postgres {
        url: String,
        pool_size: usize,
        lease_ttl_ms: u64,
    },
}

impl std::fmt::Debug for StoreChoice {
    // The URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreChoice::Sled => f.write_str("Sled"),
            StoreChoice::Postgres {
                pool_size,
                lease_ttl_ms,
                ..
            } => f
                .debug_struct("Postgres")
                .field("pool_size", pool_size)
                .field("lease_ttl_ms", lease_ttl_ms)
                .finish_non_exhaustive(),
        }
    }
}

/// Where the server listens and keeps its state, after overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// "host:port". Default: "127.0.0.1:8080".
    pub bind: String,
    /// Directory of the embedded store. Default: "./outdial-data".
    pub data_dir: PathBuf,
    /// The base URL providers call back; see `[server] public_url`.
    pub public_url: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            bind: "127.0.0.1:8080".to_string(),
            data_dir: PathBuf::from("./outdial-data"),
            public_url: None,
        }
    }
}

/// Values given on the command line (`--bind`, `--data-dir`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerOverrides {
    pub bind: Option<String>,
    pub data_dir: Option<PathBuf>,
}

impl ServerOverrides {
    /// Apply the flags and then-unset fields from `env` over `file`.
    /// `env` is injected so tests need not touch the process environment;
    /// pass `|name| std::env::var(name).ok()` in the binary. Empty
    /// environment values count as unset.
    pub fn apply(
        &self,
        file: ServerSettings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> ServerSettings {
        let from_env = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        ServerSettings {
            bind: self
                .bind
                .clone()
                .or_else(|| from_env(BIND_ENV))
                .unwrap_or(file.bind),
            data_dir: self
                .data_dir
                .clone()
                .or_else(|| from_env(DATA_DIR_ENV).map(PathBuf::from))
                .unwrap_or(file.data_dir),
            public_url: file.public_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> ServerSettings {
        ServerSettings {
            bind: "0.0.0.0:9000".into(),
            data_dir: "/var/lib/outdial".into(),
            public_url: Some("https://dialer.example.com".into()),
        }
    }

    #[test]
    fn the_file_wins_when_nothing_overrides_it() {
        let settings = ServerOverrides::default().apply(file(), &|_| None);
        assert_eq!(settings, file());
    }

    #[test]
    fn the_environment_beats_the_file() {
        let env = |name: &str| match name {
            BIND_ENV => Some("127.0.0.1:7000".to_string()),
            DATA_DIR_ENV => Some(String::new()),
            _ => None,
        };
        let settings = ServerOverrides::default().apply(file(), &env);
        assert_eq!(settings.bind, "127.0.0.1:7000");
        assert_eq!(settings.data_dir, PathBuf::from("/var/lib/outdial"));
    }

    #[test]
    fn a_flag_beats_the_environment() {
        let env = |_: &str| Some("from-env".to_string());
        let overrides = ServerOverrides {
            bind: Some("127.0.0.1:1".into()),
            data_dir: Some("flag-dir".into()),
        };
        let settings = overrides.apply(file(), &env);
        assert_eq!(settings.bind, "127.0.0.1:1");
        assert_eq!(settings.data_dir, PathBuf::from("flag-dir"));
    }
}
