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

pub use faults::{HarnessFaults, HarnessHold};
pub use judge::{Overlap, OverlapMember};

use super::Verdict;
use crate::record::{ModeSample, ServerMode};
use judge::Judged;
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
    let mut state: BTreeMap<u32, (ServerMode, Option<u64>)> = BTreeMap::new();
    // Per server: was its last certain (answered) sample an authority, and at which zxid.
    let mut last_certain_authority: BTreeMap<u32, (bool, Option<u64>)> = BTreeMap::new();
    let mut seen_deposed: BTreeSet<u32> = BTreeSet::new();
    // Servers whose last sample was a silent probe of a server the harness held: hold index.
    let mut excused: BTreeMap<u32, usize> = BTreeMap::new();
    let mut excuses_used: BTreeSet<usize> = BTreeSet::new();
    let mut two_leaders = Tracker::default();
    let mut standalone_mix = Tracker::default();
    let mut missing = Tracker::default();
    let mut open: Option<OpenOverlap> = None;
    let mut judged = Judged::default();
    let mut any_overlap = false;
    let mut leaders_seen = BTreeSet::new();
    let mut standalones_seen = BTreeSet::new();
    let mut leader_changes = 0u32;
    let mut last_authority: Option<u32> = None;
    let first_at = sorted.first().map(|s| s.at_us);
    let mut baseline_epoch: Option<u64> = None;
    let mut epochs = BTreeSet::new();
    let is_authority = |m: ServerMode| m.is_authority();
    let mut leader_change_times_us = Vec::new();

    let mut i = 0;
    while i < sorted.len() {
        let t = sorted[i].at_us;
        // Samples with the same time (one tick in files written before per-probe timestamps)
        // are applied together.
        while i < sorted.len() && sorted[i].at_us == t {
            let s = sorted[i];
            state.insert(s.server, (s.mode, s.zxid));
            if s.mode != ServerMode::Unknown {
                last_certain_authority.insert(s.server, (is_authority(s.mode), s.zxid));
                excused.remove(&s.server);
            } else {
                // The probe met the server at some instant in [sent_us, at_us].
                let held = faults.holding(s.server, s.sent_us.unwrap_or(s.at_us)).or_else(|| faults.holding(s.server, s.at_us));
                match held {
                    Some(h) => excused.insert(s.server, h),
                    None => excused.remove(&s.server),
                };
            }
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
            // A member of an open overlap that answered again: extend its zxid span.
            if let Some(o) = open.as_mut() {
                if let Some(span) = o.members.get_mut(&s.server) {
                    if is_authority(s.mode) && s.zxid.is_some() {
                        span.last_zxid = s.zxid;
                    }
                }
            }
            i += 1;
        }
        let leaders: Vec<u32> = state.iter().filter(|(_, m)| m.0 == ServerMode::Leader).map(|(id, _)| *id).collect();
        let standalones: Vec<u32> =
            state.iter().filter(|(_, m)| m.0 == ServerMode::Standalone).map(|(id, _)| *id).collect();
        let authorities: Vec<u32> = leaders.iter().chain(&standalones).copied().collect();
        two_leaders.observe(t, (leaders.len() > 1).then(|| leaders.clone()));
        let mixed = !standalones.is_empty() && authorities.len() > 1;
        standalone_mix.observe(t, mixed.then(|| authorities.clone()));
        // Servers seen, side by side with a leader of a newer epoch, still claiming authority at
        // an older one: deposed (they cannot commit in that epoch any more; leading again needs a
        // new epoch, which shows when they answer).
        let newest_leader_epoch =
            state.values().filter(|m| m.0 == ServerMode::Leader).filter_map(|m| m.1).map(|z| z >> 32).max();
        for (id, (mode, zxid)) in &state {
            match (is_authority(*mode), zxid, newest_leader_epoch) {
                (true, Some(z), Some(e)) if (z >> 32) < e => {
                    seen_deposed.insert(*id);
                }
                (_, _, _) if *mode != ServerMode::Unknown => {
                    seen_deposed.remove(id);
                }
                _ => {}
            }
        }
        // A silent server last seen as an authority hides evidence, unless it was seen deposed
        // or the harness held it.
        let silent: Vec<u32> = state
            .iter()
            .filter(|(id, m)| {
                m.0 == ServerMode::Unknown
                    && last_certain_authority.get(*id).is_some_and(|(auth, _)| *auth)
                    && !seen_deposed.contains(*id)
            })
            .map(|(id, _)| *id)
            .filter(|id| !authorities.contains(id))
            .collect();
        if !authorities.is_empty() {
            excuses_used.extend(silent.iter().filter_map(|id| excused.get(id)));
        }
        let hidden: Vec<u32> = silent.into_iter().filter(|id| !excused.contains_key(id)).collect();
        missing.observe(t, (!authorities.is_empty() && !hidden.is_empty()).then(|| authorities.iter().chain(&hidden).copied().collect()));

        // Overlap bookkeeping: a new member set closes the open overlap and may open another.
        let mut set: Vec<u32> = authorities.clone();
        set.sort_unstable();
        let same = open.as_ref().is_some_and(|o| o.interval.servers == set);
        if !same {
            if let Some(o) = open.take() {
                o.close(&mut judged, t);
            }
            if set.len() > 1 {
                any_overlap = true;
                let members = set
                    .iter()
                    .map(|id| {
                        let (mode, zxid) = state[id];
                        (*id, OverlapMember { server: *id, mode, first_zxid: zxid, last_zxid: zxid })
                    })
                    .collect();
                open = Some(OpenOverlap { interval: Interval { from_us: t, to_us: t, servers: set }, members });
            }
        }

        if authorities.len() == 1 {
            let auth = authorities.first().copied();
            if last_authority.is_some() && last_authority != auth {
                leader_changes += 1;
                leader_change_times_us.push(t);
            }
            last_authority = auth;
        }
    }
    let end = sorted.last().map(|s| s.at_us).unwrap_or(0);
    if let Some(o) = open.take() {
        o.close(&mut judged, end);
    }
    let two_leader_intervals = two_leaders.finish(end);
    let standalone_with_leader_intervals = standalone_mix.finish(end);
    let missing_evidence_intervals = missing.finish(end);
    let elections = epochs.iter().filter(|e| Some(**e) != baseline_epoch).count() as u32;
    let unsafe_intervals = judged
        .unsafe_overlaps
        .iter()
        .map(|o| Interval { from_us: o.from_us, to_us: o.to_us, servers: o.members.iter().map(|m| m.server).collect() })
        .collect();
    let (verdict, rule, evidence) = if samples.is_empty() {
        (Verdict::Unknown, "no-samples", None)
    } else if let (Some(rule), Some(first)) = (judged.first_rule, judged.unsafe_overlaps.first()) {
        (Verdict::Fail, rule, Some(first.clone()))
    } else if judged.unknown_zxid.is_some() || !missing_evidence_intervals.is_empty() {
        (Verdict::Unknown, "missing-evidence", judged.unknown_zxid.clone())
    } else if !excuses_used.is_empty() {
        (Verdict::Pass, "harness-fault-not-evidence", judged.longest_deposed.clone())
    } else if any_overlap {
        (Verdict::Pass, "deposed-leader-static-zxid", judged.longest_deposed.clone())
    } else {
        (Verdict::Pass, "never-two-authorities", None)
    };
    LeaderReport {
        verdict,
        rule: rule.to_string(),
        samples: samples.len() as u64,
        two_leader_intervals,
        standalone_with_leader_intervals,
        unsafe_intervals,
        unsafe_overlaps: judged.unsafe_overlaps.len() as u32,
        evidence,
        deposed_overlap_ms: judged.deposed_us as f64 / 1e3,
        deposed_overlaps: judged.deposed_count,
        missing_evidence_intervals,
        harness_holds: excuses_used.into_iter().map(|i| faults.holds[i].clone()).collect(),
        leader_changes,
        leader_change_times_us,
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
#[cfg(test)]
mod tests_faults;
