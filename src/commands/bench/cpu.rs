//! `bench --only cpu`: process CPU (user + system, `getrusage(RUSAGE_SELF)` deltas around the
//! driving window only) per completed operation at 2,000 ops/s, 80/10/10 get/set/create, 4
//! sessions, against one ensemble, in rounds of four load generators, each round in a shuffled
//! order (the order is in the round's JSON row), the spread over rounds printed:
//!
//! - `zkchaos`: the full driver (schedule, client, recorder, events.csv.gz, hlog);
//! - `bare same-executor` ([`super::bare`]): the driver's own executor design (load thread,
//!   timerfd, a task per operation, every completion counted) with nothing recorded — the fair
//!   comparator: zkchaos / it is the recording overhead (issue 29's target ≤ 1.10×);
//! - `bare open`: bare `zookeeper-client` on tokio's multi-thread runtime, one
//!   `tokio::time::sleep_until` (1 ms timer wheel) + `tokio::spawn` per operation, nothing
//!   recorded, successes counted — a naive tool, not a fair comparator (kept for continuity);
//! - `bare pipelined`: bare client, closed loop with 32 requests in flight (no task per
//!   operation), the floor the protocol allows.

use super::{median, scratch_dir, Out};
use crate::record::process::Usage;
use crate::runner::recorded::{RecordTo, RecordedLoad};
use crate::plan::LoadPlan;
use crate::record::{Epoch, OpKind};
use crate::workload::{key_path, Mix, Schedule, Workload, SEQ_PREFIX};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use zookeeper_client as zk;

pub(super) const RATE: u32 = 2000;
pub(super) const SESSIONS: usize = 4;
const PIPELINE: usize = 32;

/// CPU time, context switches and operations completed in one driving window.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    usage: Usage,
    ops: u64,
}

impl Window {
    pub(super) fn measured(before: Usage, ops: u64) -> Window {
        Window { usage: Usage::now().since(before), ops }
    }

