//! `zkchaos hunt`: argument parsing, and the one thing the library cannot do itself — running a
//! runbook file exactly as `zkchaos run` does ([`RunLifecycle`], over [`crate::runner::run_profile`]).
//! Everything else is [`crate::hunt`].

use super::args::{DurationArg, PhaseOverrides};
use crate::runner::progress::ProgressMode;
use crate::runner::{run_profile, RunOptions};
use crate::hunt::render::BaseOverrides;
use crate::hunt::runner::{self, Hunt, HuntConfig};
use crate::hunt::shrinker::{self, ShrinkInput};
use crate::hunt::{TrialRun, TrialRunner};
use crate::record::HuntSeeds;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args, Clone)]
pub struct HuntArgs {
    /// A hunt profile (a profile with a `[hunt]` fault space; see docs/hunt.md), or an ordinary
    /// runbook profile, replayed as it is in every trial (for rates, bisection and shrinking).
    pub profile: PathBuf,
    /// Trials (schedules); with --until-fail, the most to run.
    #[arg(long, default_value_t = 10)]
    pub trials: u32,
    /// Hunt seed (every trial's schedule and load seed derive from it); random when absent, and
    /// printed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Images to run every schedule on, comma-separated (interleaved: version bisection).
    /// Default: the profile's image.
    #[arg(long, value_delimiter = ',')]
    pub images: Vec<String>,
    /// Stop after the first trial in which a safety check FAILed.
    #[arg(long)]
    pub until_fail: bool,
    /// Only write the schedules (runbooks) and hunt.json; run nothing (no Docker needed).
    #[arg(long)]
    pub dry_run: bool,
    /// Results root: the hunt goes to <out>/hunt/<name>/<timestamp>-seed<S>/.
    #[arg(long = "out", value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// After the trials, shrink the first failing runbook by replay.
    #[arg(long)]
    pub shrink: bool,
    /// Time budget of the shrink (e.g. 30m).
    #[arg(long, default_value = "30m")]
    pub shrink_budget: DurationArg,
    /// Replays per shrink candidate: it is kept if it fails at least once in this many.
    #[arg(long, default_value_t = 3)]
    pub replays: u32,
    /// Phase lengths and rate written into every runbook.
    #[command(flatten)]
    pub overrides: PhaseOverrides,
}

/// Runs a runbook file the way `zkchaos run <file>` does.
pub struct RunLifecycle;

/// Run directories under `<results>/<group>` (to find the one a failed run left).
fn run_dirs(results: &Path, group: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(results.join(group)).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect()).unwrap_or_default();
    v.sort();
    v
}

impl TrialRunner for RunLifecycle {
    async fn run(&mut self, runbook: &Path, results: &Path, seeds: HuntSeeds) -> TrialRun {
        let loaded = match crate::profile::load(runbook) {
            Ok(l) => l,
            Err(e) => return TrialRun { error: Some(e.to_string()), ..Default::default() },
        };
        let group = loaded.plan.name.clone();
        let before = run_dirs(results, &group);
        let opts = RunOptions { results: results.to_path_buf(), keep: false, progress: ProgressMode::Quiet, hunt: Some(seeds) };
        let result = run_profile(loaded, &opts).await;
        let dir = match &result {
            Ok(o) => Some(o.dir.clone()),
            Err(_) => run_dirs(results, &group).into_iter().find(|d| !before.contains(d)),
        };
        let bound = dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join(crate::record::load::MARKS_FILE)).ok())
            .and_then(|t| serde_json::from_str::<Vec<crate::record::Mark>>(&t).ok())
            .map(|m| crate::hunt::shrink::bound_names(&m))
            .unwrap_or_default();
        match result {
            Ok(o) => TrialRun {
                verdicts: o.summary.as_ref().map(crate::hunt::tally::verdicts_of).unwrap_or_default(),
                run_dir: dir,
                error: o.summary.is_none().then(|| "the run left no summary".to_string()),
                interrupted: false,
                bound,
            },
            Err(e) => TrialRun { run_dir: dir, error: Some(e.chain_message()), interrupted: matches!(e, Error::Interrupted(_)), bound, ..Default::default() },
        }
    }
}

