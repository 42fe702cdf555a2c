//! The load: generator + client (Jepsen's terms). It is zkchaos' measuring instrument — every
//! outage and latency figure comes from it.
//!
//! - A [`Schedule`] (open loop at a fixed rate, or closed loop with N in flight) is a value
//!   handed to one driver loop ([`driver`]). The driver, the operations and the sessions run on
//!   one [`load_thread`]; in open loop the driver waits precisely until each intended start and
//!   spawns one task per operation, so a slow completion never delays later sends. Latency is
//!   always `end − intended`.
//! - The operation sequence (kind and key of operation `i`) is a function of the run's seed and
//!   `i` ([`sequence`]), so it is reproducible and each load thread generates only its own
//!   operations. Operation `i` runs on session `i mod sessions`.
//! - `ephemeral` / `ephemeral-abandon` operations run in a short-lived session of their own
//!   ([`ephemeral`]): create `/zkchaos/eph/<token>` ephemeral, then close the session (a `close`
//!   row records whether the close was acknowledged) or abandon it to expire.
//! - Keys `/zkchaos/keys/k<i>` are pre-populated; creates are persistent sequential under
//!   `/zkchaos/seq/s-`; deletes remove znodes this run created; a delete slot with no victim left
//!   is skipped (not issued, not recorded) rather than sent to a path that cannot exist. Every
//!   session `sync`s the key space before the load starts. Every write carries a unique token `<session>-<op index>` and
//!   writes [`payload`]`(token, value_size)`; [`token_of`] maps bytes back to the token.
//! - Every operation is bounded by `op_timeout` (enforced every 10 ms: [`driver::HOUSEKEEPING`]). Outcomes and error
//!   classes: see the table in [`ops`].
//! - A session that expires (or whose client closed) is recreated in the background; meanwhile
//!   its operations are recorded as failures and a `session-expired s<idx>` mark is emitted.
//!   The schedule never waits for it.

pub mod deadline;
pub mod driver;
pub mod housekeeping;
pub mod ephemeral;
pub mod load_thread;
pub mod ops;
pub mod readback;
pub mod schedule;
pub mod sequence;

pub use driver::WorkloadReport;

pub use ops::{payload, token_of};
pub use schedule::{Pace, Schedule};
pub use sequence::{Mix, OpGen, OpSpec, Ops};

use crate::plan::LoadPlan;
use crate::record::{Epoch, OpKind};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use zookeeper_client as zk;

pub use crate::plan::keyspace::{eph_path, key_path, EPH_DIR, KEYS_DIR, ROOT, SEQ_DIR, SEQ_PREFIX};

/// The client model of a run's sessions (`load.reconnect`), as `meta.json` and the summary
/// state it. With `client` it is the Rust `zookeeper-client` crate's reconnect behaviour (read
/// from its `endpoint.rs`): a client-visible outage ends when a session reconnects, which can be
/// seconds after the service is back, so the summary puts the service's own outage and the
/// reconnect delay beside it.
pub fn client_model(mode: crate::plan::ReconnectMode) -> &'static str {
    match mode {
        crate::plan::ReconnectMode::Client => "reconnect = client: zookeeper-client 0.11 (Rust) reconnects itself: it tries the listed servers in turn (50 ms x offset + jitter apart) and after each full cycle over n servers sleeps min(1 s, 100 ms x n) x 2^(cycles-1) + up to 100 ms jitter (the Java client instead sleeps a random 0-1 s before each attempt)",
        crate::plan::ReconnectMode::Eager => "reconnect = eager: zkchaos replaces a session as soon as an operation fails with a connection loss or time-out and retries every 200 ms, so the client outage follows the service",
    }
}
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("invalid operation mix {value:?}: {detail} (valid kinds: get, set, create, exists, delete, multi, ephemeral, ephemeral-abandon; e.g. get=80,set=10,create=10)")]
    BadMix { value: String, detail: String },
    #[error("invalid load setting {field} = {value}: {detail}")]
    BadSetting { field: &'static str, value: String, detail: String },
    #[error("cannot open ZooKeeper session {session} to {connect}: {detail}")]
    Connect { session: u32, connect: String, detail: String },
    #[error("cannot create {path} while preparing the key space: {detail}")]
    Prepare { path: String, detail: String },
    #[error("cannot start the load driver thread: {0}")]
    Thread(std::io::Error),
    #[error("cannot create the load driver's timer: {0}")]
    Timer(std::io::Error),
    #[error("cannot create results directory {path}: {source}")]
    ResultsDir { path: std::path::PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {detail}")]
    WriteFile { path: std::path::PathBuf, detail: String },
}

impl From<WorkloadError> for crate::Error {
    fn from(e: WorkloadError) -> Self {
        match e {
            WorkloadError::BadMix { .. } | WorkloadError::BadSetting { .. } => crate::Error::BadInput(Box::new(e)),
            WorkloadError::Connect { .. } => crate::Error::Environment(Box::new(e)),
            _ => crate::Error::Failed(Box::new(e)),
        }
    }
}

/// Parse `get=80,set=10,create=10` (the `zkchaos load --mix` syntax).
pub fn parse_mix(s: &str) -> Result<BTreeMap<OpKind, u32>, WorkloadError> {
    let bad = |detail: String| WorkloadError::BadMix { value: s.to_string(), detail };
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, w) = part.split_once('=').ok_or_else(|| bad(format!("{part:?} is not kind=weight")))?;
        let k = k.trim();
        let kind = OpKind::parse(k).ok_or_else(|| bad(format!("unknown kind {k:?}")))?;
        let w: u32 = w.trim().parse().map_err(|_| bad(format!("weight {w:?} of {k} is not a whole number")))?;
        out.insert(kind, w);
    }
    Mix::new(&out).map_err(|e| match e {
        WorkloadError::BadMix { detail, .. } => bad(detail),
        other => other,
    })?;
    Ok(out)
}

