//! `zkchaos suite <suite.toml>`: run every entry `repeat` times, interleaved, each run a fresh
//! ensemble through [`crate::runner::run_profile`]; record everything in `suite.json` as it goes;
//! then the comparison (`comparison/`, the same as `zkchaos compare`), the statistics
//! (`stats.md`, `stats.json`) and, if asked, the gate.
//!
//! A failed run (harness error, no convergence) is recorded as that entry's result and the suite
//! goes on. Ctrl-C/SIGTERM: the run in progress cleans up after itself; the suite then stops,
//! marks `suite.json` `interrupted` and exits 130. Exit code otherwise: 3 if any run's safety
//! verdict is FAIL; else 1 if any run failed; else the gate's (0 without a gate).

use crate::suite::{schedule, stats_table, Suite};
use super::gate::GateOpts;
use clap::Args;
use crate::gate::{self, load::load_run_figures, EntryRuns};
use crate::runner::{run_profile, RunOptions};
use crate::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub const MANIFEST_FILE: &str = "suite.json";

/// `suite.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub name: String,
    pub suite_file: PathBuf,
    pub suite_text: String,
    pub repeat: u32,
    /// `running`, `complete` or `interrupted`.
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub entries: Vec<crate::suite::Entry>,
    /// Entry names in the order they run (A B C A B C ...).
    pub order: Vec<String>,
    pub runs: Vec<RunRecord>,
    /// Problems after the runs (comparison or statistics not written), in words.
    pub notes: Vec<String>,
    /// The suite's exit code (once finished).
    pub exit_code: Option<i32>,
}

/// One run of the suite.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// 1-based position in the execution order.
    pub index: usize,
    pub entry: String,
    pub repetition: u32,
    /// The run's results directory (none if it failed before creating one).
    pub dir: Option<PathBuf>,
    pub seed: Option<u64>,
    /// What `zkchaos run` would have exited with for this run alone.
    pub exit_code: i32,
    pub error: Option<String>,
    /// The summary's verdict (PASS/FAIL/UNKNOWN), if a summary was written.
    pub verdict: Option<String>,
    pub wall_s: f64,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<()> {
    let mut s = serde_json::to_string_pretty(m).map_err(|e| Error::failed(format!("suite.json: {e}")))?;
    s.push('\n');
    crate::record::rundir::write_atomic(&dir.join(MANIFEST_FILE), s.as_bytes())
        .map_err(|e| Error::failed(e.to_string()))
}

/// `<root>/suites/<name>/<UTC timestamp>/`, with a suffix if that exists already.
fn create_suite_dir(root: &Path, name: &str) -> Result<PathBuf> {
    Ok(crate::record::rundir::create_timestamped_dir(&root.join("suites").join(name))?)
}


fn seed_of(dir: &Path) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(crate::record::files::PLAN_FILE)).ok()?).ok()?;
    v.get("seed")?.as_u64()
}

/// Progress: an indicatif bar on a terminal, plain lines otherwise.
enum Progress {
    Bar(ProgressBar),
    Lines { name: String, total: usize },
}

impl Progress {
    fn new(name: &str, total: usize, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress::Lines { name: name.to_string(), total };
        }
        let pb = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "suite {prefix} [{bar:24}] {pos}/{len} runs, {elapsed} elapsed, ~{eta} left: {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        pb.set_style(style);
        pb.set_prefix(name.to_string());
        pb.enable_steady_tick(std::time::Duration::from_secs(1));
        Progress::Bar(pb)
    }

    fn start(&self, k: usize, entry: &str, i: usize, n: usize, rep: u32, repeat: u32) {
        let what = format!("entry {}/{n} {entry}, repetition {rep}/{repeat}", i + 1);
        match self {
            Progress::Bar(pb) => pb.set_message(what),
            Progress::Lines { name, total } => eprintln!("suite {name}: run {k}/{total} start: {what}"),
        }
    }

    fn end(&self, k: usize, rec: &RunRecord) {
        match self {
            Progress::Bar(pb) => pb.inc(1),
            Progress::Lines { name, total } => eprintln!(
                "suite {name}: run {k}/{total} end: {} repetition {}: exit {} in {:.0} s{}",
                rec.entry,
                rec.repetition,
                rec.exit_code,
                rec.wall_s,
                rec.dir.as_ref().map(|d| format!(" → {}", d.display())).unwrap_or_default()
            ),
        }
    }

    fn finish(&self) {
        if let Progress::Bar(pb) = self {
            pb.finish_and_clear();
        }
    }
}

