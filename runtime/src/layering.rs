//! The modules depend one way: a test reads every `crate::` path in the
//! sources (tests left out) and refuses a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module and the top-level modules its code names.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("the sources are readable") {
                pending.push(entry.expect("a source entry").path());
            }
            continue;
        }
        let relative = path.strip_prefix(&src).expect("below src");
        let is_test = relative
            .iter()
            .any(|part| part == "tests" || part == "tests.rs");
        if path.extension().is_none_or(|ext| ext != "rs") || is_test {
            continue;
        }
        let module = relative
            .iter()
            .next()
            .and_then(|first| first.to_str())
            .map(|first| first.trim_end_matches(".rs").to_string())
            .expect("a file name");
        let text = std::fs::read_to_string(&path).expect("a source file is readable");
        // A file's own unit tests may reach anywhere, and a comment may
        // name any part.
        let code: String = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or("")
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let uses = graph.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let named: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !named.is_empty() && named != module {
                uses.insert(named);
            }
        }
    }
    graph
}

/// A circle through `module`, if its dependencies lead back to it.
fn circle_from(graph: &BTreeMap<String, BTreeSet<String>>, module: &str) -> Option<Vec<String>> {
    let mut path = vec![module.to_string()];
    let mut seen = BTreeSet::new();
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let here = path
            .last()
            .expect("the path starts with the module")
            .clone();
        for next in graph.get(&here).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    walk(graph, module, &mut path, &mut seen).then_some(path)
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let graph = module_graph();
    assert!(
        graph.contains_key("store") && graph.contains_key("api"),
        "{graph:?}"
    );
    for module in graph.keys() {
        if let Some(circle) = circle_from(&graph, module) {
            panic!(
                "modules import each other in a circle: {}",
                circle.join(" → ")
            );
        }
    }
}

#[test]
fn the_store_and_the_model_import_nothing_of_the_parts_above_them() {
    let graph = module_graph();
    let allowed = |module: &str, below: &[&str]| {
        let uses = &graph[module];
        let above: Vec<&String> = uses
            .iter()
            .filter(|used| !below.contains(&used.as_str()))
            .collect();
        assert!(above.is_empty(), "{module} imports {above:?}");
    };
    allowed("model", &[]);
    allowed("phone", &["model"]);
    allowed("store", &["model", "phone", "text_key"]);
    allowed("config", &["model", "phone"]);
}

#[test]
fn a_circle_is_found_and_named() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let edge = |graph: &mut BTreeMap<String, BTreeSet<String>>, from: &str, to: &str| {
        graph
            .entry(from.to_string())
            .or_default()
            .insert(to.to_string());
    };
    edge(&mut graph, "store", "model");
    edge(&mut graph, "dispatch", "store");
    assert_eq!(circle_from(&graph, "store"), None);
    edge(&mut graph, "store", "dispatch");
    assert_eq!(
        circle_from(&graph, "store"),
        Some(vec!["store".into(), "dispatch".into(), "store".into()])
    );
}
