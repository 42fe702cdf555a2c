//! What a run records: one [`OpEvent`] per client operation, [`Mark`]s on the procedure timeline,
//! and [`ModeSample`]s from the server-mode monitor.
//!
//! All times are microseconds since the run's epoch (a monotonic `Instant` taken when the run
//! starts; its wall-clock time is kept in `meta.json`), so events, marks and monitor samples share
//! one time axis and every figure can be recomputed from the files alone.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Instant;

/// The run's time origin: every recorded time is `µs since epoch`.
#[derive(Debug, Clone, Copy)]
pub struct Epoch {
    pub instant: Instant,
    /// Wall-clock time of `instant`, milliseconds since the Unix epoch.
    pub unix_ms: i64,
}

impl Epoch {
    pub fn now() -> Epoch {
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Epoch { instant: Instant::now(), unix_ms }
    }

    /// Microseconds from the epoch to `t` (0 if `t` is earlier).
    pub fn us(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.instant).as_micros() as u64
    }

    pub fn now_us(&self) -> u64 {
        self.us(Instant::now())
    }
}

pub use crate::plan::OpKind;

/// Three-way outcome (Jepsen's ok / fail / info).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The server acknowledged the operation.
    Ok,
    /// Certainly not applied (a read that failed, NoNode, BadVersion, not sent).
    Fail,
    /// A write whose fate is unknown (timeout or connection loss after it was sent).
    Indeterminate,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Indeterminate => "indeterminate",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Ok, Outcome::Fail, Outcome::Indeterminate].into_iter().find(|o| o.as_str() == s)
    }
}