/// Connected sessions and a prepared key space, ready to [`Workload::run`].
pub struct Workload {
    pub(crate) plan: LoadPlan,
    pub(crate) seed: u64,
    pub(crate) epoch: Epoch,
    pub(crate) mix: Mix,
    pub(crate) clients: Vec<zk::Client>,
    pub(crate) servers_tx: tokio::sync::watch::Sender<String>,
    /// Added to every recorded session id (and write token): 0 in one process; a load agent's
    /// qualification ([`crate::agents::session_base`]) so that merged events stay apart.
    pub(crate) session_base: u32,
    /// When preparing ended (sessions connected, key space created and synced), µs since the epoch.
    pub(crate) prepared_us: u64,
    /// Where the sessions' tasks, the driver loops and the operations run (session `s` on
    /// thread `s mod n`); last, so that they stop after the clients above were dropped (their
    /// sessions close on them).
    pub(crate) threads: Vec<load_thread::LoadThread>,
}

pub(crate) fn connector(plan: &LoadPlan) -> zk::Connector {
    zk::Client::connector().with_session_timeout(Duration::from_millis(u64::from(plan.session_timeout_ms)))
}

/// Connect one session, bounded by the session timeout plus the operation timeout.
pub(crate) async fn connect_session(plan: &LoadPlan, connect: &str, session: u32) -> Result<zk::Client, WorkloadError> {
    let limit = Duration::from_millis(u64::from(plan.session_timeout_ms) + u64::from(plan.op_timeout_ms));
    let err = |detail: String| WorkloadError::Connect { session, connect: connect.to_string(), detail };
    match tokio::time::timeout(limit, connector(plan).connect(connect)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(err(e.to_string())),
        Err(_) => Err(err(format!("no session within {} ms", limit.as_millis()))),
    }
}

/// The rate one load thread is given at most when the number of threads is automatic
/// (`load.threads = 0`): one thread saturates a core near 15,000–20,000 ops/s here (issue 14), and
/// its schedule lag grows well before that.
pub const RATE_PER_THREAD: u32 = 8_000;

/// How many load threads drive `plan`: `load.threads` when set; otherwise one per
/// [`RATE_PER_THREAD`] of an open-loop rate (closed loop: one), at most `cpus` and never more
/// than the sessions (a thread owns whole sessions).
pub fn load_threads(plan: &LoadPlan, cpus: usize) -> usize {
    let wanted = match (plan.threads, plan.mode) {
        (0, crate::plan::LoadMode::Open) => (plan.rate.div_ceil(RATE_PER_THREAD) as usize).min(cpus.max(1)),
        (0, crate::plan::LoadMode::Closed) => 1,
        (n, _) => n as usize,
    };
    wanted.clamp(1, plan.sessions.max(1) as usize)
}

