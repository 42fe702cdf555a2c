//! The hunt loop: draw (or take) a schedule, write it as a runbook, run it on each image
//! (interleaved: the image order rotates with the trial), record the verdicts, rewrite
//! `hunt.json` after every trial (so Ctrl-C leaves a readable partial one), then shrink the first
//! failure when asked.
//!
//! Running a runbook is the caller's: a [`TrialRunner`] runs one runbook file exactly as
//! `zkchaos run` does (the command layer passes the run lifecycle itself), and tests pass a fake.

use super::draw::{self, Schedule};
use super::render::{self, BaseOverrides, Provenance};
use super::space::{self, FaultSpace};
use super::tally::{self, HuntReport, TrialRecord};
use crate::check::Verdict;
use crate::record::HuntSeeds;
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use toml::{Table, Value};

/// What one run of a runbook left.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrialRun {
    /// Safety verdicts from the run's summary; empty when the run did not finish.
    pub verdicts: BTreeMap<String, Verdict>,
    pub run_dir: Option<PathBuf>,
    /// The run's error (harness error, not a verdict).
    pub error: Option<String>,
    /// Ctrl-C or SIGTERM: the hunt stops.
    pub interrupted: bool,
    /// Names bound by `find` steps in this run (name → id), from its marks.
    pub bound: BTreeMap<String, u32>,
}

impl TrialRun {
    pub fn failed(&self) -> bool {
        self.verdicts.values().any(|v| *v == Verdict::Fail)
    }
}

/// Runs one runbook file as `zkchaos run` would, its results under `results`, with `seeds` (where
/// the runbook came from) written into the run's `meta.json` as the run writes it.
#[allow(async_fn_in_trait)]
pub trait TrialRunner {
    async fn run(&mut self, runbook: &Path, results: &Path, seeds: HuntSeeds) -> TrialRun;
}

/// Everything the command line decides.
#[derive(Debug, Clone)]
pub struct HuntConfig {
    pub source: PathBuf,
    pub trials: u32,
    pub until_fail: bool,
    pub seed: u64,
    /// Empty: the profile's image.
    pub images: Vec<String>,
    pub out: PathBuf,
    pub dry_run: bool,
    pub overrides: BaseOverrides,
    pub shrink: bool,
    pub shrink_budget: Duration,
    pub replays: u32,
}

/// A loaded hunt profile: the base, the space (None: a runbook replayed as is), size and name.
pub struct Loaded {
    pub base: Table,
    pub space: Option<FaultSpace>,
    pub size: u32,
    pub name: String,
    pub default_image: String,
}

/// Read and check a hunt profile (or a runbook): the base must be a valid profile.
pub fn load(path: &Path) -> Result<Loaded> {
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::bad_input(format!("reading hunt profile {source}: {e}")))?;
    let (base, space) = space::split_profile(&text, &source).map_err(|e| Error::bad_input(format!("{source}: {e}")))?;
    let mut probe = base.clone();
    if space.is_some() {
        let mut p = match probe.remove("procedure") {
            Some(Value::Table(p)) => p,
            _ => Table::new(),
        };
        p.insert("kind".into(), Value::String("steps".into()));
        p.insert("steps".into(), toml::from_str::<Table>("[[s]]\naction = \"sleep\"\nduration_ms = 1\n").unwrap_or_default()["s"].clone());
        probe.insert("procedure".into(), Value::Table(p));
    }
    let plan = crate::profile::parse(&toml::to_string(&probe).unwrap_or_default(), &source)?;
    if let Some(space) = &space {
        space::check_cluster(space, plan.cluster.size, plan.cluster.dynamic_config).map_err(|e| Error::bad_input(format!("{source}: {e}")))?;
    }
    let name = base.get("name").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| plan.name.clone());
    Ok(Loaded { base, space, size: plan.cluster.size, name, default_image: plan.cluster.image.clone() })
}

/// `zkchaos/zookeeper:3.9.3` → `zookeeper-3.9.3` (for file names).
pub fn image_tag(image: &str) -> String {
    image.rsplit('/').next().unwrap_or(image).replace([':', '/'], "-")
}

