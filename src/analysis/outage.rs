//! Client-visible outages, computed exactly from raw events.
//!
//! The outage of a class (any / read = get+exists / write = set+create+delete+multi) is the
//! longest interval inside the window with no successful completion (`end_us` of an `Ok` op) of
//! that class, counting window start → first success and last success → window end. With no
//! success at all the whole window is one gap. A class with no operation scheduled in the window
//! (intended start inside it) is absent (`None`): no fake number.
//!
//! Resolution: a gap can only be seen to the precision of the class's operation spacing, so each
//! class reports `resolution_ms = 1000 / rate`, the rate taken from the intended starts within
//! the window.

use super::stream::gaps::{by_end, GapAcc, OutageAcc};
use crate::record::{OpEvent, OpKind, Outcome};
use serde::{Deserialize, Serialize};

/// Outage figures of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    pub longest_ms: f64,
    /// Start of the longest gap (the success before it, or the window start).
    pub longest_from_us: u64,
    /// Gaps strictly longer than the threshold.
    pub gaps_over_threshold: u32,
    /// Sum of the gaps longer than the threshold.
    pub total_over_threshold_ms: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Resolution {
    pub read: Option<f64>,
    pub write: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct OutageFigures {
    pub any: Option<Outage>,
    pub read: Option<Outage>,
    pub write: Option<Outage>,
    pub resolution_ms: Resolution,
    pub threshold_ms: f64,
}

/// Outage of the operations selected by `class` within `window`.
pub fn outage_of(
    events: &[OpEvent],
    window: (u64, u64),
    threshold_ms: f64,
    class: impl Fn(OpKind) -> bool,
) -> Option<Outage> {
    outage_where(events, window, threshold_ms, |e| class(e.kind))
}

/// Outage of the operations `select` picks (a class, a kind, one session) within `window`.
/// The completions are replayed in `end_us` order through the streaming [`GapAcc`], so a stored
/// run and a literal history are judged by the same code.
pub fn outage_where(
    events: &[OpEvent],
    window: (u64, u64),
    threshold_ms: f64,
    select: impl Fn(&OpEvent) -> bool,
) -> Option<Outage> {
    let (start, end) = window;
    let mut g = GapAcc::new(threshold_ms);
    for e in by_end(events).into_iter().filter(|e| select(e)) {
        if e.intended_us >= start && e.intended_us < end {
            g.scheduled.add(e.intended_us);
        }
        if e.outcome == Outcome::Ok && e.end_us >= start && e.end_us <= end {
            g.success(e.end_us);
        }
    }
    g.finish(window, threshold_ms)
}

/// All selections of `window` in one replay (see [`OutageAcc`]).
fn replay(events: &[OpEvent], window: (u64, u64), threshold_ms: f64) -> OutageAcc {
    let mut acc = OutageAcc::new(Some(window.0), Some(window.1), threshold_ms);
    for e in by_end(events) {
        acc.observe(e);
    }
    acc
}

/// Resolution (ms between scheduled operations) of a class in the window, from intended starts.
pub fn resolution_ms(events: &[OpEvent], window: (u64, u64), class: impl Fn(OpKind) -> bool) -> Option<f64> {
    let (start, end) = window;
    let n = events.iter().filter(|e| class(e.kind) && e.intended_us >= start && e.intended_us < end).count();
    if n == 0 || end <= start {
        return None;
    }
    let rate = n as f64 / ((end - start) as f64 / 1e6);
    Some(1000.0 / rate)
}

/// Gaps shorter than this never count as outages.
pub const MIN_THRESHOLD_MS: f64 = 100.0;

/// The gap length above which a gap counts as an outage: [`MIN_THRESHOLD_MS`], or ten times the
/// coarsest resolution when that is larger, so a gap count means the same at any rate.
pub fn default_threshold_ms(events: &[OpEvent], window: (u64, u64)) -> f64 {
    let coarsest = [resolution_ms(events, window, |k| !k.is_write()), resolution_ms(events, window, |k| k.is_write())]
        .into_iter()
        .flatten()
        .fold(0.0, f64::max);
    MIN_THRESHOLD_MS.max(10.0 * coarsest)
}

/// Each session's longest gap, and its spread over sessions: a partial outage (some sessions
/// stuck on a restarted server while others are served) shows here and not in `any`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SessionOutages {
    pub max: f64,
    pub median: f64,
    /// Longest gap per session index, ms.
    pub sessions: std::collections::BTreeMap<u32, f64>,
}

pub fn per_session(events: &[OpEvent], window: (u64, u64), threshold_ms: f64) -> Option<SessionOutages> {
    replay(events, window, threshold_ms).per_session(window, threshold_ms)
}

