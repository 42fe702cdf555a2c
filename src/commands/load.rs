//! `zkchaos load`: drive load alone against any ensemble and write the same files as a run.
//!
//! Files in `<results>/load/<UTC timestamp>-<short id>/`: `plan.json` (a real [`Plan`]: the
//! [`LoadPlan`] in force, procedure `none` for the load's duration, cluster size from the connect
//! string), `meta.json` ([`RunMeta`]), `events.csv.gz`, `timeline.csv`, `latency-<kind>.hlog`,
//! `marks.json` (`load` Start/End and session marks), `summary.json` and `charts/` (the same
//! report as a run, so `zkchaos analyze` and `zkchaos compare` accept load runs), and
//! `load-summary.json` ([`LoadSummary`]), which is also printed as a table.

use super::args::DurationArg;
use crate::runner::recorded::{RecordTo, RecordedLoad};
use crate::analysis::{self, OpCounts, OutageFigures, Quantiles};
use crate::plan::{LoadMode, LoadPlan, OpKind, Plan, ProcedurePlan};
use crate::record::{labels, Epoch, MarkKind, RunDir, RunMeta};
use crate::workload::{parse_mix, Schedule, WorkloadError, WorkloadReport};
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args, Clone)]
pub struct LoadArgs {
    /// Comma-separated host:port list, e.g. 127.0.0.1:2181,127.0.0.1:2182.
    #[arg(long)]
    pub connect: String,
    /// Intended operations per second (open loop).
    #[arg(long, default_value_t = 1000)]
    pub rate: u32,
    /// How long to run, e.g. 60s, 2m, or a number of seconds.
    #[arg(long, default_value = "30s")]
    pub duration: DurationArg,
    /// Operation mix as weights (kinds: get, set, create, exists, delete, multi, ephemeral, ephemeral-abandon).
    #[arg(long, default_value = "get=80,set=10,create=10")]
    pub mix: String,
    /// Closed loop with this many requests in flight instead of a fixed rate (the profile's
    /// `load.in_flight`).
    #[arg(long = "in-flight", alias = "closed")]
    pub in_flight: Option<u32>,
    /// ZooKeeper sessions sharing the load (operation i runs on session i mod N).
    #[arg(long, default_value_t = 4)]
    pub sessions: u32,
    /// Pre-populated keys /zkchaos/keys/k<i> read and written by get and set.
    #[arg(long, default_value_t = 100)]
    pub keys: u32,
    /// Bytes per written value.
    #[arg(long, default_value_t = 100)]
    pub value_size: u32,
    /// Per-operation deadline (e.g. 2s); must be shorter than the session timeout.
    #[arg(long, default_value = "2s")]
    pub op_timeout: DurationArg,
    /// Session timeout asked of the servers (e.g. 10s).
    #[arg(long, default_value = "10s")]
    pub session_timeout: DurationArg,
    /// Seed of the operation sequence (recorded in plan.json; random when absent).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Results root directory (files go to <out>/load/<timestamp>-<id>/).
    #[arg(long = "out", visible_alias = "results", value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
}

/// Figures of one load run (from `events.csv.gz`, exact).
#[derive(Debug, Clone, Serialize)]
pub struct LoadSummary {
    pub dir: PathBuf,
    pub seed: u64,
    pub connect: String,
    pub counts: OpCounts,
    pub latency: BTreeMap<OpKind, Quantiles>,
    pub lag: Quantiles,
    pub outages: OutageFigures,
    pub window: (u64, u64),
    pub driver: WorkloadReport,
    pub late_events: u64,
}

/// Pretty JSON, written atomically like every results file (see [`crate::record::write_atomic`]).
fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<(), WorkloadError> {
    let err = |detail: String| WorkloadError::WriteFile { path: path.to_owned(), detail };
    let bytes = serde_json::to_vec_pretty(v).map_err(|e| err(e.to_string()))?;
    crate::record::write_atomic(path, &bytes).map_err(|e| err(e.to_string()))
}

