//! The plan: a profile (TOML scenario) parsed, defaulted and validated once.
//!
//! Everything downstream (cluster, workload, procedure, checks, report) reads a [`Plan`] and
//! never the raw TOML. The same structs are the profile schema: every field has a default, unknown
//! keys are rejected, and `plan.json` in a run directory is this struct serialised with every
//! default made explicit (so a run can be re-read without knowing which defaults were in force).
//!
//! Parsing and validation with user-facing errors live in [`crate::profile`].

pub mod engines;
pub mod load_run;
pub mod steps;

pub use engines::EnginePlan;
pub use load_run::load_run_plan;
pub use steps::{OnTimeout, ServerRef, StartConfig, Step, StepAction, StepRole, WaitUntil};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A fully resolved scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Profile name; names the results directory `results/<name>/`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Seed of the operation mix; chosen at random (and recorded) when absent.
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub cluster: ClusterPlan,
    #[serde(default)]
    pub load: LoadPlan,
    #[serde(default)]
    pub phases: PhasesPlan,
    #[serde(default)]
    pub procedure: ProcedurePlan,
    #[serde(default)]
    pub monitor: MonitorPlan,
}

/// The initial ensemble and how servers are configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterPlan {
    /// Docker image; `zkchaos/zookeeper:3.8.0` is built locally by `zkchaos image build`.
    pub image: String,
    /// Which image layout the image has: `auto` (detect), `debian` (zkchaos' own) or `official`.
    pub image_kind: ImageKindChoice,
    /// Servers at start (ids 1..=size).
    pub size: u32,
    /// Start servers with dynamic configuration (`reconfigEnabled=true`,
    /// `standaloneEnabled=false`, `dynamicConfigFile`). Required by `reconfig-expand`.
    pub dynamic_config: bool,
    pub tick_time_ms: u32,
    pub init_limit: u32,
    pub sync_limit: u32,
    /// JVM heap per server (`-Xmx`), MiB.
    pub heap_mb: u32,
    /// Further JVM options for every server, one option per entry (`-XX:...` or `-D...`).
    pub jvm_flags: Vec<String>,
    /// Docker engines to spread servers over (`[[cluster.engines]]`); empty: the local engine
    /// only, bridge networking (see [`engines`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub engines: Vec<EnginePlan>,
    /// Engine name of server 1, 2, ... (servers beyond the list: round robin).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub placement: Vec<String>,
    /// Host CPUs every server container may run on, in Docker's `--cpuset-cpus` syntax
    /// (`"1"`, `"1-3"`, `"0,2"`); none = any CPU. Leaves the load driver a core of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    /// CPU quota of every server's ZooKeeper container in CPUs (like Docker `--cpus`, e.g. `0.5`,
    /// over a 10 ms CFS period, see `cluster::container::CPU_PERIOD_US`); none = no quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    /// What stopping a server means (see [`StopModel`]): `process` (default) or `host`.
    pub stop_model: StopModel,
}

/// What `stop`, `kill` and `restart` take away, in every procedure (built-in and runbook).
///
/// - `process`: the ZooKeeper process stops on a host that stays up (`zkServer.sh restart`, a
///   crashed JVM on a live VM): the server's address stays, so peers' and clients' connects are
///   **refused** at once.
/// - `host`: the whole host goes (a powered-off VM): its address goes **silent** while it is
///   down, so connects hang until their time-out (ZooKeeper's `cnxTimeout`, 5 s); its name still
///   resolves, as a VM's DNS record outlives its power.
///
/// Runbooks can also take a host away explicitly with `host-down` / `host-up`, whatever this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopModel {
    #[default]
    Process,
    Host,
}

impl StopModel {
    pub fn as_str(&self) -> &'static str {
        match self {
            StopModel::Process => "process",
            StopModel::Host => "host",
        }
    }

    /// What peers and clients see of a stopped server under this model.
    pub fn describe(&self) -> &'static str {
        match self {
            StopModel::Process => "process stopped on a live host: its address stays, connects are refused",
            StopModel::Host => "host powered off: its address is silent while down (its name still resolves), connects hang until they time out",
        }
    }
}

