//! What a hunt found: one record per trial (taken from the run's own `summary.json` verdicts),
//! and the rates per image and per verdict with exact intervals. Pure: the runner fills it,
//! [`super::report`] writes it.
//!
//! A trial FAILs when any safety check of its run FAILed (data loss/read-back and divergence,
//! single leader, ZooKeeper's digest, ephemerals); otherwise it is UNKNOWN (never a pass) when a
//! check whose UNKNOWN blocks (`check::safety`) was UNKNOWN, and PASSes. A run that did not finish (harness error) is an ERROR. Rates count
//! only decided trials (FAIL + PASS); UNKNOWN and ERROR trials are listed beside them.

use super::interval::Rate;
use crate::check::Verdict;
use crate::report::summary::Summary;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The safety verdicts a trial is judged by, as `summary.json` names them.
pub fn verdicts_of(s: &Summary) -> BTreeMap<String, Verdict> {
    s.checks.safety_verdicts().into_iter().map(|(name, v)| (name.to_string(), v)).collect()
}

/// One trial on one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// 1-based trial number (the schedule); the same for every image it ran on.
    pub trial: u32,
    pub image: String,
    pub trial_seed: u64,
    pub load_seed: u64,
    /// The runbook file (relative to the hunt directory).
    pub runbook: String,
    pub schedule: Vec<String>,
    /// "FAIL", "PASS", "UNKNOWN" or "ERROR".
    pub outcome: String,
    /// Verdict per safety check ("PASS"/"FAIL"/"UNKNOWN"); empty for an ERROR.
    pub verdicts: BTreeMap<String, String>,
    /// The run's results directory (absent when it was never created).
    pub run_dir: Option<String>,
    /// Why the run did not finish (ERROR), or notes.
    pub error: Option<String>,
    /// Seconds from the hunt's start to this trial's end.
    pub ended_s: f64,
    pub duration_s: f64,
}

impl TrialRecord {
    pub fn failed(&self) -> bool {
        self.outcome == "FAIL"
    }
}

/// The outcome from the verdicts, as the run's own verdict is formed (`check::safety`): FAIL
/// beats UNKNOWN beats PASS, and an UNKNOWN that does not block (the digest's) counts as PASS.
pub fn outcome(verdicts: &BTreeMap<String, Verdict>) -> &'static str {
    crate::check::safety::run_verdict(verdicts.iter().map(|(name, v)| (name.as_str(), *v))).as_str()
}

/// Rates of one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRates {
    pub image: String,
    /// Any safety check FAILed, over trials decided (FAIL or PASS).
    pub any: Rate,
    /// Per check: FAIL over trials where that check decided.
    pub by_verdict: BTreeMap<String, Rate>,
    pub unknown: u64,
    pub errors: u64,
    /// Trial number and seconds from the hunt's start to the end of the first failing trial.
    pub first_failure: Option<FirstFailure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FirstFailure {
    pub trial: u32,
    pub after_s: f64,
}

/// Rates per image, in the order the images were given.
pub fn rates(images: &[String], trials: &[TrialRecord]) -> Vec<ImageRates> {
    images
        .iter()
        .map(|image| {
            let mine: Vec<&TrialRecord> = trials.iter().filter(|t| &t.image == image).collect();
            let count = |o: &str| mine.iter().filter(|t| t.outcome == o).count() as u64;
            let (fail, pass) = (count("FAIL"), count("PASS"));
            let mut by_verdict = BTreeMap::new();
            let names: std::collections::BTreeSet<&String> = mine.iter().flat_map(|t| t.verdicts.keys()).collect();
            for name in names {
                let f = mine.iter().filter(|t| t.verdicts.get(name).map(String::as_str) == Some("FAIL")).count() as u64;
                let p = mine.iter().filter(|t| t.verdicts.get(name).map(String::as_str) == Some("PASS")).count() as u64;
                by_verdict.insert(name.clone(), Rate::of(f, f + p));
            }
            let first_failure = mine.iter().find(|t| t.failed()).map(|t| FirstFailure { trial: t.trial, after_s: t.ended_s });
            ImageRates { image: image.clone(), any: Rate::of(fail, fail + pass), by_verdict, unknown: count("UNKNOWN"), errors: count("ERROR"), first_failure }
        })
        .collect()
}

