//! The step interpreter: runs a list of [`Step`]s (a runbook) against a [`Backend`], marking each
//! step on the timeline, binding names (`find ... as = "L"`), and tracking the membership the
//! ensemble should converge to.
//!
//! Marks: server operations are `start zkN`, `restart zkN`, `stop zkN`, `kill zkN`, `wipe zkN`;
//! waits `wait zkN serving|following|observing`, `wait leader`, `wait converged`; reconfigs
//! `reconfig add 4,5 attempt k` (`... as observer`, `remove 4`, `members 1,2,3`); `quorum
//! write`; pauses `docker pause zkN` / `pause zkN` (a timed pause) / `docker unpause zkN`;
//! partitions `network disconnect zkN` / `network connect zkN`; netem `netem add zkN` /
//! `netem del zkN`. Every fault is also a `fault:<kind> zkN` Start/End pair (see
//! [`labels::fault`]) covering the time the fault certainly held (from the injecting call's
//! return to the healing call's start; for a kill, until the server is started again).
//!
//! A procedure never leaves a fault behind: on every path (an error included) open partitions
//! are healed, netem removed and paused servers thawed before the procedure returns; a killed
//! server that was never started again stays down (its fault interval ends with the procedure).

mod actions;
mod membership;

use super::{marked, ProcedureCtx, ProcedureError, ProcedureOutcome, ServerAction};
use crate::cluster::config::{observer_line, ZooCfg};
use crate::cluster::{AdminSession, Backend};
use crate::plan::{OnTimeout, ServerRef, StartConfig, Step, StepAction, WaitUntil};
use crate::record::{labels, Mark, MarkKind, ServerMode};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const SERVING: &[ServerMode] =
    &[ServerMode::Leader, ServerMode::Follower, ServerMode::Standalone, ServerMode::Observer];
const FOLLOWING: &[ServerMode] = &[ServerMode::Follower, ServerMode::Observer, ServerMode::Leader];
const STOP_GRACE: Duration = Duration::from_secs(10);
const DEFAULT_ATTEMPTS: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Kill,
    HostDown,
    Pause,
    Partition,
    Delay,
}

impl Fault {
    fn as_str(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::HostDown => "host-down",
            Fault::Pause => "pause",
            Fault::Partition => "partition",
            Fault::Delay => "delay",
        }
    }
}

/// What the interpreter knows while it runs.
struct Runner<A> {
    names: BTreeMap<String, u32>,
    /// The configuration each server was last (re)started with.
    configs: BTreeMap<u32, ZooCfg>,
    voting: BTreeSet<u32>,
    observers: BTreeSet<u32>,
    /// Servers stopped, killed or wiped and not started since.
    down: BTreeSet<u32>,
    /// Servers wiped and not started since (a subset of `down`).
    wiped: BTreeSet<u32>,
    /// When each server of `down` was taken down (the start of its step).
    down_since: BTreeMap<u32, u64>,
    open: BTreeSet<(Fault, u32)>,
    admin: Option<(Vec<u32>, A)>,
    notes: Vec<String>,
    reconfig_attempts: u32,
}

