//! `zkchaos run <profiles>...`: the command line of a run (profiles, overrides, gate options),
//! validated here; the lifecycle itself is [`crate::runner::run_profile`]. With gate options, the
//! new runs are judged afterwards through [`super::gate`].

use super::args::PhaseOverrides;
use super::gate;
use crate::plan::{Plan, ProcedurePlan};
use crate::profile;
use crate::runner::{run_profile, RunOptions};
use crate::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, clap::Args, Clone)]
pub struct RunArgs {
    /// Profile files (TOML); several run one after another. Bundled ones are in profiles/
    /// (with none given, they are listed).
    pub profiles: Vec<PathBuf>,
    /// Seed for the operation mix (overrides the profile's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Results root directory (runs go to <out>/<profile>/<timestamp>-<id>/).
    #[arg(long = "out", visible_alias = "results", value_name = "DIR", default_value = "results")]
    pub results: PathBuf,
    /// Leave containers, network and volumes in place after the run (prints how to remove them).
    #[arg(long)]
    pub keep: bool,
    /// No live progress (on a terminal a status line is redrawn every second; otherwise one
    /// line per phase is printed).
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub overrides: PhaseOverrides,
    /// Judge the runs afterwards (as `zkchaos gate` does) when any of these is given.
    #[command(flatten)]
    pub gate: gate::GateOpts,
}

/// `zkchaos run <profiles>...`: validate every profile first, then run them one after another.
/// Returns the first harness error, else `CheckFailed` if any run's verdict was FAIL.
pub async fn run_command(args: RunArgs) -> Result<()> {
    let mut loaded = Vec::new();
    for path in &args.profiles {
        let mut p = profile::load(path)?;
        apply_overrides(&mut p.plan, &args);
        profile::validate(&p.plan)
            .map_err(|e| e.in_source(&format!("{} with command-line overrides", path.display())))?;
        if let Some(w) = hazard_warning(&p.plan) {
            eprintln!("zkchaos: warning: {}: {w}", path.display());
        }
        loaded.push(p);
    }
    let opts = RunOptions {
        results: args.results.clone(),
        keep: args.keep,
        progress: crate::runner::progress::ProgressMode::detect(args.quiet),
        hunt: None,
    };
    let mut failed_checks = Vec::new();
    for p in loaded {
        let outcome = run_profile(p, &opts).await?;
        if outcome.verdict_failed {
            failed_checks.push(outcome.dir.display().to_string());
        }
    }
    if failed_checks.is_empty() {
        Ok(())
    } else {
        Err(Error::check_failed(format!("safety checks failed in {}", failed_checks.join(", "))))
    }
}

/// Plans that set up a known unsafe ordering (see [`crate::procedure::restart::new_majority_warning`]
/// and, for runbooks, [`crate::procedure::restart::split_view_warning`]).
fn hazard_warning(plan: &Plan) -> Option<String> {
    let from = plan.cluster.size;
    match plan.procedure {
        ProcedurePlan::RestartExpand { to, order } => {
            crate::procedure::restart::new_majority_warning(from, to, order == crate::plan::RestartOrder::NewFirst)
        }
        ProcedurePlan::RollingExpand { to, .. } => crate::procedure::restart::new_majority_warning(from, to, true),
        ProcedurePlan::Steps { ref steps, .. } => crate::procedure::restart::split_view_warning(from, plan.cluster.dynamic_config, steps),
        _ => None,
    }
}

fn apply_overrides(plan: &mut Plan, args: &RunArgs) {
    if let Some(seed) = args.seed {
        plan.seed = Some(seed);
    }
    if let Some(w) = args.overrides.warmup {
        plan.phases.warmup_s = w.secs_f64();
    }
    if let Some(p) = args.overrides.post {
        plan.phases.post_s = p.secs_f64();
    }
    if let Some(r) = args.overrides.rate {
        plan.load.rate = r;
    }
}


/// `zkchaos run` with the gate options: without them, exactly `run_command`. With them, the
/// profiles run one at a time through `run_command` (same validation, warnings and overrides),
/// the new run directory of each is found below `<results>/<profile name>/`, and the gate judges
/// them. (A concurrent `zkchaos run` of the same profile into the same results root could be
/// mistaken for ours: give gated runs their own `--results`.)
pub async fn run(args: RunArgs) -> Result<()> {
    if !gate::requested(&args.gate, None) {
        return run_command(args).await;
    }
    gate::config(&args.gate, None)?; // bad gate options are reported before anything runs
    let mut names = Vec::new();
    for path in &args.profiles {
        names.push(crate::profile::load(path)?.plan.name);
    }
    let mut dirs = Vec::new();
    for (path, name) in args.profiles.iter().zip(&names) {
        let group = args.results.join(name);
        let before = crate::record::rundir::run_dirs_in(&group);
        let one = RunArgs { profiles: vec![path.clone()], ..args.clone() };
        let result = run_command(one).await;
        dirs.extend(crate::record::rundir::run_dirs_in(&group).into_iter().filter(|d| !before.contains(d)));
        match result {
            Ok(()) | Err(Error::CheckFailed(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let report = gate::judge(crate::gate::load::load_dirs(&dirs), &args.gate, None)?;
    gate::outcome_result(&report)
}
