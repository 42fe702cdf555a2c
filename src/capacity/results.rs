//! What a sweep produces, and its files: `points.csv` (one row per measured step),
//! `capacity.csv` (one row per point), `summary.json` (schema `schema/sweep-summary.schema.json`).
//!
//! A row is the [`Point`] it belongs to plus its own fields, flattened: each CSV is written as
//! the pair `(point, fields)` (the csv crate writes a tuple of structs as one flat record, but
//! not a `#[serde(flatten)]` struct) and read back into the row itself.
//! [`PointResult::capacity`] turns a point's [`Estimate`] into its answer row.

use super::curve::{Answer, Estimate};
use super::physics::Check;
use super::step::{StepFigures, Verdict};
use super::schedule::{EnsembleSchedule, StateOrder, TimePlan};
use super::sweep::{CpuBudget, Objective, Point, State, SweepFile};
use super::usl::UslFit;
use crate::record::{write_atomic, OpKind, RecordError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of `summary.json`'s layout (2: the measured-curve estimator, budgets, physics checks).
pub const SCHEMA_VERSION: u32 = 2;

/// One row of `points.csv`: one measured step of one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRow {
    #[serde(flatten)]
    pub point: Point,
    #[serde(flatten)]
    pub step: StepData,
}

/// A step's own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepData {
    pub rep: u32,
    /// Index of the step within the repetition (the order it was held in).
    pub step: u32,
    /// `open` or `closed`.
    pub mode: String,
    /// `closed`, `curve` (the shuffled rates) or `extension` (a further round past a bound).
    pub purpose: String,
    /// Offered rate (open loop), ops/s; empty for closed loop.
    pub offered_ops: Option<u32>,
    /// Requests in flight (closed loop); empty for open loop.
    pub in_flight: Option<u32>,
    /// Operations started per second of the window (what the driver managed to issue).
    pub issued_ops: f64,
    /// Successful completions per second of the window.
    pub achieved_ops: f64,
    pub error_rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub get_p99_ms: Option<f64>,
    pub set_p99_ms: Option<f64>,
    pub lag_p99_ms: f64,
    /// The load driver's process CPU over the step, cores.
    pub driver_cpu_cores: f64,
    pub verdict: Verdict,
    /// When the step's load started, s since the sweep started (what a step costs in wall time,
    /// and whether figures drift with the time an ensemble has been up).
    #[serde(default)]
    pub at_s: f64,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl StepRow {
    /// The row of one step: `offered` for open loop, `in_flight` for closed loop.
    pub fn new(point: &Point, rep: u32, step: u32, purpose: &str, load: (Option<u32>, Option<u32>), f: &StepFigures, verdict: Verdict) -> StepRow {
        let (offered_ops, in_flight) = load;
        StepRow {
            point: point.clone(),
            step: StepData {
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
                at_s: 0.0,
            },
        }
    }
}

/// One repetition of a point: its closed-loop reference and the order its rates were held in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepResult {
    pub rep: u32,
    /// Closed-loop ok ops/s at the largest concurrency level (the curve's range is set from it).
    pub saturation_ops: Option<f64>,
    /// Seed of the shuffled order, and the offered rates in the order they were held.
    pub order_seed: u64,
    pub order: Vec<u32>,
    /// Why the repetition did not complete (harness error), if it did not.
    #[serde(default)]
    pub error: Option<String>,
    /// The host's 1/5/15-minute load averages when the repetition of this point started.
    #[serde(default)]
    pub load_average: Option<[f64; 3]>,
}

