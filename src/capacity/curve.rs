//! The capacity of one point as a measured curve, not a bisection: many short open-loop steps
//! at rates spread over the interesting range, held in a shuffled (seeded, recorded) order, each
//! judged against the objective. From the steps that measured ZooKeeper (driver-limited ones
//! excluded) the probability of meeting the objective is fitted against the offered rate, monotone
//! non-increasing (isotonic regression, pool-adjacent-violators), and the answer is the offered
//! rate where that probability falls to `level` (0.9): linear in log-rate between the two measured
//! rates around the crossing. Its interval is a percentile bootstrap over steps (resampled with
//! replacement, seeded), so steps that disagree widen the interval instead of erasing the answer.
//!
//! Bounds only at the ends: `< x` when even the lowest measured rate is met with probability below
//! `level`, `≥ x` when the highest is met with at least `level`. When steps above the answer were
//! driver-limited and no valid step failed there, the driver bounds the answer: `≥ x
//! (driver-limited)`, never a plain number (OpenMessaging Benchmark's rate controller and k6
//! stair-step tests are the anchors; the isotonic fit is what lets noisy steps disagree).

use super::step::Verdict;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// `count` rates spread geometrically over `[lo, hi]` (ascending, distinct, at least 1 ops/s).
pub fn spread(lo: f64, hi: f64, count: u32) -> Vec<u32> {
    let (lo, hi) = (lo.max(1.0), hi.max(lo.max(1.0)));
    let n = count.max(1);
    let mut v: Vec<u32> = (0..n)
        .map(|i| if n == 1 { lo } else { lo * (hi / lo).powf(f64::from(i) / f64::from(n - 1)) })
        .map(|r| r.round() as u32)
        .collect();
    v.dedup();
    v
}

/// `rates` in a shuffled order drawn from `seed` (the same seed gives the same order).
pub fn shuffled(rates: &[u32], seed: u64) -> Vec<u32> {
    let mut v = rates.to_vec();
    v.shuffle(&mut SmallRng::seed_from_u64(seed));
    v
}

/// The fitted curve: distinct offered rates (ascending), steps at each, and the monotone
/// non-increasing probability of meeting the objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub rates: Vec<f64>,
    pub steps: Vec<u32>,
    pub p_meet: Vec<f64>,
}

/// Isotonic (non-increasing) fit of pass/fail against the offered rate, weighted by steps.
pub fn isotonic(steps: &[(f64, bool)]) -> Fit {
    let mut s: Vec<(f64, bool)> = steps.iter().copied().filter(|(r, _)| r.is_finite()).collect();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rates: Vec<f64> = Vec::new();
    let mut counts: Vec<u32> = Vec::new();
    let mut passes: Vec<f64> = Vec::new();
    for (r, ok) in s {
        if rates.last() != Some(&r) {
            rates.push(r);
            counts.push(0);
            passes.push(0.0);
        }
        *counts.last_mut().expect("pushed") += 1;
        *passes.last_mut().expect("pushed") += f64::from(u8::from(ok));
    }
    // Pool adjacent violators: blocks of (mean, weight, members), means non-increasing.
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for (i, &n) in counts.iter().enumerate() {
        blocks.push((passes[i] / f64::from(n), f64::from(n), 1));
        while blocks.len() >= 2 && blocks[blocks.len() - 2].0 < blocks[blocks.len() - 1].0 {
            let b = blocks.pop().expect("two blocks");
            let a = blocks.last_mut().expect("two blocks");
            *a = ((a.0 * a.1 + b.0 * b.1) / (a.1 + b.1), a.1 + b.1, a.2 + b.2);
        }
    }
    let p_meet = blocks.iter().flat_map(|&(m, _, k)| std::iter::repeat_n(m, k)).collect();
    Fit { rates, steps: counts, p_meet }
}

/// What the curve says about one point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Answer {
    /// The objective is met with probability ≥ level up to `rate` offered ops/s.
    Rate { rate: f64 },
    /// Even the highest measured rate met it: the capacity is at least `rate`; `driver_limited`
    /// when steps above it measured the driver, not ZooKeeper.
    AtLeast { rate: f64, driver_limited: bool },
    /// Even the lowest measured rate missed it: the capacity is below `rate`.
    Below { rate: f64 },
    /// No step measured ZooKeeper (all driver-limited, or none held).
    NoData,
}

impl Answer {
    /// The figure the answer states (the rate, or the bound).
    pub fn value(&self) -> Option<f64> {
        match *self {
            Answer::Rate { rate } | Answer::AtLeast { rate, .. } | Answer::Below { rate } => Some(rate),
            Answer::NoData => None,
        }
    }
}

