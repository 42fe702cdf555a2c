//! `zkchaos bench`: measure the load driver itself. These figures prove the performance targets;
//! tests never assert on timing.
//!
//! - `cpu` ([`cpu`]): process CPU per completed operation at 2,000 ops/s, zkchaos's full driver
//!   side by side with two bare-client comparators, interleaved rounds on one ensemble;
//! - `lag` ([`lag`]): schedule lag p50/p99/max at 5,000 ops/s on the 3-server ensemble, and at
//!   20,000 ops/s on a 1-server ensemble started for it;
//! - `startup` ([`startup`]): time from `Cluster::create` to `start_initial` returning, 3 and 5
//!   servers;
//! - `saturation`: closed loop, 64 in flight, 100 % get: completed ops/s;
//! - `memory` ([`memory`]): the driving peak over a 10-minute run at 2,000 ops/s, and the
//!   analysis peak of `zkchaos analyze` (a child) on it and on a synthesized one-hour run;
//! - `soak` ([`soak`]): one hour at 1,000 ops/s, RSS and descriptors first against last window,
//!   files read back while written.
//!
//! Without `--connect`, a 3-server ensemble is started with [`crate::cluster`] and removed after.
//! On a host with at least 2 CPUs the servers the bench starts are confined to CPUs 1.. (profile
//! key `cluster.cpuset`) and every thread of this process to CPU 0, so the servers cannot starve
//! the driver; `--no-pin` turns that off. With `--json` one JSON object goes to stdout and the
//! human-readable lines to stderr; the same object is always kept as
//! `<out>/bench/<UTC timestamp>/bench.json` (default `results/`), with the host's load average at
//! start and end and per cpu round.

mod bare;
mod cpu;
mod lag;
mod memory;
mod soak;
mod startup;

use super::load::{run_load, LoadSummary};
use crate::cluster::Cluster;
use crate::plan::{ClusterPlan, LoadMode, LoadPlan, OpKind};
use clap::Args;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const KNOWN: [&str; 6] = ["cpu", "lag", "startup", "saturation", "memory", "soak"];

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Connect string of an ensemble to measure against; a 3-server ensemble is started if absent.
    #[arg(long)]
    pub connect: Option<String>,
    /// Length of each measurement (e.g. 20s, or a number of seconds); default 20 s, the soak's
    /// one hour.
    #[arg(long)]
    pub seconds: Option<super::args::DurationArg>,
    /// Which measurements: cpu,lag,startup,saturation,memory,soak (memory runs 10 minutes, soak
    /// one hour at 1,000 ops/s unless --seconds is given).
    #[arg(long, default_value = "cpu,lag,startup")]
    pub only: String,
    /// Interleaved rounds of the cpu comparison (zkchaos, bare open loop, bare pipelined).
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Ensemble starts per size (3 and 5 servers) of the startup measurement.
    #[arg(long, default_value_t = 10)]
    pub starts: u32,
    /// Do not confine the servers to CPUs 1.. and this process to CPU 0.
    #[arg(long)]
    pub no_pin: bool,
    /// Print one JSON object on stdout (the human-readable lines go to stderr).
    #[arg(long)]
    pub json: bool,
    /// Results root: the JSON object (every round, the host's load at start and end) is also
    /// kept as <out>/bench/<UTC timestamp>.json.
    #[arg(long = "out", value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
}

/// Where human-readable lines go: stdout, or stderr when stdout carries the JSON object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    json: bool,
}

impl Out {
    pub(crate) fn say(&self, line: impl std::fmt::Display) {
        if self.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}

pub(crate) fn median(v: &[f64]) -> f64 {
    crate::stats::median(v).unwrap_or(0.0)
}

pub(crate) fn scratch_dir(name: &str) -> crate::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("zkchaos-bench-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).map_err(|e| crate::Error::failed(format!("cannot create {}: {e}", d.display())))?;
    Ok(d)
}

/// `zkchaos load` for `secs` into a scratch directory (removed after).
pub(crate) async fn measure(plan: &LoadPlan, connect: &str, secs: u64, name: &str) -> crate::Result<LoadSummary> {
    let dir = scratch_dir(name)?;
    let r = run_load(plan, connect, 1, Duration::from_secs(secs), &dir, CancellationToken::new()).await;
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// Start a `size`-server ensemble (servers confined to `cpuset` when given).
pub(crate) async fn start_ensemble(size: u32, cpuset: Option<String>) -> crate::Result<Cluster> {
    let plan = ClusterPlan { size, cpuset, ..ClusterPlan::default() };
    let up = crate::runner::ensemble::Up::within(Duration::from_secs(60));
    Ok(crate::runner::ensemble::start(crate::runner::ensemble::spec("bench", plan), &up).await?.cluster)
}

/// The CPUs this process may run on.
pub(crate) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: sched_getaffinity fills the zeroed set we pass, sized by the argument.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect()
    }
}

