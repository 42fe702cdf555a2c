//! Exact (or seeded Monte-Carlo) permutation p-values of the Mann-Whitney U statistic, with ties,
//! for samples made of correlated blocks.
//!
//! A run with `procedure.repeat = N` gives N cycle values that share one ensemble, one host state
//! and one set of JVMs: they are not independent, so a rank test that treats the N·runs cycle
//! values as independent samples overstates the evidence. Here the exchangeable unit is the
//! **run** (a block of cycle values): under "no change" every assignment of the runs to the two
//! sides is equally likely, whatever the correlation inside a run. The statistic is U over all
//! cycle values (each pair x > y counts 1, a tie ½), so cycles still sharpen the statistic, while
//! the p-value is only as small as the number of run assignments allows: with n1 and n2 runs at
//! best 2 / C(n1+n2, n1) (two-sided). Single values are blocks of one, which gives the exact
//! permutation Mann-Whitney test with ties (scipy's `permutation_test` on U gives the same).
//!
//! Up to [`EXACT_SPLITS`] assignments are enumerated; beyond, [`MC_SPLITS`] random assignments
//! with a fixed seed, p = (extreme + 1) / (MC_SPLITS + 1) (never 0).

use super::SplitMix64;
use serde::Serialize;

/// Largest number of run assignments enumerated exactly (C(20, 10) = 184,756 fits).
pub const EXACT_SPLITS: f64 = 200_000.0;
/// Random assignments drawn when there are more.
pub const MC_SPLITS: usize = 20_000;
/// Seed of the Monte-Carlo assignments.
pub const MC_SEED: u64 = 0x0b10_c4ed_5eed;

/// How a permutation p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PermMethod {
    /// Every assignment of the runs to the sides enumerated.
    Exact,
    /// [`MC_SPLITS`] random assignments, fixed seed.
    MonteCarlo,
}

/// A two-sided block-permutation test of U.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PermTest {
    /// U of the first side over all values (pairs x > y, ties ½).
    pub u: f64,
    /// Blocks (runs) per side.
    pub n1: usize,
    pub n2: usize,
    /// Values (cycles) per side.
    pub values1: usize,
    pub values2: usize,
    /// Two-sided p: 2 · min(P(U* ≤ U), P(U* ≥ U)), at most 1.
    pub p: f64,
    /// The smallest p any data could give with these blocks: 2 / C(n1+n2, n1).
    pub min_p: f64,
    pub method: PermMethod,
}

/// U contribution of block `a` against block `b`: pairs x > y count 1, ties ½.
fn pair_u(a: &[f64], b: &[f64]) -> f64 {
    let mut u = 0.0;
    for &x in a {
        for &y in b {
            if x > y {
                u += 1.0;
            } else if x == y {
                u += 0.5;
            }
        }
    }
    u
}

/// C(n, k) as f64.
pub fn binomial(n: usize, k: usize) -> f64 {
    let k = k.min(n - k.min(n));
    (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64)
}

/// The smallest two-sided p a permutation test with `n1` and `n2` blocks can give.
pub fn min_p(n1: usize, n2: usize) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    (2.0 / binomial(n1 + n2, n1)).min(1.0)
}

/// Two-sided block-permutation test of the first side's values against the second's; `None`
/// if a side has no value. Empty blocks are dropped.
pub fn block_test(x: &[Vec<f64>], y: &[Vec<f64>]) -> Option<PermTest> {
    let blocks: Vec<&Vec<f64>> = x.iter().chain(y).filter(|b| !b.is_empty()).collect();
    let n1 = x.iter().filter(|b| !b.is_empty()).count();
    let n2 = blocks.len() - n1;
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let n = blocks.len();
    let w: Vec<Vec<f64>> = blocks.iter().map(|a| blocks.iter().map(|b| pair_u(a, b)).collect()).collect();
    let u_of = |first: &[bool]| -> f64 {
        let mut u = 0.0;
        for i in (0..n).filter(|&i| first[i]) {
            for j in (0..n).filter(|&j| !first[j]) {
                u += w[i][j];
            }
        }
        u
    };
    let observed: Vec<bool> = (0..n).map(|i| i < n1).collect();
    let u = u_of(&observed);
    let (mut le, mut ge, mut total) = (0usize, 0usize, 0usize);
    let mut count = |uu: f64| {
        total += 1;
        // U takes values on a grid of halves: compare with a margin far below ½.
        if uu <= u + 1e-9 {
            le += 1;
        }
        if uu >= u - 1e-9 {
            ge += 1;
        }
    };
    let exact = binomial(n, n1) <= EXACT_SPLITS;
    if exact {
        for_each_subset(n, n1, &mut |first| count(u_of(first)));
    } else {
        let mut rng = SplitMix64(MC_SEED);
        let mut idx: Vec<usize> = (0..n).collect();
        let mut first = vec![false; n];
        for _ in 0..MC_SPLITS {
            for i in (1..n).rev() {
                idx.swap(i, rng.below(i + 1));
            }
            first.iter_mut().for_each(|f| *f = false);
            idx[..n1].iter().for_each(|&i| first[i] = true);
            count(u_of(&first));
        }
    }
    let (values1, values2) = (x.iter().map(Vec::len).sum(), y.iter().map(Vec::len).sum());
    let p = if exact {
        2.0 * le.min(ge) as f64 / total as f64
    } else {
        2.0 * (le.min(ge) + 1) as f64 / (total + 1) as f64
    };
    let method = if exact { PermMethod::Exact } else { PermMethod::MonteCarlo };
    Some(PermTest { u, n1, n2, values1, values2, p: p.min(1.0), min_p: min_p(n1, n2), method })
}

