//! `zkchaos sweep <sweep.toml>`: capacity planning. For every point of the sweep file (size ×
//! read ratio × state × …): closed-loop steps (the saturation reference and the USL fit), then
//! many short open-loop steps at spread rates in a shuffled, seeded order, fitted by
//! [`crate::capacity::curve`]; `results/sweeps/<name>/<timestamp>/` is written after every point.
//!
//! Equal servers: every ensemble is created with the sweep's CPU budget (`ClusterPlan::cpus` /
//! `cpuset`, on the ZooKeeper containers), and the load driver is pinned to its own CPU
//! (`cpu.driver_cpu`); its process CPU is measured per step and recorded.
//!
//! Ensembles: each repetition starts a fresh ensemble per (image, size) for its steady and
//! degraded points ([`shared`]: state order, follower stopped and started again, discarded
//! warm-up and settle time, all recorded). An `expanding` point needs an expansion *during every
//! step*: each of its steps starts its own dynamic-config ensemble ([`expanding`]). Every
//! ensemble is removed on every path, Ctrl-C included.
//!
//! A step is one [`RecordedLoad`] on a scratch directory: the events are read back, reduced to
//! [`StepFigures`] over the window after the warm-up, and the directory is removed.

mod expanding;
mod shared;

use crate::runner::ensemble::{self, Up};
use crate::runner::recorded::{RecordTo, RecordedLoad};
use crate::capacity::curve::{self, EstimateConfig};
use crate::capacity::results::{median, DriverShare, Machine, PointResult, RepResult, StepRow, SweepSummary, WarmupRecord, SCHEMA_VERSION};
use crate::capacity::schedule::{self, time_plan, StepCost, TimePlan};
use crate::capacity::step::{figures, judge, StepFigures, Verdict};
use crate::capacity::sweep::{Point, State, SweepFile};
use crate::capacity::{physics, usl};
use crate::cluster::{self, Cluster, ClusterSpec};
use crate::plan::{ClusterPlan, LoadMode, LoadPlan, OpKind};
use crate::record::process::Usage;
use crate::record::{read_events, Epoch, HostInfo, RunMeta};
use crate::workload::Schedule;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[derive(Debug, clap::Args, Clone)]
pub struct SweepArgs {
    /// Sweep file (TOML): axes, objective, steps, CPU budget. Bundled: profiles/capacity-quick.toml, capacity-full.toml.
    pub sweep: PathBuf,
    /// Results root (the sweep goes to <results>/sweeps/<name>/<timestamp>/); overrides the file's.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// Check the sweep file, print the points, the planned steps and the estimated wall time;
    /// run nothing.
    #[arg(long)]
    pub dry_run: bool,
}

const ENSEMBLE_UP: Duration = Duration::from_secs(90);

/// What every step needs.
struct Sweep {
    file: SweepFile,
    dir: PathBuf,
    steps: Vec<StepRow>,
    results: Vec<PointResult>,
    warmups: Vec<WarmupRecord>,
    summary: SweepSummary,
    started: Instant,
    scratch: u64,
    cancel: CancellationToken,
}

