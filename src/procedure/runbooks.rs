//! The built-in strategies as runbooks: `kind = "none" | "pause" | "restart-expand" |
//! "rolling-expand" | "reconfig-expand"` expand into the same [`Step`] list a profile can write
//! as `[[procedure.steps]]`, and run through the one interpreter ([`super::steps`]). Their marks
//! are the labels these strategies have always had (`start zkN`, `restart zkN`, `wait zkN
//! serving`, `reconfig add 4,5 attempt k`, `quorum write`, `docker pause zkN`, ...).

use super::ProcedureError;
use crate::cluster::Capabilities;
use crate::plan::{
    OnTimeout, Plan, ProcedurePlan, ReconfigStep, RestartOrder, ServerRef, StartConfig, Step, StepAction, StepRole,
    Target, WaitUntil,
};

fn ids(range: std::ops::RangeInclusive<u32>) -> Vec<ServerRef> {
    range.map(ServerRef::Id).collect()
}

fn on(action: StepAction, id: u32) -> Step {
    Step { server: Some(ServerRef::Id(id)), ..Step::new(action) }
}

fn wait(id: u32, until: WaitUntil) -> Step {
    Step { until: Some(until), ..on(StepAction::Wait, id) }
}

/// A static (re)start of `id` listing `members`.
fn static_cfg(action: StepAction, id: u32, members: &[ServerRef]) -> Step {
    Step { config: Some(StartConfig::Static), members: Some(members.to_vec()), ..on(action, id) }
}

/// The steps of the plan's procedure, and the notes that describe the choice made. A runbook
/// (`kind = "steps"`) is returned as written.
pub fn expand(plan: &Plan) -> (Vec<Step>, Vec<String>) {
    let from = plan.cluster.size;
    match &plan.procedure {
        ProcedurePlan::Steps { steps, .. } => (steps.clone(), Vec::new()),
        ProcedurePlan::None { duration_s } => {
            let ms = (duration_s.max(0.0) * 1000.0).round() as u64;
            (
                vec![Step { duration_ms: Some(ms), label: Some("steady".into()), ..Step::new(StepAction::Sleep) }],
                Vec::new(),
            )
        }
        ProcedurePlan::Pause { target, duration_ms } => {
            let mut steps = Vec::new();
            let server = match target {
                Target::Id(id) => ServerRef::Id(*id),
                Target::Leader => {
                    steps.push(Step {
                        role: Some(StepRole::Leader),
                        bind: Some("leader".into()),
                        ..Step::new(StepAction::Find)
                    });
                    ServerRef::Name("leader".into())
                }
            };
            steps.push(Step { server: Some(server), duration_ms: Some(*duration_ms), ..Step::new(StepAction::Pause) });
            (steps, Vec::new())
        }
        ProcedurePlan::RestartExpand { to, order } => {
            let target = ids(1..=*to);
            let mut steps = Vec::new();
            match order {
                RestartOrder::NewFirst => {
                    steps.extend((from + 1..=*to).map(|id| static_cfg(StepAction::Start, id, &target)));
                    steps.extend((from + 1..=*to).map(|id| wait(id, WaitUntil::Serving)));
                    steps.extend((1..=from).map(|id| static_cfg(StepAction::Restart, id, &target)));
                }
                RestartOrder::OldFirst => {
                    steps.extend(
                        (1..=from).map(|id| Step { wait: Some(false), ..static_cfg(StepAction::Restart, id, &target) }),
                    );
                    steps.extend((from + 1..=*to).map(|id| static_cfg(StepAction::Start, id, &target)));
                    steps.extend((1..=*to).map(|id| wait(id, WaitUntil::Serving)));
                }
            }
            (steps, vec![format!("order {}", order.as_str())])
        }
        ProcedurePlan::RollingExpand { to, order, step_gap_ms } => {
            let target = ids(1..=*to);
            let mut steps: Vec<Step> = (from + 1..=*to).map(|id| static_cfg(StepAction::Start, id, &target)).collect();
            steps.extend((from + 1..=*to).map(|id| wait(id, WaitUntil::Following)));
            steps.push(Step {
                servers: ids(1..=from),
                config: Some(StartConfig::Static),
                members: Some(target),
                order: Some(*order),
                gap_ms: Some(*step_gap_ms),
                ..Step::new(StepAction::Restart)
            });
            (steps, Vec::new())
        }
        ProcedurePlan::ReconfigExpand { to, step, max_attempts, .. } => {
            let joiner = |id| Step { config: Some(StartConfig::Joiner), ..on(StepAction::Start, id) };
            // A joiner must have synced before it is added (adding an unsynced server can lose quorum).
            let synced = |id| Step { on_timeout: OnTimeout::Fail, ..wait(id, WaitUntil::Following) };
            let add = |add: Vec<ServerRef>| Step {
                add,
                max_attempts: Some(*max_attempts),
                ..Step::new(StepAction::Reconfig)
            };
            let mut steps = Vec::new();
            match step {
                ReconfigStep::Together => {
                    for id in from + 1..=*to {
                        steps.push(joiner(id));
                        steps.push(synced(id));
                    }
                    steps.push(add(ids(from + 1..=*to)));
                }
                ReconfigStep::OneByOne => {
                    for id in from + 1..=*to {
                        steps.push(joiner(id));
                        steps.push(synced(id));
                        steps.push(add(vec![ServerRef::Id(id)]));
                    }
                }
            }
            steps.push(Step::new(StepAction::QuorumWrite));
            (steps, vec![format!("step {}", step.as_str())])
        }
    }
}

/// Refuse, before the first step, a runbook that needs a capability the backend lacks (Jepsen's
/// protocols: a fault a backend cannot inject must not be half-run).
pub fn check_capabilities(steps: &[Step], caps: Capabilities) -> Result<(), ProcedureError> {
    for (i, step) in steps.iter().enumerate() {
        let (needed, has) = match step.action {
            StepAction::Kill => ("kill", caps.kill),
            StepAction::HostDown | StepAction::HostUp => ("host", caps.host),
            StepAction::Pause | StepAction::Unpause => ("pause", caps.pause),
            StepAction::Wipe => ("wipe", caps.wipe),
            StepAction::Partition | StepAction::Heal => ("partition", caps.partition),
            StepAction::Delay | StepAction::Undelay => ("delay", caps.delay),
            _ => continue,
        };
        if !has {
            return Err(ProcedureError::Step {
                step: format!("{i} ({})", step.action.as_str()),
                detail: format!("this cluster backend has no `{needed}` capability; nothing was run"),
            });
        }
    }
    Ok(())
}
