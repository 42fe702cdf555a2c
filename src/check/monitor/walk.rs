//! The walk behind [`super::analyze_modes`]: the samples in time order, one tick (the samples
//! of one instant) at a time, tracking each server's mode and zxid, the intervals with two
//! leaders, a standalone beside another authority or missing evidence, the overlaps of
//! authorities (judged when they close), deposed servers, harness holds and leader changes.

use super::judge::Judged;
use super::{HarnessFaults, Interval, LeaderReport, OpenOverlap, OverlapMember, Tracker, Verdict};
use crate::record::{ModeSample, ServerMode};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default)]
pub(super) struct ModeWalk {
    state: BTreeMap<u32, (ServerMode, Option<u64>)>,
    /// Per server: was its last certain (answered) sample an authority, and at which zxid.
    last_certain_authority: BTreeMap<u32, (bool, Option<u64>)>,
    seen_deposed: BTreeSet<u32>,
    /// Servers whose last sample was a silent probe of a server the harness held: hold index.
    excused: BTreeMap<u32, usize>,
    excuses_used: BTreeSet<usize>,
    two_leaders: Tracker,
    standalone_mix: Tracker,
    missing: Tracker,
    open: Option<OpenOverlap>,
    judged: Judged,
    any_overlap: bool,
    leaders_seen: BTreeSet<u32>,
    standalones_seen: BTreeSet<u32>,
    leader_changes: u32,
    last_authority: Option<u32>,
    first_at: Option<u64>,
    baseline_epoch: Option<u64>,
    epochs: BTreeSet<u64>,
    leader_change_times_us: Vec<u64>,
}

impl ModeWalk {
    pub(super) fn new(first_at: Option<u64>) -> ModeWalk {
        ModeWalk { first_at, ..ModeWalk::default() }
    }

    /// One sample of the tick at `t`.
    pub(super) fn apply(&mut self, s: &ModeSample, t: u64, faults: &HarnessFaults) {
        self.state.insert(s.server, (s.mode, s.zxid));
        if s.mode != ServerMode::Unknown {
            self.last_certain_authority.insert(s.server, (s.mode.is_authority(), s.zxid));
            self.excused.remove(&s.server);
        } else {
            // The probe met the server at some instant in [sent_us, at_us].
            let held = faults.holding(s.server, s.sent_us.unwrap_or(s.at_us)).or_else(|| faults.holding(s.server, s.at_us));
            match held {
                Some(h) => self.excused.insert(s.server, h),
                None => self.excused.remove(&s.server),
            };
        }
        match s.mode {
            ServerMode::Leader => {
                self.leaders_seen.insert(s.server);
                if let Some(z) = s.zxid {
                    if Some(t) == self.first_at {
                        self.baseline_epoch.get_or_insert(z >> 32);
                    }
                    self.epochs.insert(z >> 32);
                }
            }
            ServerMode::Standalone => {
                self.standalones_seen.insert(s.server);
            }
            _ => {}
        }
        // A member of an open overlap that answered again: extend its zxid span.
        if let Some(o) = self.open.as_mut() {
            if let Some(span) = o.members.get_mut(&s.server) {
                if s.mode.is_authority() && s.zxid.is_some() {
                    span.last_zxid = s.zxid;
                }
            }
        }
    }

    /// After every sample of the tick at `t` is applied: the intervals, deposed servers, missing
    /// evidence, overlaps and leader changes as of `t`.
    pub(super) fn tick(&mut self, t: u64) {
        let of = |state: &BTreeMap<u32, (ServerMode, Option<u64>)>, mode| -> Vec<u32> {
            state.iter().filter(|(_, m)| m.0 == mode).map(|(id, _)| *id).collect()
        };
        let leaders = of(&self.state, ServerMode::Leader);
        let standalones = of(&self.state, ServerMode::Standalone);
        let authorities: Vec<u32> = leaders.iter().chain(&standalones).copied().collect();
        self.two_leaders.observe(t, (leaders.len() > 1).then(|| leaders.clone()));
        let mixed = !standalones.is_empty() && authorities.len() > 1;
        self.standalone_mix.observe(t, mixed.then(|| authorities.clone()));
        self.track_deposed();
        self.observe_missing(t, &authorities);
        self.track_overlap(t, &authorities);
        if authorities.len() == 1 {
            let auth = authorities.first().copied();
            if self.last_authority.is_some() && self.last_authority != auth {
                self.leader_changes += 1;
                self.leader_change_times_us.push(t);
            }
            self.last_authority = auth;
        }
    }

