//! Single-pass outage gaps: [`GapAcc`] follows one selection (a class, a kind, a session) through
//! successful completions fed in `end_us` order, and [`OutageAcc`] holds every selection of one
//! window. State is bounded by the number of gaps longer than a floor (at most one per
//! `floor` of run time), never by the number of events.
//!
//! A window bound may be unknown while streaming (`None`): the whole-run window starts at the
//! earliest intended start and, without a load-stop mark, ends at the last completion. Every
//! event lies inside such a bound by definition, except an intended start equal to the last
//! completion, which [`IntendedCount`] can still exclude at the end.

use crate::analysis::outage::{Outage, OutageFigures, Resolution, SessionOutages};
use crate::record::{OpEvent, OpKind, Outcome};
use std::collections::BTreeMap;

/// Intended starts of a selection inside the window's known bounds, with the largest one and how
/// many share it (so an unknown end, decided later, can still exclude `intended == end`).
#[derive(Debug, Clone, Copy, Default)]
pub struct IntendedCount {
    n: u64,
    max: u64,
    at_max: u64,
}

impl IntendedCount {
    pub fn add(&mut self, intended_us: u64) {
        if self.n == 0 || intended_us > self.max {
            self.max = intended_us;
            self.at_max = 0;
        }
        if intended_us == self.max {
            self.at_max += 1;
        }
        self.n += 1;
    }

    /// Starts strictly before `end`, given every counted start is `<= end`.
    pub fn before(&self, end: u64) -> u64 {
        if self.n > 0 && self.max >= end {
            self.n - self.at_max
        } else {
            self.n
        }
    }
}

/// The gaps between successful completions of one selection.
#[derive(Debug, Clone)]
pub struct GapAcc {
    pub scheduled: IntendedCount,
    first: Option<u64>,
    last: u64,
    inner_longest: u64,
    inner_from: u64,
    /// Inner gaps longer than the floor, in time order (the sum must be taken in that order).
    big: Vec<u64>,
    floor_us: f64,
}

impl GapAcc {
    /// `floor_ms`: the smallest threshold `finish` will be asked for.
    pub fn new(floor_ms: f64) -> GapAcc {
        GapAcc {
            scheduled: IntendedCount::default(),
            first: None,
            last: 0,
            inner_longest: 0,
            inner_from: 0,
            big: Vec::new(),
            floor_us: floor_ms * 1000.0,
        }
    }

    /// A successful completion inside the window; `end_us` not below the previous one.
    pub fn success(&mut self, end_us: u64) {
        match self.first {
            None => self.first = Some(end_us),
            Some(_) => {
                let gap = end_us.saturating_sub(self.last);
                if gap > self.inner_longest {
                    self.inner_longest = gap;
                    self.inner_from = self.last;
                }
                if gap as f64 > self.floor_us {
                    self.big.push(gap);
                }
            }
        }
        self.last = self.last.max(end_us);
    }

    /// The outage over `window`, or `None` if nothing was scheduled in it. The same figures as
    /// [`crate::analysis::outage::outage_where`] over the same completions.
    pub fn finish(&self, window: (u64, u64), threshold_ms: f64) -> Option<Outage> {
        let (start, end) = window;
        if end <= start || self.scheduled.before(end) == 0 {
            return None;
        }
        debug_assert!(threshold_ms * 1000.0 >= self.floor_us, "threshold below the floor kept");
        let threshold_us = threshold_ms * 1000.0;
        let mut out =
            Outage { longest_ms: 0.0, longest_from_us: start, gaps_over_threshold: 0, total_over_threshold_ms: 0.0 };
        let mut longest = 0u64;
        let count = |gap: u64, out: &mut Outage| {
            if gap as f64 > threshold_us {
                out.gaps_over_threshold += 1;
                out.total_over_threshold_ms += gap as f64 / 1000.0;
            }
        };
        match self.first {
            None => {
                longest = end - start;
                count(end - start, &mut out);
            }
            Some(first) => {
                let g0 = first - start;
                if g0 > longest {
                    longest = g0;
                }
                count(g0, &mut out);
                if self.inner_longest > longest {
                    longest = self.inner_longest;
                    out.longest_from_us = self.inner_from;
                }
                for &g in &self.big {
                    count(g, &mut out);
                }
                let last_gap = end - self.last;
                if last_gap > longest {
                    longest = last_gap;
                    out.longest_from_us = self.last;
                }
                count(last_gap, &mut out);
            }
        }
        out.longest_ms = longest as f64 / 1000.0;
        Some(out)
    }
}

/// Every outage selection of one window: any, read, write, each kind, each session.
#[derive(Debug, Clone)]
pub struct OutageAcc {
    start: Option<u64>,
    end: Option<u64>,
    floor_ms: f64,
    any: GapAcc,
    read: GapAcc,
    write: GapAcc,
    kinds: Vec<GapAcc>,
    sessions: BTreeMap<u32, GapAcc>,
}