pub async fn sweep(args: SweepArgs) -> Result<()> {
    let (file, text) = SweepFile::load(&args.sweep)?;
    let points = file.points();
    let planned = time_plan(&file, &StepCost::MEASURED);
    if args.dry_run {
        for p in &points {
            println!("{} ({}, {} B values, {} sessions)", p.label(), p.image, p.value_size, p.sessions);
        }
        for s in file.skipped() {
            println!("skipped: {s}");
        }
        println!("{}", plan_text(&file, &planned));
        return Ok(());
    }
    let docker = cluster::connect_docker().await?;
    let mut versions = Vec::new();
    for image in &file.axes.image {
        cluster::image::ensure_image(&docker, image, crate::plan::ImageKindChoice::Auto).await?;
        let v = docker
            .inspect_image(image)
            .await
            .ok()
            .and_then(|i| i.config)
            .and_then(|c| c.labels)
            .and_then(|l| l.get("zkchaos.zookeeper-version").cloned());
        versions.push((image.clone(), v));
    }
    cluster::memory_preflight(file.largest_ensemble(), file.heap_mb)?;
    // The host as it is before the driver is pinned (pinned, it would see one core).
    let host = HostInfo::detect();
    let driver = split_cpus(&file)?;
    let root = args.results.clone().unwrap_or_else(|| PathBuf::from(&file.results));
    let dir = create_sweep_dir(&root, &file.name)?;
    crate::record::write_atomic(&dir.join("sweep.toml"), text.as_bytes())?;
    eprintln!(
        "zkchaos: sweep {} ({} points × {} repetitions) → {}",
        file.name,
        points.len(),
        file.repeat,
        dir.display()
    );
    eprintln!("zkchaos: {}", plan_text(&file, &planned).replace('\n', "\nzkchaos: "));

    let machine = Machine {
        hostname: host.hostname.clone(),
        cores: host.cores,
        memory_bytes: host.memory_bytes,
        os: host.os.clone(),
        arch: host.arch.clone(),
        load_average_start: host.load_average,
        load_average_end: None,
        docker_version: docker.version().await.ok().and_then(|v| v.version),
        zkchaos_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: RunMeta::new("sweep", 0).git_commit,
        zookeeper_versions: versions,
    };
    let summary = SweepSummary {
        schema_version: SCHEMA_VERSION,
        name: file.name.clone(),
        description: file.description.clone(),
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        wall_s: 0.0,
        complete: false,
        error: None,
        objective: file.objective.clone(),
        cpu_budget: file.cpu.clone(),
        driver,
        machine,
        sweep: file.clone(),
        skipped: file.skipped(),
        planned: Some(planned),
        warmups: Vec::new(),
        capacity: Vec::new(),
        physics: Vec::new(),
        points: Vec::new(),
    };
    let cancel = CancellationToken::new();
    let watcher = watch_signals(cancel.clone());
    let mut sw = Sweep {
        file,
        dir,
        steps: Vec::new(),
        results: Vec::new(),
        warmups: Vec::new(),
        summary,
        started: Instant::now(),
        scratch: 0,
        cancel,
    };
    let result = run_all(&mut sw, &points).await;
    watcher.abort();
    sw.summary.complete = result.is_ok();
    sw.summary.error = result.as_ref().err().map(|e| e.chain_message());
    save(&mut sw)?;
    println!(
        "{}",
        std::fs::read_to_string(sw.dir.join("report.md"))
            .unwrap_or_default()
            .lines()
            .take_while(|l| !l.starts_with("## Curves"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!("results: {}", sw.dir.display());
    result
}

fn watch_signals(cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => return,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("zkchaos: interrupted: stopping the sweep, removing its ensemble and writing what was measured");
        cancel.cancel();
    })
}

/// `<root>/sweeps/<name>/<UTC timestamp>/`, with a suffix if that exists already.
fn create_sweep_dir(root: &Path, name: &str) -> Result<PathBuf> {
    Ok(crate::record::rundir::create_timestamped_dir(&root.join("sweeps").join(name))?)
}

/// Check the budget fits this host and pin the driver: the driver's share as recorded.
fn split_cpus(file: &SweepFile) -> Result<DriverShare> {
    let cpu = &file.cpu;
    let host = super::bench::allowed_cpus();
    let need = cpu.server_cpus * f64::from(file.largest_ensemble());
    if cpu.server_cpuset.is_none() && need > host.len() as f64 {
        return Err(Error::bad_input(format!(
            "sweep file: cpu.server_cpus = {} × {} servers = {need:.2} CPUs exceeds this host's {} CPU(s): lower cpu.server_cpus",
            cpu.server_cpus,
            file.largest_ensemble(),
            host.len()
        )));
    }
    let mut share = DriverShare { limit_cores: file.driver.max_cpu_cores, ..DriverShare::default() };
    share.note = match cpu.driver_cpu {
        None => "not pinned: it competes with the servers for the host's CPUs".into(),
        Some(c) if !host.contains(&c) => {
            return Err(Error::bad_input(format!(
                "sweep file: cpu.driver_cpu = {c} is not a CPU this process may use ({host:?}): pick one of them or remove the key"
            )))
        }
        Some(c) => {
            super::bench::pin_process(c)
                .map_err(|e| Error::environment(format!("cannot pin the load driver to CPU {c} (sched_setaffinity): {e}")))?;
            share.pinned_cpu = Some(c);
            format!("every thread of zkchaos pinned to host CPU {c} (not fenced from other processes of the host)")
        }
    };
    Ok(share)
}

fn save(sw: &mut Sweep) -> Result<()> {
    sw.summary.wall_s = sw.started.elapsed().as_secs_f64();
    sw.summary.machine.load_average_end = HostInfo::detect().load_average;
    sw.summary.points = sw.results.clone();
    sw.summary.warmups = sw.warmups.clone();
    sw.summary.capacity = sw.results.iter().map(PointResult::capacity).collect();
    sw.summary.physics = physics::checks(&sw.summary.capacity, sw.file.cpu.quota().is_some());
    let cpu: Vec<f64> = sw.steps.iter().map(|s| s.step.driver_cpu_cores).collect();
    sw.summary.driver.steps = cpu.len() as u32;
    sw.summary.driver.cpu_cores_median = median(&cpu);
    sw.summary.driver.cpu_cores_max = cpu.iter().copied().reduce(f64::max);
    crate::capacity::write_all(&sw.dir, &sw.summary, &sw.steps)
}

fn result_slot<'a>(results: &'a mut Vec<PointResult>, point: &Point) -> &'a mut PointResult {
    if let Some(i) = results.iter().position(|r| r.point == *point) {
        return &mut results[i];
    }
    results.push(PointResult { point: point.clone(), reps: Vec::new(), estimate: None, achieved_ops: None, usl: None });
    results.last_mut().expect("just pushed")
}

