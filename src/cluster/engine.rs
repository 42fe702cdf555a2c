//! Docker engines: connecting to one (local socket, `unix://`, `tcp://` with or without TLS,
//! `ssh://`), the engines of a plan with their preflight (reachable, image present, memory), and
//! the bound on every engine call.
//!
//! Every connection carries [`ENGINE_CALL_TIMEOUT`] as bollard's request timeout, so no engine
//! call waits longer for its answer: an engine that stalls or goes away fails the call that was
//! waiting, with the operation and object in the error, instead of hanging the run. Streams whose
//! body can stall after the answer began (logs, file downloads) are bounded where they are read.

use super::error::{ClusterError, Result};
use super::image::{self, ImageSpec};
use crate::plan::{ClusterPlan, EnginePlan};
use bollard::{Docker, API_DEFAULT_VERSION};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

/// The longest any single engine request may take to be answered.
pub const ENGINE_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a connection attempt (version negotiation, ping) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One engine a run's servers are placed on.
#[derive(Debug, Clone)]
pub struct Engine {
    /// `local` for the engine named by `DOCKER_HOST`; else the plan's engine name.
    pub name: String,
    pub endpoint: String,
    /// The address servers on this engine are reached at; `None` for the local engine with
    /// bridge networking (servers are reached through ports published on 127.0.0.1).
    pub address: Option<IpAddr>,
    pub docker: Docker,
}

/// The endpoint `DOCKER_HOST` names (default the local socket).
pub fn default_endpoint() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// Negotiate an API version with `docker` and ping it, each within [`CONNECT_TIMEOUT`].
async fn handshake(docker: Docker) -> std::result::Result<Docker, String> {
    let docker = match tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version()).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())),
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, docker.ping()).await {
        Ok(Ok(_)) => Ok(docker.with_timeout(ENGINE_CALL_TIMEOUT)),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer to ping within {} s", CONNECT_TIMEOUT.as_secs())),
    }
}

/// Connect to the engine named by `DOCKER_HOST` (default the local socket), agree on an API
/// version, and ping it.
pub async fn connect_docker() -> Result<Docker> {
    let host = default_endpoint();
    let unreachable = |detail: String| ClusterError::EngineUnreachable { host: host.clone(), detail };
    let docker = Docker::connect_with_defaults().map_err(|e| unreachable(e.to_string()))?;
    handshake(docker).await.map_err(unreachable)
}

/// A client for `endpoint` (see the module docs for the schemes), not yet contacted.
fn client_for(endpoint: &str, tls: Option<(&str, &str, &str)>) -> std::result::Result<Docker, String> {
    let secs = ENGINE_CALL_TIMEOUT.as_secs();
    let r = match (endpoint.split_once("://").map(|(s, _)| s), tls) {
        (Some("unix"), _) => Docker::connect_with_unix(endpoint, secs, API_DEFAULT_VERSION),
        (Some("ssh"), _) => Docker::connect_with_ssh(endpoint, secs, API_DEFAULT_VERSION, None),
        (Some("tcp" | "https"), Some((ca, cert, key))) => {
            Docker::connect_with_ssl(endpoint, Path::new(key), Path::new(cert), Path::new(ca), secs, API_DEFAULT_VERSION)
        }
        (Some("tcp" | "http"), None) => Docker::connect_with_http(endpoint, secs, API_DEFAULT_VERSION),
        _ => return Err("unsupported endpoint scheme; use unix://, tcp:// or ssh://".into()),
    };
    r.map_err(|e| e.to_string())
}

/// Connect to one listed engine.
pub async fn connect_engine(plan: &EnginePlan) -> Result<Engine> {
    let down = |detail: String| ClusterError::EngineDown { name: plan.name.clone(), endpoint: plan.endpoint.clone(), detail };
    let tls = match (&plan.tls_ca, &plan.tls_cert, &plan.tls_key) {
        (Some(ca), Some(cert), Some(key)) => Some((ca.as_str(), cert.as_str(), key.as_str())),
        _ => None,
    };
    let docker = client_for(&plan.endpoint, tls).map_err(&down)?;
    let docker = handshake(docker).await.map_err(&down)?;
    let address = plan.address.parse().map_err(|_| down(format!("address {:?} is not an IP address", plan.address)))?;
    Ok(Engine { name: plan.name.clone(), endpoint: plan.endpoint.clone(), address: Some(address), docker })
}

