//! [`Cluster`]: one run's ZooKeeper containers on one user-defined bridge network.
//!
//! Each server `N` is a container `zkchaos-<run>-zkN` (network alias `zkN`, `init` as PID 1)
//! with a named data volume, its configuration uploaded as a tar archive before start, and its
//! client port published on 127.0.0.1 only, at a host port picked by the harness. The
//! four-letter word `srvr` through that port is the readiness and mode signal.
//!
//! A `Cluster` that is dropped without [`Cluster::teardown`] (a panic, an early `?`) removes its
//! objects from a helper thread, unless [`Cluster::keep`] was called.

use super::cleanup::{self, TeardownReport};
use super::config::{ZooCfg, CLIENT_PORT, DATA_DIR};
use super::error::{ClusterError, Result};
use super::fourlw::{self, Membership, SrvrInfo};
use super::image::{self, ImageSpec};
use super::names;
use crate::plan::ClusterPlan;
use crate::record::ServerMode;
use bollard::models::{ContainerCreateBody, EndpointSettings, HostConfig, NetworkCreateRequest, NetworkingConfig, PortBinding};
use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder, KillContainerOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, StopContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

/// `srvr` answer deadline used by readiness polling and [`Cluster::srvr`].
pub const SRVR_TIMEOUT: Duration = Duration::from_millis(1000);
/// Grace period of the stop inside [`Cluster::restart_with_config`] and [`Cluster::wipe_data`].
pub const STOP_GRACE: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(100);
const PORT_ATTEMPTS: u32 = 5;

/// What a run needs to create its ensemble.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub run_id: String,
    /// Profile name (label `zkchaos.profile`); "manual" for `zkchaos cluster up`.
    pub profile: String,
    pub plan: ClusterPlan,
    /// Extra JVM flags for every server (e.g. [`image::super_digest_flag`]).
    pub extra_jvm_flags: Vec<String>,
    /// Render every zoo.cfg with `skipACL=yes`.
    pub skip_acl: bool,
}

#[derive(Debug)]
struct Server {
    container: String,
    volume: String,
    port: u16,
    cfg: ZooCfg,
    /// Logs of earlier incarnations of this server's container (wipe_data, teardown).
    past_logs: String,
    /// The container exists (false after teardown).
    present: bool,
}

/// One run's ensemble. See the module docs.
pub struct Cluster {
    docker: Docker,
    spec: ClusterSpec,
    image: ImageSpec,
    network: String,
    servers: BTreeMap<u32, Server>,
    /// Torn down or kept: nothing to do on drop.
    done: bool,
}

/// Connect to the engine named by `DOCKER_HOST` (default the local socket), agree on an API
/// version, and ping it.
pub async fn connect_docker() -> Result<Docker> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let unreachable = |detail: String| ClusterError::EngineUnreachable { host: host.clone(), detail };
    let docker = Docker::connect_with_defaults().map_err(|e| unreachable(e.to_string()))?;
    let docker = match tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version()).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return Err(unreachable(e.to_string())),
        Err(_) => return Err(unreachable("no answer within 10 s".into())),
    };
    match tokio::time::timeout(Duration::from_secs(10), docker.ping()).await {
        Ok(Ok(_)) => Ok(docker),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable("no answer to ping within 10 s".into())),
    }
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

fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
}

