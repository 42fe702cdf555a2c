//! `bench --only startup`: how long an ensemble takes to start, as `zkchaos run` starts it
//! (default cluster settings, no cpuset): the time from `Cluster::create` to `start_initial`
//! returning (every server serving), `starts` times each for 3 and 5 servers, each ensemble
//! torn down before the next.

use super::{median, Out};
use crate::runner::ensemble;
use crate::plan::ClusterPlan;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

async fn start_once(size: u32) -> crate::Result<f64> {
    let spec = ensemble::spec("bench-startup", ClusterPlan { size, ..ClusterPlan::default() });
    let t0 = Instant::now();
    let mut cluster = ensemble::start(spec, &ensemble::Up::within(Duration::from_secs(120))).await?.cluster;
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    cluster.teardown().await?;
    Ok(ms)
}

pub async fn startup(out: Out, starts: u32) -> crate::Result<Value> {
    let mut v = Map::new();
    for size in [3u32, 5] {
        let mut list = Vec::new();
        for _ in 0..starts {
            list.push(start_once(size).await?.round());
        }
        let max = list.iter().copied().fold(0.0, f64::max);
        let shown: Vec<String> = list.iter().map(|ms| format!("{ms:.0}")).collect();
        out.say(format!("startup {size} servers ({starts} starts): median {:.0} ms, max {max:.0} ms; each: {} ms", median(&list), shown.join(", ")));
        v.insert(format!("size{size}_ms"), json!(list));
        v.insert(format!("size{size}_median_ms"), json!(median(&list)));
        v.insert(format!("size{size}_max_ms"), json!(max));
    }
    Ok(Value::Object(v))
}