    /// Servers seen, side by side with a leader of a newer epoch, still claiming authority at an
    /// older one: deposed (they cannot commit in that epoch any more; leading again needs a new
    /// epoch, which shows when they answer).
    fn track_deposed(&mut self) {
        let newest_leader_epoch =
            self.state.values().filter(|m| m.0 == ServerMode::Leader).filter_map(|m| m.1).map(|z| z >> 32).max();
        for (id, (mode, zxid)) in &self.state {
            match (mode.is_authority(), zxid, newest_leader_epoch) {
                (true, Some(z), Some(e)) if (z >> 32) < e => {
                    self.seen_deposed.insert(*id);
                }
                (_, _, _) if *mode != ServerMode::Unknown => {
                    self.seen_deposed.remove(id);
                }
                _ => {}
            }
        }
    }

    /// A silent server last seen as an authority hides evidence, unless it was seen deposed or
    /// the harness held it.
    fn observe_missing(&mut self, t: u64, authorities: &[u32]) {
        let silent: Vec<u32> = self
            .state
            .iter()
            .filter(|(id, m)| {
                m.0 == ServerMode::Unknown
                    && self.last_certain_authority.get(*id).is_some_and(|(auth, _)| *auth)
                    && !self.seen_deposed.contains(*id)
            })
            .map(|(id, _)| *id)
            .filter(|id| !authorities.contains(id))
            .collect();
        if !authorities.is_empty() {
            self.excuses_used.extend(silent.iter().filter_map(|id| self.excused.get(id)));
        }
        let hidden: Vec<u32> = silent.into_iter().filter(|id| !self.excused.contains_key(id)).collect();
        let missing = (!authorities.is_empty() && !hidden.is_empty()).then(|| authorities.iter().chain(&hidden).copied().collect());
        self.missing.observe(t, missing);
    }

    /// Overlap bookkeeping: a new member set closes the open overlap and may open another.
    fn track_overlap(&mut self, t: u64, authorities: &[u32]) {
        let mut set: Vec<u32> = authorities.to_vec();
        set.sort_unstable();
        if self.open.as_ref().is_some_and(|o| o.interval.servers == set) {
            return;
        }
        if let Some(o) = self.open.take() {
            o.close(&mut self.judged, t);
        }
        if set.len() > 1 {
            self.any_overlap = true;
            let members = set
                .iter()
                .map(|id| {
                    let (mode, zxid) = self.state[id];
                    (*id, OverlapMember { server: *id, mode, first_zxid: zxid, last_zxid: zxid })
                })
                .collect();
            self.open = Some(OpenOverlap { interval: Interval { from_us: t, to_us: t, servers: set }, members });
        }
    }

    /// Close what is open at `end` (the last sample) and judge.
    pub(super) fn finish(mut self, end: u64, samples: usize, faults: &HarnessFaults) -> LeaderReport {
        if let Some(o) = self.open.take() {
            o.close(&mut self.judged, end);
        }
        let judged = self.judged;
        let missing_evidence_intervals = self.missing.finish(end);
        let elections = self.epochs.iter().filter(|e| Some(**e) != self.baseline_epoch).count() as u32;
        let unsafe_intervals = judged
            .unsafe_overlaps
            .iter()
            .map(|o| Interval { from_us: o.from_us, to_us: o.to_us, servers: o.members.iter().map(|m| m.server).collect() })
            .collect();
        let (verdict, rule, evidence) = if samples == 0 {
            (Verdict::Unknown, "no-samples", None)
        } else if let (Some(rule), Some(first)) = (judged.first_rule, judged.unsafe_overlaps.first()) {
            (Verdict::Fail, rule, Some(first.clone()))
        } else if judged.unknown_zxid.is_some() || !missing_evidence_intervals.is_empty() {
            (Verdict::Unknown, "missing-evidence", judged.unknown_zxid.clone())
        } else if !self.excuses_used.is_empty() {
            (Verdict::Pass, "harness-fault-not-evidence", judged.longest_deposed.clone())
        } else if self.any_overlap {
            (Verdict::Pass, "deposed-leader-static-zxid", judged.longest_deposed.clone())
        } else {
            (Verdict::Pass, "never-two-authorities", None)
        };
        LeaderReport {
            verdict,
            rule: rule.to_string(),
            samples: samples as u64,
            two_leader_intervals: self.two_leaders.finish(end),
            standalone_with_leader_intervals: self.standalone_mix.finish(end),
            unsafe_intervals,
            unsafe_overlaps: judged.unsafe_overlaps.len() as u32,
            evidence,
            deposed_overlap_ms: judged.deposed_us as f64 / 1e3,
            deposed_overlaps: judged.deposed_count,
            missing_evidence_intervals,
            harness_holds: self.excuses_used.into_iter().map(|i| faults.holds[i].clone()).collect(),
            leader_changes: self.leader_changes,
            leader_change_times_us: self.leader_change_times_us,
            elections,
            leaders_seen: self.leaders_seen.into_iter().collect(),
            standalones_seen: self.standalones_seen.into_iter().collect(),
        }
    }
}
