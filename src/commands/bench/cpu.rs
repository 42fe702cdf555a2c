//! `bench --only cpu`: process CPU (user + system, `getrusage(RUSAGE_SELF)` deltas around the
//! driving window only) per completed operation at 2,000 ops/s, 80/10/10 get/set/create, 4
//! sessions, against one ensemble, in interleaved rounds of three load generators:
//!
//! - `zkchaos`: the full driver (schedule, client, recorder, events.csv.gz, hlog);
//! - `bare open`: bare `zookeeper-client`, one `tokio::time::sleep_until` + `tokio::spawn` per
//!   operation, nothing recorded, no per-call timeout;
//! - `bare pipelined`: bare client, closed loop with 32 requests in flight (no task per
//!   operation), the floor the protocol allows.

use super::{median, scratch_dir, Out};
use crate::record::process::Usage;
use crate::runner::recorded::{RecordTo, RecordedLoad};
use crate::plan::LoadPlan;
use crate::record::{Epoch, OpKind};
use crate::workload::{key_path, Mix, Schedule, Workload, SEQ_PREFIX};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use zookeeper_client as zk;

const RATE: u32 = 2000;
const SESSIONS: usize = 4;
const PIPELINE: usize = 32;

/// CPU time, context switches and operations completed in one driving window.
#[derive(Debug, Clone, Copy)]
struct Window {
    usage: Usage,
    ops: u64,
}

impl Window {
    fn measured(before: Usage, ops: u64) -> Window {
        Window { usage: Usage::now().since(before), ops }
    }

    fn per_op(self) -> f64 {
        self.usage.cpu_us() as f64 / self.ops.max(1) as f64
    }

    fn switches_per_op(self) -> f64 {
        self.usage.switches as f64 / self.ops.max(1) as f64
    }

    /// Share of the CPU time spent in the kernel, %.
    fn sys_percent(self) -> f64 {
        100.0 * self.usage.sys_us as f64 / self.usage.cpu_us().max(1) as f64
    }

    fn describe(self) -> String {
        format!(
            "{:.1} µs/op ({} ops, {:.0} % in the kernel, {:.2} context switches/op)",
            self.per_op(),
            self.ops,
            self.sys_percent(),
            self.switches_per_op()
        )
    }
}

fn plan() -> LoadPlan {
    LoadPlan { rate: RATE, sessions: SESSIONS as u32, ..LoadPlan::default() }
}

fn failed(what: &str, e: impl std::fmt::Display) -> crate::Error {
    crate::Error::failed(format!("bench cpu: {what}: {e}"))
}