/// Ctrl-C / SIGTERM between runs (during a run, `run_profile` sees them too and returns
/// `Interrupted`).
fn watch_signals(stop: CancellationToken) {
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term => {},
        }
        stop.cancel();
    });
}

/// Every run of the suite in `order`, each recorded in the manifest as it ends; true if
/// interrupted (a signal, or a run that was).
async fn execute_runs(suite: &Suite, order: &[(usize, u32)], dir: &Path, manifest: &mut Manifest, quiet: bool) -> Result<bool> {
    let stop = CancellationToken::new();
    watch_signals(stop.clone());
    let progress = Progress::new(&suite.file.name, order.len(), quiet);
    // The suite draws its own progress; runs inside it stay quiet.
    let opts = RunOptions { results: dir.to_path_buf(), keep: false, progress: crate::runner::progress::ProgressMode::Quiet, hunt: None };
    let mut interrupted = false;
    for (k, &(i, rep)) in order.iter().enumerate() {
        if stop.is_cancelled() {
            interrupted = true;
            break;
        }
        let entry = &suite.entries[i];
        progress.start(k + 1, &entry.name, i, suite.entries.len(), rep, suite.file.repeat);
        let group = dir.join(&entry.profile_name);
        let before = crate::record::rundir::run_dirs_in(&group);
        let t0 = Instant::now();
        let result = run_profile(entry.loaded.clone(), &opts).await;
        let run_dir = crate::record::rundir::run_dirs_in(&group).into_iter().find(|d| !before.contains(d));
        let mut rec = RunRecord {
            index: k + 1,
            entry: entry.name.clone(),
            repetition: rep,
            seed: run_dir.as_deref().and_then(seed_of),
            dir: run_dir,
            exit_code: 0,
            error: None,
            verdict: None,
            wall_s: t0.elapsed().as_secs_f64(),
        };
        match result {
            Ok(outcome) => {
                rec.verdict = outcome.summary.as_ref().map(|s| s.verdict.as_str().to_string());
                rec.exit_code = if outcome.verdict_failed { 3 } else { 0 };
            }
            Err(e) => {
                interrupted |= matches!(e, Error::Interrupted(_));
                rec.exit_code = e.exit_code();
                rec.error = Some(e.to_string());
                if let Some(d) = &rec.dir {
                    if let Ok(s) = crate::report::read_summary(&d.join(crate::record::load::SUMMARY_FILE)) {
                        rec.verdict = Some(s.verdict.as_str().to_string());
                    }
                }
            }
        }
        progress.end(k + 1, &rec);
        manifest.runs.push(rec);
        write_manifest(dir, manifest)?;
        if interrupted {
            break;
        }
    }
    progress.finish();
    Ok(interrupted)
}

