//! Cluster errors: one variant per Docker operation, naming the container/volume/network or
//! server it failed on, and the mapping to the top-level [`crate::Error`] category.

use super::fourlw::FourLwError;
use std::time::Duration;

type DockerError = bollard::errors::Error;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot reach the Docker engine at {host}: {detail}. Start it (e.g. `service docker start`), or point DOCKER_HOST at it (default unix:///var/run/docker.sock) and check that this user may open the socket")]
    EngineUnreachable { host: String, detail: String },
    #[error("cannot reach Docker engine {name} at {endpoint}: {detail}. Start that engine or fix cluster.engines' endpoint for {name}; every listed engine must answer before a run starts")]
    EngineDown { name: String, endpoint: String, detail: String },
    #[error("not enough memory on engine {name} for its {servers} ZooKeeper servers: estimated {estimate_mib} MiB (heap {heap_mb} MiB + ~200 MiB each), the engine reports {total_mib} MiB in all; lower cluster.heap_mb or place fewer servers there (cluster.placement)")]
    EngineMemory { name: String, servers: u32, heap_mb: u32, estimate_mib: u64, total_mib: u64 },
    #[error("engine {name} ({endpoint}): {detail}")]
    Engine { name: String, endpoint: String, detail: String },
    #[error("image {image} is not present; {hint}")]
    ImageMissing { image: String, hint: String },
    #[error("inspecting image {image}: {source}")]
    InspectImage { image: String, source: DockerError },
    #[error("127.0.0.1:{port} (client port of {name}) is already in use; choose another port or stop what listens there")]
    PortInUse { name: String, port: u16 },
    #[error("not enough memory for {servers} ZooKeeper servers: estimated {estimate_mib} MiB (heap {heap_mb} MiB + ~200 MiB each), MemAvailable is {available_mib} MiB; lower cluster.heap_mb or the ensemble size")]
    Memory { servers: u32, heap_mb: u32, estimate_mib: u64, available_mib: u64 },
    #[error("creating network {name}: {source}")]
    CreateNetwork { name: String, source: DockerError },
    #[error("creating volume {name}: {source}")]
    CreateVolume { name: String, source: DockerError },
    #[error("creating container {name}: {source}")]
    CreateContainer { name: String, source: DockerError },
    #[error("uploading configuration to container {name}: {source}")]
    Upload { name: String, source: DockerError },
    #[error("building the configuration archive for {name}: {source}")]
    Archive { name: String, source: std::io::Error },
    #[error("starting container {name}: {source}")]
    StartContainer { name: String, source: DockerError },
    #[error("stopping container {name}: {source}")]
    StopContainer { name: String, source: DockerError },
    #[error("killing container {name}: {source}")]
    KillContainer { name: String, source: DockerError },
    #[error("pausing container {name}: {source}")]
    PauseContainer { name: String, source: DockerError },
    #[error("unpausing container {name}: {source}")]
    UnpauseContainer { name: String, source: DockerError },
    #[error("removing container {name}: {source}")]
    RemoveContainer { name: String, source: DockerError },
    #[error("removing volume {name}: {source}")]
    RemoveVolume { name: String, source: DockerError },
    #[error("removing network {name}: {source}")]
    RemoveNetwork { name: String, source: DockerError },
    #[error("inspecting container {name}: {source}")]
    InspectContainer { name: String, source: DockerError },
    #[error("reading logs of container {name}: {source}")]
    Logs { name: String, source: DockerError },
    #[error("reading {path} from container {name}: {detail}")]
    Download { name: String, path: String, detail: String },
    #[error("listing {what}: {source}")]
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
