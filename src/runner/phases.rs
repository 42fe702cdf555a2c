//! The phases of a run, in order: initial ensemble → recorder, monitor and load → warm-up →
//! procedure → convergence → post-procedure load → stop load → read back every member (live, or
//! offline for those the procedure left down: [`super::offline_read`]) → `mntr` of every server
//! (the digest check).
//!
//! Each phase is a Start/End mark pair (`phase:warmup`, `phase:procedure`, `phase:post`), and the
//! procedure phase ends at convergence (or its timeout), marked with a `converged` point, so the
//! summary can split latency by phase and compute the convergence time from the marks alone.
//! Background tasks (load, monitor, recorder) are stopped through the run's cancellation token on
//! every path; on the normal path they are stopped here, in order, so their files are complete.

use super::recorded::RecordTo;
use crate::cluster::{self, monitor, Cluster};
use crate::plan::Plan;
use crate::procedure::{self, MarkSink, ProcedureCtx};
use crate::record::{labels, save_mntr, save_readbacks, MNTR_FILE, Epoch, Mark, MarkKind, RecorderHandle, RunDir, WriteFailure};
use crate::workload::{self, readback};
use crate::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Options that are not part of the plan.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub results: PathBuf,
    pub keep: bool,
    /// Live progress on stderr (a status line on a terminal, a line per phase otherwise).
    pub progress: super::progress::ProgressMode,
    /// Set by `zkchaos hunt`: the seeds its runbook came from, written into `meta.json` (key
    /// `hunt`) with the rest of the meta.
    pub hunt: Option<crate::record::HuntSeeds>,
}

/// What the phases need besides the cluster.
pub struct PhaseCtx<'a> {
    pub plan: &'a Plan,
    pub dir: &'a RunDir,
    pub epoch: Epoch,
    pub seed: u64,
    pub super_password: Option<String>,
    /// Cancelled on a signal and after the phases, whatever their outcome.
    pub cancel: CancellationToken,
    /// Tripped by any writer of the run's files that fails (the run then stops).
    pub failure: WriteFailure,
    pub progress: super::progress::ProgressMode,
}

impl MarkSink for RecorderHandle {
    fn mark(&self, mark: Mark) {
        RecorderHandle::mark(self, mark)
    }
}

/// Deadline of one `mntr` or `srvr` at the end of the run (a large `mntr` answer is ~15 kB).
const MNTR_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the initial ensemble may take to serve.
const ENSEMBLE_UP_TIMEOUT: Duration = Duration::from_secs(90);