fn available_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Attempts at each create of the key space: preparing is not measured, and a create that timed
/// out (a server still warming up on a busy host) is safe to send again (an existing node is fine).
const PREPARE_ATTEMPTS: u32 = 5;

async fn ensure(client: &zk::Client, path: &str, data: &[u8], op_timeout: Duration) -> Result<(), WorkloadError> {
    let opts = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    let err = |detail: String| WorkloadError::Prepare { path: path.to_string(), detail };
    for _ in 0..PREPARE_ATTEMPTS {
        match tokio::time::timeout(op_timeout, client.create(path, data, &opts)).await {
            Ok(Ok(_)) | Ok(Err(zk::Error::NodeExists)) => return Ok(()),
            Ok(Err(e)) => return Err(err(e.to_string())),
            Err(_) => continue,
        }
    }
    Err(err(format!("timed out {PREPARE_ATTEMPTS} times, after {} ms each", op_timeout.as_millis())))
}

/// The full paths of `parent`'s children as the session's server sees them now (a local read);
/// empty if they cannot be read (then everything is created, and what exists is tolerated).
async fn existing_children(client: &zk::Client, parent: &str, op_timeout: Duration) -> std::collections::HashSet<String> {
    match tokio::time::timeout(op_timeout, client.list_children(parent)).await {
        Ok(Ok(names)) => names.into_iter().map(|n| format!("{parent}/{n}")).collect(),
        _ => Default::default(),
    }
}

