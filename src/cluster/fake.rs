//! An in-memory [`Backend`] for unit-testing procedures without Docker: step order, marks, and
//! what a procedure does when a wait times out. It models just enough of ZooKeeper to answer
//! `srvr` and `conf` plausibly; it is never used for a figure.
//!
//! Model: a running server's view is its static config's member ids, or for a dynamic ensemble
//! the committed membership (the first member list, plus members added by reconfig). It serves if a majority of its view is running and shares its view;
//! the lowest such id leads, the others follow; a running server outside its own view (a
//! joiner) follows as a non-voting member. `standalone` configs serve alone.
//! Observers (added by reconfig, or listed as such in their own config) observe; a partitioned
//! server is down to `srvr` and not a peer. Servers in
//! [`FakeBackend::never_serves`] answer `not-serving` for ever (to provoke wait timeouts), and
//! every operation is appended to [`FakeBackend::log`].

use super::backend::{AdminSession, Backend, Capabilities, Netem};
use super::config::{line_id, ConfigMode, ZooCfg};
use super::error::{ClusterError, Result};
use super::fourlw::{FourLwError, Membership, SrvrInfo};
use crate::record::ServerMode;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
struct FakeServer {
    cfg: ZooCfg,
    running: bool,
    paused: bool,
    /// Cut off the network: no peers, no clients (`srvr` sees it down).
    partitioned: bool,
}

#[derive(Debug, Default)]
struct State {
    servers: BTreeMap<u32, FakeServer>,
    /// The committed membership of a dynamic ensemble: the first dynamic server's member list,
    /// plus members added by reconfig. Dynamic servers take their view from it (ZooKeeper
    /// syncs the configuration from the leader).
    committed: BTreeSet<u32>,
    /// Observers added by reconfig (not voting).
    observers: BTreeSet<u32>,
    log: Vec<String>,
}

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct FakeBackend {
    state: Arc<Mutex<State>>,
    /// Servers that never serve.
    pub never_serves: BTreeSet<u32>,
    /// Make `reconfig -add` fail this many times before it succeeds.
    pub reconfig_failures: Arc<Mutex<u32>>,
    /// Capabilities to declare instead of all of them.
    pub capabilities: Option<Capabilities>,
}

fn view_of(cfg: &ZooCfg, committed: &BTreeSet<u32>) -> BTreeSet<u32> {
    match cfg.mode {
        ConfigMode::Dynamic if !committed.is_empty() => committed.clone(),
        ConfigMode::Standalone => [cfg.my_id].into_iter().collect(),
        _ => cfg.server_lines.iter().filter_map(|l| line_id(l)).collect(),
    }
}

impl FakeBackend {
    pub fn new() -> FakeBackend {
        FakeBackend::default()
    }

    /// Every backend operation so far, e.g. `start zk2`, `restart zk1`, `pause zk3`.
    pub fn log(&self) -> Vec<String> {
        self.state.lock().map(|s| s.log.clone()).unwrap_or_default()
    }

    fn record(&self, entry: String) {
        if let Ok(mut s) = self.state.lock() {
            s.log.push(entry);
        }
    }

    fn mode_of(&self, id: u32) -> Result<ServerMode> {
        let s = self.state.lock().map_err(|_| ClusterError::Unsupported { op: "lock", server: id })?;
        let me = s.servers.get(&id).ok_or(ClusterError::Unsupported { op: "srvr (unknown server)", server: id })?;
        if !me.running || me.paused || me.partitioned {
            return Ok(ServerMode::Down);
        }
        if self.never_serves.contains(&id) {
            return Ok(ServerMode::NotServing);
        }
        if me.cfg.mode == ConfigMode::Standalone {
            return Ok(ServerMode::Standalone);
        }
        let view = view_of(&me.cfg, &s.committed);
        let agreeing: Vec<u32> = view
            .iter()
            .copied()
            .filter(|m| {
                s.servers.get(m).is_some_and(|o| {
                    o.running && !o.paused && !o.partitioned && !self.never_serves.contains(m) && view_of(&o.cfg, &s.committed) == view
                })
            })
            .collect();
        let observer = s.observers.contains(&id) || me.cfg.server_lines.iter().any(|l| line_id(l) == Some(id) && l.contains(":observer"));
        if !view.contains(&id) && observer {
            return Ok(if agreeing.len() * 2 > view.len() { ServerMode::Observer } else { ServerMode::NotServing });
        }
        if !view.contains(&id) {
            // A joiner syncs as a non-voting follower once its view's ensemble serves.
            return Ok(if agreeing.len() * 2 > view.len() { ServerMode::Follower } else { ServerMode::NotServing });
        }
        if !agreeing.contains(&id) || agreeing.len() * 2 <= view.len() {
            return Ok(ServerMode::NotServing);
        }
        Ok(if agreeing.first() == Some(&id) { ServerMode::Leader } else { ServerMode::Follower })
    }
}

