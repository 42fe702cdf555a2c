//! The one driver loop, the per-operation task, and session replacement.
//!
//! Everything here runs on the workload's [`LoadThread`](super::load_thread): in open loop the
//! driver waits with a precise `async_io::Timer` until each intended start (tokio's timer has
//! 1 ms granularity, which would issue a 5,000 ops/s schedule in bursts) and spawns the
//! operation onto the same executor; in closed loop it waits for one of `in_flight` permits.
//! Either way each operation is its own task, so late completions never delay later sends.
//! Housekeeping hands completed operations' events to the recorder in batches every
//! [`HOUSEKEEPING`] (into its inbox: no message, no wake-up of the recorder per operation or
//! per batch), and ends operations past their deadline then (no timer per operation).
//!
//! When the load has several load threads (`load.threads`, or one per
//! [`super::RATE_PER_THREAD`]), each runs a driver loop of its own — a [`Lane`] — over the same
//! schedule, generating and issuing only the operations of the sessions it owns
//! ([`super::sequence`]); each lane keeps its own completed events and deadlines and does its own
//! housekeeping ([`LaneBook`]), so lanes share no lock per operation; the events go to the same
//! recorder, so every figure is merged over the threads. Each thread's CPU over
//! the driving window is reported ([`ThreadFigure`]) so that a saturated driver is named.
//!
//! Threading was decided with `zkchaos bench --only cpu,lag` (issue 14): see the load thread's
//! module docs for the design and the figures; the designs it replaced (a sleeper thread
//! spawning onto the tokio runtime; driver and sessions on a current-thread tokio runtime with a
//! timerfd) are commits c8b32eb and 32c0420 and the code before this module's last rewrite.

use super::deadline::within;
use super::housekeeping::LaneBook;
pub use super::housekeeping::{HOUSEKEEPING, HOUSEKEEPING_IDLE};
use super::load_thread::PreciseTimer;
use super::ops::{classify, session_lost, Failure};
use super::schedule::{Pace, Schedule};
pub use super::sequence::{lane_of, Lane};
use super::{connect_session, key_path, payload, OpGen, OpSpec, Workload, WorkloadError, SEQ_PREFIX};
use crate::plan::ReconnectMode;
use crate::record::{ErrorClass, MarkKind, OpEvent, OpKind, Outcome, RecorderHandle};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use zookeeper_client as zk;

/// What the driver did.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct WorkloadReport {
    /// Operations issued.
    pub issued: u64,
    /// Sessions that expired or closed and were replaced.
    pub session_expiries: u64,
    /// Intended start of the first operation, µs.
    pub start_us: u64,
    /// When scheduling stopped (end of schedule or cancellation), µs.
    pub stop_us: u64,
    pub cancelled: bool,
    /// CPU of each load thread over the driving window (issue 29): a thread busy near 100 % was
    /// the bottleneck, and its schedule lag says so.
    #[serde(default)]
    pub threads: Vec<ThreadFigure>,
}

/// One load thread's CPU over the driving window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct ThreadFigure {
    /// The thread's CPU time (user + system), µs.
    pub cpu_us: u64,
    /// The driving window's wall time, µs.
    pub wall_us: u64,
}

/// A load thread at least this busy (% of one core) was saturated: lag is then the driver's.
pub const SATURATED_PERCENT: f64 = 90.0;

impl ThreadFigure {
    pub fn busy_percent(&self) -> f64 {
        100.0 * self.cpu_us as f64 / self.wall_us.max(1) as f64
    }
}

impl WorkloadReport {
    /// The busiest load thread's share of one core, %, if measured.
    pub fn busiest_thread_percent(&self) -> Option<f64> {
        self.threads.iter().map(ThreadFigure::busy_percent).reduce(f64::max)
    }

    /// Whether a load thread was saturated (the lag figure is then the driver's, not the service's).
    pub fn driver_bound(&self) -> bool {
        self.busiest_thread_percent().is_some_and(|p| p >= SATURATED_PERCENT)
    }
}

struct Slot {
    /// Shared, not cloned per operation: a `zk::Client` clone allocates (its session password).
    client: RwLock<Option<Arc<zk::Client>>>,
    replacing: AtomicBool,
}

struct Ctx {
    wl: Arc<Workload>,
    /// The load threads' executors: the operations of session `s`, and its replacements, run on
    /// executor `s mod n` (see [`lane_of`]).
    exs: Vec<Arc<async_executor::Executor<'static>>>,
    slots: Vec<Slot>,
    recorder: RecorderHandle,
    /// What each load thread's housekeeping owns (index: lane), so that lanes never share a lock.
    lanes: Vec<LaneBook>,
    cancel: CancellationToken,
    op_timeout: Duration,
    created: Mutex<VecDeque<String>>,
    /// Created paths are only kept as delete victims when the mix deletes.
    keep_created: bool,
    expiries: AtomicU64,
}

