//! `zkchaos gate <dir>`, and the gate options of `zkchaos run` and `zkchaos suite`: turn the
//! command-line options (and a suite file's `[gate]` table) into a [`GateConfig`], load the runs,
//! evaluate, print, write JUnit/JSON, and map the outcome to the exit code.

use crate::gate::{calibrate, evaluate, load, render, EntryRuns, Figure, GateConfig, GateReport, GateTable, Outcome, OutageLimits};
use crate::{Error, Result};
use clap::Args;
use std::path::{Path, PathBuf};

/// Does any option ask for judging (a limit, a baseline or an output file)?
pub fn requested(opts: &GateOpts, table: Option<&GateTable>) -> bool {
    opts.max_outage_ms.is_some()
        || opts.max_error_rate.is_some()
        || opts.max_p99_ms.is_some()
        || opts.max_converge_ms.is_some()
        || opts.baseline.is_some()
        || opts.junit.is_some()
        || opts.json.is_some()
        || table.is_some()
}

fn bad(msg: impl Into<String>) -> Error {
    Error::bad_input(msg.into())
}

/// `20%`, `20 %` or `0.2` → 0.2.
pub fn parse_tolerance(s: &str) -> Result<f64> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|x| x / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| bad(format!("--tolerance `{s}` is not a percentage: use e.g. 20% or 0.2")))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(bad(format!("--tolerance `{s}` must be 0 or more, e.g. 20%")));
    }
    Ok(v)
}

/// `read=2000,write=1500` (either may be omitted) → (read, write).
pub fn parse_outage_limits(s: &str) -> Result<OutageLimits> {
    let mut out = OutageLimits::default();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| bad(format!("--max-outage-ms `{part}`: use kind=ms, e.g. read=2000,write=2000")))?;
        let ms: f64 = v
            .trim()
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| bad(format!("--max-outage-ms `{part}`: `{v}` is not a number of milliseconds ≥ 0")))?;
        match k.trim() {
            "read" => out.read = Some(ms),
            "write" => out.write = Some(ms),
            other => {
                return Err(bad(format!("--max-outage-ms: unknown kind `{other}`; valid kinds are read and write")))
            }
        }
    }
    Ok(out)
}

/// The gate's configuration and baseline directory from the options, then the table.
pub fn config(opts: &GateOpts, table: Option<&GateTable>) -> Result<(GateConfig, Option<PathBuf>)> {
    let t = table.cloned().unwrap_or_default();
    let mut cfg = GateConfig::default();
    let outage = match &opts.max_outage_ms {
        Some(s) => Some(parse_outage_limits(s)?),
        None => t.max_outage_ms.clone(),
    };
    let limits = [
        (Figure::OutageReadMs, outage.as_ref().and_then(|o| o.read)),
        (Figure::OutageWriteMs, outage.as_ref().and_then(|o| o.write)),
        (Figure::ErrorRate, opts.max_error_rate.or(t.max_error_rate)),
        (Figure::P99Ms, opts.max_p99_ms.or(t.max_p99_ms)),
        (Figure::ConvergeMs, opts.max_converge_ms.or(t.max_converge_ms)),
    ];
    for (figure, limit) in limits {
        if let Some(l) = limit {
            if !(l.is_finite() && l >= 0.0) {
                return Err(bad(format!("gate limit for {figure} must be a number ≥ 0, found {l}")));
            }
            cfg.limits.insert(figure, l);
        }
    }
    cfg.tolerance = match (&opts.tolerance, &t.tolerance) {
        (Some(s), _) => parse_tolerance(s)?,
        (None, Some(toml::Value::String(s))) => parse_tolerance(s)?,
        (None, Some(toml::Value::Float(f))) => parse_tolerance(&f.to_string())?,
        (None, Some(toml::Value::Integer(i))) => parse_tolerance(&format!("{i}%"))?,
        (None, Some(other)) => {
            return Err(bad(format!("[gate] tolerance = {other} is not a percentage: use e.g. \"20%\" or 0.2")))
        }
        (None, None) => cfg.tolerance,
    };
    if let Some(a) = opts.alpha.or(t.alpha) {
        if !(a > 0.0 && a < 1.0) {
            return Err(bad(format!("--alpha {a} must be between 0 and 1, e.g. 0.05")));
        }
        cfg.alpha = a;
    }
    if let Some(n) = opts.min_repeats.or(t.min_repeats) {
        if n < 2 {
            return Err(bad(format!("--min-repeats {n}: the rank test needs at least 2 runs per side")));
        }
        cfg.min_repeats = n;
    }
    cfg.strict = opts.strict || t.strict.unwrap_or(false);
    cfg.allow_unknown = opts.allow_unknown || t.allow_unknown.unwrap_or(false);
    Ok((cfg, opts.baseline.clone().or(t.baseline)))
}

