//! The CI regression gate: judge stored runs (one run, or a suite of repetitions) in two layers.
//!
//! 1. **Safety** fails outright: any run with `data_loss` or `single_leader` FAIL fails the gate
//!    (exit 3) and no statistics are computed. An UNKNOWN safety verdict means the gate cannot
//!    judge (exit 2) unless it is explicitly allowed.
//! 2. **Performance**, over the procedure's impact window of each summary (procedure start →
//!    load stop, `impact`), per cycle when the procedure repeated (`cycles[]`): longest read and
//!    write outage, error rate, p99 latency of every issued operation, plus the time to converge
//!    and, when present, the worst per-session outage. Two kinds of check ([`baseline`]):
//!    - *limits* (`--max-outage-ms` ...): the median over cycles must not exceed the limit;
//!    - *baseline* (`--baseline DIR`): a figure regressed iff an exact block-permutation
//!      Mann-Whitney test (runs as blocks of cycles) gives p < alpha AND its median got worse by
//!      more than the tolerance (and more than a small absolute floor per figure, so 0 → 3 ms is
//!      not a regression). Where the design's smallest possible p is not below alpha (too few
//!      runs), no regression verdict is given: the check is WEAK and says so.
//!
//! [`evaluate`] is pure (in-memory runs in, a [`GateReport`] out); [`load`] reads directories,
//! [`render`] writes text, JSON and JUnit, [`calibrate`] measures the false-alarm rate on A/A
//! splits, [`commands`] ties them to the command line.
//!
//! Exit codes, in precedence order: 3 safety violation, 1 performance regression, 2 cannot judge,
//! 0 pass. A definite finding beats an unknown: a regression is reported even if another figure
//! could not be judged.

mod baseline;
pub mod calibrate;
pub mod load;
pub mod render;

use crate::check::Verdict;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

mod figure;
mod table;
pub use baseline::worse_beyond_tolerance;
use baseline::{baseline_check, limit_check};
pub use figure::Figure;
pub use table::{GateTable, OutageLimits};

/// One safety check over an entry's runs: any FAIL fails. An UNKNOWN blocks (cannot judge)
/// unless `--allow-unknown` for a check whose UNKNOWN blocks the run's own verdict
/// (`check::safety`); for the others (the digest) it is named, not blocking.
fn safety_status(name: &str, verdicts: &[(PathBuf, Verdict)], blocking: bool, allow_unknown: bool) -> (Status, String) {
    let of = |v: Verdict| -> Vec<PathBuf> { verdicts.iter().filter(|(_, x)| *x == v).map(|(d, _)| d.clone()).collect() };
    let (fails, unknowns, n) = (of(Verdict::Fail), of(Verdict::Unknown), verdicts.len());
    if !fails.is_empty() {
        (Status::Fail, format!("{name} FAIL in {} of {n} runs: {}", fails.len(), dirs_text(&fails)))
    } else if unknowns.is_empty() {
        let which = if blocking { "" } else { " that carry it" };
        (Status::Pass, format!("{name} PASS in all {n} runs{which}"))
    } else if !blocking {
        let text = format!("{name} PASS in {} of {n} runs, UNKNOWN in {} (not blocking: {})", n - unknowns.len(), unknowns.len(), dirs_text(&unknowns));
        (Status::Pass, text)
    } else if allow_unknown {
        (Status::Pass, format!("{name} UNKNOWN in {} of {n} runs, allowed by --allow-unknown", unknowns.len()))
    } else {
        let text = format!("{name} UNKNOWN in {} of {n} runs (pass --allow-unknown to accept): {}", unknowns.len(), dirs_text(&unknowns));
        (Status::Unknown, text)
    }
}

/// What the gate needs of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunFigures {
    pub dir: PathBuf,
    /// Content of the run's `status` file (`complete`, `aborted: ...`), if any.
    pub status: String,
    pub data_loss: Verdict,
    pub single_leader: Verdict,
    /// The run's other safety checks that its summary carries (`ephemerals`, `digest`, ...):
    /// a FAIL fails the gate like the two above; an UNKNOWN is reported but does not block (they
    /// exist only where their evidence can exist, e.g. a digest field a version lacks).
    pub other_safety: BTreeMap<String, Verdict>,
    /// Key absent: the field is missing from the summary (schema mismatch). `None`: the field is
    /// null (no operation of that kind in the phase). Never converged is `Some(INFINITY)`.
    pub values: BTreeMap<Figure, Option<f64>>,
    /// Per-cycle values (`cycles[]` of the summary) of the figures that have them; absent when
    /// the procedure ran once.
    pub cycle_values: BTreeMap<Figure, Vec<f64>>,
    /// Why the run cannot be judged at all (no summary.json, unreadable, wrong schema version).
    pub problem: Option<String>,
}

