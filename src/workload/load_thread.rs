//! The load thread: one OS thread that runs the driver loop, every operation, and the task of
//! every load session, on one executor that also drives the `async-io` reactor on which the
//! client library (`zookeeper-client`) keeps its sockets and timers.
//!
//! Why (issue 14, decided with `zkchaos bench --only cpu,lag`): the client library registers its
//! sockets with `async-io`'s process-wide reactor, so on a tokio runtime every response woke the
//! `async-io` thread, which woke a tokio worker, which woke the operation — and a precise driver
//! thread handing each operation to the runtime added one more wake-up. Here the thread that
//! waits for the next intended start (a [`PreciseTimer`], timer slack 1 µs) is the thread that
//! sends, and, while idle inside `async_io::block_on`, the one that receives the response: an
//! operation costs the wake-ups of its start and of its response, no cross-thread hand-off.
//! Measured: 2.2 context switches per operation against 5.8 for a naive bare-client loop on
//! tokio, CPU per operation 0.99× that loop's (it was 1.29–1.35×), schedule lag p99 at
//! 5,000 ops/s 63 µs (was 1.14 ms). One thread saturates a core near 20,000 ops/s here; lag then
//! grows, and says so.
//!
//! Tasks the client library spawns (`asyncs::spawn`, i.e. `spawns_core::spawn`) go to this
//! executor while they are spawned from this thread (a thread-local spawner), so a session
//! connected through [`LoadThread::spawn`] lives here. The thread also enters the tokio runtime
//! it was started from, so tokio's timers and channels work in its tasks.
//!
//! Dropping the [`LoadThread`] stops it: its tasks get up to [`DRAIN`] to finish (sessions whose
//! clients were dropped close themselves), then the rest are dropped and the thread ends.

use async_executor::Executor;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a stopping load thread keeps running tasks that have not finished.
pub const DRAIN: Duration = Duration::from_secs(2);

/// The load thread and a handle to spawn onto its executor.
pub struct LoadThread {
    ex: Arc<Executor<'static>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Puts the client library's tasks on the load thread's executor.
struct ToExecutor(Arc<Executor<'static>>);

impl spawns_core::Spawn for ToExecutor {
    fn spawn(&self, task: spawns_core::Task) {
        self.0.spawn(Box::into_pin(task.future)).detach();
    }
}

impl LoadThread {
    /// Start the thread (named `zkchaos-load`) inside the current tokio runtime.
    pub fn start() -> std::io::Result<LoadThread> {
        let ex = Arc::new(Executor::new());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Handle::current();
        let thread_ex = ex.clone();
        std::thread::Builder::new().name("zkchaos-load".into()).spawn(move || {
            precise_timers();
            let _tokio = runtime.enter();
            let spawner = ToExecutor(thread_ex.clone());
            let _spawns = spawns_core::enter(&spawner);
            async_io::block_on(thread_ex.run(async {
                let _ = stopped.await;
            }));
            let drain_until = Instant::now() + DRAIN;
            while !thread_ex.is_empty() && Instant::now() < drain_until {
                async_io::block_on(thread_ex.run(async_io::Timer::after(Duration::from_millis(10))));
            }
        })?;
        Ok(LoadThread { ex, stop: Some(stop) })
    }

    /// Run `fut` on the load thread; the returned task resolves to its output (it can be awaited
    /// from any executor) and cancels the future when dropped.
    pub fn spawn<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> async_executor::Task<T> {
        self.ex.spawn(fut)
    }

    /// A handle for spawning from tasks that may outlive a borrow of this value.
    pub fn executor(&self) -> Arc<Executor<'static>> {
        self.ex.clone()
    }
}

impl Drop for LoadThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A precise one-shot timer that is a source of the `async-io` reactor (a `timerfd` on Linux).
///
/// `async_io::Timer` would do, but registering one wakes the reactor (an `eventfd` write) so that
/// it recomputes its timeout: on the thread that drives the reactor that is one extra wait, five
/// system calls, per operation. Re-arming this timer is one `timerfd_settime`.
#[cfg(target_os = "linux")]
pub struct PreciseTimer {
    fd: async_io::Async<std::os::fd::OwnedFd>,
}

#[cfg(target_os = "linux")]
impl PreciseTimer {
    pub fn new() -> std::io::Result<PreciseTimer> {
        use std::os::fd::FromRawFd;
        // SAFETY: timerfd_create has no memory arguments; a non-negative result is a new fd we own.
        let raw = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a valid fd that nothing else owns.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        Ok(PreciseTimer { fd: async_io::Async::new(fd)? })
    }

