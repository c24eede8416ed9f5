//! Every config under `examples/` parses, validates and resolves.

#[path = "ui/catalog.rs"]
mod catalog;

use std::path::PathBuf;

use outdial::config::{Config, validate};

fn example_configs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut configs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    configs.sort();
    configs
}

#[test]
fn every_example_config_validates_and_resolves() {
    let configs = example_configs();
    assert!(
        configs.len() >= 2,
        "expected the example configs, found {configs:?}"
    );
    for path in configs {
        let config = Config::load(&path).unwrap_or_else(|err| panic!("{}:\n{err}", path.display()));
        if let Err(found) = validate(&config, &catalog::TestCatalog) {
            panic!("{} is invalid:\n{found}", path.display());
        }
        let specs = config
            .campaign_specs()
            .unwrap_or_else(|found| panic!("{} does not resolve:\n{found}", path.display()));
        assert!(!specs.is_empty(), "{} declares no campaign", path.display());
    }
}

#[test]
fn the_demo_is_the_simulated_outreach_campaign() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo.toml");
    let config = Config::load(&path).expect("demo loads");
    let specs = config.campaign_specs().expect("demo resolves");
    let demo = specs
        .iter()
        .find(|spec| spec.id == "demo-outreach")
        .expect("demo-outreach");
    assert_eq!(demo.workspace, "demo");
    assert_eq!(demo.provider, "simulated");
    assert_eq!(demo.retry_plugin, "retry-backoff");
    assert_eq!(demo.classifier_plugin, "classify-rules");
    assert_eq!(demo.budget_micros, Some(250_000_000));
    assert_eq!(demo.variants.len(), 2);
    assert!(demo.numbers.len() > 1);
}

#[test]
fn production_keeps_secrets_out_of_the_resolved_specs() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/production.toml");
    let config = Config::load(&path).expect("production loads");
    for spec in config.campaign_specs().expect("production resolves") {
        assert!(
            spec.provider_secrets
                .iter()
                .any(|(key, _)| key == "auth_token"),
            "{}",
            spec.id
        );
        assert!(
            spec.provider_config
                .iter()
                .all(|(key, _)| key != "auth_token"),
            "{}",
            spec.id
        );
    }
}
