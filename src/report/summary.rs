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
///
/// 2: outages end at the load stop (not the last completion); `latency_all_us`, per-session
/// and per-kind outages, the warm-up baseline, the service's own outage, reconnect delays,
/// `settle_ms`, `checks.stale_reads`, and `single_leader` judged by epoch and zxid progress.
pub const SCHEMA_VERSION: u32 = 2;

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
    /// Longest gap without a successful operation of that kind (`any`, `read`, `write`), within
    /// the load window (first intended start to the load stop); also per session and per kind.
    pub outage_ms: OutageMs,
    /// The warm-up phase's longest gaps (`any`, `read`, `write`): the run's own noise floor. An
    /// outage not clearly above it (less than twice) is named in `notes`.
    #[serde(default)]
    pub outage_baseline_ms: OutageMs,
    /// The service's own unavailability: the longest interval in the load window with no server
    /// reporting `leader` or `standalone` (monitor samples; resolution `service_outage_resolution_ms`).
    #[serde(default)]
    pub service_outage_ms: Option<f64>,
    /// The monitor's poll interval: the resolution of `service_outage_ms`.
    #[serde(default)]
    pub service_outage_resolution_ms: Option<f64>,
    /// After the longest service outage: each session's delay from the service's return to its
    /// first success (max and median over sessions) — the client's reconnect behaviour.
    #[serde(default)]
    pub reconnect_ms: Option<crate::analysis::Spread>,
    /// How finely an outage can be seen: the mean gap between intended operations of that kind.
    pub outage_resolution_ms: OutageResolution,
    /// Start of the longest gap per class, ms since the epoch (where to look on the charts).
    pub outage_at_ms: OutageMs,
    /// Number of gaps longer than the outage threshold, per kind.
    pub outage_gaps: OutageGaps,
    /// Latency from the intended start of SUCCESSFUL operations only, whole run, per kind (and `all`).
    pub latency_us: BTreeMap<String, Quantiles>,
    /// Latency from the intended start of EVERY ISSUED operation (failures at their time to
    /// error, timeouts at the operation timeout), whole run, per kind (and `all`).
    #[serde(default)]
    pub latency_all_us: BTreeMap<String, Quantiles>,
    /// How late operations were issued compared with the schedule.
    pub schedule_lag_us: Quantiles,
    /// `warmup`, `procedure`, `post` (each present if its marks were recorded).
    pub phases: BTreeMap<String, PhaseSummary>,
    /// The procedure's impact window: procedure start → load stop (the damage of a procedure can
    /// land after its phase ends). The window of every figure the gate, suite statistics and
    /// comparisons judge. Absent without a procedure phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<PhaseSummary>,
    /// Per cycle of a repeated procedure (`procedure.repeat` > 1), in order: the same figures
    /// over each cycle's window (cycle start → next cycle's start, or the load stop). Empty when
    /// the procedure ran once (its one cycle is `impact`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cycles: Vec<CycleSummary>,
    pub procedure: ProcedureSummary,
    /// From the start of the procedure phase to the `converged` mark; null if it never converged.
    pub converge_ms: Option<u64>,
    /// From the end of the procedure's last step to the `converged` mark; null if it never converged.
    #[serde(default)]
    pub settle_ms: Option<u64>,
    /// Times the monitor saw the leader change (a new server leading, or leading again after a gap).
    pub leader_changes: u32,
    /// Every election the monitor saw (no server leading), each with what the servers logged
    /// about it (`LEADER ELECTION TOOK - <n> MS`), see [`crate::analysis::elections`].
    #[serde(default)]
    pub elections: Vec<crate::analysis::elections::Election>,
    /// Each server's log counted (`zk<N>` → levels, WARN/ERROR/exception classes, election
    /// lines): evidence, not a verdict. Empty when no log was saved.
    #[serde(default)]
    pub server_log: BTreeMap<String, crate::analysis::server_log::ServerLogSummary>,
    pub checks: Checks,
    /// Per-server divergence (`zk<id>` → figures): which acknowledged writes and ephemeral
    /// nodes differ on which server, from the audit and the ephemeral check. Absent without a
    /// read-back.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub divergence: BTreeMap<String, ServerDivergence>,
    /// How reconfig authenticated, e.g. `super-digest` or `skip-acl: insecure`; null if no reconfig.
    pub auth: Option<String>,
    /// `PASS` (every check passed), `FAIL` (a check failed) or `UNKNOWN` (a check could not decide).
    pub verdict: Verdict,
    /// Why the verdict is what it is, in words.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The stop, JVM and client models the figures were produced under (from `meta.json`;
    /// absent for runs recorded before they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<crate::record::meta::RunModels>,
    /// The harness's own footprint (`process.csv`); absent for runs recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessSummary>,
    /// The load agents and their operations (`agents.json`); absent when the load ran in the
    /// control process. Their `ops` add up to `ops.total` (a note says so when they do not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<Vec<crate::record::RecordedAgent>>,
}

/// Maxima of the zkchaos process's own samples over the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSummary {
    /// Largest resident set size sampled, KiB.
    pub rss_max_kib: u64,
    /// Most open file descriptors sampled.
    pub fds_max: u64,
    /// Samples taken.
    pub samples: u64,
}

