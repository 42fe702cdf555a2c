//! The fault and wait steps of the interpreter, one method per action: taking servers down
//! (`stop`, `kill`, `wipe`, `host-down`) and back (`host-up`), `pause`, `partition` and `delay`
//! (each closed again after `duration_ms` when given), `wait` and `find`. Each cluster call is a
//! marked interval; each fault opened here is closed by its undo step or at the end.

use super::membership::poll_role;
use super::{zks, Fault, Runner, STOP_GRACE};
use crate::cluster::{AdminSession, Backend, ClusterError, Netem};
use crate::plan::{Step, StepAction, StepRole, WaitUntil};
use crate::procedure::{marked, ProcedureCtx, ProcedureError};
use std::time::Duration;

/// The error of the cluster call labelled `label`.
fn cluster_err(label: &str) -> impl FnOnce(ClusterError) -> ProcedureError {
    let step = label.to_string();
    move |source| ProcedureError::Cluster { step, source }
}

impl<A: AdminSession> Runner<A> {
    pub(super) async fn host_up<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        targets: &[u32],
    ) -> Result<(), ProcedureError> {
        for &id in targets {
            let label = format!("host-up zk{id}");
            marked(ctx.marks, ctx.epoch, &label, ctx.cluster.host_up(id)).await.map_err(cluster_err(&label))?;
            ctx.publish_servers();
            self.close_fault(ctx, Fault::HostDown, id);
            self.close_fault(ctx, Fault::Kill, id);
            self.down.remove(&id);
            self.down_since.remove(&id);
        }
        Ok(())
    }

    /// `stop`, `kill`, `wipe` or `host-down` of each target, in the step's order.
    pub(super) async fn take_down<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        step: &Step,
        targets: Vec<u32>,
    ) -> Result<(), ProcedureError> {
        let targets = self.ordered(ctx, step, targets).await;
        let (marks, epoch) = (ctx.marks, ctx.epoch);
        for &id in &targets {
            let label = format!("{} zk{id}", step.action.as_str());
            let at = ctx.now_us();
            let cluster = &mut *ctx.cluster;
            let fut = async {
                match step.action {
                    StepAction::Stop => cluster.stop_server(id, STOP_GRACE).await,
                    StepAction::Kill => cluster.kill_server(id).await,
                    StepAction::HostDown => cluster.host_down(id).await,
                    _ => cluster.wipe(id).await,
                }
            };
            marked(marks, epoch, &label, fut).await.map_err(cluster_err(&label))?;
            self.down.insert(id);
            self.down_since.entry(id).or_insert(at);
            if step.action == StepAction::Wipe {
                self.wiped.insert(id);
            }
            match step.action {
                StepAction::Kill => self.open_fault(ctx, Fault::Kill, id),
                StepAction::HostDown => self.open_fault(ctx, Fault::HostDown, id),
                _ => {}
            }
        }
        Ok(())
    }

    /// `docker pause`, `network disconnect` or `netem add` on each target (a marked call each),
    /// and the fault opened.
    async fn open_faults<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        fault: Fault,
        targets: &[u32],
        netem: Option<Netem>,
    ) -> Result<(), ProcedureError> {
        let (marks, epoch) = (ctx.marks, ctx.epoch);
        for &id in targets {
            let label = match fault {
                Fault::Pause => format!("docker pause zk{id}"),
                Fault::Partition => format!("network disconnect zk{id}"),
                _ => format!("netem add zk{id}"),
            };
            let cluster = &mut *ctx.cluster;
            let fut = async {
                match (fault, netem) {
                    (Fault::Pause, _) => cluster.pause(id).await,
                    (Fault::Partition, _) => cluster.partition(id).await,
                    (_, netem) => cluster.delay(id, netem.unwrap_or_default()).await,
                }
            };
            marked(marks, epoch, &label, fut).await.map_err(cluster_err(&label))?;
            self.open_fault(ctx, fault, id);
        }
        Ok(())
    }

    pub(super) async fn pause<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        step: &Step,
        targets: &[u32],
    ) -> Result<(), ProcedureError> {
        self.open_faults(ctx, Fault::Pause, targets, None).await?;
        if let Some(ms) = step.duration_ms {
            // `pause zkN`: certainly frozen, from the pause call's return to the unpause call's start.
            let label = format!("pause {}", zks(targets).replace(',', " "));
            ctx.step(&label, async {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok::<(), ProcedureError>(())
            })
            .await?;
            self.notes.push(format!("paused {} for {ms} ms", zks(targets)));
            self.unpause(ctx, targets).await?;
        }
        Ok(())
    }

    pub(super) async fn partition<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        step: &Step,
        targets: &[u32],
    ) -> Result<(), ProcedureError> {
        self.open_faults(ctx, Fault::Partition, targets, None).await?;
        if let Some(ms) = step.duration_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            self.notes.push(format!("partitioned {} for {ms} ms", zks(targets)));
            self.heal(ctx, targets).await?;
        }
        Ok(())
    }

    pub(super) async fn delay<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        step: &Step,
        targets: &[u32],
    ) -> Result<(), ProcedureError> {
        let netem = Netem {
            delay_ms: step.delay_ms.unwrap_or(0),
            jitter_ms: step.jitter_ms.unwrap_or(0),
            loss_pct: step.loss_pct.unwrap_or(0.0),
        };
        self.open_faults(ctx, Fault::Delay, targets, Some(netem)).await?;
        if let Some(ms) = step.duration_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            self.notes.push(format!("netem {} on {} for {ms} ms", netem.tc_args().join(" "), zks(targets)));
            self.undelay(ctx, targets).await?;
        }
        Ok(())
    }

    /// `wait until = …`: a leader among the voters, convergence, or each target's state.
    pub(super) async fn wait<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        i: usize,
        step: &Step,
        targets: &[u32],
    ) -> Result<(), ProcedureError> {
        let until = step.until.unwrap_or(WaitUntil::Serving);
        match until {
            WaitUntil::Leader => {
                let timeout = step.timeout_ms.map_or_else(|| ctx.server_ready_timeout(), Duration::from_millis);
                let among: Vec<u32> = self.voting.iter().copied().collect();
                let result = ctx.step("wait leader", poll_role(ctx, &among, StepRole::Leader, timeout)).await;
                if let Ok(id) = &result {
                    ctx.point("leader", Some(format!("zk{id}")));
                }
                self.timed_out(i, step, "wait leader", result.map(|_| ()))?;
            }
            WaitUntil::Converged => {
                let timeout = step
                    .timeout_ms
                    .map_or_else(|| Duration::from_secs_f64(ctx.plan.phases.converge_timeout_s), Duration::from_millis);
                let target: Vec<u32> = self.voting.iter().copied().collect();
                let down: Vec<u32> = self.down.iter().copied().collect();
                let rounds = ctx.plan.phases.converge_rounds;
                let epoch = ctx.epoch;
                let result = ctx
                    .step("wait converged", crate::procedure::wait_converged(&*ctx.cluster, &target, &down, epoch, timeout, rounds))
                    .await;
                self.timed_out(i, step, "wait converged", result.map(|_| ()))?;
            }
            _ => {
                for &id in targets {
                    self.wait_server(ctx, i, step, id, until).await?;
                }
            }
        }
        Ok(())
    }

    /// `find`: the server in `role` (among the targets, or the voters), bound to the step's name.
    pub(super) async fn find<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        step: &Step,
        targets: Vec<u32>,
    ) -> Result<(), ProcedureError> {
        let role = step.role.unwrap_or(StepRole::Leader);
        let among: Vec<u32> = if targets.is_empty() { self.voting.iter().copied().collect() } else { targets };
        let timeout = step.timeout_ms.map_or_else(|| ctx.server_ready_timeout(), Duration::from_millis);
        let name = step.bind.clone().unwrap_or_default();
        let label = format!("find {}", role.as_str());
        let id = poll_role(ctx, &among, role, timeout)
            .await
            .map_err(|detail| ProcedureError::Step { step: label.clone(), detail })?;
        ctx.point(&label, Some(format!("zk{id} as {name:?}")));
        self.names.insert(name, id);
        Ok(())
    }
}
