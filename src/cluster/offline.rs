//! Reading a stopped server's data without starting it: a standalone ZooKeeper on a copy of its
//! data volume.
//!
//! A server the procedure left down (or one that could not be read live) still has its data
//! volume: the snapshot and transaction log it would load on restart. To audit it without
//! restarting it (which would let it rejoin, sync and change), [`Cluster::start_offline_copy`]:
//! 1. runs a short-lived helper container of the server's image with the original volume mounted
//!    **read-only** at `/orig` and a fresh scratch volume at `/copy`: it prints a digest of the
//!    original tree (sha256 over every entry's type, name, size, mode and mtime, and every file's
//!    sha256) and copies it with `cp -a`;
//! 2. starts a ZooKeeper container of the same image in **standalone mode** (zoo.cfg without
//!    `server.N` lines, `standaloneEnabled` left at its default `true`) with `dataDir` on the copy,
//!    its client port published on 127.0.0.1 (bridge network) or, with host networking, on the
//!    stopped server's own port at its engine's address;
//! 3. waits until it answers `srvr` as standalone.
//!
//! The caller reads it back like a live server, then calls [`Cluster::remove_offline_copy`] and
//! [`Cluster::digest_data_volume`] (again read-only) to show the original did not change.
//! Nothing new ever mounts the original writable. Every object carries the run's labels plus
//! [`LABEL_OFFLINE`], so the run's teardown removes whatever a failure left behind.

use super::config::{ZooCfg, CLIENT_PORT, DATA_DIR};
use super::container::is_not_found;
use super::docker::{Cluster, SRVR_TIMEOUT};
use super::error::{ClusterError, Result};
use super::{fourlw, names};
use crate::record::ServerMode;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding, VolumeCreateRequest};
use bollard::query_parameters::{CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

/// Label of every object of an offline read (value: the server id).
pub const LABEL_OFFLINE: &str = "zkchaos.offline";
/// A data directory may hold transaction logs without a snapshot (a server that never took
/// one): let the standalone copy load them rather than refuse to start.
const TRUST_EMPTY_SNAPSHOT: &str = "-Dzookeeper.snapshot.trust.empty=true";
const PORT_ATTEMPTS: u32 = 3;

/// Digest of a data volume's tree (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeDigest {
    pub files: u64,
    pub sha256: String,
}

/// A standalone ZooKeeper serving a copy of one server's data volume.
#[derive(Debug)]
pub struct OfflineCopy {
    pub server: u32,
    /// Where its client port is reached.
    pub addr: SocketAddr,
    /// The original volume's digest, taken just before the copy.
    pub before: VolumeDigest,
    engine: usize,
    container: String,
    scratch: String,
}

/// Prints `zkchaos-digest <files> <sha256>` for the tree at `$1`.
const DIGEST: &str = r#"digest() { cd "$1" && n=$(find . -type f | wc -l) && d=$( { find . -printf '%y %p %s %m %T@\n' | LC_ALL=C sort; find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum; } | sha256sum | cut -d' ' -f1) && echo "zkchaos-digest $n $d"; }"#;

fn offline_err(name: &str, detail: impl ToString) -> ClusterError {
    ClusterError::Fault { op: "offline read", name: name.to_string(), detail: detail.to_string() }
}

/// The `zkchaos-digest` line of a helper's output.
pub fn parse_digest(output: &str) -> Option<VolumeDigest> {
    let line = output.lines().rev().find_map(|l| l.trim().strip_prefix("zkchaos-digest "))?;
    let (files, sha) = line.trim().split_once(' ')?;
    let sha = sha.trim();
    let files = files.parse().ok()?;
    (sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| VolumeDigest { files, sha256: sha.to_string() })
}

fn free_port() -> Result<u16> {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| ClusterError::WriteFile { path: "127.0.0.1:0 (port probe)".into(), source })
}

impl Cluster {
    fn offline_labels(&self, id: u32) -> HashMap<String, String> {
        let mut l = names::run_labels(self.run_id(), &self.spec.profile);
        l.insert(LABEL_OFFLINE.to_string(), id.to_string());
        l
    }

    fn data_volume(&self, id: u32) -> Result<(usize, String)> {
        let s = self.servers.get(&id).ok_or_else(|| ClusterError::UnknownServer { run: self.run_id().to_string(), id })?;
        Ok((s.engine, s.volume.clone()))
    }