/// Discarded load held on a shared ensemble before measuring (see [`super::schedule`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarmupRecord {
    pub rep: u32,
    pub image: String,
    pub size: u32,
    /// The state the next measured points are in.
    pub state: State,
    /// What happened before it: `fresh ensemble`, `follower 1 stopped`, ….
    pub after: String,
    /// Idle time before the load, s.
    pub settle_s: f64,
    /// Length of the discarded load, s (0 when none was asked for).
    pub seconds: f64,
    /// Closed loop: requests in flight, read share, sessions.
    pub in_flight: u32,
    pub read_pct: u32,
    pub sessions: u32,
    /// When the load started, s since the sweep started.
    pub at_s: f64,
    pub load_average: Option<[f64; 3]>,
    /// Consecutive slices of the load, with what they achieved.
    pub slices: Vec<WarmupSlice>,
    /// Why it did not run to its end (a harness error; the sweep went on), if it did not.
    #[serde(default)]
    pub error: Option<String>,
    /// Whether the servers' CPU quota was lifted for it (put back before the first measured step).
    #[serde(default)]
    pub quota_lifted: bool,
    /// Seconds it was extended past `seconds` to level off.
    #[serde(default)]
    pub extended_s: f64,
    /// Whether its last slice's ok ops/s was within `[ensemble] plateau_pct` of the one before;
    /// `None` when levelling was not asked for (or there was no load).
    #[serde(default)]
    pub levelled: Option<bool>,
}

/// One slice of a warm-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarmupSlice {
    /// Start and end within the warm-up, s.
    pub from_s: f64,
    pub to_s: f64,
    /// Successful completions per second, p99 of all issued (ms) and error rate.
    pub ok_ops: f64,
    pub p99_ms: f64,
    pub error_rate: f64,
}

/// Everything measured for one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointResult {
    pub point: Point,
    pub reps: Vec<RepResult>,
    /// The curve fitted to every repetition's open-loop steps together.
    pub estimate: Option<Estimate>,
    /// Achieved ok ops/s of the highest passing valid step at or below the answer.
    pub achieved_ops: Option<f64>,
    /// USL fit of closed-loop throughput against concurrency (steady points only).
    pub usl: Option<UslFit>,
}

/// One row of `capacity.csv`: the answer for one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityRow {
    #[serde(flatten)]
    pub point: Point,
    #[serde(flatten)]
    pub answer: CapacityAnswer,
}

/// A point's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityAnswer {
    /// `rate`, `at-least`, `at-least-driver-limited`, `below` or `no-data`.
    pub result: String,
    /// Offered ops/s: the rate met with probability ≥ `level`, or the bound.
    pub offered_ops: Option<f64>,
    /// Bootstrap interval of `offered_ops` (`rate` answers only).
    pub ci_low_ops: Option<f64>,
    pub ci_high_ops: Option<f64>,
    /// Achieved ok ops/s of the highest passing valid step at or below the answer.
    pub achieved_ops: Option<f64>,
    pub steps_fitted: u32,
    pub steps_driver_limited: u32,
    pub reps: u32,
    pub saturation_ops: Option<f64>,
    pub note: String,
}

impl CapacityAnswer {
    /// `(low, high)` of what the answer allows, for the physics checks: a rate's bootstrap
    /// interval (or the rate), `[x, ∞)` for `≥ x`, `[0, x)` for `< x`; `None` without data.
    pub fn range(&self) -> Option<(f64, f64)> {
        let v = self.offered_ops?;
        Some(match self.result.as_str() {
            "at-least" | "at-least-driver-limited" => (v, f64::INFINITY),
            "below" => (0.0, v),
            _ => (self.ci_low_ops.unwrap_or(v), self.ci_high_ops.unwrap_or(v)),
        })
    }
}

