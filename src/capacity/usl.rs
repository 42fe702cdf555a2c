//! Universal Scalability Law fit (Gunther): throughput against client concurrency `N`,
//!
//! `X(N) = λ·N / (1 + σ·(N − 1) + κ·N·(N − 1))`
//!
//! σ is contention (queueing on a shared resource), κ coherency (crosstalk, the cost that makes
//! throughput *fall* past a peak at `N* = √((1 − σ) / κ)`), λ the throughput of one client.
//!
//! The fit is least squares on X. For fixed (σ, κ) the best λ is linear (`Σ y·f / Σ f²` with
//! `f = N / (1 + σ(N−1) + κN(N−1))`), so only (σ, κ) ≥ 0 are searched: a log grid, then a
//! shrinking pattern search from the best grid cell. (The `usl` crate, 0.3, would do a similar
//! fit but is not among zkchaos' dependencies and reports no residuals; this is 100 lines.)
//! A fit is called **poor** — and the report says so — with fewer than 6 levels (3 parameters
//! need 3 degrees of freedom left to be tested at all), or R² < 0.9.

use serde::{Deserialize, Serialize};

/// Concurrency levels below which a fit is called poor whatever its R².
pub const MIN_LEVELS: usize = 6;

/// One fitted level: observed, predicted and their difference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Residual {
    pub n: f64,
    pub observed: f64,
    pub predicted: f64,
    pub residual: f64,
}

/// The fitted model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UslFit {
    pub sigma: f64,
    pub kappa: f64,
    pub lambda: f64,
    /// Concurrency of the peak (`None` when κ = 0: throughput only levels off).
    pub peak_n: Option<f64>,
    /// Throughput at the peak, or the asymptote λ/σ when there is no peak (None if σ = κ = 0).
    pub peak_x: Option<f64>,
    /// Whether the peak lies within the measured concurrency range.
    pub peak_in_range: bool,
    pub r2: f64,
    pub residuals: Vec<Residual>,
    /// Why the fit should not be trusted; `None` when it is fine.
    pub poor: Option<String>,
}

/// The model's throughput at `n`.
pub fn predict(lambda: f64, sigma: f64, kappa: f64, n: f64) -> f64 {
    lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
}

fn shape(sigma: f64, kappa: f64, n: f64) -> f64 {
    predict(1.0, sigma, kappa, n)
}

/// Best λ and the sum of squared errors for (σ, κ).
fn sse(points: &[(f64, f64)], sigma: f64, kappa: f64) -> (f64, f64) {
    let (mut yf, mut ff) = (0.0, 0.0);
    for &(n, y) in points {
        let f = shape(sigma, kappa, n);
        yf += y * f;
        ff += f * f;
    }
    let lambda = if ff > 0.0 { yf / ff } else { 0.0 };
    let e = points.iter().map(|&(n, y)| (y - lambda * shape(sigma, kappa, n)).powi(2)).sum();
    (lambda, e)
}

