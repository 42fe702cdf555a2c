//! Small-sample statistics for repeated runs: medians, distribution-free confidence intervals
//! of the median ([`order_ci`]), the Mann-Whitney U rank test, and its exact block-permutation
//! form for runs made of correlated cycles ([`permutation`]).
//!
//! Chaos runs are few (3–10 per strategy) and their figures are far from normal (an outage is
//! either ~0 or seconds), and full of ties (error rate 0, p99 at the operation timeout), so
//! everything here is rank-based and exact where the sample is small. Written here rather than
//! taken from a crate: the pieces are small, and the candidates on crates.io either pull in a
//! large numeric stack (`statrs` + `nalgebra`) or lack the exact small-sample U distribution
//! with ties. Results are reproducible: the Monte-Carlo fallback uses its own seeded SplitMix64
//! generator, whose sequence cannot change with a dependency upgrade.

pub mod order_ci;
pub mod permutation;

pub use order_ci::{median_ci, OrderCi};
pub use permutation::{block_test, PermMethod, PermTest};

use serde::Serialize;

/// Median of the values (mean of the two middle ones for an even count); `None` if empty.
/// NaNs are not expected (callers pass measured figures) and sort last.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(median_sorted(&v))
}

fn median_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Smallest and largest value; `None` if empty.
pub fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let first = *values.first()?;
    Some(values.iter().fold((first, first), |(lo, hi), &x| (lo.min(x), hi.max(x))))
}

/// Seed of the seeded resampling (A/A calibration splits, power splits).
pub const SEED: u64 = 0x005e_ed2c_4a05;

/// Quantile of sorted values, linear interpolation between closest ranks (numpy's default).
pub fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    if i + 1 < v.len() {
        v[i] + frac * (v[i + 1] - v[i])
    } else {
        v[v.len() - 1]
    }
}

/// Do two closed intervals share a point? If two medians' CIs overlap, the data show no clear
/// difference between them (a conservative reading: non-overlap implies a difference, overlap
/// does not prove equality).
pub fn intervals_overlap(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fixed forever.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is < n / 2^64, negligible here).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

/// How a Mann-Whitney p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UMethod {
    /// Exact null distribution (small samples without ties).
    Exact,
    /// Exact permutation distribution of U with the ties as they are (small samples with ties).
    Permutation,
    /// Normal approximation with tie and continuity correction.
    Normal,
}

/// Result of a two-sided Mann-Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannWhitney {
    /// U of the first sample: the number of pairs (x, y) with x > y, ties counting one half.
    pub u1: f64,
    /// U of the second sample (`n1 * n2 - u1`).
    pub u2: f64,
    pub n1: usize,
    pub n2: usize,
    /// Two-sided p-value.
    pub p: f64,
    pub method: UMethod,
}

/// Largest sample size (each side) for which the exact distribution is used when there are no ties.
pub const EXACT_MAX_N: usize = 10;

/// Two-sided Mann-Whitney U test of `x` against `y`; `None` if either is empty. Exact for
/// n1, n2 ≤ [`EXACT_MAX_N`]: from the U distribution without ties, by enumerating every split
/// with ties ([`permutation::block_test`]; the normal approximation gave p = 0.047 for
/// [1,1,1] vs [2,2,2], whose exact p is 0.10). Larger samples: the normal approximation with tie
/// and continuity correction (scipy's `mannwhitneyu(method="asymptotic")`).
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let mut all: Vec<(f64, usize)> = x.iter().map(|&v| (v, 0)).chain(y.iter().map(|&v| (v, 1))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Average ranks over ties; collect tie-group sizes for the variance correction.
    let n = all.len();
    let mut rank_sum_x = 0.0;
    let mut tie_term = 0.0;
    let mut has_ties = false;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        if t > 1.0 {
            has_ties = true;
            tie_term += t * t * t - t;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_x += all[i..=j].iter().filter(|(_, s)| *s == 0).count() as f64 * avg_rank;
        i = j + 1;
    }
    let u1 = rank_sum_x - (n1 * (n1 + 1)) as f64 / 2.0;
    let u2 = (n1 * n2) as f64 - u1;
    let small = n1 <= EXACT_MAX_N && n2 <= EXACT_MAX_N;
    let (p, method) = if small && !has_ties {
        (exact_two_sided(n1, n2, u1.min(u2).round() as usize), UMethod::Exact)
    } else if small {
        let t = permutation::block_test(&permutation::singletons(x), &permutation::singletons(y))?;
        (t.p, UMethod::Permutation)
    } else {
        (normal_two_sided(n1, n2, u1.max(u2), tie_term), UMethod::Normal)
    };
    Some(MannWhitney { u1, u2, n1, n2, p, method })
}

