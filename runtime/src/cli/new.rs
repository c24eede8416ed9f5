//! `outdial plugin new`: a ready plugin project from a template.
//!
//! A template is a folder `templates/<language>/<kind>/` embedded in the
//! binary. Its files are copied with `{{name}}`, `{{module}}`, `{{type}}`
//! and `{{sdk}}` replaced; a `.tmpl` suffix (which keeps cargo and rustfmt
//! off a template's `Cargo.toml` and `lib.rs`) is dropped, and `gitignore`
//! becomes `.gitignore` (a dotfile would act on the templates themselves).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::ValueEnum;

include!(concat!(env!("OUT_DIR"), "/plugin_templates.rs"));

/// The kind of plugin to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewKind {
    Retry,
    Classifier,
    Provider,
    Gate,
}

impl NewKind {
    fn folder(self) -> &'static str {
        match self {
            NewKind::Retry => "retry",
            NewKind::Classifier => "classifier",
            NewKind::Provider => "provider",
            NewKind::Gate => "gate",
        }
    }

    /// Whether `language`'s SDK can write this kind: the JavaScript and
    /// Python SDKs build against WIT 0.2.0, which has no dial gate.
    fn written_in(self, language: Language) -> bool {
        self != NewKind::Gate || language == Language::Rust
    }
}

/// The language to write it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Language {
    Rust,
    Js,
    Python,
}

impl Language {
    fn folder(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Js => "js",
            Language::Python => "python",
        }
    }

    /// The folder of this language's SDK inside an outdial checkout's
    /// `sdk/`, and a file that says it is there.
    fn sdk_within(self, sdk: &Path) -> (PathBuf, PathBuf) {
        let (dir, marker) = match self {
            Language::Rust => (sdk.to_path_buf(), "Cargo.toml"),
            Language::Js => (sdk.join("js"), "package.json"),
            Language::Python => (sdk.join("python"), "pyproject.toml"),
        };
        let marker = dir.join(marker);
        (dir, marker)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.folder())
    }
}

#[derive(Debug, clap::Args)]
pub(super) struct NewArgs {
    /// The plugin's name: lowercase letters, digits and single dashes,
    /// starting with a letter, e.g. late-callback.
    name: String,
    /// The kind of plugin.
    #[arg(long, value_enum)]
    kind: NewKind,
    /// The language to write it in.
    #[arg(long, value_enum, default_value_t = Language::Rust)]
    lang: Language,
    /// Where to write the project; it must not exist yet. Default: ./NAME.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The `sdk` folder of an outdial checkout, which the project depends
    /// on by path. Default: the one this binary was built from.
    #[arg(long, value_name = "DIR")]
    sdk: Option<PathBuf>,
}

/// Why a project could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    #[error(
        "plugin name \"{0}\" is not valid: use lowercase letters, digits and single dashes, starting with a letter, at most 64 characters (e.g. late-callback)"
    )]
    BadName(String),
    #[error(
        "plugin name \"{name}\" makes the type `{type_name}`, which the Rust SDK's prelude already names: choose another name"
    )]
    NameTakenBySdk { name: String, type_name: String },
    #[error(
        "plugin name \"{name}\" makes the module `{module}`, a Python keyword or a module the project imports: choose another name"
    )]
    PythonNameInUse { name: String, module: String },
    #[error(
        "the {language} SDK is not at {}: pass --sdk DIR, the sdk folder of an outdial checkout",
        .dir.display()
    )]
    NoSdk { language: Language, dir: PathBuf },
    #[error(
        "the SDK path {} holds a quote or a backslash, which the project's manifest cannot hold as written",
        .0.display()
    )]
    UnquotableSdkPath(PathBuf),
    #[error("{} already exists; nothing was written", .0.display())]
    Exists(PathBuf),
    #[error(
        "a dial gate cannot be written in {language} yet: its SDK builds against outdial:plugin@0.2.0, which has no dial-gate world; use --lang rust"
    )]
    KindNotInLanguage { language: Language },
}

