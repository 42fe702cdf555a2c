//! The fair comparator of `bench --only cpu` (issue 29): a bare open loop on the *same* executor
//! design as zkchaos's driver, so that the ratio of zkchaos to it is zkchaos's recording overhead
//! and nothing else.
//!
//! Same as the driver ([`crate::workload::driver`]): one [`LoadThread`] runs the loop, every
//! operation (one task each, spawned on its executor) and every session's task; the loop waits
//! for each intended start with a [`PreciseTimer`] (a timerfd, timer slack 1 µs); sessions are
//! connected from that thread; operation `i` runs on session `i mod 4`; every completed operation
//! counts, whatever its outcome (zkchaos counts every recorded event: ok, fail, indeterminate).
//! Left out, on purpose, because they are what the ratio measures: events, histograms, the
//! recorder, the deadline queue, session replacement, tokens and payload formatting.

use super::cpu::{failed, plan, Window, RATE, SESSIONS};
use crate::record::process::Usage;
use crate::record::OpKind;
use crate::workload::load_thread::{LoadThread, PreciseTimer};
use crate::workload::{key_path, Mix, SEQ_PREFIX};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use zookeeper_client as zk;

/// One operation of the mix; true when it completed (any outcome: the driver records those too).
async fn op(c: &zk::Client, kind: OpKind, key: u32, data: &[u8]) {
    let path = key_path(key);
    let _ = match kind {
        OpKind::Get => c.get_data(&path).await.map(drop),
        OpKind::Set => c.set_data(&path, data, None).await.map(drop),
        _ => {
            let opts = zk::CreateMode::PersistentSequential.with_acls(zk::Acls::anyone_all());
            c.create(SEQ_PREFIX, data, &opts).await.map(drop)
        }
    };
}

/// Connect the sessions from the load thread (so their tasks live there, as the driver's do).
async fn sessions(thread: &LoadThread, connect: &str) -> crate::Result<Vec<Arc<zk::Client>>> {
    let tasks = (0..SESSIONS).map(|_| {
        let connect = connect.to_string();
        thread.spawn(async move {
            zk::Client::connector().with_session_timeout(Duration::from_secs(10)).connect(&connect).await.map(Arc::new)
        })
    });
    futures_util::future::try_join_all(tasks).await.map_err(|e| failed(&format!("connect to {connect}"), e))
}

/// `secs` of the open loop at [`RATE`] on a load thread of its own.
pub(super) async fn bare_same_executor(connect: &str, secs: u64, mix: &Mix) -> crate::Result<Window> {
    let thread = LoadThread::start().map_err(|e| failed("start the load thread", e))?;
    let clients = sessions(&thread, connect).await?;
    let ex = thread.executor();
    let data: Arc<[u8]> = vec![b'x'; plan().value_size as usize].into();
    let completed = Arc::new(AtomicU64::new(0));
    let (mix, keys) = (mix.clone(), plan().keys);
    let period_ns = 1_000_000_000u64 / u64::from(RATE);
    let n = secs * u64::from(RATE);
    let before = Usage::now();
    let counted = completed.clone();
    let driven = thread.spawn(async move {
        let timer = PreciseTimer::new()?;
        let mut rng = SmallRng::seed_from_u64(7);
        let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
        let start = Instant::now() + Duration::from_millis(20);
        for i in 0..n {
            timer.sleep_until(start + Duration::from_nanos(i * period_ns)).await?;
            let (kind, key) = (mix.sample(&mut rng), rng.gen_range(0..keys));
            let (c, data, counted, done) = (clients[i as usize % SESSIONS].clone(), data.clone(), counted.clone(), done_tx.clone());
            ex.spawn(async move {
                op(&c, kind, key, &data).await;
                counted.fetch_add(1, Ordering::Relaxed);
                drop(done);
            })
            .detach();
        }
        drop(done_tx);
        let _ = done_rx.recv().await;
        Ok::<_, std::io::Error>(())
    });
    driven.await.map_err(|e| failed("the same-executor loop's timer", e))?;
    let window = Window::measured(before, completed.load(Ordering::Relaxed));
    drop(thread);
    Ok(window)
}
