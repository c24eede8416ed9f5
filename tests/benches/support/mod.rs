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

/// CPU time used so far, in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTimes {
    /// The calling thread's: the engine's, in the benchmarks that tick it
    /// on their main thread.
    pub this_thread: f64,
    /// The store's: sled's writer thread, or the PostgreSQL store's
    /// runtime threads, which run its writer and its reads.
    pub store_writer: f64,
    /// The whole process's, threads that have exited included.
    pub process: f64,
}

impl CpuTimes {
    /// The CPU time used since `earlier`.
    pub fn since(self, earlier: CpuTimes) -> CpuTimes {
        CpuTimes {
            this_thread: self.this_thread - earlier.this_thread,
            store_writer: self.store_writer - earlier.store_writer,
            process: self.process - earlier.process,
        }
    }
}

/// The CPU time of this thread, the store's writer and the process
/// (Linux: from `/proc`; zeros where it cannot be read).
pub fn cpu_times() -> CpuTimes {
    // Nanoseconds on a CPU, the first figure of a thread's schedstat.
    let thread_seconds = |path: &std::path::Path| {
        std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0.0, |nanos| nanos as f64 / 1e9)
    };
    let store_writer = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .map(|task| task.path())
        .filter(|task| {
            std::fs::read_to_string(task.join("comm"))
                .is_ok_and(|name| matches!(name.trim(), "store-writer" | "store-postgres"))
        })
        .map(|task| thread_seconds(&task))
        .sum();
    // utime and stime, the 14th and 15th fields, in clock ticks (100 a
    // second on Linux); they count the threads that have exited too.
    let process = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks =
                fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0);
    CpuTimes {
        this_thread: thread_seconds(std::path::Path::new("/proc/thread-self")),
        store_writer,
        process,
    }
}

/// The CPU time, in seconds, of every live process named `postgres` on
/// the machine: the server's backends serving a benchmark's connections,
/// and its background writers (Linux: utime and stime from `/proc`).
pub fn postgres_cpu_seconds() -> f64 {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let (name, rest) = stat.split_once(" (")?.1.rsplit_once(')')?;
            if name != "postgres" {
                return None;
            }
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks =
                fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .sum()
}

/// Bytes this process has read and written through system calls so far
/// (Linux: `rchar` and `wchar` of `/proc/self/io`; zeros where it cannot
/// be read). For the store, what sled moved to and from its files.
pub fn io_bytes() -> (u64, u64) {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let field = |name: &str| {
        io.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("rchar:"), field("wchar:"))
}