impl PointResult {
    pub fn capacity(&self) -> CapacityRow {
        let e = self.estimate.as_ref();
        let answer = e.map(|e| e.answer).unwrap_or(Answer::NoData);
        let result = match answer {
            Answer::Rate { .. } => "rate",
            Answer::AtLeast { driver_limited: false, .. } => "at-least",
            Answer::AtLeast { driver_limited: true, .. } => "at-least-driver-limited",
            Answer::Below { .. } => "below",
            Answer::NoData => "no-data",
        };
        let mut notes: Vec<String> = self.reps.iter().filter_map(|r| r.error.as_ref().map(|m| format!("rep {}: {m}", r.rep))).collect();
        if let Some(e) = e {
            if e.steps_driver_limited > 0 {
                let rates: Vec<String> = e.driver_limited_rates.iter().map(|r| format!("{r:.0}")).collect();
                notes.push(format!("{} driver-limited step(s) excluded (offered {} ops/s)", e.steps_driver_limited, rates.join(", ")));
            }
        }
        CapacityRow {
            point: self.point.clone(),
            answer: CapacityAnswer {
                result: result.into(),
                offered_ops: answer.value().map(milli),
                ci_low_ops: e.and_then(|e| e.ci_low).map(milli),
                ci_high_ops: e.and_then(|e| e.ci_high).map(milli),
                achieved_ops: self.achieved_ops.map(milli),
                steps_fitted: e.map_or(0, |e| e.steps_fitted),
                steps_driver_limited: e.map_or(0, |e| e.steps_driver_limited),
                reps: self.reps.len() as u32,
                saturation_ops: median(&self.reps.iter().filter_map(|r| r.saturation_ops).collect::<Vec<_>>()).map(milli),
                note: notes.join("; "),
            },
        }
    }
}

