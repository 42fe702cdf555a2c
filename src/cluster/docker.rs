//! [`Cluster`]: one run's ZooKeeper containers, on one engine or spread over several.
//!
//! Each server `N` is a container `zkchaos-<run>-zkN` (`init` as PID 1) with a named data volume
//! and its configuration uploaded as a tar archive before start. Two networking forms:
//! - **one local engine** (no `[[cluster.engines]]`): a per-run bridge network. Each server has a
//!   *host*, a small container `zkchaos-<run>-zkN-host` that holds its network namespace, its
//!   alias `zkN` and its client port published on 127.0.0.1 at a port picked by the harness; the
//!   ZooKeeper container joins that namespace. Stopping the process therefore leaves the address
//!   up (connects are refused at once, as on a live host); [`Cluster::host_down`] takes the host
//!   away too (the address goes silent), and `cluster.stop_model = "host"` makes every stop do so
//!   ([`crate::plan::StopModel`]);
//! - **listed engines**: server N runs on the engine the placement gives it, with host
//!   networking, listening on its own ports ([`crate::plan::engines::host_ports`]) at that
//!   engine's address; zoo.cfg names peers by engine address ([`ZooCfg::localized`]). Host
//!   networking because the servers are then reached exactly like servers on their own hosts
//!   (no NAT, no proxy, one address per host), and because a test engine in a network namespace
//!   runs with `--bridge=none`.
//!
//! The four-letter word `srvr` through the client address is the readiness and mode signal.
//! Container, volume and label names are the same on every engine; teardown removes by label on
//! each engine.
//!
//! A `Cluster` that is dropped without [`Cluster::teardown`] (a panic, an early `?`) removes its
//! objects from a helper thread, unless [`Cluster::keep`] was called.

