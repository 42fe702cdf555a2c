//! Ctrl-C and SIGTERM during a run.
//!
//! The first signal cancels the run's token: the orchestrator stops the load, saves node logs,
//! marks the results `aborted: interrupted by SIGINT` and tears the ensemble down. A second signal
//! means the user is in a hurry: the run's containers, network and volumes are removed right away
//! (still through the Docker API, by label) and the process exits with 130. A first signal that
//! arrives after the phases (while the summary is written or the ensemble torn down) lets that
//! cleanup finish; the run then ends `aborted: interrupted by SIGTERM while finishing`, exit 130.

use crate::record::RunDir;
use bollard::Docker;
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Watch SIGINT and SIGTERM; returns the watcher task (abort it when the run is over).
/// `interrupted` receives the name of the first signal; on the second, `dir`'s status is set to
/// aborted (a removed run directory is not re-created) before the process exits.
pub fn watch(
    dockers: Vec<Docker>,
    run_id: String,
    dir: RunDir,
    cancel: CancellationToken,
    interrupted: std::sync::Arc<std::sync::Mutex<Option<&'static str>>>,
) -> std::io::Result<JoinHandle<()>> {
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let name = tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
            seen += 1;
            if seen == 1 {
                if let Ok(mut slot) = interrupted.lock() {
                    *slot = Some(name);
                }
                eprintln!("zkchaos: {name} received: stopping the run and cleaning up (send it again to exit at once)");
                cancel.cancel();
            } else {
                eprintln!("zkchaos: second {name}: removing run {run_id}'s containers and exiting");
                let _ = dir.set_status(&format!("aborted: interrupted by a second {name} (left at once)"));
                for docker in &dockers {
                    match crate::cluster::remove_run(docker, &run_id).await {
                        Ok(report) => eprintln!("zkchaos: removed {report:?}"),
                        Err(e) => eprintln!("zkchaos: removing run {run_id}: {e}; run `zkchaos clean --run {run_id}`"),
                    }
                }
                std::process::exit(130);
            }
        }
    }))
}
