//! What a component says about how it was made: the `producers` custom
//! sections of the component and of the core modules inside it.

use wasmparser::{KnownCustom, Parser, Payload};

/// The languages a component's producers sections name, outermost first,
/// each once. A guest written in an interpreted language names its own
/// language beside the language its interpreter was written in.
pub fn languages(bytes: &[u8]) -> Vec<String> {
    let mut languages: Vec<String> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        // A component the host could compile parses; a malformed section
        // only means nothing more is known.
        let Ok(Payload::CustomSection(section)) = payload else {
            continue;
        };
        let KnownCustom::Producers(fields) = section.as_known() else {
            continue;
        };
        for field in fields.into_iter().flatten() {
            if field.name != "language" {
                continue;
            }
            for value in field.values.into_iter().flatten() {
                if !languages.iter().any(|known| known == value.name) {
                    languages.push(value.name.to_string());
                }
            }
        }
    }
    languages
}

/// The language a guest was written in: the first one named that is not
/// the language of a runtime embedded to run it (C, C++ or Rust under a
/// JavaScript or Python guest).
pub fn guest_language(languages: &[String]) -> Option<&str> {
    const SCRIPTED: [&str; 3] = ["JavaScript", "TypeScript", "Python"];
    languages
        .iter()
        .find(|language| SCRIPTED.iter().any(|s| s.eq_ignore_ascii_case(language)))
        .or_else(|| languages.first())
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin_host::EMBEDDED_PLUGINS;

    #[test]
    fn a_first_party_plugin_is_told_to_be_written_in_rust() {
        for (name, bytes) in EMBEDDED_PLUGINS {
            let languages = languages(bytes);
            assert_eq!(guest_language(&languages), Some("Rust"), "{name}");
        }
    }

    #[test]
    fn a_scripted_guest_is_named_before_the_runtime_that_runs_it() {
        let named = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            guest_language(&named(&["C11", "Rust", "Python"])),
            Some("Python")
        );
        assert_eq!(
            guest_language(&named(&["C", "JavaScript"])),
            Some("JavaScript")
        );
        assert_eq!(guest_language(&named(&["C"])), Some("C"));
        assert_eq!(guest_language(&[]), None);
    }

    #[test]
    fn bytes_that_are_no_component_name_no_language() {
        assert!(languages(b"not wasm at all").is_empty());
    }
}
