//! Network faults on the Docker [`Cluster`]: partition (a server cut off the run's network) and
//! netem delay/loss (from a helper container).
//!
//! - Partition is `docker network disconnect --force` of the server's host container (the one
//!   holding its network namespace, [`Cluster::netns_container`]) from the run's network and, to heal, `docker network connect` with the same alias (`zkN`): no capability is
//!   needed. A disconnected container keeps only its loopback interface, so it loses its peers
//!   *and* its clients: the published 127.0.0.1 port forwards to the container's address on the
//!   run's network, which is gone (the `srvr` poller then sees the server as down). Each server of
//!   a partitioned set is cut off alone (a set is not kept connected among itself).
//! - Delay/loss runs `tc qdisc replace dev eth0 root netem ...` (and `tc qdisc del dev eth0 root`
//!   to clear it) in a short-lived helper container of the image [`NETEM_IMAGE`] (built offline
//!   from Debian's iproute2 by `docker/build-netem-image.sh`) that joins the server's network
//!   namespace (`network_mode = container:<server's host>`) and alone holds `NET_ADMIN`; the ZooKeeper
//!   containers stay unprivileged. The qdisc belongs to the namespace's `eth0`, so it outlives the
//!   helper, which is removed as soon as `tc` exits; helpers carry the run's labels, so teardown
//!   by label removes any that a failure left behind.
//! - With host networking on listed engines, partition is done **at the host level**: the same
//!   helper image, run on the target's engine with host networking and `NET_ADMIN`, adds a
//!   blackhole route to every other engine address hosting a server of the run (heal deletes
//!   them). The server is cut off from its peers, not from clients (the control node's address is
//!   not blackholed), which is what a partitioned minority member sees in production. This needs
//!   the server alone on its engine (the routes cut the whole host). netem is not offered there
//!   (it would shape the whole host's interface). Routes outlive a `zkchaos` that is SIGKILLed
//!   mid-partition; they go with the host (a test host's namespace) or by `ip route del`.

use super::backend::Netem;
use super::docker::Cluster;
use super::error::{ClusterError, Result};
use super::names;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, NetworkConnectRequest, NetworkDisconnectRequest,
};
use bollard::query_parameters::{CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder};
use futures_util::StreamExt;

/// The netem helper image (`docker/build-netem-image.sh`).
pub const NETEM_IMAGE: &str = "zkchaos/netem:bookworm";
/// Label marking a helper container (value: the server id whose namespace it joins).
pub const LABEL_NETEM: &str = "zkchaos.netem";

fn fault(op: &'static str, name: &str, detail: impl ToString) -> ClusterError {
    ClusterError::Fault { op, name: name.to_string(), detail: detail.to_string() }
}

impl Cluster {
    /// Disconnect server `id` from the run's network (host networking: blackhole routes to its
    /// peers' hosts).
    pub async fn partition(&mut self, id: u32) -> Result<()> {
        self.ensure_server(id)?;
        if self.host_networking() {
            let cmd = self.route_script(id, "replace", "partition (host-level blackhole routes)")?;
            return self.run_netem_helper(id, "partition (host-level blackhole routes)", cmd).await;
        }
        let container = self.netns_container(id);
        let req = NetworkDisconnectRequest { container: container.clone(), force: Some(true) };
        self.docker()
            .disconnect_network(self.network_name(), req)
            .await
            .map_err(|e| fault("partition (network disconnect)", &container, e))
    }

    /// Reconnect server `id` to the run's network under its alias `zkN`.
    pub async fn heal(&mut self, id: u32) -> Result<()> {
        self.ensure_server(id)?;
        if self.host_networking() {
            let cmd = self.route_script(id, "del", "heal (host-level blackhole routes)")?;
            return self.run_netem_helper(id, "heal (host-level blackhole routes)", cmd).await;
        }
        let container = self.netns_container(id);
        let endpoint = EndpointSettings { aliases: Some(vec![super::config::host(id)]), ..Default::default() };
        let req = NetworkConnectRequest { container: container.clone(), endpoint_config: Some(endpoint) };
        self.docker()
            .connect_network(self.network_name(), req)
            .await
            .map_err(|e| fault("heal (network connect)", &container, e))
    }

    /// `tc qdisc replace dev eth0 root netem <netem>` in server `id`'s network namespace.
    pub async fn delay(&mut self, id: u32, netem: Netem) -> Result<()> {
        let mut cmd: Vec<String> = ["tc", "qdisc", "replace", "dev", "eth0", "root", "netem"].map(String::from).into();
        cmd.extend(netem.tc_args());
        self.run_netem_helper(id, "delay (netem)", cmd).await
    }

