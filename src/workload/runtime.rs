//! The workload's session runtime: one OS thread (`zkchaos-sessions`) running a
//! current-thread tokio runtime that owns every ZooKeeper session task and every operation task.
//!
//! Why (measured with `zkchaos bench --only cpu`): with operations spawned onto the
//! multi-thread runtime, an operation and its session's task often ran on different workers,
//! so each request and each response crossed threads once more. `zookeeper-client` spawns one
//! session task per client on the runtime that connects it, and does its socket I/O through
//! `async-io`, whose reactor runs on a thread of its own: that hop per response (reactor →
//! session task) is forced by the library, as is one task per session. Sessions are therefore
//! connected from inside this runtime, and the driver ([`super::driver`]) spawns each operation
//! here: an operation hands its request to its session task, and gets the reply back, without
//! a cross-thread wake-up. The driver itself stays on its own thread (a pure sleeper is woken
//! on time; a busy thread is not).

use tokio::runtime::Handle;

/// The runtime thread; stopped (its tasks dropped) when this is dropped.
pub(crate) struct SessionRuntime {
    handle: Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl SessionRuntime {
    pub(crate) fn start() -> std::io::Result<SessionRuntime> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new().name("zkchaos-sessions".into()).spawn(move || {
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
        let handle = handle_rx.recv().map_err(|_| std::io::Error::other("the session thread ended before its runtime started"))??;
        Ok(SessionRuntime { handle, stop: Some(stop) })
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for SessionRuntime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