/// Fit `points` = (concurrency, throughput). `None` with fewer than 3 distinct levels.
pub fn fit(points: &[(f64, f64)]) -> Option<UslFit> {
    let pts: Vec<(f64, f64)> = points.iter().copied().filter(|(n, y)| *n >= 1.0 && y.is_finite()).collect();
    let mut levels: Vec<f64> = pts.iter().map(|p| p.0).collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    if levels.len() < 3 {
        return None;
    }
    // Grid: 0 and a log range for each parameter.
    let axis = |lo: f64, hi: f64, k: usize| -> Vec<f64> {
        let mut v = vec![0.0];
        v.extend((0..k).map(|i| lo * (hi / lo).powf(i as f64 / (k - 1) as f64)));
        v
    };
    let (mut best_s, mut best_k, mut best_e) = (0.0, 0.0, f64::INFINITY);
    for &s in &axis(1e-4, 1.0, 41) {
        for &k in &axis(1e-7, 0.1, 61) {
            let (_, e) = sse(&pts, s, k);
            if e < best_e {
                (best_s, best_k, best_e) = (s, k, e);
            }
        }
    }
    // Pattern search in (σ, κ) ≥ 0, multiplicative and additive moves, shrinking.
    let (mut ds, mut dk) = (best_s.max(1e-4) * 0.5, best_k.max(1e-7) * 0.5);
    for _ in 0..2000 {
        let mut improved = false;
        for (s, k) in [(best_s + ds, best_k), (best_s - ds, best_k), (best_s, best_k + dk), (best_s, best_k - dk)] {
            if s < 0.0 || k < 0.0 {
                continue;
            }
            let (_, e) = sse(&pts, s, k);
            if e < best_e {
                (best_s, best_k, best_e) = (s, k, e);
                improved = true;
            }
        }
        if !improved {
            ds *= 0.5;
            dk *= 0.5;
            if ds < 1e-9 && dk < 1e-12 {
                break;
            }
        }
    }
    let (lambda, e) = sse(&pts, best_s, best_k);
    let mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
    let tss: f64 = pts.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let r2 = if tss > 0.0 { 1.0 - e / tss } else { 1.0 };
    let residuals = pts
        .iter()
        .map(|&(n, y)| {
            let p = predict(lambda, best_s, best_k, n);
            Residual { n, observed: y, predicted: p, residual: y - p }
        })
        .collect();
    let (peak_n, peak_x) = if best_k > 0.0 {
        let n = ((1.0 - best_s).max(0.0) / best_k).sqrt().max(1.0);
        (Some(n), Some(predict(lambda, best_s, best_k, n)))
    } else if best_s > 0.0 {
        (None, Some(lambda / best_s))
    } else {
        (None, None)
    };
    let (lo, hi) = (levels[0], levels[levels.len() - 1]);
    let peak_in_range = peak_n.is_some_and(|n| n >= lo && n <= hi);
    let poor = if levels.len() < MIN_LEVELS {
        Some(format!(
            "only {} concurrency levels: 3 parameters leave {} degree(s) of freedom (at least {MIN_LEVELS} levels needed)",
            levels.len(),
            levels.len() - 3
        ))
    } else if r2 < 0.9 {
        Some(format!("R² = {r2:.2}: the law does not describe these measurements"))
    } else {
        None
    };
    Some(UslFit { sigma: best_s, kappa: best_k, lambda, peak_n, peak_x, peak_in_range, r2, residuals, poor })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEVELS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

    #[test]
    fn recovers_known_parameters() {
        for (l, s, k) in [(1000.0, 0.05, 0.001), (4500.0, 0.2, 0.0), (300.0, 0.01, 0.0002)] {
            let pts: Vec<(f64, f64)> = LEVELS.iter().map(|&n| (n, predict(l, s, k, n))).collect();
            let f = fit(&pts).unwrap();
            assert!((f.sigma - s).abs() < 0.005, "σ {} vs {s}", f.sigma);
            assert!((f.kappa - k).abs() < 0.0001, "κ {} vs {k}", f.kappa);
            assert!((f.lambda - l).abs() / l < 0.02, "λ {} vs {l}", f.lambda);
            assert!(f.r2 > 0.999 && f.poor.is_none(), "{f:?}");
            if k > 0.0 {
                let n_star = ((1.0 - s) / k).sqrt();
                assert!((f.peak_n.unwrap() - n_star).abs() / n_star < 0.05, "{:?} vs {n_star}", f.peak_n);
            } else {
                // κ fits as 0 or as a trace whose peak lies far beyond the measured range.
                assert!(f.peak_n.is_none_or(|n| n > 1280.0), "{:?}", f.peak_n);
                assert!(!f.peak_in_range);
            }
        }
    }

    #[test]
    fn noisy_data_still_fits_and_residuals_add_up() {
        let noise = [1.03, 0.97, 1.02, 0.98, 1.01, 0.99, 1.02, 0.98];
        let pts: Vec<(f64, f64)> =
            LEVELS.iter().zip(noise).map(|(&n, e)| (n, predict(2000.0, 0.08, 0.0005, n) * e)).collect();
        let f = fit(&pts).unwrap();
        assert!((f.sigma - 0.08).abs() < 0.03, "{f:?}");
        assert!(f.r2 > 0.95);
        assert_eq!(f.residuals.len(), 8);
        for r in &f.residuals {
            assert!((r.observed - r.predicted - r.residual).abs() < 1e-9);
        }
        assert!(f.peak_in_range, "N* ≈ 41 lies in 1..128");
    }

    #[test]
    fn poor_fits_are_flagged() {
        // Throughput that zig-zags with concurrency: no USL curve is close.
        let pts: Vec<(f64, f64)> =
            LEVELS.iter().enumerate().map(|(i, &n)| (n, if i % 2 == 0 { 100.0 } else { 5000.0 })).collect();
        let f = fit(&pts).unwrap();
        assert!(f.poor.as_deref().is_some_and(|p| p.contains("R²")), "{f:?}");
        let three = fit(&[(1.0, 10.0), (2.0, 19.0), (4.0, 30.0)]).unwrap();
        assert!(three.poor.as_deref().is_some_and(|p| p.contains("3 concurrency levels")));
        // Five clean levels still fit, but are called poor: too few to test the law.
        let five: Vec<(f64, f64)> = LEVELS[..5].iter().map(|&n| (n, predict(1000.0, 0.05, 0.001, n))).collect();
        let f = fit(&five).unwrap();
        assert!(f.r2 > 0.99 && f.poor.as_deref().is_some_and(|p| p.contains("2 degree(s) of freedom")), "{f:?}");
        assert!(fit(&[(1.0, 10.0), (2.0, 19.0)]).is_none());
    }
}