/// The [`Plan`] a load run records: the load in force, no procedure for `duration`, and an
/// external ensemble whose size is the number of hosts in `connect`.
pub fn load_run_plan(load: &LoadPlan, connect: &str, seed: u64, duration: Duration) -> Plan {
    let mut plan = Plan {
        name: "load".into(),
        description: format!("zkchaos load against {connect}"),
        seed: Some(seed),
        cluster: Default::default(),
        load: load.clone(),
        phases: Default::default(),
        procedure: ProcedurePlan::None { duration_s: duration.as_secs_f64() },
        monitor: Default::default(),
    };
    plan.cluster.image = "(external ensemble)".into();
    plan.cluster.size = connect.split(',').filter(|h| !h.trim().is_empty()).count().max(1) as u32;
    plan.phases.warmup_s = 0.0;
    plan.phases.post_s = 0.0;
    plan
}

/// Run `plan` for `duration` against `connect`, recording into `dir` (which must exist).
/// `cancel` stops it early (files are still completed).
pub async fn run_load(
    plan: &LoadPlan,
    connect: &str,
    seed: u64,
    duration: Duration,
    dir: &Path,
    cancel: CancellationToken,
) -> crate::Result<LoadSummary> {
    let epoch = Epoch::now();
    write_json(&dir.join("plan.json"), &load_run_plan(plan, connect, seed, duration))?;
    let run_id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut meta = RunMeta::new(run_id.rsplit('-').next().unwrap_or(&run_id), epoch.unix_ms);
    meta.image = format!("(external ensemble at {connect})");
    write_json(&dir.join("meta.json"), &meta)?;
    let start_us = epoch.now_us() + 20_000;
    let recorded =
        RecordedLoad::start(plan, connect, seed, epoch, RecordTo { timeline_start_us: start_us, ..RecordTo::new(dir.to_owned(), CancellationToken::new()) }).await?;
    let rec = recorded.rec.clone();
    let schedule = Schedule::from_plan(plan, start_us, Some(duration));
    rec.mark_now(MarkKind::Start, labels::LOAD, None);
    // The load's End mark goes in before the recorder finishes, from the driver's own stop time.
    let (report, stats) = {
        let (workload, rec, finisher) = recorded.into_parts();
        let report = workload.run_schedule(schedule, rec.clone(), cancel).await?;
        // When scheduling stopped: the end of the outage window, as in `zkchaos run`.
        rec.mark(crate::record::Mark::new(report.stop_us, MarkKind::Point, labels::LOAD_STOP, None));
        rec.mark_now(MarkKind::End, labels::LOAD, None);
        (report, finisher.finish().await?)
    };
    let window = (start_us, report.stop_us.max(start_us));
    let (counts, latency, lag, outages) = if plan.events {
        streamed_figures(&dir.join("events.csv.gz"), window)?
    } else {
        let c = &stats.counts;
        let counts = OpCounts {
            total: c.events,
            ok: c.ok,
            fail: c.fail,
            indeterminate: c.indeterminate,
            by_class: stats.by_class.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            achieved_rate: 0.0,
            ok_rate: 0.0,
        };
        (counts, stats.latency.clone(), stats.lag, OutageFigures::default())
    };
    let summary = LoadSummary {
        dir: dir.to_owned(),
        seed,
        connect: connect.to_string(),
        counts,
        latency,
        lag,
        outages,
        window,
        driver: report,
        late_events: stats.late_events,
    };
    write_json(&dir.join("load-summary.json"), &summary)?;
    Ok(summary)
}

/// Counts, latency, lag and outages of a load's events in one streaming pass (constant memory:
/// the same accumulators as `zkchaos analyze`, [`crate::analysis::stream`]).
fn streamed_figures(
    path: &Path,
    window: (u64, u64),
) -> crate::Result<(OpCounts, BTreeMap<OpKind, Quantiles>, Quantiles, OutageFigures)> {
    use crate::analysis::stream::{gaps::OutageAcc, reorder, stats};
    let mut all = stats::StatsAcc::new(None);
    let mut lag = stats::LagAcc::default();
    let mut out = OutageAcc::new(Some(window.0), Some(window.1), analysis::outage::MIN_THRESHOLD_MS);
    let mut order = reorder::Reorder::new(reorder::HORIZON_US);
    crate::record::for_each_event(path, |e| {
        all.observe(&e);
        lag.observe(&e);
        order.push(e, &mut |o| out.observe(&o));
    })?;
    order.finish(&mut |o| out.observe(&o));
    let latency = all.ok_hist.iter().map(|(k, h)| (*k, Quantiles::from_histogram(h))).collect();
    let threshold = out.default_threshold_ms(window);
    Ok((all.counts(), latency, lag.quantiles(), out.figures(window, threshold)))
}

