//! Faults and the baseline: `none` (steady load for a while) and `pause` (freeze one server's
//! container for an exact duration: the ground truth against which outage figures are calibrated).

use crate::cluster::Backend;
use super::{marked, ProcedureCtx, ProcedureError, ProcedureOutcome};
use crate::plan::Target;
use std::time::Duration;

/// No change: the procedure phase is just load, for a baseline.
pub async fn steady<B: Backend>(ctx: &mut ProcedureCtx<'_, B>, duration_s: f64) -> Result<ProcedureOutcome, ProcedureError> {
    let d = Duration::from_secs_f64(duration_s.max(0.0));
    ctx.step("steady", async {
        tokio::time::sleep(d).await;
        Ok::<(), ProcedureError>(())
    })
    .await?;
    Ok(ProcedureOutcome { target_ids: ctx.cluster.server_ids(), notes: vec![] })
}

/// Pause `target` (a server id, or the current leader) for `duration_ms`, then unpause it.
pub async fn pause<B: Backend>(ctx: &mut ProcedureCtx<'_, B>, target: Target, duration_ms: u64) -> Result<ProcedureOutcome, ProcedureError> {
    let ids = ctx.cluster.server_ids();
    let id = match target {
        Target::Id(id) => id,
        Target::Leader => ctx.find_leader(&ids).await.ok_or_else(|| ProcedureError::Step {
            step: "find leader".into(),
            detail: format!("no server among {ids:?} reports leader or standalone"),
        })?,
    };
    let label = format!("pause zk{id}");
    // Three marks bracket the fault: `docker pause zkN` (the freeze happens somewhere inside this
    // API call), `pause zkN` (certainly frozen: from the pause call's return to the unpause call's
    // start, `duration_ms` long), and `docker unpause zkN` (the thaw happens inside this call).
    let (marks, epoch) = (ctx.marks, ctx.epoch);
    marked(marks, epoch, &format!("docker pause zk{id}"), ctx.cluster.pause(id))
        .await
        .map_err(|source| ProcedureError::Cluster { step: label.clone(), source })?;
    let frozen = ctx
        .step(&label, async {
            tokio::time::sleep(Duration::from_millis(duration_ms)).await;
            Ok::<(), ProcedureError>(())
        })
        .await;
    let thawed = marked(marks, epoch, &format!("docker unpause zk{id}"), ctx.cluster.unpause(id)).await;
    frozen?;
    thawed.map_err(|source| ProcedureError::Cluster { step: format!("unpause zk{id}"), source })?;
    Ok(ProcedureOutcome { target_ids: ids, notes: vec![format!("paused zk{id} for {duration_ms} ms")] })
}
