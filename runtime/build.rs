//! Builds the first-party plugins to Wasm components and embeds them.

use std::fmt::Write as _;

const FIRST_PARTY: [&str; 5] = [
    "retry-backoff",
    "retry-schedule",
    "classify-rules",
    "provider-twilio",
    "provider-voiceai",
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
}