impl Ctx {
    fn new(wl: Arc<Workload>, recorder: RecorderHandle, cancel: CancellationToken) -> Ctx {
        let slots = wl
            .clients
            .iter()
            .map(|c| Slot { client: RwLock::new(Some(Arc::new(c.clone()))), replacing: AtomicBool::new(false) })
            .collect();
        Ctx {
            op_timeout: Duration::from_millis(u64::from(wl.plan.op_timeout_ms)),
            exs: wl.threads.iter().map(|t| t.executor()).collect(),
            slots,
            recorder,
            lanes: wl.threads.iter().map(|_| LaneBook::default()).collect(),
            cancel,
            created: Mutex::new(VecDeque::new()),
            keep_created: wl.plan.weight(OpKind::Delete) > 0,
            expiries: AtomicU64::new(0),
            wl,
        }
    }

    /// The bookkeeping of the lane that runs session `session`'s operations.
    fn book(&self, session: u32) -> &LaneBook {
        &self.lanes[session as usize % self.lanes.len()]
    }

    /// Housekeeping of lane `lane` (called from its own thread).
    fn housekeep(&self, lane: usize, now_us: u64) {
        self.lanes[lane].housekeep(now_us, &self.recorder);
    }

    /// Hand every lane's completed operations to the recorder.
    fn hand_over(&self) {
        for book in &self.lanes {
            book.hand_over(&self.recorder);
        }
    }
}

pub(crate) async fn run(
    wl: Arc<Workload>,
    schedule: Schedule,
    recorder: RecorderHandle,
    cancel: CancellationToken,
) -> Result<WorkloadReport, WorkloadError> {
    let ctx = Arc::new(Ctx::new(wl.clone(), recorder, cancel.clone()));
    let server_list = tokio::spawn(follow_server_list(ctx.clone()));
    // A backstop per lane, on the lane's thread (closed loop and quiet schedules).
    let housekeeping = wl
        .threads
        .iter()
        .enumerate()
        .map(|(lane, thread)| Ok(thread.spawn(backstop(ctx.clone(), lane, PreciseTimer::new().map_err(WorkloadError::Timer)?))))
        .collect::<Result<Vec<_>, WorkloadError>>()?;
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let cpu_before = threads_cpu_us(&wl).await;
    let wall_before = wl.epoch.now_us();
    let lanes = wl.threads.len();
    let mut drives = Vec::with_capacity(lanes);
    for (lane, thread) in wl.threads.iter().enumerate() {
        let timer = PreciseTimer::new().map_err(WorkloadError::Timer)?;
        let lane = Lane { index: lane, of: lanes, sessions: ctx.slots.len() };
        drives.push(thread.spawn(drive(schedule, lane, timer, ctx.clone(), cancel.clone(), done_tx.clone())));
    }
    drop(done_tx);
    let (mut issued, mut stop_us, mut cancelled) = (0, 0, false);
    for (n, stop, c) in futures_util::future::join_all(drives).await {
        (issued, stop_us, cancelled) = (issued + n, stop_us.max(stop), cancelled || c);
    }
    // Every operation task holds a sender: recv() returns None once all have finished.
    let _ = done_rx.recv().await;
    let wall_us = wl.epoch.now_us().saturating_sub(wall_before);
    let threads = threads_cpu_us(&wl).await.iter().zip(cpu_before).map(|(a, b)| ThreadFigure { cpu_us: a.saturating_sub(b), wall_us }).collect();
    drop(housekeeping);
    ctx.hand_over();
    server_list.abort();
    Ok(WorkloadReport {
        issued,
        session_expiries: ctx.expiries.load(Ordering::Relaxed),
        start_us: schedule.start_us,
        stop_us,
        cancelled,
        threads,
    })
}

/// Lane `lane`'s housekeeping every [`HOUSEKEEPING_IDLE`], whatever its driver loop does.
async fn backstop(ctx: Arc<Ctx>, lane: usize, timer: PreciseTimer) {
    loop {
        if timer.sleep_until(std::time::Instant::now() + HOUSEKEEPING_IDLE).await.is_err() {
            async_io::Timer::after(HOUSEKEEPING_IDLE).await;
        }
        ctx.housekeep(lane, ctx.wl.epoch.now_us());
    }
}