/// Load the baseline, with the command that creates it when it is absent.
fn load_baseline(dir: &Path) -> Result<Vec<EntryRuns>> {
    if !dir.exists() {
        return Err(bad(format!(
            "gate: cannot judge: baseline `{}` does not exist; create it with `zkchaos suite <suite.toml> --results {}` \
             (or `zkchaos run <profile> --results {}`) on the reference version, keep it (commit it or store it as a CI \
             artifact), then pass that directory as --baseline",
            dir.display(),
            dir.display(),
            dir.display()
        )));
    }
    load::load_entries(dir).map_err(|e| bad(format!("gate: cannot judge: baseline: {e}")))
}

/// Evaluate, print the report, write the requested files, and turn the outcome into the result.
pub fn judge(current: Vec<EntryRuns>, opts: &GateOpts, table: Option<&GateTable>) -> Result<GateReport> {
    let (cfg, baseline_dir) = config(opts, table)?;
    let baseline = baseline_dir.as_deref().map(load_baseline).transpose()?;
    let report = evaluate(&current, baseline.as_deref(), &cfg);
    print!("{}", render::text(&report));
    if let Some(path) = &opts.junit {
        let xml = render::junit(&report).map_err(|e| Error::failed(format!("JUnit report: {e}")))?;
        write_file(path, xml.as_bytes())?;
    }
    if let Some(path) = &opts.json {
        let json = render::json(&report).map_err(|e| Error::failed(format!("JSON report: {e}")))?;
        write_file(path, json.as_bytes())?;
    }
    Ok(report)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::failed(format!("create {}: {e}", parent.display())))?;
    }
    crate::record::rundir::write_atomic(path, bytes).map_err(|e| Error::failed(e.to_string()))
}

/// The report's outcome as the command's result (exit code via [`Error::exit_code`]).
pub fn outcome_result(report: &GateReport) -> Result<()> {
    let failed: Vec<String> = report.failed().map(|c| format!("{} {}", c.entry, c.check)).collect();
    match report.outcome {
        Outcome::Pass => Ok(()),
        Outcome::SafetyViolation => Err(Error::check_failed(format!("gate: safety violation: {}", failed.join(", ")))),
        Outcome::Regression => Err(Error::failed(format!("gate: performance regression: {}", failed.join(", ")))),
        Outcome::CannotJudge => {
            let unknown: Vec<String> = report
                .checks
                .iter()
                .filter(|c| c.status == crate::gate::Status::Unknown)
                .map(|c| format!("{} {}", c.entry, c.check))
                .collect();
            Err(Error::bad_input(format!("gate: cannot judge: {}", unknown.join(", "))))
        }
    }
}

/// `zkchaos gate <dir> [options]`.
pub async fn gate(args: GateArgs) -> Result<()> {
    let current = match load::load_entries(&args.dir) {
        Ok(c) => c,
        Err(load::LoadError::Absent { path, .. }) => {
            return Err(bad(format!(
                "gate: cannot judge: `{}` does not exist; make runs with `zkchaos suite <suite.toml> --results <dir>` or `zkchaos run <profile> --results <dir>`",
                path.display()
            )))
        }
        Err(e) => return Err(bad(format!("gate: cannot judge: {e}"))),
    };
    if let Some(pair) = &args.power {
        return power(&current, pair, &args);
    }
    if let Some(splits) = args.calibrate {
        let (mut cfg, _) = config(&args.gate, None)?;
        cfg.independent_cycles = args.independent_cycles;
        let c = calibrate::calibrate_with(&current, splits.max(1), args.runs, &cfg, crate::stats::SEED);
        print!("{}", calibrate::text(&c));
        if let Some(path) = &args.gate.json {
            let json = serde_json::to_string_pretty(&c).map_err(|e| Error::failed(e.to_string()))?;
            write_file(path, json.as_bytes())?;
        }
        return if c.rate.is_some() {
            Ok(())
        } else {
            Err(bad("gate --calibrate: no entry has 2 or more runs to split"))
        };
    }
    let report = judge(current, &args.gate, None)?;
    outcome_result(&report)
}


