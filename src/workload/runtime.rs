//! The driver's own runtime: one OS thread (`zkchaos-driver`) running a current-thread tokio
//! runtime that owns the driver loop, every operation task and every ZooKeeper session task.
//!
//! Why (measured with `zkchaos bench --only cpu`, see README "bench"): with the driver on its
//! own thread spawning each operation onto the multi-thread runtime, every operation crossed
//! threads several times (driver → runtime worker → the client's session task, possibly on the
//! other worker → back). `zookeeper-client` spawns one session task per client on the runtime
//! that connects it and does its socket I/O through `async-io`, whose reactor runs on its own
//! thread: that one hop per response is forced by the library. Everything else now stays on
//! one thread: sessions are connected from inside this runtime so their tasks live here, and
//! an operation task hands its request to its session task without a cross-thread wake-up.
//!
//! Tokio's timer has 1 ms granularity, which would issue a 5,000 ops/s schedule in bursts; the
//! driver waits on a `timerfd` (Linux) registered with this runtime's reactor instead, with the
//! thread's timer slack lowered to 1 µs, so it wakes at each intended start without blocking
//! the thread (completions keep being processed while it waits).

use std::time::Duration;
use tokio::runtime::Handle;

/// The runtime thread; stopped (its tasks dropped) when this is dropped.
pub(crate) struct DriverRuntime {
    handle: Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl DriverRuntime {
    pub(crate) fn start() -> std::io::Result<DriverRuntime> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new().name("zkchaos-driver".into()).spawn(move || {
            precise_timers();
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = handle_tx.send(Err(e));
                    return;
                }
            };
            let _ = handle_tx.send(Ok(rt.handle().clone()));
            rt.block_on(async {
                let _ = stopped.await;
            });
        })?;
        let handle = handle_rx.recv().map_err(|_| std::io::Error::other("the driver thread ended before its runtime started"))??;
        Ok(DriverRuntime { handle, stop: Some(stop) })
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for DriverRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
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

/// Sleeps with microsecond precision without blocking the runtime thread.
pub(crate) struct PreciseSleep {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
}

#[cfg(target_os = "linux")]
impl PreciseSleep {
    /// Must be called inside the runtime that will await it. Falls back to tokio's timer if a
    /// timerfd cannot be had.
    pub(crate) fn new() -> PreciseSleep {
        use std::os::fd::{FromRawFd, OwnedFd};
        // SAFETY: timerfd_create returns a new descriptor we own, or -1.
        let raw = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        let fd = (raw >= 0).then(|| unsafe { OwnedFd::from_raw_fd(raw) });
        // SAFETY: an OwnedFd stays open and keeps its descriptor for as long as the AsyncFd owns it.
        let fd = fd.and_then(|fd| unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE).ok()
        });
        if fd.is_none() {
            tracing::debug!("no timerfd; the driver uses tokio's 1 ms timer");
        }
        PreciseSleep { fd }
    }

    pub(crate) async fn sleep(&self, d: Duration) {
        use std::os::fd::AsRawFd;
        let Some(fd) = &self.fd else { return tokio::time::sleep(d).await };
        if d.is_zero() {
            return;
        }
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec { tv_sec: d.as_secs() as libc::time_t, tv_nsec: d.subsec_nanos() as libc::c_long },
        };
        // SAFETY: arms our own timerfd with a relative one-shot expiry; no other memory.
        if unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) } != 0 {
            return tokio::time::sleep(d).await;
        }
        loop {
            let Ok(mut guard) = fd.readable().await else { return tokio::time::sleep(d).await };
            let mut expirations = 0u64;
            // SAFETY: reads the 8-byte expiration count into a local u64.
            let n = unsafe { libc::read(fd.as_raw_fd(), (&mut expirations as *mut u64).cast(), 8) };
            if n == 8 {
                return;
            }
            guard.clear_ready();
        }
    }
}

#[cfg(not(target_os = "linux"))]
impl PreciseSleep {
    pub(crate) fn new() -> PreciseSleep {
        PreciseSleep {}
    }
    pub(crate) async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await
    }
}