impl ProcessSummary {
    /// `None` when nothing was sampled.
    pub fn of(samples: &[crate::record::ProcessSample]) -> Option<ProcessSummary> {
        (!samples.is_empty()).then(|| ProcessSummary {
            rss_max_kib: samples.iter().map(|s| s.rss_kib).max().unwrap_or(0),
            fds_max: samples.iter().map(|s| s.fds).max().unwrap_or(0),
            samples: samples.len() as u64,
        })
    }
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
    /// `client` (the client library's reconnect back-off) or `eager` (zkchaos reconnects).
    #[serde(default)]
    pub reconnect: String,
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
    /// Each session's longest gap: max and median over sessions (a partial outage, e.g.
    /// sessions stuck on a restarted server while others are served, shows here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_session: Option<crate::analysis::Spread>,
    /// Each operation kind's longest gap.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub per_kind: BTreeMap<String, f64>,
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
    /// Successful operations only.
    pub latency_us: BTreeMap<String, Quantiles>,
    /// Every issued operation (see the top-level field).
    #[serde(default)]
    pub latency_all_us: BTreeMap<String, Quantiles>,
}

/// One cycle of a repeated procedure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleSummary {
    /// 1-based.
    pub cycle: u32,
    /// Cycle start → its convergence (every member serving, one leader, the target membership),
    /// ms; null if it did not converge.
    pub converge_ms: Option<f64>,
    /// Longest election the monitor saw starting in the cycle's window (first server leaving
    /// its role → a leader serving), ms; null if none.
    pub election_ms: Option<f64>,
    /// Outages, errors and latency over the cycle's window (`start_ms`/`end_ms`).
    #[serde(flatten)]
    pub figures: PhaseSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checks {
    pub data_loss: CheckSummary,
    pub single_leader: CheckSummary,
    /// Reads that saw a version below one acknowledged before they were issued (allowed by
    /// ZooKeeper for follower reads; counted, never a data_loss FAIL).
    #[serde(default)]
    pub stale_reads: StaleReadsSummary,
    /// No ephemeral znode may outlive its session on any server (see
    /// [`crate::check::ephemerals`]); present when the mix or the history has ephemeral
    /// operations. Joins the run's verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemerals: Option<CheckSummary>,
    /// ZooKeeper's own data-tree digest (`zk_digest_mismatches_count` from `mntr` at the end):
    /// FAIL if any server counted a mismatch; UNKNOWN for a server without the field or not read.
    /// Figures: `per_server` (`zk<N>` → verdict, mismatches, state, zxid, znode count, note).
    #[serde(default = "digest_not_recorded")]
    pub digest: CheckSummary,
}

impl Checks {
    /// Every safety check this summary carries, by its `summary.json` name (`check::safety`
    /// says which of them block on UNKNOWN): the run verdict, the hunt's trial outcome and the
    /// OpenMetrics export all read this one list. `stale_reads` is counted, never judged.
    pub fn safety_verdicts(&self) -> Vec<(&'static str, Verdict)> {
        let mut v = vec![
            ("data_loss", self.data_loss.verdict),
            ("single_leader", self.single_leader.verdict),
            ("digest", self.digest.verdict),
        ];
        v.extend(self.ephemerals.as_ref().map(|e| ("ephemerals", e.verdict)));
        v
    }
}

/// The digest check of a summary written before zkchaos scraped `mntr`.
fn digest_not_recorded() -> CheckSummary {
    CheckSummary {
        verdict: Verdict::Unknown,
        detail: "not recorded (a summary from before the digest check)".into(),
        figures: BTreeMap::new(),
    }
}

/// One server's divergence from what the clients were told.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServerDivergence {
    /// The read-back of this server succeeded (otherwise its figures are unknown, not zero).
    pub readable: bool,
    /// Acknowledged writes absent here.
    pub missing_acknowledged_writes: u64,
    /// Acknowledged sets at an older version (or another value at that version) here.
    pub stale_acknowledged_writes: u64,
    /// Acknowledged deletes whose znode is present again here.
    pub undone_deletes: u64,
    /// Ephemeral nodes whose session had ended, still listed here; absent when the ephemeral
    /// check did not run or this server's `/zkchaos/eph` was not listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lingering_ephemerals: Option<u64>,
    /// Transactions whose data-tree digest differed from the leader's, as this server counted
    /// them (`mntr`'s `zk_digest_mismatches_count` at the end); absent where not reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_mismatches: Option<u64>,
}

impl ServerDivergence {
    /// Anything at all differs on this server.
    pub fn diverges(&self) -> bool {
        self.missing_acknowledged_writes + self.stale_acknowledged_writes + self.undone_deletes
            + self.lingering_ephemerals.unwrap_or(0)
            + self.digest_mismatches.unwrap_or(0)
            > 0
    }
}

/// The stale-read figures (see [`crate::check::stale_reads`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StaleReadsSummary {
    pub count: u64,
    pub reads_checked: u64,
    pub worst_lag_versions: i64,
    pub worst_lag_ms: f64,
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
    /// The models every figure of this run was produced under, in one line (runs recorded
    /// before they were say so).
    pub fn models_line(&self) -> String {
        match &self.models {
            Some(m) => format!("models: {}", m.short()),
            None => "models: not recorded (a run made before zkchaos recorded its stop, JVM and client models)".into(),
        }
    }

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