impl OutageAcc {
    /// Bounds known now (`None`: decided at the end, see the module doc); gaps shorter than
    /// `floor_ms` are not kept individually.
    pub fn new(start: Option<u64>, end: Option<u64>, floor_ms: f64) -> OutageAcc {
        OutageAcc {
            start,
            end,
            floor_ms,
            any: GapAcc::new(floor_ms),
            read: GapAcc::new(floor_ms),
            write: GapAcc::new(floor_ms),
            kinds: OpKind::ALL.iter().map(|_| GapAcc::new(floor_ms)).collect(),
            sessions: BTreeMap::new(),
        }
    }

    /// One event, in `end_us` order.
    pub fn observe(&mut self, e: &OpEvent) {
        let scheduled = self.start.is_none_or(|s| e.intended_us >= s) && self.end.is_none_or(|x| e.intended_us < x);
        let ok = e.outcome == Outcome::Ok
            && self.start.is_none_or(|s| e.end_us >= s)
            && self.end.is_none_or(|x| e.end_us <= x);
        let floor = self.floor_ms;
        let session = self.sessions.entry(e.session).or_insert_with(|| GapAcc::new(floor));
        let kind = OpKind::ALL.iter().position(|k| *k == e.kind).unwrap_or(0);
        let class = if e.kind.is_write() { &mut self.write } else { &mut self.read };
        for g in [&mut self.any, class, &mut self.kinds[kind], session] {
            if scheduled {
                g.scheduled.add(e.intended_us);
            }
            if ok {
                g.success(e.end_us);
            }
        }
    }

    fn resolution(g: &GapAcc, (start, end): (u64, u64)) -> Option<f64> {
        let n = g.scheduled.before(end);
        if n == 0 || end <= start {
            return None;
        }
        let rate = n as f64 / ((end - start) as f64 / 1e6);
        Some(1000.0 / rate)
    }

    /// [`crate::analysis::outage::default_threshold_ms`] for `window`.
    pub fn default_threshold_ms(&self, window: (u64, u64)) -> f64 {
        let coarsest = [Self::resolution(&self.read, window), Self::resolution(&self.write, window)]
            .into_iter()
            .flatten()
            .fold(0.0, f64::max);
        crate::analysis::outage::MIN_THRESHOLD_MS.max(10.0 * coarsest)
    }

    /// [`crate::analysis::outages`] for `window`.
    pub fn figures(&self, window: (u64, u64), threshold_ms: f64) -> OutageFigures {
        OutageFigures {
            any: self.any.finish(window, threshold_ms),
            read: self.read.finish(window, threshold_ms),
            write: self.write.finish(window, threshold_ms),
            resolution_ms: Resolution {
                read: Self::resolution(&self.read, window),
                write: Self::resolution(&self.write, window),
            },
            threshold_ms,
        }
    }

    /// [`crate::analysis::per_session`] for `window`.
    pub fn per_session(&self, window: (u64, u64), threshold_ms: f64) -> Option<SessionOutages> {
        let gaps: BTreeMap<u32, f64> = self
            .sessions
            .iter()
            .filter_map(|(s, g)| g.finish(window, threshold_ms).map(|o| (*s, o.longest_ms)))
            .collect();
        crate::analysis::outage::spread_of(gaps)
    }

    /// [`crate::analysis::per_kind`] for `window`.
    pub fn per_kind(&self, window: (u64, u64), threshold_ms: f64) -> BTreeMap<OpKind, f64> {
        OpKind::ALL
            .iter()
            .zip(&self.kinds)
            .filter_map(|(k, g)| g.finish(window, threshold_ms).map(|o| (*k, o.longest_ms)))
            .collect()
    }
}

/// `events` sorted by completion (stable: file order among equal ends), as the stream sees them.
pub fn by_end(events: &[OpEvent]) -> Vec<&OpEvent> {
    let mut v: Vec<&OpEvent> = events.iter().collect();
    v.sort_by_key(|e| e.end_us);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_end_excludes_a_start_equal_to_it() {
        let mut c = IntendedCount::default();
        for t in [5, 9, 9, 3] {
            c.add(t);
        }
        assert_eq!((c.before(9), c.before(10)), (2, 4));
    }

    #[test]
    fn gaps_below_the_floor_are_not_kept_but_still_set_the_longest() {
        let mut g = GapAcc::new(100.0);
        g.scheduled.add(0);
        for t in [10_000u64, 60_000, 300_000, 310_000] {
            g.success(t);
        }
        assert_eq!(g.big, vec![240_000]);
        let o = g.finish((0, 400_000), 100.0).unwrap();
        assert_eq!((o.longest_ms, o.longest_from_us, o.gaps_over_threshold), (240.0, 60_000, 1));
        assert_eq!(o.total_over_threshold_ms, 240.0);
    }
}
