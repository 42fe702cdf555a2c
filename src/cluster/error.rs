//! Cluster errors: one variant per Docker operation, naming the container/volume/network or
//! server it failed on, and the mapping to the top-level [`crate::Error`] category.

use super::fourlw::FourLwError;
use std::time::Duration;

type DockerError = bollard::errors::Error;

/// An engine error in words a user can act on: bollard says "Timeout error" for a request the
/// engine did not answer within [`super::engine::ENGINE_CALL_TIMEOUT`] and "client error
/// (Connect)" for an engine that refuses connections.
pub fn describe(e: &DockerError) -> String {
    let text = e.to_string();
    match e {
        bollard::errors::Error::RequestTimeoutError => format!(
            "the engine did not answer within {} s (stalled or overloaded)",
            super::engine::ENGINE_CALL_TIMEOUT.as_secs()
        ),
        _ if text.contains("client error (Connect)") => format!("the engine refuses connections (stopped or gone): {text}"),
        _ => text,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot reach the Docker engine at {host}: {detail}. Start it (e.g. `service docker start`), or point DOCKER_HOST at it (default unix:///var/run/docker.sock) and check that this user may open the socket")]
    EngineUnreachable { host: String, detail: String },
    #[error("cannot reach Docker engine {name} at {endpoint}: {detail}. Start that engine, or fix its endpoint in [[cluster.engines]] (name = \"{name}\")")]
    EngineDown { name: String, endpoint: String, detail: String },
    #[error("not enough memory on engine {name} for its {servers} ZooKeeper servers: estimated {estimate_mib} MiB (heap {heap_mb} MiB + ~200 MiB each), the engine reports {total_mib} MiB in all; lower cluster.heap_mb or place fewer servers there (cluster.placement)")]
    EngineMemory { name: String, servers: u32, heap_mb: u32, estimate_mib: u64, total_mib: u64 },
    #[error("engine {name} ({endpoint}): {detail}")]
    Engine { name: String, endpoint: String, detail: String },
    #[error("image {image} is not present; {hint}")]
    ImageMissing { image: String, hint: String },
    #[error("inspecting image {image}: {}", describe(source))]
    InspectImage { image: String, source: DockerError },
    #[error("127.0.0.1:{port} (client port of {name}) is already in use; choose another port or stop what listens there")]
    PortInUse { name: String, port: u16 },
    #[error("not enough memory for {servers} ZooKeeper servers: estimated {estimate_mib} MiB (heap {heap_mb} MiB + ~200 MiB each), MemAvailable is {available_mib} MiB; lower cluster.heap_mb or the ensemble size")]
    Memory { servers: u32, heap_mb: u32, estimate_mib: u64, available_mib: u64 },
    #[error("creating network {name}: {}", describe(source))]
    CreateNetwork { name: String, source: DockerError },
    #[error("creating volume {name}: {}", describe(source))]
    CreateVolume { name: String, source: DockerError },
    #[error("creating container {name}: {}", describe(source))]
    CreateContainer { name: String, source: DockerError },
    #[error("uploading configuration to container {name}: {}", describe(source))]
    Upload { name: String, source: DockerError },
    #[error("building the configuration archive for {name}: {source}")]
    Archive { name: String, source: std::io::Error },
    #[error("starting container {name}: {}", describe(source))]
    StartContainer { name: String, source: DockerError },
    #[error("stopping container {name}: {}", describe(source))]
    StopContainer { name: String, source: DockerError },
    #[error("changing the CPU quota of container {name}: {}", describe(source))]
    UpdateContainer { name: String, source: DockerError },
    #[error("killing container {name}: {}", describe(source))]
    KillContainer { name: String, source: DockerError },
    #[error("pausing container {name}: {}", describe(source))]
    PauseContainer { name: String, source: DockerError },
    #[error("unpausing container {name}: {}", describe(source))]
    UnpauseContainer { name: String, source: DockerError },
    #[error("removing container {name}: {}", describe(source))]
    RemoveContainer { name: String, source: DockerError },
    #[error("removing volume {name}: {}", describe(source))]
    RemoveVolume { name: String, source: DockerError },
    #[error("removing network {name}: {}", describe(source))]
    RemoveNetwork { name: String, source: DockerError },
    #[error("inspecting container {name}: {}", describe(source))]
    InspectContainer { name: String, source: DockerError },
    #[error("reading logs of container {name}: {}", describe(source))]
    Logs { name: String, source: DockerError },
    #[error("reading {path} from container {name}: {detail}")]
    Download { name: String, path: String, detail: String },
    #[error("listing {what}: {}", describe(source))]
    List { what: &'static str, source: DockerError },
    #[error("server {id} is not part of this cluster (run {run})")]
    UnknownServer { run: String, id: u32 },
    #[error("server {name}: srvr: {source}")]
    Srvr { name: String, source: FourLwError },
    #[error("reading membership of {name}: {detail}")]
    Membership { name: String, detail: String },
    #[error("{what} not ready after {timeout:?}; last seen: {last}")]
    NotReady { what: String, timeout: Duration, last: String },
    #[error("writing {path}: {source}")]
    WriteFile { path: String, source: std::io::Error },
    #[error("zkchaos image build: {0}")]
    ImageBuild(String),
    #[error("invalid run id {0:?}: use letters, digits, '-' or '_'")]
    BadRunId(String),
    #[error("{op} {name}: {detail}")]
    Fault { op: &'static str, name: String, detail: String },
    #[error("this cluster backend cannot {op} a server (zk{server}); the procedure needs a backend with that capability")]
    Unsupported { op: &'static str, server: u32 },
}

impl From<ClusterError> for crate::Error {
    fn from(e: ClusterError) -> Self {
        match e {
            ClusterError::EngineUnreachable { .. }
            | ClusterError::EngineDown { .. }
            | ClusterError::EngineMemory { .. }
            | ClusterError::ImageMissing { .. }
            | ClusterError::PortInUse { .. }
            | ClusterError::Memory { .. }
            | ClusterError::ImageBuild(_) => crate::Error::Environment(Box::new(e)),
            ClusterError::BadRunId(_) => crate::Error::BadInput(Box::new(e)),
            _ => crate::Error::Failed(Box::new(e)),
        }
    }
}

pub type Result<T, E = ClusterError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_timeouts_and_refusals_are_said_in_words() {
        let e = ClusterError::StopContainer { name: "zkchaos-x-zk3".into(), source: DockerError::RequestTimeoutError };
        assert_eq!(e.to_string(), "stopping container zkchaos-x-zk3: the engine did not answer within 30 s (stalled or overloaded)");
        let other = DockerError::SocketNotFoundError("/run/x.sock".into());
        assert_eq!(describe(&other), other.to_string());
    }
}
