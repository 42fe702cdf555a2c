//! The nemesis: expansion procedures and faults run mid-load.
//!
//! A procedure drives the [`Cluster`] from its initial membership to a target membership (or
//! injects a fault and heals it) while the workload keeps running. Every step it takes is put on
//! the run's timeline as [`Mark`]s (start/end pairs, or points), so charts can shade the interval
//! and every figure in the summary can be related to what the procedure was doing at that moment.
//!
//! Procedures:
//! - [`restart`]: `restart-expand` (standalone → N by rewriting zoo.cfg and restarting, in the
//!   `new-first` or `old-first` order) and `rolling-expand` (N → M, new servers first, then each old
//!   server rewritten and restarted one at a time);
//! - [`reconfig`]: `reconfig-expand` (N → M by dynamic reconfiguration, joiners started with the
//!   committed config plus themselves, then `reconfig -add`, with retries);
//! - `none` (steady load, the baseline) and `pause` (the calibration fault).
//!
//! Every one of them is a runbook: a list of [`crate::plan::Step`]s ([`runbooks`] expands the
//! built-in kinds; a profile can write its own as `[[procedure.steps]]`), run by the one
//! interpreter in [`steps`], which also injects faults (kill, pause, partition, netem delay).
//!
//! Convergence (every target server serving, one leader, each server's own membership view equal
//! to the target set) is waited for by [`wait_converged`] after the procedure's last step.
//!
//! Procedures are generic over [`Backend`]: a run drives Docker's `Cluster`; the unit tests in
//! [`tests`] drive the in-memory `FakeBackend` to check step order and marks without Docker.

pub mod reconfig;
pub mod restart;
pub mod runbooks;
pub mod steps;
#[cfg(test)]
mod tests;

use crate::check::converge::{check_converged_except, ServerObservation};
use crate::cluster::{Backend, ClusterError, ZooCfg};
use crate::plan::Plan;
use crate::record::{Epoch, Mark, MarkKind, ServerMode};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::time::Instant;
use tokio::sync::watch;

/// Where a procedure puts its timeline marks (the recorder, in a run).
pub trait MarkSink: Send + Sync {
    fn mark(&self, mark: Mark);
}

/// What a procedure may use. `B` is the cluster backend (Docker in a run, the in-memory fake in
/// unit tests).
pub struct ProcedureCtx<'a, B: Backend> {
    pub cluster: &'a mut B,
    pub plan: &'a Plan,
    pub marks: &'a dyn MarkSink,
    pub epoch: Epoch,
    /// Password of the `super` user for reconfig (digest auth), if the servers were given one.
    pub super_password: Option<String>,
    /// Published to the server-mode monitor whenever a server is started.
    pub servers: &'a watch::Sender<Vec<(u32, SocketAddr)>>,
}

/// What [`ProcedureCtx::server_step`] does to a server.
#[derive(Debug, Clone, Copy)]
pub enum ServerAction {
    /// Create and start it.
    Start,
    /// Rewrite its configuration and restart it in place.
    Restart,
}

impl ServerAction {
    fn as_str(self) -> &'static str {
        match self {
            ServerAction::Start => "start",
            ServerAction::Restart => "restart",
        }
    }
}

/// What happened, beyond the marks.
#[derive(Debug, Clone, Default)]
pub struct ProcedureOutcome {
    /// The membership the ensemble should converge to (members left down included).
    pub target_ids: Vec<u32>,
    /// Servers the procedure stopped, killed or wiped and never started again, ascending: left
    /// down on purpose. Convergence does not wait for them; the audit reads their data offline.
    pub left_down: Vec<u32>,
    /// Those of `left_down` whose data the procedure wiped (nothing of theirs to audit).
    pub wiped: Vec<u32>,
    /// When each of `left_down` was taken down (µs since the epoch, the start of its first
    /// stop/kill/wipe step since it last ran): writes acknowledged later cannot be on it.
    pub down_since_us: std::collections::BTreeMap<u32, u64>,
    /// Facts worth a line in the summary (e.g. the restart order actually used).
    pub notes: Vec<String>,
}

impl ProcedureOutcome {
    /// Members meant to be running when the procedure ends: what convergence waits for and
    /// what is read back live.
    pub fn running_ids(&self) -> Vec<u32> {
        self.target_ids.iter().copied().filter(|id| !self.left_down.contains(id)).collect()
    }

    /// Members left down with their data in place: read offline from a copy of their volume.
    pub fn offline_ids(&self) -> Vec<u32> {
        self.target_ids.iter().copied().filter(|id| self.left_down.contains(id) && !self.wiped.contains(id)).collect()
    }

