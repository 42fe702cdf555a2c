//! What a sweep produces, and its files: `points.csv` (one row per measured step),
//! `capacity.csv` (one row per point), `summary.json` (schema `schema/sweep-summary.schema.json`).
//!
//! Rows are flat serde structs, so each CSV is written and read back by the same definition.
//! [`PointResult::capacity`] reduces the repetitions of a point to its answer: the median of the
//! stable repetitions' rates, their spread, and whether every repetition confirmed.

use super::search::Outcome;
use super::step::{StepFigures, Verdict};
use super::sweep::{CpuBudget, Objective, Point, State, SweepFile};
use super::usl::UslFit;
use crate::record::{write_atomic, OpKind, RecordError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of `summary.json`'s layout.
pub const SCHEMA_VERSION: u32 = 1;

/// One row of `points.csv`: one measured step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRow {
    pub image: String,
    pub size: u32,
    pub state: State,
    pub read_pct: u32,
    pub value_size: u32,
    pub sessions: u32,
    pub rep: u32,
    pub step: u32,
    /// `open` or `closed`.
    pub mode: String,
    /// ramp, bisect, confirm, recheck, or closed.
    pub purpose: String,
    /// Offered rate (open loop), ops/s; empty for closed loop.
    pub offered_ops: Option<u32>,
    /// Requests in flight (closed loop); empty for open loop.
    pub in_flight: Option<u32>,
    pub issued_ops: f64,
    pub achieved_ops: f64,
    pub error_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub get_p99_ms: Option<f64>,
    pub set_p99_ms: Option<f64>,
    pub lag_p99_ms: f64,
    pub driver_cpu_cores: f64,
    pub verdict: Verdict,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl StepRow {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        point: &Point,
        rep: u32,
        step: u32,
        purpose: &str,
        offered_ops: Option<u32>,
        in_flight: Option<u32>,
        f: &StepFigures,
        verdict: Verdict,
    ) -> StepRow {
        StepRow {
            image: point.image.clone(),
            size: point.size,
            state: point.state,
            read_pct: point.read_pct,
            value_size: point.value_size,
            sessions: point.sessions,
            rep,
            step,
            mode: if in_flight.is_some() { "closed" } else { "open" }.into(),
            purpose: purpose.into(),
            offered_ops,
            in_flight,
            issued_ops: f.issued_rate,
            achieved_ops: f.ok_rate,
            error_rate: f.error_rate,
            p50_ms: ms(f.all.p50_us),
            p99_ms: ms(f.all.p99_us),
            p999_ms: ms(f.all.p999_us),
            get_p99_ms: f.per_kind.get(&OpKind::Get).map(|q| ms(q.p99_us)),
            set_p99_ms: f.per_kind.get(&OpKind::Set).map(|q| ms(q.p99_us)),
            lag_p99_ms: ms(f.lag_p99_us),
            driver_cpu_cores: f.driver_cpu_cores,
            verdict,
        }
    }

    pub fn is_point(&self, p: &Point) -> bool {
        self.image == p.image
            && self.size == p.size
            && self.state == p.state
            && self.read_pct == p.read_pct
            && self.value_size == p.value_size
            && self.sessions == p.sessions
    }
}

/// One repetition of a point's search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepResult {
    pub rep: u32,
    pub outcome: Outcome,
    /// A step the search counted as failed was driver-limited: the number (if any) may be the
    /// driver's limit, not ZooKeeper's.
    pub driver_limited: bool,
    /// Closed-loop throughput at the largest concurrency level, ops/s.
    pub saturation_ops: Option<f64>,
    /// Why the repetition did not complete (harness error), if it did not.
    #[serde(default)]
    pub error: Option<String>,
}

/// Everything measured for one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    pub point: Point,
    pub reps: Vec<RepResult>,
    /// USL fit of closed-loop throughput against concurrency (steady points only).
    pub usl: Option<UslFit>,
}

/// One row of `capacity.csv`: the answer for one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityRow {
    pub image: String,
    pub size: u32,
    pub state: State,
    pub read_pct: u32,
    pub value_size: u32,
    pub sessions: u32,
    /// Median over stable repetitions, ops/s; empty when no repetition gave a number.
    pub max_sustainable_ops: Option<f64>,
    /// Every repetition found a rate and confirmed it.
    pub confirmed: bool,
    /// `found`, `at-least` (the ramp's ceiling passed), `none` (even the floor failed), `unstable`.
    pub result: String,
    pub reps: u32,
    pub reps_stable: u32,
    pub min_ops: Option<f64>,
    pub max_ops: Option<f64>,
    /// (max − min) / median, %.
    pub spread_pct: Option<f64>,
    pub saturation_ops: Option<f64>,
    pub driver_limited: bool,
    pub note: String,
}

/// Median of finite values.
pub fn median(v: &[f64]) -> Option<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 })
}

