//! `zkchaos bench`: measure the load driver itself. These figures prove the performance targets;
//! tests never assert on timing.
//!
//! - `lag`: schedule lag p50/p99/max at 5,000 ops/s (default mix);
//! - `cpu`: process CPU (user + system, `getrusage(RUSAGE_SELF)`) per completed operation at
//!   2,000 ops/s, everything included (driver, client, recorder, gzip);
//! - `saturation`: closed loop, 64 in flight, 100 % get: completed ops/s;
//! - `memory`: driving peak over a 10-minute run at 2,000 ops/s with events streamed to disk, and
//!   the analysis peak apart (see [`super::bench_memory`]).
//!
//! Without `--connect`, a 3-server ensemble is started with [`crate::cluster`] and removed after.

use super::load::{run_load, LoadSummary};
use super::recorded::RecordedLoad;
use crate::cluster::{Cluster, ClusterSpec};
use crate::plan::{ClusterPlan, LoadMode, LoadPlan, OpKind};
use crate::record::Epoch;
use crate::workload::Schedule;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Connect string of an ensemble to measure against; a 3-server ensemble is started if absent.
    #[arg(long)]
    pub connect: Option<String>,
    /// Length of each measurement (e.g. 20s, or a number of seconds); default 20 s, and 10 minutes
    /// of driving for `memory`.
    #[arg(long)]
    pub seconds: Option<super::args::DurationArg>,
    /// Which measurements: lag,cpu,saturation,memory (memory drives 10 minutes unless --seconds).
    #[arg(long, default_value = "lag,cpu,saturation")]
    pub only: String,
}

fn cpu_us() -> u64 {
    // SAFETY: getrusage writes into the zeroed struct we pass; no other memory is touched.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0;
    }
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn scratch_dir(name: &str) -> crate::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("zkchaos-bench-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).map_err(|e| crate::Error::failed(format!("cannot create {}: {e}", d.display())))?;
    Ok(d)
}

/// Process CPU spent while the load is driven (sessions connected and keys populated before,
/// files finished after), and the operations completed meanwhile.
async fn driving_cpu(plan: &LoadPlan, connect: &str, secs: u64) -> crate::Result<(u64, u64)> {
    let dir = scratch_dir("cpu")?;
    let epoch = Epoch::now();
    let result = async {
        let cancel = CancellationToken::new();
        let recorded = RecordedLoad::start(plan, connect, 1, epoch, dir.clone(), 0, cancel.clone()).await?;
        let schedule = Schedule::from_plan(plan, epoch.now_us(), Some(Duration::from_secs(secs)));
        let before = cpu_us();
        let (_, stats) = recorded.drive(schedule, cancel).await?;
        let used = cpu_us().saturating_sub(before);
        Ok::<_, crate::Error>((used, stats.counts.events))
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(plan: &LoadPlan, connect: &str, secs: u64, name: &str) -> crate::Result<LoadSummary> {
    let dir = scratch_dir(name)?;
    let r = run_load(plan, connect, 1, Duration::from_secs(secs), &dir, CancellationToken::new()).await;
    let _ = std::fs::remove_dir_all(&dir);
    r
}

async fn start_ensemble() -> crate::Result<Cluster> {
    let spec = ClusterSpec {
        run_id: crate::cluster::names::new_run_id(),
        profile: "bench".into(),
        plan: ClusterPlan::default(),
        extra_jvm_flags: Vec::new(),
        skip_acl: false,
    };
    let mut cluster = Cluster::create(spec).await?;
    cluster.start_initial(Duration::from_secs(60)).await?;
    Ok(cluster)
}

pub async fn bench(args: BenchArgs) -> crate::Result<()> {
    let only: Vec<String> = args.only.split(',').map(|s| s.trim().to_string()).collect();
    let mut cluster = None;
    let connect = match &args.connect {
        Some(c) => c.clone(),
        None => {
            let c = start_ensemble().await?;
            let s = c.connect_string(&[1, 2, 3]);
            cluster = Some(c);
            s
        }
    };
    let secs = args.seconds.as_ref().map(|s| s.0.as_secs().max(1));
    let result = run_benches(&only, &connect, secs.unwrap_or(20), secs.unwrap_or(600)).await;
    if let Some(mut c) = cluster {
        if let Err(e) = c.teardown().await {
            eprintln!("zkchaos bench: teardown failed: {e}");
        }
    }
    result
}

async fn run_benches(only: &[String], connect: &str, secs: u64, memory_secs: u64) -> crate::Result<()> {
    let want = |s: &str| only.iter().any(|o| o == s);
    if want("lag") {
        let plan = LoadPlan { rate: 5000, ..LoadPlan::default() };
        let s = measure(&plan, connect, secs, "lag").await?;
        println!(
            "lag @5000 ops/s: p50 {} µs  p99 {} µs  max {} µs  (ops {}, ok {}, achieved {:.1}/s)",
            s.lag.p50, s.lag.p99, s.lag.max, s.counts.total, s.counts.ok, s.counts.achieved_rate
        );
    }
    if want("cpu") {
        let plan = LoadPlan { rate: 2000, ..LoadPlan::default() };
        let (used, ops) = driving_cpu(&plan, connect, secs).await?;
        println!(
            "cpu @2000 ops/s: {:.1} µs per completed op ({used} µs over {ops} ops; driver, client and recorder while driving)",
            used as f64 / ops.max(1) as f64,
        );
    }
    if want("saturation") {
        let mix = [(OpKind::Get, 100u32)].into_iter().collect();
        let plan = LoadPlan { mode: LoadMode::Closed, in_flight: 64, mix, ..LoadPlan::default() };
        let s = measure(&plan, connect, secs, "saturation").await?;
        println!(
            "saturation closed 64 in flight, 100% get: {:.0} ok ops/s (p50 {} µs, p99 {} µs)",
            s.counts.ok_rate,
            s.latency.values().next().map(|q| q.p50).unwrap_or(0),
            s.latency.values().next().map(|q| q.p99).unwrap_or(0)
        );
    }
    if want("memory") {
        super::bench_memory::memory(connect, memory_secs).await?;
    }
    Ok(())
}