/// All runs of one entry (one profile name).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryRuns {
    pub name: String,
    pub runs: Vec<RunFigures>,
}

/// Thresholds and rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateConfig {
    /// Absolute limits on the median over repetitions.
    pub limits: BTreeMap<Figure, f64>,
    /// Allowed relative worsening of a median against the baseline (0.2 = 20 %).
    pub tolerance: f64,
    /// Significance level of the rank test.
    pub alpha: f64,
    /// Runs needed on each side for the rank test.
    pub min_repeats: usize,
    /// With fewer runs than `min_repeats`: cannot judge (true) instead of the weak rule (false).
    pub strict: bool,
    /// Treat UNKNOWN safety verdicts as passing.
    pub allow_unknown: bool,
    /// Test cycles as if they were independent samples (each its own block). WRONG for a gate:
    /// only for `--calibrate`, to measure what ignoring the correlation of cycles would cost.
    pub independent_cycles: bool,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            limits: BTreeMap::new(),
            tolerance: 0.2,
            alpha: 0.05,
            min_repeats: 3,
            strict: false,
            allow_unknown: false,
            independent_cycles: false,
        }
    }
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Fail,
    /// The gate cannot judge this check.
    Unknown,
    /// Not evaluated (performance checks after a safety failure).
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Unknown => "UNKNOWN",
            Status::Skipped => "SKIPPED",
        }
    }
}

/// One side's values of a figure.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Side {
    /// Runs with a value.
    pub n: usize,
    /// Values (cycles, or runs without cycles) in all.
    pub cycles: usize,
    /// Median over every cycle value.
    pub median: Option<f64>,
    /// One value per run (the impact window's).
    pub values: Vec<f64>,
    /// Per run: its cycle values (or its one value): the blocks of the permutation test.
    pub blocks: Vec<Vec<f64>>,
    pub dirs: Vec<PathBuf>,
}

impl Side {
    /// `n=4 runs` or `20 cycles of 4 runs`.
    pub fn size_text(&self) -> String {
        if self.cycles > self.n {
            format!("{} cycles of {} runs", self.cycles, self.n)
        } else {
            format!("n={}", self.n)
        }
    }
}

/// One check of one entry: a safety verdict, a limit or a baseline comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    pub entry: String,
    /// `safety.data_loss`, `safety.single_leader`, `limit.<figure>`, `baseline.<figure>`, `runs`.
    pub check: String,
    pub figure: Option<Figure>,
    pub status: Status,
    /// The rule applied, in words.
    pub rule: String,
    pub current: Option<Side>,
    pub baseline: Option<Side>,
    pub limit: Option<f64>,
    pub p_value: Option<f64>,
    /// The smallest p the design (runs per side) can give: 2 / C(n1+n2, n1).
    pub min_p: Option<f64>,
    /// The comparison had too few runs for the rank test: no regression verdict was possible.
    pub weak: bool,
    /// One sentence: what was found, with values and, on failure, the run directories.
    pub message: String,
}

/// Overall outcome; see the module documentation for the precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Regression,
    CannotJudge,
    SafetyViolation,
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Pass => 0,
            Outcome::Regression => 1,
            Outcome::CannotJudge => 2,
            Outcome::SafetyViolation => 3,
        }
    }
}

/// Everything the gate decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateReport {
    pub outcome: Outcome,
    pub exit_code: i32,
    pub checks: Vec<CheckResult>,
    pub notes: Vec<String>,
    pub config: GateConfig,
}

impl GateReport {
    pub fn failed(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }
}

fn check(
    entry: &str,
    name: String,
    figure: Option<Figure>,
    status: Status,
    rule: impl Into<String>,
    message: String,
) -> CheckResult {
    CheckResult {
        entry: entry.to_string(),
        check: name,
        figure,
        status,
        rule: rule.into(),
        current: None,
        baseline: None,
        limit: None,
        p_value: None,
        min_p: None,
        weak: false,
        message,
    }
}

