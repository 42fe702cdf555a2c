//! Creating one server's objects on its engine: data volume, container (bridge network with a
//! published 127.0.0.1 client port, or host networking on a listed engine), configuration upload,
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

impl Cluster {
    /// As [`Cluster::start_server`], on a given host port (`None`: pick one). A requested port
    /// already in use is an error; a picked one is replaced by another. With host networking the
    /// port is the server's own (see [`crate::plan::engines::host_ports`]) and `port` is ignored.
    pub async fn start_server_on_port(&mut self, id: u32, cfg: &ZooCfg, port: Option<u16>) -> Result<()> {
        let cfg = self.effective_cfg(cfg);
        let run = self.spec.run_id.clone();
        let container = names::container_name(&run, id);
        let volume = names::volume_name(&run, id);
        let engine = self.engine_index(id);
        if !self.servers.contains_key(&id) {
            self.create_volume(engine, id, &volume).await?;
        }
        let host_net = self.host_networking();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let host_port = match port {
                _ if host_net => cfg_client_port(&cfg, id),
                Some(p) => p,
                None => pick_port()?,
            };
            self.create_container(engine, id, &container, &volume, host_port).await?;
            self.upload(engine, &container, &cfg).await?;
            match self.engines[engine].docker.start_container(&container, None).await {
                Ok(()) => {
                    let past_logs = self.servers.remove(&id).map(|s| s.past_logs).unwrap_or_default();
                    self.servers.insert(id, Server { engine, container, volume, port: host_port, cfg, past_logs, present: true });
                    tracing::debug!("started {} on engine {} port {host_port}", names::container_name(&run, id), self.engines[engine].name);
                    return Ok(());
                }
                Err(e) if is_port_conflict(&e) && !host_net => {
                    self.remove_container(engine, &container).await?;
                    if port.is_some() {
                        return Err(ClusterError::PortInUse { name: container, port: host_port });
                    }
                    if attempt >= PORT_ATTEMPTS {
                        return Err(ClusterError::StartContainer { name: container, source: e });
                    }
                    tracing::debug!("port {host_port} taken while starting {container}; retrying with another");
                }
                Err(source) => return Err(ClusterError::StartContainer { name: container, source }),
            }
        }
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

    pub(super) async fn create_container(&self, engine: usize, id: u32, name: &str, volume: &str, host_port: u16) -> Result<()> {
        let mut host_config = HostConfig {
            init: Some(true),
            privileged: Some(false),
            binds: Some(vec![format!("{volume}:{DATA_DIR}")]),
            ..Default::default()
        };
        let mut body = ContainerCreateBody {
            image: Some(self.image.name.clone()),
            entrypoint: Some(self.image.entrypoint()),
            cmd: Some(self.image.cmd()),
            env: Some(self.image.env(self.spec.plan.heap_mb, &self.jvm_flags())),
            labels: Some(names::server_labels(&self.spec.run_id, &self.spec.profile, id)),
            ..Default::default()
        };
        match &self.network {
            Some(network) => {
                let port_key = format!("{CLIENT_PORT}/tcp");
                let binding = PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some(host_port.to_string()) };
                host_config.port_bindings = Some(HashMap::from([(port_key.clone(), Some(vec![binding]))]));
                host_config.network_mode = Some(network.clone());
                let endpoint = EndpointSettings { aliases: Some(vec![super::config::host(id)]), ..Default::default() };
                body.hostname = Some(super::config::host(id));
                body.exposed_ports = Some(vec![port_key]);
                body.networking_config =
                    Some(NetworkingConfig { endpoints_config: Some(HashMap::from([(network.clone(), endpoint)])) });
            }
            None => host_config.network_mode = Some("host".into()),
        }
        body.host_config = Some(host_config);
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