/// Each load thread's CPU time so far, µs (read on the thread itself).
async fn threads_cpu_us(wl: &Workload) -> Vec<u64> {
    futures_util::future::join_all(wl.threads.iter().map(|t| t.spawn(async { super::load_thread::thread_cpu_us() }))).await
}

/// Wait until `t_us` since the epoch (precisely: see [`PreciseTimer`]); the time it woke, µs
/// since the epoch, or `None` if cancelled first.
async fn wait_until(ctx: &Ctx, timer: &PreciseTimer, t_us: u64, cancel: &CancellationToken) -> Option<u64> {
    let epoch = ctx.wl.epoch;
    loop {
        if cancel.is_cancelled() {
            return None;
        }
        let now = epoch.now_us();
        if now >= t_us {
            return Some(now);
        }
        // Bounded so that a cancellation is noticed within 20 ms without a waiter per operation.
        let until = epoch.instant + Duration::from_micros(t_us.min(now + 20_000));
        if let Err(e) = timer.sleep_until(until).await {
            tracing::warn!("the driver's timer failed ({e}); waiting with async-io's timer instead");
            async_io::Timer::at(until).await;
        }
    }
}

/// One lane's driver loop. Returns (ops issued, stop time, cancelled).
async fn drive(
    schedule: Schedule,
    lane: Lane,
    timer: PreciseTimer,
    ctx: Arc<Ctx>,
    cancel: CancellationToken,
    done: mpsc::Sender<()>,
) -> (u64, u64, bool) {
    let epoch = ctx.wl.epoch;
    let sem = match schedule.pace {
        Pace::Closed { in_flight } => Some(Arc::new(Semaphore::new(lane.in_flight_share(in_flight) as usize))),
        Pace::Open { .. } => None,
    };
    let end = schedule.end_us();
    if wait_until(&ctx, &timer, schedule.start_us, &cancel).await.is_none() {
        return (0, epoch.now_us(), true);
    }
    // Each lane generates only its own operations of the reproducible sequence.
    let mut ops = OpGen::lane(ctx.wl.ops(), lane);
    let ex = ctx.exs[lane.index].clone();
    let mut issued = 0u64;
    loop {
        let Some(spec) = ops.next() else { break };
        let (intended, permit): (u64, Option<OwnedSemaphorePermit>) = match (&schedule.pace, &sem) {
            (Pace::Open { .. }, _) => {
                let Some(t) = schedule.intended_us(spec.index) else { break };
                let Some(now) = wait_until(&ctx, &timer, t, &cancel).await else {
                    return (issued, epoch.now_us(), true);
                };
                ctx.housekeep(lane.index, now);
                (t, None)
            }
            (Pace::Closed { .. }, Some(sem)) => {
                let permit = tokio::select! {
                    p = sem.clone().acquire_owned() => p.ok(),
                    _ = cancel.cancelled() => None,
                };
                let Some(permit) = permit else { return (issued, epoch.now_us(), true) };
                let now = epoch.now_us();
                if end.is_some_and(|e| now >= e) {
                    break;
                }
                ctx.housekeep(lane.index, now);
                (now, Some(permit))
            }
            (Pace::Closed { .. }, None) => break,
        };
        ex.spawn(op_task(ctx.clone(), spec, intended, permit, done.clone())).detach();
        issued += 1;
    }
    (issued, end.unwrap_or_else(|| epoch.now_us()), false)
}

/// The task of one operation. `async-task` puts a future of [`OP_TASK_LIMIT`] bytes or more in
/// a second allocation (of a size the allocator's thread cache does not keep), so the task is
/// kept below it: rarely used large states are boxed (see the ephemeral branch of [`execute`]).
fn op_task(
    ctx: Arc<Ctx>,
    spec: OpSpec,
    intended: u64,
    permit: Option<OwnedSemaphorePermit>,
    done: mpsc::Sender<()>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    async move {
        execute(&ctx, spec, intended).await;
        drop(permit);
        drop(done);
    }
}

/// `async-task` 4 allocates futures of this size or more separately from their task.
pub const OP_TASK_LIMIT: usize = 2048;

/// The created path (creates only: every other kind records its key) and the version (-1 if none).
type OpResult = Result<(Option<String>, i64), Failure>;

