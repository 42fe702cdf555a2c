//! Leader analysis: from the monitor's mode samples (`monitor.csv`), find the intervals where two
//! servers both acted as the writable authority.
//!
//! The poller (the mode monitor of the cluster layer) asks all servers in parallel once per tick; every sample of one
//! tick carries the tick's start time, so a tick is a snapshot and two samples of one tick are
//! compared as simultaneous. A server that does not answer within the timeout is `Down`. The
//! server list is a `watch` channel so joiners are polled from the moment the cluster code
//! publishes them; a server dropped from the list gets one final `Down` sample (otherwise its
//! last mode would hold for ever in the analysis). Rows go to `monitor.csv`
//! (`at_us,server,mode,zxid`, zxid decimal, empty when unknown) and are flushed every tick so an
//! interrupted run still has them.
//!
//! The analysis ([`analyze_modes`]) is pure: a sample's mode holds until that server's next
//! sample; overlaps of authorities are judged by epoch and zxid progress (see the function).

mod faults;
mod judge;
mod walk;

pub use faults::{HarnessFaults, HarnessHold};
pub use judge::{Overlap, OverlapMember};

use super::Verdict;
use crate::record::{ModeSample, ServerMode};
use judge::Judged;
use walk::ModeWalk;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A span of time during which a condition held, and the servers involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    pub from_us: u64,
    pub to_us: u64,
    pub servers: Vec<u32>,
}

/// What the mode samples say about leadership.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaderReport {
    pub verdict: Verdict,
    /// Which rule decided the verdict ([`RULES`]; see [`analyze_modes`] and [`judge`]).
    pub rule: String,
    pub samples: u64,
    /// More than one server reported `leader` at once (safe or not: see `unsafe_intervals`).
    pub two_leader_intervals: Vec<Interval>,
    /// A `standalone` server coexisted with a leader or another standalone.
    pub standalone_with_leader_intervals: Vec<Interval>,
    /// Overlaps judged unsafe: two writable authorities (see [`judge`] for the rules).
    pub unsafe_intervals: Vec<Interval>,
    /// How many overlaps were judged unsafe.
    pub unsafe_overlaps: u32,
    /// The overlap that decided the verdict, with its members' zxids: the first unsafe one
    /// (FAIL), the first whose zxids are not known (UNKNOWN), the longest deposed one (PASS).
    pub evidence: Option<Overlap>,
    /// Total length of overlaps judged safe: a deposed leader still saying `leader` at its old
    /// epoch with a frozen zxid (it cannot commit, but may serve stale reads), ms.
    pub deposed_overlap_ms: f64,
    /// How many overlaps were judged safe (deposed).
    pub deposed_overlaps: u32,
    /// Intervals where a server last seen as an authority stopped answering (`unknown`) while
    /// another was authority: whether it still accepted writes is not known.
    pub missing_evidence_intervals: Vec<Interval>,
    /// The harness's own faults that excused a silent server (it froze or stopped it: a server
    /// that cannot serve or commit is not hidden evidence).
    pub harness_holds: Vec<HarnessHold>,
    /// Times the sole authority (leader or standalone) became a different server.
    pub leader_changes: u32,
    /// When each of those changes was seen, µs (the charts mark them; not in summary.json).
    #[serde(skip)]
    pub leader_change_times_us: Vec<u64>,
    /// Distinct new epochs (zxid >> 32) reported by leaders, not counting the epoch already in
    /// force at the first sample.
    pub elections: u32,
    /// Servers ever reporting `leader`.
    pub leaders_seen: Vec<u32>,
    /// Servers ever reporting `standalone`.
    pub standalones_seen: Vec<u32>,
}