impl ClusterPlan {
    /// The engine server `id` runs on (`None`: the single local engine).
    pub fn engine_of(&self, id: u32) -> Option<&EnginePlan> {
        engines::engine_index(&self.engines, &self.placement, id).map(|i| &self.engines[i])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageKindChoice {
    Auto,
    Debian,
    Official,
}

impl Default for ClusterPlan {
    fn default() -> Self {
        ClusterPlan {
            image: "zkchaos/zookeeper:3.8.0".into(),
            image_kind: ImageKindChoice::Auto,
            size: 3,
            dynamic_config: false,
            tick_time_ms: 2000,
            init_limit: 10,
            sync_limit: 5,
            heap_mb: 256,
            jvm_flags: default_jvm_flags(),
            engines: Vec::new(),
            placement: Vec::new(),
            cpuset: None,
            cpus: None,
            stop_model: StopModel::Process,
        }
    }
}

/// Stock JVMs by default: operators run ordinary JVMs, and the light option below changed what
/// zkchaos measured (rolling 3 -> 5: elections of 5.1-16.4 s after the leader's restart in 5 of 10
/// runs with it, 0 of 5 without — later traced to DNS, not the flags; docs/default-comparison.md).
/// The light option `["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]` (serial GC, C1 JIT only)
/// remains an explicit, labelled choice in a profile (docs/profiles.md gives its effect).
pub fn default_jvm_flags() -> Vec<String> {
    Vec::new()
}

/// Open- or closed-loop client load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadPlan {
    pub mode: LoadMode,
    /// Intended operations per second (open loop).
    pub rate: u32,
    /// Requests in flight (closed loop only).
    pub in_flight: u32,
    /// ZooKeeper sessions sharing the load.
    pub sessions: u32,
    /// Pre-populated keys `/zkchaos/keys/k<i>` used by get and set.
    pub keys: u32,
    /// Bytes per written value.
    pub value_size: u32,
    /// Operation mix as relative weights, e.g. `{ get = 80, set = 10, create = 10 }`.
    pub mix: BTreeMap<OpKind, u32>,
    pub session_timeout_ms: u32,
    pub op_timeout_ms: u32,
    /// Time-series bucket width.
    pub interval_ms: u32,
    /// Stream every operation to `events.csv.gz`.
    pub events: bool,
    /// After an expansion, tell clients about the new servers.
    pub update_server_list_after_expansion: bool,
    /// Who reconnects a session after its connection is lost: the client library's own back-off
    /// (`client`), or zkchaos on a bounded schedule (`eager`).
    pub reconnect: ReconnectMode,
    /// Load threads in this process (0: one per 8,000 ops/s of an open-loop rate, at most the
    /// CPUs; never more than the sessions). Figures are merged over them.
    pub threads: u32,
    /// Load agents on Docker engines instead of (or beside) this process (issue 29).
    pub agents: AgentsPlan,
}

/// `[load.agents]`: the load driven by `count` agent containers, each running zkchaos's own
/// driver (`zkchaos agent`) with its share of the rate and sessions; see docs/agents.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentsPlan {
    /// How many agents (0: the load runs in this process).
    pub count: u32,
    /// Engine names (from `[[cluster.engines]]`) the agents run on, agent i on
    /// `engines[i mod len]`; empty: the local engine.
    pub engines: Vec<String>,
    /// The agents' image (`zkchaos image build --agent`).
    pub image: String,
}

/// The image `zkchaos image build --agent` makes.
pub const DEFAULT_AGENT_IMAGE: &str = "zkchaos/agent:latest";

impl Default for AgentsPlan {
    fn default() -> Self {
        AgentsPlan { count: 0, engines: Vec::new(), image: DEFAULT_AGENT_IMAGE.into() }
    }
}

