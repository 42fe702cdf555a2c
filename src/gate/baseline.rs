//! The per-figure checks of an entry: absolute limits on the median, and the comparison with a
//! baseline by an exact block-permutation rank test ([`crate::stats::permutation`]).
//!
//! Samples are per cycle when the runs repeated their procedure (`cycles[]` of each summary),
//! else one value per run; either way the runs are the exchangeable blocks, so correlated
//! cycles of one ensemble never pass for independent evidence. A figure regressed iff the
//! two-sided test gives p < alpha AND the median over cycles got worse by more than the
//! tolerance (and the figure's absolute floor). Where the design cannot reach p < alpha (too few
//! runs a side), no regression verdict is given: the check is labelled WEAK and passes (or is
//! UNKNOWN with `--strict`), whatever the medians do.

use super::{check, dirs_text, CheckResult, Figure, GateConfig, RunFigures, Side, Status};
use crate::stats;
use std::path::PathBuf;

/// Values of a figure over runs (per cycle where the runs have cycles), or why they cannot be
/// used (a run lacks the field).
pub(super) fn values_of(figure: Figure, runs: &[&RunFigures]) -> Result<Side, String> {
    let missing: Vec<PathBuf> =
        runs.iter().filter(|r| !r.values.contains_key(&figure)).map(|r| r.dir.clone()).collect();
    if !missing.is_empty() {
        return Err(format!(
            "`{}` missing from summary.json (schema mismatch; re-create with `zkchaos analyze <run dir>`) in {}",
            figure.source(),
            dirs_text(&missing)
        ));
    }
    let mut side = Side::default();
    for r in runs {
        let Some(v) = r.values.get(&figure).copied().flatten() else { continue };
        let block = r.cycle_values.get(&figure).filter(|c| !c.is_empty()).cloned().unwrap_or_else(|| vec![v]);
        side.values.push(v);
        side.dirs.push(r.dir.clone());
        side.blocks.push(block);
    }
    side.n = side.values.len();
    side.cycles = side.blocks.iter().map(Vec::len).sum();
    side.median = stats::median(&side.blocks.concat());
    Ok(side)
}

pub(super) fn limit_check(entry: &str, figure: Figure, limit: f64, runs: &[&RunFigures]) -> CheckResult {
    let name = format!("limit.{figure}");
    let rule = format!("median over cycles ≤ {} ({})", figure.fmt(limit), figure.caption());
    let side = match values_of(figure, runs) {
        Ok(s) => s,
        Err(msg) => return check(entry, name, Some(figure), Status::Unknown, rule, msg),
    };
    let mut c = match side.median {
        None => {
            let msg = format!("no run has a value for `{}`", figure.source());
            check(entry, name, Some(figure), Status::Unknown, rule, msg)
        }
        Some(m) => {
            let worst = side.blocks.iter().flatten().copied().fold(f64::NEG_INFINITY, f64::max);
            let text = format!("median {} ({}, worst {})", figure.fmt(m), side.size_text(), figure.fmt(worst));
            let limit_text = figure.fmt(limit);
            if m > limit {
                let msg = format!("{figure} {text} exceeds the limit {limit_text}; runs: {}", dirs_text(&side.dirs));
                check(entry, name, Some(figure), Status::Fail, rule, msg)
            } else {
                let msg = format!("{figure} {text} within the limit {limit_text}");
                check(entry, name, Some(figure), Status::Pass, rule, msg)
            }
        }
    };
    c.current = Some(side);
    c
}

/// Has the median got worse by more than the tolerance and the figure's floor?
pub fn worse_beyond_tolerance(figure: Figure, current: f64, baseline: f64, tolerance: f64) -> bool {
    if current.is_infinite() || baseline.is_infinite() {
        return current.is_infinite() && !baseline.is_infinite();
    }
    current - baseline > (tolerance * baseline.abs()).max(figure.floor())
}

/// Why the design cannot give a regression verdict, if it cannot.
fn weak_reason(cur: &Side, base: &Side, cfg: &GateConfig) -> Option<String> {
    let (n1, n2) = if cfg.independent_cycles { (cur.cycles, base.cycles) } else { (cur.n, base.n) };
    let min_p = stats::permutation::min_p(n1, n2);
    if cur.n < cfg.min_repeats || base.n < cfg.min_repeats {
        Some(format!("fewer than {} runs on a side ({} vs {}); smallest possible p {min_p:.3}", cfg.min_repeats, cur.n, base.n))
    } else if min_p >= cfg.alpha {
        Some(format!(
            "with {n1} vs {n2} runs the smallest possible p is {min_p:.3} ≥ alpha {}: the rank test cannot fire",
            cfg.alpha
        ))
    } else {
        None
    }
}

