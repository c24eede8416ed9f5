//! Compiles plugin crates of this workspace to `wasm32-wasip2` components
//! from a build script, so no plugin binary is ever committed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Wasm target every plugin is built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// Build `packages` (workspace package names) for [`WASM_TARGET`] in release
/// mode and return each one's `.wasm` path, in the same order.
///
/// Panics with a message that says what to do when the target is missing
/// and cannot be installed, or when the build fails: a build script has no
/// other way to fail.
pub fn build_plugins(packages: &[&str]) -> Vec<PathBuf> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .ancestors()
        .find(|dir| is_workspace_root(dir))
        .expect("a workspace root above the package")
        .to_path_buf();
    for watched in [
        "sdk/src",
        "sdk/wit",
        "sdk/Cargo.toml",
        "plugins",
        "tests/fixtures",
        "Cargo.lock",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    ensure_wasm_target();

    // A target directory of its own: the outer build holds the lock on the
    // main one for as long as this script runs.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    command
        .current_dir(&workspace)
        .args([
            "build",
            "--release",
            "--target",
            WASM_TARGET,
            "--target-dir",
        ])
        .arg(&target_dir);
    for package in packages {
        command.args(["-p", package]);
    }
    // The outer build's flags and wrappers are meant for the host target.
    for variable in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        command.env_remove(variable);
    }
    // Small, fast components: no debug info, full optimisation, and the
    // SDK, the generated bindings and std optimised together with the
    // plugin (one codegen unit, fat LTO), so a call's glue is inlined.
    command
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "false");

    let status = command
        .status()
        .unwrap_or_else(|err| panic!("could not run cargo to build the plugins: {err}"));
    if !status.success() {
        panic!(
            "building plugins {packages:?} for {WASM_TARGET} failed; see the cargo output above"
        );
    }
    let out = target_dir.join(WASM_TARGET).join("release");
    packages
        .iter()
        .map(|package| {
            let path = out.join(format!("{}.wasm", package.replace('-', "_")));
            assert!(
                path.exists(),
                "plugin {package} was built but {} is missing",
                path.display()
            );
            path
        })
        .collect()
}

fn is_workspace_root(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .map(|manifest| manifest.contains("[workspace]"))
        .unwrap_or(false)
}

/// Install the Wasm target with rustup when it is missing.
fn ensure_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let installed = sysroot
        .as_ref()
        .is_some_and(|root| root.join("lib/rustlib").join(WASM_TARGET).exists());
    if installed {
        return;
    }
    println!("cargo:warning=installing the {WASM_TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "the {WASM_TARGET} target is missing and `rustup target add {WASM_TARGET}` failed ({status}); install it by hand and build again"
        ),
        Err(err) => panic!(
            "the {WASM_TARGET} target is missing and rustup could not be run ({err}); install the target for your toolchain and build again"
        ),
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name} for build scripts"))
}