async fn run_all(sw: &mut Sweep, points: &[Point]) -> Result<()> {
    for rep in 0..sw.file.repeat {
        let mut groups: Vec<(String, u32)> = points.iter().map(|p| (p.image.clone(), p.size)).collect();
        groups.dedup();
        let mut both_index = 0;
        for (image, size) in groups {
            let group: Vec<&Point> = points.iter().filter(|p| p.image == image && p.size == size).collect();
            let shared: Vec<&Point> = group.iter().copied().filter(|p| p.state != State::Expanding).collect();
            if !shared.is_empty() {
                let both = [State::Steady, State::Degraded].iter().all(|s| shared.iter().any(|p| p.state == *s));
                let turn = schedule::turn(rep, both_index);
                both_index += u32::from(both);
                let mut cluster = create_cluster(sw, &image, size, false).await?;
                let cancel = sw.cancel.clone();
                let r = tokio::select! {
                    r = shared::run_shared(sw, &mut cluster, &shared, rep, turn) => r,
                    _ = cancel.cancelled() => Err(Error::interrupted("interrupted by a signal")),
                };
                teardown(&mut cluster).await;
                r?;
            }
            for p in group.iter().filter(|p| p.state == State::Expanding) {
                point_or_error(sw, None, p, rep).await?;
                save(sw)?;
            }
        }
    }
    Ok(())
}

async fn create_cluster(sw: &Sweep, image: &str, size: u32, dynamic: bool) -> Result<Cluster> {
    let plan = ClusterPlan {
        image: image.to_string(),
        size,
        dynamic_config: dynamic,
        heap_mb: sw.file.heap_mb,
        cpus: sw.file.cpu.quota(),
        cpuset: sw.file.cpu.server_cpuset.clone(),
        ..ClusterPlan::default()
    };
    let spec = ClusterSpec { skip_acl: dynamic, ..ensemble::spec(format!("sweep-{}", sw.file.name), plan) };
    let up = Up { cancel: Some(sw.cancel.clone()), ..Up::within(ENSEMBLE_UP) };
    Ok(ensemble::start(spec, &up).await?.cluster)
}

use crate::runner::ensemble::teardown;

fn mix(read_pct: u32) -> std::collections::BTreeMap<OpKind, u32> {
    [(OpKind::Get, read_pct), (OpKind::Set, 100 - read_pct)].into_iter().filter(|(_, w)| *w > 0).collect()
}

