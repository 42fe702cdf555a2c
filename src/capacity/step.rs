//! One measured step: figures computed from the step's recorded events, and its verdict.
//!
//! The measured window is `[window_start_us, window_end_us)` of *intended* start times (the
//! warm-up before it is not measured). Every operation intended in the window counts, failures
//! included: latency is `end − intended` for each of them, so a step whose failures are fast
//! cannot look good by dropping them. Throughput is the rate of successful completions whose end
//! falls in the window; the issued rate counts actual starts in the window.

use crate::record::{OpEvent, OpKind, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Latency quantiles, µs (nearest rank).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
}

impl Quantiles {
    /// Quantiles of `v` (sorted in place).
    pub fn of(v: &mut [u64]) -> Quantiles {
        if v.is_empty() {
            return Quantiles::default();
        }
        v.sort_unstable();
        let q = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Quantiles { count: v.len() as u64, p50_us: q(0.50), p99_us: q(0.99), p999_us: q(0.999) }
    }
}

/// What a step measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepFigures {
    /// Length of the measured window, s.
    pub window_s: f64,
    /// Operations intended in the window.
    pub intended: u64,
    /// Operations actually started in the window, per second.
    pub issued_rate: f64,
    /// Successful completions in the window, per second (the throughput).
    pub ok_rate: f64,
    /// Failed + indeterminate over all intended in the window.
    pub error_rate: f64,
    /// Every operation intended in the window, failures included.
    pub all: Quantiles,
    pub per_kind: BTreeMap<OpKind, Quantiles>,
    /// Schedule lag (start − intended), µs.
    pub lag_p99_us: u64,
    /// Process CPU while the step was driven, in cores (1.0 = one core busy).
    pub driver_cpu_cores: f64,
}

/// Compute a step's figures from its events.
pub fn figures(events: &[OpEvent], window_start_us: u64, window_end_us: u64, driver_cpu_cores: f64) -> StepFigures {
    let window_s = window_end_us.saturating_sub(window_start_us) as f64 / 1e6;
    let in_window = |t: u64| t >= window_start_us && t < window_end_us;
    let mut all = Vec::new();
    let mut lag = Vec::new();
    let mut kinds: BTreeMap<OpKind, Vec<u64>> = BTreeMap::new();
    let (mut issued, mut ok_done, mut errors) = (0u64, 0u64, 0u64);
    for e in events {
        if in_window(e.start_us) {
            issued += 1;
        }
        if e.outcome == Outcome::Ok && in_window(e.end_us) {
            ok_done += 1;
        }
        if !in_window(e.intended_us) {
            continue;
        }
        let lat = e.end_us.saturating_sub(e.intended_us);
        all.push(lat);
        kinds.entry(e.kind).or_default().push(lat);
        lag.push(e.start_us.saturating_sub(e.intended_us));
        if e.outcome != Outcome::Ok {
            errors += 1;
        }
    }
    let intended = all.len() as u64;
    let per_s = |n: u64| if window_s > 0.0 { n as f64 / window_s } else { 0.0 };
    StepFigures {
        window_s,
        intended,
        issued_rate: per_s(issued),
        ok_rate: per_s(ok_done),
        error_rate: if intended > 0 { errors as f64 / intended as f64 } else { 0.0 },
        all: Quantiles::of(&mut all),
        per_kind: kinds.into_iter().map(|(k, mut v)| (k, Quantiles::of(&mut v))).collect(),
        lag_p99_us: Quantiles::of(&mut lag).p99_us,
        driver_cpu_cores,
    }
}

/// A step's verdict against the objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// The objective was missed (latency or errors).
    Fail,
    /// The load driver fell behind its schedule or used its whole CPU: the step measures the
    /// driver, not ZooKeeper. The curve excludes it, and the point reports it.
    DriverLimited,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::DriverLimited => "driver-limited",
        }
    }
}