/// Max and median of per-session longest gaps (`None` without any).
pub fn spread_of(gaps: std::collections::BTreeMap<u32, f64>) -> Option<SessionOutages> {
    if gaps.is_empty() {
        return None;
    }
    let mut v: Vec<f64> = gaps.values().copied().collect();
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 { v[v.len() / 2] } else { (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0 };
    Some(SessionOutages { max: v[v.len() - 1], median, sessions: gaps })
}

/// Each operation kind's longest gap (creates failing while sets succeed shows here), ms.
pub fn per_kind(events: &[OpEvent], window: (u64, u64), threshold_ms: f64) -> std::collections::BTreeMap<OpKind, f64> {
    replay(events, window, threshold_ms).per_kind(window, threshold_ms)
}

pub fn outages(events: &[OpEvent], window: (u64, u64), threshold_ms: f64) -> OutageFigures {
    replay(events, window, threshold_ms).figures(window, threshold_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ErrorClass;

    fn e(kind: OpKind, intended_ms: u64, end_ms: u64, ok: bool) -> OpEvent {
        OpEvent {
            intended_us: intended_ms * 1000,
            start_us: intended_ms * 1000,
            end_us: end_ms * 1000,
            kind,
            session: 0,
            path: String::new(),
            outcome: if ok { Outcome::Ok } else { Outcome::Fail },
            error: if ok { None } else { Some(ErrorClass::Timeout) },
            token: String::new(),
            version: -1,
        }
    }

    /// A get every 10 ms from `from` to `to` (exclusive), completing 1 ms later.
    fn gets(from: u64, to: u64, ok: bool) -> Vec<OpEvent> {
        (from..to).step_by(10).map(|t| e(OpKind::Get, t, t + 1, ok)).collect()
    }

    #[test]
    fn gap_at_start() {
        let mut ev = gets(0, 500, false);
        ev.extend(gets(500, 1000, true));
        let o = outages(&ev, (0, 1_000_000), 100.0);
        let r = o.read.unwrap();
        assert_eq!(r.longest_ms, 501.0);
        assert_eq!(r.longest_from_us, 0);
        assert_eq!(r.gaps_over_threshold, 1);
        assert!(o.write.is_none(), "no writes scheduled: absent");
        assert_eq!(o.any, o.read);
        assert!((o.resolution_ms.read.unwrap() - 10.0).abs() < 1e-9);
        assert!(o.resolution_ms.write.is_none());
    }

    #[test]
    fn gap_at_end() {
        let mut ev = gets(0, 700, true);
        ev.extend(gets(700, 1000, false));
        let r = outages(&ev, (0, 1_000_000), 100.0).read.unwrap();
        assert_eq!(r.longest_from_us, 691_000);
        assert_eq!(r.longest_ms, 309.0);
    }

    #[test]
    fn overlapping_kinds() {
        // Reads fail 200–600 ms, writes fail 400–800 ms: "any" only sees 400–600.
        let mut ev = Vec::new();
        for t in (0..1000).step_by(10) {
            ev.push(e(OpKind::Get, t, t + 1, !(200..600).contains(&t)));
            ev.push(e(OpKind::Set, t + 5, t + 6, !(400..800).contains(&(t + 5))));
        }
        let o = outages(&ev, (0, 1_000_000), 50.0);
        let (r, w, a) = (o.read.unwrap(), o.write.unwrap(), o.any.unwrap());
        assert_eq!((r.longest_from_us, r.longest_ms), (191_000, 410.0));
        assert_eq!((w.longest_from_us, w.longest_ms), (396_000, 410.0));
        assert_eq!((a.longest_from_us, a.longest_ms), (396_000, 205.0));
        assert_eq!(a.gaps_over_threshold, 1);
        assert!((a.total_over_threshold_ms - 205.0).abs() < 1e-9);
    }

    #[test]
    fn no_success_at_all() {
        let ev = gets(0, 1000, false);
        let r = outages(&ev, (100_000, 900_000), 10.0).read.unwrap();
        assert_eq!((r.longest_ms, r.longest_from_us, r.gaps_over_threshold), (800.0, 100_000, 1));
        assert!(outages(&[], (0, 1000), 1.0).any.is_none());
    }

    #[test]
    fn a_session_stuck_on_a_restarted_server_shows_per_session_not_in_any() {
        // Session 0 succeeds throughout; session 1 fails from 200 ms to 900 ms.
        let mut v: Vec<OpEvent> = gets(0, 1000, true);
        for t in (5..1000).step_by(10) {
            let mut x = e(OpKind::Get, t, t + 1, !(200..900).contains(&t));
            x.session = 1;
            v.push(x);
        }
        let whole = outages(&v, (0, 1_000_000), 100.0);
        assert!(whole.any.unwrap().longest_ms < 20.0, "{whole:?}");
        let ps = per_session(&v, (0, 1_000_000), 100.0).unwrap();
        assert!((700.0..720.0).contains(&ps.max), "{ps:?}");
        assert!(ps.sessions[&0] < 20.0);
        assert_eq!(ps.median, (ps.sessions[&0] + ps.sessions[&1]) / 2.0);
    }

    #[test]
    fn creates_failing_while_sets_succeed_show_per_kind() {
        let mut v = Vec::new();
        for t in (0..1000).step_by(10) {
            v.push(e(OpKind::Set, t, t + 1, true));
            v.push(e(OpKind::Create, t + 5, t + 6, t < 300));
        }
        let pk = per_kind(&v, (0, 1_000_000), 100.0);
        assert!(pk[&OpKind::Set] < 20.0);
        assert!(pk[&OpKind::Create] > 690.0, "{pk:?}");
    }

    #[test]
    fn ops_in_flight_at_the_load_stop_do_not_stretch_the_last_gap() {
        // The load stops at 500 ms; an op issued at 495 ms times out at 2495 ms.
        let mut v = gets(0, 500, true);
        v.push(e(OpKind::Get, 495, 2495, false));
        let stop = crate::record::Mark::new(500_000, crate::record::MarkKind::Point, crate::record::labels::LOAD_STOP, None);
        let w = crate::analysis::load_window(&v, &[stop]);
        assert_eq!(w, (0, 500_000));
        assert!(outages(&v, w, 100.0).any.unwrap().longest_ms < 20.0);
        // The old rule (last completion) would have reported a 2 s outage.
        let old = crate::analysis::event_window(&v);
        assert!(outages(&v, old, 100.0).any.unwrap().longest_ms > 1900.0);
    }
}
