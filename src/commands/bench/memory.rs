//! `bench --only memory`: RSS every 10 s over a 10-minute run at 2,000 ops/s with events
//! streamed to disk. Kept as one function so that it can be replaced whole.

use super::{measure, rss_mib, Out};
use crate::plan::LoadPlan;
use serde_json::{json, Value};
use std::time::Duration;

pub async fn memory(out: Out, connect: &str) -> crate::Result<Value> {
    let plan = LoadPlan { rate: 2000, ..LoadPlan::default() };
    let sampler = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        let mut t = 0;
        loop {
            tick.tick().await;
            out.say(format!("memory t={t:>4} s rss {:.1} MiB", rss_mib()));
            t += 10;
        }
    });
    let s = measure(&plan, connect, 600, "memory").await;
    sampler.abort();
    let s = s?;
    out.say(format!("memory run: ops {} ok {} final rss {:.1} MiB", s.counts.total, s.counts.ok, rss_mib()));
    Ok(json!({ "ops": s.counts.total, "final_rss_mib": rss_mib() }))
}