/// zkchaos's full driver: sessions connected and keys populated before, recorder finished inside.
async fn zkchaos(connect: &str, secs: u64) -> crate::Result<Window> {
    let dir = scratch_dir("cpu")?;
    let epoch = Epoch::now();
    let result = async {
        let cancel = CancellationToken::new();
        let plan = plan();
        let recorded = RecordedLoad::start(&plan, connect, 1, epoch, RecordTo::new(dir.clone(), cancel.clone())).await?;
        let schedule = Schedule::from_plan(&plan, epoch.now_us() + 20_000, Some(Duration::from_secs(secs)));
        let before = Usage::now();
        let (_, stats) = recorded.drive(schedule, cancel).await?;
        Ok::<_, crate::Error>(Window::measured(before, stats.counts.events))
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn sessions(connect: &str) -> crate::Result<Vec<zk::Client>> {
    let connector = || zk::Client::connector().with_session_timeout(Duration::from_secs(10));
    futures_util::future::try_join_all((0..SESSIONS).map(|_| connector().connect(connect)))
        .await
        .map_err(|e| failed(&format!("connect to {connect}"), e))
}

/// One operation of the mix, the way a bare client would issue it.
async fn bare_op(c: &zk::Client, kind: OpKind, key: u32, data: &[u8]) -> bool {
    let path = key_path(key);
    match kind {
        OpKind::Get => c.get_data(&path).await.is_ok(),
        OpKind::Set => c.set_data(&path, data, None).await.is_ok(),
        _ => {
            let opts = zk::CreateMode::PersistentSequential.with_acls(zk::Acls::anyone_all());
            c.create(SEQ_PREFIX, data, &opts).await.is_ok()
        }
    }
}

/// The naive open loop: sleep until each intended time, spawn the operation.
async fn bare_open(connect: &str, secs: u64, mix: &Mix) -> crate::Result<Window> {
    let clients = sessions(connect).await?;
    let data: Arc<[u8]> = vec![b'x'; plan().value_size as usize].into();
    let completed = Arc::new(AtomicU64::new(0));
    let mut rng = SmallRng::seed_from_u64(7);
    let period = Duration::from_secs_f64(1.0 / f64::from(RATE));
    let n = secs * u64::from(RATE);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    let before = Usage::now();
    for i in 0..n {
        tokio::time::sleep_until(start + period * i as u32).await;
        let (kind, key) = (mix.sample(&mut rng), rng.gen_range(0..plan().keys));
        let (c, data, completed, done) = (clients[i as usize % SESSIONS].clone(), data.clone(), completed.clone(), done_tx.clone());
        tokio::spawn(async move {
            if bare_op(&c, kind, key, &data).await {
                completed.fetch_add(1, Ordering::Relaxed);
            }
            drop(done);
        });
    }
    drop(done_tx);
    let _ = done_rx.recv().await;
    Ok(Window::measured(before, completed.load(Ordering::Relaxed)))
}

/// The floor: 32 requests always in flight over the 4 sessions, no task per operation.
async fn bare_pipelined(connect: &str, secs: u64, mix: &Mix) -> crate::Result<Window> {
    let clients = sessions(connect).await?;
    let data = vec![b'x'; plan().value_size as usize];
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    let before = Usage::now();
    let lanes = (0..PIPELINE).map(|lane| {
        let (c, data) = (&clients[lane % SESSIONS], &data);
        let mut rng = SmallRng::seed_from_u64(lane as u64);
        async move {
            let mut ok = 0u64;
            while tokio::time::Instant::now() < end {
                let (kind, key) = (mix.sample(&mut rng), rng.gen_range(0..plan().keys));
                ok += u64::from(bare_op(c, kind, key, data).await);
            }
            ok
        }
    });
    let ops: u64 = futures_util::future::join_all(lanes).await.into_iter().sum();
    Ok(Window::measured(before, ops))
}

pub async fn cpu(out: Out, connect: &str, secs: u64, rounds: u32) -> crate::Result<Value> {
    let plan = plan();
    let mix = Mix::new(&plan.mix).map_err(|e| failed("mix", e))?;
    // The key space the bare loops read and write (zkchaos prepares its own each round too).
    drop(Workload::prepare(&plan, connect, 1, Epoch::now()).await?);
    let (mut z, mut o, mut p) = (Vec::new(), Vec::new(), Vec::new());
    let mut rows = Vec::new();
    for round in 1..=rounds {
        let zw = zkchaos(connect, secs).await?;
        let ow = bare_open(connect, secs, &mix).await?;
        let pw = bare_pipelined(connect, secs, &mix).await?;
        let (zu, ou, pu) = (zw.per_op(), ow.per_op(), pw.per_op());
        out.say(format!(
            "cpu round {round}: zkchaos {}  bare open {}  bare pipelined {}  zkchaos/bare-open {:.2}×  zkchaos/pipelined {:.2}×",
            zw.describe(), ow.describe(), pw.describe(), zu / ou, zu / pu
        ));
        rows.push(json!({
            "zkchaos_us_per_op": zu, "bare_open_us_per_op": ou, "bare_pipelined_us_per_op": pu,
            "zkchaos_ops": zw.ops, "bare_open_ops": ow.ops, "bare_pipelined_ops": pw.ops,
            "zkchaos_switches_per_op": zw.switches_per_op(), "bare_open_switches_per_op": ow.switches_per_op(),
            "bare_pipelined_switches_per_op": pw.switches_per_op(),
            "zkchaos_sys_percent": zw.sys_percent(), "bare_open_sys_percent": ow.sys_percent(),
            "bare_pipelined_sys_percent": pw.sys_percent(),
        }));
        z.push(zu);
        o.push(ou);
        p.push(pu);
    }
    let (zm, om, pm) = (median(&z), median(&o), median(&p));
    let ratio = |a: &[f64], b: &[f64]| median(&a.iter().zip(b).map(|(x, y)| x / y).collect::<Vec<_>>());
    let (r_open, r_pipe) = (ratio(&z, &o), ratio(&z, &p));
    out.say(format!(
        "cpu @{RATE} ops/s, median of {rounds} rounds: zkchaos {zm:.1} µs/op, bare open {om:.1} µs/op, bare pipelined {pm:.1} µs/op; zkchaos/bare-open {r_open:.2}×, zkchaos/pipelined {r_pipe:.2}×"
    ));
    Ok(json!({
        "rate": RATE, "seconds": secs, "rounds": rows,
        "zkchaos_us_per_op": zm, "bare_open_us_per_op": om, "bare_pipelined_us_per_op": pm,
        "ratio_zkchaos_bare_open": r_open, "ratio_zkchaos_pipelined": r_pipe,
    }))
}