/// `zkchaos suite <suite.toml> [--results DIR] [--quiet] [--dry-run] [gate options]`.
pub async fn suite(args: SuiteArgs) -> Result<()> {
    if args.reanalyze {
        return reanalyze(&args.suite).await;
    }
    let suite = crate::suite::load(&args.suite)?;
    let table = suite.file.gate.as_ref();
    let gating = super::gate::requested(&args.gate, table);
    if gating {
        super::gate::config(&args.gate, table)?; // bad gate settings fail before any run
    }
    let order = schedule(suite.entries.len(), suite.file.repeat);
    if args.dry_run {
        for e in &suite.entries {
            println!("entry {} (profile name {}, from {})", e.name, e.profile_name, e.source.display());
        }
        let names: Vec<&str> = order.iter().map(|&(i, _)| suite.entries[i].name.as_str()).collect();
        println!("order: {}", names.join(" "));
        return Ok(());
    }
    let root = args.results.clone().or_else(|| suite.file.results.clone()).unwrap_or_else(|| PathBuf::from("results"));
    let dir = create_suite_dir(&root, &suite.file.name)?;
    eprintln!(
        "zkchaos: suite {} ({} entries × {} repetitions) → {}",
        suite.file.name,
        suite.entries.len(),
        suite.file.repeat,
        dir.display()
    );
    let mut manifest = Manifest {
        schema_version: 1,
        name: suite.file.name.clone(),
        suite_file: suite.path.clone(),
        suite_text: suite.text.clone(),
        repeat: suite.file.repeat,
        status: "running".into(),
        started_at: now(),
        finished_at: None,
        entries: suite.entries.clone(),
        order: order.iter().map(|&(i, _)| suite.entries[i].name.clone()).collect(),
        runs: Vec::new(),
        notes: Vec::new(),
        exit_code: None,
    };
    write_manifest(&dir, &manifest)?;

    let interrupted = execute_runs(&suite, &order, &dir, &mut manifest, args.quiet).await?;
    if interrupted {
        manifest.status = "interrupted".into();
        manifest.finished_at = Some(now());
        manifest.exit_code = Some(130);
        write_manifest(&dir, &manifest)?;
        return Err(Error::interrupted(format!(
            "suite {} interrupted after {} of {} runs; what ran is in {}",
            suite.file.name,
            manifest.runs.len(),
            order.len(),
            dir.display()
        )));
    }

    report(&suite, &dir, &mut manifest).await;
    let safety_failed = manifest.runs.iter().any(|r| r.verdict.as_deref() == Some("FAIL"));
    let harness_failed: Vec<String> =
        manifest.runs.iter().filter(|r| r.error.is_some()).map(|r| format!("{} #{}", r.entry, r.repetition)).collect();
    let mut result = if safety_failed {
        Err(Error::check_failed(format!(
            "suite {}: a safety check failed (see {})",
            suite.file.name,
            dir.join("stats.md").display()
        )))
    } else if !harness_failed.is_empty() {
        Err(Error::failed(format!("suite {}: runs failed: {}", suite.file.name, harness_failed.join(", "))))
    } else {
        Ok(())
    };
    if gating {
        let dirs: Vec<PathBuf> = manifest.runs.iter().filter_map(|r| r.dir.clone()).collect();
        let gate_result = super::gate::judge(gate::load::load_dirs(&dirs), &args.gate, table)
            .map(|r| super::gate::outcome_result(&r));
        let gate_result = gate_result.and_then(|r| r);
        if result.is_ok() {
            result = gate_result;
        } else if let Err(e) = gate_result {
            eprintln!("zkchaos: {e}");
        }
    }
    manifest.status = "complete".into();
    manifest.finished_at = Some(now());
    manifest.exit_code = Some(match &result {
        Ok(()) => 0,
        Err(e) => e.exit_code(),
    });
    write_manifest(&dir, &manifest)?;
    println!("suite: {}", dir.display());
    result
}

/// Comparison (`comparison/`) and statistics (`stats.md`, `stats.json`); problems become notes.
async fn report(suite: &Suite, dir: &Path, manifest: &mut Manifest) {
    let names: Vec<String> = suite.entries.iter().map(|e| e.name.clone()).collect();
    let runs: Vec<(String, PathBuf)> =
        manifest.runs.iter().filter_map(|r| r.dir.clone().map(|d| (r.entry.clone(), d))).collect();
    manifest.notes.extend(report_runs(&names, &runs, dir).await);
}