/// Judge `f` at `offered` ops/s (`None` for closed loop, which has no schedule to fall behind
/// but is checked for the driver's CPU like every step).
pub fn judge(
    f: &StepFigures,
    offered: Option<f64>,
    objective: &super::sweep::Objective,
    limits: &super::sweep::DriverLimits,
) -> Verdict {
    if f.intended == 0 {
        return Verdict::Fail;
    }
    if f.driver_cpu_cores >= limits.max_cpu_cores {
        return Verdict::DriverLimited;
    }
    if let Some(offered) = offered {
        let behind = f.lag_p99_us as f64 > limits.max_lag_p99_ms * 1000.0
            || f.issued_rate < limits.min_issued_fraction * offered;
        if behind {
            return Verdict::DriverLimited;
        }
    }
    let ok = f.all.p99_us as f64 <= objective.p99_ms * 1000.0 && f.error_rate <= objective.max_error_rate;
    if ok {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

#[cfg(test)]
mod tests {
    use super::super::sweep::{DriverLimits, Objective};
    use super::*;
    use crate::record::ErrorClass;

    fn ev(intended: u64, lag: u64, lat: u64, kind: OpKind, ok: bool) -> OpEvent {
        OpEvent {
            intended_us: intended,
            start_us: intended + lag,
            end_us: intended + lat,
            kind,
            session: 0,
            path: "/zkchaos/keys/k1".into(),
            outcome: if ok { Outcome::Ok } else { Outcome::Fail },
            error: if ok { None } else { Some(ErrorClass::ConnectionLoss) },
            token: String::new(),
            version: -1,
        }
    }

    #[test]
    fn failures_count_in_latency_and_the_warmup_is_excluded() {
        // 1 s window at 1000 ops/s from t = 1 s; a warm-up op at 0.5 s with a huge latency.
        let mut events = vec![ev(500_000, 10, 9_000_000, OpKind::Get, true)];
        for i in 0..1000u64 {
            let t = 1_000_000 + i * 1000;
            // Ten failures that took 2 s (timeouts): they must dominate p99.
            let fail = i % 100 == 0;
            let kind = if i % 2 == 0 { OpKind::Get } else { OpKind::Set };
            events.push(ev(t, 20, if fail { 2_000_000 } else { 800 }, kind, !fail));
        }
        let f = figures(&events, 1_000_000, 2_000_000, 0.25);
        assert_eq!(f.intended, 1000);
        assert!((f.error_rate - 0.01).abs() < 1e-9);
        assert_eq!(f.all.p50_us, 800);
        assert_eq!(f.all.p99_us, 800, "10 of 1000 slow: p99 (rank 990) is still fast");
        assert_eq!(f.all.p999_us, 2_000_000, "but p99.9 is a failure's latency");
        assert_eq!(f.per_kind[&OpKind::Get].count, 500);
        assert_eq!(f.lag_p99_us, 20);
        // Successes ending in the window: 990 minus those ending after 2 s (none: 800 µs).
        assert!((f.ok_rate - 990.0).abs() < 1e-9, "{}", f.ok_rate);
        assert!((f.issued_rate - 1000.0).abs() < 1e-9);

        let obj = Objective { p99_ms: 20.0, max_error_rate: 0.001 };
        let lim = DriverLimits::default();
        assert_eq!(judge(&f, Some(1000.0), &obj, &lim), Verdict::Fail, "1 % errors > 0.1 %");
        let loose = Objective { p99_ms: 20.0, max_error_rate: 0.02 };
        assert_eq!(judge(&f, Some(1000.0), &loose, &lim), Verdict::Pass);
        assert_eq!(judge(&f, Some(1100.0), &loose, &lim), Verdict::DriverLimited, "issued 1000 < 95 % of 1100");
    }

    #[test]
    fn lagging_driver_is_marked() {
        let events: Vec<OpEvent> = (0..100u64).map(|i| ev(i * 10_000, 8_000, 9_000, OpKind::Get, true)).collect();
        let f = figures(&events, 0, 1_000_000, 0.5);
        assert_eq!(f.lag_p99_us, 8_000);
        let v = judge(&f, Some(100.0), &Objective::default(), &DriverLimits::default());
        assert_eq!(v, Verdict::DriverLimited);
        assert_eq!(judge(&f, None, &Objective::default(), &DriverLimits::default()), Verdict::Pass);
        assert_eq!(figures(&[], 0, 1_000_000, 0.0).intended, 0);
        // A closed-loop step whose driver used its whole CPU measured the driver.
        let busy = figures(&events, 0, 1_000_000, 0.95);
        assert_eq!(judge(&busy, None, &Objective::default(), &DriverLimits::default()), Verdict::DriverLimited);
    }
}
