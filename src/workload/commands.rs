//! `zkchaos load`: drive load alone against any ensemble and write the same files as a run.
//!
//! Files in `<results>/load/<UTC timestamp>-<short id>/`: `plan.json` (the [`LoadPlan`] in
//! force), `meta.json` (connect string, seed, epoch wall-clock time, duration), `events.csv.gz`,
//! `timeline.csv`, `latency-<kind>.hlog`, `marks.json` (`load` Start/End and session marks) and
//! `load-summary.json` ([`LoadSummary`]), which is also printed as a table.

use super::{parse_mix, Schedule, Workload, WorkloadError, WorkloadReport};
use crate::analysis::{self, OpCounts, OutageFigures, Quantiles};
use crate::cli::LoadArgs;
use crate::plan::{LoadMode, LoadPlan};
use crate::record::{recorder, Epoch, MarkKind, OpKind, RecorderConfig};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

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

/// Pretty JSON, written atomically like every results file (see [`crate::report::rundir::write_atomic`]).
fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<(), WorkloadError> {
    let err = |detail: String| WorkloadError::WriteFile { path: path.to_owned(), detail };
    let bytes = serde_json::to_vec_pretty(v).map_err(|e| err(e.to_string()))?;
    crate::report::rundir::write_atomic(path, &bytes).map_err(|e| err(e.to_string()))
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
    write_json(&dir.join("plan.json"), plan)?;
    write_json(
        &dir.join("meta.json"),
        &serde_json::json!({
            "command": "load",
            "connect": connect,
            "seed": seed,
            "epoch_unix_ms": epoch.unix_ms,
            "duration_s": duration.as_secs_f64(),
        }),
    )?;
    let workload = Workload::prepare(plan, connect, seed, epoch).await?;
    let start_us = epoch.now_us() + 20_000;
    let mut cfg = RecorderConfig::from_plan(dir.to_owned(), epoch, plan);
    cfg.timeline_start_us = start_us;
    let rec_cancel = CancellationToken::new();
    let (rec, rec_task) = recorder::spawn(cfg, rec_cancel.clone())?;
    let schedule = Schedule::from_plan(plan, start_us, Some(duration));
    rec.mark_now(MarkKind::Start, "load", None);
    let report = workload.run_schedule(schedule, rec.clone(), cancel).await?;
    rec.mark_now(MarkKind::End, "load", None);
    let stats = rec.finish().await?;
    let _ = rec_task.await;
    let window = (start_us, report.stop_us.max(start_us));
    let (counts, latency, lag, outages) = if plan.events {
        let events = crate::record::read_events(&dir.join("events.csv.gz"))?;
        (
            analysis::counts(&events),
            analysis::quantiles_by_kind(&events, None),
            analysis::lag_quantiles(&events, None),
            analysis::outages(&events, window, analysis::default_threshold_ms(&events, window)),
        )
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

/// Build the plan `zkchaos load` uses from its arguments.
pub fn plan_from_args(args: &LoadArgs) -> Result<LoadPlan, WorkloadError> {
    let mut plan = LoadPlan::default();
    if let Some(m) = &args.mix {
        plan.mix = parse_mix(m)?;
    }
    plan.rate = args.rate;
    if let Some(n) = args.closed {
        plan.mode = LoadMode::Closed;
        plan.in_flight = n;
    }
    plan.sessions = args.sessions;
    plan.keys = args.keys;
    plan.value_size = args.value_size;
    plan.op_timeout_ms = Duration::from(args.op_timeout).as_millis() as u32;
    plan.session_timeout_ms = Duration::from(args.session_timeout).as_millis() as u32;
    if plan.mode == LoadMode::Open && plan.rate == 0 {
        return Err(WorkloadError::BadSetting { field: "rate", value: "0".into(), detail: "must be positive".into() });
    }
    Ok(plan)
}

pub async fn load(args: LoadArgs) -> crate::Result<()> {
    let plan = plan_from_args(&args)?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let run_dir = crate::report::rundir::RunDir::create(&args.results, "load")?;
    let dir = run_dir.path().to_owned();
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    let signal = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
        }
    });
    let summary = run_load(&plan, &args.connect, seed, args.duration.into(), &dir, cancel.clone()).await;
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
        return Err(crate::Error::Interrupted(format!("load interrupted; partial results in {}", dir.display())));
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