    /// Resolve at `deadline` (at once if it has passed).
    pub async fn sleep_until(&self, deadline: Instant) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec { tv_sec: left.as_secs() as libc::time_t, tv_nsec: left.subsec_nanos() as libc::c_long },
        };
        let fd = self.fd.get_ref().as_raw_fd();
        // SAFETY: `spec` is a valid itimerspec; the old value is not asked for. Setting the timer
        // also clears expirations of an earlier setting not yet read.
        if unsafe { libc::timerfd_settime(fd, 0, &spec, std::ptr::null_mut()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        loop {
            self.fd.readable().await?;
            let mut expirations = 0u64;
            // SAFETY: reads at most 8 bytes into the u64 we own.
            let n = unsafe { libc::read(fd, (&mut expirations as *mut u64).cast(), 8) };
            if n == 8 {
                return Ok(());
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::WouldBlock {
                return Err(err);
            }
        }
    }
}

/// Elsewhere: `async_io::Timer` (one extra reactor wake-up per operation).
#[cfg(not(target_os = "linux"))]
pub struct PreciseTimer;

#[cfg(not(target_os = "linux"))]
impl PreciseTimer {
    pub fn new() -> std::io::Result<PreciseTimer> {
        Ok(PreciseTimer)
    }

    pub async fn sleep_until(&self, deadline: Instant) -> std::io::Result<()> {
        async_io::Timer::at(deadline).await;
        Ok(())
    }
}

/// CPU time (user + system) of the calling thread, µs.
pub fn thread_cpu_us() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec we own.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000
}

#[cfg(target_os = "linux")]
fn precise_timers() {
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack; no memory is involved.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong, 0, 0, 0);
    }
}
#[cfg(not(target_os = "linux"))]
fn precise_timers() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn library_tasks_spawned_on_the_thread_run_there() {
        let lt = LoadThread::start().unwrap();
        // A task spawned the way the client library spawns its session task, from the load
        // thread, runs on the load thread.
        let names = lt
            .spawn(async {
                let inner = spawns_core::spawn(async { std::thread::current().name().map(str::to_owned) });
                (std::thread::current().name().map(str::to_owned), inner.await.ok().flatten())
            })
            .await;
        assert_eq!(names, (Some("zkchaos-load".into()), Some("zkchaos-load".into())));
        // tokio's timers work in its tasks.
        let slept = lt
            .spawn(async {
                let start = Instant::now();
                tokio::time::sleep(Duration::from_millis(5)).await;
                start.elapsed()
            })
            .await;
        assert!(slept >= Duration::from_millis(5), "tokio's sleep returned after {slept:?}");
    }

    #[test]
    fn precise_timer_waits_until_its_deadline_and_rearms() {
        async_io::block_on(async {
            let timer = PreciseTimer::new().unwrap();
            for wait_ms in [3u64, 0, 1, 5] {
                let start = Instant::now();
                let deadline = start + Duration::from_millis(wait_ms);
                timer.sleep_until(deadline).await.unwrap();
                assert!(Instant::now() >= deadline, "woke before the deadline of {wait_ms} ms");
            }
            // A setting abandoned before it fired does not end the next wait early.
            let abandoned = futures_util::FutureExt::now_or_never(timer.sleep_until(Instant::now() + Duration::from_millis(1)));
            assert!(abandoned.is_none());
            std::thread::sleep(Duration::from_millis(3));
            let deadline = Instant::now() + Duration::from_millis(20);
            timer.sleep_until(deadline).await.unwrap();
            assert!(Instant::now() >= deadline);
        });
    }
}
