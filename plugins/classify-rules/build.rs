//! Compiles the automaton of the default transcript phrases and the
//! sentiment words ahead of time, as static tables: a plugin instance
//! neither builds nor reads nor validates anything before its first scan.

use std::fmt::{Display, Write as _};
use std::path::PathBuf;

#[path = "src/patterns.rs"]
mod patterns;

use patterns::Automaton;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/patterns.rs");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    let lists = patterns::phrase_lists(|_| None);
    assert!(
        !lists
            .iter()
            .flatten()
            .any(|phrase| patterns::reads_final_sigma(phrase)),
        "the default tables assume no default phrase has a sigma"
    );
    let automaton = Automaton::build(patterns::patterns(&lists))
        .expect("the default phrases and the sentiment words compile");
    std::fs::write(out_dir.join("default_tables.rs"), tables_source(&automaton))
        .expect("OUT_DIR is writable");
}

/// The automaton as a Rust static of `AutomatonTables`.
fn tables_source(automaton: &Automaton) -> String {
    let tables = automaton.tables();
    let mut source = String::from(
        "/// The automaton of the default phrases and the sentiment words,\n\
         /// compiled by the build script.\n\
         pub static DEFAULT_TABLES: AutomatonTables<'static> = AutomatonTables {\n",
    );
    writeln!(source, "    classes: &{},", list(tables.classes)).expect("a String");
    writeln!(source, "    stride: {},", tables.stride).expect("a String");
    writeln!(source, "    transitions: &{},", list(tables.transitions)).expect("a String");
    writeln!(
        source,
        "    first_match_state: {},",
        tables.first_match_state
    )
    .expect("a String");
    writeln!(
        source,
        "    meaning_starts: &{},",
        list(tables.meaning_starts)
    )
    .expect("a String");
    let meanings: Vec<String> = tables
        .meanings
        .iter()
        .map(|meaning| format!("Meaning::{meaning:?}"))
        .collect();
    writeln!(source, "    meanings: &{},", list(&meanings)).expect("a String");
    writeln!(source, "    ascii_only: {},", tables.ascii_only).expect("a String");
    writeln!(source, "    longest_pattern: {},", tables.longest_pattern).expect("a String");
    source.push_str("};\n");
    source
}

fn list(items: &[impl Display]) -> String {
    let items: Vec<String> = items.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(", "))
}