/// The runbook of trial `trial` (1-based) on `image`: its text and its schedule.
pub fn trial_runbook(l: &Loaded, cfg: &HuntConfig, trial: u32, image: &str) -> (String, Schedule) {
    let schedule = match &l.space {
        Some(space) => draw::draw(space, l.size, cfg.seed, trial - 1),
        None => {
            let s = draw::trial_seed(cfg.seed, trial - 1);
            Schedule { trial_seed: s, load_seed: s >> 1, faults: vec![] }
        }
    };
    let name = format!("{}-t{trial:03}", l.name);
    let base = render::prepare_base(&l.base, &name, schedule.load_seed, image, &cfg.overrides);
    let steps = match &l.space {
        Some(_) => render::steps(&schedule, l.size),
        None => super::shrink::steps_of(&base),
    };
    let described: Vec<String> = match &l.space {
        Some(_) => schedule.faults.iter().map(draw::DrawnFault::describe).collect(),
        None => steps.iter().map(super::shrink::describe).collect(),
    };
    let p = Provenance {
        source: cfg.source.display().to_string(),
        hunt_seed: cfg.seed,
        trial,
        trial_seed: schedule.trial_seed,
        load_seed: schedule.load_seed,
        image: image.to_string(),
        schedule: described,
    };
    if l.space.is_none() && base.get("procedure").and_then(|p| p.get("kind")).and_then(Value::as_str) != Some("steps") {
        // A built-in procedure kind: replayed as written (only name, seed and image changed).
        let text = format!("# zkchaos hunt: trial {trial} of {} (hunt seed {}, load seed {}), image {image}.\n\n", p.source, cfg.seed, schedule.load_seed);
        return (text + &toml::to_string(&base).unwrap_or_default(), schedule);
    }
    (render::runbook_text(&base, steps, &p), schedule)
}

/// Host load averages from /proc/loadavg.
pub fn host_load() -> Option<[f64; 3]> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    let v: Vec<f64> = s.split_whitespace().take(3).filter_map(|x| x.parse().ok()).collect();
    (v.len() == 3).then(|| [v[0], v[1], v[2]])
}

/// A hunt in progress: its directory and report.
pub struct Hunt {
    pub dir: PathBuf,
    pub report: HuntReport,
    pub started: Instant,
}

impl Hunt {
    pub fn create(cfg: &HuntConfig, l: &Loaded, images: &[String]) -> Result<Hunt> {
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        let dir = cfg.out.join("hunt").join(&l.name).join(format!("{stamp}-seed{}", cfg.seed));
        std::fs::create_dir_all(dir.join("schedules")).map_err(|e| Error::environment(format!("creating hunt directory {}: {e}", dir.display())))?;
        let report = HuntReport {
            schema_version: 1,
            source: cfg.source.display().to_string(),
            mode: if l.space.is_some() { "fault-space" } else { "runbook" }.into(),
            hunt_seed: cfg.seed,
            images: images.to_vec(),
            trials_planned: Some(cfg.trials),
            until_fail: cfg.until_fail,
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            status: if cfg.dry_run { "dry-run" } else { "running" }.into(),
            elapsed_s: 0.0,
            load_at_start: host_load(),
            load_now: host_load(),
            cores: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1),
            rates: vec![],
            trials: vec![],
            shrink: None,
        };
        Ok(Hunt { dir, report, started: Instant::now() })
    }

    /// Rewrite hunt.json, hunt.md and hunt.html (atomically: a reader never sees half a file).
    pub fn save(&mut self) -> Result<()> {
        self.report.elapsed_s = self.started.elapsed().as_secs_f64();
        self.report.load_now = host_load();
        self.report.rates = tally::rates(&self.report.images, &self.report.trials);
        let json = serde_json::to_string_pretty(&self.report).map_err(|e| Error::failed(format!("encoding hunt.json: {e}")))?;
        let write = |name: &str, text: &str| {
            crate::record::write_atomic(&self.dir.join(name), text.as_bytes()).map_err(|e| Error::failed(format!("writing {}: {e}", self.dir.join(name).display())))
        };
        write("hunt.json", &json)?;
        write("hunt.md", &super::report::markdown(&self.report))?;
        write("hunt.html", &super::report::html(&self.report, &self.dir))?;
        Ok(())
    }

    pub fn write_file(&self, rel: &str, text: &str) -> Result<PathBuf> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::failed(format!("creating {}: {e}", parent.display())))?;
        }
        std::fs::write(&path, text).map_err(|e| Error::failed(format!("writing runbook {}: {e}", path.display())))?;
        Ok(path)
    }
}