impl PointResult {
    pub fn capacity(&self) -> CapacityRow {
        let p = &self.point;
        let rates: Vec<f64> = self.reps.iter().filter_map(|r| r.outcome.rate()).map(f64::from).collect();
        let med = median(&rates);
        let min = rates.iter().copied().reduce(f64::min);
        let max = rates.iter().copied().reduce(f64::max);
        let all_confirmed = !self.reps.is_empty() && self.reps.iter().all(|r| r.outcome.confirmed());
        let kinds: Vec<&str> = self
            .reps
            .iter()
            .map(|r| match (&r.outcome, &r.error) {
                (_, Some(_)) => "error",
                (Outcome::Found { .. }, _) => "found",
                (Outcome::AtLeast { .. }, _) => "at-least",
                (Outcome::NoneSustainable { .. }, _) => "none",
                (Outcome::Unstable { .. }, _) => "unstable",
            })
            .collect();
        let result =
            if kinds.iter().all(|k| *k == kinds[0]) { kinds.first().copied().unwrap_or("none") } else { "mixed" };
        let mut notes: Vec<String> = Vec::new();
        for r in &self.reps {
            if let Outcome::Unstable { reason } = &r.outcome {
                notes.push(format!("rep {}: {reason}", r.rep));
            }
            if let Some(e) = &r.error {
                notes.push(format!("rep {}: {e}", r.rep));
            }
        }
        CapacityRow {
            image: p.image.clone(),
            size: p.size,
            state: p.state,
            read_pct: p.read_pct,
            value_size: p.value_size,
            sessions: p.sessions,
            // A point with an unstable repetition gets no number: the rule.
            max_sustainable_ops: if rates.len() == self.reps.len() { med } else { None },
            confirmed: all_confirmed,
            result: result.into(),
            reps: self.reps.len() as u32,
            reps_stable: rates.len() as u32,
            min_ops: min,
            max_ops: max,
            spread_pct: match (min, max, med) {
                (Some(a), Some(b), Some(m)) if m > 0.0 => Some((b - a) / m * 100.0),
                _ => None,
            },
            saturation_ops: median(&self.reps.iter().filter_map(|r| r.saturation_ops).collect::<Vec<_>>()),
            driver_limited: self.reps.iter().any(|r| r.driver_limited),
            note: notes.join("; "),
        }
    }
}

/// The machine a sweep was measured on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub hostname: Option<String>,
    pub cores: u32,
    pub memory_bytes: Option<u64>,
    pub os: String,
    pub arch: String,
    /// 1/5/15-minute load averages at the start and the end of the sweep.
    pub load_average_start: Option<[f64; 3]>,
    pub load_average_end: Option<[f64; 3]>,
    pub docker_version: Option<String>,
    pub zkchaos_version: String,
    pub git_commit: Option<String>,
    /// Image → ZooKeeper version (from the image's label).
    pub zookeeper_versions: Vec<(String, Option<String>)>,
}

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    pub schema_version: u32,
    pub name: String,
    pub description: String,
    pub started_at: String,
    pub wall_s: f64,
    /// Stopped early (Ctrl-C or an error); the points measured so far are in.
    pub complete: bool,
    pub error: Option<String>,
    pub objective: Objective,
    pub cpu_budget: CpuBudget,
    pub machine: Machine,
    pub sweep: SweepFile,
    pub skipped: Vec<String>,
    pub capacity: Vec<CapacityRow>,
    pub points: Vec<PointResult>,
}

/// Write `points.csv`.
pub fn write_points_csv(path: &Path, rows: &[StepRow]) -> Result<(), RecordError> {
    write_csv(path, rows)
}

/// Write `capacity.csv`.
pub fn write_capacity_csv(path: &Path, rows: &[CapacityRow]) -> Result<(), RecordError> {
    write_csv(path, rows)
}

fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), RecordError> {
    let mut w = csv::WriterBuilder::new().has_headers(true).from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| RecordError::Write { path: path.to_owned(), source: std::io::Error::other(e) })?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| RecordError::Write { path: path.to_owned(), source: std::io::Error::other(e.to_string()) })?;
    write_atomic(path, &bytes)
}

pub fn write_summary(path: &Path, s: &SweepSummary) -> Result<(), RecordError> {
    let text = serde_json::to_string_pretty(s)
        .map_err(|e| RecordError::Write { path: path.to_owned(), source: std::io::Error::other(e) })?;
    write_atomic(path, text.as_bytes())
}

fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, RecordError> {
    let mut r = csv::Reader::from_path(path)
        .map_err(|e| RecordError::Open { path: path.to_owned(), source: std::io::Error::other(e) })?;
    r.deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(|e| RecordError::Open { path: path.to_owned(), source: std::io::Error::other(e) })
}

pub fn read_points_csv(path: &Path) -> Result<Vec<StepRow>, RecordError> {
    read_csv(path)
}

pub fn read_capacity_csv(path: &Path) -> Result<Vec<CapacityRow>, RecordError> {
    read_csv(path)
}

pub fn read_summary(path: &Path) -> Result<SweepSummary, RecordError> {
    let text = std::fs::read_to_string(path).map_err(|source| RecordError::Open { path: path.to_owned(), source })?;
    serde_json::from_str(&text)
        .map_err(|e| RecordError::Open { path: path.to_owned(), source: std::io::Error::other(e) })
}
