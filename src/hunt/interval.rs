//! Exact (Clopper-Pearson) confidence intervals for a failure rate `x / n`.
//!
//! The bounds are the beta quantiles `B(α/2; x, n−x+1)` and `B(1−α/2; x+1, n−x)`, found here as
//! the `p` where the binomial tail equals α/2 (`P(X ≥ x | p) = α/2` for the lower bound,
//! `P(X ≤ x | p) = α/2` for the upper), by bisection on a log-space binomial CDF. Exact, so it
//! never claims more than the trials support: 0 failures in 10 trials still allows up to 31 %.

use serde::{Deserialize, Serialize};

/// A rate with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub failures: u64,
    pub trials: u64,
    /// failures / trials (None for no trials).
    pub rate: Option<f64>,
    /// Clopper-Pearson 95 % interval, [0, 1] for no trials.
    pub ci95: [f64; 2],
}

impl Rate {
    pub fn of(failures: u64, trials: u64) -> Rate {
        let rate = (trials > 0).then(|| failures as f64 / trials as f64);
        Rate { failures, trials, rate, ci95: clopper_pearson(failures, trials, 0.05) }
    }
    /// `3/10 = 30.0 % [6.7 %, 65.2 %]`.
    pub fn show(&self) -> String {
        match self.rate {
            None => "no trials".into(),
            Some(r) => format!("{}/{} = {:.1} % [{:.1} %, {:.1} %]", self.failures, self.trials, r * 100.0, self.ci95[0] * 100.0, self.ci95[1] * 100.0),
        }
    }
}

/// P(X ≤ x) for X ~ Binomial(n, p).
pub fn binomial_cdf(x: u64, n: u64, p: f64) -> f64 {
    if x >= n {
        return 1.0;
    }
    if p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return 0.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    // log pmf(0), then pmf(k+1) = pmf(k) · (n−k)/(k+1) · p/q
    let mut l = n as f64 * lq;
    let mut sum = l.exp();
    for k in 0..x {
        l += ((n - k) as f64).ln() - ((k + 1) as f64).ln() + lp - lq;
        sum += l.exp();
    }
    sum.min(1.0)
}

/// The `p` in (0, 1) where the decreasing function `f(p)` crosses `target`.
fn solve(f: impl Fn(f64) -> f64, target: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if f(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// The exact two-sided `1 − alpha` interval for `x` failures in `n` trials.
pub fn clopper_pearson(x: u64, n: u64, alpha: f64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let x = x.min(n);
    let a = alpha / 2.0;
    // P(X ≥ x | p) grows with p; P(X ≤ x | p) falls with p.
    let lower = if x == 0 { 0.0 } else { solve(|p| 1.0 - (1.0 - binomial_cdf(x - 1, n, p)), 1.0 - a) };
    let upper = if x == n { 1.0 } else { solve(|p| binomial_cdf(x, n, p), a) };
    [lower, upper]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: [f64; 2], b: [f64; 2]) -> bool {
        (a[0] - b[0]).abs() < 5e-5 && (a[1] - b[1]).abs() < 5e-5
    }

    #[test]
    fn known_values() {
        // Reference values: R binom.test(x, n)$conf.int.
        assert!(close(clopper_pearson(0, 10, 0.05), [0.0, 0.30849]), "{:?}", clopper_pearson(0, 10, 0.05));
        assert!(close(clopper_pearson(3, 10, 0.05), [0.06674, 0.65245]), "{:?}", clopper_pearson(3, 10, 0.05));
        assert!(close(clopper_pearson(10, 10, 0.05), [0.69150, 1.0]), "{:?}", clopper_pearson(10, 10, 0.05));
        assert!(close(clopper_pearson(1, 3, 0.05), [0.00840, 0.90570]), "{:?}", clopper_pearson(1, 3, 0.05));
        assert!(close(clopper_pearson(5, 100, 0.05), [0.01643, 0.11284]), "{:?}", clopper_pearson(5, 100, 0.05));
        assert_eq!(clopper_pearson(0, 0, 0.05), [0.0, 1.0]);
    }

    #[test]
    fn rate_shows_fraction_and_interval() {
        assert_eq!(Rate::of(3, 10).show(), "3/10 = 30.0 % [6.7 %, 65.2 %]");
        assert_eq!(Rate::of(0, 0).show(), "no trials");
    }

    #[test]
    fn the_cdf_sums_to_one_and_matches_a_direct_sum() {
        assert!((binomial_cdf(3, 10, 0.3) - 0.6496107184).abs() < 1e-9);
        assert_eq!(binomial_cdf(10, 10, 0.3), 1.0);
    }
}