/// Why an operation did not succeed. Stable names: they are CSV values and JSON keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ErrorClass {
    /// The per-operation timeout elapsed (the client queues calls while disconnected).
    Timeout,
    /// The connection to the server was lost while the call was outstanding.
    ConnectionLoss,
    /// The session expired; the worker creates a new one.
    SessionExpired,
    /// The client is not connected / could not connect.
    NotConnected,
    NoNode,
    NodeExists,
    BadVersion,
    NotReadOnly,
    NoAuth,
    /// Any other ZooKeeper or client error (its text goes to the log, not the CSV).
    Other,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 10] = [
        ErrorClass::Timeout,
        ErrorClass::ConnectionLoss,
        ErrorClass::SessionExpired,
        ErrorClass::NotConnected,
        ErrorClass::NoNode,
        ErrorClass::NodeExists,
        ErrorClass::BadVersion,
        ErrorClass::NotReadOnly,
        ErrorClass::NoAuth,
        ErrorClass::Other,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorClass::Timeout => "Timeout",
            ErrorClass::ConnectionLoss => "ConnectionLoss",
            ErrorClass::SessionExpired => "SessionExpired",
            ErrorClass::NotConnected => "NotConnected",
            ErrorClass::NoNode => "NoNode",
            ErrorClass::NodeExists => "NodeExists",
            ErrorClass::BadVersion => "BadVersion",
            ErrorClass::NotReadOnly => "NotReadOnly",
            ErrorClass::NoAuth => "NoAuth",
            ErrorClass::Other => "Other",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorClass> {
        ErrorClass::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One client operation, as recorded. One row of `events.csv.gz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpEvent {
    /// When the schedule intended the operation to start (latency is measured from here).
    pub intended_us: u64,
    /// When the request was actually issued.
    pub start_us: u64,
    /// When the outcome was known.
    pub end_us: u64,
    pub kind: OpKind,
    /// Index of the worker session (0-based; a recreated session keeps its index).
    pub session: u32,
    /// Key path (get/set/exists/multi's set), the created path (create; empty if unknown), or the
    /// victim (delete: recorded for every outcome, so an indeterminate delete names its znode).
    pub path: String,
    pub outcome: Outcome,
    /// Empty for `Ok`.
    pub error: Option<ErrorClass>,
    /// Unique token written (set/create/multi): the value is derived from it, see
    /// the workload layer's `payload`; empty for reads.
    pub token: String,
    /// Version returned by set (the znode's new version) or read by get; -1 if none.
    pub version: i64,
}

#[cfg(test)]
impl OpEvent {
    /// An ok `get` of `/zkchaos/keys/k0` on session 0, intended and started at `t_us` and ended
    /// `took_us` later (for tests).
    pub(crate) fn ok_get(t_us: u64, took_us: u64) -> OpEvent {
        OpEvent {
            intended_us: t_us,
            start_us: t_us,
            end_us: t_us + took_us,
            kind: OpKind::Get,
            session: 0,
            path: "/zkchaos/keys/k0".into(),
            outcome: Outcome::Ok,
            error: None,
            token: String::new(),
            version: 0,
        }
    }
}

impl OpEvent {
    /// Latency measured from the intended start (coordinated-omission free in open loop).
    pub fn latency_us(&self) -> u64 {
        self.end_us.saturating_sub(self.intended_us)
    }

    /// Schedule lag: actual issue time minus intended time.
    pub fn lag_us(&self) -> u64 {
        self.start_us.saturating_sub(self.intended_us)
    }
}

/// Whether a mark opens, closes, or is a single instant on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarkKind {
    Start,
    End,
    Point,
}

/// A procedure step on the timeline. `marks.json` is a list of these.
///
/// Well-known labels are the constants of [`labels`] (phases, convergence, notes); the rest are
/// the procedure's own step labels (e.g. `start zk2`, `restart zk1`, `reconfig add 2,3 attempt 1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub at_us: u64,
    pub kind: MarkKind,
    pub label: String,
    /// Free-form detail (error text of a failed step, the order chosen, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Set by the procedure on the End mark of a step that failed (its error is the detail).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
}

impl Mark {
    pub fn new(at_us: u64, kind: MarkKind, label: impl Into<String>, detail: Option<String>) -> Mark {
        Mark { at_us, kind, label: label.into(), detail, failed: false }
    }

    /// The End mark of a step that failed with `error`.
    pub fn failed_end(at_us: u64, label: impl Into<String>, error: String) -> Mark {
        Mark { at_us, kind: MarkKind::End, label: label.into(), detail: Some(error), failed: true }
    }
}

/// The timeline's well-known mark labels: written by the run's phases, read by analysis and
/// charts. Procedure step labels are free text and never one of these.
pub mod labels {
    pub const PHASE_WARMUP: &str = "phase:warmup";
    pub const PHASE_PROCEDURE: &str = "phase:procedure";
    pub const PHASE_POST: &str = "phase:post";
    /// Point: the ensemble reached its target membership (held for the required rounds).
    pub const CONVERGED: &str = "converged";
    /// Point: the convergence wait timed out (detail: the last reason).
    pub const NOT_CONVERGED: &str = "not converged";
    /// Point: a fact worth a line in the summary (detail: the text).
    pub const NOTE: &str = "note";
    /// Point: `/zookeeper/config` as read by a reconfig procedure (detail: version and members).
    pub const COMMITTED_CONFIG: &str = "committed config";
    /// Point: clients were given the new connect string.
    pub const UPDATE_SERVER_LIST: &str = "update server list";
    /// Start/End around a `zkchaos load` run.
    pub const LOAD: &str = "load";
    /// Point: the load was told to stop (no operation is scheduled after it). The end of the
    /// window every outage is measured in: operations still in flight then may time out later,
    /// and must not stretch the last gap.
    pub const LOAD_STOP: &str = "load stop";

    /// `phase:<name>` for a phase name (`warmup`, `procedure`, `post`).
    pub fn phase(name: &str) -> String {
        format!("phase:{name}")
    }

    pub fn is_phase(label: &str) -> bool {
        label.starts_with("phase:")
    }

    /// Prefix of fault intervals (Start/End pairs), which charts shade.
    pub const FAULT_PREFIX: &str = "fault:";

    /// `fault:<what> zkN`, e.g. `fault:partition zk2`: the interval during which the fault held.
    pub fn fault(what: &str, server: u32) -> String {
        format!("{FAULT_PREFIX}{what} zk{server}")
    }

    pub fn is_fault(label: &str) -> bool {
        label.starts_with(FAULT_PREFIX)
    }

    /// Prefix of a procedure cycle (Start at the cycle's first step, End at its convergence,
    /// `failed` if it did not converge): `cycle:1`, `cycle:2`, ... Written only when the
    /// procedure repeats (`procedure.repeat` > 1); the analysis derives cycle windows from them.
    pub const CYCLE_PREFIX: &str = "cycle:";

    /// `cycle:<n>` (1-based).
    pub fn cycle(n: u32) -> String {
        format!("{CYCLE_PREFIX}{n}")
    }

    /// The cycle number of a `cycle:<n>` label.
    pub fn cycle_number(label: &str) -> Option<u32> {
        label.strip_prefix(CYCLE_PREFIX)?.parse().ok()
    }

    /// A procedure step (not a phase, cycle, convergence, note or config point).
    pub fn is_step(label: &str) -> bool {
        !is_phase(label)
            && cycle_number(label).is_none()
            && !matches!(label, CONVERGED | NOT_CONVERGED | NOTE | COMMITTED_CONFIG | UPDATE_SERVER_LIST | LOAD | LOAD_STOP)
    }
}

/// A server's mode as seen by the `srvr` poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerMode {
    Leader,
    Follower,
    Observer,
    Standalone,
    /// Answered, but "This ZooKeeper instance is not currently serving requests".
    NotServing,
    /// Refused or closed the connection (stopped, not yet created, removed from the list).
    Down,
    /// Did not answer within the monitor timeout (paused, overloaded, partitioned): its mode is
    /// not known, and a server that was leader may still believe it is.
    Unknown,
}

