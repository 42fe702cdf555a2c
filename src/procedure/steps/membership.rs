//! The membership steps of the interpreter: `reconfig` (add, remove, or a whole member list,
//! retried with backoff, each attempt a mark) and the run-time lookup behind `find` and
//! `wait until = "leader"`.

use super::{Runner, DEFAULT_ATTEMPTS};
use crate::cluster::config::{dynamic_line, line_id, observer_line};
use crate::cluster::{AdminSession, Backend};
use crate::plan::{Step, StepRole};
use crate::procedure::{ProcedureCtx, ProcedureError};
use crate::record::ServerMode;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::Instant;

impl<A: AdminSession> Runner<A> {
    pub(super) async fn reconfig<B: Backend<Admin = A>>(
        &mut self,
        ctx: &mut ProcedureCtx<'_, B>,
        i: usize,
        step: &Step,
    ) -> Result<(), ProcedureError> {
        let add = self.resolve_all(i, step, &step.add)?;
        let remove = self.resolve_all(i, step, &step.remove)?;
        let members = step.members.as_ref().map(|m| self.resolve_all(i, step, m)).transpose()?;
        let observer = step.role == Some(StepRole::Observer);
        enum Op {
            Add(Vec<String>),
            Remove(Vec<u32>),
            Set(Vec<String>),
        }
        let (what, op) = if let Some(m) = &members {
            (format!("members {}", super::list(m)), Op::Set(m.iter().map(|&id| dynamic_line(id)).collect()))
        } else if !remove.is_empty() {
            (format!("remove {}", super::list(&remove)), Op::Remove(remove.clone()))
        } else {
            let lines = add.iter().map(|&id| if observer { observer_line(id) } else { dynamic_line(id) }).collect();
            (format!("add {}{}", super::list(&add), if observer { " as observer" } else { "" }), Op::Add(lines))
        };
        // The membership this reconfig should leave.
        let (mut voting, mut observers) = (self.voting.clone(), self.observers.clone());
        if let Some(m) = &members {
            voting = m.iter().copied().collect();
            observers.retain(|o| !voting.contains(o));
        }
        for id in &remove {
            voting.remove(id);
            observers.remove(id);
        }
        for &id in &add {
            if observer {
                voting.remove(&id);
                observers.insert(id);
            } else {
                observers.remove(&id);
                voting.insert(id);
            }
        }
        let max_attempts = step.max_attempts.unwrap_or(DEFAULT_ATTEMPTS).max(1);
        let mut backoff = Duration::from_millis(250);
        let mut last_error = String::new();
        for attempt in 1..=max_attempts {
            let label = format!("reconfig {what} attempt {attempt}");
            self.reconfig_attempts += 1;
            let admin = self.admin(ctx).await?;
            let fut = async {
                match &op {
                    Op::Add(lines) => admin.add_members(lines).await,
                    Op::Remove(ids) => admin.remove_members(ids).await,
                    Op::Set(lines) => admin.set_members(lines).await,
                }
            };
            match ctx.step(&label, fut).await {
                Ok(()) => {
                    self.voting = voting;
                    self.observers = observers;
                    return Ok(());
                }
                Err(e) => last_error = e,
            }
            // An attempt whose reply was lost may have been applied (e.g. the leader removed itself).
            self.admin = None;
            if let Ok(lines) = self.committed(ctx).await {
                let ids: BTreeSet<u32> =
                    lines.iter().filter(|l| !l.contains(":observer")).filter_map(|l| line_id(l)).collect();
                if ids == voting && voting != self.voting {
                    self.notes.push(format!("reconfig {what}: attempt {attempt} failed ({last_error}) but the committed config shows it applied"));
                    self.voting = voting;
                    self.observers = observers;
                    return Ok(());
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
        Err(ProcedureError::Reconfig { what, attempts: max_attempts, last_error })
    }
}

/// Poll `among` until one reports `role` (leader: the leader, or a standalone server; follower:
/// the highest-id follower), or `timeout` passes.
pub(super) async fn poll_role<B: Backend>(
    ctx: &ProcedureCtx<'_, B>,
    among: &[u32],
    role: StepRole,
    timeout: Duration,
) -> Result<u32, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut seen = Vec::new();
        for &id in among.iter().rev() {
            let mode = ctx.cluster.srvr(id).await.map(|i| i.mode).unwrap_or(ServerMode::Down);
            let hit = match role {
                StepRole::Leader => mode.is_authority(),
                StepRole::Follower => mode == ServerMode::Follower,
                StepRole::Participant => matches!(mode, ServerMode::Leader | ServerMode::Follower),
                StepRole::Observer => mode == ServerMode::Observer,
            };
            if hit {
                return Ok(id);
            }
            seen.push(format!("zk{id}={}", mode.as_str()));
        }
        if Instant::now() >= deadline {
            seen.reverse();
            return Err(format!(
                "no server among {among:?} reports {} within {timeout:?} (last: {})",
                role.as_str(),
                seen.join(" ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
