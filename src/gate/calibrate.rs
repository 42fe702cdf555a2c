//! A/A calibration: how often would the baseline rule fire when nothing changed? And its
//! counterpart, the power check: how often does it fire against a known regression?
//!
//! The runs of each entry (all made with the same code) are split at random into two halves,
//! one playing the baseline and one the current runs, many times; every baseline check that
//! fails is a false alarm. The rate is per (split × figure) comparison. With n runs an entry
//! gives halves of n/2: the rule used is the one the gate would use for that many runs, and the
//! report says which. `--calibrate-runs K` uses halves of K runs instead (the design a CI entry
//! would use), drawn at random from the entry's runs.
//!
//! [`power`]: K runs of a known regression (e.g. the same fault with a larger `sync_limit`) as
//! the current side against K runs of the unchanged entry as the baseline, drawn at random many
//! times; the rate at which the gate flags the regressed figure is its power at that design. Both
//! rates come from resampling one fixed set of runs: they are estimates conditional on those runs
//! (splits overlap), not independent trials.

use super::{evaluate, EntryRuns, GateConfig, Status};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;
use std::collections::BTreeMap;

/// False alarms of one entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryCalibration {
    pub entry: String,
    pub runs: usize,
    pub half: usize,
    pub splits: usize,
    /// Figure → (false alarms, comparisons).
    pub per_figure: BTreeMap<String, (usize, usize)>,
    pub false_alarms: usize,
    pub comparisons: usize,
    /// The comparison was the weak one (tolerance only) because the halves were small.
    pub weak: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub entries: Vec<EntryCalibration>,
    pub false_alarms: usize,
    pub comparisons: usize,
    pub rate: Option<f64>,
    /// Entries with fewer than 2 judged runs (nothing to split).
    pub skipped: Vec<String>,
}

/// Split each entry's runs `splits` times (seeded) and count the baseline checks that fail.
/// Limits in `cfg` are ignored: only the baseline rule is calibrated.
pub fn calibrate(entries: &[EntryRuns], splits: usize, cfg: &GateConfig, seed: u64) -> Calibration {
    calibrate_with(entries, splits, None, cfg, seed)
}

/// [`calibrate`] with halves of `half` runs (at most half the entry's runs) when given.
pub fn calibrate_with(entries: &[EntryRuns], splits: usize, half: Option<usize>, cfg: &GateConfig, seed: u64) -> Calibration {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let cfg = GateConfig { limits: BTreeMap::new(), allow_unknown: true, ..cfg.clone() };
    let mut out = Calibration { entries: Vec::new(), false_alarms: 0, comparisons: 0, rate: None, skipped: Vec::new() };
    for e in entries {
        let judged: Vec<_> = e.runs.iter().filter(|r| r.problem.is_none()).cloned().collect();
        if judged.len() < 2 {
            out.skipped.push(format!("{}: {} judged run(s), need at least 2", e.name, judged.len()));
            continue;
        }
        let half = half.map_or(judged.len() / 2, |h| h.clamp(1, judged.len() / 2));
        let mut ec = EntryCalibration {
            entry: e.name.clone(),
            runs: judged.len(),
            half,
            splits,
            per_figure: BTreeMap::new(),
            false_alarms: 0,
            comparisons: 0,
            weak: false,
        };
        let mut idx: Vec<usize> = (0..judged.len()).collect();
        for _ in 0..splits {
            idx.shuffle(&mut rng);
            let pick = |range: &[usize]| EntryRuns {
                name: e.name.clone(),
                runs: range.iter().map(|&i| judged[i].clone()).collect(),
            };
            let a = [pick(&idx[..half])];
            let b = [pick(&idx[half..2 * half])];
            let report = evaluate(&a, Some(&b), &cfg);
            for c in report.checks.iter().filter(|c| c.check.starts_with("baseline.")) {
                if c.status == Status::Unknown || c.status == Status::Skipped {
                    continue;
                }
                ec.weak |= c.weak;
                let slot = ec.per_figure.entry(c.check["baseline.".len()..].to_string()).or_default();
                slot.1 += 1;
                ec.comparisons += 1;
                if c.status == Status::Fail {
                    slot.0 += 1;
                    ec.false_alarms += 1;
                }
            }
        }
        out.false_alarms += ec.false_alarms;
        out.comparisons += ec.comparisons;
        out.entries.push(ec);
    }
    out.rate = (out.comparisons > 0).then(|| out.false_alarms as f64 / out.comparisons as f64);
    out
}

