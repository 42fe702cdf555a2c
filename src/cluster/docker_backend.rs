//! [`Backend`] for the Docker [`Cluster`], and the administrative reconfig session it opens
//! (a `zookeeper-client` session on the servers' client addresses). Member lines given to
//! reconfig are localized like zoo.cfg (real engine addresses on listed engines).

use super::backend::{AdminSession, Backend, Capabilities, Netem};
use super::config::ZooCfg;
use super::docker::Cluster;
use super::error::Result;
use super::fourlw::{Membership, SrvrInfo};
use std::net::SocketAddr;
use std::time::Duration;
use zookeeper_client as zk;

/// Bound on every administrative ZooKeeper call.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

async fn bounded<T>(what: &str, fut: impl std::future::Future<Output = Result<T, zk::Error>>) -> std::result::Result<T, String> {
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer within {CALL_TIMEOUT:?}")),
    }
}

/// A ZooKeeper session used for `getConfig`, `reconfig` and the quorum write.
pub struct ZkAdmin {
    client: zk::Client,
    /// For [`super::config::localize_line`].
    plan: crate::plan::ClusterPlan,
}

impl ZkAdmin {
    fn localized(&self, lines: &[String]) -> Vec<String> {
        lines.iter().map(|l| super::config::localize_line(l, &self.plan)).collect()
    }
}

impl AdminSession for ZkAdmin {
    async fn committed_config(&self) -> std::result::Result<String, String> {
        let (data, _stat) = bounded("sync and read /zookeeper/config", async {
            self.client.sync("/zookeeper/config").await?;
            self.client.get_config().await
        })
        .await?;
        Ok(String::from_utf8_lossy(&data).to_string())
    }

    async fn add_members(&self, lines: &[String]) -> std::result::Result<(), String> {
        let lines = self.localized(lines);
        let joinings: Vec<&str> = lines.iter().map(String::as_str).collect();
        let leavings: Vec<&str> = Vec::new();
        let update = zk::EnsembleUpdate::Incremental { joinings: joinings.iter().copied(), leavings: leavings.iter().copied() };
        bounded("reconfig", self.client.update_ensemble(update, None)).await.map(|_| ())
    }

    async fn remove_members(&self, ids: &[u32]) -> std::result::Result<(), String> {
        let ids: Vec<String> = ids.iter().map(u32::to_string).collect();
        let leavings: Vec<&str> = ids.iter().map(String::as_str).collect();
        let joinings: Vec<&str> = Vec::new();
        let update = zk::EnsembleUpdate::Incremental { joinings: joinings.iter().copied(), leavings: leavings.iter().copied() };
        bounded("reconfig", self.client.update_ensemble(update, None)).await.map(|_| ())
    }

    async fn set_members(&self, lines: &[String]) -> std::result::Result<(), String> {
        let lines = self.localized(lines);
        let update = zk::EnsembleUpdate::New { ensemble: lines.iter().map(String::as_str) };
        bounded("reconfig", self.client.update_ensemble(update, None)).await.map(|_| ())
    }

    async fn quorum_write(&self) -> std::result::Result<(), String> {
        bounded("quorum write", async { self.client.set_data(crate::plan::keyspace::ROOT, b"", None).await.map(|_| ()) })
            .await
    }
}

impl Backend for Cluster {
    type Admin = ZkAdmin;

    fn capabilities(&self) -> Capabilities {
        // netem with host networking would shape the whole engine host's interface: not offered.
        // A server's own host (address) exists in the bridge form only; on listed engines the
        // host is the engine's and is shared.
        let own_host = !self.host_networking();
        Capabilities { kill: true, pause: true, wipe: true, partition: true, delay: own_host, host: own_host }
    }
    fn server_ids(&self) -> Vec<u32> {
        Cluster::server_ids(self)
    }
    fn client_addrs(&self) -> Vec<(u32, SocketAddr)> {
        Cluster::client_addrs(self)
    }
    fn connect_string(&self, ids: &[u32]) -> String {
        Cluster::connect_string(self, ids)
    }
    async fn start_server(&mut self, id: u32, cfg: &ZooCfg) -> Result<()> {
        Cluster::start_server(self, id, cfg).await
    }
    async fn restart_with_config(&mut self, id: u32, cfg: &ZooCfg) -> Result<()> {
        Cluster::restart_with_config(self, id, cfg).await
    }
    async fn stop_server(&mut self, id: u32, grace: Duration) -> Result<()> {
        Cluster::stop_server(self, id, grace).await
    }
    async fn srvr(&self, id: u32) -> Result<SrvrInfo> {
        Cluster::srvr(self, id).await
    }
    async fn membership_view(&self, id: u32) -> Result<Membership> {
        Cluster::membership_view(self, id).await
    }
    async fn open_admin(
        &self,
        ids: &[u32],
        session_timeout: Duration,
        super_password: Option<&str>,
    ) -> std::result::Result<ZkAdmin, String> {
        let connect = Cluster::connect_string(self, ids);
        let mut connector = zk::Client::connector().with_session_timeout(session_timeout);
        if let Some(pw) = super_password {
            connector = connector.with_auth("digest", format!("super:{pw}").as_bytes());
        }
        let client = bounded(&format!("connect admin session to {connect}"), connector.connect(&connect)).await?;
        Ok(ZkAdmin { client, plan: self.spec().plan.clone() })
    }
    async fn kill_server(&mut self, id: u32) -> Result<()> {
        Cluster::kill_server(self, id).await
    }
    async fn host_down(&mut self, id: u32) -> Result<()> {
        Cluster::host_down(self, id).await
    }
    async fn host_up(&mut self, id: u32) -> Result<()> {
        Cluster::host_up(self, id).await
    }
    async fn pause(&mut self, id: u32) -> Result<()> {
        Cluster::pause(self, id).await
    }
    async fn unpause(&mut self, id: u32) -> Result<()> {
        Cluster::unpause(self, id).await
    }
    async fn wipe(&mut self, id: u32) -> Result<()> {
        Cluster::wipe_data(self, id).await
    }
    async fn partition(&mut self, id: u32) -> Result<()> {
        Cluster::partition(self, id).await
    }
    async fn heal(&mut self, id: u32) -> Result<()> {
        Cluster::heal(self, id).await
    }
    async fn delay(&mut self, id: u32, netem: Netem) -> Result<()> {
        Cluster::delay(self, id, netem).await
    }
    async fn undelay(&mut self, id: u32) -> Result<()> {
        Cluster::undelay(self, id).await
    }
}