fn load_plan(sw: &Sweep, p: &Point, mode: LoadMode, rate: u32, in_flight: u32) -> LoadPlan {
    LoadPlan {
        mode,
        rate,
        in_flight,
        sessions: p.sessions,
        keys: sw.file.keys,
        value_size: p.value_size,
        mix: mix(p.read_pct),
        events: true,
        ..LoadPlan::default()
    }
}

/// [`run_point`], but a harness error (not an interruption) becomes that repetition's result
/// (its steps so far still count, the error is its note) and the sweep goes on.
async fn point_or_error(sw: &mut Sweep, connect: Option<&str>, p: &Point, rep: u32) -> Result<()> {
    match run_point(sw, connect, p, rep).await {
        Err(e) if !matches!(e, Error::Interrupted(_)) => {
            let msg = e.chain_message();
            eprintln!("zkchaos: [{}] rep {rep}: {msg}", p.label());
            let seed = order_seed(sw.file.seed, p, rep);
            result_slot(&mut sw.results, p).reps.push(RepResult {
                rep,
                saturation_ops: None,
                order_seed: seed,
                order: Vec::new(),
                error: Some(format!("harness error: {msg}")),
                load_average: HostInfo::detect().load_average,
            });
            refit(sw, p);
            Ok(())
        }
        r => r,
    }
}

