//! One ensemble for one command: build the [`ClusterSpec`], create the containers, start the
//! initial members and wait until they serve; on any failure (start, timeout, cancellation) the
//! ensemble is torn down before the error is returned, so no caller leaks containers.
//!
//! Used by `cluster up`, `sweep`, `bench` and `bench --only startup` (and `hunt`); `zkchaos run`
//! builds its spec here too, but starts the members as its first phase (under the run's signal
//! race and panic catch, with the node logs saved by its own exit path).

use crate::cluster::{names, Cluster, ClusterSpec};
use crate::plan::ClusterPlan;
use crate::record::ServerMode;
use crate::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The spec of a new ensemble with a fresh run id: `profile` labels the containers.
pub fn spec(profile: impl Into<String>, plan: ClusterPlan) -> ClusterSpec {
    ClusterSpec { run_id: names::new_run_id(), profile: profile.into(), plan, extra_jvm_flags: Vec::new(), skip_acl: false }
}

/// How to bring an ensemble up.
#[derive(Debug, Clone)]
pub struct Up {
    /// How long the initial members may take to serve.
    pub timeout: Duration,
    /// Stop waiting (and tear down) when this is cancelled.
    pub cancel: Option<CancellationToken>,
    /// Save the node logs here before the teardown when the start fails (named in the error).
    pub logs_on_failure: Option<PathBuf>,
}

impl Up {
    pub fn within(timeout: Duration) -> Self {
        Up { timeout, cancel: None, logs_on_failure: None }
    }
}

/// A started ensemble and the mode of each initial member.
pub struct Started {
    pub cluster: Cluster,
    pub modes: Vec<(u32, ServerMode)>,
}

/// Create the ensemble of `spec` and start its initial members; torn down on failure.
pub async fn start(spec: ClusterSpec, up: &Up) -> Result<Started> {
    let mut cluster = Cluster::create(spec).await?;
    let never = CancellationToken::new();
    let cancel = up.cancel.as_ref().unwrap_or(&never);
    let started = tokio::select! {
        r = cluster.start_initial(up.timeout) => r.map_err(Error::from),
        _ = cancel.cancelled() => Err(Error::interrupted("interrupted by a signal")),
    };
    match started {
        Ok(modes) => Ok(Started { cluster, modes }),
        Err(e) => {
            let e = match &up.logs_on_failure {
                Some(dir) if cluster.save_logs(dir).await.is_ok() => {
                    Error::failed(format!("{e} (server logs in {})", dir.display()))
                }
                Some(_) => Error::failed(e.to_string()),
                None => e,
            };
            teardown(&mut cluster).await;
            Err(e)
        }
    }
}

/// Remove the ensemble's containers, network and volumes; a failure is printed with the
/// command that removes the leftovers.
pub async fn teardown(cluster: &mut Cluster) {
    if let Err(e) = cluster.teardown().await {
        eprintln!("zkchaos: tearing down {}: {e}; run `zkchaos clean --run {}`", cluster.run_id(), cluster.run_id());
    }
}