/// How a session gets back after its connection is lost (see docs/measurements.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ReconnectMode {
    /// `zookeeper-client`'s own reconnect: it cycles over the endpoints with a back-off of
    /// min(1 s, 100 ms × n) doubling per cycle, keeping the session.
    #[default]
    Client,
    /// zkchaos replaces the session as soon as one of its operations fails with a connection
    /// loss or a timeout, connecting a new one every 200 ms until it succeeds, so the client-
    /// visible outage follows the service rather than the library's back-off luck.
    Eager,
}

impl ReconnectMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReconnectMode::Client => "client",
            ReconnectMode::Eager => "eager",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadMode {
    Open,
    Closed,
}

impl LoadPlan {
    /// Kinds with a positive weight, in [`OpKind::ALL`] order.
    pub fn mix_kinds(&self) -> Vec<OpKind> {
        OpKind::ALL.into_iter().filter(|k| self.weight(*k) > 0).collect()
    }

    /// The weight of `kind` in the mix (0 when absent).
    pub fn weight(&self, kind: OpKind) -> u32 {
        self.mix.get(&kind).copied().unwrap_or(0)
    }
}

impl Default for LoadPlan {
    fn default() -> Self {
        LoadPlan {
            mode: LoadMode::Open,
            rate: 1000,
            in_flight: 64,
            sessions: 4,
            keys: 100,
            value_size: 100,
            mix: [(OpKind::Get, 80), (OpKind::Set, 10), (OpKind::Create, 10)].into_iter().collect(),
            session_timeout_ms: 10_000,
            op_timeout_ms: 2_000,
            interval_ms: 100,
            events: true,
            update_server_list_after_expansion: false,
            reconnect: ReconnectMode::Client,
            threads: 0,
            agents: AgentsPlan::default(),
        }
    }
}

/// How long each phase of `zkchaos run` lasts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhasesPlan {
    pub warmup_s: f64,
    pub converge_timeout_s: f64,
    /// Consecutive convergence checks (one every 200 ms) that must all see the target state
    /// before the ensemble counts as converged; the first of them is the convergence time.
    pub converge_rounds: u32,
    pub post_s: f64,
    /// Cycles of the procedure within one ensemble (`procedure.repeat` in a profile): each
    /// cycle runs every step, then waits for convergence; 1 (the default) is one pass.
    pub cycles: u32,
    /// Load-only pause after each cycle's convergence before the next cycle starts
    /// (`procedure.cycle_gap_s`), so clients have reconnected before the next fault.
    pub cycle_gap_s: f64,
}

impl Default for PhasesPlan {
    fn default() -> Self {
        PhasesPlan { warmup_s: 10.0, converge_timeout_s: 120.0, converge_rounds: 3, post_s: 15.0, cycles: 1, cycle_gap_s: 5.0 }
    }
}

/// Server-mode monitor (`srvr` poller).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorPlan {
    pub interval_ms: u32,
    pub timeout_ms: u32,
}

impl Default for MonitorPlan {
    fn default() -> Self {
        MonitorPlan { interval_ms: 200, timeout_ms: 150 }
    }
}

/// The procedure run mid-load. `kind` selects the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ProcedurePlan {
    /// Steady load only: the baseline.
    None {
        /// How long the "procedure" phase lasts (load continues).
        #[serde(default = "default_none_duration")]
        duration_s: f64,
    },
    /// Pause one server for a while (ground-truth calibration).
    Pause {
        #[serde(default)]
        target: Target,
        #[serde(default = "default_pause_ms")]
        duration_ms: u64,
    },
    /// Standalone (or static N) to `to` servers by editing zoo.cfg and restarting.
    RestartExpand {
        to: u32,
        #[serde(default)]
        order: RestartOrder,
    },
    /// N to M servers by rewriting zoo.cfg and restarting old servers one at a time.
    RollingExpand {
        to: u32,
        #[serde(default)]
        order: RollingOrder,
        #[serde(default)]
        step_gap_ms: u64,
    },
    /// N to M servers by dynamic reconfiguration.
    ReconfigExpand {
        to: u32,
        #[serde(default)]
        step: ReconfigStep,
        #[serde(default)]
        auth: ReconfigAuth,
        #[serde(default = "default_reconfig_attempts")]
        max_attempts: u32,
    },
    /// A runbook: the steps in order (`[[procedure.steps]]`), see [`steps`].
    Steps {
        steps: Vec<Step>,
        /// How reconfig steps authenticate (used only if a step needs an admin session).
        #[serde(default)]
        auth: ReconfigAuth,
    },
}