fn config(args: &HuntArgs) -> Result<HuntConfig> {
    if args.trials == 0 {
        return Err(Error::bad_input("`--trials 0`: a hunt needs at least one trial; e.g. --trials 10"));
    }
    if args.replays == 0 {
        return Err(Error::bad_input("`--replays 0`: a shrink candidate needs at least one replay; e.g. --replays 3"));
    }
    Ok(HuntConfig {
        source: args.profile.clone(),
        trials: args.trials,
        until_fail: args.until_fail,
        seed: args.seed.unwrap_or_else(|| rand::random::<u64>() >> 1),
        images: args.images.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        out: args.out.clone(),
        dry_run: args.dry_run,
        overrides: BaseOverrides { warmup_s: args.overrides.warmup.map(DurationArg::secs_f64), post_s: args.overrides.post.map(DurationArg::secs_f64), rate: args.overrides.rate },
        shrink: args.shrink,
        shrink_budget: args.shrink_budget.0,
        replays: args.replays,
    })
}

/// `zkchaos hunt`: exit 0 when no trial failed, 3 when one did, 130 when interrupted.
pub async fn hunt(args: HuntArgs) -> Result<()> {
    let cfg = config(&args)?;
    let loaded = runner::load(&cfg.source)?;
    let images = if cfg.images.is_empty() { vec![loaded.default_image.clone()] } else { cfg.images.clone() };
    // Every runbook must be a valid profile before anything runs (the first trial's checks the base).
    let (first, _) = runner::trial_runbook(&loaded, &cfg, 1, &images[0]);
    crate::profile::parse(&first, &format!("{} (trial 1's runbook)", cfg.source.display()))?;
    let mut hunt = Hunt::create(&cfg, &loaded, &images)?;
    eprintln!("zkchaos: hunt seed {} → {}", cfg.seed, hunt.dir.display());
    let mut lifecycle = RunLifecycle;
    let interrupted = runner::run_trials(&mut hunt, &loaded, &cfg, &mut lifecycle).await?;
    if interrupted {
        return Err(Error::interrupted(format!("hunt interrupted; partial results in {}", hunt.dir.join("hunt.json").display())));
    }
    let first_fail = hunt.report.trials.iter().find(|t| t.failed()).cloned();
    if let (true, Some(t)) = (cfg.shrink, &first_fail) {
        let bound = t.run_dir.as_ref().map(|d| marks_bound(Path::new(d))).unwrap_or_default();
        let seeds = HuntSeeds { source: hunt.report.source.clone(), hunt_seed: cfg.seed, trial: t.trial, trial_seed: t.trial_seed, load_seed: t.load_seed, runbook: t.runbook.clone() };
        let input = ShrinkInput { runbook: &hunt.dir.join(&t.runbook), runbook_rel: t.runbook.clone(), image: t.image.clone(), bound, replays: cfg.replays, budget: cfg.shrink_budget, seeds };
        let res = shrinker::shrink_failing(&mut hunt, input, &mut lifecycle).await?;
        eprintln!("hunt: shrink: {} steps → {} steps ({}): {}", res.original_steps, res.smallest_steps, res.stopped, hunt.dir.join(&res.smallest).display());
    }
    for r in &hunt.report.rates {
        println!("{}: {}", r.image, r.any.show());
    }
    println!("hunt: {}", hunt.dir.display());
    match first_fail {
        Some(_) => Err(Error::check_failed(format!("a safety check failed in a hunt trial; see {}", hunt.dir.join("hunt.md").display()))),
        None => Ok(()),
    }
}

fn marks_bound(run_dir: &Path) -> std::collections::BTreeMap<String, u32> {
    std::fs::read_to_string(run_dir.join(crate::record::load::MARKS_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<Vec<crate::record::Mark>>(&t).ok())
        .map(|m| crate::hunt::shrink::bound_names(&m))
        .unwrap_or_default()
}
