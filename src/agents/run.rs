//! The load of `zkchaos run`, in this process or in load agents: started after the initial
//! ensemble, stopped after the post-procedure phase. Kept apart from the run's phases so that the
//! phases only say "start the load" and "stop the load".

use super::fleet::{Fleet, FleetConfig};
use crate::cluster::Cluster;
use crate::runner::recorded::{Finisher, RecordTo, RecordedLoad};
use crate::plan::Plan;
use crate::record::{labels, Epoch, MarkKind, RecorderHandle, RunDir};
use crate::workload::WorkloadError;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The file a run with load agents writes its per-agent accounts to.
pub use crate::record::files::AGENTS_FILE;

/// The running load.
pub enum RunLoad {
    Local { task: JoinHandle<Result<(), WorkloadError>>, cancel: CancellationToken },
    Agents { fleet: Fleet, grace: Duration },
}

/// What starting the load gives the phases.
pub struct Started {
    pub load: RunLoad,
    pub rec: RecorderHandle,
    pub finisher: Finisher,
    /// New connect strings for the load's sessions (agents: not forwarded; see docs/agents.md).
    pub server_list: watch::Sender<String>,
}

/// Start the recorder and the load on `connect` (agents when `plan.load.agents.count > 0`).
pub async fn start(plan: &Plan, cluster: &Cluster, connect: &str, seed: u64, epoch: Epoch, to: RecordTo, cancel: CancellationToken) -> crate::Result<Started> {
    if plan.load.agents.count == 0 {
        let recorded = RecordedLoad::start(&plan.load, connect, seed, epoch, to).await?;
        let (workload, rec, finisher) = recorded.into_parts();
        let server_list = workload.server_list();
        let task = tokio::spawn(workload.run(rec.clone(), cancel.clone()));
        return Ok(Started { load: RunLoad::Local { task, cancel }, rec, finisher, server_list });
    }
    let (rec, finisher) = RecordedLoad::recorder_only(&plan.load, epoch, to)?;
    let cfg = FleetConfig {
        plan: &plan.load,
        run_id: cluster.run_id(),
        profile: &plan.name,
        connect,
        seed,
        epoch,
        engines: cluster.engines(),
        duration: None,
    };
    let fleet = match Fleet::start(cfg, rec.clone()).await {
        Ok(f) => f,
        Err(e) => {
            let _ = finisher.finish().await;
            return Err(e);
        }
    };
    rec.mark_now(MarkKind::Point, labels::NOTE, Some(format!("{} load agents started; common intended start {:.3} s", plan.load.agents.count, fleet.start_us as f64 / 1e6)));
    let grace = Duration::from_millis(u64::from(plan.load.op_timeout_ms)) + Duration::from_secs(15);
    Ok(Started { load: RunLoad::Agents { fleet, grace }, rec, finisher, server_list: watch::channel(connect.to_string()).0 })
}

impl RunLoad {
    /// Stop the load; with agents, write their accounts to `agents.json` and say them on stderr.
    pub async fn stop(self, dir: &RunDir, rec: &RecorderHandle) -> crate::Result<()> {
        match self {
            RunLoad::Local { task, cancel } => {
                cancel.cancel();
                match task.await {
                    Ok(r) => Ok(r?),
                    Err(e) => Err(crate::Error::failed(format!("the load driver task failed: {e}"))),
                }
            }
            RunLoad::Agents { fleet, grace } => {
                let accounts = fleet.stop(grace).await;
                for a in accounts.agents.iter().filter(|a| a.status != super::accounts::AgentStatus::Finished) {
                    rec.mark_now(MarkKind::Point, labels::NOTE, Some(format!("load agent {} on {} did not finish: {:?}; its later operations are not recorded", a.share.index, a.share.engine, a.status)));
                }
                eprint!("{}", accounts.describe());
                dir.write_json(AGENTS_FILE, &accounts)?;
                Ok(())
            }
        }
    }
}
