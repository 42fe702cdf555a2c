//! `bench --only lag`: schedule lag (how late each operation was issued after its intended
//! time) p50/p99/max at 5,000 ops/s against the bench's 3-server ensemble, and at 20,000 ops/s
//! against a 1-server ensemble started for it (same CPU split). Default mix, 4 sessions.

use super::{measure, start_ensemble, Out};
use crate::plan::LoadPlan;
use serde_json::{json, Value};

const RATE: u32 = 5000;
const ONE_SERVER_RATE: u32 = 20_000;

async fn at(out: Out, connect: &str, secs: u64, rate: u32, what: &str) -> crate::Result<Value> {
    let plan = LoadPlan { rate, ..LoadPlan::default() };
    let s = measure(&plan, connect, secs, "lag").await?;
    out.say(format!(
        "lag @{rate} ops/s ({what}): p50 {} µs  p99 {} µs  max {} µs  (ops {}, ok {}, achieved {:.1}/s)",
        s.lag.p50, s.lag.p99, s.lag.max, s.counts.total, s.counts.ok, s.counts.achieved_rate
    ));
    Ok(json!({
        "rate": rate, "p50_us": s.lag.p50, "p99_us": s.lag.p99, "max_us": s.lag.max,
        "ops": s.counts.total, "ok": s.counts.ok, "achieved_rate": s.counts.achieved_rate,
    }))
}

/// `one_server`: `Some(cpuset)` to also start a 1-server ensemble (servers on `cpuset`) and
/// measure 20,000 ops/s on it; `None` when measuring someone else's ensemble.
pub async fn lag(out: Out, connect: &str, secs: u64, one_server: Option<Option<String>>) -> crate::Result<Value> {
    let mut v = at(out, connect, secs, RATE, "3 servers").await?;
    match one_server {
        Some(cpuset) => {
            let mut cluster = start_ensemble(1, cpuset).await?;
            let r = at(out, &cluster.connect_string(&[1]), secs, ONE_SERVER_RATE, "1 server").await;
            if let Err(e) = cluster.teardown().await {
                eprintln!("zkchaos bench: teardown of the 1-server ensemble failed: {e}");
            }
            v["one_server"] = r?;
        }
        None => out.say(format!("lag @{ONE_SERVER_RATE} ops/s (1 server): skipped with --connect")),
    }
    Ok(v)
}
