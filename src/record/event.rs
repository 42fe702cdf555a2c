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

/// A client operation kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// getData of a pre-populated key.
    Get,
    /// setData of a pre-populated key to a unique value.
    Set,
    /// create of a persistent sequential znode with a unique payload.
    Create,
    /// exists of a pre-populated key.
    Exists,
    /// delete of a znode this run created.
    Delete,
    /// multi: setData of one key plus create of one sequential znode, atomically.
    Multi,
}

impl OpKind {
    pub const ALL: [OpKind; 6] =
        [OpKind::Get, OpKind::Set, OpKind::Create, OpKind::Exists, OpKind::Delete, OpKind::Multi];

    pub fn as_str(&self) -> &'static str {
        match self {
            OpKind::Get => "get",
            OpKind::Set => "set",
            OpKind::Create => "create",
            OpKind::Exists => "exists",
            OpKind::Delete => "delete",
            OpKind::Multi => "multi",
        }
    }

    pub fn parse(s: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Writes change state; reads do not. Outage "read" covers get/exists, "write" the rest.
    pub fn is_write(&self) -> bool {
        !matches!(self, OpKind::Get | OpKind::Exists)
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// Key path (get/set/exists/multi's set), or the created path (create; empty if unknown).
    pub path: String,
    pub outcome: Outcome,
    /// Empty for `Ok`.
    pub error: Option<ErrorClass>,
    /// Unique token written (set/create/multi): the value is derived from it, see
    /// [`crate::workload`]; empty for reads.
    pub token: String,
    /// Version returned by set (the znode's new version) or read by get; -1 if none.
    pub version: i64,
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
/// Well-known labels: `phase:warmup`, `phase:procedure`, `phase:post` (Start/End pairs; the
/// procedure phase runs from the first procedure step until convergence or its timeout),
/// `converged` (Point), and the procedure's own step labels (e.g. `start zk2`, `restart zk1`,
/// `reconfig add 2,3 attempt 1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub at_us: u64,
    pub kind: MarkKind,
    pub label: String,
    /// Free-form detail (error text of a failed step, the order chosen, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
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
    /// Did not answer within the monitor timeout (stopped, paused, not yet created).
    Down,
}

impl ServerMode {
    pub const ALL: [ServerMode; 6] = [
        ServerMode::Leader,
        ServerMode::Follower,
        ServerMode::Observer,
        ServerMode::Standalone,
        ServerMode::NotServing,
        ServerMode::Down,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ServerMode::Leader => "leader",
            ServerMode::Follower => "follower",
            ServerMode::Observer => "observer",
            ServerMode::Standalone => "standalone",
            ServerMode::NotServing => "not-serving",
            ServerMode::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Option<ServerMode> {
        ServerMode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Serving client requests.
    pub fn is_serving(&self) -> bool {
        matches!(self, ServerMode::Leader | ServerMode::Follower | ServerMode::Observer | ServerMode::Standalone)
    }
}

/// One poll of one server. One row of `monitor.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeSample {
    pub at_us: u64,
    pub server: u32,
    pub mode: ServerMode,
    /// zxid as reported by `srvr` (epoch in the high 32 bits), if it answered.
    pub zxid: Option<u64>,
}