/// Build the plan `zkchaos load` uses from its arguments.
pub fn plan_from_args(args: &LoadArgs) -> Result<LoadPlan, WorkloadError> {
    let mut plan = LoadPlan { mix: parse_mix(&args.mix)?, ..LoadPlan::default() };
    plan.rate = args.rate;
    if let Some(n) = args.in_flight {
        plan.mode = LoadMode::Closed;
        plan.in_flight = n;
    }
    plan.sessions = args.sessions;
    plan.keys = args.keys;
    plan.value_size = args.value_size;
    plan.op_timeout_ms = args.op_timeout.0.as_millis() as u32;
    plan.session_timeout_ms = args.session_timeout.0.as_millis() as u32;
    if plan.mode == LoadMode::Open && plan.rate == 0 {
        return Err(WorkloadError::BadSetting { field: "rate", value: "0".into(), detail: "must be positive".into() });
    }
    Ok(plan)
}

pub async fn load(args: LoadArgs) -> crate::Result<()> {
    let plan = plan_from_args(&args)?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let run_dir = RunDir::create(&args.results, "load")?;
    let dir = run_dir.path().to_owned();
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    let signal = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
        }
    });
    let summary = run_load(&plan, &args.connect, seed, args.duration.0, &dir, cancel.clone()).await;
    signal.abort();
    let summary = match summary {
        Ok(s) => s,
        Err(e) => {
            let _ = run_dir.set_status(&format!("aborted: {e}"));
            return Err(e);
        }
    };
    print!("{}", format_summary(&summary));
    if cancel.is_cancelled() {
        let _ = run_dir.set_status("aborted: interrupted");
        return Err(crate::Error::interrupted(format!("load interrupted; partial results in {}", dir.display())));
    }
    // The same report as a run (summary.json, charts), so analyze and compare accept load runs.
    if let Err(e) = crate::report::write_results(&run_dir) {
        let e = crate::Error::from(e);
        let _ = run_dir.set_status(&format!("aborted: writing the results: {e}"));
        return Err(e);
    }
    run_dir.set_status("complete")?;
    Ok(())
}

/// The summary table `zkchaos load` prints.
pub fn format_summary(s: &LoadSummary) -> String {
    use std::fmt::Write as _;
    let c = &s.counts;
    let mut o = String::new();
    let _ = writeln!(o, "results: {}", s.dir.display());
    let _ = writeln!(o, "ops {}  ok {}  fail {}  indeterminate {}", c.total, c.ok, c.fail, c.indeterminate);
    if !c.by_class.is_empty() {
        let classes: Vec<String> = c.by_class.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(o, "errors: {}", classes.join(" "));
    }
    let _ = writeln!(o, "achieved rate {:.1} ops/s (ok {:.1}/s); session expiries {}", c.achieved_rate, c.ok_rate, s.driver.session_expiries);
    let _ = writeln!(o, "{:<8}{:>10}{:>10}{:>10}{:>10}{:>10}", "kind", "ok", "p50 ms", "p99 ms", "p999 ms", "max ms");
    let ms = |us: u64| us as f64 / 1000.0;
    for (k, q) in &s.latency {
        let _ = writeln!(o, "{:<8}{:>10}{:>10.3}{:>10.3}{:>10.3}{:>10.3}", k.as_str(), q.count, ms(q.p50), ms(q.p99), ms(q.p999), ms(q.max));
    }
    let _ = writeln!(o, "schedule lag: p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms", ms(s.lag.p50), ms(s.lag.p99), ms(s.lag.max));
    let out = &s.outages;
    for (name, v, res) in [("any", out.any, None), ("read", out.read, out.resolution_ms.read), ("write", out.write, out.resolution_ms.write)] {
        if let Some(v) = v {
            let res = res.map(|r| format!(" (resolution {r:.2} ms)")).unwrap_or_default();
            let _ = writeln!(
                o,
                "outage {name}: longest {:.1} ms at {:.3} s; {} gaps > {} ms totalling {:.1} ms{res}",
                v.longest_ms,
                v.longest_from_us as f64 / 1e6,
                v.gaps_over_threshold,
                out.threshold_ms,
                v.total_over_threshold_ms
            );
        }
    }
    o
}