    /// The note put on the timeline for the members left down (None when there are none).
    pub fn left_down_note(&self) -> Option<String> {
        let members: Vec<u32> = self.target_ids.iter().copied().filter(|id| self.left_down.contains(id)).collect();
        if members.is_empty() {
            return None;
        }
        let mut note = format!(
            "left down by the procedure: {} (still members; convergence waits for {} only)",
            steps::zks(&members),
            steps::zks(&self.running_ids())
        );
        let wiped: Vec<u32> = members.iter().copied().filter(|id| self.wiped.contains(id)).collect();
        if !wiped.is_empty() {
            note.push_str(&format!("; {} wiped, so not audited", steps::zks(&wiped)));
        }
        Some(note)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcedureError {
    #[error("procedure step `{step}` failed: {source}")]
    Cluster { step: String, source: ClusterError },
    #[error("reconfig {what} failed after {attempts} attempt(s): {last_error}")]
    Reconfig { what: String, attempts: u32, last_error: String },
    #[error("procedure step `{step}`: {detail}")]
    Step { step: String, detail: String },
}

impl From<ProcedureError> for crate::Error {
    fn from(e: ProcedureError) -> Self {
        crate::Error::Failed(Box::new(e))
    }
}

impl<B: Backend> ProcedureCtx<'_, B> {
    pub fn now_us(&self) -> u64 {
        self.epoch.now_us()
    }

    pub fn point(&self, label: impl Into<String>, detail: Option<String>) {
        self.marks.mark(Mark::new(self.now_us(), MarkKind::Point, label, detail));
    }

    /// Run `fut` as one timeline step (see [`marked`]).
    pub async fn step<T, E: std::fmt::Display>(
        &self,
        label: &str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        marked(self.marks, self.epoch, label, fut).await
    }

    /// Start (or rewrite and restart) server `id` with `cfg` as one marked step (`start zkN` /
    /// `restart zkN`), then tell the monitor about it.
    pub async fn server_step(&mut self, action: ServerAction, id: u32, cfg: &ZooCfg) -> Result<(), ProcedureError> {
        let (marks, epoch) = (self.marks, self.epoch);
        let label = format!("{} zk{id}", action.as_str());
        let cluster = &mut *self.cluster;
        let result = match action {
            ServerAction::Start => marked(marks, epoch, &label, cluster.start_server(id, cfg)).await,
            ServerAction::Restart => marked(marks, epoch, &label, cluster.restart_with_config(id, cfg)).await,
        };
        result.map_err(|source| ProcedureError::Cluster { step: label, source })?;
        self.publish_servers();
        Ok(())
    }

    /// Wait, as the marked step `wait zkN <what>`, until `id` reports one of `modes` (bounded by
    /// [`Self::server_ready_timeout`]). The error says what was seen last.
    pub async fn wait_step(&self, id: u32, modes: &[ServerMode], what: &str) -> Result<ServerMode, ProcedureError> {
        let label = format!("wait zk{id} {what}");
        self.step(&label, self.wait_mode(id, modes, self.server_ready_timeout()))
            .await
            .map_err(|detail| ProcedureError::Step { step: label, detail })
    }

    /// Tell the monitor about every server the cluster has started so far.
    pub fn publish_servers(&self) {
        self.servers.send_replace(self.cluster.client_addrs());
    }

    /// How long to wait for one server to become ready after a start or restart: the JVM start
    /// plus an election bounded by initLimit ticks, with a floor of 30 s.
    pub fn server_ready_timeout(&self) -> Duration {
        let c = &self.plan.cluster;
        Duration::from_millis(u64::from(c.tick_time_ms) * u64::from(c.init_limit)).max(Duration::from_secs(30))
    }

    /// The server currently reporting `leader` (or `standalone`) among `ids`, if any.
    pub async fn find_leader(&self, ids: &[u32]) -> Option<u32> {
        for &id in ids {
            if let Ok(info) = self.cluster.srvr(id).await {
                if info.mode.is_authority() {
                    return Some(id);
                }
            }
        }
        None
    }

    /// Wait until server `id` reports one of `modes` (polling `srvr` every 100 ms).
    pub async fn wait_mode(&self, id: u32, modes: &[ServerMode], timeout: Duration) -> Result<ServerMode, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.cluster.srvr(id).await {
                Ok(info) if modes.contains(&info.mode) => return Ok(info.mode),
                Ok(info) => format!("mode {}", info.mode.as_str()),
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(format!("zk{id} did not reach {modes:?} within {timeout:?} (last: {last})"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Run `fut` as one timeline step: a start mark, then an end mark (flagged `failed`, with the
/// error as its detail, if the step failed).
/// A free function so a step can borrow the cluster mutably while marking.
pub async fn marked<T, E: std::fmt::Display>(
    marks: &dyn MarkSink,
    epoch: Epoch,
    label: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    marks.mark(Mark::new(epoch.now_us(), MarkKind::Start, label, None));
    let result = fut.await;
    match &result {
        Ok(_) => marks.mark(Mark::new(epoch.now_us(), MarkKind::End, label, None)),
        Err(e) => marks.mark(Mark::failed_end(epoch.now_us(), label, e.to_string())),
    }
    result
}

/// Run the plan's procedure: its steps (a runbook, or a built-in strategy expanded by
/// [`runbooks::expand`]) through the one interpreter [`steps::run_steps`]. Marks are emitted as
/// steps happen.
pub async fn run_procedure<B: Backend>(ctx: &mut ProcedureCtx<'_, B>) -> Result<ProcedureOutcome, ProcedureError> {
    let (steps, notes) = runbooks::expand(ctx.plan);
    runbooks::check_capabilities(&steps, ctx.cluster.capabilities())?;
    steps::run_steps(ctx, &steps, notes).await
}

/// What the cycles of a procedure did: the last cycle's outcome and its convergence (the
/// converged stamp, µs since the epoch, or why it did not converge).
#[derive(Debug)]
pub struct CyclesOutcome {
    pub outcome: ProcedureOutcome,
    pub converged: Result<u64, String>,
    /// Cycles that ran (fewer than planned when one did not converge: the next would start on
    /// an ensemble that is not in its starting state).
    pub cycles_run: u32,
}

/// Run the procedure `plan.phases.cycles` times in one ensemble, each cycle followed by the
/// convergence wait ([`wait_converged`]); between cycles, `cycle_gap_s` of load only. With more
/// than one cycle each is marked `cycle:<n>` (Start at its first step, End at its convergence,
/// a failed End when it did not converge), the marks the analysis derives cycle windows from.
/// A cycle that does not converge ends the loop.
pub async fn run_cycles<B: Backend>(ctx: &mut ProcedureCtx<'_, B>) -> Result<CyclesOutcome, ProcedureError> {
    let phases = &ctx.plan.phases;
    let (n, gap) = (phases.cycles.max(1), Duration::from_secs_f64(phases.cycle_gap_s.max(0.0)));
    let (timeout, rounds) = (Duration::from_secs_f64(phases.converge_timeout_s), phases.converge_rounds);
    let mut cycle = 1;
    loop {
        let label = crate::record::labels::cycle(cycle);
        if n > 1 {
            ctx.marks.mark(Mark::new(ctx.now_us(), MarkKind::Start, &label, None));
        }
        let mut outcome = run_procedure(ctx).await?;
        // Members left down on purpose are not waited for (their membership is still judged).
        let converged =
            wait_converged(&*ctx.cluster, &outcome.target_ids, &outcome.left_down, ctx.epoch, timeout, rounds).await;
        if n > 1 {
            ctx.marks.mark(match &converged {
                Ok(at_us) => Mark::new(*at_us, MarkKind::End, &label, None),
                Err(reason) => Mark::failed_end(ctx.now_us(), &label, format!("not converged: {reason}")),
            });
        }
        if cycle >= n || converged.is_err() {
            if cycle < n {
                outcome.notes.push(format!("only {cycle} of {n} cycles ran: cycle {cycle} did not converge"));
            }
            return Ok(CyclesOutcome { outcome, converged, cycles_run: cycle });
        }
        tokio::time::sleep(gap).await;
        cycle += 1;
    }
}

/// Poll every target server meant to be running (not in `left_down`) until the ensemble has
/// converged to `target` in `rounds` consecutive checks, or `timeout` passes (the membership
/// judged is the whole `target`, see [`check_converged_except`]). Each check is stamped at its
/// start; returns the stamp of the first check of the converged streak (µs since the epoch) or
/// the last reason it had not converged. A state that holds for one check only (a flap) does
/// not count.
pub async fn wait_converged<B: Backend>(
    cluster: &B,
    target: &[u32],
    left_down: &[u32],
    epoch: Epoch,
    timeout: Duration,
    rounds: u32,
) -> Result<u64, String> {
    let deadline = Instant::now() + timeout;
    let mut streak: Option<(u64, u32)> = None;
    loop {
        let round_start_us = epoch.now_us();
        let mut states = Vec::with_capacity(target.len());
        for &id in target.iter().filter(|id| !left_down.contains(id)) {
            let mode = match cluster.srvr(id).await {
                Ok(info) => info.mode,
                Err(_) => ServerMode::Down,
            };
            let view = if mode.is_serving() {
                cluster.membership_view(id).await.ok().map(|m| m.voting)
            } else {
                None
            };
            states.push(ServerObservation { id, mode, view });
        }
        let target_set = target.iter().copied().collect();
        let down_set = left_down.iter().copied().collect();
        let reason = match check_converged_except(&target_set, &down_set, &states) {
            crate::check::converge::Convergence::Converged => {
                let (since, n) = streak.map_or((round_start_us, 1), |(since, n)| (since, n + 1));
                if n >= rounds.max(1) {
                    return Ok(since);
                }
                streak = Some((since, n));
                format!("converged in {n} of {rounds} consecutive checks so far")
            }
            crate::check::converge::Convergence::NotYet(reason) => {
                streak = None;
                reason
            }
        };
        if Instant::now() >= deadline {
            return Err(reason);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
