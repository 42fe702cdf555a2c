//! Creating one server's objects on its engine: data volume, host container (bridge form: holds
//! the server's address and its published 127.0.0.1 client port), ZooKeeper container (in the
//! host's network namespace, or with host networking on a listed engine), configuration upload,
//! start with port retry, removal. The [`Cluster`] operations build on these.

use super::config::{ZooCfg, CLIENT_PORT, DATA_DIR};
use super::docker::{Cluster, Server};
use super::error::{ClusterError, Result};
use super::names;
use bollard::models::{ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig, PortBinding, VolumeCreateRequest};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder};
use std::collections::HashMap;
use std::net::Ipv4Addr;

const PORT_ATTEMPTS: u32 = 5;

/// A free TCP port on 127.0.0.1 (the kernel's choice; it may be taken again before use, so
/// container start retries on conflict).
fn pick_port() -> Result<u16> {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| ClusterError::WriteFile { path: "127.0.0.1:0 (port probe)".into(), source })
}

fn is_port_conflict(e: &bollard::errors::Error) -> bool {
    let s = e.to_string();
    s.contains("port is already allocated") || s.contains("address already in use")
}

pub(super) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}

/// A kill of a container that is not running (409).
pub(super) fn is_not_running(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) && e.to_string().contains("not running")
}

pub(super) fn is_not_modified(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 304, .. })
}

/// A tar archive, rooted at `/`, of absolute-path files.
fn tar_files(files: &[(String, String)]) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, contents) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(contents.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        b.append_data(&mut h, path.trim_start_matches('/'), contents.as_bytes())?;
    }
    b.into_inner()
}

/// A server whose volume, host (bridge form), container and configuration exist but whose
/// ZooKeeper container is not started yet.
struct Prepared {
    id: u32,
    engine: usize,
    container: String,
    holder: Option<String>,
    volume: String,
    port: u16,
    cfg: ZooCfg,
}

impl Cluster {
    /// Create servers `cfgs` (volumes, hosts, containers, configuration) first and then start
    /// their ZooKeeper containers all at once. Each host container, with the server's name on
    /// the bridge network, runs from [`Cluster::prepare`] on, so no server looks up a peer whose
    /// name does not exist yet.
    pub async fn start_servers(&mut self, cfgs: &[(u32, ZooCfg)]) -> Result<()> {
        let mut prepared = Vec::new();
        for (id, cfg) in cfgs {
            prepared.push(self.prepare(*id, cfg, None).await?);
        }
        let starts = prepared.iter().map(|p| self.engines[p.engine].docker.start_container(&p.container, None));
        let results = futures_util::future::join_all(starts).await;
        for (p, result) in prepared.into_iter().zip(results) {
            match result {
                Ok(()) => self.started(p),
                Err(source) => return Err(ClusterError::StartContainer { name: p.container, source }),
            }
        }
        Ok(())
    }

    /// Volume (for a new server), host container (bridge form, started), ZooKeeper container
    /// and configuration of server `id`; the ZooKeeper container is not started.
    async fn prepare(&mut self, id: u32, cfg: &ZooCfg, port: Option<u16>) -> Result<Prepared> {
        let cfg = self.effective_cfg(cfg);
        let container = names::container_name(&self.spec.run_id, id);
        let volume = names::volume_name(&self.spec.run_id, id);
        let engine = self.engine_index(id);
        if !self.servers.contains_key(&id) {
            self.create_volume(engine, id, &volume).await?;
        }
        let (holder, port) = if self.host_networking() {
            (None, cfg_client_port(&cfg, id))
        } else {
            let (holder, port) = self.start_host(engine, id, port).await?;
            (Some(holder), port)
        };
        self.create_container(engine, id, &container, &volume, holder.as_deref()).await?;
        self.upload(engine, &container, &cfg).await?;
        Ok(Prepared { id, engine, container, holder, volume, port, cfg })
    }

    /// Record a prepared server as started (keeping the logs of its earlier incarnations).
    fn started(&mut self, p: Prepared) {
        let past_logs = self.servers.remove(&p.id).map(|s| s.past_logs).unwrap_or_default();
        tracing::debug!("started {} on engine {} port {}", p.container, self.engines[p.engine].name, p.port);
        let Prepared { id, engine, container, holder, volume, port, cfg } = p;
        self.servers.insert(id, Server { engine, container, holder, host_up: true, volume, port, cfg, past_logs, present: true });
    }

