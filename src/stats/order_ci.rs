//! Distribution-free confidence intervals for a median from order statistics, with the level
//! they actually have.
//!
//! For n independent values of any continuous distribution, the interval between the k-th
//! smallest and the k-th largest value, [x(k), x(n−k+1)], contains the population median with
//! probability 1 − 2·P(B ≤ k−1), B ~ Binomial(n, ½) (exact, no assumption on the shape). The
//! levels available are discrete: at n = 3 the widest interval, [min, max], is a 75 % interval;
//! 95 % first becomes reachable at n = 6 (96.9 %). A bootstrap percentile interval at n = 3 is
//! the same [min, max] but was labelled 95 % (simulated coverage 74 %): here the label is the
//! interval's own level, and an interval that does not reach the requested level says so.

use serde::Serialize;

/// A median with its order-statistic interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OrderCi {
    pub median: f64,
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
    /// The interval's exact coverage of the median (0 for n = 1: a point).
    pub level: f64,
    /// The requested level was reached (false: n too small, the interval is [min, max] at `level`).
    pub reached: bool,
}

impl OrderCi {
    /// "95 % CI [a, b]" or "n too small for 95 %: [min, max] is a 75 % interval".
    pub fn describe(&self, requested: f64, fmt: impl Fn(f64) -> String) -> String {
        let req = requested * 100.0;
        if self.reached {
            format!("{:.1} % CI [{}, {}]", self.level * 100.0, fmt(self.lo), fmt(self.hi))
        } else if self.n < 2 {
            format!("n too small for {req:.0} %: one value")
        } else {
            format!(
                "n too small for {req:.0} %: [{}, {}] is a {:.1} % interval",
                fmt(self.lo),
                fmt(self.hi),
                self.level * 100.0
            )
        }
    }
}

/// P(B ≤ j) for B ~ Binomial(n, ½).
fn binom_cdf_half(n: usize, j: usize) -> f64 {
    let mut term = 0.5f64.powi(n as i32); // P(B = 0)
    let mut sum = term;
    for i in 1..=j.min(n) {
        term = term * (n - i + 1) as f64 / i as f64;
        sum += term;
    }
    sum
}

/// Coverage of [x(k), x(n−k+1)] (k 1-based, k ≤ n/2 rounded up).
pub fn coverage(n: usize, k: usize) -> f64 {
    if n == 0 || k == 0 || 2 * k > n + 1 {
        return 0.0;
    }
    if 2 * k == n + 1 {
        return 0.0; // the median itself
    }
    1.0 - 2.0 * binom_cdf_half(n, k - 1)
}

/// The narrowest order-statistic interval with coverage ≥ `level`; if none reaches it, the
/// widest one ([min, max]) with its own level and `reached = false`. `None` if empty.
pub fn median_ci(values: &[f64], level: f64) -> Option<OrderCi> {
    let median = super::median(values)?;
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    // Largest k whose interval still covers at `level` (coverage falls as k grows).
    let best = (1..=n.div_ceil(2)).filter(|&k| coverage(n, k) >= level).max();
    let (k, reached) = match best {
        Some(k) => (k, true),
        None => (1, false),
    };
    Some(OrderCi { median, lo: v[k - 1], hi: v[n - k], n, level: coverage(n, k), reached })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn levels_of_min_max() {
        assert!(close(coverage(3, 1), 0.75));
        assert!(close(coverage(4, 1), 0.875));
        assert!(close(coverage(5, 1), 0.9375));
        assert!(close(coverage(6, 1), 0.968_75));
        assert!(close(coverage(10, 2), 1.0 - 2.0 * 11.0 / 1024.0));
        assert_eq!(coverage(1, 1), 0.0);
    }

    #[test]
    fn small_n_says_it_is_too_small() {
        let ci = median_ci(&[3.0, 1.0, 2.0], 0.95).unwrap();
        assert_eq!((ci.lo, ci.median, ci.hi, ci.reached), (1.0, 2.0, 3.0, false));
        assert!(close(ci.level, 0.75));
        let text = ci.describe(0.95, |v| format!("{v}"));
        assert_eq!(text, "n too small for 95 %: [1, 3] is a 75.0 % interval");
        let one = median_ci(&[7.0], 0.95).unwrap();
        assert_eq!((one.lo, one.hi, one.level, one.reached), (7.0, 7.0, 0.0, false));
        assert!(median_ci(&[], 0.95).is_none());
    }

    #[test]
    fn larger_n_reaches_95_with_inner_order_statistics() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        let ci = median_ci(&v, 0.95).unwrap();
        // k = 2: 97.9 %; k = 3: 89.1 % < 95 %.
        assert_eq!((ci.lo, ci.hi, ci.reached), (2.0, 9.0, true));
        assert!(close(ci.level, 1.0 - 2.0 * 11.0 / 1024.0));
        let six = median_ci(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.95).unwrap();
        assert_eq!((six.lo, six.hi, six.reached), (1.0, 6.0, true));
    }
}
