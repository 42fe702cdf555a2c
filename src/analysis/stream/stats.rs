//! Order-free single-pass figures: operation counts, latency histograms per kind, exact schedule
//! lag quantiles, and each session's reconnect delay. State is bounded by kinds, error classes,
//! distinct lag values (µs) and sessions, not by events.

use crate::analysis::counts::OpCounts;
use crate::analysis::service::Spread;
use crate::record::hlog::new_histogram;
use crate::record::{ErrorClass, OpEvent, OpKind, Outcome, Quantiles};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// Counts and latency histograms of the events whose intended start is in `range` (all if
/// `None`): [`crate::analysis::counts`], `histograms_by_kind`, `histograms_all_by_kind`.
#[derive(Debug, Clone)]
pub struct StatsAcc {
    range: Option<(u64, u64)>,
    total: u64,
    ok: u64,
    fail: u64,
    indeterminate: u64,
    errors: [u64; ErrorClass::ALL.len()],
    first_start: u64,
    last_start: u64,
    pub ok_hist: BTreeMap<OpKind, Histogram<u64>>,
    pub all_hist: BTreeMap<OpKind, Histogram<u64>>,
}

impl StatsAcc {
    pub fn new(range: Option<(u64, u64)>) -> StatsAcc {
        StatsAcc {
            range,
            total: 0,
            ok: 0,
            fail: 0,
            indeterminate: 0,
            errors: [0; ErrorClass::ALL.len()],
            first_start: u64::MAX,
            last_start: 0,
            ok_hist: BTreeMap::new(),
            all_hist: BTreeMap::new(),
        }
    }

    pub fn observe(&mut self, e: &OpEvent) {
        if !self.range.is_none_or(|(a, b)| e.intended_us >= a && e.intended_us < b) {
            return;
        }
        self.total += 1;
        match e.outcome {
            Outcome::Ok => {
                self.ok += 1;
                let _ = self.ok_hist.entry(e.kind).or_insert_with(new_histogram).record(e.latency_us());
            }
            Outcome::Fail => self.fail += 1,
            Outcome::Indeterminate => self.indeterminate += 1,
        }
        let _ = self.all_hist.entry(e.kind).or_insert_with(new_histogram).record(e.latency_us());
        if let Some(i) = e.error.and_then(|c| ErrorClass::ALL.iter().position(|x| *x == c)) {
            self.errors[i] += 1;
        }
        self.first_start = self.first_start.min(e.start_us);
        self.last_start = self.last_start.max(e.start_us);
    }

    /// The same figures as [`crate::analysis::counts`] over the selected events.
    pub fn counts(&self) -> OpCounts {
        let mut c = OpCounts {
            total: self.total,
            ok: self.ok,
            fail: self.fail,
            indeterminate: self.indeterminate,
            ..OpCounts::default()
        };
        for (class, n) in ErrorClass::ALL.iter().zip(self.errors) {
            if n > 0 {
                c.by_class.insert(class.as_str().to_string(), n);
            }
        }
        if self.total >= 2 && self.last_start > self.first_start {
            let span_s = (self.last_start - self.first_start) as f64 / 1e6;
            c.achieved_rate = (self.total - 1) as f64 / span_s;
            c.ok_rate = c.ok as f64 / span_s;
        }
        c
    }
}

/// Exact schedule-lag quantiles (nearest rank, as [`Quantiles::exact`]) from a count per
/// distinct lag value.
#[derive(Debug, Clone, Default)]
pub struct LagAcc {
    counts: BTreeMap<u64, u64>,
    n: u64,
}

impl LagAcc {
    pub fn observe(&mut self, e: &OpEvent) {
        *self.counts.entry(e.lag_us()).or_default() += 1;
        self.n += 1;
    }

    pub fn quantiles(&self) -> Quantiles {
        let at = |q: f64| -> u64 {
            if self.n == 0 {
                return 0;
            }
            let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
            let mut acc = 0;
            for (v, c) in &self.counts {
                acc += c;
                if acc >= rank {
                    return *v;
                }
            }
            0
        };
        Quantiles {
            count: self.n,
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
            max: self.counts.keys().next_back().copied().unwrap_or(0),
        }
    }
}

/// Each session's first successful completion at or after each moment the service came back
/// (candidates from the mode monitor, known before the events are read), fed in `end_us` order.
#[derive(Debug, Clone, Default)]
pub struct ReconnectAcc {
    recoveries: Vec<u64>,
    /// Per session: how many recoveries are answered, and the answers.
    sessions: BTreeMap<u32, (usize, Vec<u64>)>,
}

impl ReconnectAcc {
    pub fn new(mut recoveries: Vec<u64>) -> ReconnectAcc {
        recoveries.sort_unstable();
        recoveries.dedup();
        ReconnectAcc { recoveries, sessions: BTreeMap::new() }
    }

    pub fn observe(&mut self, e: &OpEvent) {
        let (next, firsts) = self.sessions.entry(e.session).or_default();
        if e.outcome != Outcome::Ok {
            return;
        }
        while *next < self.recoveries.len() && self.recoveries[*next] <= e.end_us {
            firsts.push(e.end_us);
            *next += 1;
        }
    }

    /// [`crate::analysis::reconnect_after`] for `back_us` (one of the recoveries given).
    pub fn after(&self, back_us: u64, window_end: u64) -> Option<Spread> {
        let i = self.recoveries.binary_search(&back_us).ok()?;
        Spread::of(
            self.sessions
                .values()
                .map(|(_, firsts)| firsts.get(i).copied().unwrap_or(u64::MAX))
                .map(|t| (t.min(window_end).saturating_sub(back_us)) as f64 / 1e3)
                .collect(),
        )
    }
}