pub(super) fn list(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

pub(super) fn zks(ids: &[u32]) -> String {
    ids.iter().map(|i| format!("zk{i}")).collect::<Vec<_>>().join(",")
}

fn step_err(i: usize, step: &Step, detail: impl Into<String>) -> ProcedureError {
    ProcedureError::Step { step: format!("{i} ({})", step.action.as_str()), detail: detail.into() }
}

/// Run `steps` in order; see the module documentation.
pub async fn run_steps<B: Backend>(
    ctx: &mut ProcedureCtx<'_, B>,
    steps: &[Step],
    mut notes: Vec<String>,
) -> Result<ProcedureOutcome, ProcedureError> {
    let ids: Vec<u32> = (1..=ctx.plan.cluster.size).collect();
    let mut r: Runner<B::Admin> = Runner {
        names: BTreeMap::new(),
        configs: ids.iter().map(|&id| (id, ZooCfg::from_plan(id, &ids, &ctx.plan.cluster))).collect(),
        voting: ids.iter().copied().collect(),
        observers: BTreeSet::new(),
        down: BTreeSet::new(),
        wiped: BTreeSet::new(),
        down_since: BTreeMap::new(),
        open: BTreeSet::new(),
        admin: None,
        notes: Vec::new(),
        reconfig_attempts: 0,
    };
    let mut result = Ok(());
    for (i, step) in steps.iter().enumerate() {
        if let Err(e) = r.step(ctx, i, step).await {
            result = Err(e);
            break;
        }
    }
    let restored = r.restore(ctx).await;
    result?;
    restored?;
    if r.reconfig_attempts > 0 {
        r.notes.push(format!("{} reconfig attempt(s)", r.reconfig_attempts));
    }
    notes.append(&mut r.notes);
    Ok(ProcedureOutcome {
        target_ids: r.voting.into_iter().collect(),
        left_down: r.down.into_iter().collect(),
        wiped: r.wiped.into_iter().collect(),
        down_since_us: r.down_since,
        notes,
    })
}

impl<A: AdminSession> Runner<A> {
    fn resolve(&self, i: usize, step: &Step, r: &ServerRef) -> Result<u32, ProcedureError> {
        match r {
            ServerRef::Id(id) => Ok(*id),
            ServerRef::Name(n) => self
                .names
                .get(n)
                .copied()
                .ok_or_else(|| step_err(i, step, format!("the name {n:?} is not bound by an earlier find step"))),
        }
    }

    fn resolve_all(&self, i: usize, step: &Step, refs: &[ServerRef]) -> Result<Vec<u32>, ProcedureError> {
        refs.iter().map(|r| self.resolve(i, step, r)).collect()
    }

    fn open_fault<B: Backend>(&mut self, ctx: &ProcedureCtx<'_, B>, fault: Fault, id: u32) {
        if self.open.insert((fault, id)) {
            ctx.marks.mark(Mark::new(ctx.now_us(), MarkKind::Start, labels::fault(fault.as_str(), id), None));
        }
    }

    fn close_fault<B: Backend>(&mut self, ctx: &ProcedureCtx<'_, B>, fault: Fault, id: u32) {
        if self.open.remove(&(fault, id)) {
            ctx.marks.mark(Mark::new(ctx.now_us(), MarkKind::End, labels::fault(fault.as_str(), id), None));
        }
    }

    /// An admin session on the running voting members (reopened when they change).
    async fn admin<B: Backend<Admin = A>>(&mut self, ctx: &ProcedureCtx<'_, B>) -> Result<&A, ProcedureError> {
        let reachable: Vec<u32> = self
            .voting
            .iter()
            .copied()
            .filter(|id| !self.down.contains(id) && !self.open.contains(&(Fault::Partition, *id)))
            .collect();
        if self.admin.as_ref().is_none_or(|(on, _)| *on != reachable) {
            let timeout = Duration::from_millis(u64::from(ctx.plan.load.session_timeout_ms));
            let admin = ctx
                .cluster
                .open_admin(&reachable, timeout, ctx.super_password.as_deref())
                .await
                .map_err(|detail| ProcedureError::Step { step: "connect admin session".into(), detail })?;
            self.admin = Some((reachable, admin));
        }
        Ok(&self.admin.as_ref().expect("set above").1)
    }

    /// Read `/zookeeper/config`, put it on the timeline, return its member lines.
    async fn committed<B: Backend<Admin = A>>(
        &mut self,
        ctx: &ProcedureCtx<'_, B>,
    ) -> Result<Vec<String>, ProcedureError> {
        let text = self
            .admin(ctx)
            .await?
            .committed_config()
            .await
            .map_err(|detail| ProcedureError::Step { step: "read /zookeeper/config".into(), detail })?;
        let (members, version) = super::reconfig::parse_config(&text);
        ctx.point(labels::COMMITTED_CONFIG, Some(format!("version {version}: {}", members.join(" "))));
        Ok(members)
    }

    /// The config `id` gets from `step.config` (None: keep its last config, or the plan's default
    /// for a new server), and the voting membership that config implies (None: unchanged).
    async fn config_for<B: Backend<Admin = A>>(
        &mut self,
        ctx: &ProcedureCtx<'_, B>,
        i: usize,
        step: &Step,
        id: u32,
    ) -> Result<(ZooCfg, Option<BTreeSet<u32>>), ProcedureError> {
        let c = &ctx.plan.cluster;
        let members = || -> Result<Vec<u32>, ProcedureError> {
            match &step.members {
                Some(m) => self.resolve_all(i, step, m),
                None => Ok(self.voting.iter().copied().chain([id]).collect::<BTreeSet<_>>().into_iter().collect()),
            }
        };
        let choice = match (step.config, self.configs.get(&id)) {
            (None, Some(cfg)) => return Ok((cfg.clone(), None)),
            (None, None) if c.dynamic_config => StartConfig::Joiner,
            (None, None) => StartConfig::Static,
            (Some(choice), _) => choice,
        };
        Ok(match choice {
            StartConfig::Static => {
                let m = members()?;
                (ZooCfg::static_ensemble(id, &m, c), Some(m.into_iter().collect()))
            }
            StartConfig::Dynamic => {
                let m = members()?;
                (ZooCfg::dynamic(id, &m, c), Some(m.into_iter().collect()))
            }
            StartConfig::Standalone => (ZooCfg::standalone(id, c), Some([id].into())),
            StartConfig::Joiner => (ZooCfg::joiner(id, &self.committed(ctx).await?, c), None),
            StartConfig::Observer => {
                let mut lines: Vec<String> = self.committed(ctx).await?;
                lines.retain(|l| crate::cluster::config::line_id(l) != Some(id));
                lines.push(observer_line(id));
                (ZooCfg::dynamic_from_lines(id, &lines, c), None)
            }
        })
    }

    /// Wait for `until` on `id`, as the marked step `wait zkN <until>`; a timeout is noted
    /// (and fails the procedure with `on_timeout = "fail"`).
    async fn wait_server<B: Backend>(
        &mut self,
        ctx: &ProcedureCtx<'_, B>,
        i: usize,
        step: &Step,
        id: u32,
        until: WaitUntil,
    ) -> Result<(), ProcedureError> {
        let modes = match until {
            WaitUntil::Following => FOLLOWING,
            WaitUntil::Observing => &[ServerMode::Observer][..],
            _ => SERVING,
        };
        let timeout = step.timeout_ms.map_or_else(|| ctx.server_ready_timeout(), Duration::from_millis);
        let label = format!("wait zk{id} {}", until.as_str());
        let result = ctx.step(&label, ctx.wait_mode(id, modes, timeout)).await;
        self.timed_out(i, step, &label, result.map(|_| ()))
    }

    fn timed_out(
        &mut self,
        i: usize,
        step: &Step,
        label: &str,
        result: Result<(), String>,
    ) -> Result<(), ProcedureError> {
        match result {
            Ok(()) => Ok(()),
            Err(detail) if step.on_timeout == OnTimeout::Fail => {
                Err(ProcedureError::Step { step: label.to_string(), detail })
            }
            Err(detail) => {
                self.notes.push(format!("step {i} `{label}` timed out: {detail}"));
                Ok(())
            }
        }
    }

    async fn start_or_restart<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        i: usize,
        step: &Step,
        id: u32,
        action: ServerAction,
    ) -> Result<(), ProcedureError> {
        let (cfg, voting) = self.config_for(ctx, i, step, id).await?;
        if matches!(action, ServerAction::Start) && self.configs.contains_key(&id) {
            // Start again a stopped, killed or wiped server (same name, port and data volume).
            let label = format!("start zk{id}");
            let (marks, epoch) = (ctx.marks, ctx.epoch);
            marked(marks, epoch, &label, ctx.cluster.restart_with_config(id, &cfg))
                .await
                .map_err(|source| ProcedureError::Cluster { step: label, source })?;
            ctx.publish_servers();
        } else {
            ctx.server_step(action, id, &cfg).await?;
        }
        self.close_fault(ctx, Fault::Kill, id);
        self.close_fault(ctx, Fault::HostDown, id);
        self.down.remove(&id);
        self.wiped.remove(&id);
        self.down_since.remove(&id);
        if cfg.server_lines.iter().any(|l| crate::cluster::config::line_id(l) == Some(id) && l.contains(":observer")) {
            self.observers.insert(id);
        }
        self.configs.insert(id, cfg);
        if let Some(v) = voting {
            self.voting = v;
        }
        Ok(())
    }

    async fn step<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        i: usize,
        step: &Step,
    ) -> Result<(), ProcedureError> {
        let targets = self.resolve_all(i, step, &step.targets())?;
        match step.action {
            StepAction::Start => {
                for &id in &targets {
                    self.start_or_restart(ctx, i, step, id, ServerAction::Start).await?;
                }
            }
            StepAction::Restart => self.restart(ctx, i, step, targets).await?,
            StepAction::HostUp => self.host_up(ctx, &targets).await?,
            StepAction::Stop | StepAction::Kill | StepAction::Wipe | StepAction::HostDown => {
                self.take_down(ctx, step, targets).await?
            }
            StepAction::Pause => self.pause(ctx, step, &targets).await?,
            StepAction::Unpause => self.unpause(ctx, &targets).await?,
            StepAction::Partition => self.partition(ctx, step, &targets).await?,
            StepAction::Heal => {
                let ids = if targets.is_empty() { self.open_of(Fault::Partition) } else { targets };
                self.heal(ctx, &ids).await?;
            }
            StepAction::Delay => self.delay(ctx, step, &targets).await?,
            StepAction::Undelay => {
                let ids = if targets.is_empty() { self.open_of(Fault::Delay) } else { targets };
                self.undelay(ctx, &ids).await?;
            }
            StepAction::Reconfig => self.reconfig(ctx, i, step).await?,
            StepAction::QuorumWrite => {
                let admin = self.admin(ctx).await?;
                ctx.step("quorum write", admin.quorum_write())
                    .await
                    .map_err(|detail| ProcedureError::Step { step: "quorum write".into(), detail })?;
                self.committed(ctx).await?;
            }
            StepAction::Wait => self.wait(ctx, i, step, &targets).await?,
            StepAction::Find => self.find(ctx, step, targets).await?,
            StepAction::Sleep => {
                let d = Duration::from_millis(step.duration_ms.unwrap_or(0));
                ctx.step(step.label.as_deref().unwrap_or("sleep"), async {
                    tokio::time::sleep(d).await;
                    Ok::<(), ProcedureError>(())
                })
                .await?;
            }
        }
        Ok(())
    }

    fn open_of(&self, fault: Fault) -> Vec<u32> {
        self.open.iter().filter(|(f, _)| *f == fault).map(|(_, id)| *id).collect()
    }

    async fn unpause<B: Backend>(&mut self, ctx: &mut ProcedureCtx<'_, B>, ids: &[u32]) -> Result<(), ProcedureError> {
        let ids = if ids.is_empty() { self.open_of(Fault::Pause) } else { ids.to_vec() };
        for id in ids {
            self.close_fault(ctx, Fault::Pause, id);
            let label = format!("docker unpause zk{id}");
            marked(ctx.marks, ctx.epoch, &label, ctx.cluster.unpause(id))
                .await
                .map_err(|source| ProcedureError::Cluster { step: label, source })?;
        }
        Ok(())
    }

    async fn heal<B: Backend>(&mut self, ctx: &mut ProcedureCtx<'_, B>, ids: &[u32]) -> Result<(), ProcedureError> {
        for &id in ids {
            self.close_fault(ctx, Fault::Partition, id);
            let label = format!("network connect zk{id}");
            marked(ctx.marks, ctx.epoch, &label, ctx.cluster.heal(id))
                .await
                .map_err(|source| ProcedureError::Cluster { step: label, source })?;
        }
        Ok(())
    }

    async fn undelay<B: Backend>(&mut self, ctx: &mut ProcedureCtx<'_, B>, ids: &[u32]) -> Result<(), ProcedureError> {
        for &id in ids {
            self.close_fault(ctx, Fault::Delay, id);
            let label = format!("netem del zk{id}");
            marked(ctx.marks, ctx.epoch, &label, ctx.cluster.undelay(id))
                .await
                .map_err(|source| ProcedureError::Cluster { step: label, source })?;
        }
        Ok(())
    }

    /// Undo every fault still in force (each attempt is made; the first error is returned), and
    /// end the interval of servers killed and never started again.
    async fn restore<B: Backend>(&mut self, ctx: &mut ProcedureCtx<'_, B>) -> Result<(), ProcedureError> {
        let mut first = Ok(());
        let open: Vec<(Fault, u32)> = self.open.iter().copied().collect();
        for (fault, id) in open {
            let r = match fault {
                Fault::Pause => self.unpause(ctx, &[id]).await,
                Fault::Partition => self.heal(ctx, &[id]).await,
                Fault::Delay => self.undelay(ctx, &[id]).await,
                Fault::Kill | Fault::HostDown => {
                    self.close_fault(ctx, fault, id);
                    Ok(())
                }
            };
            if !matches!(fault, Fault::Kill | Fault::HostDown) {
                self.notes.push(format!("{} of zk{id} undone at the end of the procedure", fault.as_str()));
            }
            if first.is_ok() {
                first = r;
            }
        }
        first
    }

    /// `targets` in the step's `order` (`leader-first`/`leader-last`: the leader among them found
    /// with `srvr` just before; none found: ascending ids), marked as the point `<action> order`
    /// with the leader seen; without an `order`, `targets` as written.
    async fn ordered<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        step: &Step,
        targets: Vec<u32>,
    ) -> Vec<u32> {
        let Some(order) = step.order else { return targets };
        let leader = ctx.find_leader(&targets).await;
        let sequence = super::restart::restart_sequence(&targets, leader, order);
        let described = zks(&sequence);
        let verb = step.action.as_str();
        let before = leader.map_or("none".into(), |l| format!("zk{l}"));
        ctx.point(format!("{verb} order"), Some(format!("{described} (leader before: {before})")));
        self.notes.push(format!("{verb} order {}: {described}", order.as_str()));
        sequence
    }

    async fn restart<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        i: usize,
        step: &Step,
        targets: Vec<u32>,
    ) -> Result<(), ProcedureError> {
        let sequence = self.ordered(ctx, step, targets).await;
        let gap = Duration::from_millis(step.gap_ms.unwrap_or(0));
        for (n, &id) in sequence.iter().enumerate() {
            self.start_or_restart(ctx, i, step, id, ServerAction::Restart).await?;
            if step.wait.unwrap_or(true) {
                self.wait_server(ctx, i, step, id, WaitUntil::Serving).await?;
            }
            if n + 1 < sequence.len() && !gap.is_zero() {
                ctx.step("operator pause", async {
                    tokio::time::sleep(gap).await;
                    Ok::<(), ProcedureError>(())
                })
                .await?;
            }
        }
        Ok(())
    }
}