/// The fake's admin session: reconfig adds members to every dynamic server's view.
#[derive(Debug, Clone)]
pub struct FakeAdmin {
    backend: FakeBackend,
}

impl AdminSession for FakeAdmin {
    async fn committed_config(&self) -> std::result::Result<String, String> {
        let s = self.backend.state.lock().map_err(|_| "lock poisoned".to_string())?;
        let mut lines: Vec<String> = s.committed.iter().map(|&id| super::config::dynamic_line(id)).collect();
        lines.extend(s.observers.iter().map(|&id| super::config::observer_line(id)));
        Ok(format!("{}\nversion=1", lines.join("\n")))
    }

    async fn add_members(&self, lines: &[String]) -> std::result::Result<(), String> {
        if let Ok(mut left) = self.backend.reconfig_failures.lock() {
            if *left > 0 {
                *left -= 1;
                return Err("reconfig: ReconfigInProgress".into());
            }
        }
        let mut s = self.backend.state.lock().map_err(|_| "lock poisoned".to_string())?;
        for line in lines {
            let Some(id) = line_id(line) else { continue };
            if line.contains(":observer") {
                s.committed.remove(&id);
                s.observers.insert(id);
            } else {
                s.observers.remove(&id);
                s.committed.insert(id);
            }
        }
        s.log.push(format!("reconfig add {}", lines.iter().filter_map(|l| line_id(l)).map(|i| i.to_string()).collect::<Vec<_>>().join(",")));
        Ok(())
    }

