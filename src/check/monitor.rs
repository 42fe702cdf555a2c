//! Leader analysis: from the monitor's mode samples (`monitor.csv`), find the intervals where two
//! servers both acted as the writable authority.
//!
//! The poller ([`crate::cluster::monitor`]) asks all servers in parallel once per tick; every sample of one
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

use super::Verdict;
use crate::record::{ModeSample, ServerMode};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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
