//! `stats.md` and `stats.json` of a suite: per entry and figure the median, min–max, a
//! distribution-free confidence interval of the median with its actual level, and n; safety
//! verdict counts; and for every pair of entries and figure what an exact rank test supports.
//!
//! Every figure is over the procedure's impact window (procedure start → load stop), per cycle
//! when the procedure repeated. Cycles of one run are correlated, so the run is the unit: each
//! run contributes one value (the median of its cycles), the interval is over those run values
//! ([`crate::stats::order_ci`]), and pairwise findings come from the block-permutation test with
//! runs as blocks ([`crate::stats::permutation`]). An entry with a safety FAIL is never found
//! "lower" (better) on a performance figure: it is marked unsafe and not ranked.

use crate::check::Verdict;
use crate::gate::{EntryRuns, Figure, RunFigures};
use crate::stats;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The figures tabulated (the gate's, without the optional per-session one).
const FIGURES: [Figure; 5] =
    [Figure::OutageReadMs, Figure::OutageWriteMs, Figure::ErrorRate, Figure::P99Ms, Figure::ConvergeMs];

/// The interval level asked for.
pub const LEVEL: f64 = 0.95;
/// Significance level of the pairwise tests.
pub const ALPHA: f64 = 0.05;

#[derive(Debug, Clone, Serialize)]
pub struct FigureStats {
    /// Runs with a value.
    pub n: usize,
    /// Cycle values in all (= n when the procedure ran once per run).
    pub cycles: usize,
    /// Runs with no value (no operations of that kind; for convergence: never converged).
    pub missing: usize,
    /// Per run: the median of its cycles (its impact-window value without cycles).
    pub values: Vec<Option<f64>>,
    /// Median over runs of `values`.
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Order-statistic interval of the median over runs: [lo, hi] at `ci_level`.
    pub ci: Option<(f64, f64)>,
    /// The interval's exact level (e.g. 0.75 for [min, max] at n = 3).
    pub ci_level: Option<f64>,
    /// The interval reaches 95 % (false: n too small; the interval is [min, max] at its level).
    pub ci_reached: bool,
    /// Per run: its cycle values (the blocks of the pairwise tests).
    #[serde(skip)]
    pub blocks: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryStats {
    pub entry: String,
    pub runs: usize,
    /// Runs without a usable summary.
    pub unjudged: usize,
    /// A run has a safety FAIL (data loss, two leaders, ...): never ranked better.
    pub unsafe_runs: usize,
    pub figures: BTreeMap<String, FigureStats>,
    /// Check → verdict → count.
    pub safety: BTreeMap<String, BTreeMap<String, usize>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairStats {
    pub figure: String,
    pub a: String,
    pub b: String,
    /// `<a> lower (p = …)`, `no clear difference (p = …)`, `cannot tell at this n (…)`,
    /// `<x> unsafe: not ranked` or `n/a`.
    pub finding: String,
    /// Two-sided block-permutation p (runs as blocks), when computed.
    pub p: Option<f64>,
    /// The smallest p the design could give.
    pub min_p: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteStats {
    pub method: String,
    pub entries: Vec<EntryStats>,
    pub pairs: Vec<PairStats>,
}

fn figure_stats(figure: Figure, runs: &[&RunFigures]) -> FigureStats {
    let mut blocks = Vec::new();
    let values: Vec<Option<f64>> = runs
        .iter()
        .map(|r| {
            let v = r.values.get(&figure).copied().flatten().filter(|v| v.is_finite())?;
            let cycles: Vec<f64> = r.cycle_values.get(&figure).map(|c| c.iter().copied().filter(|x| x.is_finite()).collect()).unwrap_or_default();
            let block = if cycles.is_empty() { vec![v] } else { cycles };
            let run_value = stats::median(&block);
            blocks.push(block);
            run_value
        })
        .collect();
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let ci = stats::median_ci(&present, LEVEL);
    let mm = stats::min_max(&present);
    FigureStats {
        n: present.len(),
        cycles: blocks.iter().map(Vec::len).sum(),
        missing: values.len() - present.len(),
        median: ci.map(|c| c.median),
        min: mm.map(|m| m.0),
        max: mm.map(|m| m.1),
        ci: ci.map(|c| (c.lo, c.hi)),
        ci_level: ci.map(|c| c.level),
        ci_reached: ci.is_some_and(|c| c.reached),
        values,
        blocks,
    }
}

fn entry_stats(e: &EntryRuns) -> EntryStats {
    let judged: Vec<&RunFigures> = e.runs.iter().filter(|r| r.problem.is_none()).collect();
    let figures = FIGURES.iter().map(|f| (f.key().to_string(), figure_stats(*f, &judged))).collect();
    let mut safety: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut unsafe_runs = 0;
    for r in &judged {
        let all = [("data_loss".to_string(), r.data_loss), ("single_leader".to_string(), r.single_leader)]
            .into_iter()
            .chain(r.other_safety.iter().map(|(k, v)| (k.clone(), *v)));
        let mut failed = false;
        for (name, v) in all {
            failed |= v == Verdict::Fail;
            *safety.entry(name).or_default().entry(v.as_str().into()).or_default() += 1;
        }
        unsafe_runs += usize::from(failed);
    }
    for counts in safety.values_mut() {
        for v in [Verdict::Pass, Verdict::Fail, Verdict::Unknown] {
            counts.entry(v.as_str().into()).or_default();
        }
    }
    let unjudged = e.runs.len() - judged.len();
    EntryStats { entry: e.name.clone(), runs: e.runs.len(), unjudged, unsafe_runs, figures, safety }
}

/// What the data support about `a` against `b` on one figure.
fn pair(figure: Figure, a: &EntryStats, b: &EntryStats) -> PairStats {
    let (fa, fb) = (&a.figures[figure.key()], &b.figures[figure.key()]);
    let unsafe_names: Vec<&str> = [a, b].iter().filter(|e| e.unsafe_runs > 0).map(|e| e.entry.as_str()).collect();
    let test = stats::block_test(&fa.blocks, &fb.blocks);
    let (finding, p, min_p) = match test {
        None => ("n/a".to_string(), None, None),
        Some(t) if !unsafe_names.is_empty() => {
            (format!("{} unsafe (safety FAIL): not ranked", unsafe_names.join(" and ")), Some(t.p), Some(t.min_p))
        }
        Some(t) if t.min_p >= ALPHA => (
            format!("cannot tell at this n ({} vs {} runs: smallest possible p {:.3})", t.n1, t.n2, t.min_p),
            Some(t.p),
            Some(t.min_p),
        ),
        Some(t) if t.p < ALPHA => {
            // U of a counts pairs where a is higher: below half the pairs, a is lower.
            let half = (t.values1 * t.values2) as f64 / 2.0;
            let lower = if t.u < half { &a.entry } else { &b.entry };
            (format!("{lower} lower (p = {:.4})", t.p), Some(t.p), Some(t.min_p))
        }
        Some(t) => (format!("no clear difference (p = {:.3})", t.p), Some(t.p), Some(t.min_p)),
    };
    PairStats { figure: figure.key().into(), a: a.entry.clone(), b: b.entry.clone(), finding, p, min_p }
}

/// Statistics over the entries' runs (entries in suite order).
pub fn compute(entries: &[EntryRuns]) -> SuiteStats {
    let entries: Vec<EntryStats> = entries.iter().map(entry_stats).collect();
    let mut pairs = Vec::new();
    for f in FIGURES {
        for i in 0..entries.len() {
            for j in i + 1..entries.len() {
                pairs.push(pair(f, &entries[i], &entries[j]));
            }
        }
    }
    let method = format!(
        "every figure over the procedure's impact window (procedure start → load stop; convergence: procedure start → target membership), per cycle when the procedure repeated; \
         one value per run (the median of its cycles), median over runs; interval: order statistics of the run values with their exact level \
         (distribution-free; 95 % needs 6 runs); pairwise: two-sided exact permutation Mann-Whitney test over cycles with runs as blocks, p < {ALPHA}; \
         an entry with a safety FAIL is not ranked"
    );
    SuiteStats { method, entries, pairs }
}

fn cell(f: Figure, s: &FigureStats) -> String {
    let Some(m) = s.median else { return format!("n/a (n=0, {} without value)", s.missing) };
    let mut c = f.fmt(m);
    if let (Some(lo), Some(hi)) = (s.min, s.max) {
        if s.n > 1 {
            let _ = write!(c, " ({}–{})", f.fmt(lo), f.fmt(hi));
        }
    }
    match (s.ci, s.ci_level) {
        (Some((lo, hi)), Some(level)) if s.ci_reached => {
            let _ = write!(c, " {:.1} % CI [{}, {}]", level * 100.0, f.fmt(lo), f.fmt(hi));
        }
        (Some(_), Some(level)) if s.n > 1 => {
            let _ = write!(c, " (n too small for 95 %: min–max is a {:.1} % interval)", level * 100.0);
        }
        _ => {}
    }
    let _ = write!(c, " n={}", s.n);
    if s.cycles > s.n {
        let _ = write!(c, " ({} cycles)", s.cycles);
    }
    if s.missing > 0 {
        let what = if f == Figure::ConvergeMs { "never converged" } else { "no value" };
        let _ = write!(c, " +{} {what}", s.missing);
    }
    c
}

/// The statistics as Markdown.
pub fn markdown(s: &SuiteStats) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Suite statistics\n");
    let _ = writeln!(o, "Each cell: median over runs (min–max) interval n. Method: {}.\n", s.method);
    for f in FIGURES {
        let _ = writeln!(o, "- `{}`: {}", f.key(), f.caption());
    }
    let _ = writeln!(o);
    let header: Vec<&str> =
        ["entry", "runs"].into_iter().chain(FIGURES.iter().map(|f| f.key())).chain(["safety"]).collect();
    let _ = writeln!(o, "| {} |", header.join(" | "));
    let _ = writeln!(o, "|{}|", header.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
    for e in &s.entries {
        let mut row = vec![
            if e.unsafe_runs > 0 { format!("{} (UNSAFE: safety FAIL in {} runs)", e.entry, e.unsafe_runs) } else { e.entry.clone() },
            if e.unjudged > 0 { format!("{} ({} without summary)", e.runs, e.unjudged) } else { e.runs.to_string() },
        ];
        for f in FIGURES {
            row.push(cell(f, &e.figures[f.key()]));
        }
        let text: Vec<String> = e
            .safety
            .iter()
            .map(|(check, c)| {
                let counts: Vec<String> = c.iter().filter(|(_, n)| **n > 0).map(|(v, n)| format!("{v} {n}")).collect();
                format!("{check}: {}", counts.join(", "))
            })
            .collect();
        row.push(if text.is_empty() { "n/a".into() } else { text.join("; ") });
        let _ = writeln!(o, "| {} |", row.join(" | "));
    }
    if !s.pairs.is_empty() {
        let _ = writeln!(o, "\n## Pairwise\n");
        let _ = writeln!(o, "| figure | entry A | entry B | finding |");
        let _ = writeln!(o, "|---|---|---|---|");
        for p in &s.pairs {
            let _ = writeln!(o, "| {} | {} | {} | {} |", p.figure, p.a, p.b, p.finding);
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn run(outage: f64, cycles: &[f64], loss: Verdict) -> RunFigures {
        let mut values = BTreeMap::new();
        let mut cycle_values = BTreeMap::new();
        for f in FIGURES {
            values.insert(f, Some(if f == Figure::OutageReadMs { outage } else { 0.0 }));
        }
        if !cycles.is_empty() {
            cycle_values.insert(Figure::OutageReadMs, cycles.to_vec());
        }
        RunFigures {
            dir: PathBuf::from("r"),
            status: "complete".into(),
            data_loss: loss,
            single_leader: Verdict::Pass,
            other_safety: BTreeMap::new(),
            values,
            cycle_values,
            problem: None,
        }
    }

    fn entry(name: &str, runs: Vec<RunFigures>) -> EntryRuns {
        EntryRuns { name: name.into(), runs }
    }

    #[test]
    fn unsafe_entry_is_never_lower() {
        // new-first's window ends before its damage in the old procedure phase: whatever the
        // outage, its data loss keeps it from being ranked better.
        let new_first = entry("new-first", (0..4).map(|_| run(1950.0, &[], Verdict::Fail)).collect());
        let old_first = entry("old-first", (0..4).map(|i| run(2520.0 + f64::from(i), &[], Verdict::Pass)).collect());
        let s = compute(&[new_first, old_first]);
        let p = s.pairs.iter().find(|p| p.figure == "outage_read_ms").unwrap();
        assert_eq!(p.finding, "new-first unsafe (safety FAIL): not ranked");
        assert!(markdown(&s).contains("new-first (UNSAFE: safety FAIL in 4 runs)"));
    }

    #[test]
    fn small_n_says_so_and_finds_nothing() {
        let a = entry("a", (0..3).map(|i| run(1000.0 + f64::from(i), &[], Verdict::Pass)).collect());
        let b = entry("b", (0..3).map(|i| run(5000.0 + f64::from(i), &[], Verdict::Pass)).collect());
        let s = compute(&[a, b]);
        let f = &s.entries[0].figures["outage_read_ms"];
        assert!(!f.ci_reached);
        assert!((f.ci_level.unwrap() - 0.75).abs() < 1e-12);
        assert!(cell(Figure::OutageReadMs, f).contains("n too small for 95 %: min–max is a 75.0 % interval"));
        let p = s.pairs.iter().find(|p| p.figure == "outage_read_ms").unwrap();
        assert!(p.finding.starts_with("cannot tell at this n (3 vs 3 runs: smallest possible p 0.100)"), "{}", p.finding);
    }

    #[test]
    fn cycles_are_tested_with_runs_as_blocks() {
        let a = entry("a", (0..4).map(|i| run(0.0, &[1000.0 + f64::from(i), 1100.0, 1050.0], Verdict::Pass)).collect());
        let b = entry("b", (0..4).map(|i| run(0.0, &[1500.0 + f64::from(i), 1600.0, 1550.0], Verdict::Pass)).collect());
        let s = compute(&[a, b]);
        let f = &s.entries[0].figures["outage_read_ms"];
        assert_eq!((f.n, f.cycles), (4, 12));
        assert_eq!(f.median, Some(1050.0), "median over runs of each run's cycle median");
        let p = s.pairs.iter().find(|p| p.figure == "outage_read_ms").unwrap();
        assert!(p.finding.starts_with("a lower (p = 0.0286)"), "{}", p.finding);
    }
}