impl ServerMode {
    pub const ALL: [ServerMode; 7] = [
        ServerMode::Leader,
        ServerMode::Follower,
        ServerMode::Observer,
        ServerMode::Standalone,
        ServerMode::NotServing,
        ServerMode::Down,
        ServerMode::Unknown,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ServerMode::Leader => "leader",
            ServerMode::Follower => "follower",
            ServerMode::Observer => "observer",
            ServerMode::Standalone => "standalone",
            ServerMode::NotServing => "not-serving",
            ServerMode::Down => "down",
            ServerMode::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<ServerMode> {
        ServerMode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The writable authority of its ensemble as it reports itself: `leader` or `standalone`.
    pub fn is_authority(&self) -> bool {
        matches!(self, ServerMode::Leader | ServerMode::Standalone)
    }

    /// Serving client requests.
    pub fn is_serving(&self) -> bool {
        matches!(self, ServerMode::Leader | ServerMode::Follower | ServerMode::Observer | ServerMode::Standalone)
    }
}

/// One poll of one server. One row of `monitor.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeSample {
    /// When the answer arrived (or the probe gave up), µs since the epoch. Older files: the
    /// start of the poll tick.
    pub at_us: u64,
    pub server: u32,
    pub mode: ServerMode,
    /// zxid as reported by `srvr` (epoch in the high 32 bits), if it answered. Written in hex
    /// (`0x100000001`) as ZooKeeper users read it; decimal from older files is read too.
    #[serde(with = "zxid_hex", default)]
    pub zxid: Option<u64>,
    /// When this probe was sent: the mode held at some instant in `[sent_us, at_us]`. Absent
    /// in files written before probes were timestamped individually.
    #[serde(default)]
    pub sent_us: Option<u64>,
}

/// `monitor.csv`'s zxid column: `0x…` on write, hex or decimal on read, empty for none.
mod zxid_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(z) => s.serialize_str(&format!("{z:#x}")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => {
                let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => t.parse::<u64>(),
                };
                parsed.map(Some).map_err(|e| serde::de::Error::custom(format!("zxid {t:?}: {e}")))
            }
        }
    }
}

impl ModeSample {
    pub fn new(at_us: u64, server: u32, mode: ServerMode, zxid: Option<u64>) -> ModeSample {
        ModeSample { at_us, server, mode, zxid, sent_us: None }
    }
}