    /// As [`Cluster::start_server`], on a given host port (`None`: pick one). A requested port
    /// already in use is an error; a picked one is replaced by another. With host networking the
    /// port is the server's own (see [`crate::plan::engines::host_ports`]) and `port` is ignored.
    pub async fn start_server_on_port(&mut self, id: u32, cfg: &ZooCfg, port: Option<u16>) -> Result<()> {
        let p = self.prepare(id, cfg, port).await?;
        match self.engines[p.engine].docker.start_container(&p.container, None).await {
            Ok(()) => {
                self.started(p);
                Ok(())
            }
            Err(source) => Err(ClusterError::StartContainer { name: p.container, source }),
        }
    }

    /// Server `id`'s host on the run's bridge network: a small container that holds the
    /// server's network namespace, its name `zkN` on the network and its published client
    /// port, and does nothing else (`sleep`), so that the ZooKeeper process can stop and start
    /// while its address stays (the Kubernetes pod model). Reused when it exists (a server
    /// started again); else created and started on `port` or a picked free one (a picked port
    /// taken in the meantime is replaced, up to five times). Returns its name and port.
    async fn start_host(&mut self, engine: usize, id: u32, port: Option<u16>) -> Result<(String, u16)> {
        if let Some(s) = self.servers.get(&id) {
            if let Some(holder) = s.holder.clone() {
                let port = s.port;
                self.bring_host_up(id).await?;
                return Ok((holder, port));
            }
        }
        let name = names::host_container_name(&self.spec.run_id, id);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let host_port = match port {
                Some(p) => p,
                None => pick_port()?,
            };
            self.create_host_container(engine, id, &name, host_port).await?;
            match self.engines[engine].docker.start_container(&name, None).await {
                Ok(()) => return Ok((name, host_port)),
                Err(e) if is_port_conflict(&e) => {
                    self.remove_container(engine, &name).await?;
                    if port.is_some() {
                        return Err(ClusterError::PortInUse { name, port: host_port });
                    }
                    if attempt >= PORT_ATTEMPTS {
                        return Err(ClusterError::StartContainer { name, source: e });
                    }
                    tracing::debug!("port {host_port} taken while starting {name}; retrying with another");
                }
                Err(source) => {
                    let _ = self.remove_container(engine, &name).await;
                    return Err(ClusterError::StartContainer { name, source });
                }
            }
        }
    }

    /// The host container of server `id` (see [`Cluster::start_host`]), not started.
    async fn create_host_container(&self, engine: usize, id: u32, name: &str, host_port: u16) -> Result<()> {
        let network = self.network.clone().unwrap_or_default();
        let port_key = format!("{CLIENT_PORT}/tcp");
        let binding = PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some(host_port.to_string()) };
        let endpoint = EndpointSettings { aliases: Some(vec![super::config::host(id)]), ..Default::default() };
        let body = ContainerCreateBody {
            image: Some(self.image.name.clone()),
            entrypoint: Some(vec!["sleep".into()]),
            cmd: Some(vec!["infinity".into()]),
            labels: Some(names::host_labels(&self.spec.run_id, &self.spec.profile, id)),
            hostname: Some(super::config::host(id)),
            exposed_ports: Some(vec![port_key.clone()]),
            networking_config: Some(NetworkingConfig { endpoints_config: Some(HashMap::from([(network.clone(), endpoint)])) }),
            host_config: Some(HostConfig {
                init: Some(true),
                privileged: Some(false),
                port_bindings: Some(HashMap::from([(port_key, Some(vec![binding]))])),
                network_mode: Some(network),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.create_named(engine, name, body).await
    }

    pub(super) async fn create_volume(&self, engine: usize, id: u32, volume: &str) -> Result<()> {
        let req = VolumeCreateRequest {
            name: Some(volume.to_string()),
            labels: Some(names::server_labels(&self.spec.run_id, &self.spec.profile, id)),
            ..Default::default()
        };
        self.engines[engine]
            .docker
            .create_volume(req)
            .await
            .map(|_| ())
            .map_err(|source| ClusterError::CreateVolume { name: volume.to_string(), source })
    }

    /// The ZooKeeper container of server `id` (it alone carries the CPU budget; its `-host`
    /// holder runs nothing): in the network namespace of its host container
    /// `holder` (bridge form), or with host networking on a listed engine (`holder` = None).
    pub(super) async fn create_container(&self, engine: usize, id: u32, name: &str, volume: &str, holder: Option<&str>) -> Result<()> {
        let network_mode = match holder {
            Some(h) => format!("container:{h}"),
            None => "host".to_string(),
        };
        let host_config = HostConfig {
            init: Some(true),
            privileged: Some(false),
            binds: Some(vec![format!("{volume}:{DATA_DIR}")]),
            cpuset_cpus: self.spec.plan.cpuset.clone(),
            cpu_period: cpu_quota(self.spec.plan.cpus).map(|q| q.0),
            cpu_quota: cpu_quota(self.spec.plan.cpus).map(|q| q.1),
            network_mode: Some(network_mode),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(self.image.name.clone()),
            entrypoint: Some(self.image.entrypoint()),
            cmd: Some(self.image.cmd()),
            env: Some(self.image.env(self.spec.plan.heap_mb, &self.jvm_flags())),
            labels: Some(names::server_labels(&self.spec.run_id, &self.spec.profile, id)),
            host_config: Some(host_config),
            ..Default::default()
        };
        self.create_named(engine, name, body).await
    }

    /// Create container `name` from `body` on `engine`.
    async fn create_named(&self, engine: usize, name: &str, body: ContainerCreateBody) -> Result<()> {
        let opts = CreateContainerOptionsBuilder::new().name(name).build();
        self.engines[engine]
            .docker
            .create_container(Some(opts), body)
            .await
            .map(|_| ())
            .map_err(|source| ClusterError::CreateContainer { name: name.to_string(), source })
    }

    pub(super) async fn upload(&self, engine: usize, container: &str, cfg: &ZooCfg) -> Result<()> {
        let files = cfg.render().files();
        let tar = tar_files(&files).map_err(|source| ClusterError::Archive { name: container.to_string(), source })?;
        let opts = UploadToContainerOptionsBuilder::new().path("/").build();
        self.engines[engine]
            .docker
            .upload_to_container(container, Some(opts), bollard::body_full(tar.into()))
            .await
            .map_err(|source| ClusterError::Upload { name: container.to_string(), source })
    }

    pub(super) async fn remove_container(&self, engine: usize, container: &str) -> Result<()> {
        let opts = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        match self.engines[engine].docker.remove_container(container, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(source) => Err(ClusterError::RemoveContainer { name: container.to_string(), source }),
        }
    }
}

/// The client port a host-networked server listens on: its configuration's (the member line's
/// for the dynamic form).
fn cfg_client_port(cfg: &ZooCfg, id: u32) -> u16 {
    if cfg.mode == super::config::ConfigMode::Dynamic {
        crate::plan::engines::host_ports(id).0
    } else {
        cfg.client_port
    }
}

/// CFS period of a server's CPU quota, µs. Docker's `--cpus` uses 100 ms: a container that spends
/// its quota early in a period then stalls for the rest (80 ms at 0.2 CPU), which a 20 ms p99
/// objective would measure instead of ZooKeeper. With 10 ms a stall is at most 10 ms − quota.
pub const CPU_PERIOD_US: i64 = 10_000;

/// `(cpu_period, cpu_quota)` in µs for a quota of `cpus` CPUs.
pub fn cpu_quota(cpus: Option<f64>) -> Option<(i64, i64)> {
    cpus.map(|c| (CPU_PERIOD_US, ((c * CPU_PERIOD_US as f64).round() as i64).max(1000)))
}

#[cfg(test)]
mod cpu_quota_tests {
    #[test]
    fn quota_is_over_a_10_ms_period_and_never_below_the_kernel_minimum() {
        assert_eq!(super::cpu_quota(Some(0.2)), Some((10_000, 2_000)));
        assert_eq!(super::cpu_quota(Some(1.5)), Some((10_000, 15_000)));
        assert_eq!(super::cpu_quota(Some(0.01)), Some((10_000, 1_000)), "1 ms is the kernel's minimum quota");
        assert_eq!(super::cpu_quota(None), None);
    }
}
