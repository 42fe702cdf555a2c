//! The step language of procedures: `[[procedure.steps]]` with `action = "..."` and fields.
//!
//! One flat [`Step`] struct carries every field any action takes (the schema walk in
//! [`crate::profile`] rejects fields an action does not use and names the step index), so a
//! runbook reads as a list of short tables. Server references are ids (`server = 2`) or names
//! bound at run time by a `find` step (`server = "L"`). The built-in strategies (`kind =
//! "rolling-expand"` etc.) are expanded into the same steps by `crate::procedure::runbooks`.

use super::RollingOrder;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepAction {
    /// Create and start a server (or start a stopped/killed/wiped one again).
    Start,
    /// Restart servers one at a time, optionally with a new config, waiting for each.
    Restart,
    /// Stop a server (SIGTERM, then SIGKILL).
    Stop,
    /// SIGKILL a server (a crash; opens a `fault:kill zkN` interval until it is started again).
    Kill,
    /// Remove a server's data (it must be started again afterwards).
    Wipe,
    /// Take a server's whole host away: the process dies and its address goes silent (a
    /// powered-off VM); opens a `fault:host-down zkN` interval until `host-up` or `start`.
    HostDown,
    /// Bring a server's host back and start its process again.
    HostUp,
    /// Freeze a server (for `duration_ms`, or until an `unpause` step).
    Pause,
    Unpause,
    /// Cut servers off the run's network (for `duration_ms`, or until a `heal` step).
    Partition,
    Heal,
    /// netem delay/loss on a server's traffic (for `duration_ms`, or until an `undelay` step).
    Delay,
    Undelay,
    /// Dynamic reconfiguration: `add`, `remove`, or a non-incremental `members` list.
    Reconfig,
    /// One write through the quorum (a committed config is active only after one).
    QuorumWrite,
    /// Wait until a server or the ensemble reaches a state (`until`).
    Wait,
    /// Bind a name (`as`) to the current leader or a follower (`role`).
    Find,
    /// Do nothing for `duration_ms` (load continues).
    Sleep,
}

impl StepAction {
    pub const ALL: [StepAction; 18] = [
        StepAction::Start,
        StepAction::Restart,
        StepAction::Stop,
        StepAction::Kill,
        StepAction::Wipe,
        StepAction::HostDown,
        StepAction::HostUp,
        StepAction::Pause,
        StepAction::Unpause,
        StepAction::Partition,
        StepAction::Heal,
        StepAction::Delay,
        StepAction::Undelay,
        StepAction::Reconfig,
        StepAction::QuorumWrite,
        StepAction::Wait,
        StepAction::Find,
        StepAction::Sleep,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepAction::Start => "start",
            StepAction::Restart => "restart",
            StepAction::Stop => "stop",
            StepAction::Kill => "kill",
            StepAction::Wipe => "wipe",
            StepAction::HostDown => "host-down",
            StepAction::HostUp => "host-up",
            StepAction::Pause => "pause",
            StepAction::Unpause => "unpause",
            StepAction::Partition => "partition",
            StepAction::Heal => "heal",
            StepAction::Delay => "delay",
            StepAction::Undelay => "undelay",
            StepAction::Reconfig => "reconfig",
            StepAction::QuorumWrite => "quorum-write",
            StepAction::Wait => "wait",
            StepAction::Find => "find",
            StepAction::Sleep => "sleep",
        }
    }
}

/// How a started or restarted server is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartConfig {
    /// Static zoo.cfg listing `members`.
    Static,
    /// One standalone server.
    Standalone,
    /// Dynamic config listing `members`, all participants (a fresh or rewritten dynamic file).
    Dynamic,
    /// The committed config read from `/zookeeper/config` plus this server as a participant.
    Joiner,
    /// The committed config plus this server as an observer.
    Observer,
}

/// What a `wait` step waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitUntil {
    /// `server` reports leader, follower, observer or standalone.
    Serving,
    /// `server` reports follower, observer or leader (synced with a leader).
    Following,
    /// `server` reports observer.
    Observing,
    /// Some current member reports leader.
    Leader,
    /// Every current voting member serves, one leader, each one's view equals the membership.
    Converged,
}