    pub(super) fn per_op(self) -> f64 {
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

pub(super) fn plan() -> LoadPlan {
    LoadPlan { rate: RATE, sessions: SESSIONS as u32, ..LoadPlan::default() }
}

pub(super) fn failed(what: &str, e: impl std::fmt::Display) -> crate::Error {
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

/// The load generators compared, in the order their figures are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Generator {
    Zkchaos,
    SameExecutor,
    BareOpen,
    Pipelined,
}

impl Generator {
    const ALL: [Generator; 4] = [Generator::Zkchaos, Generator::SameExecutor, Generator::BareOpen, Generator::Pipelined];

    fn key(self) -> &'static str {
        match self {
            Generator::Zkchaos => "zkchaos",
            Generator::SameExecutor => "bare_same_executor",
            Generator::BareOpen => "bare_open",
            Generator::Pipelined => "bare_pipelined",
        }
    }

    async fn window(self, connect: &str, secs: u64, mix: &Mix) -> crate::Result<Window> {
        match self {
            Generator::Zkchaos => zkchaos(connect, secs).await,
            Generator::SameExecutor => super::bare::bare_same_executor(connect, secs, mix).await,
            Generator::BareOpen => bare_open(connect, secs, mix).await,
            Generator::Pipelined => bare_pipelined(connect, secs, mix).await,
        }
    }
}

/// One round: every generator once, in `order`; its JSON row and µs/op by generator.
async fn round(out: Out, n: u32, order: &[Generator], connect: &str, secs: u64, mix: &Mix) -> crate::Result<(Value, [f64; 4])> {
    let mut windows = [None; 4];
    for g in order {
        windows[*g as usize] = Some(g.window(connect, secs, mix).await?);
    }
    let mut row = Map::new();
    let mut per_op = [0.0; 4];
    for g in Generator::ALL {
        let w = windows[g as usize].ok_or_else(|| failed("round", format!("{} did not run", g.key())))?;
        per_op[g as usize] = w.per_op();
        row.insert(format!("{}_us_per_op", g.key()), json!(w.per_op()));
        row.insert(format!("{}_ops", g.key()), json!(w.ops));
        row.insert(format!("{}_switches_per_op", g.key()), json!(w.switches_per_op()));
        row.insert(format!("{}_sys_percent", g.key()), json!(w.sys_percent()));
    }
    row.insert("order".into(), json!(order.iter().map(|g| g.key()).collect::<Vec<_>>()));
    row.insert("loadavg".into(), json!(super::loadavg()));
    let [z, same, open, pipe] = per_op;
    let [zw, sw, ow, pw] = Generator::ALL.map(|g| windows[g as usize].map(Window::describe).unwrap_or_default());
    out.say(format!(
        "cpu round {n} (order {}): zkchaos {zw}  bare same-executor {sw}  bare open (tokio) {ow}  bare pipelined {pw}  zkchaos/same-executor {:.2}×  zkchaos/bare-open {:.2}×  zkchaos/pipelined {:.2}×",
        order.iter().map(|g| g.key()).collect::<Vec<_>>().join(","),
        z / same,
        z / open,
        z / pipe
    ));
    Ok((Value::Object(row), per_op))
}

/// Median and spread (min, max) of the per-round ratios `a/b`.
fn ratio(rounds: &[[f64; 4]], a: Generator, b: Generator) -> (f64, f64, f64) {
    let r: Vec<f64> = rounds.iter().map(|x| x[a as usize] / x[b as usize]).collect();
    let min = r.iter().copied().fold(f64::INFINITY, f64::min);
    let max = r.iter().copied().fold(0.0, f64::max);
    (median(&r), min, max)
}

pub async fn cpu(out: Out, connect: &str, secs: u64, rounds: u32) -> crate::Result<Value> {
    let plan = plan();
    let mix = Mix::new(&plan.mix).map_err(|e| failed("mix", e))?;
    // The key space the bare loops read and write (zkchaos prepares its own each round too).
    drop(Workload::prepare(&plan, connect, 1, Epoch::now()).await?);
    // Rounds in a shuffled order, so that no generator always runs first (warm caches, a
    // neighbour's burst): the order of each round is in its JSON row.
    let mut rng = SmallRng::from_entropy();
    let (mut rows, mut figures) = (Vec::new(), Vec::new());
    for n in 1..=rounds {
        let mut order = Generator::ALL;
        order.shuffle(&mut rng);
        let (row, per_op) = round(out, n, &order, connect, secs, &mix).await?;
        rows.push(row);
        figures.push(per_op);
    }
    let med = |g: Generator| median(&figures.iter().map(|f| f[g as usize]).collect::<Vec<_>>());
    let (same, same_min, same_max) = ratio(&figures, Generator::Zkchaos, Generator::SameExecutor);
    let (open, open_min, open_max) = ratio(&figures, Generator::Zkchaos, Generator::BareOpen);
    let (pipe, pipe_min, pipe_max) = ratio(&figures, Generator::Zkchaos, Generator::Pipelined);
    out.say(format!(
        "cpu @{RATE} ops/s, median of {rounds} rounds (spread min–max): zkchaos {:.1} µs/op, bare same-executor {:.1}, bare open (tokio) {:.1}, bare pipelined {:.1}; zkchaos/same-executor {same:.2}× ({same_min:.2}–{same_max:.2}), zkchaos/bare-open {open:.2}× ({open_min:.2}–{open_max:.2}), zkchaos/pipelined {pipe:.2}× ({pipe_min:.2}–{pipe_max:.2})",
        med(Generator::Zkchaos), med(Generator::SameExecutor), med(Generator::BareOpen), med(Generator::Pipelined)
    ));
    Ok(json!({
        "rate": RATE, "seconds": secs, "rounds": rows,
        "zkchaos_us_per_op": med(Generator::Zkchaos), "bare_same_executor_us_per_op": med(Generator::SameExecutor),
        "bare_open_us_per_op": med(Generator::BareOpen), "bare_pipelined_us_per_op": med(Generator::Pipelined),
        "ratio_zkchaos_same_executor": same, "ratio_zkchaos_same_executor_min": same_min, "ratio_zkchaos_same_executor_max": same_max,
        "ratio_zkchaos_bare_open": open, "ratio_zkchaos_bare_open_min": open_min, "ratio_zkchaos_bare_open_max": open_max,
        "ratio_zkchaos_pipelined": pipe, "ratio_zkchaos_pipelined_min": pipe_min, "ratio_zkchaos_pipelined_max": pipe_max,
    }))
}