/// Comparison and statistics of `runs` (entry name, run directory) into `dir`; returns the
/// problems, in words.
async fn report_runs(names: &[String], runs: &[(String, PathBuf)], dir: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let input = dir.to_path_buf();
    let out = dir.join("comparison");
    let compared = tokio::task::spawn_blocking(move || crate::report::compare::compare(&[input], &out)).await;
    match compared {
        Ok(Ok(c)) => {
            for s in &c.skipped {
                notes.push(format!("comparison skipped {s}"));
            }
            println!("{}", c.console);
        }
        Ok(Err(e)) => notes.push(format!("comparison not written: {e}")),
        Err(e) => notes.push(format!("comparison not written: {e}")),
    }
    let entries: Vec<EntryRuns> = names
        .iter()
        .map(|name| EntryRuns {
            name: name.clone(),
            runs: runs.iter().filter(|(e, _)| e == name).map(|(_, d)| load_run_figures(d)).collect(),
        })
        .collect();
    let stats = stats_table::compute(&entries);
    let md = stats_table::markdown(&stats);
    print!("{md}");
    let json = serde_json::to_string_pretty(&stats).map(|mut s| {
        s.push('\n');
        s
    });
    let writes = [("stats.md", Ok(md)), ("stats.json", json.map_err(|e| e.to_string()))];
    for (name, content) in writes {
        let r = content.and_then(|c| {
            crate::record::rundir::write_atomic(&dir.join(name), c.as_bytes()).map_err(|e| e.to_string())
        });
        if let Err(e) = r {
            notes.push(format!("{name} not written: {e}"));
        }
    }
    notes
}

/// `zkchaos suite --reanalyze <suite dir>`: re-analyse every run of a stored suite from its
/// recorded files (`zkchaos analyze`), then rewrite its comparison and statistics.
async fn reanalyze(dir: &Path) -> Result<()> {
    let path = dir.join("suite.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::bad_input(format!("suite --reanalyze: cannot read {}: {e}; give a suite directory (results/suites/<name>/<stamp>)", path.display())))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::bad_input(format!("suite --reanalyze: {} is not JSON: {e}", path.display())))?;
    let names: Vec<String> = v["entries"].as_array().into_iter().flatten().filter_map(|e| e["name"].as_str().map(String::from)).collect();
    let runs: Vec<(String, PathBuf)> = v["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r["entry"].as_str()?.to_string(), PathBuf::from(r["dir"].as_str()?))))
        .collect();
    for (entry, d) in &runs {
        let run = d.clone();
        match tokio::task::spawn_blocking(move || crate::report::analyze_dir(&run)).await {
            Ok(Ok(_)) => eprintln!("zkchaos: re-analysed {entry}: {}", d.display()),
            Ok(Err(e)) => eprintln!("zkchaos: {}: not re-analysed: {e}", d.display()),
            Err(e) => eprintln!("zkchaos: {}: not re-analysed: {e}", d.display()),
        }
    }
    for n in report_runs(&names, &runs, dir).await {
        eprintln!("zkchaos: {n}");
    }
    println!("suite: {}", dir.display());
    Ok(())
}

#[derive(Debug, Args, Clone)]
pub struct SuiteArgs {
    /// Suite file (TOML): entries, repetitions, optional [gate]; with --reanalyze, a suite directory.
    pub suite: PathBuf,
    /// Results root (the suite goes to <out>/suites/<name>/<timestamp>/); overrides the file's.
    #[arg(long = "out", visible_alias = "results", value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// One plain line per run start and end instead of a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Check the suite file and every entry's profile, print the run order, run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// SUITE is a stored suite directory: re-analyse its runs from their recorded files and
    /// rewrite its comparison and statistics (no Docker).
    #[arg(long, conflicts_with = "dry_run")]
    pub reanalyze: bool,
    #[command(flatten)]
    pub gate: GateOpts,
}

