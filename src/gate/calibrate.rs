//! A/A calibration: how often would the baseline rule fire when nothing changed?
//!
//! The runs of each entry (all made with the same code) are split at random into two halves,
//! one playing the baseline and one the current runs, many times; every baseline check that
//! fails is a false alarm. The rate is per (split × figure) comparison. With n runs an entry
//! gives halves of n/2: the rule used is the one the gate would use for that many runs, and the
//! report says which.

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
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let cfg = GateConfig { limits: BTreeMap::new(), allow_unknown: true, ..cfg.clone() };
    let mut out = Calibration { entries: Vec::new(), false_alarms: 0, comparisons: 0, rate: None, skipped: Vec::new() };
    for e in entries {
        let judged: Vec<_> = e.runs.iter().filter(|r| r.problem.is_none()).cloned().collect();
        if judged.len() < 2 {
            out.skipped.push(format!("{}: {} judged run(s), need at least 2", e.name, judged.len()));
            continue;
        }
        let half = judged.len() / 2;
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
