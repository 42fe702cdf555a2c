//! The shrink loop: replay reductions of a failing runbook (see [`super::shrink`]) until none
//! fails or the budget is spent, and keep the smallest that failed at least once in k replays.
//! Every candidate is written under `shrink/` so each step of the path can be replayed.

use super::interval::Rate;
use super::runner::{Hunt, TrialRunner};
use super::shrink::{self, Candidate};
use super::tally::ShrinkResult;
use crate::record::HuntSeeds;
use crate::Result;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};
use toml::{Table, Value};

/// What to shrink: the failing runbook, the image it failed on, the names its run bound.
pub struct ShrinkInput<'a> {
    pub runbook: &'a Path,
    /// Relative name for the report.
    pub runbook_rel: String,
    pub image: String,
    pub bound: BTreeMap<String, u32>,
    pub replays: u32,
    pub budget: Duration,
    /// The failing trial's seeds; each candidate's run records them with its own runbook.
    pub seeds: HuntSeeds,
}

/// The runbook text of `profile` with `steps` as its procedure, under a header.
pub fn with_steps(profile: &Table, steps: &[Table], header: &str) -> String {
    let mut t = profile.clone();
    if let Some(Value::Table(p)) = t.get_mut("procedure") {
        p.insert("steps".into(), Value::Array(steps.iter().cloned().map(Value::Table).collect()));
    }
    let mut head: String = header.lines().map(|l| format!("# {l}\n")).collect();
    head.push('\n');
    head + &toml::to_string(&t).unwrap_or_default()
}

/// Outcome of replaying one candidate.
enum Replayed {
    Failed { runs: u32, bound: BTreeMap<String, u32> },
    Held { runs: u32 },
    Stopped { runs: u32, why: &'static str },
}

async fn replay<R: TrialRunner>(runner: &mut R, (path, seeds): (&Path, &HuntSeeds), results: &Path, k: u32, deadline: Instant) -> Replayed {
    for r in 0..k {
        if Instant::now() >= deadline {
            return Replayed::Stopped { runs: r, why: "budget spent" };
        }
        let run = runner.run(path, results, seeds.clone()).await;
        if run.interrupted {
            return Replayed::Stopped { runs: r + 1, why: "interrupted" };
        }
        if run.failed() {
            return Replayed::Failed { runs: r + 1, bound: run.bound };
        }
    }
    Replayed::Held { runs: k }
}

/// Shrink `input` greedily; the result is also stored in the hunt's report (and saved).
pub async fn shrink_failing<R: TrialRunner>(hunt: &mut Hunt, input: ShrinkInput<'_>, runner: &mut R) -> Result<ShrinkResult> {
    let text = std::fs::read_to_string(input.runbook).map_err(|e| crate::Error::failed(format!("reading runbook {}: {e}", input.runbook.display())))?;
    let profile: Table = toml::from_str(&text).map_err(|e| crate::Error::bad_input(format!("{}: {}", input.runbook.display(), e.message())))?;
    let mut steps = shrink::steps_of(&profile);
    let mut bound = input.bound.clone();
    let started = Instant::now();
    let deadline = started + input.budget;
    let mut res = ShrinkResult {
        original: input.runbook_rel.clone(),
        image: input.image.clone(),
        original_steps: steps.len(),
        smallest: input.runbook_rel.clone(),
        smallest_steps: steps.len(),
        replays_per_candidate: input.replays,
        budget_s: input.budget.as_secs_f64(),
        ..Default::default()
    };
    let mut tried: BTreeSet<String> = BTreeSet::new();
    let results = hunt.dir.join("shrink").join("runs");
    'outer: loop {
        let mut accepted = false;
        for Candidate { steps: cand, change } in shrink::candidates(&steps, &bound) {
            if !tried.insert(format!("{cand:?}")) {
                continue;
            }
            let n = res.candidates_tried + 1;
            let header = format!("zkchaos hunt shrink: candidate {n} from {}\nchange: {change}\nReplay with `zkchaos run <this file>` (same schedule, not the same outcome).", input.runbook_rel);
            let text = with_steps(&profile, &cand, &header);
            if crate::profile::parse(&text, "candidate").is_err() {
                continue; // not a valid runbook (e.g. a name no longer bound): costs no run
            }
            res.candidates_tried = n;
            let rel = format!("shrink/candidate-{n:03}.toml");
            let path = hunt.write_file(&rel, &text)?;
            eprintln!("hunt: shrink candidate {n} ({} steps): {change}", cand.len());
            let seeds = HuntSeeds { runbook: rel.clone(), ..input.seeds.clone() };
            match replay(runner, (&path, &seeds), &results, input.replays, deadline).await {
                Replayed::Failed { runs, bound: b } => {
                    res.runs += runs;
                    eprintln!("hunt: shrink candidate {n} failed in replay {runs} of {}: kept", input.replays);
                    steps = cand;
                    bound.extend(b);
                    res.path.push(format!("{change} (failed in replay {runs} of {})", input.replays));
                    res.smallest = rel;
                    res.smallest_steps = steps.len();
                    res.smallest_rate = Some(Rate::of(1, u64::from(runs)));
                    accepted = true;
                }
                Replayed::Held { runs } => res.runs += runs,
                Replayed::Stopped { runs, why } => {
                    res.runs += runs;
                    res.stopped = why.into();
                    break 'outer;
                }
            }
            res.spent_s = started.elapsed().as_secs_f64();
            hunt.report.shrink = Some(res.clone());
            hunt.save()?;
            if accepted {
                break;
            }
        }
        if !accepted {
            res.stopped = "no smaller candidate fails".into();
            break;
        }
    }
    res.spent_s = started.elapsed().as_secs_f64();
    hunt.report.shrink = Some(res.clone());
    hunt.save()?;
    Ok(res)
}