/// The names a project uses for its plugin, derived from the one given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginNames {
    /// As given, kebab-case: `late-callback`.
    pub name: String,
    /// snake_case, for a Rust crate's file or a Python module: `late_callback`.
    pub module: String,
    /// CamelCase, for a type: `LateCallback`.
    pub type_name: String,
}

impl PluginNames {
    pub fn parse(name: &str) -> Result<PluginNames, NewError> {
        let valid = name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if !valid {
            return Err(NewError::BadName(name.to_string()));
        }
        let type_name = name
            .split('-')
            .map(|part| {
                let mut chars = part.chars();
                let first = chars.next().expect("parts are not empty");
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
            .collect();
        Ok(PluginNames {
            name: name.to_string(),
            module: name.replace('-', "_"),
            type_name,
        })
    }

    /// Refuses names the language's template could not use as they are.
    fn check_for(&self, language: Language) -> Result<(), NewError> {
        match language {
            Language::Rust if RUST_NAMES_IN_USE.contains(&self.type_name.as_str()) => {
                Err(NewError::NameTakenBySdk {
                    name: self.name.clone(),
                    type_name: self.type_name.clone(),
                })
            }
            Language::Python
                if PYTHON_KEYWORDS.contains(&self.module.as_str())
                    || PYTHON_MODULES_IN_USE.contains(&self.module.as_str()) =>
            {
                Err(NewError::PythonNameInUse {
                    name: self.name.clone(),
                    module: self.module.clone(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// Types the Rust templates import by name, which a plugin type of the same
/// name would shadow.
const RUST_NAMES_IN_USE: [&str; 29] = [
    "Attempt",
    "CallEvent",
    "CallOutcome",
    "CallRequest",
    "CallState",
    "Candidate",
    "Classifier",
    "Config",
    "Contact",
    "Decision",
    "DialGate",
    "Disposition",
    "GateMetadata",
    "Hmac",
    "HttpRequest",
    "HttpResponse",
    "InboundWebhook",
    "MachineDetection",
    "Mac",
    "Metadata",
    "PhoneHistory",
    "Plugin",
    "PluginError",
    "ProviderAdapter",
    "ProviderError",
    "RetryInput",
    "RetryStrategy",
    "Verdict",
    "WebhookError",
];

/// Modules the Python templates import, which a plugin module of the same
/// name would shadow.
const PYTHON_MODULES_IN_USE: [&str; 10] = [
    "hashlib",
    "hmac",
    "json",
    "math",
    "outdial_plugin",
    "outdial_wit",
    "pytest",
    "re",
    "typing",
    "urllib",
];

const PYTHON_KEYWORDS: [&str; 35] = [
    "false", "none", "true", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// The files of a new project: (path inside it, contents).
pub fn render(
    language: Language,
    kind: NewKind,
    names: &PluginNames,
    sdk_dir: &str,
) -> Vec<(PathBuf, String)> {
    let prefix = format!("{}/{}/", language.folder(), kind.folder());
    let fill = |text: &str| {
        text.replace("{{name}}", &names.name)
            .replace("{{module}}", &names.module)
            .replace("{{type}}", &names.type_name)
            .replace("{{sdk}}", sdk_dir)
    };
    PLUGIN_TEMPLATES
        .iter()
        .filter_map(|(path, contents)| {
            let inside = path.strip_prefix(&prefix)?;
            let inside = inside.strip_suffix(".tmpl").unwrap_or(inside);
            let mut target: PathBuf = fill(inside).split('/').collect();
            if target.file_name().is_some_and(|name| name == "gitignore") {
                target.set_file_name(".gitignore");
            }
            Some((target, fill(contents)))
        })
        .collect()
}

/// The SDK folder this binary was built beside.
fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk")
}

/// Writes the files into `dir`, which must not exist: into a sibling
/// first, renamed into place once whole, so a failure leaves nothing.
pub fn write_project(dir: &Path, files: &[(PathBuf, String)]) -> anyhow::Result<()> {
    if dir.exists() {
        return Err(NewError::Exists(dir.to_path_buf()).into());
    }
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let leaf = dir.file_name().map_or_else(
        || "project".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    let staging = parent.join(format!(".{leaf}.partial-{}", std::process::id()));
    std::fs::create_dir(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    let written = stage(&staging, files).and_then(|()| {
        std::fs::rename(&staging, dir)
            .with_context(|| format!("cannot move the project to {}", dir.display()))
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    written
}

fn stage(staging: &Path, files: &[(PathBuf, String)]) -> anyhow::Result<()> {
    for (path, contents) in files {
        let target = staging.join(path);
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
        }
        std::fs::write(&target, contents)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

pub(super) fn run(args: &NewArgs) -> anyhow::Result<()> {
    let names = PluginNames::parse(&args.name)?;
    names.check_for(args.lang)?;
    if !args.kind.written_in(args.lang) {
        return Err(NewError::KindNotInLanguage {
            language: args.lang,
        }
        .into());
    }
    let sdk = args.sdk.clone().unwrap_or_else(default_sdk);
    let (sdk_dir, marker) = args.lang.sdk_within(&sdk);
    if !marker.is_file() {
        return Err(NewError::NoSdk {
            language: args.lang,
            dir: sdk_dir,
        }
        .into());
    }
    let sdk_dir = sdk_dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", sdk_dir.display()))?;
    let sdk_text = sdk_dir.to_str().filter(|text| !text.contains(['"', '\\']));
    let Some(sdk_text) = sdk_text else {
        return Err(NewError::UnquotableSdkPath(sdk_dir).into());
    };
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&names.name));
    let files = render(args.lang, args.kind, &names, sdk_text);
    write_project(&dir, &files)?;
    println!(
        "wrote {} ({} files): a {} plugin in {}",
        dir.display(),
        files.len(),
        args.kind.folder(),
        args.lang
    );
    println!("next, in {}:", dir.display());
    for command in next_commands(args.lang, args.kind, &names) {
        println!("  {command}");
    }
    Ok(())
}

/// Test natively, build, prove: what the project's README says to run.
fn next_commands(language: Language, kind: NewKind, names: &PluginNames) -> Vec<String> {
    let prove = |wasm: &str| format!("outdial plugin test {wasm} --cases conformance/");
    match language {
        Language::Rust => vec![
            "cargo test".to_string(),
            "cargo build --release --target wasm32-wasip2".to_string(),
            prove(&format!(
                "target/wasm32-wasip2/release/{}.wasm",
                names.module
            )),
        ],
        Language::Js => vec![
            "npm install".to_string(),
            "npm test".to_string(),
            "npm run build".to_string(),
            prove("plugin.wasm"),
        ],
        Language::Python => vec![
            "python -m pytest".to_string(),
            format!(
                "python -m outdial_plugin.build {}.py --kind {} -o plugin.wasm",
                names.module,
                kind.folder()
            ),
            prove("plugin.wasm"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LANGUAGES: [Language; 3] = [Language::Rust, Language::Js, Language::Python];
    const KINDS: [NewKind; 4] = [
        NewKind::Retry,
        NewKind::Classifier,
        NewKind::Provider,
        NewKind::Gate,
    ];

    fn names(name: &str) -> PluginNames {
        PluginNames::parse(name).expect("a valid name")
    }

    #[test]
    fn a_name_gives_its_module_and_type() {
        assert_eq!(
            names("late-callback-2"),
            PluginNames {
                name: "late-callback-2".to_string(),
                module: "late_callback_2".to_string(),
                type_name: "LateCallback2".to_string(),
            }
        );
    }

    #[test]
    fn a_name_that_no_language_could_use_is_refused_by_name() {
        for bad in [
            "",
            "Late",
            "late_callback",
            "late--callback",
            "-late",
            "late-",
            "2late",
        ] {
            let error = PluginNames::parse(bad).expect_err(bad).to_string();
            assert!(error.contains(&format!("\"{bad}\"")), "{error}");
        }
        assert!(PluginNames::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn a_name_the_language_would_trip_on_is_refused_for_that_language_only() {
        let config = names("config");
        assert!(matches!(
            config.check_for(Language::Rust),
            Err(NewError::NameTakenBySdk { .. })
        ));
        assert!(config.check_for(Language::Python).is_ok());
        for python_would_trip in ["import", "json"] {
            let names = names(python_would_trip);
            assert!(matches!(
                names.check_for(Language::Python),
                Err(NewError::PythonNameInUse { .. })
            ));
            assert!(names.check_for(Language::Rust).is_ok());
        }
    }

    #[test]
    fn every_language_and_kind_has_a_whole_project() {
        for language in LANGUAGES {
            for kind in KINDS.into_iter().filter(|kind| kind.written_in(language)) {
                let files = render(language, kind, &names("late-callback"), "/opt/outdial/sdk");
                let has = |name: &str| files.iter().any(|(path, _)| path == Path::new(name));
                let what = format!("{language} {}", kind.folder());
                assert!(has("README.md"), "{what}: README.md in {files:?}");
                assert!(has(".gitignore"), "{what}: .gitignore");
                let cases: Vec<&PathBuf> = files
                    .iter()
                    .map(|(path, _)| path)
                    .filter(|path| path.starts_with("conformance") && path.ends_with("input.json"))
                    .collect();
                assert_eq!(cases.len(), 1, "{what}: one conformance case in {files:?}");
                let case = cases[0].parent().expect("a case folder");
                assert!(has(case.join("expected.json").to_str().unwrap()), "{what}");
                let manifest = match language {
                    Language::Rust => "Cargo.toml",
                    Language::Js => "package.json",
                    Language::Python => "late_callback.py",
                };
                assert!(has(manifest), "{what}: {manifest}");
                for (path, contents) in &files {
                    assert!(
                        !contents.contains("{{") && !path.to_string_lossy().contains("{{"),
                        "{what}: {} keeps a placeholder",
                        path.display()
                    );
                }
            }
        }
    }

    #[test]
    fn the_names_and_the_sdk_are_filled_in() {
        let files = render(
            Language::Rust,
            NewKind::Retry,
            &names("late-callback"),
            "/opt/outdial/sdk",
        );
        let file = |name: &str| {
            files
                .iter()
                .find(|(path, _)| path == Path::new(name))
                .map(|(_, contents)| contents.as_str())
                .unwrap_or_else(|| panic!("{name} in {files:?}"))
        };
        assert!(file("Cargo.toml").contains("name = \"late-callback\""));
        assert!(file("Cargo.toml").contains("path = \"/opt/outdial/sdk\""));
        assert!(file("src/lib.rs").contains("pub struct LateCallback"));
        assert!(file("README.md").contains("late_callback.wasm"));
    }

    #[test]
    fn a_project_is_written_whole_and_never_over_an_existing_folder() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("late-callback");
        let files = render(
            Language::Rust,
            NewKind::Retry,
            &names("late-callback"),
            "/opt/outdial/sdk",
        );
        write_project(&dir, &files).unwrap();
        assert!(dir.join("src/lib.rs").is_file());
        let written = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();

        std::fs::write(dir.join("Cargo.toml"), "mine").unwrap();
        let error = write_project(&dir, &files).unwrap_err().to_string();
        assert!(
            error.contains("already exists; nothing was written"),
            "{error}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("Cargo.toml")).unwrap(),
            "mine"
        );
        assert_ne!(written, "mine");
        let leftovers: Vec<_> = std::fs::read_dir(parent.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("late-callback")]);
    }
}