/// Plain-text summary of a calibration.
pub fn text(c: &Calibration) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    for e in &c.entries {
        let rule = if e.weak { "weak rule (tolerance on medians only)" } else { "rank test + tolerance" };
        let _ = writeln!(
            o,
            "{}: {} runs, {} splits of {} vs {}, {rule}: {} false alarms in {} comparisons",
            e.entry, e.runs, e.splits, e.half, e.half, e.false_alarms, e.comparisons
        );
        for (fig, (fa, n)) in &e.per_figure {
            let _ = writeln!(o, "  {fig:<24} {fa}/{n}");
        }
    }
    for s in &c.skipped {
        let _ = writeln!(o, "skipped {s}");
    }
    match c.rate {
        Some(r) => {
            let _ = writeln!(o, "false-alarm rate: {:.1} % ({} of {})", r * 100.0, c.false_alarms, c.comparisons);
        }
        None => {
            let _ = writeln!(o, "false-alarm rate: cannot be estimated (no entry has 2 or more runs)");
        }
    }
    o
}

/// Detections of a known regression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Power {
    pub baseline_entry: String,
    pub regressed_entry: String,
    /// Runs drawn per side in each split.
    pub runs_per_side: usize,
    pub splits: usize,
    /// Figure → (splits in which the gate flagged it, comparisons made).
    pub per_figure: BTreeMap<String, (usize, usize)>,
    /// Splits in which any baseline check failed.
    pub any: usize,
    /// Splits whose comparisons were weak (no verdict possible at this design).
    pub weak: usize,
}

/// Draw `k` runs of `regressed` (current) and `k` of `base` (baseline) `splits` times (seeded)
/// and count the splits in which each figure is flagged. `None` if an entry has fewer than `k`
/// judged runs.
pub fn power(base: &EntryRuns, regressed: &EntryRuns, k: usize, splits: usize, cfg: &GateConfig, seed: u64) -> Option<Power> {
    let judged = |e: &EntryRuns| -> Vec<_> { e.runs.iter().filter(|r| r.problem.is_none()).cloned().collect() };
    let (b, r) = (judged(base), judged(regressed));
    if k == 0 || b.len() < k || r.len() < k {
        return None;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let cfg = GateConfig { limits: BTreeMap::new(), allow_unknown: true, ..cfg.clone() };
    let mut out = Power {
        baseline_entry: base.name.clone(),
        regressed_entry: regressed.name.clone(),
        runs_per_side: k,
        splits,
        per_figure: BTreeMap::new(),
        any: 0,
        weak: 0,
    };
    let (mut bi, mut ri): (Vec<usize>, Vec<usize>) = ((0..b.len()).collect(), (0..r.len()).collect());
    for _ in 0..splits {
        bi.shuffle(&mut rng);
        ri.shuffle(&mut rng);
        // The regressed runs play the current side under the baseline's entry name.
        let cur = [EntryRuns { name: base.name.clone(), runs: ri[..k].iter().map(|&i| r[i].clone()).collect() }];
        let old = [EntryRuns { name: base.name.clone(), runs: bi[..k].iter().map(|&i| b[i].clone()).collect() }];
        let report = evaluate(&cur, Some(&old), &cfg);
        let checks: Vec<_> = report.checks.iter().filter(|c| c.check.starts_with("baseline.")).collect();
        out.weak += usize::from(checks.iter().any(|c| c.weak));
        out.any += usize::from(checks.iter().any(|c| c.status == Status::Fail));
        for c in checks.iter().filter(|c| matches!(c.status, Status::Pass | Status::Fail)) {
            let slot = out.per_figure.entry(c.check["baseline.".len()..].to_string()).or_default();
            slot.1 += 1;
            slot.0 += usize::from(c.status == Status::Fail);
        }
    }
    Some(out)
}

/// Plain-text summary of a power check.
pub fn power_text(p: &Power) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "power: {} (current) vs {} (baseline), {} runs a side, {} seeded splits{}",
        p.regressed_entry,
        p.baseline_entry,
        p.runs_per_side,
        p.splits,
        if p.weak > 0 { format!(" ({} with weak comparisons: no verdict possible)", p.weak) } else { String::new() }
    );
    for (fig, (hits, n)) in &p.per_figure {
        let rate = if *n > 0 { *hits as f64 / *n as f64 * 100.0 } else { 0.0 };
        let _ = writeln!(o, "  {fig:<24} flagged in {hits}/{n} ({rate:.1} %)");
    }
    let _ = writeln!(o, "any figure flagged: {}/{} splits", p.any, p.splits);
    o
}