    /// Run `script` (sh) in a helper container of the server image on `engine` with `binds`,
    /// no network; return its output. Removed on every path; a non-zero exit is an error.
    async fn run_volume_helper(&self, engine: usize, id: u32, name: &str, binds: Vec<String>, script: String) -> Result<String> {
        let docker = &self.engines[engine].docker;
        let body = ContainerCreateBody {
            image: Some(self.image.name.clone()),
            entrypoint: Some(vec!["sh".into(), "-c".into()]),
            cmd: Some(vec![script]),
            labels: Some(self.offline_labels(id)),
            host_config: Some(HostConfig { binds: Some(binds), network_mode: Some("none".into()), ..Default::default() }),
            ..Default::default()
        };
        self.remove_quietly(engine, name).await;
        let opts = CreateContainerOptionsBuilder::new().name(name).build();
        docker
            .create_container(Some(opts), body)
            .await
            .map_err(|source| ClusterError::CreateContainer { name: name.to_string(), source })?;
        let result = async {
            docker.start_container(name, None).await.map_err(|source| ClusterError::StartContainer { name: name.to_string(), source })?;
            let mut wait = docker.wait_container(name, None::<bollard::query_parameters::WaitContainerOptions>);
            let status = match wait.next().await {
                Some(Ok(r)) => r.status_code,
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
                Some(Err(e)) => return Err(offline_err(name, e)),
                None => 0,
            };
            let mut out = String::new();
            let mut logs = docker.logs(name, Some(LogsOptionsBuilder::new().stdout(true).stderr(true).build()));
            while let Some(Ok(chunk)) = logs.next().await {
                out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
            }
            if status != 0 {
                return Err(offline_err(name, format!("helper exited with {status}: {}", out.trim())));
            }
            Ok(out)
        }
        .await;
        self.remove_quietly(engine, name).await;
        result
    }

    async fn remove_quietly(&self, engine: usize, container: &str) {
        let opts = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        let _ = self.engines[engine].docker.remove_container(container, Some(opts)).await;
    }

    /// Digest of server `id`'s data volume, mounted read-only in a helper container.
    pub async fn digest_data_volume(&self, id: u32) -> Result<VolumeDigest> {
        let (engine, volume) = self.data_volume(id)?;
        let name = format!("{}-digest", self.container_name(id));
        let out = self.run_volume_helper(engine, id, &name, vec![format!("{volume}:/orig:ro")], format!("{DIGEST}\ndigest /orig")).await?;
        parse_digest(&out).ok_or_else(|| offline_err(&name, format!("no digest in the helper's output: {}", out.trim())))
    }

    /// Copy server `id`'s data volume (digest first) and serve the copy with a standalone
    /// ZooKeeper; see the module docs. On failure, what was created is removed.
    pub async fn start_offline_copy(&self, id: u32, timeout: Duration) -> Result<OfflineCopy> {
        let (engine, volume) = self.data_volume(id)?;
        let container = format!("{}-offline", self.container_name(id));
        let scratch = format!("{volume}-offline");
        let mut copy = OfflineCopy {
            server: id,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            before: VolumeDigest { files: 0, sha256: String::new() },
            engine,
            container,
            scratch,
        };
        match self.serve_copy(&mut copy, &volume, timeout).await {
            Ok(()) => Ok(copy),
            Err(e) => {
                let _ = self.remove_offline_copy(&copy).await;
                Err(e)
            }
        }
    }