    async fn remove_members(&self, ids: &[u32]) -> std::result::Result<(), String> {
        let mut s = self.backend.state.lock().map_err(|_| "lock poisoned".to_string())?;
        for id in ids {
            if !s.committed.remove(id) && !s.observers.remove(id) {
                return Err(format!("reconfig: BadArguments: server {id} is not a member"));
            }
        }
        if s.committed.is_empty() {
            return Err("reconfig: BadArguments: no voting member would remain".into());
        }
        s.log.push(format!("reconfig remove {}", ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")));
        Ok(())
    }

    async fn set_members(&self, lines: &[String]) -> std::result::Result<(), String> {
        let mut s = self.backend.state.lock().map_err(|_| "lock poisoned".to_string())?;
        s.committed = lines.iter().filter(|l| !l.contains(":observer")).filter_map(|l| line_id(l)).collect();
        s.observers = lines.iter().filter(|l| l.contains(":observer")).filter_map(|l| line_id(l)).collect();
        let entry = format!("reconfig members {}", s.committed.iter().map(u32::to_string).collect::<Vec<_>>().join(","));
        s.log.push(entry);
        Ok(())
    }

    async fn quorum_write(&self) -> std::result::Result<(), String> {
        self.backend.record("quorum write".into());
        Ok(())
    }
}

impl Backend for FakeBackend {
    type Admin = FakeAdmin;

    fn capabilities(&self) -> Capabilities {
        self.capabilities.unwrap_or(Capabilities { kill: true, pause: true, wipe: true, partition: true, delay: true, host: true })
    }
    fn server_ids(&self) -> Vec<u32> {
        self.state.lock().map(|s| s.servers.keys().copied().collect()).unwrap_or_default()
    }
    fn client_addrs(&self) -> Vec<(u32, SocketAddr)> {
        self.server_ids().into_iter().map(|id| (id, SocketAddr::from((Ipv4Addr::LOCALHOST, 20_000 + id as u16)))).collect()
    }
    fn connect_string(&self, ids: &[u32]) -> String {
        ids.iter().map(|id| format!("127.0.0.1:{}", 20_000 + id)).collect::<Vec<_>>().join(",")
    }
    async fn start_server(&mut self, id: u32, cfg: &ZooCfg) -> Result<()> {
        if let Ok(mut s) = self.state.lock() {
            if cfg.mode == ConfigMode::Dynamic && s.committed.is_empty() {
                s.committed = view_of(cfg, &BTreeSet::new());
            }
            s.servers.insert(id, FakeServer { cfg: cfg.clone(), running: true, paused: false, partitioned: false });
            s.log.push(format!("start zk{id}"));
        }
        Ok(())
    }
    async fn restart_with_config(&mut self, id: u32, cfg: &ZooCfg) -> Result<()> {
        let mut s = self.state.lock().map_err(|_| ClusterError::Unsupported { op: "lock", server: id })?;
        let srv = s.servers.get_mut(&id).ok_or(ClusterError::Unsupported { op: "restart (unknown server)", server: id })?;
        srv.cfg = cfg.clone();
        srv.running = true;
        s.log.push(format!("restart zk{id}"));
        Ok(())
    }
    async fn stop_server(&mut self, id: u32, _grace: Duration) -> Result<()> {
        if let Ok(mut s) = self.state.lock() {
            if let Some(srv) = s.servers.get_mut(&id) {
                srv.running = false;
            }
            s.log.push(format!("stop zk{id}"));
        }
        Ok(())
    }
    async fn srvr(&self, id: u32) -> Result<SrvrInfo> {
        let mode = self.mode_of(id)?;
        if mode == ServerMode::Down {
            // What a stopped container's published port does: accepts, then closes.
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 20_000 + id as u16));
            let source = FourLwError::Empty { addr, cmd: "srvr".into() };
            return Err(ClusterError::Srvr { name: format!("fake-zk{id}"), source });
        }
        Ok(SrvrInfo { mode, zxid: mode.is_serving().then_some(1 << 32) })
    }
    async fn membership_view(&self, id: u32) -> Result<Membership> {
        let s = self.state.lock().map_err(|_| ClusterError::Unsupported { op: "lock", server: id })?;
        let srv = s.servers.get(&id).ok_or(ClusterError::Unsupported { op: "conf (unknown server)", server: id })?;
        let voting = view_of(&srv.cfg, &s.committed);
        Ok(Membership { voting, observers: BTreeSet::new(), version: Some(1), lines: srv.cfg.server_lines.clone() })
    }
    async fn open_admin(&self, _ids: &[u32], _t: Duration, _pw: Option<&str>) -> std::result::Result<FakeAdmin, String> {
        Ok(FakeAdmin { backend: self.clone() })
    }
    async fn kill_server(&mut self, id: u32) -> Result<()> {
        self.record(format!("kill zk{id}"));
        self.stop_server(id, Duration::ZERO).await
    }
    async fn host_down(&mut self, id: u32) -> Result<()> {
        self.record(format!("host-down zk{id}"));
        self.stop_server(id, Duration::ZERO).await
    }
    async fn host_up(&mut self, id: u32) -> Result<()> {
        self.record(format!("host-up zk{id}"));
        if let Ok(mut s) = self.state.lock() {
            if let Some(srv) = s.servers.get_mut(&id) {
                srv.running = true;
            }
        }
        Ok(())
    }
    async fn pause(&mut self, id: u32) -> Result<()> {
        if let Ok(mut s) = self.state.lock() {
            if let Some(srv) = s.servers.get_mut(&id) {
                srv.paused = true;
            }
            s.log.push(format!("pause zk{id}"));
        }
        Ok(())
    }
    async fn unpause(&mut self, id: u32) -> Result<()> {
        if let Ok(mut s) = self.state.lock() {
            if let Some(srv) = s.servers.get_mut(&id) {
                srv.paused = false;
            }
            s.log.push(format!("unpause zk{id}"));
        }
        Ok(())
    }
    async fn wipe(&mut self, id: u32) -> Result<()> {
        self.record(format!("wipe zk{id}"));
        self.stop_server(id, Duration::ZERO).await
    }
    async fn partition(&mut self, id: u32) -> Result<()> {
        self.set_partitioned(id, true, "partition")
    }
    async fn heal(&mut self, id: u32) -> Result<()> {
        self.set_partitioned(id, false, "heal")
    }
    async fn delay(&mut self, id: u32, netem: Netem) -> Result<()> {
        self.record(format!("delay zk{id} {}", netem.tc_args().join(" ")));
        Ok(())
    }
    async fn undelay(&mut self, id: u32) -> Result<()> {
        self.record(format!("undelay zk{id}"));
        Ok(())
    }
}

impl FakeBackend {
    fn set_partitioned(&self, id: u32, on: bool, op: &'static str) -> Result<()> {
        let mut s = self.state.lock().map_err(|_| ClusterError::Unsupported { op: "lock", server: id })?;
        let srv = s.servers.get_mut(&id).ok_or(ClusterError::Unsupported { op, server: id })?;
        srv.partitioned = on;
        s.log.push(format!("{op} zk{id}"));
        Ok(())
    }
}