fn is_not_modified(e: &bollard::errors::Error) -> bool {
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
    /// See [`connect_docker`].
    pub async fn connect_docker() -> Result<Docker> {
        connect_docker().await
    }

    /// Check the image and memory, and create the run's network. No server is started.
    pub async fn create(spec: ClusterSpec) -> Result<Cluster> {
        if !names::is_valid_run_id(&spec.run_id) {
            return Err(ClusterError::BadRunId(spec.run_id.clone()));
        }
        let docker = connect_docker().await?;
        let image = image::ensure_image(&docker, &spec.plan.image, spec.plan.image_kind).await?;
        memory_preflight(spec.plan.size, spec.plan.heap_mb)?;
        let network = names::network_name(&spec.run_id);
        let req = NetworkCreateRequest {
            name: network.clone(),
            driver: Some("bridge".into()),
            labels: Some(names::run_labels(&spec.run_id, &spec.profile)),
            ..Default::default()
        };
        docker
            .create_network(req)
            .await
            .map_err(|source| ClusterError::CreateNetwork { name: network.clone(), source })?;
        tracing::debug!(run = %spec.run_id, image = %image.name, kind = ?image.kind, "created network {network}");
        Ok(Cluster { docker, spec, image, network, servers: BTreeMap::new(), done: false })
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }
    pub fn run_id(&self) -> &str {
        &self.spec.run_id
    }
    pub fn spec(&self) -> &ClusterSpec {
        &self.spec
    }
    pub fn image(&self) -> &ImageSpec {
        &self.image
    }
    pub fn network_name(&self) -> &str {
        &self.network
    }
    pub fn container_name(&self, id: u32) -> String {
        names::container_name(&self.spec.run_id, id)
    }
    /// Ids of every server ever started in this run, ascending.
    pub fn server_ids(&self) -> Vec<u32> {
        self.servers.keys().copied().collect()
    }
    /// The configuration server `id` was last started with.
    pub fn config_of(&self, id: u32) -> Option<&ZooCfg> {
        self.servers.get(&id).map(|s| &s.cfg)
    }

    fn server(&self, id: u32) -> Result<&Server> {
        self.servers.get(&id).ok_or_else(|| ClusterError::UnknownServer { run: self.spec.run_id.clone(), id })
    }

    /// Published client address of server `id` (127.0.0.1 only).
    pub fn client_addr(&self, id: u32) -> Option<SocketAddr> {
        self.servers.get(&id).map(|s| SocketAddr::from((Ipv4Addr::LOCALHOST, s.port)))
    }

    /// Every started server with its published client address, ascending by id.
    pub fn client_addrs(&self) -> Vec<(u32, SocketAddr)> {
        self.servers.iter().map(|(&id, s)| (id, SocketAddr::from((Ipv4Addr::LOCALHOST, s.port)))).collect()
    }

    /// "127.0.0.1:p1,127.0.0.1:p2" for the listed servers (unknown ids are skipped).
    pub fn connect_string(&self, ids: &[u32]) -> String {
        ids.iter().filter_map(|&i| self.client_addr(i)).map(|a| a.to_string()).collect::<Vec<_>>().join(",")
    }

    /// The plan's JVM options, then the run's own (e.g. the super digest).
    fn jvm_flags(&self) -> Vec<String> {
        self.spec.plan.jvm_flags.iter().chain(&self.spec.extra_jvm_flags).cloned().collect()
    }

    fn effective_cfg(&self, cfg: &ZooCfg) -> ZooCfg {
        cfg.clone().with_skip_acl(cfg.skip_acl || self.spec.skip_acl)
    }

    /// Start the plan's initial ensemble, servers `1..=size` in the form the plan asks for
    /// (standalone, static or dynamic), and wait until it serves with exactly one leader.
    /// Returns each server's mode once it did.
    pub async fn start_initial(&mut self, timeout: Duration) -> Result<Vec<(u32, ServerMode)>> {
        let ids: Vec<u32> = (1..=self.spec.plan.size).collect();
        for &id in &ids {
            let cfg = ZooCfg::from_plan(id, &ids, &self.spec.plan);
            self.start_server(id, &cfg).await?;
        }
        self.wait_ensemble(&ids, timeout).await
    }

    /// Create and start server `id` with `cfg`, on a harness-chosen free 127.0.0.1 port.
    pub async fn start_server(&mut self, id: u32, cfg: &ZooCfg) -> Result<()> {
        self.start_server_on_port(id, cfg, None).await
    }

    /// As [`Cluster::start_server`], on a given host port (`None`: pick one). A requested port
    /// already in use is an error; a picked one is replaced by another.
    pub async fn start_server_on_port(&mut self, id: u32, cfg: &ZooCfg, port: Option<u16>) -> Result<()> {
        let cfg = self.effective_cfg(cfg);
        let run = self.spec.run_id.clone();
        let container = names::container_name(&run, id);
        let volume = names::volume_name(&run, id);
        let fresh_volume = !self.servers.contains_key(&id);
        if fresh_volume {
            self.create_volume(id, &volume).await?;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let host_port = match port {
                Some(p) => p,
                None => pick_port()?,
            };
            self.create_container(id, &container, &volume, host_port).await?;
            self.upload(&container, &cfg).await?;
            match self.docker.start_container(&container, None).await {
                Ok(()) => {
                    let past_logs = self.servers.remove(&id).map(|s| s.past_logs).unwrap_or_default();
                    self.servers.insert(id, Server { container, volume, port: host_port, cfg, past_logs, present: true });
                    tracing::debug!("started {} on 127.0.0.1:{host_port}", names::container_name(&run, id));
                    return Ok(());
                }
                Err(e) if is_port_conflict(&e) => {
                    self.remove_container(&container).await?;
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

    async fn create_volume(&self, id: u32, volume: &str) -> Result<()> {
        let req = VolumeCreateRequest {
            name: Some(volume.to_string()),
            labels: Some(names::server_labels(&self.spec.run_id, &self.spec.profile, id)),
            ..Default::default()
        };
        self.docker
            .create_volume(req)
            .await
            .map(|_| ())
            .map_err(|source| ClusterError::CreateVolume { name: volume.to_string(), source })
    }

    async fn create_container(&self, id: u32, name: &str, volume: &str, host_port: u16) -> Result<()> {
        let port_key = format!("{CLIENT_PORT}/tcp");
        let bindings = HashMap::from([(
            port_key.clone(),
            Some(vec![PortBinding { host_ip: Some("127.0.0.1".into()), host_port: Some(host_port.to_string()) }]),
        )]);
        let host_config = HostConfig {
            init: Some(true),
            privileged: Some(false),
            port_bindings: Some(bindings),
            binds: Some(vec![format!("{volume}:{DATA_DIR}")]),
            network_mode: Some(self.network.clone()),
            cpuset_cpus: self.spec.plan.cpuset.clone(),
            nano_cpus: self.spec.plan.cpus.map(|c| (c * 1e9).round() as i64),
            ..Default::default()
        };
        let endpoint = EndpointSettings { aliases: Some(vec![super::config::host(id)]), ..Default::default() };
        let body = ContainerCreateBody {
            image: Some(self.image.name.clone()),
            hostname: Some(super::config::host(id)),
            entrypoint: Some(self.image.entrypoint()),
            cmd: Some(self.image.cmd()),
            env: Some(self.image.env(self.spec.plan.heap_mb, &self.jvm_flags())),
            labels: Some(names::server_labels(&self.spec.run_id, &self.spec.profile, id)),
            exposed_ports: Some(vec![port_key]),
            host_config: Some(host_config),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(HashMap::from([(self.network.clone(), endpoint)])),
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::new().name(name).build();
        self.docker
            .create_container(Some(opts), body)
            .await
            .map(|_| ())
            .map_err(|source| ClusterError::CreateContainer { name: name.to_string(), source })
    }

    async fn upload(&self, container: &str, cfg: &ZooCfg) -> Result<()> {
        let files = cfg.render().files();
        let tar = tar_files(&files).map_err(|source| ClusterError::Archive { name: container.to_string(), source })?;
        let opts = UploadToContainerOptionsBuilder::new().path("/").build();
        self.docker
            .upload_to_container(container, Some(opts), bollard::body_full(tar.into()))
            .await
            .map_err(|source| ClusterError::Upload { name: container.to_string(), source })
    }

    async fn remove_container(&self, container: &str) -> Result<()> {
        let opts = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        match self.docker.remove_container(container, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(source) => Err(ClusterError::RemoveContainer { name: container.to_string(), source }),
        }
    }

    /// Stop server `id` (SIGTERM, then SIGKILL after `grace`). Stopping a stopped server is fine.
    pub async fn stop_server(&mut self, id: u32, grace: Duration) -> Result<()> {
        let name = self.server(id)?.container.clone();
        let t = grace.as_secs_f64().ceil() as i32;
        match self.docker.stop_container(&name, Some(StopContainerOptionsBuilder::new().t(t).build())).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_modified(&e) => Ok(()),
            Err(source) => Err(ClusterError::StopContainer { name, source }),
        }
    }

    /// SIGKILL server `id` (a crash).
    pub async fn kill_server(&mut self, id: u32) -> Result<()> {
        let name = self.server(id)?.container.clone();
        let opts = KillContainerOptionsBuilder::new().signal("SIGKILL").build();
        self.docker.kill_container(&name, Some(opts)).await.map_err(|source| ClusterError::KillContainer { name, source })
    }

    /// Start a stopped (or freshly re-created) server container again, same config and port.
    pub async fn start_existing(&mut self, id: u32) -> Result<()> {
        let name = self.server(id)?.container.clone();
        match self.docker.start_container(&name, None).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_modified(&e) => Ok(()),
            Err(source) => Err(ClusterError::StartContainer { name, source }),
        }
    }

    /// Stop server `id`, replace its zoo.cfg/myid (and dynamic file) with `cfg`, start it again.
    pub async fn restart_with_config(&mut self, id: u32, cfg: &ZooCfg) -> Result<()> {
        self.stop_server(id, STOP_GRACE).await?;
        let cfg = self.effective_cfg(cfg);
        let name = self.server(id)?.container.clone();
        self.upload(&name, &cfg).await?;
        if let Some(s) = self.servers.get_mut(&id) {
            s.cfg = cfg;
        }
        self.start_existing(id).await
    }

    pub async fn pause(&mut self, id: u32) -> Result<()> {
        let name = self.server(id)?.container.clone();
        self.docker.pause_container(&name).await.map_err(|source| ClusterError::PauseContainer { name, source })
    }

    pub async fn unpause(&mut self, id: u32) -> Result<()> {
        let name = self.server(id)?.container.clone();
        self.docker.unpause_container(&name).await.map_err(|source| ClusterError::UnpauseContainer { name, source })
    }

    /// Stop server `id` and give it an empty data directory (a new volume; the container is
    /// re-created with the same name, port and config, and left stopped: call
    /// [`Cluster::start_existing`]). Its earlier logs are kept for [`Cluster::logs`].
    pub async fn wipe_data(&mut self, id: u32) -> Result<()> {
        self.stop_server(id, STOP_GRACE).await?;
        let old_logs = self.logs(id).await.unwrap_or_default();
        let (container, volume, port, cfg) = {
            let s = self.server(id)?;
            (s.container.clone(), s.volume.clone(), s.port, s.cfg.clone())
        };
        self.remove_container(&container).await?;
        match self.docker.remove_volume(&volume, None::<bollard::query_parameters::RemoveVolumeOptions>).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(source) => return Err(ClusterError::RemoveVolume { name: volume, source }),
        }
        self.create_volume(id, &volume).await?;
        self.create_container(id, &container, &volume, port).await?;
        self.upload(&container, &cfg).await?;
        if let Some(s) = self.servers.get_mut(&id) {
            s.past_logs = old_logs;
        }
        Ok(())
    }

    /// `srvr` on server `id`'s published port. An error means it did not answer (down).
    pub async fn srvr(&self, id: u32) -> Result<SrvrInfo> {
        let s = self.server(id)?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, s.port));
        fourlw::srvr(addr, SRVR_TIMEOUT).await.map_err(|source| ClusterError::Srvr { name: s.container.clone(), source })
    }

    /// Mode of server `id` in one poll (`Down` when it does not answer or is unknown).
    pub async fn mode(&self, id: u32) -> ServerMode {
        self.srvr(id).await.map(|i| i.mode).unwrap_or(ServerMode::Down)
    }

    /// The membership server `id` itself believes in (from its `conf` answer: the `server.N`
    /// lines and, if dynamic, the config version). A standalone server is a membership of one.
    pub async fn membership_view(&self, id: u32) -> Result<Membership> {
        let s = self.server(id)?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, s.port));
        let text = fourlw::four_letter(addr, "conf", SRVR_TIMEOUT)
            .await
            .map_err(|e| ClusterError::Membership { name: s.container.clone(), detail: e.to_string() })?;
        if text.contains(fourlw::NOT_SERVING) {
            return Err(ClusterError::Membership { name: s.container.clone(), detail: "not serving requests".into() });
        }
        Ok(fourlw::parse_conf_membership(&text)
            .unwrap_or_else(|| Membership { voting: [id].into(), ..Default::default() }))
    }

    /// Contents of one file inside server `id`'s container (works while it is stopped).
    pub async fn read_file(&self, id: u32, path: &str) -> Result<String> {
        let name = self.server(id)?.container.clone();
        let err = |detail: String| ClusterError::Download { name: name.clone(), path: path.to_string(), detail };
        let opts = DownloadFromContainerOptionsBuilder::new().path(path).build();
        let mut stream = self.docker.download_from_container(&name, Some(opts));
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.map_err(|e| err(e.to_string()))?);
        }
        let mut archive = tar::Archive::new(bytes.as_slice());
        let entries = archive.entries().map_err(|e| err(e.to_string()))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| err(e.to_string()))?;
            if entry.header().entry_type().is_file() {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut entry, &mut s).map_err(|e| err(e.to_string()))?;
                return Ok(s);
            }
        }
        Err(err("not a regular file".into()))
    }

    /// Wait until server `id` serves requests (any serving mode).
    pub async fn wait_serving(&self, id: u32, timeout: Duration) -> Result<()> {
        let name = self.server(id)?.container.clone();
        let start = Instant::now();
        loop {
            let mode = self.mode(id).await;
            if mode.is_serving() {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(ClusterError::NotReady { what: name, timeout, last: mode.as_str().into() });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Wait until every listed server serves and exactly one of them leads (a single server may
    /// be standalone instead). Returns the modes seen at the moment of success.
    pub async fn wait_ensemble(&self, ids: &[u32], timeout: Duration) -> Result<Vec<(u32, ServerMode)>> {
        for &id in ids {
            self.server(id)?;
        }
        let start = Instant::now();
        loop {
            let modes = futures_util::future::join_all(ids.iter().map(|&id| async move { (id, self.mode(id).await) })).await;
            let all_serving = modes.iter().all(|(_, m)| m.is_serving());
            let leaders = modes.iter().filter(|(_, m)| *m == ServerMode::Leader).count();
            let standalone = modes.iter().filter(|(_, m)| *m == ServerMode::Standalone).count();
            let ok = all_serving && if ids.len() == 1 { leaders + standalone == 1 } else { leaders == 1 && standalone == 0 };
            if ok {
                return Ok(modes);
            }
            if start.elapsed() >= timeout {
                let last = modes.iter().map(|(i, m)| format!("zk{i}={}", m.as_str())).collect::<Vec<_>>().join(" ");
                return Err(ClusterError::NotReady { what: format!("ensemble {ids:?}"), timeout, last });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Everything server `id` logged (all incarnations), stdout and stderr interleaved.
    pub async fn logs(&self, id: u32) -> Result<String> {
        let s = self.server(id)?;
        let mut out = s.past_logs.clone();
        if !s.present {
            return Ok(out);
        }
        let opts = LogsOptionsBuilder::new().stdout(true).stderr(true).build();
        let mut stream = self.docker.logs(&s.container, Some(opts));
        while let Some(item) = stream.next().await {
            match item {
                Ok(o) => out.push_str(&String::from_utf8_lossy(&o.into_bytes())),
                Err(e) if is_not_found(&e) => break,
                Err(source) => return Err(ClusterError::Logs { name: s.container.clone(), source }),
            }
        }
        Ok(out)
    }

    /// Write `zk<N>.log` in `dir` for every server ever started (stopped ones too).
    pub async fn save_logs(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)
            .map_err(|source| ClusterError::WriteFile { path: dir.display().to_string(), source })?;
        for &id in self.servers.keys() {
            let text = self.logs(id).await?;
            let path = dir.join(format!("zk{id}.log"));
            std::fs::write(&path, text).map_err(|source| ClusterError::WriteFile { path: path.display().to_string(), source })?;
        }
        Ok(())
    }

    /// Remove every container (with anonymous volumes), volume and the network of this run.
    /// Logs are captured first so [`Cluster::save_logs`] still works afterwards. Idempotent.
    pub async fn teardown(&mut self) -> Result<TeardownReport> {
        let ids: Vec<u32> = self.servers.iter().filter(|(_, s)| s.present).map(|(i, _)| *i).collect();
        for id in ids {
            if let Ok(text) = self.logs(id).await {
                if let Some(s) = self.servers.get_mut(&id) {
                    s.past_logs = text;
                    s.present = false;
                }
            }
        }
        let report = cleanup::remove_run(&self.docker, &self.spec.run_id).await?;
        self.done = true;
        Ok(report)
    }

    /// Leave everything in place (the `--keep` switch): dropping will not remove it.
    pub fn keep(&mut self) {
        self.done = true;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Last resort (panic or early return): remove by label from a thread with its own
        // runtime and connection, so this works inside or outside an async context.
        let run = self.spec.run_id.clone();
        let handle = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => return eprintln!("zkchaos: cannot clean up run {run}: {e}; run `zkchaos clean --run {run}`"),
            };
            let res = rt.block_on(async {
                let docker = connect_docker().await?;
                cleanup::remove_run(&docker, &run).await
            });
            if let Err(e) = res {
                eprintln!("zkchaos: cleaning up run {run}: {e}; run `zkchaos clean --run {run}`");
            }
        });
        let _ = handle.join();
    }
}
