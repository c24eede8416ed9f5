//! Builds the hostile plugin fixtures from source; none is ever committed
//! as a binary.

use std::fmt::Write as _;

const FIXTURES: [&str; 24] = [
    "fixture-trap",
    "fixture-endless-loop",
    "fixture-memory-bomb",
    "fixture-future-version",
    "fixture-reads-file",
    "fixture-reads-env",
    "fixture-opens-socket",
    "fixture-reads-clock",
    "fixture-hidden-state",
    "fixture-adapter",
    "fixture-slow-start",
    "fixture-legacy-retry",
    "fixture-legacy-classifier",
    "fixture-classifier-0-2",
    "fixture-classifier-0-3",
    "fixture-retry-0-3",
    "fixture-legacy-adapter",
    "fixture-gate",
    "fixture-gate-too-few",
    "fixture-gate-past",
    "fixture-gate-no-reason",
    "fixture-gate-trap",
    "fixture-gate-loop",
    "fixture-gate-hidden-state",
];

fn main() {
    let paths = outdial_build_support::build_plugins(&FIXTURES);
    let mut source = String::new();
    for (name, path) in FIXTURES.iter().zip(&paths) {
        let constant = name
            .trim_start_matches("fixture-")
            .replace('-', "_")
            .to_uppercase();
        writeln!(
            source,
            "/// The `{name}` test plugin.\npub const {constant}: &str = {:?};",
            path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    std::fs::write(format!("{out_dir}/fixtures.rs"), source).expect("OUT_DIR is writable");
}