/// Confine every thread of this process (threads started later inherit it) to `cpu`.
pub(crate) fn pin_process(cpu: usize) -> std::io::Result<()> {
    // SAFETY: CPU_SET/sched_setaffinity only touch the local set and the named thread's mask.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    unsafe { libc::CPU_SET(cpu, &mut set) };
    for entry in std::fs::read_dir("/proc/self/task")? {
        let Some(tid) = entry?.file_name().to_str().and_then(|t| t.parse::<libc::pid_t>().ok()) else { continue };
        if unsafe { libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) } != 0 {
            let e = std::io::Error::last_os_error();
            // A thread that ended since the directory was read is not an error.
            if e.raw_os_error() != Some(libc::ESRCH) {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Decide the CPU split: the servers' cpuset, or None (not pinned), and what to say about it.
fn pin(args: &BenchArgs) -> (Option<String>, String) {
    let cpus = allowed_cpus();
    if args.no_pin {
        return (None, format!("not pinned (--no-pin); {} CPUs", cpus.len()));
    }
    if args.connect.is_some() {
        return (None, "not pinned: the ensemble is not the bench's own (--connect)".into());
    }
    if cpus.len() < 2 {
        return (None, format!("not pinned: only {} CPU available", cpus.len()));
    }
    let driver = cpus[0];
    let servers: Vec<String> = cpus[1..].iter().map(|c| c.to_string()).collect();
    let servers = servers.join(",");
    match pin_process(driver) {
        Ok(()) => (Some(servers.clone()), format!("pinned: zkchaos (every thread) on CPU {driver}, server containers on CPUs {servers}")),
        Err(e) => (None, format!("not pinned: sched_setaffinity failed: {e}")),
    }
}

/// Keep `report` as `<out>/bench/<UTC timestamp>.json`.
fn keep(out: &std::path::Path, report: &Value) -> crate::Result<PathBuf> {
    let dir = crate::record::rundir::create_timestamped_dir(&out.join("bench")).map_err(crate::Error::from)?;
    let path = dir.join("bench.json");
    let bytes = serde_json::to_vec_pretty(report).map_err(|e| crate::Error::failed(format!("bench: encode {}: {e}", path.display())))?;
    crate::record::write_atomic(&path, &bytes).map_err(crate::Error::from)?;
    Ok(path)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

pub async fn bench(args: BenchArgs) -> crate::Result<()> {
    let only: Vec<String> = args.only.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if let Some(bad) = only.iter().find(|o| !KNOWN.contains(&o.as_str())) {
        return Err(crate::Error::bad_input(format!("--only {bad:?}: not a measurement; use a comma-separated list of {}", KNOWN.join(", "))));
    }
    let out = Out { json: args.json };
    let secs = args.seconds.as_ref().map_or(20, |d| d.0.as_secs().max(1));
    let (cpuset, pin_note) = pin(&args);
    out.say(format!("host: load average {} at start; {pin_note}", loadavg()));
    let mut report = Map::new();
    report.insert(
        "host".into(),
        json!({ "loadavg_start": loadavg(), "cpus": allowed_cpus().len(), "server_cpuset": cpuset, "pinning": pin_note }),
    );
    let needs_ensemble = only.iter().any(|o| o != "startup");
    let mut cluster = None;
    let connect = match (&args.connect, needs_ensemble) {
        (Some(c), _) => c.clone(),
        (None, true) => {
            let c = start_ensemble(3, cpuset.clone()).await?;
            let s = c.connect_string(&[1, 2, 3]);
            cluster = Some(c);
            s
        }
        (None, false) => String::new(),
    };
    let result = run_benches(&args, &only, out, &connect, secs, cpuset, &mut report).await;
    if let Some(mut c) = cluster {
        if let Err(e) = c.teardown().await {
            eprintln!("zkchaos bench: teardown failed: {e}");
        }
    }
    result?;
    report.insert("loadavg_end".into(), json!(loadavg()));
    report.insert("only".into(), json!(only));
    let report = Value::Object(report);
    let kept = keep(&args.out, &report)?;
    out.say(format!("kept: {}", kept.display()));
    if args.json {
        println!("{report}");
    }
    Ok(())
}

async fn run_benches(
    args: &BenchArgs,
    only: &[String],
    out: Out,
    connect: &str,
    secs: u64,
    cpuset: Option<String>,
    report: &mut Map<String, Value>,
) -> crate::Result<()> {
    let want = |s: &str| only.iter().any(|o| o == s);
    if want("cpu") {
        report.insert("cpu".into(), cpu::cpu(out, connect, secs, args.rounds.max(1)).await?);
    }
    if want("lag") {
        let own = args.connect.is_none();
        report.insert("lag".into(), lag::lag(out, connect, secs, own.then_some(cpuset)).await?);
    }
    if want("startup") {
        report.insert("startup".into(), startup::startup(out, args.starts.max(1)).await?);
    }
    if want("saturation") {
        let mix = [(OpKind::Get, 100u32)].into_iter().collect();
        let plan = LoadPlan { mode: LoadMode::Closed, in_flight: 64, mix, ..LoadPlan::default() };
        let s = measure(&plan, connect, secs, "saturation").await?;
        let (p50, p99) = s.latency.values().next().map(|q| (q.p50, q.p99)).unwrap_or((0, 0));
        out.say(format!("saturation closed 64 in flight, 100% get: {:.0} ok ops/s (p50 {p50} µs, p99 {p99} µs)", s.counts.ok_rate));
        report.insert("saturation".into(), json!({ "ok_rate": s.counts.ok_rate, "p50_us": p50, "p99_us": p99 }));
    }
    if want("memory") {
        // Its lines go to stdout; it is not part of the --json contract.
        let memory_secs = args.seconds.as_ref().map_or(600, |d| d.0.as_secs().max(1));
        memory::memory(connect, memory_secs).await?;
    }
    if want("soak") {
        let soak_secs = args.seconds.as_ref().map_or(soak::DEFAULT_SECONDS, |d| d.0.as_secs().max(1));
        soak::soak(connect, soak_secs).await?;
    }
    Ok(())
}