/// The crossing of `level` on a fitted curve, before any driver bound.
pub fn answer_of(fit: &Fit, level: f64) -> Answer {
    let (Some(&first), Some(&last)) = (fit.p_meet.first(), fit.p_meet.last()) else { return Answer::NoData };
    let k = fit.rates.len();
    if first < level {
        return Answer::Below { rate: fit.rates[0] };
    }
    if last >= level {
        return Answer::AtLeast { rate: fit.rates[k - 1], driver_limited: false };
    }
    let j = fit.p_meet.iter().rposition(|p| *p >= level).expect("first ≥ level");
    let (p0, p1) = (fit.p_meet[j], fit.p_meet[j + 1]);
    let t = (p0 - level) / (p0 - p1);
    let (l0, l1) = (fit.rates[j].ln(), fit.rates[j + 1].ln());
    Answer::Rate { rate: (l0 + t * (l1 - l0)).exp() }
}

/// The estimate of one point with its interval and the steps behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub answer: Answer,
    /// Percentile bootstrap interval of the answer's rate (`ci_level`), `Rate` answers only.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub ci_level: f64,
    /// The probability of meeting the objective the answer is read at.
    pub level: f64,
    pub bootstrap: u32,
    /// Steps fitted (they measured ZooKeeper) and steps excluded because the driver fell behind.
    pub steps_fitted: u32,
    pub steps_driver_limited: u32,
    /// Offered rates of the driver-limited steps, ascending.
    pub driver_limited_rates: Vec<f64>,
    pub fit: Fit,
}

/// Estimator settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EstimateConfig {
    pub level: f64,
    pub bootstrap: u32,
    pub ci_level: f64,
    pub seed: u64,
}

/// Estimate from `(offered rate, verdict)` steps. See the module docs.
pub fn estimate(steps: &[(f64, Verdict)], cfg: &EstimateConfig) -> Estimate {
    let valid: Vec<(f64, bool)> =
        steps.iter().filter(|s| s.1 != Verdict::DriverLimited).map(|&(r, v)| (r, v == Verdict::Pass)).collect();
    let mut dl: Vec<f64> = steps.iter().filter(|s| s.1 == Verdict::DriverLimited).map(|s| s.0).collect();
    dl.sort_by(f64::total_cmp);
    let fit = isotonic(&valid);
    let mut answer = answer_of(&fit, cfg.level);
    if let Answer::AtLeast { rate, .. } = answer {
        // Only driver-limited steps above the highest valid rate: the driver set the ceiling.
        if dl.last().is_some_and(|d| *d > rate) {
            answer = Answer::AtLeast { rate, driver_limited: true };
        }
    }
    let (ci_low, ci_high) = match answer {
        Answer::Rate { .. } => bootstrap_interval(&valid, cfg),
        _ => (None, None),
    };
    Estimate {
        answer,
        ci_low,
        ci_high,
        ci_level: cfg.ci_level,
        level: cfg.level,
        bootstrap: cfg.bootstrap,
        steps_fitted: valid.len() as u32,
        steps_driver_limited: dl.len() as u32,
        driver_limited_rates: dl,
        fit,
    }
}

/// Percentile interval of the answer's rate over resampled steps. A resample whose answer is a
/// bound counts at the bound (`< x` at x, `≥ x` at x), which widens the interval to that end.
fn bootstrap_interval(valid: &[(f64, bool)], cfg: &EstimateConfig) -> (Option<f64>, Option<f64>) {
    if valid.is_empty() || cfg.bootstrap == 0 {
        return (None, None);
    }
    let mut rng = SmallRng::seed_from_u64(cfg.seed ^ 0x5eed_b007);
    let mut values: Vec<f64> = (0..cfg.bootstrap)
        .filter_map(|_| {
            let sample: Vec<(f64, bool)> = (0..valid.len()).map(|_| valid[rng.gen_range(0..valid.len())]).collect();
            answer_of(&isotonic(&sample), cfg.level).value()
        })
        .collect();
    if values.is_empty() {
        return (None, None);
    }
    values.sort_by(f64::total_cmp);
    let q = |p: f64| values[((p * values.len() as f64).floor() as usize).min(values.len() - 1)];
    let tail = (1.0 - cfg.ci_level) / 2.0;
    (Some(q(tail)), Some(q(1.0 - tail)))
}