async fn execute(ctx: &Arc<Ctx>, spec: OpSpec, intended_us: u64) {
    let session = (spec.index % ctx.slots.len() as u64) as u32;
    let slot = &ctx.slots[session as usize];
    let client = slot.client.read().ok().and_then(|c| c.clone());
    // As recorded: qualified by the agent when the load runs in load agents (issue 29).
    let recorded_session = ctx.wl.session_base + session;
    let token = if spec.kind.is_write() { format!("{recorded_session}-{}", spec.index) } else { String::new() };
    if spec.kind.is_ephemeral() {
        // A session of its own, each step bounded by the operation timeout (not the deadlines
        // queue: connect, create and close each get `op_timeout`).
        let connect = ctx.wl.servers_tx.borrow().clone();
        // Boxed: a session's connect is a large future, and inline it would size the task of
        // every operation (each task is allocated at its largest state), not only this kind's.
        let events =
            Box::pin(super::ephemeral::run(&ctx.wl.plan, &connect, ctx.wl.epoch, spec.kind, recorded_session, &token, intended_us))
                .await;
        if let Ok(mut batch) = ctx.book(session).completed.lock() {
            batch.extend(events);
        }
        return;
    }
    // A delete's victim is chosen before the call so that every outcome records its path (an
    // indeterminate delete may have removed it: the audit must know which znode).
    let key = match spec.kind {
        OpKind::Delete => match ctx.created.lock().ok().and_then(|mut q| q.pop_front()) {
            Some(victim) => victim,
            // Nothing this run created is left to delete: skip the slot rather than send a
            // request that can only fail with NoNode (it would read as an error of the service).
            None => return,
        },
        _ => key_path(spec.key),
    };
    let epoch = ctx.wl.epoch;
    let start_us = epoch.now_us();
    let result: OpResult = match &client {
        None => Err(Failure::NoClient),
        Some(c) if c.state().is_terminated() => Err(Failure::NotSent(match c.state() {
            zk::SessionState::Expired => zk::Error::SessionExpired,
            zk::SessionState::AuthFailed => zk::Error::AuthFailed,
            _ => zk::Error::ClientClosed,
        })),
        Some(c) => {
            let deadline = ctx.book(session).deadline(start_us + ctx.op_timeout.as_micros() as u64);
            match within(&deadline, call(ctx, c, spec.kind, &key, &token)).await {
                Some(r) => r.map_err(Failure::Zk),
                None => Err(Failure::Elapsed),
            }
        }
    };
    let end_us = epoch.now_us();
    let (outcome, error, path, version) = match result {
        Ok((created, version)) => (Outcome::Ok, None, created.unwrap_or(key), version),
        Err(f) => {
            let (outcome, class) = classify(spec.kind, &f);
            if session_lost(&f) {
                replace_session(ctx, session, "session-expired", || format!("{f:?}"));
            } else if ctx.wl.plan.reconnect == ReconnectMode::Eager
                && matches!(class, ErrorClass::ConnectionLoss | ErrorClass::Timeout | ErrorClass::NotConnected)
            {
                // Profile choice `reconnect = "eager"`: do not wait for the library's back-off.
                replace_session(ctx, session, "session-reconnect", || format!("{f:?}"));
            }
            let path = match spec.kind {
                OpKind::Create => String::new(),
                _ => key,
            };
            (outcome, Some(class), path, -1)
        }
    };
    let event = OpEvent {
        intended_us,
        start_us,
        end_us,
        kind: spec.kind,
        session: recorded_session,
        path,
        outcome,
        error,
        token,
        version,
    };
    if let Ok(mut batch) = ctx.book(session).completed.lock() {
        batch.push(event);
    }
}

/// Issue one operation; returns the created path (creates only: the others record `key`, not a
/// copy of it) and the version (-1 if none).
async fn call(ctx: &Ctx, c: &zk::Client, kind: OpKind, key: &str, token: &str) -> Result<(Option<String>, i64), zk::Error> {
    let size = ctx.wl.plan.value_size as usize;
    let seq_opts = zk::CreateMode::PersistentSequential.with_acls(zk::Acls::anyone_all());
    match kind {
        OpKind::Get => {
            let (_, stat) = c.get_data(key).await?;
            Ok((None, i64::from(stat.version)))
        }
        OpKind::Exists => {
            let stat = c.check_stat(key).await?;
            Ok((None, stat.map(|s| i64::from(s.version)).unwrap_or(-1)))
        }
        OpKind::Set => {
            let stat = c.set_data(key, &payload(token, size), None).await?;
            Ok((None, i64::from(stat.version)))
        }
        OpKind::Create => {
            let (_, seq) = c.create(SEQ_PREFIX, &payload(token, size), &seq_opts).await?;
            let path = format!("{SEQ_PREFIX}{seq}");
            remember(ctx, &path);
            Ok((Some(path), -1))
        }
        OpKind::Delete => {
            // `key` is the victim chosen by the caller.
            c.delete(key, None).await?;
            Ok((None, -1))
        }
        // Run by `ephemeral::run` in sessions of their own; never reach here.
        OpKind::Ephemeral | OpKind::EphemeralAbandon | OpKind::Close => Err(zk::Error::Unimplemented),
        OpKind::Multi => {
            let data = payload(token, size);
            let mut w = c.new_multi_writer();
            w.add_set_data(key, &data, None)?;
            w.add_create(SEQ_PREFIX, &data, &seq_opts)?;
            let results = w.commit().await.map_err(zk::Error::from)?;
            let mut version = -1;
            for r in results {
                match r {
                    zk::MultiWriteResult::SetData { stat } => version = i64::from(stat.version),
                    zk::MultiWriteResult::Create { path, .. } => remember(ctx, &path),
                    _ => {}
                }
            }
            Ok((None, version))
        }
    }
}

