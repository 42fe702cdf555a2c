//! Latency distributions per operation kind.
//!
//! Latency is always `end_us - intended_us`. In open loop the intended start comes from the fixed
//! schedule, so a stall that delays issuing (or completing) operations is charged to every
//! operation it delayed: the figures are free of coordinated omission without correction
//! (YCSB's `measurement.interval=intended`). In closed loop the intended start *is* the issue
//! time, so a stall hides the requests that were never sent; [`histograms_by_kind_corrected`]
//! applies HdrHistogram's `record_correct(value, expected_interval)` for that case, with the
//! expected interval between requests of one in-flight slot.
//!
//! Histograms: auto-resizing, µs, 3 significant digits; only `Ok` operations are counted.

use crate::record::hlog::new_histogram;
pub use crate::record::quantiles::Quantiles;
use crate::record::{OpEvent, OpKind, Outcome};
use hdrhistogram::Histogram;

use std::collections::BTreeMap;

fn in_range(e: &OpEvent, range: Option<(u64, u64)>) -> bool {
    range.is_none_or(|(a, b)| e.intended_us >= a && e.intended_us < b)
}

/// Histograms of `Ok` latencies per kind, for operations whose intended start is in `range`.
pub fn histograms_by_kind(events: &[OpEvent], range: Option<(u64, u64)>) -> BTreeMap<OpKind, Histogram<u64>> {
    let mut out: BTreeMap<OpKind, Histogram<u64>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.outcome == Outcome::Ok && in_range(e, range)) {
        // Auto-resizing histograms accept any u64 value.
        let _ = out.entry(e.kind).or_insert_with(new_histogram).record(e.latency_us());
    }
    out
}

/// Like [`histograms_by_kind`] but with coordinated-omission correction for closed-loop runs:
/// each value larger than `expected_interval_us` also records the requests that would have been
/// sent meanwhile.
/// Every issued operation, whatever its outcome: failures at their time to error, timeouts at
/// (at least) the operation timeout, all measured from the intended start. A strategy whose
/// operations fail fast must not look faster than one whose operations succeed slowly.
pub fn histograms_all_by_kind(events: &[OpEvent], range: Option<(u64, u64)>) -> BTreeMap<OpKind, Histogram<u64>> {
    let mut out: BTreeMap<OpKind, Histogram<u64>> = BTreeMap::new();
    for e in events.iter().filter(|e| in_range(e, range)) {
        let _ = out.entry(e.kind).or_insert_with(new_histogram).record(e.latency_us());
    }
    out
}

pub fn histograms_by_kind_corrected(
    events: &[OpEvent],
    range: Option<(u64, u64)>,
    expected_interval_us: u64,
) -> BTreeMap<OpKind, Histogram<u64>> {
    let mut out: BTreeMap<OpKind, Histogram<u64>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.outcome == Outcome::Ok && in_range(e, range)) {
        let _ = out.entry(e.kind).or_insert_with(new_histogram).record_correct(e.latency_us(), expected_interval_us);
    }
    out
}

/// Quantiles of `Ok` latencies per kind (intended start within `range`).
pub fn quantiles_by_kind(events: &[OpEvent], range: Option<(u64, u64)>) -> BTreeMap<OpKind, Quantiles> {
    histograms_by_kind(events, range).iter().map(|(k, h)| (*k, Quantiles::from_histogram(h))).collect()
}

/// Exact quantiles of schedule lag (`start_us - intended_us`) over all operations in `range`.
pub fn lag_quantiles(events: &[OpEvent], range: Option<(u64, u64)>) -> Quantiles {
    Quantiles::exact(events.iter().filter(|e| in_range(e, range)).map(|e| e.lag_us()).collect())
}

/// Cumulative distribution points `(latency_us, fraction ≤)` of a histogram, for CDF charts.
pub fn cdf(h: &Histogram<u64>) -> Vec<(u64, f64)> {
    let n = h.len().max(1) as f64;
    let mut acc = 0u64;
    h.iter_recorded()
        .map(|v| {
            acc += v.count_at_value();
            (h.highest_equivalent(v.value_iterated_to()), acc as f64 / n)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A successful get intended (and started) at `intended`, ending at `end`.
    fn get_ok(intended: u64, end: u64) -> OpEvent {
        OpEvent {
            intended_us: intended,
            start_us: intended,
            end_us: end,
            kind: OpKind::Get,
            session: 0,
            path: "/k".into(),
            outcome: Outcome::Ok,
            error: None,
            token: String::new(),
            version: 0,
        }
    }

    /// Open loop at 1 kHz for 3 s; the server stalls from 1.0 s to 2.0 s, so everything intended
    /// during the stall completes at 2.0 s.
    fn stalled_open_loop() -> Vec<OpEvent> {
        (0..3000u64)
            .map(|i| {
                let intended = i * 1000;
                let end = if (1_000_000..2_000_000).contains(&intended) { 2_000_000 + 200 } else { intended + 200 };
                get_ok(intended, end)
            })
            .collect()
    }

    #[test]
    fn open_loop_counts_every_stalled_op() {
        let events = stalled_open_loop();
        let h = &histograms_by_kind(&events, None)[&OpKind::Get];
        let slow = h.count_between(10_000, u64::MAX);
        assert!((985..=1000).contains(&slow), "slow samples {slow}");
        let q = quantiles_by_kind(&events, None)[&OpKind::Get];
        assert_eq!(q.count, 3000);
        assert!(q.p50 == 200 && q.p99 > 900_000 && q.max >= 999_000, "{q:?}");
    }

    #[test]
    fn closed_loop_correction_restores_stall() {
        // One in-flight slot issuing every 1 ms; one request stalls for 1 s. Without correction
        // only one slow sample exists; record_correct adds the ~1000 that were never sent.
        let mut events = Vec::new();
        let mut t = 0u64;
        for i in 0..2000u64 {
            let lat = if i == 1000 { 1_000_000 } else { 1000 };
            events.push(get_ok(t, t + lat));
            t += lat;
        }
        let plain = &histograms_by_kind(&events, None)[&OpKind::Get];
        assert_eq!(plain.count_between(10_000, u64::MAX), 1);
        let corrected = &histograms_by_kind_corrected(&events, None, 1000)[&OpKind::Get];
        let slow = corrected.count_between(10_000, u64::MAX);
        assert!((985..=1000).contains(&slow), "slow samples {slow}");
    }

    #[test]
    fn range_filters_by_intended() {
        let events = stalled_open_loop();
        let q = quantiles_by_kind(&events, Some((0, 1_000_000)))[&OpKind::Get];
        assert_eq!((q.count, q.max), (1000, 200));
        assert_eq!(lag_quantiles(&events, None).max, 0);
    }
}