/// The range of a further round when the first one only bounded the answer: above the highest
/// rate (up to ×`widen`, within `max`) after `≥ x` that the driver did not cause, below the lowest
/// (down to ÷`widen`, within `min`) after `< x`. `None` when the answer needs no further round.
pub fn extension(answer: &Answer, widen: f64, min: f64, max: f64) -> Option<(f64, f64)> {
    match *answer {
        Answer::AtLeast { rate, driver_limited: false } if rate * 1.05 < max => Some((rate * 1.1, (rate * widen).min(max))),
        Answer::Below { rate } if rate / 1.05 > min => Some(((rate / widen).max(min), rate / 1.1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{DriverLimited as D, Fail as F, Pass as P};

    fn cfg() -> EstimateConfig {
        EstimateConfig { level: 0.9, bootstrap: 400, ci_level: 0.9, seed: 7 }
    }

    #[test]
    fn spread_and_shuffle_are_reproducible() {
        let r = spread(500.0, 4000.0, 4);
        assert_eq!(r, vec![500, 1000, 2000, 4000]);
        let a = shuffled(&r, 3);
        assert_eq!(a, shuffled(&r, 3), "same seed, same order");
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, r, "a permutation");
    }

    #[test]
    fn isotonic_pools_violators() {
        // pass, fail, pass, fail at rising rates: the middle two pool to 0.5.
        let f = isotonic(&[(100.0, true), (200.0, false), (300.0, true), (400.0, false)]);
        assert_eq!(f.p_meet, vec![1.0, 0.5, 0.5, 0.0]);
        let f = isotonic(&[(100.0, true), (100.0, false), (200.0, true)]);
        assert_eq!((f.rates.clone(), f.steps.clone()), (vec![100.0, 200.0], vec![2, 1]));
        assert!((f.p_meet[0] - 2.0 / 3.0).abs() < 1e-12 && (f.p_meet[1] - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn clean_knee_is_answered_between_the_last_pass_and_the_first_fail() {
        let steps = [(1000.0, P), (1500.0, P), (2000.0, P), (2500.0, F), (3000.0, F)];
        let e = estimate(&steps, &cfg());
        let Answer::Rate { rate } = e.answer else { panic!("{e:?}") };
        assert!(rate > 2000.0 && rate < 2100.0, "{rate}: 10 % of the log-way from 2000 to 2500");
        let (lo, hi) = (e.ci_low.unwrap(), e.ci_high.unwrap());
        assert!(lo <= rate && rate <= hi, "{lo} {rate} {hi}");
        assert_eq!((e.steps_fitted, e.steps_driver_limited), (5, 0));
    }

    #[test]
    fn a_disagreeing_step_widens_the_interval_instead_of_erasing_the_answer() {
        let clean = [(1000.0, P), (1400.0, P), (2000.0, P), (2800.0, F), (4000.0, F)];
        let noisy = [(1000.0, P), (1400.0, F), (2000.0, P), (2800.0, F), (4000.0, F), (1200.0, P), (1700.0, P)];
        let c = estimate(&clean, &cfg());
        let n = estimate(&noisy, &cfg());
        assert!(matches!(n.answer, Answer::Rate { .. }), "{n:?}");
        let width = |e: &Estimate| e.ci_high.unwrap() / e.ci_low.unwrap();
        assert!(width(&n) > width(&c), "noisy {:?} vs clean {:?}", (n.ci_low, n.ci_high), (c.ci_low, c.ci_high));
        assert!(n.answer.value().unwrap() < c.answer.value().unwrap());
    }

    #[test]
    fn bounds_only_at_the_ends() {
        let e = estimate(&[(1000.0, F), (2000.0, F)], &cfg());
        assert_eq!(e.answer, Answer::Below { rate: 1000.0 });
        let e = estimate(&[(1000.0, P), (2000.0, P)], &cfg());
        assert_eq!(e.answer, Answer::AtLeast { rate: 2000.0, driver_limited: false });
        assert_eq!((e.ci_low, e.ci_high), (None, None));
        assert_eq!(estimate(&[], &cfg()).answer, Answer::NoData);
        assert_eq!(estimate(&[(1000.0, D)], &cfg()).answer, Answer::NoData);
    }

    #[test]
    fn driver_limited_steps_are_excluded_and_bound_the_answer_when_above_it() {
        // Valid steps all pass; the two highest rates measured the driver.
        let e = estimate(&[(1000.0, P), (2000.0, P), (3000.0, D), (4000.0, D)], &cfg());
        assert_eq!(e.answer, Answer::AtLeast { rate: 2000.0, driver_limited: true });
        assert_eq!((e.steps_fitted, e.steps_driver_limited), (2, 2));
        assert_eq!(e.driver_limited_rates, vec![3000.0, 4000.0]);
        // A driver-limited step below a valid failure: excluded, the answer stands.
        let e = estimate(&[(1000.0, P), (1500.0, D), (2000.0, P), (3000.0, F)], &cfg());
        assert!(matches!(e.answer, Answer::Rate { rate } if rate > 2000.0 && rate < 3000.0), "{e:?}");
        assert_eq!(e.steps_driver_limited, 1);
    }

    #[test]
    fn extension_rounds_only_after_a_bound() {
        let up = extension(&Answer::AtLeast { rate: 2000.0, driver_limited: false }, 3.0, 100.0, 60_000.0);
        assert_eq!(up, Some((2200.0, 6000.0)));
        assert_eq!(extension(&Answer::AtLeast { rate: 2000.0, driver_limited: true }, 3.0, 100.0, 60_000.0), None);
        let down = extension(&Answer::Below { rate: 900.0 }, 3.0, 100.0, 60_000.0).unwrap();
        assert!((down.0 - 300.0).abs() < 1e-9 && (down.1 - 900.0 / 1.1).abs() < 1e-9);
        assert_eq!(extension(&Answer::Below { rate: 100.0 }, 3.0, 100.0, 60_000.0), None);
        assert_eq!(extension(&Answer::Rate { rate: 5.0 }, 3.0, 100.0, 60_000.0), None);
    }
}