fn default_none_duration() -> f64 {
    10.0
}
fn default_pause_ms() -> u64 {
    3000
}
fn default_reconfig_attempts() -> u32 {
    5
}

impl Default for ProcedurePlan {
    fn default() -> Self {
        ProcedurePlan::None { duration_s: default_none_duration() }
    }
}

impl ProcedurePlan {
    /// Strategy name as written in summaries and comparisons.
    pub fn strategy(&self) -> String {
        match self {
            ProcedurePlan::None { .. } => "none".into(),
            ProcedurePlan::Pause { .. } => "pause".into(),
            ProcedurePlan::RestartExpand { order, .. } => format!("restart-expand/{}", order.as_str()),
            ProcedurePlan::RollingExpand { order, .. } => format!("rolling-expand/{}", order.as_str()),
            ProcedurePlan::ReconfigExpand { step, .. } => format!("reconfig-expand/{}", step.as_str()),
            ProcedurePlan::Steps { .. } => "steps".into(),
        }
    }

    /// Ensemble size after the procedure, given the size before.
    pub fn target_size(&self, from: u32) -> u32 {
        match self {
            ProcedurePlan::None { .. } | ProcedurePlan::Pause { .. } => from,
            ProcedurePlan::RestartExpand { to, .. }
            | ProcedurePlan::RollingExpand { to, .. }
            | ProcedurePlan::ReconfigExpand { to, .. } => *to,
            ProcedurePlan::Steps { steps, .. } => steps::final_size(from, steps),
        }
    }

    /// How reconfig authenticates, when the procedure uses an administrative session at all
    /// (`reconfig-expand`, or a runbook with a reconfig, quorum-write, or joiner/observer start).
    pub fn reconfig_auth(&self) -> Option<ReconfigAuth> {
        match self {
            ProcedurePlan::ReconfigExpand { auth, .. } => Some(*auth),
            ProcedurePlan::Steps { steps, auth } => steps
                .iter()
                .any(|s| {
                    matches!(s.action, StepAction::Reconfig | StepAction::QuorumWrite)
                        || matches!(s.config, Some(StartConfig::Joiner | StartConfig::Observer))
                })
                .then_some(*auth),
            _ => None,
        }
    }
}

/// Which server a fault targets: `target = "leader"` or `target = 2` in a profile.
///
/// Serde is written by hand (rather than `untagged`) so that both spellings deserialize from any
/// self-describing format, including the buffered content of the internally tagged
/// [`ProcedurePlan`], and so that a wrong value gets a message saying what would be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// A server id.
    Id(u32),
    /// The current leader (the standalone server in a 1-server ensemble).
    #[default]
    Leader,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Id(id) => write!(f, "{id}"),
            Target::Leader => f.write_str("leader"),
        }
    }
}

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Target::Id(id) => s.serialize_u32(*id),
            Target::Leader => s.serialize_str("leader"),
        }
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TargetVisitor)
    }
}

struct TargetVisitor;

impl TargetVisitor {
    fn id<E: serde::de::Error>(v: i128) -> Result<Target, E> {
        u32::try_from(v)
            .map(Target::Id)
            .map_err(|_| E::custom(format!("expected \"leader\" or a server id between 1 and 9, found {v}")))
    }
}