/// Number of arrangements of n1 x's and n2 y's with each U value (U = 0..=n1*n2).
fn u_counts(n1: usize, n2: usize) -> Vec<f64> {
    // f[m][u] for the current n1 row, built up over n2: f(n1, n2, u) = f(n1-1, n2, u-n2) + f(n1, n2-1, u).
    // Do it as a 2-D table over (i, j) with vectors of counts.
    let max_u = n1 * n2;
    let mut table: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); n2 + 1]; n1 + 1];
    for i in 0..=n1 {
        for j in 0..=n2 {
            let mut c = vec![0.0; i * j + 1];
            if i == 0 || j == 0 {
                c[0] = 1.0;
            } else {
                for (u, slot) in c.iter_mut().enumerate() {
                    // The largest value is an x (it beats all j y's) or a y.
                    let from_x = if u >= j { table[i - 1][j].get(u - j).copied().unwrap_or(0.0) } else { 0.0 };
                    let from_y = table[i][j - 1].get(u).copied().unwrap_or(0.0);
                    *slot = from_x + from_y;
                }
            }
            table[i][j] = c;
        }
    }
    let mut out = std::mem::take(&mut table[n1][n2]);
    out.resize(max_u + 1, 0.0);
    out
}

/// Two-sided exact p: 2 · P(U ≤ u_min), at most 1.
fn exact_two_sided(n1: usize, n2: usize, u_min: usize) -> f64 {
    let counts = u_counts(n1, n2);
    let total: f64 = counts.iter().sum();
    let tail: f64 = counts.iter().take(u_min + 1).sum();
    (2.0 * tail / total).min(1.0)
}

/// The smallest two-sided p-value an exact test can give for these sample sizes (all of one side
/// above all of the other): 2 / C(n1+n2, n1). If it is not below alpha, the test cannot fire.
pub fn min_exact_p(n1: usize, n2: usize) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let mut c = 1.0;
    for k in 0..n1 {
        c = c * (n2 + 1 + k) as f64 / (k + 1) as f64;
    }
    (2.0 / c).min(1.0)
}

fn normal_two_sided(n1: usize, n2: usize, u_max: f64, tie_term: f64) -> f64 {
    let (a, b) = (n1 as f64, n2 as f64);
    let n = a + b;
    let mu = a * b / 2.0;
    let var = a * b / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if var <= 0.0 {
        return 1.0; // every value equal: nothing to tell apart
    }
    let z = (u_max - mu - 0.5) / var.sqrt();
    (2.0 * normal_sf(z)).clamp(0.0, 1.0)
}