fn remember(ctx: &Ctx, path: &str) {
    if !ctx.keep_created {
        return;
    }
    if let Ok(mut q) = ctx.created.lock() {
        // Bounded: deletes only need some recent victims.
        if q.len() < 100_000 {
            q.push_back(path.to_string());
        }
    }
}

/// Replace session `idx` in the background (once at a time); failures keep being recorded
/// meanwhile. `why` names the mark.
fn replace_session(ctx: &Arc<Ctx>, idx: u32, why: &'static str, detail: impl FnOnce() -> String) {
    let slot = &ctx.slots[idx as usize];
    if slot.replacing.swap(true, Ordering::AcqRel) || ctx.cancel.is_cancelled() {
        return;
    }
    if why == "session-expired" {
        ctx.expiries.fetch_add(1, Ordering::Relaxed);
    }
    // Formatted only here, past the guard: every op of a lost session reaches this function.
    ctx.recorder.mark_now(MarkKind::Point, format!("{why} s{}", ctx.wl.session_base + idx), Some(detail()));
    let task_ctx = ctx.clone();
    // On the session's load thread, so that the new session's task lives there too.
    ctx.exs[idx as usize % ctx.exs.len()].spawn(async move {
        let ctx = task_ctx;
        let slot = &ctx.slots[idx as usize];
        loop {
            let connect = ctx.wl.servers_tx.borrow().clone();
            let attempt = tokio::select! {
                r = connect_session(&ctx.wl.plan, &connect, idx) => r,
                _ = ctx.cancel.cancelled() => break,
            };
            match attempt {
                Ok(c) => {
                    if let Ok(mut g) = slot.client.write() {
                        *g = Some(Arc::new(c));
                    }
                    ctx.recorder.mark_now(MarkKind::Point, format!("session-recreated s{}", ctx.wl.session_base + idx), None);
                    break;
                }
                Err(e) => {
                    tracing::debug!("{e}; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                        _ = ctx.cancel.cancelled() => break,
                    }
                }
            }
        }
        slot.replacing.store(false, Ordering::Release);
    })
    .detach();
}

/// Replace every session when the connect string changes.
async fn follow_server_list(ctx: Arc<Ctx>) {
    let mut rx = ctx.wl.servers_tx.subscribe();
    loop {
        tokio::select! {
            r = rx.changed() => if r.is_err() { return },
            _ = ctx.cancel.cancelled() => return,
        }
        let connect = rx.borrow_and_update().clone();
        for idx in 0..ctx.slots.len() as u32 {
            replace_session(&ctx, idx, "server-list-updated", || connect.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context without sessions or threads: only the size of an operation's future is looked
    /// at (nothing is polled).
    fn idle_ctx() -> Arc<Ctx> {
        let plan = crate::plan::LoadPlan::default();
        let epoch = crate::record::Epoch::now();
        let wl = Workload {
            mix: super::super::Mix::new(&plan.mix).unwrap(),
            plan,
            seed: 1,
            epoch,
            clients: Vec::new(),
            servers_tx: tokio::sync::watch::channel(String::new()).0,
            session_base: 0,
            prepared_us: 0,
            threads: Vec::new(),
        };
        let (recorder, _) = RecorderHandle::forwarding(epoch);
        Arc::new(Ctx::new(Arc::new(wl), recorder, CancellationToken::new()))
    }

    #[test]
    fn an_operation_is_one_allocation() {
        let (done, _) = mpsc::channel(1);
        let spec = OpSpec { index: 0, kind: OpKind::Multi, key: 0 };
        let size = std::mem::size_of_val(&op_task(idle_ctx(), spec, 0, None, done));
        assert!(size < OP_TASK_LIMIT, "an operation's future is {size} bytes: async-task would box it apart from its task");
    }
}