impl<'de> serde::de::Visitor<'de> for TargetVisitor {
    type Value = Target;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"leader\" or a server id")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Target, E> {
        if v == "leader" {
            Ok(Target::Leader)
        } else {
            Err(E::custom(format!("expected \"leader\" or a server id, found {v:?}")))
        }
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Target, E> {
        Self::id(v.into())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Target, E> {
        Self::id(v.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RestartOrder {
    /// Start the new servers first, then restart the old one (the order in common guides).
    #[default]
    NewFirst,
    /// Restart the old server with the new config first, then start the new ones.
    OldFirst,
}

impl RestartOrder {
    pub fn as_str(&self) -> &'static str {
        match self {
            RestartOrder::NewFirst => "new-first",
            RestartOrder::OldFirst => "old-first",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RollingOrder {
    #[default]
    Ids,
    LeaderFirst,
    LeaderLast,
}

impl RollingOrder {
    pub fn as_str(&self) -> &'static str {
        match self {
            RollingOrder::Ids => "ids",
            RollingOrder::LeaderFirst => "leader-first",
            RollingOrder::LeaderLast => "leader-last",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ReconfigStep {
    /// One reconfig adding every joiner.
    #[default]
    Together,
    /// One reconfig per joiner.
    OneByOne,
}

impl ReconfigStep {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReconfigStep::Together => "together",
            ReconfigStep::OneByOne => "one-by-one",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ReconfigAuth {
    /// Authenticate as `super` with a per-run random password (digest passed to servers).
    #[default]
    SuperDigest,
    /// `skipACL=yes` on every server (insecure; the summary says so).
    SkipAcl,
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
    /// In a session of its own: create the ephemeral znode `/zkchaos/eph/<token>`, then close
    /// the session (its `close` is recorded as a row of its own). The node must then be gone on
    /// every server (the `ephemerals` check).
    Ephemeral,
    /// As `ephemeral`, but the session is abandoned (dropped without a close) and left to
    /// expire after its negotiated timeout.
    #[serde(rename = "ephemeral-abandon")]
    EphemeralAbandon,
    /// Recorded only, never chosen by the mix: the close of an `ephemeral` operation's session
    /// (ok = acknowledged by the server).
    Close,
}

impl OpKind {
    /// Every kind an event can have (the mix may choose all but [`OpKind::Close`]).
    pub const ALL: [OpKind; 9] = [
        OpKind::Get,
        OpKind::Set,
        OpKind::Create,
        OpKind::Exists,
        OpKind::Delete,
        OpKind::Multi,
        OpKind::Ephemeral,
        OpKind::EphemeralAbandon,
        OpKind::Close,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OpKind::Get => "get",
            OpKind::Set => "set",
            OpKind::Create => "create",
            OpKind::Exists => "exists",
            OpKind::Delete => "delete",
            OpKind::Multi => "multi",
            OpKind::Ephemeral => "ephemeral",
            OpKind::EphemeralAbandon => "ephemeral-abandon",
            OpKind::Close => "close",
        }
    }

    /// A kind the operation mix may choose (`close` is only recorded, as part of `ephemeral`).
    pub fn is_mixable(&self) -> bool {
        !matches!(self, OpKind::Close)
    }

    /// The ephemeral-node kinds, each run in a short-lived session of its own.
    pub fn is_ephemeral(&self) -> bool {
        matches!(self, OpKind::Ephemeral | OpKind::EphemeralAbandon)
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


/// Where the workload's znodes live: the driver writes there, the read-back reads there, and the
/// audit interprets paths under it. One definition for all three.
pub mod keyspace {
    pub const ROOT: &str = "/zkchaos";
    /// Parent of the pre-populated keys `k<i>`.
    pub const KEYS_DIR: &str = "/zkchaos/keys";
    /// Parent of the sequential znodes created by the workload.
    pub const SEQ_DIR: &str = "/zkchaos/seq";
    /// Prefix of sequential creates.
    pub const SEQ_PREFIX: &str = "/zkchaos/seq/s-";
    /// Parent of the ephemeral znodes `<token>` of `ephemeral` operations.
    pub const EPH_DIR: &str = "/zkchaos/eph";

    /// The ephemeral znode of the operation writing `token`.
    pub fn eph_path(token: &str) -> String {
        format!("{EPH_DIR}/{token}")
    }

    pub fn key_path(i: u32) -> String {
        format!("{KEYS_DIR}/k{i}")
    }
}
