//! Leader monitor: poll every server's mode (`srvr`) a few times a second, and find the intervals
//! where two servers both acted as the writable authority.
//!
//! The poller ([`spawn_monitor`]) asks all servers in parallel once per tick; every sample of one
//! tick carries the tick's start time, so a tick is a snapshot and two samples of one tick are
//! compared as simultaneous. A server that does not answer within the timeout is `Down`. The
//! server list is a `watch` channel so joiners are polled from the moment the cluster code
//! publishes them; a server dropped from the list gets one final `Down` sample (otherwise its
//! last mode would hold for ever in the analysis). Rows go to `monitor.csv`
//! (`at_us,server,mode,zxid`, zxid decimal, empty when unknown) and are flushed every tick so an
//! interrupted run still has them.
//!
//! The analysis ([`analyze_modes`]) is pure: a sample's mode holds until that server's next
//! sample; every instant where more than one server is `leader`, or a `standalone` coexists with
//! another leader or standalone, is a violation (verdict `single_leader` FAIL).

use super::{CheckError, Verdict};
use crate::record::{Epoch, ModeSample, ServerMode};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// One `srvr`-like poll: mode and zxid of the server at `addr`, or why it did not answer.
pub type Probe =
    Arc<dyn Fn(SocketAddr, Duration) -> BoxFuture<'static, Result<(ServerMode, Option<u64>), String>> + Send + Sync>;

/// The real probe: `srvr` over the published client port.
pub fn srvr_probe() -> Probe {
    Arc::new(|addr, timeout| {
        Box::pin(async move {
            crate::cluster::fourlw::srvr(addr, timeout).await.map(|i| (i.mode, i.zxid)).map_err(|e| e.to_string())
        })
    })
}

/// Start the poller with the real `srvr` probe. The task ends when `cancel` fires and returns
/// every sample it took. CSV write errors are logged once and stop the file (the samples are
/// still returned; [`write_monitor_csv`] can rewrite the file).
pub fn spawn_monitor(
    servers: watch::Receiver<Vec<(u32, SocketAddr)>>,
    interval: Duration,
    timeout: Duration,
    epoch: Epoch,
    out_csv: PathBuf,
    cancel: CancellationToken,
) -> JoinHandle<Vec<ModeSample>> {
    spawn_monitor_with(srvr_probe(), servers, interval, timeout, epoch, out_csv, cancel)
}

/// [`spawn_monitor`] with another probe (tests use a scripted one).
pub fn spawn_monitor_with(
    probe: Probe,
    servers: watch::Receiver<Vec<(u32, SocketAddr)>>,
    interval: Duration,
    timeout: Duration,
    epoch: Epoch,
    out_csv: PathBuf,
    cancel: CancellationToken,
) -> JoinHandle<Vec<ModeSample>> {
    tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut csv = match csv::Writer::from_path(&out_csv) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("monitor: cannot create {}: {e}; samples kept in memory only", out_csv.display());
                None
            }
        };
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut polled: BTreeSet<u32> = BTreeSet::new();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let list: Vec<(u32, SocketAddr)> = servers.borrow().clone();
            let at_us = epoch.now_us();
            let polls = list.iter().map(|(id, addr)| {
                let probe = probe.clone();
                let (id, addr) = (*id, *addr);
                async move {
                    // The probe bounds itself; this outer bound guards against a probe that does not.
                    let r = tokio::time::timeout(timeout + Duration::from_millis(50), probe(addr, timeout)).await;
                    let (mode, zxid) = match r {
                        Ok(Ok(v)) => v,
                        _ => (ServerMode::Down, None),
                    };
                    ModeSample { at_us, server: id, mode, zxid }
                }
            });
            let mut tick: Vec<ModeSample> = futures_util::future::join_all(polls).await;
            let now: BTreeSet<u32> = list.iter().map(|(id, _)| *id).collect();
            for gone in polled.difference(&now) {
                tick.push(ModeSample { at_us, server: *gone, mode: ServerMode::Down, zxid: None });
            }
            polled = now;
            if let Some(w) = csv.as_mut() {
                let r: Result<(), csv::Error> =
                    tick.iter().try_for_each(|s| w.serialize(s)).and_then(|_| w.flush().map_err(csv::Error::from));
                if let Err(e) = r {
                    tracing::warn!("monitor: writing {}: {e}; no further rows written", out_csv.display());
                    csv = None;
                }
            }
            samples.extend(tick);
        }
        samples
    })
}

/// Write samples as `monitor.csv` (same format as the poller).
pub fn write_monitor_csv(path: &Path, samples: &[ModeSample]) -> Result<(), CheckError> {
    let err = |source| CheckError::WriteMonitor { path: path.into(), source };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    for s in samples {
        w.serialize(s).map_err(err)?;
    }
    w.flush().map_err(|e| err(e.into()))
}

/// Read `monitor.csv`.
pub fn read_monitor_csv(path: &Path) -> Result<Vec<ModeSample>, CheckError> {
    let err = |source| CheckError::ReadMonitor { path: path.into(), source };
    let mut r = csv::Reader::from_path(path).map_err(err)?;
    r.deserialize().collect::<Result<Vec<ModeSample>, _>>().map_err(err)
}

/// A span of time during which a condition held, and the servers involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    pub from_us: u64,
    pub to_us: u64,
    pub servers: Vec<u32>,
}

/// What the mode samples say about leadership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderReport {
    pub verdict: Verdict,
    pub samples: u64,
    /// More than one server reported `leader` at once.
    pub two_leader_intervals: Vec<Interval>,
    /// A `standalone` server coexisted with a leader or another standalone.
    pub standalone_with_leader_intervals: Vec<Interval>,
    /// Times the sole authority (leader or standalone) became a different server.
    pub leader_changes: u32,
    /// Distinct new epochs (zxid >> 32) reported by leaders, not counting the epoch already in
    /// force at the first sample.
    pub elections: u32,
    /// Servers ever reporting `leader`.
    pub leaders_seen: Vec<u32>,
    /// Servers ever reporting `standalone`.
    pub standalones_seen: Vec<u32>,
}