/// The result of shrinking one failing runbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ShrinkResult {
    pub original: String,
    pub image: String,
    pub original_steps: usize,
    /// The smallest runbook that still failed (relative path), and its step count.
    pub smallest: String,
    pub smallest_steps: usize,
    /// Failures / replays of the smallest runbook (replays stop at the first failure, so this
    /// over-states the rate; run it with `hunt --trials N` to measure it).
    pub smallest_rate: Option<Rate>,
    /// Each accepted reduction, in order.
    pub path: Vec<String>,
    pub replays_per_candidate: u32,
    pub candidates_tried: u32,
    pub runs: u32,
    pub budget_s: f64,
    pub spent_s: f64,
    /// Why it stopped: "no smaller candidate fails", "budget spent", "interrupted".
    pub stopped: String,
}

/// `hunt.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HuntReport {
    pub schema_version: u32,
    pub source: String,
    /// "fault-space" (schedules drawn) or "runbook" (one schedule replayed).
    pub mode: String,
    pub hunt_seed: u64,
    pub images: Vec<String>,
    pub trials_planned: Option<u32>,
    pub until_fail: bool,
    pub started_at: String,
    /// "running", "complete", "interrupted", "error: ...", "dry-run".
    pub status: String,
    pub elapsed_s: f64,
    /// Host load averages (1, 5, 15 min) at the start and at the last write.
    pub load_at_start: Option<[f64; 3]>,
    pub load_now: Option<[f64; 3]>,
    pub cores: u32,
    pub rates: Vec<ImageRates>,
    pub trials: Vec<TrialRecord>,
    pub shrink: Option<ShrinkResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(trial: u32, image: &str, outcome: &str, dl: &str) -> TrialRecord {
        let mut verdicts = BTreeMap::new();
        if outcome != "ERROR" {
            verdicts.insert("data_loss".to_string(), dl.to_string());
            verdicts.insert("single_leader".to_string(), "PASS".to_string());
        }
        TrialRecord {
            trial,
            image: image.into(),
            trial_seed: 1,
            load_seed: 2,
            runbook: format!("schedules/trial-{trial:03}.toml"),
            schedule: vec![],
            outcome: outcome.into(),
            verdicts,
            run_dir: None,
            error: None,
            ended_s: f64::from(trial) * 60.0,
            duration_s: 60.0,
        }
    }

    #[test]
    fn rates_count_decided_trials_and_list_unknown_and_errors_beside() {
        let t = vec![
            rec(1, "a", "PASS", "PASS"),
            rec(1, "b", "FAIL", "FAIL"),
            rec(2, "a", "UNKNOWN", "UNKNOWN"),
            rec(2, "b", "ERROR", ""),
            rec(3, "a", "FAIL", "FAIL"),
            rec(3, "b", "PASS", "PASS"),
        ];
        let r = rates(&["a".into(), "b".into()], &t);
        assert_eq!((r[0].any.failures, r[0].any.trials, r[0].unknown, r[0].errors), (1, 2, 1, 0));
        assert_eq!(r[0].first_failure, Some(FirstFailure { trial: 3, after_s: 180.0 }));
        assert_eq!(r[0].by_verdict["data_loss"].trials, 2);
        // The UNKNOWN trial (its data_loss undecided) still decided single_leader.
        assert_eq!(r[0].by_verdict["single_leader"].trials, 3);
        assert_eq!((r[1].any.failures, r[1].any.trials, r[1].errors), (1, 2, 1));
        assert_eq!(r[1].first_failure.map(|f| f.trial), Some(1));
    }

    #[test]
    fn outcome_is_the_worst_verdict() {
        let mut v = BTreeMap::new();
        v.insert("a".to_string(), Verdict::Pass);
        assert_eq!(outcome(&v), "PASS");
        v.insert("b".to_string(), Verdict::Unknown);
        assert_eq!(outcome(&v), "UNKNOWN");
        v.insert("c".to_string(), Verdict::Fail);
        assert_eq!(outcome(&v), "FAIL");
    }
}