/// Call `f` with every `k`-of-`n` membership mask (revolving through combinations in
/// lexicographic order of the chosen indices).
fn for_each_subset(n: usize, k: usize, f: &mut dyn FnMut(&[bool])) {
    let mut idx: Vec<usize> = (0..k).collect();
    let mut mask = vec![false; n];
    loop {
        mask.iter_mut().for_each(|m| *m = false);
        idx.iter().for_each(|&i| mask[i] = true);
        f(&mask);
        // Advance to the next combination.
        let mut i = k;
        loop {
            if i == 0 {
                return;
            }
            i -= 1;
            if idx[i] < n - k + i {
                idx[i] += 1;
                for j in i + 1..k {
                    idx[j] = idx[j - 1] + 1;
                }
                break;
            }
            if i == 0 {
                return;
            }
        }
    }
}

/// Blocks of one value each.
pub fn singletons(v: &[f64]) -> Vec<Vec<f64>> {
    v.iter().map(|&x| vec![x]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn ties_get_the_exact_p_not_the_normal_one() {
        // The case: the normal approximation gave 0.047; the exact permutation p is 0.10.
        let t = block_test(&singletons(&[1.0, 1.0, 1.0]), &singletons(&[2.0, 2.0, 2.0])).unwrap();
        assert_eq!((t.u, t.method), (0.0, PermMethod::Exact));
        assert!(close(t.p, 0.1), "{t:?}");
        assert!(close(t.min_p, 0.1));
    }

    #[test]
    fn no_ties_matches_the_exact_u_distribution() {
        // Same values as scipy's exact Mann-Whitney in stats.rs' tests.
        let t = block_test(&singletons(&[1.0, 3.0, 5.0, 7.0, 9.0]), &singletons(&[2.0, 4.0, 6.0, 8.0, 10.0])).unwrap();
        assert_eq!(t.u, 10.0);
        assert!(close(t.p, 0.690_476_190_476_190_5), "{t:?}");
        let t = block_test(&singletons(&[19.0, 22.0, 16.0, 29.0, 24.0]), &singletons(&[20.0, 11.0, 17.0, 12.0])).unwrap();
        assert!(close(t.p, 0.111_111_111_111_111_1), "{t:?}");
    }

    #[test]
    fn all_equal_is_p_one_and_ties_with_zeros() {
        let t = block_test(&singletons(&[0.0; 4]), &singletons(&[0.0; 4])).unwrap();
        assert_eq!(t.p, 1.0);
        // Error rate 0 in most runs, one run 0.01 vs one 0.02: nothing near significance.
        let t = block_test(&singletons(&[0.0, 0.0, 0.01, 0.0]), &singletons(&[0.0, 0.02, 0.0, 0.0])).unwrap();
        assert!(t.p > 0.5, "{t:?}");
    }

    #[test]
    fn cycles_are_blocks_the_p_floor_is_set_by_runs() {
        // 3 runs of 5 cycles each side, completely separated: U = 225 of 225, but only C(6,3) =
        // 20 assignments of runs exist, so p = 2/20 — not 2/C(30,15).
        let hi: Vec<Vec<f64>> = (0..3).map(|r| (0..5).map(|c| 100.0 + f64::from(r * 5 + c)).collect()).collect();
        let lo: Vec<Vec<f64>> = (0..3).map(|r| (0..5).map(|c| f64::from(r * 5 + c)).collect()).collect();
        let t = block_test(&hi, &lo).unwrap();
        assert_eq!((t.u, t.values1, t.n1), (225.0, 15, 3));
        assert!(close(t.p, 0.1), "{t:?}");
        // 4 vs 4 runs: 2/70 < 0.05.
        let hi4: Vec<Vec<f64>> = (0..4).map(|r| vec![100.0 + f64::from(r); 3]).collect();
        let lo4: Vec<Vec<f64>> = (0..4).map(|r| vec![f64::from(r); 3]).collect();
        let t = block_test(&hi4, &lo4).unwrap();
        assert!(close(t.p, 2.0 / 70.0), "{t:?}");
        assert!(close(min_p(4, 4), 2.0 / 70.0) && close(min_p(5, 5), 2.0 / 252.0));
    }

    #[test]
    fn large_designs_use_seeded_monte_carlo() {
        let x: Vec<f64> = (0..14).map(f64::from).collect();
        let y: Vec<f64> = (0..14).map(|i| f64::from(i) + 0.5).collect();
        let a = block_test(&singletons(&x), &singletons(&y)).unwrap();
        let b = block_test(&singletons(&x), &singletons(&y)).unwrap();
        assert_eq!(a.method, PermMethod::MonteCarlo);
        assert_eq!(a, b, "fixed seed: reproducible");
        assert!(a.p > 0.5 && a.p <= 1.0, "{a:?}");
        assert!(block_test(&[], &singletons(&[1.0])).is_none());
    }

    #[test]
    fn subsets_are_all_visited_once() {
        let mut seen = std::collections::BTreeSet::new();
        for_each_subset(6, 3, &mut |m| {
            assert_eq!(m.iter().filter(|b| **b).count(), 3);
            seen.insert(m.to_vec());
        });
        assert_eq!(seen.len(), 20);
        let mut n = 0;
        for_each_subset(3, 3, &mut |_| n += 1);
        assert_eq!(n, 1);
    }
}
