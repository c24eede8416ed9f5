//! Builds the first-party plugins to Wasm components and embeds them, and
//! embeds the project templates of `outdial plugin new`.

use std::fmt::Write as _;

const FIRST_PARTY: [&str; 6] = [
    "retry-backoff",
    "retry-schedule",
    "classify-rules",
    "provider-twilio",
    "provider-voiceai",
    "gate-hours",
];

fn main() {
    let wasm_files = outdial_build_support::build_plugins(&FIRST_PARTY);
    let mut source = String::from(
        "/// First-party plugins compiled into the binary: (name, component bytes).\npub const EMBEDDED_PLUGINS: &[(&str, &[u8])] = &[\n",
    );
    for (name, path) in FIRST_PARTY.iter().zip(&wasm_files) {
        writeln!(
            source,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    source.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    std::fs::write(format!("{out_dir}/embedded_plugins.rs"), source).expect("OUT_DIR is writable");
    embed_templates(&out_dir);
}

/// Every file under `src/cli/templates/`, as (path below it, contents), so
/// a template's files are listed by the folder and nowhere else.
fn embed_templates(out_dir: &str) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli/templates");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("the templates folder is readable") {
            let path = entry.expect("a template entry is readable").path();
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or("");
            // What running a template in place leaves behind is not part of it.
            if name.starts_with('.') || name == "node_modules" || name == "__pycache__" {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut source = String::from(
        "/// The templates of `outdial plugin new`: (path below the templates folder, contents).\npub const PLUGIN_TEMPLATES: &[(&str, &str)] = &[\n",
    );
    for path in files {
        let relative = path
            .strip_prefix(&root)
            .expect("walked from the root")
            .to_str()
            .expect("template paths are UTF-8");
        writeln!(
            source,
            "    ({relative:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    source.push_str("];\n");
    std::fs::write(format!("{out_dir}/plugin_templates.rs"), source).expect("OUT_DIR is writable");
}