impl LeaderReport {
    /// One line for the console: the verdict, the rule that decided it and its evidence.
    pub fn headline(&self) -> String {
        let span = |i: &Interval| format!("servers {} at {:.3}-{:.3} s", super::fmt_ids(&i.servers), i.from_us as f64 / 1e6, i.to_us as f64 / 1e6);
        let evidence = self.evidence.as_ref().map(Overlap::describe).unwrap_or_default();
        let rule = self.rule.as_str();
        match (self.verdict, rule) {
            (Verdict::Unknown, "no-samples") => "leader monitor: no samples".to_string(),
            (Verdict::Unknown, _) if self.missing_evidence_intervals.is_empty() => format!(
                "UNKNOWN (rule {rule}): two authorities overlapped and a member's zxid is not known, so whether both could write is not known ({evidence})"
            ),
            (Verdict::Unknown, _) => format!(
                "UNKNOWN (rule {rule}): a server last seen leading stopped answering while another led ({} intervals, first: {}); whether it still accepted writes is not known",
                self.missing_evidence_intervals.len(),
                self.missing_evidence_intervals.first().map(span).unwrap_or_default()
            ),
            (Verdict::Pass, "deposed-leader-static-zxid") => format!(
                "no two writable authorities ({} samples; rule {rule}): in {} overlaps ({:.0} ms in all) the older-epoch authority's zxid was frozen, so it committed nothing (it could serve stale reads); longest: {evidence}",
                self.samples, self.deposed_overlaps, self.deposed_overlap_ms
            ),
            (Verdict::Pass, "harness-fault-not-evidence") => {
                let holds: Vec<String> = self.harness_holds.iter().map(HarnessHold::describe).collect();
                let deposed = if self.deposed_overlaps > 0 {
                    format!(
                        "; in {} overlaps ({:.0} ms in all) the older-epoch authority's zxid was frozen, so it committed nothing; longest: {evidence}",
                        self.deposed_overlaps, self.deposed_overlap_ms
                    )
                } else {
                    String::new()
                };
                format!(
                    "no two writable authorities ({} samples; rule {rule}): {}: its silence is not evidence of writes (a frozen or stopped process cannot serve or commit){deposed}",
                    self.samples,
                    holds.join(", ")
                )
            }
            (Verdict::Pass, _) => format!(
                "never more than one leader ({} samples; {} leader changes, {} elections; rule {rule})",
                self.samples, self.leader_changes, self.elections
            ),
            (Verdict::Fail, rule) => {
                let standalone = self.evidence.as_ref().is_some_and(|o| o.members.iter().any(|m| m.mode == ServerMode::Standalone));
                let what = match rule {
                    "same-epoch-leaders" => "TWO LEADERS IN ONE EPOCH",
                    "two-authorities-advancing" if standalone => "STANDALONE AND LEADER BOTH WRITABLE (both zxids advanced)",
                    "two-authorities-advancing" => "TWO WRITABLE LEADERS (both zxids advanced)",
                    "older-epoch-authority-advancing" if standalone => "STANDALONE AND LEADER BOTH WRITABLE (an older-epoch authority's zxid advanced)",
                    "older-epoch-authority-advancing" => "TWO WRITABLE LEADERS (an older-epoch leader's zxid advanced)",
                    _ => "TWO WRITABLE AUTHORITIES OF ONE EPOCH (neither deposed by a newer one)",
                };
                format!("{what} (rule {rule}) in {} overlaps; first: {evidence}", self.unsafe_overlaps)
            }
        }
    }
}

/// An overlap of authorities in progress.
struct OpenOverlap {
    interval: Interval,
    members: BTreeMap<u32, OverlapMember>,
}

impl OpenOverlap {
    fn close(self, judged: &mut Judged, t: u64) {
        judged.close(self.interval.from_us, t, self.members);
    }
}

/// Every rule name [`LeaderReport::rule`] can hold.
pub const RULES: [&str; 9] = [
    "never-two-authorities",
    "deposed-leader-static-zxid",
    "harness-fault-not-evidence",
    "same-epoch-leaders",
    "two-authorities-advancing",
    "older-epoch-authority-advancing",
    "same-epoch-authorities",
    "missing-evidence",
    "no-samples",
];

/// Reconstruct every server's mode over time and judge leadership by evidence, not appearance.
///
/// A sample's mode holds until that server's next sample. Whenever two or more servers are
/// authorities (`leader` or `standalone`) at once, the overlap is judged by the zxids they
/// reported during it ([`judge`]): it is safe only if at most one member's zxid advanced and
/// every other member is at an older epoch (a deposed leader, frozen: it cannot commit; the
/// overlap is reported with its length, not failed). Anything else — two zxids advancing,
/// whatever the epochs and modes; two leaders of one epoch; an older-epoch authority advancing;
/// two authorities at the newest epoch — is two writable authorities: FAIL. A server last seen as authority that stops answering (`unknown`) while another leads
/// hides the evidence: UNKNOWN unless something failed (one already seen deposed — claiming an
/// older epoch beside a newer-epoch leader — does not; nor does one the harness itself froze or
/// stopped, [`HarnessFaults`]: a probe sent while it was held finds a process that cannot serve
/// or commit, and its state stays excused until its next answer, which is judged as usual). The
/// rule that decided is named.
pub fn analyze_modes(samples: &[ModeSample], faults: &HarnessFaults) -> LeaderReport {
    let mut sorted: Vec<&ModeSample> = samples.iter().collect();
    sorted.sort_by_key(|s| (s.at_us, s.server));
    let mut walk = ModeWalk::new(sorted.first().map(|s| s.at_us));
    let mut i = 0;
    while i < sorted.len() {
        let t = sorted[i].at_us;
        // Samples with the same time (one tick in files written before per-probe timestamps)
        // are applied together.
        while i < sorted.len() && sorted[i].at_us == t {
            walk.apply(sorted[i], t, faults);
            i += 1;
        }
        walk.tick(t);
    }
    let end = sorted.last().map(|s| s.at_us).unwrap_or(0);
    walk.finish(end, samples.len(), faults)
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
#[cfg(test)]
mod tests_faults;
