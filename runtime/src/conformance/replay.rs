//! Failing inputs written back as author cases: a folder per failed check
//! with `input.json`, `expected.json` and `config.json`, in the format
//! `case.rs` reads, so that passing the folder above them as `--cases`
//! runs them again.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::case::PluginConfig;

/// A failing input as an author case: the three files of its folder.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFiles {
    /// `input.json`: the input in full, strings uncut, times as RFC 3339.
    pub input: Value,
    /// `expected.json`: what the check expected, as far as a case can say
    /// it; for an author's case, its own `expected.json`.
    pub expected: Value,
    /// `config.json`: the plugin config the check ran with.
    pub config: PluginConfig,
}

/// Why a failing case could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}")]
pub struct WriteError {
    path: String,
    #[source]
    source: io::Error,
}

/// The folder a check's failing case is written to: its id, with the `:`
/// of `case:NAME` made `-` so every file system takes it.
pub(crate) fn folder_name(check_id: &str) -> String {
    check_id.replace([':', '/', '\\'], "-")
}

/// Write `cases` (check id and files) under `dir`, creating it, with the
/// suite's config as `dir/config.json` so that `--cases dir` runs the
/// built-in checks as they ran. A folder of the same name is overwritten.
pub(crate) fn write(
    dir: &Path,
    suite_config: &PluginConfig,
    cases: &[(&str, &CaseFiles)],
) -> Result<(), WriteError> {
    let failed = |path: &Path| {
        let path = path.display().to_string();
        move |source: io::Error| WriteError { path, source }
    };
    std::fs::create_dir_all(dir).map_err(failed(dir))?;
    write_json(&dir.join("config.json"), &config_json(suite_config))?;
    for (id, files) in cases {
        let folder = dir.join(folder_name(id));
        std::fs::create_dir_all(&folder).map_err(failed(&folder))?;
        write_json(&folder.join("input.json"), &files.input)?;
        write_json(&folder.join("expected.json"), &files.expected)?;
        write_json(&folder.join("config.json"), &config_json(&files.config))?;
    }
    Ok(())
}

fn config_json(config: &PluginConfig) -> Value {
    Value::Object(
        config
            .iter()
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect::<Map<_, _>>(),
    )
}

fn write_json(file: &Path, value: &Value) -> Result<(), WriteError> {
    let text = serde_json::to_string_pretty(value).expect("a JSON value always serializes") + "\n";
    std::fs::write(file, text).map_err(|source| WriteError {
        path: file.display().to_string(),
        source,
    })
}

/// A new, empty directory under the system's temp dir for a run's failing
/// cases, readable only by its owner: a case's config may hold a signing
/// key.
pub fn fresh_dir() -> io::Result<PathBuf> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    for attempt in 0..100 {
        let dir = std::env::temp_dir().join(format!(
            "outdial-failures-{stamp}-{}-{attempt}",
            std::process::id()
        ));
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "100 names for a failures directory were all taken",
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_case_folder_holds_the_input_what_was_expected_and_the_config() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = CaseFiles {
            input: json!({"history": [{"outcome": "busy"}]}),
            expected: json!({"give_up": {"any": true}}),
            config: vec![("ladder".to_string(), "1m,10m".to_string())],
        };
        let suite = vec![("ladder".to_string(), "5m".to_string())];
        write(dir.path(), &suite, &[("case:busy", &files)]).expect("written");
        let read = |path: &str| -> Value {
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(path)).expect(path))
                .expect("JSON")
        };
        assert_eq!(read("config.json"), json!({"ladder": "5m"}));
        assert_eq!(read("case-busy/input.json"), files.input);
        assert_eq!(read("case-busy/expected.json"), files.expected);
        assert_eq!(read("case-busy/config.json"), json!({"ladder": "1m,10m"}));
    }

    #[test]
    fn fresh_directories_are_new_each_time() {
        let (first, second) = (fresh_dir().expect("made"), fresh_dir().expect("made"));
        assert_ne!(first, second);
        assert!(first.is_dir() && second.is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first)
                .expect("made")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only its owner may read it");
        }
        std::fs::remove_dir(first).expect("removed");
        std::fs::remove_dir(second).expect("removed");
    }
}
