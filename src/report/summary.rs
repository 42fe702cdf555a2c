//! `summary.json`: the figures of one run, versioned, computed from the recorded files only.
//!
//! [`Summary`] is the file's layout (`schema/summary.schema.json` describes it for other tools);
//! [`build_summary`](crate::report::build::build_summary) fills it from a [`RunData`](crate::report::load::RunData).
//! Later runs and `zkchaos compare` load it back, so field names are a contract: add fields,
//! never rename them, and bump [`SCHEMA_VERSION`] when a meaning changes.

pub use crate::analysis::latency::Quantiles;
pub use crate::analysis::run::{ProcedureSummary, StepSummary};
use crate::check::Verdict;
use serde::{Deserialize, Serialize};
use crate::record::RecordError;
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the layout below.
pub const SCHEMA_VERSION: u32 = 1;

/// Contents of `summary.json`. Times are milliseconds unless the field name says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    #[serde(default)]
    pub run_id: String,
    /// Profile (plan) name.
    pub profile: String,
    /// `none`, `pause`, `restart-expand/new-first`, `reconfig-expand/together`, ...
    pub strategy: String,
    pub from_size: u32,
    pub to_size: u32,
    pub seed: Option<u64>,
    /// Wall-clock time of the run's epoch, RFC 3339 UTC (empty if `meta.json` was not written).
    pub started_at: String,
    /// From the epoch to the last recorded event, mark or sample.
    pub duration_s: f64,
    pub load: LoadSummary,
    pub ops: OpsSummary,
    /// Failed or indeterminate operations per error class (stable names, see `ErrorClass`).
    pub errors_by_class: BTreeMap<String, u64>,
    /// (fail + indeterminate) / total, 0 when no operation ran.
    pub error_rate: f64,
    /// Longest gap without a successful operation of that kind (`any`, `read`, `write`).
    pub outage_ms: OutageMs,
    /// How finely an outage can be seen: the mean gap between intended operations of that kind.
    pub outage_resolution_ms: OutageResolution,
    /// Start of the longest gap per class, ms since the epoch (where to look on the charts).
    pub outage_at_ms: OutageMs,
    /// Number of gaps longer than the outage threshold, per kind.
    pub outage_gaps: OutageGaps,
    /// Latency from the intended start, whole run, per operation kind (and `all`).
    pub latency_us: BTreeMap<String, Quantiles>,
    /// How late operations were issued compared with the schedule.
    pub schedule_lag_us: Quantiles,
    /// `warmup`, `procedure`, `post` (each present if its marks were recorded).
    pub phases: BTreeMap<String, PhaseSummary>,
    pub procedure: ProcedureSummary,
    /// From the start of the procedure phase to the `converged` mark; null if it never converged.
    pub converge_ms: Option<u64>,
    /// Times the monitor saw the leader change (a new server leading, or leading again after a gap).
    pub leader_changes: u32,
    pub checks: Checks,
    /// How reconfig authenticated, e.g. `super-digest` or `skip-acl: insecure`; null if no reconfig.
    pub auth: Option<String>,
    /// `PASS` (every check passed), `FAIL` (a check failed) or `UNKNOWN` (a check could not decide).
    pub verdict: Verdict,
    /// Why the verdict is what it is, in words.
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSummary {
    /// `open` or `closed`.
    pub mode: String,
    /// Intended operations per second (open loop).
    pub intended_rate: u32,
    pub sessions: u32,
    /// Time-series bucket width of `timeline.csv`.
    pub interval_ms: u32,
    pub op_timeout_ms: u32,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OpsSummary {
    pub total: u64,
    pub ok: u64,
    pub fail: u64,
    pub indeterminate: u64,
    /// Operations issued per second over the span of the recorded operations.
    pub achieved_rate: f64,
    /// Successful operations per second over the same span.
    pub ok_rate: f64,
}

/// Null for a class with no operation scheduled in the window.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OutageMs {
    pub any: Option<f64>,
    pub read: Option<f64>,
    pub write: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OutageResolution {
    pub read: Option<f64>,
    pub write: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OutageGaps {
    /// Gaps counted are longer than this.
    pub threshold_ms: f64,
    pub any: u32,
    pub read: u32,
    pub write: u32,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PhaseSummary {
    pub start_ms: f64,
    pub end_ms: f64,
    pub ops: OpsSummary,
    pub errors_by_class: BTreeMap<String, u64>,
    pub error_rate: f64,
    pub outage_ms: OutageMs,
    pub outage_gaps: OutageGaps,
    pub latency_us: BTreeMap<String, Quantiles>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checks {
    pub data_loss: CheckSummary,
    pub single_leader: CheckSummary,
}

/// One checker's verdict and the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckSummary {
    pub verdict: Verdict,
    /// One sentence a user can act on.
    pub detail: String,
    /// Checker-specific figures (lost writes, servers audited, overlap windows, ...).
    #[serde(flatten)]
    pub figures: BTreeMap<String, serde_json::Value>,
}

impl Summary {
    /// Deterministic serialisation (keys sorted, pretty): what `summary.json` holds and what
    /// `zkchaos analyze` compares.
    pub fn to_canonical_json(&self) -> Result<String, serde_json::Error> {
        let value = serde_json::to_value(self)?;
        let mut s = serde_json::to_string_pretty(&value)?;
        s.push('\n');
        Ok(s)
    }
}

/// Read a stored `summary.json` (a later run, `compare` or the gate loads it as a baseline).
pub fn read_summary(path: &Path) -> Result<Summary, RecordError> {
    let value: serde_json::Value = crate::record::load::read_json(path)?;
    let version = value.get("schema_version").and_then(|v| v.as_u64()).unwrap_or(0);
    if version != u64::from(SCHEMA_VERSION) {
        return Err(RecordError::Parse {
            path: path.to_path_buf(),
            detail: format!(
                "summary schema_version {version}, this zkchaos reads {}; re-create it with `zkchaos analyze <run dir>`",
                SCHEMA_VERSION
            ),
        });
    }
    serde_json::from_value(value).map_err(|e| RecordError::Parse { path: path.to_path_buf(), detail: e.to_string() })
}