pub(super) fn baseline_check(
    entry: &str,
    figure: Figure,
    runs: &[&RunFigures],
    base_runs: &[&RunFigures],
    cfg: &GateConfig,
) -> CheckResult {
    let name = format!("baseline.{figure}");
    let (cur, base) = match (values_of(figure, runs), values_of(figure, base_runs)) {
        (Ok(c), Ok(b)) => (c, b),
        (Err(m), _) | (_, Err(m)) => return check(entry, name, Some(figure), Status::Unknown, "", m),
    };
    let mut c = match (cur.median, base.median) {
        (None, None) => {
            let msg = "no values on either side (no operations of that kind)".to_string();
            check(entry, name, Some(figure), Status::Pass, "", msg)
        }
        (None, Some(_)) | (Some(_), None) => {
            let msg = format!("`{}` has values on one side only (current n={}, baseline n={})", figure.source(), cur.n, base.n);
            check(entry, name, Some(figure), Status::Unknown, "", msg)
        }
        (Some(cm), Some(bm)) => compared(entry, name, figure, (&cur, cm), (&base, bm), cfg),
    };
    c.current = Some(cur);
    c.baseline = Some(base);
    c
}

/// The comparison of two sides that both have values.
fn compared(
    entry: &str,
    name: String,
    figure: Figure,
    (cur, cm): (&Side, f64),
    (base, bm): (&Side, f64),
    cfg: &GateConfig,
) -> CheckResult {
    let worse = worse_beyond_tolerance(figure, cm, bm, cfg.tolerance);
    let tol = format!("{:.0} %", cfg.tolerance * 100.0);
    let values = format!("median {} ({}) vs baseline {} ({})", figure.fmt(cm), cur.size_text(), figure.fmt(bm), base.size_text());
    let mut test = stats::block_test(&cur.blocks, &base.blocks);
    if cfg.independent_cycles {
        // What a test that ignores the runs would say: Mann-Whitney over the pooled cycles
        // (normal approximation with ties above 10 a side, as scipy's default).
        let (x, y) = (cur.blocks.concat(), base.blocks.concat());
        if let (Some(t), Some(mw)) = (test.as_mut(), stats::mann_whitney_u(&x, &y)) {
            t.p = mw.p;
            t.min_p = stats::permutation::min_p(x.len(), y.len());
        }
    }
    if let Some(why) = weak_reason(cur, base, cfg) {
        let rule = format!("WEAK: no regression verdict possible; {why}");
        let seen = if worse { format!("median worse by > {tol}, which this design cannot confirm") } else { "not worse beyond the tolerance".into() };
        let (status, msg) = if cfg.strict {
            (Status::Unknown, format!("{figure}: too few runs for the rank test (--strict): {values}"))
        } else {
            (Status::Pass, format!("{figure}: {values}: {seen} (weak comparison)"))
        };
        let mut c = check(entry, name, Some(figure), status, rule, msg);
        c.weak = true;
        c.p_value = test.map(|t| t.p);
        c.min_p = test.map(|t| t.min_p);
        return c;
    }
    let (p, min_p, how) = match test {
        Some(t) => {
            let how = match t.method {
                stats::PermMethod::Exact => format!("exact over all {:.0} assignments", stats::permutation::binomial(t.n1 + t.n2, t.n1)),
                stats::PermMethod::MonteCarlo => format!("Monte-Carlo, {} seeded assignments", stats::permutation::MC_SPLITS),
            };
            (t.p, t.min_p, how)
        }
        None => (1.0, 1.0, "no values".into()),
    };
    let rule = format!(
        "block-permutation Mann-Whitney U over cycles, {} ({how}; smallest possible p {min_p:.4}): p < {} AND median worse by > {tol} (and > {})",
        if cfg.independent_cycles { "cycles as independent samples (calibration only)" } else { "runs as blocks" },
        cfg.alpha,
        figure.fmt(figure.floor())
    );
    let mut c = if p < cfg.alpha && worse {
        let msg = format!("{figure} regressed: {values}, p = {p:.4}; runs: {}", dirs_text(&cur.dirs));
        check(entry, name, Some(figure), Status::Fail, rule, msg)
    } else {
        let why = if worse { "within the noise" } else { "not worse beyond the tolerance" };
        check(entry, name, Some(figure), Status::Pass, rule, format!("{figure}: {values}, p = {p:.4}: {why}"))
    };
    c.p_value = Some(p);
    c.min_p = Some(min_p);
    c
}