/// The engines of `plan`, each contacted (all at once): the local one when none is listed.
pub async fn connect_engines(plan: &ClusterPlan) -> Result<Vec<Engine>> {
    if plan.engines.is_empty() {
        let docker = connect_docker().await?;
        return Ok(vec![Engine { name: "local".into(), endpoint: default_endpoint(), address: None, docker }]);
    }
    futures_util::future::join_all(plan.engines.iter().map(connect_engine)).await.into_iter().collect()
}

/// Fail early when `servers` JVMs of `heap_mb` each would not fit in MemAvailable.
pub fn memory_preflight(servers: u32, heap_mb: u32) -> Result<()> {
    let estimate_mib = servers as u64 * (heap_mb as u64 + 200);
    let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") else { return Ok(()) };
    let available_kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    match available_kib {
        Some(kib) if kib / 1024 < estimate_mib => {
            Err(ClusterError::Memory { servers, heap_mb, estimate_mib, available_mib: kib / 1024 })
        }
        _ => Ok(()),
    }
}

/// Servers `1..=servers` per engine index, under the plan's placement.
pub fn servers_per_engine(plan: &ClusterPlan, servers: u32) -> Vec<u32> {
    let mut count = vec![0u32; plan.engines.len().max(1)];
    for id in 1..=servers {
        let i = crate::plan::engines::engine_index(&plan.engines, &plan.placement, id).unwrap_or(0);
        count[i] += 1;
    }
    count
}

/// Before a run: the image is present on every engine that will host a server (on a listed
/// engine the error gives the command that copies it there), and memory holds the servers
/// (MemAvailable of this machine for the local engine; each listed engine's own total).
/// `servers` is the largest the ensemble will be. Returns the image as seen on the first engine.
pub async fn preflight(engines: &[Engine], plan: &ClusterPlan, servers: u32) -> Result<ImageSpec> {
    if plan.engines.is_empty() {
        memory_preflight(servers, plan.heap_mb)?;
        return image::ensure_image(&engines[0].docker, &plan.image, plan.image_kind).await;
    }
    let per_engine = servers_per_engine(plan, servers);
    let mut spec = None;
    for (engine, &count) in engines.iter().zip(&per_engine) {
        if count == 0 && spec.is_some() {
            continue;
        }
        let found = match image::ensure_image(&engine.docker, &plan.image, plan.image_kind).await {
            Err(ClusterError::ImageMissing { image, .. }) if engine.address.is_some() => {
                return Err(ClusterError::ImageMissing {
                    image: image.clone(),
                    hint: format!(
                        "engine {} ({}) does not have it: copy it there with `docker save {image} | docker -H {} load` (test hosts: `scripts/test-hosts.sh load-image {image}`)",
                        engine.name, engine.endpoint, engine.endpoint
                    ),
                })
            }
            other => other?,
        };
        spec.get_or_insert(found);
        if engine.address.is_some() && count > 0 {
            let total_mib = engine.docker.info().await.ok().and_then(|i| i.mem_total).unwrap_or(0) as u64 / (1024 * 1024);
            let estimate_mib = count as u64 * (plan.heap_mb as u64 + 200);
            if total_mib > 0 && total_mib < estimate_mib {
                return Err(ClusterError::EngineMemory { name: engine.name.clone(), servers: count, heap_mb: plan.heap_mb, estimate_mib, total_mib });
            }
        }
    }
    spec.ok_or_else(|| ClusterError::Engine { name: "none".into(), endpoint: String::new(), detail: "no engine to place servers on".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_counted_per_engine_under_placement() {
        let engine = |name: &str| EnginePlan::new(name, "unix:///x", "10.0.0.1");
        let plan = ClusterPlan { engines: vec![engine("a"), engine("b"), engine("c")], ..ClusterPlan::default() };
        assert_eq!(servers_per_engine(&plan, 5), vec![2, 2, 1]);
        assert_eq!(servers_per_engine(&ClusterPlan::default(), 3), vec![3]);
    }

    #[test]
    fn unknown_schemes_are_refused_before_any_contact() {
        assert!(client_for("ftp://x", None).is_err());
        assert!(client_for("unix:///nonexistent/zkchaos/docker.sock", None).is_err());
    }
}
