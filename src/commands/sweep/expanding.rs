//! `expanding` points: each step starts its own dynamic-config ensemble of `size` servers, drives
//! the step's load, and after the step's warm-up reconfigures it to `size + 2`; the measured
//! window is the reconfig through convergence (at least `measure_s`). The ensemble is removed on
//! every path.

use super::{create_cluster, Sweep};
use crate::capacity::step::{figures, StepFigures};
use crate::capacity::sweep::Point;
use crate::cluster::Cluster;
use crate::plan::{LoadPlan, Plan, ProcedurePlan, ReconfigAuth, ReconfigStep};
use crate::procedure::{self, ProcedureCtx};
use crate::record::process::Usage;
use crate::record::{read_events, Epoch};
use crate::runner::ensemble::teardown;
use crate::runner::recorded::{RecordTo, RecordedLoad};
use crate::workload::Schedule;
use crate::{Error, Result};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A fresh dynamic ensemble of `size`, load started, and after the warm-up a reconfig to
/// `size + 2`; the window is the reconfig through convergence (at least `measure` s).
pub(super) async fn hold_expanding(
    sw: &mut Sweep,
    p: &Point,
    plan: &LoadPlan,
    dir: &Path,
    warmup: f64,
    measure: f64,
) -> Result<StepFigures> {
    let mut cluster = create_cluster(sw, &p.image, p.size, true).await?;
    let cancel = sw.cancel.clone();
    let r = tokio::select! {
        r = expanding_step(&mut cluster, sw, p, plan, dir, warmup, measure) => r,
        _ = cancel.cancelled() => Err(Error::interrupted("interrupted by a signal")),
    };
    teardown(&mut cluster).await;
    r
}

async fn expanding_step(
    cluster: &mut Cluster,
    sw: &Sweep,
    p: &Point,
    plan: &LoadPlan,
    dir: &Path,
    warmup: f64,
    measure: f64,
) -> Result<StepFigures> {
    let epoch = Epoch::now();
    let load_cancel = CancellationToken::new();
    let connect = cluster.connect_string(&cluster.server_ids());
    let recorded =
        RecordedLoad::start(plan, &connect, sw.file.seed, epoch, RecordTo::new(dir.to_path_buf(), CancellationToken::new()))
            .await?;
    let (workload, rec, finisher) = recorded.into_parts();
    let start = epoch.now_us() + 10_000;
    let schedule = Schedule::from_plan(plan, start, None);
    let (cpu0, t0) = (Usage::now().cpu_us(), Instant::now());
    let load = tokio::spawn(workload.run_schedule(schedule, rec.clone(), load_cancel.clone()));
    tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
    let w0 = epoch.now_us();
    let full = Plan {
        name: format!("sweep-{}", sw.file.name),
        description: String::new(),
        seed: Some(sw.file.seed),
        cluster: cluster.spec().plan.clone(),
        load: plan.clone(),
        phases: Default::default(),
        procedure: ProcedurePlan::ReconfigExpand {
            to: p.size + 2,
            step: ReconfigStep::Together,
            auth: ReconfigAuth::SkipAcl,
            max_attempts: 5,
        },
        monitor: Default::default(),
    };
    let (servers_tx, _) = tokio::sync::watch::channel(cluster.client_addrs());
    let proc_result = async {
        let mut ctx = ProcedureCtx {
            cluster: &mut *cluster,
            plan: &full,
            marks: &rec,
            epoch,
            super_password: None,
            servers: &servers_tx,
        };
        let outcome = procedure::run_procedure(&mut ctx).await?;
        procedure::wait_converged(&*cluster, &outcome.target_ids, &outcome.left_down, epoch, Duration::from_secs(60), full.phases.converge_rounds)
            .await
            .map_err(|r| Error::failed(format!("expanding {}→{}: not converged: {r}", p.size, p.size + 2)))?;
        Ok::<_, Error>(())
    }
    .await;
    let min_end = w0 + (measure * 1e6) as u64;
    let now = epoch.now_us();
    if now < min_end {
        tokio::time::sleep(Duration::from_micros(min_end - now)).await;
    }
    let w1 = epoch.now_us();
    load_cancel.cancel();
    let load_result = load.await;
    let cores = Usage::now().cpu_us().saturating_sub(cpu0) as f64 / t0.elapsed().as_micros().max(1) as f64;
    finisher.finish().await?;
    proc_result?;
    match load_result {
        Ok(r) => {
            r?;
        }
        Err(e) => return Err(Error::failed(format!("the load driver task failed: {e}"))),
    }
    let events = read_events(&dir.join(crate::record::files::EVENTS_FILE))?;
    Ok(figures(&events, w0, w1, cores))
}