impl WaitUntil {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitUntil::Serving => "serving",
            WaitUntil::Following => "following",
            WaitUntil::Observing => "observing",
            WaitUntil::Leader => "leader",
            WaitUntil::Converged => "converged",
        }
    }
}

/// `find` role, and the role a `reconfig add` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepRole {
    Leader,
    Follower,
    Participant,
    Observer,
}

impl StepRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StepRole::Leader => "leader",
            StepRole::Follower => "follower",
            StepRole::Participant => "participant",
            StepRole::Observer => "observer",
        }
    }
}

/// What a `wait` step does when it times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OnTimeout {
    /// Record the failure on the step's end mark and in the notes, and go on.
    #[default]
    Continue,
    /// Fail the procedure.
    Fail,
}

/// One step; which fields apply depends on `action` (see docs/profiles.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub action: StepAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<ServerRef>,
    /// Member list of a static/dynamic config, or the non-incremental reconfig list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<ServerRef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<StartConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<ServerRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<ServerRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<StepRole>,
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<WaitUntil>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<RollingOrder>,
    /// Restart: wait until each restarted server serves before the next (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "OnTimeout::is_default")]
    pub on_timeout: OnTimeout,
    /// Mark label of a `sleep` step (default "sleep").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl OnTimeout {
    fn is_default(&self) -> bool {
        *self == OnTimeout::Continue
    }
}

impl Step {
    /// A step with only `action` set.
    pub fn new(action: StepAction) -> Step {
        Step {
            action,
            server: None,
            servers: Vec::new(),
            members: None,
            config: None,
            add: Vec::new(),
            remove: Vec::new(),
            role: None,
            bind: None,
            until: None,
            order: None,
            wait: None,
            gap_ms: None,
            duration_ms: None,
            timeout_ms: None,
            delay_ms: None,
            jitter_ms: None,
            loss_pct: None,
            max_attempts: None,
            on_timeout: OnTimeout::Continue,
            label: None,
        }
    }

    /// `server` followed by `servers`: the servers the step acts on.
    pub fn targets(&self) -> Vec<ServerRef> {
        self.server.iter().cloned().chain(self.servers.iter().cloned()).collect()
    }
}

/// A server in a step: an id, or a name bound by an earlier `find` step.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServerRef {
    Id(u32),
    Name(String),
}

impl From<u32> for ServerRef {
    fn from(id: u32) -> Self {
        ServerRef::Id(id)
    }
}

impl fmt::Display for ServerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerRef::Id(id) => write!(f, "{id}"),
            ServerRef::Name(n) => write!(f, "{n:?}"),
        }
    }
}

impl Serialize for ServerRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ServerRef::Id(id) => s.serialize_u32(*id),
            ServerRef::Name(n) => s.serialize_str(n),
        }
    }
}

impl<'de> Deserialize<'de> for ServerRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RefVisitor)
    }
}

struct RefVisitor;

impl RefVisitor {
    fn id<E: serde::de::Error>(v: i128) -> Result<ServerRef, E> {
        u32::try_from(v)
            .map(ServerRef::Id)
            .map_err(|_| E::custom(format!("expected a server id from 1 to 9 or a name, found {v}")))
    }
}

impl<'de> serde::de::Visitor<'de> for RefVisitor {
    type Value = ServerRef;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a server id or a name bound by a find step")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ServerRef, E> {
        Ok(ServerRef::Name(v.to_string()))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ServerRef, E> {
        Self::id(v.into())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ServerRef, E> {
        Self::id(v.into())
    }
}

/// The voting membership a step list ends with, as far as ids written in it tell (names count as
/// one server each): used for the report's "to" size and the memory check.
pub fn final_size(from: u32, steps: &[Step]) -> u32 {
    let mut size = i64::from(from);
    for s in steps {
        match (s.action, s.config) {
            (StepAction::Start | StepAction::Restart, Some(StartConfig::Static | StartConfig::Dynamic)) => {
                if let Some(m) = &s.members {
                    size = m.len() as i64;
                }
            }
            (StepAction::Reconfig, _) => {
                if let Some(m) = &s.members {
                    size = m.len() as i64;
                } else {
                    if s.role != Some(StepRole::Observer) {
                        size += s.add.len() as i64;
                    }
                    size -= s.remove.len() as i64;
                }
            }
            _ => {}
        }
    }
    size.clamp(0, 9) as u32
}