pub async fn execute(ctx: &PhaseCtx<'_>, cluster: &mut Cluster) -> Result<()> {
    let plan = ctx.plan;
    let initial: Vec<u32> = cluster.start_initial(ENSEMBLE_UP_TIMEOUT).await?.into_iter().map(|(id, _)| id).collect();
    // The monitor learns about each server as it is started (the procedure publishes joiners).
    let (servers_tx, servers_rx) = watch::channel(cluster.client_addrs());

    // Monitor, recorder, load.
    let monitor_cancel = ctx.cancel.child_token();
    let monitor_task = monitor::spawn_monitor(
        servers_rx,
        Duration::from_millis(u64::from(plan.monitor.interval_ms)),
        Duration::from_millis(u64::from(plan.monitor.timeout_ms)),
        ctx.epoch,
        ctx.dir.monitor_csv(),
        monitor_cancel.clone(),
    );
    // The load: in this process or in load agents (issue 29: crate::agents::run).
    let connect = cluster.connect_string(&initial);
    let dir = ctx.dir.path().to_path_buf();
    let to = RecordTo { failure: ctx.failure.clone(), ..RecordTo::new(dir, ctx.cancel.child_token()) };
    let started = crate::agents::run::start(plan, cluster, &connect, ctx.seed, ctx.epoch, to, ctx.cancel.child_token()).await?;
    let crate::agents::run::Started { load, rec, finisher: recorder_finisher, server_list } = started;
    let progress_cancel = ctx.cancel.child_token();
    let progress = super::progress::spawn(rec.clone(), ctx.epoch, ctx.progress, progress_cancel.clone());

    // Warm-up.
    phase(&rec, labels::PHASE_WARMUP, MarkKind::Start);
    sleep_secs(plan.phases.warmup_s).await;
    phase(&rec, labels::PHASE_WARMUP, MarkKind::End);

    // Procedure, then convergence; both inside the procedure phase.
    phase(&rec, labels::PHASE_PROCEDURE, MarkKind::Start);
    let mut pctx = ProcedureCtx {
        cluster,
        plan,
        marks: &rec,
        epoch: ctx.epoch,
        super_password: ctx.super_password.clone(),
        servers: &servers_tx,
    };
    if super::test_hooks::fault("procedure-error") {
        return Err(Error::failed("injected procedure error (ZKCHAOS_TEST_FAULT=procedure-error)"));
    }
    if super::test_hooks::fault("procedure-panic") {
        panic!("injected procedure panic (ZKCHAOS_TEST_FAULT=procedure-panic)");
    }
    // A panic here is caught (with its message) by the run's owner, which cleans up.
    // The procedure's cycles (one unless `procedure.repeat`), each waited to convergence.
    let cycles = procedure::run_cycles(&mut pctx).await?;
    let outcome = cycles.outcome;
    for note in outcome.notes.iter().cloned().chain(outcome.left_down_note()) {
        rec.mark_now(MarkKind::Point, labels::NOTE, Some(note));
    }
    match cycles.converged {
        Ok(at_us) => rec.mark(Mark::new(at_us, MarkKind::Point, labels::CONVERGED, None)),
        Err(reason) => rec.mark_now(
            MarkKind::Point,
            labels::NOT_CONVERGED,
            Some(format!("after {:.0} s: {reason}", plan.phases.converge_timeout_s)),
        ),
    }
    phase(&rec, labels::PHASE_PROCEDURE, MarkKind::End);
    if plan.load.update_server_list_after_expansion && outcome.target_ids != initial {
        // The client library has no in-place updateServerList: each session is replaced by one
        // on the new connect string (the workload marks it).
        let connect = cluster.connect_string(&outcome.target_ids);
        rec.mark_now(MarkKind::Point, labels::UPDATE_SERVER_LIST, Some(connect.clone()));
        server_list.send_replace(connect);
    }

    // Post-procedure load.
    phase(&rec, labels::PHASE_POST, MarkKind::Start);
    sleep_secs(plan.phases.post_s).await;
    phase(&rec, labels::PHASE_POST, MarkKind::End);

    // Stop the load (in-flight operations end within their timeout), then the recorder. The
    // mark is the end of the window outages are measured in.
    rec.mark_now(MarkKind::Point, labels::LOAD_STOP, None);
    progress_cancel.cancel();
    let _ = progress.await;
    load.stop(ctx.dir, &rec).await?;
    recorder_finisher.finish().await?;

    // Read every server back individually for the acknowledged-write audit.
    if super::test_hooks::fault("checker-panic") {
        panic!("injected checker panic (ZKCHAOS_TEST_FAULT=checker-panic)");
    }
    read_back(ctx, cluster, &outcome).await?;

    // The monitor ran throughout; stop it last so it saw the read-back too.
    monitor_cancel.cancel();
    if let Err(e) = monitor_task.await {
        return Err(Error::failed(format!("the server monitor task failed: {e}")));
    }
    Ok(())
}

/// Read every member back for the audit (`readback.json.gz`), then `mntr` of the same servers
/// for the digest check (`mntr.json`).
async fn read_back(ctx: &PhaseCtx<'_>, cluster: &mut Cluster, outcome: &procedure::ProcedureOutcome) -> Result<()> {
    // Members meant to be running are read live; members left down (and any that could not be
    // read live) offline, from a copy of their data volume. Servers the procedure took out of
    // the ensemble (a shrink) are not read back.
    let running = outcome.running_ids();
    let servers: Vec<_> = cluster.client_addrs().into_iter().filter(|(id, _)| running.contains(id)).collect();
    let opts = readback::ReadbackOptions::default();
    super::test_hooks::hold("readback").await;
    let live = readback::read_all(&servers, &opts, &|b: &[u8]| workload::token_of(b).map(str::to_owned)).await;
    let readbacks = super::offline_read::complete(cluster, outcome, live, &opts).await;
    ctx.dir.guard(save_readbacks(&ctx.dir.file(crate::record::files::READBACK_FILE), &readbacks))?;

    // ZooKeeper's own digest check: `mntr` of the same servers, after the read-back (so it
    // covers every transaction of the run), while the ensemble still runs.
    let mut scrapes = Vec::with_capacity(servers.len());
    for &(id, addr) in &servers {
        scrapes.push(cluster::fourlw::scrape_mntr(id, addr, MNTR_TIMEOUT, ctx.epoch).await);
    }
    ctx.dir.guard(save_mntr(&ctx.dir.file(MNTR_FILE), &scrapes))?;
    Ok(())
}

fn phase(rec: &RecorderHandle, label: &str, kind: MarkKind) {
    rec.mark_now(kind, label, None);
}

async fn sleep_secs(s: f64) {
    tokio::time::sleep(Duration::from_secs_f64(s.max(0.0))).await;
}