    async fn serve_copy(&self, copy: &mut OfflineCopy, volume: &str, timeout: Duration) -> Result<()> {
        let (id, engine) = (copy.server, copy.engine);
        let docker = &self.engines[engine].docker;
        self.remove_offline_copy(copy).await?;
        let req = VolumeCreateRequest {
            name: Some(copy.scratch.clone()),
            labels: Some(self.offline_labels(id)),
            ..Default::default()
        };
        docker.create_volume(req).await.map_err(|source| ClusterError::CreateVolume { name: copy.scratch.clone(), source })?;
        let helper = format!("{}-copy", copy.container);
        let binds = vec![format!("{volume}:/orig:ro"), format!("{}:/copy", copy.scratch)];
        let out = self.run_volume_helper(engine, id, &helper, binds, format!("{DIGEST}\ndigest /orig && cp -a /orig/. /copy/")).await?;
        copy.before = parse_digest(&out).ok_or_else(|| offline_err(&helper, format!("no digest in the helper's output: {}", out.trim())))?;

        let cfg = ZooCfg::standalone(id, &self.spec.plan).localized(&self.spec.plan);
        let mut flags = self.jvm_flags();
        flags.push(TRUST_EMPTY_SNAPSHOT.into());
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut host_config = HostConfig {
                init: Some(true),
                binds: Some(vec![format!("{}:{DATA_DIR}", copy.scratch)]),
                cpuset_cpus: self.spec.plan.cpuset.clone(),
                cpu_period: super::container::cpu_quota(self.spec.plan.cpus).map(|q| q.0),
                cpu_quota: super::container::cpu_quota(self.spec.plan.cpus).map(|q| q.1),
                ..Default::default()
            };
            let mut body = ContainerCreateBody {
                image: Some(self.image.name.clone()),
                entrypoint: Some(self.image.entrypoint()),
                cmd: Some(self.image.cmd()),
                env: Some(self.image.env(self.spec.plan.heap_mb, &flags)),
                labels: Some(self.offline_labels(id)),
                ..Default::default()
            };
            match &self.network {
                Some(network) => {
                    let port = free_port()?;
                    let key = format!("{CLIENT_PORT}/tcp");
                    let binding = PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some(port.to_string()) };
                    host_config.port_bindings = Some(HashMap::from([(key.clone(), Some(vec![binding]))]));
                    host_config.network_mode = Some(network.clone());
                    body.exposed_ports = Some(vec![key]);
                    copy.addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                }
                None => {
                    host_config.network_mode = Some("host".into());
                    let ip = self.engines[engine].address.unwrap_or(Ipv4Addr::LOCALHOST.into());
                    copy.addr = SocketAddr::new(ip, cfg.client_port);
                }
            }
            body.host_config = Some(host_config);
            let opts = CreateContainerOptionsBuilder::new().name(&copy.container).build();
            docker
                .create_container(Some(opts), body)
                .await
                .map_err(|source| ClusterError::CreateContainer { name: copy.container.clone(), source })?;
            self.upload(engine, &copy.container, &cfg).await?;
            match docker.start_container(&copy.container, None).await {
                Ok(()) => break,
                Err(e) if e.to_string().contains("port is already allocated") && attempt < PORT_ATTEMPTS && self.network.is_some() => {
                    self.remove_quietly(engine, &copy.container).await;
                }
                Err(source) => return Err(ClusterError::StartContainer { name: copy.container.clone(), source }),
            }
        }
        let start = Instant::now();
        loop {
            let mode = fourlw::srvr(copy.addr, SRVR_TIMEOUT).await.map(|i| i.mode).unwrap_or(ServerMode::Down);
            if mode.is_serving() {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(ClusterError::NotReady { what: format!("{} (standalone copy of zk{id}'s data)", copy.container), timeout, last: mode.as_str().into() });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Remove an offline copy's container and scratch volume (missing ones are fine).
    pub async fn remove_offline_copy(&self, copy: &OfflineCopy) -> Result<()> {
        let docker = &self.engines[copy.engine].docker;
        let opts = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        match docker.remove_container(&copy.container, Some(opts)).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(source) => return Err(ClusterError::RemoveContainer { name: copy.container.clone(), source }),
        }
        match docker.remove_volume(&copy.scratch, None::<bollard::query_parameters::RemoveVolumeOptions>).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(source) => Err(ClusterError::RemoveVolume { name: copy.scratch.clone(), source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_lines_are_parsed_and_garbage_is_not() {
        let sha = "a".repeat(64);
        let out = format!("cp: something\nzkchaos-digest 4 {sha}\n");
        assert_eq!(parse_digest(&out), Some(VolumeDigest { files: 4, sha256: sha.clone() }));
        assert_eq!(parse_digest("zkchaos-digest 4 abc"), None);
        assert_eq!(parse_digest(&format!("zkchaos-digest x {sha}")), None);
        assert_eq!(parse_digest("nothing"), None);
    }
}