impl LeaderReport {
    /// One line for the console.
    pub fn headline(&self) -> String {
        match self.verdict {
            Verdict::Unknown => "leader monitor: no samples".to_string(),
            Verdict::Pass => format!(
                "never more than one leader ({} samples; {} leader changes, {} elections)",
                self.samples, self.leader_changes, self.elections
            ),
            Verdict::Fail => {
                let mut parts = Vec::new();
                if let Some(i) = self.two_leader_intervals.first() {
                    parts.push(format!(
                        "TWO LEADERS in {} intervals (first: servers {} at {:.3}-{:.3} s)",
                        self.two_leader_intervals.len(),
                        super::fmt_ids(&i.servers),
                        i.from_us as f64 / 1e6,
                        i.to_us as f64 / 1e6
                    ));
                }
                if let Some(i) = self.standalone_with_leader_intervals.first() {
                    parts.push(format!(
                        "STANDALONE AND LEADER at once in {} intervals (first: servers {} at {:.3}-{:.3} s)",
                        self.standalone_with_leader_intervals.len(),
                        super::fmt_ids(&i.servers),
                        i.from_us as f64 / 1e6,
                        i.to_us as f64 / 1e6
                    ));
                }
                parts.join("; ")
            }
        }
    }
}

/// Reconstruct every server's mode over time and judge leadership.
pub fn analyze_modes(samples: &[ModeSample]) -> LeaderReport {
    let mut sorted: Vec<&ModeSample> = samples.iter().collect();
    sorted.sort_by_key(|s| s.at_us);
    let mut state: BTreeMap<u32, ServerMode> = BTreeMap::new();
    let mut two_leaders = Tracker::default();
    let mut standalone_mix = Tracker::default();
    let mut leaders_seen = BTreeSet::new();
    let mut standalones_seen = BTreeSet::new();
    let mut leader_changes = 0u32;
    let mut last_authority: Option<u32> = None;
    let first_at = sorted.first().map(|s| s.at_us);
    let mut baseline_epoch: Option<u64> = None;
    let mut epochs = BTreeSet::new();

    let mut i = 0;
    while i < sorted.len() {
        let t = sorted[i].at_us;
        // Apply every sample taken at `t` together: one tick is one snapshot.
        while i < sorted.len() && sorted[i].at_us == t {
            let s = sorted[i];
            state.insert(s.server, s.mode);
            match s.mode {
                ServerMode::Leader => {
                    leaders_seen.insert(s.server);
                    if let Some(z) = s.zxid {
                        if Some(t) == first_at {
                            baseline_epoch.get_or_insert(z >> 32);
                        }
                        epochs.insert(z >> 32);
                    }
                }
                ServerMode::Standalone => {
                    standalones_seen.insert(s.server);
                }
                _ => {}
            }
            i += 1;
        }
        let leaders: Vec<u32> = state.iter().filter(|(_, m)| **m == ServerMode::Leader).map(|(id, _)| *id).collect();
        let standalones: Vec<u32> =
            state.iter().filter(|(_, m)| **m == ServerMode::Standalone).map(|(id, _)| *id).collect();
        two_leaders.observe(t, (leaders.len() > 1).then(|| leaders.clone()));
        let mixed = !standalones.is_empty() && leaders.len() + standalones.len() > 1;
        standalone_mix.observe(t, mixed.then(|| leaders.iter().chain(&standalones).copied().collect()));
        if leaders.len() + standalones.len() == 1 {
            let auth = leaders.first().or(standalones.first()).copied();
            if last_authority.is_some() && last_authority != auth {
                leader_changes += 1;
            }
            last_authority = auth;
        }
    }
    let end = sorted.last().map(|s| s.at_us).unwrap_or(0);
    let two_leader_intervals = two_leaders.finish(end);
    let standalone_with_leader_intervals = standalone_mix.finish(end);
    let elections = epochs.iter().filter(|e| Some(**e) != baseline_epoch).count() as u32;
    let verdict = if samples.is_empty() {
        Verdict::Unknown
    } else if two_leader_intervals.is_empty() && standalone_with_leader_intervals.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    LeaderReport {
        verdict,
        samples: samples.len() as u64,
        two_leader_intervals,
        standalone_with_leader_intervals,
        leader_changes,
        elections,
        leaders_seen: leaders_seen.into_iter().collect(),
        standalones_seen: standalones_seen.into_iter().collect(),
    }
}

/// Turns "condition holds with these servers at t" observations into intervals.
#[derive(Default)]
struct Tracker {
    open: Option<Interval>,
    done: Vec<Interval>,
}

impl Tracker {
    fn observe(&mut self, t: u64, servers: Option<Vec<u32>>) {
        match (self.open.as_mut(), servers) {
            (Some(open), Some(s)) if open.servers == s => {}
            (Some(_), s) => {
                if let Some(mut open) = self.open.take() {
                    open.to_us = t;
                    self.done.push(open);
                }
                self.open = s.map(|servers| Interval { from_us: t, to_us: t, servers });
            }
            (None, s) => self.open = s.map(|servers| Interval { from_us: t, to_us: t, servers }),
        }
    }

    /// An interval still open at the last sample ends there.
    fn finish(mut self, end: u64) -> Vec<Interval> {
        if let Some(mut open) = self.open.take() {
            open.to_us = end;
            self.done.push(open);
        }
        self.done
    }
}

#[cfg(test)]
mod tests;
