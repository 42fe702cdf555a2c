//! The cluster backend seam: what procedures need from "a set of ZooKeeper servers", whatever
//! runs them.
//!
//! [`Backend`] is small on purpose: start, restart with a new config, stop, ask a server its mode
//! (`srvr`) and membership (`conf`), its client address, its logs, and open an administrative
//! session for `reconfig`. Faults are optional capabilities a backend declares in
//! [`Capabilities`] and a procedure checks before it starts (Jepsen's `Kill`/`Pause` protocols):
//! the default methods fail with [`ClusterError::Unsupported`].
//!
//! Network faults (partition, netem delay/loss) and wipe are capabilities too.
//!
//! Implementations: [`crate::cluster::Cluster`] (Docker, one engine today; the addresses come
//! from the backend, never assumed to be localhost, so a backend can place servers on several
//! engines) and [`crate::cluster::fake::FakeBackend`] (in memory, for unit-testing procedure
//! step order and marks without Docker; never for a figure).

use super::config::ZooCfg;
use super::error::{ClusterError, Result};
use super::fourlw::{Membership, SrvrInfo};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

/// What a backend can do beyond the core operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// SIGKILL a server.
    pub kill: bool,
    /// Freeze and thaw a server (cgroup freezer).
    pub pause: bool,
    /// Remove a server's data (volume) so it restarts empty.
    pub wipe: bool,
    /// Cut a server off the ensemble's network and reconnect it.
    pub partition: bool,
    /// Delay or drop a server's packets (netem) and clear that again.
    pub delay: bool,
    /// Take a server's whole host away (process and address) and bring it back.
    pub host: bool,
}

/// netem settings for [`Backend::delay`]: `delay_ms` ± `jitter_ms`, `loss_pct` % of packets lost.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Netem {
    pub delay_ms: u32,
    pub jitter_ms: u32,
    pub loss_pct: f64,
}

impl Netem {
    /// The `tc qdisc` arguments after `netem`, e.g. `delay 100ms 20ms loss 1%`.
    pub fn tc_args(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.delay_ms > 0 || self.jitter_ms > 0 {
            v.push("delay".into());
            v.push(format!("{}ms", self.delay_ms));
            if self.jitter_ms > 0 {
                v.push(format!("{}ms", self.jitter_ms));
            }
        }
        if self.loss_pct > 0.0 {
            v.push("loss".into());
            v.push(format!("{}%", self.loss_pct));
        }
        v
    }
}

/// An administrative ZooKeeper session for dynamic reconfiguration. Errors are the client's
/// words (they go on the step's mark).
pub trait AdminSession: Send + Sync {
    /// `sync` then read `/zookeeper/config`: member lines and `version=...`.
    fn committed_config(&self) -> impl Future<Output = std::result::Result<String, String>> + Send;
    /// Incremental `reconfig -add` of these dynamic member lines.
    fn add_members(&self, lines: &[String]) -> impl Future<Output = std::result::Result<(), String>> + Send;
    /// Incremental `reconfig -remove` of these server ids.
    fn remove_members(&self, ids: &[u32]) -> impl Future<Output = std::result::Result<(), String>> + Send;
    /// Non-incremental reconfig: the whole new member list (these dynamic lines).
    fn set_members(&self, lines: &[String]) -> impl Future<Output = std::result::Result<(), String>> + Send;
    /// One quorum write (committed is not active until one goes through).
    fn quorum_write(&self) -> impl Future<Output = std::result::Result<(), String>> + Send;
}

/// The operations every backend offers.
pub trait Backend: Send + Sync {
    type Admin: AdminSession;

    fn capabilities(&self) -> Capabilities;
    /// Servers created so far, ascending.
    fn server_ids(&self) -> Vec<u32>;
    /// Where clients reach each server created so far.
    fn client_addrs(&self) -> Vec<(u32, SocketAddr)>;
    /// Connect string of `ids` (in that order).
    fn connect_string(&self, ids: &[u32]) -> String;

    /// Create and start server `id` with `cfg`.
    fn start_server(&mut self, id: u32, cfg: &ZooCfg) -> impl Future<Output = Result<()>> + Send;
    /// Rewrite server `id`'s configuration and restart it in place (its data stays).
    fn restart_with_config(&mut self, id: u32, cfg: &ZooCfg) -> impl Future<Output = Result<()>> + Send;
    /// Stop server `id` (SIGTERM, then SIGKILL after `grace`).
    fn stop_server(&mut self, id: u32, grace: Duration) -> impl Future<Output = Result<()>> + Send;
    /// `srvr`: the server's mode and zxid.
    fn srvr(&self, id: u32) -> impl Future<Output = Result<SrvrInfo>> + Send;
    /// The server's own view of the membership (`conf`).
    fn membership_view(&self, id: u32) -> impl Future<Output = Result<Membership>> + Send;
    /// An administrative session on `ids` for reconfig (`super_password`: digest auth as super).
    fn open_admin(
        &self,
        ids: &[u32],
        session_timeout: Duration,
        super_password: Option<&str>,
    ) -> impl Future<Output = std::result::Result<Self::Admin, String>> + Send;

    /// SIGKILL server `id` (capability `kill`).
    fn kill_server(&mut self, id: u32) -> impl Future<Output = Result<()>> + Send {
        async move { Err(ClusterError::Unsupported { op: "kill", server: id }) }
    }
    /// Freeze server `id` (capability `pause`).
    fn pause(&mut self, id: u32) -> impl Future<Output = Result<()>> + Send {
        async move { Err(ClusterError::Unsupported { op: "pause", server: id }) }
    }
    /// Thaw server `id` (capability `pause`).
    fn unpause(&mut self, id: u32) -> impl Future<Output = Result<()>> + Send {
        async move { Err(ClusterError::Unsupported { op: "unpause", server: id }) }
    }
    /// Stop server `id` and empty its data; it stays stopped (capability `wipe`).
    fn wipe(&mut self, id: u32) -> impl Future<Output = Result<()>> + Send {
        async move { Err(ClusterError::Unsupported { op: "wipe", server: id }) }
    }
    /// Cut server `id` off the ensemble's network (capability `partition`).
    fn partition(&mut self, id: u32) -> impl Future<Output = Result<()>> + Send {
        async move { Err(ClusterError::Unsupported { op: "partition", server: id }) }
    }
    /// Reconnect server `id` to the ensemble's network (capability `partition`).
    fn heal(&mut self, id: u32) -> impl Future<Output = Result<()>> + Send {
        async move { Err(ClusterError::Unsupported { op: "heal", server: id }) }
    }
    /// Take server `id`'s host away: the process dies, the address goes silent (capability `host`).
    fn host_down(&mut self, id: u32) -> impl Future<Output = Result<()>> + Send {
        async move { Err(ClusterError::Unsupported { op: "host-down", server: id }) }
    }
    /// Bring server `id`'s host back and start its process (capability `host`).
    fn host_up(&mut self, id: u32) -> impl Future<Output = Result<()>> + Send {
        async move { Err(ClusterError::Unsupported { op: "host-up", server: id }) }
    }
    /// Apply `netem` to server `id`'s traffic (capability `delay`).
    fn delay(&mut self, id: u32, netem: Netem) -> impl Future<Output = Result<()>> + Send {
        let _ = netem;
        async move { Err(ClusterError::Unsupported { op: "delay", server: id }) }
    }
    /// Remove the `netem` of server `id` (capability `delay`).
    fn undelay(&mut self, id: u32) -> impl Future<Output = Result<()>> + Send {
        async move { Err(ClusterError::Unsupported { op: "undelay", server: id }) }
    }
}