/// Build the trial record of one run.
/// `times`: seconds from the hunt's start to the trial's end, and the trial's own length.
pub fn record_of(run: &TrialRun, (trial, image): (u32, &str), schedule: &Schedule, (runbook, described): (&str, Vec<String>), (ended_s, duration_s): (f64, f64)) -> TrialRecord {
    let outcome = if run.verdicts.is_empty() { "ERROR" } else { tally::outcome(&run.verdicts) };
    TrialRecord {
        trial,
        image: image.to_string(),
        trial_seed: schedule.trial_seed,
        load_seed: schedule.load_seed,
        runbook: runbook.to_string(),
        schedule: described,
        outcome: outcome.to_string(),
        verdicts: run.verdicts.iter().map(|(k, v)| (k.clone(), v.as_str().to_string())).collect(),
        run_dir: run.run_dir.as_ref().map(|d| d.display().to_string()),
        error: run.error.clone(),
        ended_s,
        duration_s,
    }
}

/// The trials: every schedule on every image, hunt.json rewritten after each. Returns whether
/// the hunt was interrupted.
pub async fn run_trials<R: TrialRunner>(hunt: &mut Hunt, l: &Loaded, cfg: &HuntConfig, runner: &mut R) -> Result<bool> {
    let images = hunt.report.images.clone();
    for trial in 1..=cfg.trials {
        let mut order = images.clone();
        order.rotate_left((trial as usize - 1) % images.len().max(1));
        let mut failed_here = false;
        for image in &order {
            let (text, schedule) = trial_runbook(l, cfg, trial, image);
            let rel = if images.len() == 1 { format!("schedules/trial-{trial:03}.toml") } else { format!("schedules/trial-{trial:03}-{}.toml", image_tag(image)) };
            let path = hunt.write_file(&rel, &text)?;
            if cfg.dry_run {
                continue;
            }
            let described: Vec<String> = text.lines().filter_map(|s| s.strip_prefix("# fault ")).map(str::to_string).collect();
            eprintln!("hunt: trial {trial}/{} on {image}: running {}", cfg.trials, if described.is_empty() { rel.clone() } else { described.join("; ") });
            let t0 = Instant::now();
            let seeds = HuntSeeds { source: hunt.report.source.clone(), hunt_seed: cfg.seed, trial, trial_seed: schedule.trial_seed, load_seed: schedule.load_seed, runbook: rel.clone() };
            let run = runner.run(&path, &hunt.dir.join("runs"), seeds).await;
            let rec = record_of(&run, (trial, image), &schedule, (&rel, described), (hunt.started.elapsed().as_secs_f64(), t0.elapsed().as_secs_f64()));
            failed_here |= rec.failed();
            hunt.report.trials.push(rec.clone());
            let fails = hunt.report.trials.iter().filter(|t| t.failed()).count();
            let bad: Vec<&str> = rec.verdicts.iter().filter(|(_, v)| v.as_str() != "PASS").map(|(k, _)| k.as_str()).collect();
            eprintln!(
                "hunt: trial {trial}/{} on {image}: {}{} ({} failing of {} runs, {:.1} min){}",
                cfg.trials,
                rec.outcome,
                if bad.is_empty() { String::new() } else { format!(" {}", bad.join(",")) },
                fails,
                hunt.report.trials.len(),
                hunt.started.elapsed().as_secs_f64() / 60.0,
                rec.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
            );
            if run.interrupted {
                hunt.report.status = "interrupted".into();
                hunt.save()?;
                return Ok(true);
            }
            hunt.save()?;
        }
        if cfg.until_fail && failed_here {
            break;
        }
    }
    hunt.report.status = if cfg.dry_run { "dry-run" } else { "complete" }.into();
    hunt.save()?;
    Ok(false)
}
