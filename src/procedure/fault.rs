//! Faults and the baseline: `none` (steady load for a while) and `pause` (freeze one server's
//! container for an exact duration: the ground truth against which outage figures are calibrated).

use super::{ProcedureCtx, ProcedureError, ProcedureOutcome};
use crate::plan::Target;
use std::time::Duration;

/// No change: the procedure phase is just load, for a baseline.
pub async fn steady(ctx: &mut ProcedureCtx<'_>, duration_s: f64) -> Result<ProcedureOutcome, ProcedureError> {
    let d = Duration::from_secs_f64(duration_s.max(0.0));
    ctx.step("steady", async {
        tokio::time::sleep(d).await;
        Ok::<(), ProcedureError>(())
    })
    .await?;
    Ok(ProcedureOutcome { target_ids: ctx.cluster.server_ids(), notes: vec![] })
}

/// Pause `target` (a server id, or the current leader) for `duration_ms`, then unpause it.
pub async fn pause(ctx: &mut ProcedureCtx<'_>, target: Target, duration_ms: u64) -> Result<ProcedureOutcome, ProcedureError> {
    let ids = ctx.cluster.server_ids();
    let id = match target {
        Target::Id(id) => id,
        Target::Leader => ctx.find_leader(&ids).await.ok_or_else(|| ProcedureError::Step {
            step: "find leader".into(),
            detail: format!("no server among {ids:?} reports leader or standalone"),
        })?,
    };
    let label = format!("pause zk{id}");
    // The pause mark brackets exactly the time the container was frozen: it opens when the pause
    // call has returned and closes right before the unpause call is sent.
    ctx.cluster.pause(id).await.map_err(|source| ProcedureError::Cluster { step: label.clone(), source })?;
    let frozen = ctx
        .step(&label, async {
            tokio::time::sleep(Duration::from_millis(duration_ms)).await;
            Ok::<(), ProcedureError>(())
        })
        .await;
    let thawed = ctx.cluster.unpause(id).await;
    frozen?;
    thawed.map_err(|source| ProcedureError::Cluster { step: format!("unpause zk{id}"), source })?;
    Ok(ProcedureOutcome { target_ids: ids, notes: vec![format!("paused zk{id} for {duration_ms} ms")] })
}
