//! `stats.md` and `stats.json` of a suite: per entry and figure the median, min–max, bootstrap
//! 95 % CI of the median and n; safety verdict counts; and for every pair of entries and figure
//! whether the CIs overlap ("no clear difference") or which entry is clearly lower.

use crate::check::Verdict;
use crate::gate::{EntryRuns, Figure};
use crate::stats;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The figures tabulated (the gate's, without the optional per-session one when no run has it).
const FIGURES: [Figure; 5] =
    [Figure::OutageReadMs, Figure::OutageWriteMs, Figure::ErrorRate, Figure::P99Ms, Figure::ConvergeMs];

#[derive(Debug, Clone, Serialize)]
pub struct FigureStats {
    pub n: usize,
    /// Runs with no value (no operations of that kind; for convergence: never converged).
    pub missing: usize,
    pub values: Vec<Option<f64>>,
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub ci95: Option<(f64, f64)>,
    /// Fewer than 3 values: the CI means little.
    pub weak: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryStats {
    pub entry: String,
    pub runs: usize,
    /// Runs without a usable summary.
    pub unjudged: usize,
    pub figures: BTreeMap<String, FigureStats>,
    /// Check → verdict → count.
    pub safety: BTreeMap<String, BTreeMap<String, usize>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairStats {
    pub figure: String,
    pub a: String,
    pub b: String,
    /// `no clear difference`, `<a> lower` or `<b> lower`; `n/a` without values on both sides.
    pub finding: String,
    pub overlap: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteStats {
    pub method: String,
    pub entries: Vec<EntryStats>,
    pub pairs: Vec<PairStats>,
}

fn figure_stats(figure: Figure, e: &EntryRuns) -> FigureStats {
    let judged: Vec<_> = e.runs.iter().filter(|r| r.problem.is_none()).collect();
    let values: Vec<Option<f64>> =
        judged.iter().map(|r| r.values.get(&figure).copied().flatten().filter(|v| v.is_finite())).collect();
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let ci = stats::median_ci95(&present);
    let mm = stats::min_max(&present);
    FigureStats {
        n: present.len(),
        missing: values.len() - present.len(),
        median: ci.map(|c| c.median),
        min: mm.map(|m| m.0),
        max: mm.map(|m| m.1),
        ci95: ci.map(|c| (c.lo, c.hi)),
        weak: present.len() < 3,
        values,
    }
}

/// Statistics over the entries' runs (entries in suite order).
pub fn compute(entries: &[EntryRuns]) -> SuiteStats {
    let mut out = SuiteStats {
        method: format!(
            "median over runs; 95 % CI of the median by bootstrap (percentile method, {} resamples, fixed seed); \
             CIs that overlap mean no clear difference",
            stats::RESAMPLES
        ),
        entries: Vec::new(),
        pairs: Vec::new(),
    };
    for e in entries {
        let mut figures = BTreeMap::new();
        for f in FIGURES {
            figures.insert(f.key().to_string(), figure_stats(f, e));
        }
        let mut safety: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for r in e.runs.iter().filter(|r| r.problem.is_none()) {
            for (name, v) in [("data_loss", r.data_loss), ("single_leader", r.single_leader)] {
                *safety.entry(name.into()).or_default().entry(v.as_str().into()).or_default() += 1;
            }
        }
        for counts in safety.values_mut() {
            for v in [Verdict::Pass, Verdict::Fail, Verdict::Unknown] {
                counts.entry(v.as_str().into()).or_default();
            }
        }
        let unjudged = e.runs.iter().filter(|r| r.problem.is_some()).count();
        out.entries.push(EntryStats { entry: e.name.clone(), runs: e.runs.len(), unjudged, figures, safety });
    }
    for f in FIGURES {
        for i in 0..out.entries.len() {
            for j in i + 1..out.entries.len() {
                let (a, b) = (&out.entries[i], &out.entries[j]);
                let (fa, fb) = (&a.figures[f.key()], &b.figures[f.key()]);
                let (finding, overlap) = match (fa.ci95, fb.ci95) {
                    (Some(ca), Some(cb)) if stats::intervals_overlap(ca, cb) => {
                        ("no clear difference".to_string(), Some(true))
                    }
                    (Some(ca), Some(_)) => {
                        let lower = if ca.1 < fb.ci95.map_or(f64::INFINITY, |c| c.0) { &a.entry } else { &b.entry };
                        (format!("{lower} lower"), Some(false))
                    }
                    _ => ("n/a".to_string(), None),
                };
                let finding = if overlap.is_some() && (fa.weak || fb.weak) {
                    format!("{finding} (weak: n < 3)")
                } else {
                    finding
                };
                out.pairs.push(PairStats {
                    figure: f.key().into(),
                    a: a.entry.clone(),
                    b: b.entry.clone(),
                    finding,
                    overlap,
                });
            }
        }
    }
    out
}

fn cell(f: Figure, s: &FigureStats) -> String {
    let Some(m) = s.median else { return format!("n/a (n=0, {} without value)", s.missing) };
    let mut c = f.fmt(m);
    if let (Some(lo), Some(hi)) = (s.min, s.max) {
        if s.n > 1 {
            let _ = write!(c, " ({}–{})", f.fmt(lo), f.fmt(hi));
        }
    }
    if let Some((lo, hi)) = s.ci95 {
        let _ = write!(c, " CI [{}, {}]", f.fmt(lo), f.fmt(hi));
    }
    let _ = write!(c, " n={}", s.n);
    if s.weak {
        c.push_str(" (weak)");
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
    let _ = writeln!(o, "Figures of the procedure phase (convergence: procedure start → target membership). Each cell: median (min–max) CI [95 % bootstrap CI of the median] n. {}.\n", s.method);
    let header: Vec<&str> = ["entry", "runs"]
        .into_iter()
        .chain(FIGURES.iter().map(|f| f.key()))
        .chain(["data_loss", "single_leader"])
        .collect();
    let _ = writeln!(o, "| {} |", header.join(" | "));
    let _ = writeln!(o, "|{}|", header.iter().map(|_| "---").collect::<Vec<_>>().join("|"));
    for e in &s.entries {
        let mut row = vec![
            e.entry.clone(),
            if e.unjudged > 0 { format!("{} ({} without summary)", e.runs, e.unjudged) } else { e.runs.to_string() },
        ];
        for f in FIGURES {
            row.push(cell(f, &e.figures[f.key()]));
        }
        for check in ["data_loss", "single_leader"] {
            let counts = e.safety.get(check);
            let text: Vec<String> = counts
                .map(|c| c.iter().filter(|(_, n)| **n > 0).map(|(v, n)| format!("{v} {n}")).collect())
                .unwrap_or_default();
            row.push(if text.is_empty() { "n/a".into() } else { text.join(", ") });
        }
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