fn dirs_text(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Layer 1: every run's safety verdicts, per entry and check.
fn safety_checks(current: &[EntryRuns], cfg: &GateConfig, checks: &mut Vec<CheckResult>) {
    for e in current {
        for r in e.runs.iter().filter(|r| r.problem.is_some()) {
            checks.push(check(
                &e.name,
                "runs".into(),
                None,
                Status::Unknown,
                "every run has a readable summary.json",
                format!("{}: {}", r.dir.display(), r.problem.as_deref().unwrap_or_default()),
            ));
        }
        let judged: Vec<&RunFigures> = e.runs.iter().filter(|r| r.problem.is_none()).collect();
        let core = ["data_loss", "single_leader"].map(String::from);
        let others = judged.iter().flat_map(|r| r.other_safety.keys()).collect::<std::collections::BTreeSet<_>>();
        for name in core.into_iter().chain(others.into_iter().cloned()) {
            let blocking = crate::check::safety::unknown_blocks(&name);
            // The core checks are in every summary; the others only in the runs that carry them.
            let verdicts: Vec<(PathBuf, Verdict)> = judged
                .iter()
                .filter_map(|r| {
                    let v = match name.as_str() {
                        "data_loss" => Some(r.data_loss),
                        "single_leader" => Some(r.single_leader),
                        other => r.other_safety.get(other).copied(),
                    };
                    v.map(|v| (r.dir.clone(), v))
                })
                .collect();
            let (status, message) = safety_status(&name, &verdicts, blocking, cfg.allow_unknown);
            let expected = if blocking { "every run PASS" } else { "no run FAIL" };
            checks.push(check(&e.name, format!("safety.{name}"), None, status, expected, message));
        }
    }
}

/// Judge `current` (against `baseline`, if given) under `cfg`.
pub fn evaluate(current: &[EntryRuns], baseline: Option<&[EntryRuns]>, cfg: &GateConfig) -> GateReport {
    let mut checks = Vec::new();
    let mut notes = Vec::new();
    if current.iter().all(|e| e.runs.is_empty()) {
        checks.push(check(
            "(none)",
            "runs".into(),
            None,
            Status::Unknown,
            "at least one run",
            "no runs to judge".into(),
        ));
    }
    safety_checks(current, cfg, &mut checks);
    let safety_failed = checks.iter().any(|c| c.check.starts_with("safety.") && c.status == Status::Fail);

    // Layer 2: performance.
    if cfg.limits.is_empty() && baseline.is_none() {
        notes.push("no limits and no baseline given: only safety was judged".into());
    }
    for e in current {
        let runs: Vec<&RunFigures> = e.runs.iter().filter(|r| r.problem.is_none()).collect();
        for (&figure, &limit) in &cfg.limits {
            let mut c = if safety_failed {
                check(
                    &e.name,
                    format!("limit.{figure}"),
                    Some(figure),
                    Status::Skipped,
                    "",
                    "not evaluated: a safety check failed".into(),
                )
            } else {
                limit_check(&e.name, figure, limit, &runs)
            };
            c.limit = Some(limit);
            checks.push(c);
        }
        if let Some(base) = baseline {
            let Some(b) = base.iter().find(|b| b.name == e.name) else {
                let names: Vec<&str> = base.iter().map(|b| b.name.as_str()).collect();
                checks.push(check(
                    &e.name,
                    "baseline".into(),
                    None,
                    if safety_failed { Status::Skipped } else { Status::Unknown },
                    "entries matched by profile name",
                    format!("the baseline has no runs of `{}` (it has: {})", e.name, names.join(", ")),
                ));
                continue;
            };
            let base_runs: Vec<&RunFigures> = b.runs.iter().filter(|r| r.problem.is_none()).collect();
            for figure in Figure::ALL {
                let present = |rs: &[&RunFigures]| rs.iter().all(|r| r.values.contains_key(&figure));
                if figure.optional() && !(present(&runs) && present(&base_runs)) {
                    continue;
                }
                if safety_failed {
                    checks.push(check(
                        &e.name,
                        format!("baseline.{figure}"),
                        Some(figure),
                        Status::Skipped,
                        "",
                        "not evaluated: a safety check failed".into(),
                    ));
                    continue;
                }
                checks.push(baseline_check(&e.name, figure, &runs, &base_runs, cfg));
            }
        }
    }
    if let Some(base) = baseline {
        for b in base.iter().filter(|b| !current.iter().any(|e| e.name == b.name)) {
            notes.push(format!("baseline entry `{}` has no current runs; not compared", b.name));
        }
    }

    let any = |s: Status| checks.iter().any(|c| c.status == s);
    let outcome = if safety_failed {
        Outcome::SafetyViolation
    } else if any(Status::Fail) {
        Outcome::Regression
    } else if any(Status::Unknown) {
        Outcome::CannotJudge
    } else {
        Outcome::Pass
    };
    GateReport { outcome, exit_code: outcome.exit_code(), checks, notes, config: cfg.clone() }
}
