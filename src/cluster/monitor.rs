//! The server-mode monitor: poll every server's mode (`srvr`) a few times a second into
//! `monitor.csv` (the leader check in [`crate::check::monitor`] judges the samples afterwards).
//!
//! All servers are asked in parallel once per tick, each sample stamped with its own send and
//! receive times; a server that refuses the connection is `Down`, one that does not answer
//! within the timeout is `Unknown` (a paused server behind docker-proxy accepts and stays silent). The server list is a `watch` channel so joiners are polled from the moment
//! the cluster code publishes them; a server dropped from the list gets one final `Down` sample.
//! Rows are flushed every tick so an interrupted run still has them.

use crate::record::monitor_csv::LiveMonitorCsv;
use crate::record::{Epoch, ModeSample, ServerMode};
use futures_util::future::BoxFuture;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// One `srvr`-like poll: mode and zxid of the server at `addr` (`Unknown` when it did not answer
/// in time), or why the connection failed (recorded as `Down`).
pub type Probe =
    Arc<dyn Fn(SocketAddr, Duration) -> BoxFuture<'static, Result<(ServerMode, Option<u64>), String>> + Send + Sync>;

/// The real probe: `srvr` over the published client port.
pub fn srvr_probe() -> Probe {
    Arc::new(|addr, timeout| {
        Box::pin(async move {
            match super::fourlw::srvr(addr, timeout).await {
                Ok(i) => Ok((i.mode, i.zxid)),
                // Accepted but silent (a paused container behind docker-proxy): mode unknown.
                Err(super::fourlw::FourLwError::Timeout { .. }) => Ok((ServerMode::Unknown, None)),
                Err(e) => Err(e.to_string()),
            }
        })
    })
}

/// Start the poller with the real `srvr` probe. The task ends when `cancel` fires and returns
/// every sample it took. A CSV write error trips the run's write-failure wire and stops the file
/// (the samples are still returned; [`crate::record::write_monitor_csv`] can rewrite the file).
pub fn spawn_monitor(
    servers: watch::Receiver<Vec<(u32, SocketAddr)>>,
    interval: Duration,
    timeout: Duration,
    epoch: Epoch,
    out: LiveMonitorCsv,
    cancel: CancellationToken,
) -> JoinHandle<Vec<ModeSample>> {
    spawn_monitor_with(srvr_probe(), servers, interval, timeout, epoch, out, cancel)
}

/// [`spawn_monitor`] with another probe (tests use a scripted one).
pub fn spawn_monitor_with(
    probe: Probe,
    servers: watch::Receiver<Vec<(u32, SocketAddr)>>,
    interval: Duration,
    timeout: Duration,
    epoch: Epoch,
    out: LiveMonitorCsv,
    cancel: CancellationToken,
) -> JoinHandle<Vec<ModeSample>> {
    tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut out = out;
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut polled: BTreeSet<u32> = BTreeSet::new();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let list: Vec<(u32, SocketAddr)> = servers.borrow().clone();
            let polls = list.iter().map(|(id, addr)| {
                let probe = probe.clone();
                let (id, addr) = (*id, *addr);
                async move {
                    // Each probe carries its own send and receive times: a hand-off between two
                    // servers within one tick must not look simultaneous.
                    let sent_us = epoch.now_us();
                    // The probe bounds itself; this outer bound guards against a probe that does not.
                    let r = tokio::time::timeout(timeout + Duration::from_millis(50), probe(addr, timeout)).await;
                    let (mode, zxid) = match r {
                        Ok(Ok(v)) => v,
                        Ok(Err(_)) => (ServerMode::Down, None),
                        Err(_) => (ServerMode::Unknown, None),
                    };
                    ModeSample { at_us: epoch.now_us(), server: id, mode, zxid, sent_us: Some(sent_us) }
                }
            });
            let at_us = epoch.now_us();
            let mut tick: Vec<ModeSample> = futures_util::future::join_all(polls).await;
            let now: BTreeSet<u32> = list.iter().map(|(id, _)| *id).collect();
            for gone in polled.difference(&now) {
                tick.push(ModeSample::new(at_us, *gone, ServerMode::Down, None));
            }
            polled = now;
            out.append(&tick);
            samples.extend(tick);
        }
        samples
    })
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::read_monitor_csv;
    use crate::record::ServerMode::*;

#[tokio::test]
    async fn poller_samples_joiners_and_marks_removed_down() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(crate::record::files::MONITOR_FILE);
        let a: SocketAddr = "127.0.0.1:1001".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:1002".parse().unwrap();
        // zk1 leads; zk2 answers follower; any other address times out.
        let probe: Probe = Arc::new(move |addr, timeout| {
            Box::pin(async move {
                match addr.port() {
                    1001 => Ok((Leader, Some(1 << 32))),
                    1002 => Ok((Follower, Some(1 << 32))),
                    _ => {
                        tokio::time::sleep(timeout * 10).await;
                        Err("silent".to_string())
                    }
                }
            })
        });
        let (tx, rx) = watch::channel(vec![(1, a)]);
        let cancel = CancellationToken::new();
        let h = spawn_monitor_with(
            probe,
            rx,
            Duration::from_millis(20),
            Duration::from_millis(10),
            Epoch::now(),
            LiveMonitorCsv::create(p.clone(), crate::record::WriteFailure::new()),
            cancel.clone(),
        );
        tokio::time::sleep(Duration::from_millis(70)).await;
        tx.send_replace(vec![(1, a), (2, b), (3, "127.0.0.1:1003".parse().unwrap())]);
        // Long enough for several ticks even on a loaded host (each tick waits out zk3's silence).
        tokio::time::sleep(Duration::from_millis(400)).await;
        tx.send_replace(vec![(1, a)]);
        tokio::time::sleep(Duration::from_millis(60)).await;
        cancel.cancel();
        let samples = h.await.unwrap();
        assert!(samples.iter().any(|s| s.server == 2 && s.mode == Follower));
        assert!(samples.iter().any(|s| s.server == 3 && s.mode == Unknown));
        let last2 = samples.iter().rfind(|s| s.server == 2).unwrap();
        assert_eq!(last2.mode, Down, "removed server gets a final Down");
        let on_disk = read_monitor_csv(&p).unwrap();
        assert_eq!(on_disk, samples);
        }
}