/// `v` to 0.001 ops/s: a short decimal reads back from CSV text as the same number.
fn milli(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Median of finite values (the comparison charts' median: the same rule).
pub use crate::report::charts::compare::median;

/// The load driver's own share: where it ran and what it used.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriverShare {
    /// The host CPU every thread of the driver was pinned to, if it was.
    pub pinned_cpu: Option<usize>,
    /// How the split was made (or why not).
    pub note: String,
    /// Steps over which the driver's process CPU was measured, and its median and maximum, cores.
    pub steps: u32,
    pub cpu_cores_median: Option<f64>,
    pub cpu_cores_max: Option<f64>,
    /// The process CPU at which a step counts as driver-limited, cores.
    pub limit_cores: f64,
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
    /// The per-server budget every ensemble of the sweep ran with.
    pub cpu_budget: CpuBudget,
    pub driver: DriverShare,
    pub machine: Machine,
    pub sweep: SweepFile,
    pub skipped: Vec<String>,
    /// Steps and wall time planned before the sweep started (`zkchaos sweep --dry-run` prints it).
    #[serde(default)]
    pub planned: Option<TimePlan>,
    /// Every discarded warm-up, in the order held.
    #[serde(default)]
    pub warmups: Vec<WarmupRecord>,
    pub capacity: Vec<CapacityRow>,
    /// Physics checks on the answers (degraded ≤ steady, reads ≥ writes, size trends).
    pub physics: Vec<Check>,
    pub points: Vec<PointResult>,
}

/// Write `points.csv`.
pub fn write_points_csv(path: &Path, rows: &[StepRow]) -> Result<(), RecordError> {
    write_csv(path, rows.iter().map(|r| (&r.point, &r.step)))
}

/// Write `capacity.csv`.
pub fn write_capacity_csv(path: &Path, rows: &[CapacityRow]) -> Result<(), RecordError> {
    write_csv(path, rows.iter().map(|r| (&r.point, &r.answer)))
}

fn write_csv<T: Serialize>(path: &Path, rows: impl Iterator<Item = T>) -> Result<(), RecordError> {
    let mut w = csv::WriterBuilder::new().has_headers(true).from_writer(Vec::new());
    for r in rows {
        w.serialize(&r).map_err(|e| RecordError::Write { path: path.to_owned(), source: std::io::Error::other(e) })?;
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

/// Columns of a [`Point`] at the start of every row of both CSVs.
const POINT_COLUMNS: usize = 6;

/// Read a CSV written as `(point, fields)` pairs: the first [`POINT_COLUMNS`] columns are the
/// point, the rest the fields (serde's flatten cannot read `Option` fields from CSV text).
fn read_pairs<B: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<(Point, B)>, RecordError> {
    let err = |e: csv::Error| RecordError::Open { path: path.to_owned(), source: std::io::Error::other(e) };
    let mut r = csv::Reader::from_path(path).map_err(err)?;
    let headers = r.headers().map_err(err)?.clone();
    let split = |rec: &csv::StringRecord| -> (csv::StringRecord, csv::StringRecord) {
        (rec.iter().take(POINT_COLUMNS).collect(), rec.iter().skip(POINT_COLUMNS).collect())
    };
    let (ph, bh) = split(&headers);
    let mut out = Vec::new();
    for rec in r.records() {
        let (pv, bv) = split(&rec.map_err(err)?);
        out.push((pv.deserialize(Some(&ph)).map_err(err)?, bv.deserialize(Some(&bh)).map_err(err)?));
    }
    Ok(out)
}

pub fn read_points_csv(path: &Path) -> Result<Vec<StepRow>, RecordError> {
    Ok(read_pairs(path)?.into_iter().map(|(point, step)| StepRow { point, step }).collect())
}

pub fn read_capacity_csv(path: &Path) -> Result<Vec<CapacityRow>, RecordError> {
    Ok(read_pairs(path)?.into_iter().map(|(point, answer)| CapacityRow { point, answer }).collect())
}

pub fn read_summary(path: &Path) -> Result<SweepSummary, RecordError> {
    let text = std::fs::read_to_string(path).map_err(|source| RecordError::Open { path: path.to_owned(), source })?;
    let bad = |e: serde_json::Error| RecordError::Open { path: path.to_owned(), source: std::io::Error::other(e) };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
    let mut summary: SweepSummary = serde_json::from_value(value.clone()).map_err(bad)?;
    ensemble_as_written(&mut summary.sweep.ensemble, value.pointer("/sweep/ensemble"));
    Ok(summary)
}

/// The `[ensemble]` table of a summary as the sweep that wrote it ran, not as today's defaults
/// would fill it in: a summary from before the table existed ran steady first with no warm-ups,
/// and one from before levelling and quota lifting (2026-12-07, 21:10 UTC) did neither.
fn ensemble_as_written(en: &mut EnsembleSchedule, written: Option<&serde_json::Value>) {
    let Some(written) = written else {
        *en = EnsembleSchedule {
            order: StateOrder::SteadyFirst,
            warmup_s: 0.0,
            rewarm_s: 0.0,
            settle_s: 0.0,
            plateau_pct: 0.0,
            extend_max_s: 0.0,
            lift_quota: false,
            ..EnsembleSchedule::default()
        };
        return;
    };
    if written.get("plateau_pct").is_none() {
        en.plateau_pct = 0.0;
        en.extend_max_s = 0.0;
    }
    if written.get("lift_quota").is_none() {
        en.lift_quota = false;
    }
}

#[cfg(test)]
mod ensemble_tests {
    use super::*;

    #[test]
    fn an_old_summary_reads_back_as_its_sweep_ran_not_with_today_s_defaults() {
        // Written before the [ensemble] table: steady first, no warm-ups.
        let mut en = EnsembleSchedule::default();
        ensemble_as_written(&mut en, None);
        assert_eq!((en.order, en.warmup_s, en.settle_s, en.plateau_pct, en.lift_quota), (StateOrder::SteadyFirst, 0.0, 0.0, 0.0, false));
        // Written with the table but before levelling and quota lifting (the evening's sweeps).
        let written = serde_json::json!({"order": "alternate", "warmup_s": 60.0, "rewarm_s": 15.0, "settle_s": 5.0, "warmup_in_flight": 32, "warmup_read_pct": 50});
        let mut en: EnsembleSchedule = serde_json::from_value(written.clone()).unwrap();
        ensemble_as_written(&mut en, Some(&written));
        assert_eq!((en.order, en.warmup_s, en.plateau_pct, en.extend_max_s, en.lift_quota), (StateOrder::Alternate, 60.0, 0.0, 0.0, false));
        // Written today: kept as written.
        let written = serde_json::to_value(EnsembleSchedule::default()).unwrap();
        let mut en = EnsembleSchedule::default();
        ensemble_as_written(&mut en, Some(&written));
        assert_eq!(en, EnsembleSchedule::default());
    }
}