/// P(Z > z) for a standard normal Z.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn median_and_min_max() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(min_max(&[2.0, -1.0, 7.0]), Some((-1.0, 7.0)));
        assert_eq!(min_max(&[]), None);
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.0), 1.0);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
        assert!(close(quantile_sorted(&v, 0.5), 2.5, 1e-12));
        assert!(close(quantile_sorted(&v, 0.25), 1.75, 1e-12));
    }

    #[test]
    fn overlap() {
        assert!(intervals_overlap((1.0, 3.0), (2.0, 4.0)));
        assert!(intervals_overlap((1.0, 3.0), (3.0, 4.0)), "touching counts as overlap");
        assert!(!intervals_overlap((1.0, 2.0), (2.5, 4.0)));
        assert!(!intervals_overlap((2.5, 4.0), (1.0, 2.0)));
    }

    #[test]
    fn u_distribution_counts() {
        // n1 = n2 = 2: arrangements by U = 0..4 are 1, 1, 2, 1, 1 (6 in all).
        assert_eq!(u_counts(2, 2), vec![1.0, 1.0, 2.0, 1.0, 1.0]);
        // Total number of arrangements is C(n1 + n2, n1).
        assert_eq!(u_counts(4, 6).iter().sum::<f64>(), 210.0);
        assert!(close(min_exact_p(3, 3), 0.1, 1e-12));
        assert!(close(min_exact_p(4, 4), 2.0 / 70.0, 1e-12));
        assert!(close(min_exact_p(5, 5), 2.0 / 252.0, 1e-12));
    }

    // Expected values from scipy 1.x, scipy.stats.mannwhitneyu(x, y) (two-sided, continuity
    // correction), computed once in a scratch venv; the tests do not need Python.

    #[test]
    fn exact_small_samples_match_scipy() {
        // Completely separated, 3 vs 3: U1 = 0, p = 2/20.
        let r = mann_whitney_u(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap();
        assert_eq!((r.u1, r.u2, r.method), (0.0, 9.0, UMethod::Exact));
        assert!(close(r.p, 0.1, 1e-12), "{r:?}");
        // 5 vs 5, interleaved a little.
        let r = mann_whitney_u(&[1.0, 3.0, 5.0, 7.0, 9.0], &[2.0, 4.0, 6.0, 8.0, 10.0]).unwrap();
        assert_eq!(r.u1, 10.0);
        assert!(close(r.p, 0.690_476_190_476_190_5, 1e-9), "{r:?}");
        // Textbook: x = [19, 22, 16, 29, 24], y = [20, 11, 17, 12]; U1 = 17.
        let r = mann_whitney_u(&[19.0, 22.0, 16.0, 29.0, 24.0], &[20.0, 11.0, 17.0, 12.0]).unwrap();
        assert_eq!((r.u1, r.u2), (17.0, 3.0));
        assert!(close(r.p, 0.111_111_111_111_111_1, 1e-9), "{r:?}");
        // 10 vs 10 is still exact here (scipy's "auto" switches to the normal approximation
        // above 8; its method="exact" gives this value).
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let y: Vec<f64> = (0..10).map(|i| f64::from(i) + 3.5).collect();
        let r = mann_whitney_u(&x, &y).unwrap();
        assert_eq!((r.u1, r.method), (21.0, UMethod::Exact));
        assert!(close(r.p, 0.028_805_559_765_312_086, 1e-9), "{r:?}");
    }

    #[test]
    fn small_samples_with_ties_are_exact_permutations() {
        let x = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0];
        let y = [3.0, 4.0, 5.0, 5.0, 6.0, 7.0, 7.0, 8.0];
        let r = mann_whitney_u(&x, &y).unwrap();
        assert_eq!(r.method, UMethod::Permutation);
        assert_eq!(r.u1, 6.5);
        // The normal approximation (scipy "asymptotic") gives 0.0141; the exact permutation p is
        // close to it here, but not equal.
        assert!(r.p > 0.005 && r.p < 0.03, "{r:?}");
        // The case.
        let r = mann_whitney_u(&[1.0, 1.0, 1.0], &[2.0, 2.0, 2.0]).unwrap();
        assert_eq!(r.method, UMethod::Permutation);
        assert!(close(r.p, 0.1, 1e-12), "{r:?}");
    }

    #[test]
    fn normal_approximation_large_samples_matches_scipy() {
        let x: Vec<f64> = (0..12).map(|i| f64::from(i) * 1.5).collect();
        let y: Vec<f64> = (0..11).map(|i| f64::from(i) * 1.7 + 4.1).collect();
        // 12 > EXACT_MAX_N: the normal approximation.
        let r = mann_whitney_u(&x, &y).unwrap();
        assert_eq!(r.method, UMethod::Normal);
        assert_eq!(r.u1, 38.5, "7.5 occurs on both sides: a tie");
        assert!(close(r.p, 0.096_483_546_702_621_13, 1e-6), "{r:?}");
    }

    #[test]
    fn all_equal_gives_p_one() {
        let r = mann_whitney_u(&[1.0, 1.0, 1.0], &[1.0, 1.0]).unwrap();
        assert_eq!(r.p, 1.0);
        assert!(mann_whitney_u(&[], &[1.0]).is_none());
    }

    #[test]
    fn normal_sf_known_values() {
        assert!(close(normal_sf(0.0), 0.5, 1e-7));
        assert!(close(normal_sf(1.959_963_984_540_054), 0.025, 1e-7));
        assert!(close(normal_sf(-1.0), 0.841_344_746_068_543, 1e-7));
    }
}
