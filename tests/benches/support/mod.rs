//! What the engine benchmarks share: a campaign, generated contacts, flags,
//! memory figures and percentiles.

#![allow(dead_code)]

use outdial::config::Config;
use outdial::model::{CallingWindow, CampaignSpec, Millis, WindowRule};
use outdial::store::NewContact;

/// 2026-03-02 15:00 UTC, a Monday.
pub const START: Millis = 1_772_463_600_000;

const CAMPAIGN: &str = r#"
[[workspaces]]
id = "bench"

[[campaigns]]
id = "bench"
workspace = "bench"
concurrency = 100
calls_per_second = 50
max_attempts = 3

[campaigns.provider]
plugin = "simulated"

[campaigns.window]
default_time_zone = "America/New_York"
hours = [{ days = "mon-sun", start = "08:00", end = "21:00" }]
"#;

/// The benchmark campaign, its window always open so runs measure the
/// engine, not the calendar.
pub fn campaign() -> CampaignSpec {
    let config = Config::parse_str("bench.toml", CAMPAIGN).expect("the bench config parses");
    let mut spec = config
        .campaign_specs()
        .unwrap_or_else(|diagnostics| panic!("{diagnostics}"))
        .remove(0);
    spec.calling_window = CallingWindow {
        rules: vec![WindowRule::Range {
            days: (0..7).collect(),
            start_minute: 0,
            end_minute: 24 * 60,
        }],
    };
    spec
}

/// `count` contacts with distinct numbers, starting at number `first`.
pub fn contacts(first: u32, count: u32) -> Vec<NewContact> {
    (first..first + count)
        .map(|n| NewContact {
            contact_id: format!("c{n}"),
            phone: format!("+1212{:07}", 2_000_000 + n),
            name: None,
            time_zone: "America/New_York".to_string(),
            attributes: Vec::new(),
            variant: None,
        })
        .collect()
}

/// The value after `name` on the command line.
pub fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1).cloned())
}

/// A number flag, or `default`.
pub fn number_flag(args: &[String], name: &str, default: u64) -> u64 {
    flag(args, name).map_or(default, |value| {
        value
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name} takes a number, got \"{value}\""))
    })
}

/// A figure from /proc/self/status, in MiB (0 where there is none).
pub fn memory_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)?
                    .trim_start_matches(':')
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        })
        .map_or(0.0, |kib| kib as f64 / 1024.0)
}

/// The `p`-th percentile (0 to 100) of `samples`, nearest rank; 0 when empty.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// Starts the peak of `VmHWM` again from the current RSS, so a peak
/// measured after this is one phase's, not the set-up's (Linux: `5` to
/// `/proc/self/clear_refs`). Answers whether it could.
pub fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