impl Workload {
    /// Validate the plan, connect `plan.sessions` sessions and create the key space
    /// (`/zkchaos/keys/k0..k<keys>` with an `init` value, `/zkchaos/seq`), tolerating what exists.
    pub async fn prepare(plan: &LoadPlan, connect: &str, seed: u64, epoch: Epoch) -> Result<Workload, WorkloadError> {
        let mix = Mix::new(&plan.mix)?;
        let setting = |field: &'static str, value: u32, detail: &str| WorkloadError::BadSetting {
            field,
            value: value.to_string(),
            detail: detail.to_string(),
        };
        if plan.sessions == 0 {
            return Err(setting("sessions", 0, "at least one session is needed"));
        }
        if plan.keys == 0 {
            return Err(setting("keys", 0, "at least one key is needed"));
        }
        if plan.op_timeout_ms == 0 {
            return Err(setting("op_timeout_ms", 0, "must be positive"));
        }
        let n = load_threads(plan, available_cpus());
        let threads = (0..n).map(|_| load_thread::LoadThread::start()).collect::<Result<Vec<_>, _>>().map_err(WorkloadError::Thread)?;
        // Connected from its load thread, so that each session's task lives there.
        let clients = futures_util::future::try_join_all((0..plan.sessions).map(|s| {
            let (plan, connect) = (plan.clone(), connect.to_string());
            threads[s as usize % threads.len()].spawn(async move { connect_session(&plan, &connect, s).await })
        }))
        .await?;
        let op_timeout = Duration::from_millis(u64::from(plan.op_timeout_ms));
        let c = &clients[0];
        for dir in [ROOT, KEYS_DIR, SEQ_DIR, EPH_DIR] {
            ensure(c, dir, b"", op_timeout).await?;
        }
        let init = payload("init", plan.value_size as usize);
        // Only the missing keys are created: creating one that exists is not free, ZooKeeper
        // proposes the failed create (an error transaction) to every follower, and a sweep
        // prepares the same key space before each of its steps (issue 27).
        let existing = existing_children(c, KEYS_DIR, op_timeout).await;
        let keys: Vec<String> = (0..plan.keys).map(key_path).filter(|p| !existing.contains(p)).collect();
        for chunk in keys.chunks(256) {
            futures_util::future::try_join_all(chunk.iter().map(|p| ensure(c, p, &init, op_timeout))).await?;
        }
        // Every session must see the key space before the load starts: a session on a follower
        // that has not yet applied the creates would read NoNode for its first milliseconds.
        futures_util::future::try_join_all(clients.iter().map(|c| async move {
            match tokio::time::timeout(op_timeout, c.sync(KEYS_DIR)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(WorkloadError::Prepare { path: KEYS_DIR.into(), detail: format!("sync: {e}") }),
                Err(_) => Err(WorkloadError::Prepare { path: KEYS_DIR.into(), detail: "sync timed out".into() }),
            }
        }))
        .await?;
        let (servers_tx, _) = tokio::sync::watch::channel(connect.to_string());
        let prepared_us = epoch.now_us();
        Ok(Workload { plan: plan.clone(), seed, epoch, mix, clients, servers_tx, session_base: 0, prepared_us, threads })
    }

    /// Send a new connect string here (e.g. after an expansion): every session is replaced by
    /// one connected with the new server list, in the background (marks
    /// `server-list-updated s<idx>`). The replaced sessions are closed (the client library has
    /// no in-place `updateServerList`).
    pub fn server_list(&self) -> tokio::sync::watch::Sender<String> {
        self.servers_tx.clone()
    }

    /// This workload's operations, any one on demand (a lane's: [`OpGen::lane`]).
    pub fn ops(&self) -> Ops {
        Ops::new(self.mix.clone(), self.plan.keys, self.seed)
    }

    pub fn plan(&self) -> &LoadPlan {
        &self.plan
    }

    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// Record this workload's sessions as `base + s` (a load agent's qualification).
    pub fn with_session_base(mut self, base: u32) -> Workload {
        self.session_base = base;
        self
    }

    /// When preparing ended, µs since the epoch: no intended start may precede it.
    pub fn prepared_us(&self) -> u64 {
        self.prepared_us
    }

    /// Drive the plan's schedule (open loop at `plan.rate`, or closed with `plan.in_flight`),
    /// starting now, until `cancel` fires; in-flight operations then finish (each bounded by
    /// `op_timeout`) before the future resolves. Events and marks go to `recorder`. This is what
    /// the run orchestrator uses; see [`Workload::run_schedule`] for an explicit schedule.
    pub fn run(
        self,
        recorder: crate::record::RecorderHandle,
        cancel: tokio_util::sync::CancellationToken,
    ) -> impl std::future::Future<Output = Result<(), WorkloadError>> + Send + 'static {
        let schedule = Schedule::from_plan(&self.plan, self.epoch.now_us(), None);
        let fut = self.run_schedule(schedule, recorder, cancel);
        async move { fut.await.map(|_| ()) }
    }

    /// Drive `schedule` (spawn the returned future, or await it). Ends when the schedule ends
    /// or `cancel` fires, after every in-flight operation finished.
    pub fn run_schedule(
        self,
        schedule: Schedule,
        recorder: crate::record::RecorderHandle,
        cancel: tokio_util::sync::CancellationToken,
    ) -> impl std::future::Future<Output = Result<WorkloadReport, WorkloadError>> + Send + 'static {
        driver::run(Arc::new(self), schedule, recorder, cancel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parsing() {
        let m = parse_mix("get=80, set=10,create=10").unwrap();
        assert_eq!(m[&OpKind::Get], 80);
        assert!(parse_mix("get=80,foo=1").is_err());
        assert!(parse_mix("get=0").is_err());
        assert!(parse_mix("get").is_err());
        assert!(parse_mix("get=1,close=1").unwrap_err().to_string().contains("not chosen by the mix"));
        let e = parse_mix("get=8,ephemeral=1,ephemeral-abandon=1").unwrap();
        assert_eq!(Mix::new(&e).unwrap().kinds(), &[OpKind::Get, OpKind::Ephemeral, OpKind::EphemeralAbandon]);
        assert_eq!(Mix::new(&m).unwrap().kinds(), &[OpKind::Get, OpKind::Set, OpKind::Create]);
    }

    #[test]
    fn load_threads_follow_the_rate_within_cpus_and_sessions() {
        let open = |rate: u32, sessions: u32, threads: u32| LoadPlan { rate, sessions, threads, ..LoadPlan::default() };
        assert_eq!(load_threads(&open(5_000, 4, 0), 2), 1);
        assert_eq!(load_threads(&open(8_001, 4, 0), 2), 2);
        assert_eq!(load_threads(&open(40_000, 4, 0), 2), 2, "no more threads than CPUs");
        assert_eq!(load_threads(&open(40_000, 4, 0), 16), 4, "no more threads than sessions");
        assert_eq!(load_threads(&open(40_000, 1, 0), 16), 1);
        assert_eq!(load_threads(&open(100, 4, 3), 1), 3, "an explicit count wins over the CPUs");
        assert_eq!(load_threads(&open(100, 2, 3), 1), 2, "but not over the sessions");
        let closed = LoadPlan { mode: crate::plan::LoadMode::Closed, ..LoadPlan::default() };
        assert_eq!(load_threads(&closed, 8), 1);
    }
}
