//! The plan a `zkchaos load` run records: the load alone against an external ensemble, so the
//! same analysis reads its directory as a `zkchaos run` directory.

use super::{LoadPlan, Plan, ProcedurePlan};
use std::time::Duration;

/// The [`Plan`] a load run records: the load in force, no procedure for `duration`, and an
/// external ensemble whose size is the number of hosts in `connect`.
pub fn load_run_plan(load: &LoadPlan, connect: &str, seed: u64, duration: Duration) -> Plan {
    let mut plan = Plan {
        name: "load".into(),
        description: format!("zkchaos load against {connect}"),
        seed: Some(seed),
        cluster: Default::default(),
        load: load.clone(),
        phases: Default::default(),
        procedure: ProcedurePlan::None { duration_s: duration.as_secs_f64() },
        monitor: Default::default(),
    };
    plan.cluster.image = "(external ensemble)".into();
    plan.cluster.size = connect.split(',').filter(|h| !h.trim().is_empty()).count().max(1) as u32;
    plan.phases.warmup_s = 0.0;
    plan.phases.post_s = 0.0;
    plan
}