/// The seed of a point's shuffled order in one repetition: the sweep's seed mixed with the
/// point and the repetition (FNV-1a), so every point gets its own recorded order.
fn order_seed(seed: u64, p: &Point, rep: u32) -> u64 {
    let text = format!("{}|{}|{}|{}|{}|{}|{rep}", p.image, p.size, p.state, p.read_pct, p.value_size, p.sessions);
    text.bytes().fold(seed ^ 0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// One repetition of one point: closed-loop levels, then the shuffled curve (and one further
/// round past a bound), then the point is refitted with every repetition's steps.
async fn run_point(sw: &mut Sweep, connect: Option<&str>, p: &Point, rep: u32) -> Result<()> {
    let load_average = HostInfo::detect().load_average;
    let mut n = 0u32;
    let levels: Vec<u32> = if p.state == State::Steady {
        sw.file.closed_loop.in_flight.clone()
    } else {
        sw.file.closed_loop.in_flight.iter().max().copied().into_iter().collect()
    };
    let mut saturation = None;
    for &level in &levels {
        let plan = load_plan(sw, p, LoadMode::Closed, 0, level);
        let (w, m) = (sw.file.closed_loop.warmup_s, sw.file.closed_loop.measure_s);
        let at_s = sw.started.elapsed().as_secs_f64();
        let f = hold(sw, connect, p, &plan, w, m).await?;
        let v = judge(&f, None, &sw.file.objective, &sw.file.driver);
        report_step(p, rep, n, "closed", &format!("{level} in flight"), &f, v);
        let mut row = StepRow::new(p, rep, n, "closed", (None, Some(level)), &f, v);
        row.step.at_s = at_s;
        sw.steps.push(row);
        saturation = Some(f.ok_rate);
        n += 1;
    }
    let st = sw.file.steps.clone();
    let (min, max) = (f64::from(st.min_rate), f64::from(st.max_rate));
    let (lo, hi) = if st.low_rate > 0 {
        (f64::from(st.low_rate), f64::from(st.high_rate))
    } else {
        let sat = saturation.unwrap_or(1000.0).max(min);
        (sat * st.low, sat * st.high)
    };
    let seed = order_seed(sw.file.seed, p, rep);
    let mut order = curve::shuffled(&curve::spread(lo.clamp(min, max), hi.clamp(min, max), st.count), seed);
    hold_rates(sw, connect, p, rep, &order, "curve", &mut n).await?;
    if st.extend > 0 {
        let answer = refit(sw, p);
        if let Some((a, b)) = curve::extension(&answer, 3.0, min, max) {
            let more = curve::shuffled(&curve::spread(a, b, st.extend), seed.wrapping_add(1));
            eprintln!("zkchaos: [{}] rep {rep}: {answer:?}: one more round at {a:.0}–{b:.0} ops/s", p.label());
            hold_rates(sw, connect, p, rep, &more, "extension", &mut n).await?;
            order.extend(more);
        }
    }
    result_slot(&mut sw.results, p).reps.push(RepResult {
        rep,
        saturation_ops: saturation,
        order_seed: seed,
        order,
        error: None,
        load_average,
    });
    let answer = refit(sw, p);
    eprintln!("zkchaos: [{}] rep {rep}: {answer:?}", p.label());
    Ok(())
}

/// Hold each rate of `rates` in that order, judging and recording every step.
async fn hold_rates(sw: &mut Sweep, connect: Option<&str>, p: &Point, rep: u32, rates: &[u32], purpose: &str, n: &mut u32) -> Result<()> {
    for &rate in rates {
        let plan = load_plan(sw, p, LoadMode::Open, rate, 0);
        let at_s = sw.started.elapsed().as_secs_f64();
        let f = hold(sw, connect, p, &plan, sw.file.steps.warmup_s, sw.file.steps.measure_s).await?;
        let v = judge(&f, Some(f64::from(rate)), &sw.file.objective, &sw.file.driver);
        report_step(p, rep, *n, purpose, &format!("{rate} ops/s"), &f, v);
        let mut row = StepRow::new(p, rep, *n, purpose, (Some(rate), None), &f, v);
        row.step.at_s = at_s;
        sw.steps.push(row);
        *n += 1;
    }
    Ok(())
}

/// Refit a point from every repetition's steps so far: the curve, the achieved rate at the
/// answer, and (steady points) the USL over the closed-loop levels the driver did not limit.
fn refit(sw: &mut Sweep, p: &Point) -> curve::Answer {
    let mine: Vec<&StepRow> = sw.steps.iter().filter(|s| s.point == *p).collect();
    let open: Vec<(f64, Verdict)> =
        mine.iter().filter_map(|s| s.step.offered_ops.map(|r| (f64::from(r), s.step.verdict))).collect();
    let st = &sw.file.steps;
    let cfg = EstimateConfig { level: st.level, bootstrap: st.bootstrap, ci_level: st.ci_level, seed: order_seed(sw.file.seed, p, u32::MAX) };
    let estimate = curve::estimate(&open, &cfg);
    let answer = estimate.answer;
    let achieved = answer.value().and_then(|v| {
        mine.iter()
            .filter(|s| s.step.verdict == Verdict::Pass && s.step.offered_ops.is_some_and(|r| f64::from(r) <= v + 0.5))
            .max_by_key(|s| s.step.offered_ops)
            .map(|s| s.step.achieved_ops)
    });
    let closed: Vec<(f64, f64)> = mine
        .iter()
        .filter(|s| s.step.verdict != Verdict::DriverLimited)
        .filter_map(|s| s.step.in_flight.map(|n| (f64::from(n), s.step.achieved_ops)))
        .collect();
    let usl = if p.state == State::Steady { usl::fit(&closed) } else { None };
    let slot = result_slot(&mut sw.results, p);
    slot.estimate = Some(estimate);
    slot.achieved_ops = achieved;
    slot.usl = usl;
    answer
}

fn report_step(p: &Point, rep: u32, n: u32, purpose: &str, what: &str, f: &StepFigures, v: Verdict) {
    eprintln!(
        "zkchaos: [{}] rep {rep} step {n} {purpose} {what}: ok {:.0}/s, p99 {:.1} ms, errors {:.2} %, lag p99 {:.1} ms, cpu {:.2} → {}",
        p.label(),
        f.ok_rate,
        f.all.p99_us as f64 / 1000.0,
        f.error_rate * 100.0,
        f.lag_p99_us as f64 / 1000.0,
        f.driver_cpu_cores,
        v.as_str()
    );
}

/// Hold one step and compute its figures. With `connect = None` (an `expanding` point) the step
/// brings its own ensemble and expands it during the window.
async fn hold(
    sw: &mut Sweep,
    connect: Option<&str>,
    p: &Point,
    plan: &LoadPlan,
    warmup: f64,
    measure: f64,
) -> Result<StepFigures> {
    let dir = scratch_dir(sw)?;
    let r = match connect {
        Some(connect) => {
            let window = [(warmup, warmup + measure)];
            tokio::select! {
                r = hold_windows(connect, plan, sw.file.seed, &dir, &window) => r.map(|mut f| f.remove(0)),
                _ = sw.cancel.cancelled() => Err(Error::interrupted("interrupted by a signal")),
            }
        }
        None => expanding::hold_expanding(sw, p, plan, &dir, warmup, measure).await,
    };
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// Hold `plan` on `connect` for the last window's end and compute the figures of each window
/// (`[from, to)` in s from the load's start): a warm-up recorded slice by slice.
async fn hold_slices(sw: &mut Sweep, connect: &str, plan: &LoadPlan, windows: &[(f64, f64)]) -> Result<Vec<StepFigures>> {
    let dir = scratch_dir(sw)?;
    let r = tokio::select! {
        r = hold_windows(connect, plan, sw.file.seed, &dir, windows) => r,
        _ = sw.cancel.cancelled() => Err(Error::interrupted("interrupted by a signal")),
    };
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// A fresh scratch directory for one load's events.
fn scratch_dir(sw: &mut Sweep) -> Result<PathBuf> {
    sw.scratch += 1;
    let dir = std::env::temp_dir().join(format!("zkchaos-sweep-{}-{}", std::process::id(), sw.scratch));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::environment(format!("cannot create scratch directory {}: {e}", dir.display())))?;
    Ok(dir)
}

/// One load on `connect` until the last window's end; the figures of every window (the driver's
/// CPU is over the whole load).
async fn hold_windows(connect: &str, plan: &LoadPlan, seed: u64, dir: &Path, windows: &[(f64, f64)]) -> Result<Vec<StepFigures>> {
    let epoch = Epoch::now();
    let cancel = CancellationToken::new();
    let recorded = RecordedLoad::start(plan, connect, seed, epoch, RecordTo::new(dir.to_path_buf(), cancel.clone())).await?;
    let start = epoch.now_us() + 10_000;
    let total = windows.iter().map(|w| w.1).fold(0.0, f64::max);
    let schedule = Schedule::from_plan(plan, start, Some(Duration::from_secs_f64(total)));
    let (cpu0, t0) = (Usage::now().cpu_us(), Instant::now());
    recorded.drive(schedule, cancel).await?;
    let cores = Usage::now().cpu_us().saturating_sub(cpu0) as f64 / t0.elapsed().as_micros().max(1) as f64;
    let events = read_events(&dir.join(crate::record::files::EVENTS_FILE))?;
    let us = |s: f64| start + (s * 1e6) as u64;
    Ok(windows.iter().map(|&(a, b)| figures(&events, us(a), us(b), cores)).collect())
}

/// The planned steps and the estimated wall time, in words (two lines).
fn plan_text(file: &SweepFile, p: &TimePlan) -> String {
    let order: Vec<String> = p
        .orders
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.is_empty())
        .map(|(rep, o)| format!("rep {rep}: {}", o.join(", ")))
        .collect();
    let order = if order.is_empty() { "no size measures both steady and degraded".to_string() } else { order.join("; ") };
    format!(
        "plan: {} shared ensembles (order {}: {}), {} state changes, {} warm-ups ({:.0} s of discarded load and settle time, up to {:.0} s more until they level off), \
         {} closed-loop + {}–{} open-loop steps\n\
         estimated wall time: {} – {} (with every extension round), from per-step costs measured on a 2-core host \
         (docs/capacity.md \"Time\")",
        p.ensembles,
        file.ensemble.order.as_str(),
        order,
        p.state_changes,
        p.warmups,
        p.warmup_s,
        p.warmup_extend_max_s,
        p.closed_steps,
        p.open_steps,
        p.open_steps_max,
        human(p.seconds),
        human(p.seconds_max)
    )
}

/// `9 min`, `2 h 05 min`.
fn human(s: f64) -> String {
    let m = (s / 60.0).round() as u64;
    if m < 60 {
        format!("{m} min")
    } else {
        format!("{} h {:02} min", m / 60, m % 60)
    }
}