    /// `tc qdisc del dev eth0 root` in server `id`'s network namespace.
    pub async fn undelay(&mut self, id: u32) -> Result<()> {
        let cmd = ["tc", "qdisc", "del", "dev", "eth0", "root"].map(String::from).into();
        self.run_netem_helper(id, "undelay (netem)", cmd).await
    }

    /// `sh -c` running `ip route <verb> blackhole <peer>/32` for the address of every other
    /// engine hosting a server of this run (`del` tolerates a route already gone).
    fn route_script(&self, id: u32, verb: &str, op: &'static str) -> Result<Vec<String>> {
        let own = self.engine_index(id);
        let target = self.container_name(id);
        if self.server_ids().into_iter().any(|o| o != id && self.engine_index(o) == own) {
            return Err(fault(op, &target, format!(
                "another server of the run shares engine {}; a host-level partition cuts the whole host, so place zk{id} alone on its engine (cluster.placement)",
                self.engines()[own].name
            )));
        }
        let mut peers: Vec<String> = self
            .server_ids()
            .into_iter()
            .map(|o| self.engine_index(o))
            .filter(|&e| e != own)
            .filter_map(|e| self.engines()[e].address)
            .map(|a| if a.is_ipv4() { format!("{a}/32") } else { format!("{a}/128") })
            .collect();
        peers.sort();
        peers.dedup();
        let tolerate = if verb == "del" { " 2>/dev/null || true" } else { "" };
        let script = peers.iter().map(|p| format!("ip route {verb} blackhole {p}{tolerate}")).collect::<Vec<_>>().join(" && ");
        Ok(vec!["sh".into(), "-c".into(), if script.is_empty() { "true".into() } else { script }])
    }

    fn ensure_server(&self, id: u32) -> Result<()> {
        if self.server_ids().contains(&id) {
            Ok(())
        } else {
            Err(ClusterError::UnknownServer { run: self.run_id().to_string(), id })
        }
    }

    /// Run `cmd` in a helper container sharing server `id`'s network namespace (its engine host's
    /// with host networking) with NET_ADMIN, on server `id`'s engine, wait for it, and remove it
    /// (on every path). A non-zero exit is an error with its output.
    pub(super) async fn run_netem_helper(&mut self, id: u32, op: &'static str, cmd: Vec<String>) -> Result<()> {
        self.ensure_server(id)?;
        let target = self.netns_container(id);
        let helper = format!("{}-netem", self.container_name(id));
        let cmd_name = if cmd.first().map(String::as_str) == Some("sh") { "ip route" } else { "tc" };
        let mut labels = names::run_labels(self.run_id(), &self.spec().profile);
        labels.insert(LABEL_NETEM.to_string(), id.to_string());
        let body = ContainerCreateBody {
            image: Some(NETEM_IMAGE.to_string()),
            cmd: Some(cmd),
            labels: Some(labels),
            host_config: Some(HostConfig {
                network_mode: Some(if self.host_networking() { "host".to_string() } else { format!("container:{target}") }),
                cap_add: Some(vec!["NET_ADMIN".into()]),
                privileged: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        };
        let docker = self.engine_of(id).docker.clone();
        let remove = || async {
            let opts = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
            let _ = docker.remove_container(&helper, Some(opts)).await;
        };
        // A helper left by an earlier failure would make the name conflict.
        remove().await;
        let opts = CreateContainerOptionsBuilder::new().name(&helper).build();
        if let Err(e) = docker.create_container(Some(opts), body).await {
            let hint = if e.to_string().contains("No such image") && self.host_networking() {
                let ep = &self.engine_of(id).endpoint;
                format!("; copy the helper image to that engine with `docker save {NETEM_IMAGE} | docker -H {ep} load` (test hosts: `scripts/test-hosts.sh load-image {NETEM_IMAGE}`)")
            } else if e.to_string().contains("No such image") {
                format!("; build the helper image with docker/build-netem-image.sh ({NETEM_IMAGE})")
            } else {
                String::new()
            };
            return Err(fault(op, &helper, format!("{e}{hint}")));
        }
        let result = async {
            docker.start_container(&helper, None).await.map_err(|e| fault(op, &helper, e))?;
            let mut wait = docker.wait_container(&helper, None::<bollard::query_parameters::WaitContainerOptions>);
            let status = match wait.next().await {
                Some(Ok(r)) => r.status_code,
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
                Some(Err(e)) => return Err(fault(op, &helper, e)),
                None => 0,
            };
            if status != 0 {
                let mut out = String::new();
                let mut logs = docker.logs(&helper, Some(LogsOptionsBuilder::new().stdout(true).stderr(true).build()));
                while let Some(Ok(chunk)) = logs.next().await {
                    out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
                }
                return Err(fault(op, &helper, format!("{} exited with {status}: {}", cmd_name, out.trim())));
            }
            Ok(())
        }
        .await;
        remove().await;
        result
    }
}