/// `zkchaos gate <dir> --power BASE:REGRESSED [--calibrate SPLITS] [--runs K]`.
fn power(current: &[crate::gate::EntryRuns], pair: &str, args: &GateArgs) -> Result<()> {
    let (mut cfg, _) = config(&args.gate, None)?;
    cfg.independent_cycles = args.independent_cycles;
    let names: Vec<&str> = current.iter().map(|e| e.name.as_str()).collect();
    let find = |n: &str| {
        current.iter().find(|e| e.name == n).ok_or_else(|| {
            bad(format!("gate --power: no entry `{n}` below `{}` (entries: {})", args.dir.display(), names.join(", ")))
        })
    };
    let Some((b, r)) = pair.split_once(':') else {
        return Err(bad(format!("gate --power `{pair}`: give BASELINE_ENTRY:REGRESSED_ENTRY, e.g. --power steady:slow")));
    };
    let (base, regressed) = (find(b)?, find(r)?);
    let k = args.runs.unwrap_or(base.runs.len().min(regressed.runs.len()) / 2).max(1);
    let splits = args.calibrate.unwrap_or(200).max(1);
    let p = calibrate::power(base, regressed, k, splits, &cfg, crate::stats::SEED).ok_or_else(|| {
        bad(format!("gate --power: `{b}` has {} runs and `{r}` {}, need at least {k} each", base.runs.len(), regressed.runs.len()))
    })?;
    print!("{}", calibrate::power_text(&p));
    if let Some(path) = &args.gate.json {
        let json = serde_json::to_string_pretty(&p).map_err(|e| Error::failed(e.to_string()))?;
        write_file(path, json.as_bytes())?;
    }
    Ok(())
}

/// Thresholds and outputs of the CI gate, shared by `gate`, `run` and `suite`.
#[derive(Debug, Args, Clone, Default)]
pub struct GateOpts {
    /// Limit on the median longest outage over the impact window (procedure start → load stop; per cycle when repeated), e.g. read=2000,write=2000 (ms).
    #[arg(long, value_name = "read=MS,write=MS")]
    pub max_outage_ms: Option<String>,
    /// Limit on the median error rate over the impact window (fraction, e.g. 0.01).
    #[arg(long, value_name = "FRACTION")]
    pub max_error_rate: Option<f64>,
    /// Limit on the median p99 latency of every issued operation over the impact window (ms).
    #[arg(long, value_name = "MS")]
    pub max_p99_ms: Option<f64>,
    /// Limit on the median time to converge (ms); a run that never converged exceeds any limit.
    #[arg(long, value_name = "MS")]
    pub max_converge_ms: Option<f64>,
    /// Stored suite or run directory to compare against (entries matched by profile name).
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Allowed worsening of a median against the baseline, e.g. 20% or 0.2 [default: 20%].
    #[arg(long, value_name = "PERCENT")]
    pub tolerance: Option<String>,
    /// Significance level of the Mann-Whitney U test [default: 0.05].
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Runs needed on each side for the rank test; fewer → weak comparison (no regression
    /// verdict) [default: 3; the test itself needs 4 a side to reach p < 0.05].
    #[arg(long, value_name = "N")]
    pub min_repeats: Option<usize>,
    /// With fewer than --min-repeats runs, cannot judge (exit 2) instead of the weak comparison.
    #[arg(long)]
    pub strict: bool,
    /// Accept UNKNOWN safety verdicts instead of exiting 2.
    #[arg(long)]
    pub allow_unknown: bool,
    /// Write the verdicts as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the verdicts as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}


#[derive(Debug, Args, Clone)]
pub struct GateArgs {
    /// A run directory, or a directory above runs (a suite directory, a profile directory).
    pub dir: PathBuf,
    /// A/A calibration: split each entry's runs into two halves N times and report how often the
    /// baseline rule fires although nothing changed (the false-alarm rate).
    #[arg(long, value_name = "N")]
    pub calibrate: Option<usize>,
    /// Power check against a known regression: `BASELINE_ENTRY:REGRESSED_ENTRY` (entries below
    /// DIR); draws --runs runs of each side --calibrate times (default 200) and reports how often
    /// the gate flags each figure.
    #[arg(long, value_name = "BASE:REGRESSED")]
    pub power: Option<String>,
    /// Runs per side in --calibrate and --power splits (default: half of the runs available).
    #[arg(long, value_name = "K")]
    pub runs: Option<usize>,
    /// With --calibrate or --power: test cycles as independent samples, to measure what
    /// ignoring their correlation within a run would cost (never how the gate judges).
    #[arg(long)]
    pub independent_cycles: bool,
    #[command(flatten)]
    pub gate: GateOpts,
}
