//! Removing what runs created, by label: teardown of one run, `zkchaos clean`, and the reaper
//! that notices objects left behind by a process that no longer exists.
//!
//! Everything goes by the `zkchaos.run` label, never by name patterns, so a user's own
//! containers are never touched.

use super::error::{ClusterError, Result};
use super::names::{self, LABEL_HOST, LABEL_PID, LABEL_PROFILE, LABEL_RUN};
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveVolumeOptionsBuilder,
};
use bollard::Docker;
use std::collections::{BTreeMap, HashMap};

/// What a teardown or clean removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeardownReport {
    pub containers: Vec<String>,
    pub volumes: Vec<String>,
    pub networks: Vec<String>,
}

impl TeardownReport {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.volumes.is_empty() && self.networks.is_empty()
    }

    pub fn merge(&mut self, other: TeardownReport) {
        self.containers.extend(other.containers);
        self.volumes.extend(other.volumes);
        self.networks.extend(other.networks);
    }
}

impl std::fmt::Display for TeardownReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return f.write_str("nothing to remove");
        }
        let list = |v: &Vec<String>| if v.is_empty() { "-".to_string() } else { v.join(", ") };
        write!(
            f,
            "removed {} container(s): {}; {} volume(s): {}; {} network(s): {}",
            self.containers.len(),
            list(&self.containers),
            self.volumes.len(),
            list(&self.volumes),
            self.networks.len(),
            list(&self.networks)
        )
    }
}

/// A run whose objects are still present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub run_id: String,
    pub profile: Option<String>,
    pub pid: Option<u32>,
    pub host: Option<String>,
    /// The creating process still exists on this host (or the objects come from another host,
    /// where we cannot tell: counted as alive).
    pub alive: bool,
    pub containers: usize,
    pub volumes: usize,
    pub networks: usize,
}

fn trim_name(n: &str) -> String {
    n.trim_start_matches('/').to_string()
}

/// Remove every container, volume and network labelled `zkchaos.run=<run>` (or every zkchaos
/// object when `run` is `None`). Missing objects are not errors; the first real error is
/// returned after trying everything.
async fn remove_labelled(docker: &Docker, run: Option<&str>) -> Result<TeardownReport> {
    let filter = names::label_filter(run);
    let mut report = TeardownReport::default();
    let mut first_err: Option<ClusterError> = None;

    let containers = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filter).build()))
        .await
        .map_err(|source| ClusterError::List { what: "containers", source })?;
    for c in containers {
        let name = c.names.as_ref().and_then(|n| n.first()).map(|n| trim_name(n)).or(c.id.clone()).unwrap_or_default();
        let id = c.id.clone().unwrap_or_else(|| name.clone());
        let opts = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        match docker.remove_container(&id, Some(opts)).await {
            Ok(()) => report.containers.push(name),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(source) => {
                first_err.get_or_insert(ClusterError::RemoveContainer { name, source });
            }
        }
    }

    let volumes = docker
        .list_volumes(Some(ListVolumesOptionsBuilder::new().filters(&filter).build()))
        .await
        .map_err(|source| ClusterError::List { what: "volumes", source })?;
    for v in volumes.volumes.unwrap_or_default() {
        match docker.remove_volume(&v.name, Some(RemoveVolumeOptionsBuilder::new().force(true).build())).await {
            Ok(()) => report.volumes.push(v.name),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(source) => {
                first_err.get_or_insert(ClusterError::RemoveVolume { name: v.name, source });
            }
        }
    }

    let networks = docker
        .list_networks(Some(ListNetworksOptionsBuilder::new().filters(&filter).build()))
        .await
        .map_err(|source| ClusterError::List { what: "networks", source })?;
    for n in networks {
        let name = n.name.clone().unwrap_or_default();
        let id = n.id.clone().unwrap_or_else(|| name.clone());
        match docker.remove_network(&id).await {
            Ok(()) => report.networks.push(name),
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(source) => {
                first_err.get_or_insert(ClusterError::RemoveNetwork { name, source });
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Remove one run's containers (with their anonymous volumes), volumes and network.
pub async fn remove_run(docker: &Docker, run_id: &str) -> Result<TeardownReport> {
    if !names::is_valid_run_id(run_id) {
        return Err(ClusterError::BadRunId(run_id.to_string()));
    }
    remove_labelled(docker, Some(run_id)).await
}

/// Remove every object labelled `zkchaos.run`, whatever run created it.
pub async fn remove_all(docker: &Docker) -> Result<TeardownReport> {
    remove_labelled(docker, None).await
}

/// Every run that still has objects, with whether its creating process is alive. Callers warn
/// once about the dead ones (`!alive`) and suggest `zkchaos clean`.
pub async fn find_leftovers(docker: &Docker) -> Result<Vec<Leftover>> {
    let filter = names::label_filter(None);
    let mut runs: BTreeMap<String, Leftover> = BTreeMap::new();
    let mut note = |labels: Option<&HashMap<String, String>>, kind: usize| {
        let Some(labels) = labels else { return };
        let Some(run) = labels.get(LABEL_RUN) else { return };
        let e = runs.entry(run.clone()).or_insert_with(|| {
            let pid = labels.get(LABEL_PID).and_then(|p| p.parse().ok());
            let host = labels.get(LABEL_HOST).cloned();
            let here = host.as_deref().is_none_or(|h| h == names::hostname());
            let alive = match pid {
                Some(p) if here => names::pid_alive(p),
                _ => !here,
            };
            Leftover {
                run_id: run.clone(),
                profile: labels.get(LABEL_PROFILE).cloned(),
                pid,
                host,
                alive,
                containers: 0,
                volumes: 0,
                networks: 0,
            }
        });
        match kind {
            0 => e.containers += 1,
            1 => e.volumes += 1,
            _ => e.networks += 1,
        }
    };
    let containers = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filter).build()))
        .await
        .map_err(|source| ClusterError::List { what: "containers", source })?;
    for c in &containers {
        note(c.labels.as_ref(), 0);
    }
    let volumes = docker
        .list_volumes(Some(ListVolumesOptionsBuilder::new().filters(&filter).build()))
        .await
        .map_err(|source| ClusterError::List { what: "volumes", source })?;
    for v in volumes.volumes.as_deref().unwrap_or_default() {
        note(Some(&v.labels), 1);
    }
    let networks = docker
        .list_networks(Some(ListNetworksOptionsBuilder::new().filters(&filter).build()))
        .await
        .map_err(|source| ClusterError::List { what: "networks", source })?;
    for n in &networks {
        note(n.labels.as_ref(), 2);
    }
    Ok(runs.into_values().collect())
}

/// Log one warning naming runs left behind by dead processes (no-op if there are none).
pub async fn warn_leftovers(docker: &Docker) {
    match find_leftovers(docker).await {
        Ok(l) => {
            let dead: Vec<_> = l.iter().filter(|l| !l.alive).map(|l| l.run_id.as_str()).collect();
            if !dead.is_empty() {
                tracing::warn!(
                    "Docker objects of {} earlier run(s) whose process is gone are still present ({}); remove them with `zkchaos clean`",
                    dead.len(),
                    dead.join(", ")
                );
            }
        }
        Err(e) => tracing::debug!("looking for leftovers: {e}"),
    }
}
