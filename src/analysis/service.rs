//! The service's own unavailability, from server-side evidence (the mode monitor), next to the
//! client-visible outage: the difference is the client's reconnect behaviour, not the strategy.
//!
//! The service is up while some server reports `leader` or `standalone` (a quorum has an
//! authority: followers serve only while they follow one). Its resolution is the monitor's
//! poll interval. After the longest service outage, each session's reconnect delay is the time
//! from the service's return to that session's first successful operation: with
//! `zookeeper-client`'s back-off (up to 1 s × 2^cycles between full cycles over the endpoints) it
//! can be seconds, and it is reported apart so that a strategy comparison is not a back-off
//! comparison.

use crate::record::{ModeSample, OpEvent, Outcome, ServerMode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The longest interval in `window` during which no server was an authority.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServiceOutage {
    pub longest_ms: f64,
    pub from_us: u64,
    pub to_us: u64,
}

/// Longest gap with no `leader`/`standalone` within `window` (None without samples in it).
pub fn service_outage(samples: &[ModeSample], window: (u64, u64)) -> Option<ServiceOutage> {
    let mut sorted: Vec<&ModeSample> = samples.iter().collect();
    sorted.sort_by_key(|s| (s.at_us, s.server));
    let mut state: BTreeMap<u32, ServerMode> = BTreeMap::new();
    let mut down_since: Option<u64> = None;
    let mut best: Option<ServiceOutage> = None;
    let mut seen = false;
    let consider = |from: u64, to: u64, best: &mut Option<ServiceOutage>| {
        let (from, to) = (from.max(window.0), to.min(window.1));
        if to > from && best.is_none_or(|b| (to - from) as f64 / 1e3 > b.longest_ms) {
            *best = Some(ServiceOutage { longest_ms: (to - from) as f64 / 1e3, from_us: from, to_us: to });
        }
    };
    for s in sorted {
        if s.at_us > window.1 {
            break;
        }
        seen |= s.at_us >= window.0;
        state.insert(s.server, s.mode);
        let up = state.values().any(|m| m.is_authority());
        match (up, down_since) {
            (false, None) => down_since = Some(s.at_us),
            (true, Some(from)) => {
                consider(from, s.at_us, &mut best);
                down_since = None;
            }
            _ => {}
        }
    }
    if let Some(from) = down_since {
        consider(from, window.1, &mut best);
    }
    if !seen {
        return None;
    }
    Some(best.unwrap_or(ServiceOutage { longest_ms: 0.0, from_us: window.0, to_us: window.0 }))
}

/// Every moment the service came back (no authority → some authority), over all samples: the
/// `to_us` of any [`service_outage`] that ends inside its window is one of these, so a streaming
/// pass can prepare the reconnect delays before the window is known.
pub fn recoveries(samples: &[ModeSample]) -> Vec<u64> {
    let mut sorted: Vec<&ModeSample> = samples.iter().collect();
    sorted.sort_by_key(|s| (s.at_us, s.server));
    let mut state: BTreeMap<u32, ServerMode> = BTreeMap::new();
    let mut down = false;
    let mut out = Vec::new();
    for s in sorted {
        state.insert(s.server, s.mode);
        let up = state.values().any(|m| m.is_authority());
        if up && down {
            out.push(s.at_us);
        }
        down = !up;
    }
    out
}

/// Max and median over sessions, ms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub max: f64,
    pub median: f64,
}

impl Spread {
    /// Max and median of `values` (`None` when empty).
    pub fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
        Some(Spread { max: values[n - 1], median })
    }
}

/// Each session's delay from the service's return (`back_us`) to its first successful operation
/// completed after it; sessions with none are counted up to `window_end`.
pub fn reconnect_after(events: &[OpEvent], back_us: u64, window_end: u64) -> Option<Spread> {
    let mut first: BTreeMap<u32, u64> = BTreeMap::new();
    for e in events {
        first.entry(e.session).or_insert(u64::MAX);
        if e.outcome == Outcome::Ok && e.end_us >= back_us {
            let f = first.get_mut(&e.session).expect("inserted above");
            *f = (*f).min(e.end_us);
        }
    }
    Spread::of(first.values().map(|&t| (t.min(window_end).saturating_sub(back_us)) as f64 / 1e3).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ErrorClass, OpKind};

    fn m(at_us: u64, server: u32, mode: ServerMode) -> ModeSample {
        ModeSample::new(at_us, server, mode, None)
    }

    #[test]
    fn the_service_is_down_while_no_server_leads() {
        let v = vec![
            m(0, 1, ServerMode::Leader), m(0, 2, ServerMode::Follower),
            m(200, 1, ServerMode::Down), m(200, 2, ServerMode::NotServing),
            m(400, 1, ServerMode::Down), m(400, 2, ServerMode::NotServing),
            m(600, 1, ServerMode::Down), m(600, 2, ServerMode::Leader),
        ];
        let o = service_outage(&v, (0, 1000)).unwrap();
        assert_eq!((o.from_us, o.to_us), (200, 600));
        assert_eq!(o.longest_ms, 0.4);
        assert!(service_outage(&v, (5000, 6000)).is_none(), "no samples in the window");
    }

    fn ev(session: u32, end_us: u64, outcome: Outcome) -> OpEvent {
        OpEvent {
            intended_us: end_us - 10,
            start_us: end_us - 10,
            end_us,
            kind: OpKind::Get,
            session,
            path: "/zkchaos/keys/k0".into(),
            outcome,
            error: (outcome != Outcome::Ok).then_some(ErrorClass::ConnectionLoss),
            token: String::new(),
            version: if outcome == Outcome::Ok { 0 } else { -1 },
        }
    }

    #[test]
    fn reconnect_delay_is_per_session_after_the_service_returns() {
        let events = vec![
            ev(0, 100, Outcome::Ok), ev(1, 100, Outcome::Ok),
            ev(0, 1_100, Outcome::Fail), ev(0, 1_500, Outcome::Ok),
            ev(1, 1_200, Outcome::Fail), ev(1, 3_000, Outcome::Ok),
        ];
        let r = reconnect_after(&events, 1_000, 10_000).unwrap();
        assert_eq!(r.max, 2.0);
        assert_eq!(r.median, 1.25);
    }
}
