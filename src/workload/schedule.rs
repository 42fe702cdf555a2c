//! The schedule: a value handed to the one driver loop ([`super::driver`]).
//!
//! Open loop: operation `i` is intended to start at `t_i = start + i·10⁶/rate` µs, computed from
//! `i` each time (integer arithmetic, no accumulated drift). Closed loop: `in_flight` operations
//! are outstanding at any time and each one's intended start is the moment its slot frees up.

use crate::plan::{LoadMode, LoadPlan};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Fixed rate, ops/s.
    Open { rate: u32 },
    /// This many requests in flight.
    Closed { in_flight: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub pace: Pace,
    /// Intended start of operation 0, µs since the epoch.
    pub start_us: u64,
    /// Stop scheduling at `start_us + duration_us` (None: until cancelled).
    pub duration_us: Option<u64>,
}

impl Schedule {
    pub fn open(rate: u32, start_us: u64, duration: Option<Duration>) -> Schedule {
        Schedule { pace: Pace::Open { rate: rate.max(1) }, start_us, duration_us: duration.map(|d| d.as_micros() as u64) }
    }

    pub fn closed(in_flight: u32, start_us: u64, duration: Option<Duration>) -> Schedule {
        Schedule {
            pace: Pace::Closed { in_flight: in_flight.max(1) },
            start_us,
            duration_us: duration.map(|d| d.as_micros() as u64),
        }
    }

    /// The plan's mode, rate or in-flight count.
    pub fn from_plan(plan: &LoadPlan, start_us: u64, duration: Option<Duration>) -> Schedule {
        match plan.mode {
            LoadMode::Open => Schedule::open(plan.rate, start_us, duration),
            LoadMode::Closed => Schedule::closed(plan.in_flight, start_us, duration),
        }
    }

    /// End of scheduling (exclusive), if bounded.
    pub fn end_us(&self) -> Option<u64> {
        self.duration_us.map(|d| self.start_us + d)
    }

    /// Intended start of operation `i` in open loop; `None` past the end (or in closed loop).
    pub fn intended_us(&self, i: u64) -> Option<u64> {
        let Pace::Open { rate } = self.pace else { return None };
        let offset = (u128::from(i) * 1_000_000 / u128::from(rate.max(1))) as u64;
        let t = self.start_us + offset;
        match self.end_us() {
            Some(end) if t >= end => None,
            _ => Some(t),
        }
    }

    /// Every intended start of a bounded open-loop schedule.
    pub fn open_times(&self) -> impl Iterator<Item = u64> + '_ {
        (0u64..).map_while(move |i| self.intended_us(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_count_and_spacing() {
        for (rate, secs) in [(500u32, 10u64), (2000, 3), (3, 7), (5000, 1)] {
            let s = Schedule::open(rate, 1_234_567, Some(Duration::from_secs(secs)));
            let times: Vec<u64> = s.open_times().collect();
            assert_eq!(times.len() as u64, u64::from(rate) * secs, "rate {rate}");
            assert_eq!(times[0], 1_234_567);
            for (i, t) in times.iter().enumerate() {
                // No drift: always the exact (floored) ideal time.
                assert_eq!(*t, 1_234_567 + (i as u64 * 1_000_000) / u64::from(rate));
            }
            let spacing = 1_000_000 / u64::from(rate);
            for w in times.windows(2) {
                let d = w[1] - w[0];
                assert!(d == spacing || d == spacing + 1, "spacing {d}");
            }
            assert!(*times.last().unwrap() < 1_234_567 + secs * 1_000_000);
        }
    }

    #[test]
    fn closed_has_no_times() {
        let s = Schedule::closed(8, 0, None);
        assert_eq!(s.intended_us(0), None);
        assert_eq!(s.end_us(), None);
    }
}