use super::cleanup::{self, TeardownReport};
use super::config::ZooCfg;
use super::container::{is_not_found, is_not_modified, is_not_running};
use super::engine::{self, Engine, ENGINE_CALL_TIMEOUT};
use super::error::{ClusterError, Result};
use super::fourlw::{self, Membership, SrvrInfo};
use super::image::ImageSpec;
use super::names;
use crate::plan::{ClusterPlan, StopModel};
use crate::record::ServerMode;
use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::{
    DownloadFromContainerOptionsBuilder, KillContainerOptionsBuilder, LogsOptionsBuilder, StopContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

pub use super::engine::connect_docker;

/// `srvr` answer deadline used by readiness polling and [`Cluster::srvr`].
pub const SRVR_TIMEOUT: Duration = Duration::from_millis(1000);
/// Grace period of the stop inside [`Cluster::restart_with_config`] and [`Cluster::wipe_data`].
pub const STOP_GRACE: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(100);

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
pub(super) struct Server {
    /// Index into the cluster's engines.
    pub(super) engine: usize,
    pub(super) container: String,
    /// The host container holding the server's address (bridge form; `None` on listed engines).
    pub(super) holder: Option<String>,
    /// The host container is running (always true with host networking).
    pub(super) host_up: bool,
    pub(super) volume: String,
    /// Client port: published on 127.0.0.1 (bridge) or listened on at the engine's address.
    pub(super) port: u16,
    pub(super) cfg: ZooCfg,
    /// Logs of earlier incarnations of this server's container (wipe_data, teardown).
    pub(super) past_logs: String,
    /// The container exists (false after teardown).
    pub(super) present: bool,
}

/// One run's ensemble. See the module docs.
pub struct Cluster {
    /// The engines servers are placed on (one, `local`, when the plan lists none).
    pub(super) engines: Vec<Engine>,
    pub(super) spec: ClusterSpec,
    pub(super) image: ImageSpec,
    /// The run's bridge network (one local engine); `None` with host networking.
    pub(super) network: Option<String>,
    pub(super) servers: BTreeMap<u32, Server>,
    /// Torn down or kept: nothing to do on drop.
    done: bool,
}

impl Cluster {
    /// See [`connect_docker`].
    pub async fn connect_docker() -> Result<Docker> {
        connect_docker().await
    }

    /// Contact the engines, check the image and memory ([`engine::preflight`] for the initial
    /// size), and create the cluster ([`Cluster::create_on`]). No server is started.
    pub async fn create(spec: ClusterSpec) -> Result<Cluster> {
        let engines = engine::connect_engines(&spec.plan).await?;
        let image = engine::preflight(&engines, &spec.plan, spec.plan.size).await?;
        Cluster::create_on(spec, engines, image).await
    }

    /// The cluster on `engines`, already contacted and checked by [`engine::preflight`] (which
    /// gave `image`): with one local engine, the run's network is created. No server is started.
    pub async fn create_on(spec: ClusterSpec, engines: Vec<Engine>, image: ImageSpec) -> Result<Cluster> {
        if !names::is_valid_run_id(&spec.run_id) {
            return Err(ClusterError::BadRunId(spec.run_id.clone()));
        }
        if !spec.plan.engines.is_empty() {
            tracing::debug!(run = %spec.run_id, engines = engines.len(), "host networking on listed engines");
            return Ok(Cluster { engines, spec, image, network: None, servers: BTreeMap::new(), done: false });
        }
        let docker = engines[0].docker.clone();
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
        Ok(Cluster { engines, spec, image, network: Some(network), servers: BTreeMap::new(), done: false })
    }

    /// The first engine's client (the only one without listed engines).
    pub fn docker(&self) -> &Docker {
        &self.engines[0].docker
    }
    /// Every engine of this run.
    pub fn engines(&self) -> &[Engine] {
        &self.engines
    }
    /// Servers run with host networking on listed engines (no bridge network).
    pub fn host_networking(&self) -> bool {
        self.network.is_none()
    }
    /// Index of the engine server `id` runs (or would run) on.
    pub fn engine_index(&self, id: u32) -> usize {
        match self.servers.get(&id) {
            Some(s) => s.engine,
            None => crate::plan::engines::engine_index(&self.spec.plan.engines, &self.spec.plan.placement, id).unwrap_or(0),
        }
    }
    /// The engine server `id` runs (or would run) on.
    pub fn engine_of(&self, id: u32) -> &Engine {
        &self.engines[self.engine_index(id)]
    }
    fn docker_of(&self, id: u32) -> &Docker {
        &self.engine_of(id).docker
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
    /// The run's bridge network ("" with host networking).
    pub fn network_name(&self) -> &str {
        self.network.as_deref().unwrap_or("")
    }
    pub fn container_name(&self, id: u32) -> String {
        names::container_name(&self.spec.run_id, id)
    }
    /// The container whose network namespace server `id` lives in: its host container in the
    /// bridge form, else its own container (network faults act on this one).
    pub fn netns_container(&self, id: u32) -> String {
        self.servers.get(&id).and_then(|s| s.holder.clone()).unwrap_or_else(|| self.container_name(id))
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

    fn addr_of(&self, s: &Server) -> SocketAddr {
        match self.engines[s.engine].address {
            Some(ip) if self.host_networking() => SocketAddr::new(ip, s.port),
            _ => SocketAddr::from((Ipv4Addr::LOCALHOST, s.port)),
        }
    }

    /// Client address of server `id`: its engine's address with host networking, else the port
    /// published on 127.0.0.1.
    pub fn client_addr(&self, id: u32) -> Option<SocketAddr> {
        self.servers.get(&id).map(|s| self.addr_of(s))
    }

    /// Every started server with its client address, ascending by id.
    pub fn client_addrs(&self) -> Vec<(u32, SocketAddr)> {
        self.servers.iter().map(|(&id, s)| (id, self.addr_of(s))).collect()
    }

    /// "127.0.0.1:p1,127.0.0.1:p2" for the listed servers (unknown ids are skipped).
    pub fn connect_string(&self, ids: &[u32]) -> String {
        ids.iter().filter_map(|&i| self.client_addr(i)).map(|a| a.to_string()).collect::<Vec<_>>().join(",")
    }

    /// The plan's JVM options, then the run's own (e.g. the super digest).
    pub(super) fn jvm_flags(&self) -> Vec<String> {
        let security = format!("-Djava.security.properties={}", super::config::JAVA_SECURITY_FILE);
        self.spec.plan.jvm_flags.iter().chain(&self.spec.extra_jvm_flags).cloned().chain([security]).collect()
    }

    /// `cfg` as this cluster starts it: real addresses on listed engines, the run's ACL choice.
    pub(super) fn effective_cfg(&self, cfg: &ZooCfg) -> ZooCfg {
        cfg.localized(&self.spec.plan).with_skip_acl(cfg.skip_acl || self.spec.skip_acl)
    }

    /// Start the plan's initial ensemble, servers `1..=size` in the form the plan asks for
    /// (standalone, static or dynamic), and wait until it serves with exactly one leader.
    /// Returns each server's mode once it did.
    pub async fn start_initial(&mut self, timeout: Duration) -> Result<Vec<(u32, ServerMode)>> {
        let ids: Vec<u32> = (1..=self.spec.plan.size).collect();
        let cfgs: Vec<(u32, ZooCfg)> = ids.iter().map(|&id| (id, ZooCfg::from_plan(id, &ids, &self.spec.plan))).collect();
        self.start_servers(&cfgs).await?;
        self.wait_ensemble(&ids, timeout).await
    }

    /// Create and start server `id` with `cfg`, on a harness-chosen free 127.0.0.1 port.
    pub async fn start_server(&mut self, id: u32, cfg: &ZooCfg) -> Result<()> {
        self.start_server_on_port(id, cfg, None).await
    }

    /// Stop server `id` (SIGTERM, then SIGKILL after `grace`); under the `host` stop model its
    /// host goes too. Stopping a stopped server is fine.
    pub async fn stop_server(&mut self, id: u32, grace: Duration) -> Result<()> {
        self.stop_process(id, grace).await?;
        if self.spec.plan.stop_model == StopModel::Host {
            self.take_host_down(id).await?;
        }
        Ok(())
    }

    /// Stop only the ZooKeeper process of server `id` (its host stays).
    async fn stop_process(&mut self, id: u32, grace: Duration) -> Result<()> {
        let name = self.server(id)?.container.clone();
        let t = grace.as_secs_f64().ceil() as i32;
        match self.docker_of(id).stop_container(&name, Some(StopContainerOptionsBuilder::new().t(t).build())).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_modified(&e) => Ok(()),
            Err(source) => Err(ClusterError::StopContainer { name, source }),
        }
    }

    /// SIGKILL server `id` (a crash); under the `host` stop model its host goes too.
    pub async fn kill_server(&mut self, id: u32) -> Result<()> {
        self.kill_process(id).await?;
        if self.spec.plan.stop_model == StopModel::Host {
            self.take_host_down(id).await?;
        }
        Ok(())
    }

    /// SIGKILL the ZooKeeper process of server `id`; one already stopped is fine.
    async fn kill_process(&mut self, id: u32) -> Result<()> {
        let name = self.server(id)?.container.clone();
        let opts = KillContainerOptionsBuilder::new().signal("SIGKILL").build();
        match self.docker_of(id).kill_container(&name, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_running(&e) => Ok(()),
            Err(source) => Err(ClusterError::KillContainer { name, source }),
        }
    }

    /// Take server `id`'s whole host away (a powered-off VM, a deleted pod): the process dies
    /// at once (SIGKILL) and the address goes silent until [`Cluster::host_up`]. Needs the
    /// bridge form (on listed engines a server's host is its engine's).
    pub async fn host_down(&mut self, id: u32) -> Result<()> {
        self.require_host(id, "host-down")?;
        self.kill_process(id).await?;
        self.take_host_down(id).await
    }

    /// Bring server `id`'s host back and start its ZooKeeper process (a host booting again).
    pub async fn host_up(&mut self, id: u32) -> Result<()> {
        self.require_host(id, "host-up")?;
        self.start_existing(id).await
    }

    fn require_host(&self, id: u32, op: &'static str) -> Result<()> {
        match self.server(id)?.holder {
            Some(_) => Ok(()),
            None => Err(ClusterError::Unsupported { op, server: id }),
        }
    }

    /// Make server `id`'s address silent: its host's interface goes down (`ip link set eth0
    /// down` from the netem helper, [`NETEM_IMAGE`](super::netfault::NETEM_IMAGE)), so packets
    /// to it go unanswered, as to a powered-off machine, while its name still resolves (a
    /// powered-off VM keeps its DNS record). The host container keeps running: removing it would
    /// also remove the name from Docker's DNS, and ZooKeeper resolves peer names inside its
    /// election locks, so every lookup of a vanished name would go to the host's resolver (an
    /// artefact measured 2026-12-07: 5 s election stalls when one such query went unanswered).
    /// No-op without a host container.
    async fn take_host_down(&mut self, id: u32) -> Result<()> {
        if self.server(id)?.holder.is_none() {
            return Ok(());
        }
        let cmd = ["ip", "link", "set", "eth0", "down"].map(String::from).to_vec();
        self.run_netem_helper(id, "host down (ip link set eth0 down)", cmd).await?;
        if let Some(s) = self.servers.get_mut(&id) {
            s.host_up = false;
        }
        Ok(())
    }

    /// Bring server `id`'s address back if its host is down (`ip link set eth0 up`).
    pub(super) async fn bring_host_up(&mut self, id: u32) -> Result<()> {
        let s = self.server(id)?;
        if s.holder.is_none() || s.host_up {
            return Ok(());
        }
        let cmd = ["ip", "link", "set", "eth0", "up"].map(String::from).to_vec();
        self.run_netem_helper(id, "host up (ip link set eth0 up)", cmd).await?;
        if let Some(s) = self.servers.get_mut(&id) {
            s.host_up = true;
        }
        Ok(())
    }

    /// Start a stopped (or freshly re-created) server container again, same config and port,
    /// bringing its host back first if it is down.
    /// Lift server `id`'s CPU quota (`lifted`; its cpuset stays), or put the plan's quota
    /// (`cluster.cpus`) back. A sweep lifts it for its discarded warm-up load only: JIT
    /// compilation costs CPU-seconds, which a 0.2-CPU quota stretches fivefold in wall time
    /// (docs/capacity.md, "What a 0.2-CPU quota does to the tail"). A no-op without a quota.
    pub async fn set_cpu_quota(&self, id: u32, lifted: bool) -> Result<()> {
        let Some((period, quota)) = super::container::cpu_quota(self.spec.plan.cpus) else { return Ok(()) };
        let name = self.server(id)?.container.clone();
        // -1 removes the quota (0 would mean "leave it as it is" to the engine).
        let body = bollard::models::ContainerUpdateBody {
            cpu_period: Some(period),
            cpu_quota: Some(if lifted { -1 } else { quota }),
            ..Default::default()
        };
        self.docker_of(id).update_container(&name, body).await.map_err(|source| ClusterError::UpdateContainer { name, source })
    }

    pub async fn start_existing(&mut self, id: u32) -> Result<()> {
        self.bring_host_up(id).await?;
        let name = self.server(id)?.container.clone();
        match self.docker_of(id).start_container(&name, None).await {
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
        self.upload(self.engine_index(id), &name, &cfg).await?;
        if let Some(s) = self.servers.get_mut(&id) {
            s.cfg = cfg;
        }
        self.start_existing(id).await
    }

    pub async fn pause(&mut self, id: u32) -> Result<()> {
        let name = self.server(id)?.container.clone();
        self.docker_of(id).pause_container(&name).await.map_err(|source| ClusterError::PauseContainer { name, source })
    }

    pub async fn unpause(&mut self, id: u32) -> Result<()> {
        let name = self.server(id)?.container.clone();
        self.docker_of(id).unpause_container(&name).await.map_err(|source| ClusterError::UnpauseContainer { name, source })
    }

    /// Stop server `id` and give it an empty data directory (a new volume; the container is
    /// re-created with the same name, port and config, and left stopped: call
    /// [`Cluster::start_existing`]). Its earlier logs are kept for [`Cluster::logs`].
    pub async fn wipe_data(&mut self, id: u32) -> Result<()> {
        self.stop_server(id, STOP_GRACE).await?;
        let old_logs = self.logs(id).await.unwrap_or_default();
        let (container, volume, holder, cfg) = {
            let s = self.server(id)?;
            (s.container.clone(), s.volume.clone(), s.holder.clone(), s.cfg.clone())
        };
        let engine = self.engine_index(id);
        self.remove_container(engine, &container).await?;
        match self.engines[engine].docker.remove_volume(&volume, None::<bollard::query_parameters::RemoveVolumeOptions>).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(source) => return Err(ClusterError::RemoveVolume { name: volume, source }),
        }
        self.create_volume(engine, id, &volume).await?;
        self.create_container(engine, id, &container, &volume, holder.as_deref()).await?;
        self.upload(engine, &container, &cfg).await?;
        if let Some(s) = self.servers.get_mut(&id) {
            s.past_logs = old_logs;
        }
        Ok(())
    }

    /// `srvr` on server `id`'s client address. An error means it did not answer (down).
    pub async fn srvr(&self, id: u32) -> Result<SrvrInfo> {
        let s = self.server(id)?;
        let addr = self.addr_of(s);
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
        let addr = self.addr_of(s);
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
        let mut stream = self.docker_of(id).download_from_container(&name, Some(opts));
        let mut bytes = Vec::new();
        let read = async {
            while let Some(chunk) = stream.next().await {
                bytes.extend_from_slice(&chunk.map_err(|e| err(e.to_string()))?);
            }
            Ok(())
        };
        match tokio::time::timeout(ENGINE_CALL_TIMEOUT, read).await {
            Ok(r) => r?,
            Err(_) => return Err(err(format!("the engine sent no complete answer within {} s", ENGINE_CALL_TIMEOUT.as_secs()))),
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
        let mut stream = self.engines[s.engine].docker.logs(&s.container, Some(opts));
        let read = async {
            while let Some(item) = stream.next().await {
                match item {
                    Ok(o) => out.push_str(&String::from_utf8_lossy(&o.into_bytes())),
                    Err(e) if is_not_found(&e) => break,
                    Err(source) => return Err(ClusterError::Logs { name: s.container.clone(), source }),
                }
            }
            Ok(())
        };
        match tokio::time::timeout(ENGINE_CALL_TIMEOUT, read).await {
            Ok(r) => r?,
            Err(_) => {
                let detail = format!("the engine sent no complete answer within {} s", ENGINE_CALL_TIMEOUT.as_secs());
                return Err(ClusterError::Engine { name: self.engines[s.engine].name.clone(), endpoint: self.engines[s.engine].endpoint.clone(), detail: format!("reading logs of {}: {detail}", s.container) });
            }
        }
        Ok(out)
    }

    /// Write `zk<N>.log` in `dir` for every server ever started (stopped ones too). A server
    /// whose logs cannot be read (its engine gone) does not stop the others; the first failure
    /// is returned after all were tried.
    pub async fn save_logs(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)
            .map_err(|source| ClusterError::WriteFile { path: dir.display().to_string(), source })?;
        let mut first_error = None;
        for &id in self.servers.keys() {
            let saved = match self.logs(id).await {
                Ok(text) => {
                    let path = dir.join(format!("zk{id}.log"));
                    std::fs::write(&path, text).map_err(|source| ClusterError::WriteFile { path: path.display().to_string(), source })
                }
                Err(e) => Err(e),
            };
            if let Err(e) = saved {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
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
        let mut report = TeardownReport::default();
        let mut first_error = None;
        for e in &self.engines {
            match cleanup::remove_run(&e.docker, &self.spec.run_id).await {
                Ok(r) => report.merge(r),
                Err(err) => {
                    first_error.get_or_insert(ClusterError::Engine { name: e.name.clone(), endpoint: e.endpoint.clone(), detail: err.to_string() });
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
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
        let plan = self.spec.plan.clone();
        let handle = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => return eprintln!("zkchaos: cannot clean up run {run}: {e}; run `zkchaos clean --run {run}`"),
            };
            let res = rt.block_on(async {
                for e in engine::connect_engines(&plan).await? {
                    cleanup::remove_run(&e.docker, &run).await?;
                }
                Ok::<_, ClusterError>(())
            });
            if let Err(e) = res {
                eprintln!("zkchaos: cleaning up run {run}: {e}; run `zkchaos clean --run {run}`");
            }
        });
        let _ = handle.join();
    }
}
