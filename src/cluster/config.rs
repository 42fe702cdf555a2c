//! zoo.cfg rendering: a [`ZooCfg`] value in, the files a server needs out. Pure, no I/O.
//!
//! Three forms, matching the two expansion families (see `ZOOKEEPER.md`):
//! - **standalone**: one server, no `server.N` lines, `clientPort=2181`;
//! - **static**: `server.N=zkN:2888:3888` lines in zoo.cfg plus `clientPort=2181` (restart-based
//!   expansion rewrites this file and restarts the server);
//! - **dynamic**: membership in `zoo.cfg.dynamic` (`server.N=zkN:2888:3888:participant;0.0.0.0:2181`),
//!   zoo.cfg has `reconfigEnabled=true`, `standaloneEnabled=false` and `dynamicConfigFile` and no
//!   `clientPort` (the client port comes from the member line). A joiner is rendered from the
//!   *committed* member lines read from `/zookeeper/config` plus its own line ([`ZooCfg::joiner`]).
//!
//! Member lines are written with the container network aliases `zkN` and ZooKeeper's default
//! ports wherever they are built (procedures, runbooks, the fake backend); a backend whose servers
//! are not on one bridge network turns them into real addresses at the edge with
//! [`ZooCfg::localized`] / [`localize_line`] (engines listed in the plan: the engine's address and
//! per-server ports, see [`crate::plan::engines`]). Every file lives under `/zkchaos`.

use crate::plan::engines::host_ports;
use crate::plan::ClusterPlan;

/// Where the image reads its configuration (both image kinds: zkchaos uploads it there).
pub const CONF_DIR: &str = "/zkchaos/conf";
/// Where the server keeps snapshots, logs and `myid` (a named volume).
pub const DATA_DIR: &str = "/zkchaos/data";
pub const CLIENT_PORT: u16 = 2181;
pub const QUORUM_PORT: u16 = 2888;
pub const ELECTION_PORT: u16 = 3888;

/// Java security overrides every server starts with (`-Djava.security.properties=`): the JVM
/// must not cache name lookups. By default it remembers a failed lookup for 10 s, and peers are
/// looked up while the containers of an ensemble are still starting (a name exists on the
/// bridge network only once its container runs): a server that looked too early could not
/// reach that peer for 10 s, which made some ensemble starts wait that long. A restarted
/// container may also come back with another address.
pub const JAVA_SECURITY: &str = "networkaddress.cache.negative.ttl=0\nnetworkaddress.cache.ttl=0\n";
pub const JAVA_SECURITY_FILE: &str = "/zkchaos/conf/java.security";

/// How membership is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigMode {
    Standalone,
    Static,
    Dynamic,
}

/// Everything needed to render one server's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZooCfg {
    pub my_id: u32,
    pub mode: ConfigMode,
    /// Member lines (`server.N=...`), already in the form the mode needs; empty if standalone.
    pub server_lines: Vec<String>,
    pub tick_time_ms: u32,
    pub init_limit: u32,
    pub sync_limit: u32,
    /// `skipACL=yes`: anyone may reconfig (insecure; only for throwaway ensembles).
    pub skip_acl: bool,
    /// `clientPort` of the standalone and static forms (the dynamic form has it in the lines).
    pub client_port: u16,
}

/// The files of one server, as (absolute path in the container, contents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedConfig {
    pub zoo_cfg: String,
    pub myid: String,
    pub dynamic: Option<String>,
}

impl RenderedConfig {
    /// Absolute paths and contents, for upload.
    pub fn files(&self) -> Vec<(String, String)> {
        let mut v = vec![
            (format!("{CONF_DIR}/zoo.cfg"), self.zoo_cfg.clone()),
            (format!("{DATA_DIR}/myid"), self.myid.clone()),
        ];
        if let Some(d) = &self.dynamic {
            v.push((format!("{CONF_DIR}/zoo.cfg.dynamic"), d.clone()));
        }
        v.push((JAVA_SECURITY_FILE.to_string(), JAVA_SECURITY.to_string()));
        v
    }
}

/// Container network alias of server `id`.
pub fn host(id: u32) -> String {
    format!("zk{id}")
}

/// `server.N=zkN:2888:3888` (static form).
pub fn static_line(id: u32) -> String {
    format!("server.{id}={}:{QUORUM_PORT}:{ELECTION_PORT}", host(id))
}

/// `server.N=zkN:2888:3888:participant;0.0.0.0:2181` (dynamic form).
pub fn dynamic_line(id: u32) -> String {
    format!("server.{id}={}:{QUORUM_PORT}:{ELECTION_PORT}:participant;0.0.0.0:{CLIENT_PORT}", host(id))
}

/// `server.N=zkN:2888:3888:observer;0.0.0.0:2181`.
pub fn observer_line(id: u32) -> String {
    format!("server.{id}={}:{QUORUM_PORT}:{ELECTION_PORT}:observer;0.0.0.0:{CLIENT_PORT}", host(id))
}

/// Member line `line` with server N's real address and ports under host networking on the
/// plan's engines: `server.N=<engine address>:<quorum>:<election>[:role][;0.0.0.0:<client>]`.
/// Lines of the alias form and lines already localized give the same result (idempotent);
/// without engines in the plan, or for a line that is not a member line, `line` is returned.
pub fn localize_line(line: &str, plan: &ClusterPlan) -> String {
    let (Some(id), Some(engine)) = (line_id(line), line_id(line).and_then(|id| plan.engine_of(id))) else {
        return line.to_string();
    };
    let rest = line.trim().split_once('=').map(|(_, r)| r).unwrap_or("");
    let (addr_part, client_part) = match rest.split_once(';') {
        Some((a, c)) => (a, Some(c)),
        None => (rest, None),
    };
    let role = addr_part.rsplit(':').next().filter(|r| *r == "participant" || *r == "observer");
    let (client, quorum, election) = host_ports(id);
    let host = match engine.address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(a)) => format!("[{a}]"),
        _ => engine.address.clone(),
    };
    let mut out = format!("server.{id}={host}:{quorum}:{election}");
    if let Some(r) = role {
        out.push(':');
        out.push_str(r);
    }
    if client_part.is_some() {
        out.push_str(&format!(";0.0.0.0:{client}"));
    }
    out
}

/// The id of a `server.N=` line, if it is one.
pub fn line_id(line: &str) -> Option<u32> {
    line.trim().strip_prefix("server.")?.split_once('=')?.0.trim().parse().ok()
}

impl ZooCfg {
    fn base(my_id: u32, mode: ConfigMode, server_lines: Vec<String>, plan: &ClusterPlan) -> ZooCfg {
        ZooCfg {
            my_id,
            mode,
            server_lines,
            tick_time_ms: plan.tick_time_ms,
            init_limit: plan.init_limit,
            sync_limit: plan.sync_limit,
            skip_acl: false,
            client_port: CLIENT_PORT,
        }
    }

    /// This configuration with real addresses and ports for the plan's engines (see
    /// [`localize_line`]); unchanged when the plan lists no engines.
    pub fn localized(&self, plan: &ClusterPlan) -> ZooCfg {
        if plan.engines.is_empty() {
            return self.clone();
        }
        let mut cfg = self.clone();
        cfg.server_lines = self.server_lines.iter().map(|l| localize_line(l, plan)).collect();
        cfg.client_port = host_ports(self.my_id).0;
        cfg
    }

    /// One standalone server (not reconfigurable).
    pub fn standalone(my_id: u32, plan: &ClusterPlan) -> ZooCfg {
        Self::base(my_id, ConfigMode::Standalone, Vec::new(), plan)
    }

    /// Static membership `ids` (restart-based family).
    pub fn static_ensemble(my_id: u32, ids: &[u32], plan: &ClusterPlan) -> ZooCfg {
        Self::base(my_id, ConfigMode::Static, ids.iter().map(|&i| static_line(i)).collect(), plan)
    }

    /// Dynamic membership `ids`, every one a participant (reconfig family; works for one server).
    pub fn dynamic(my_id: u32, ids: &[u32], plan: &ClusterPlan) -> ZooCfg {
        Self::base(my_id, ConfigMode::Dynamic, ids.iter().map(|&i| dynamic_line(i)).collect(), plan)
    }

    /// Dynamic config from explicit member lines (e.g. read from `/zookeeper/config`);
    /// `version=` and non-server lines are dropped.
    pub fn dynamic_from_lines(my_id: u32, lines: &[String], plan: &ClusterPlan) -> ZooCfg {
        let lines = lines.iter().map(|l| l.trim().to_string()).filter(|l| line_id(l).is_some()).collect();
        Self::base(my_id, ConfigMode::Dynamic, lines, plan)
    }

    /// A joiner: the committed member lines plus its own participant line (unless listed).
    pub fn joiner(my_id: u32, committed_lines: &[String], plan: &ClusterPlan) -> ZooCfg {
        let mut cfg = Self::dynamic_from_lines(my_id, committed_lines, plan);
        if !cfg.server_lines.iter().any(|l| line_id(l) == Some(my_id)) {
            cfg.server_lines.push(dynamic_line(my_id));
        }
        cfg
    }

    /// The form the plan asks for: dynamic if `plan.dynamic_config`, standalone for one static
    /// server, static otherwise.
    pub fn from_plan(my_id: u32, ids: &[u32], plan: &ClusterPlan) -> ZooCfg {
        if plan.dynamic_config {
            Self::dynamic(my_id, ids, plan)
        } else if ids.len() <= 1 {
            Self::standalone(my_id, plan)
        } else {
            Self::static_ensemble(my_id, ids, plan)
        }
    }

    pub fn with_skip_acl(mut self, skip_acl: bool) -> ZooCfg {
        self.skip_acl = skip_acl;
        self
    }

    /// Ids listed in the member lines, in order.
    pub fn member_ids(&self) -> Vec<u32> {
        if self.mode == ConfigMode::Standalone {
            return vec![self.my_id];
        }
        self.server_lines.iter().filter_map(|l| line_id(l)).collect()
    }

    pub fn render(&self) -> RenderedConfig {
        let mut z = String::new();
        z.push_str("# written by zkchaos\n");
        z.push_str(&format!("tickTime={}\n", self.tick_time_ms));
        z.push_str(&format!("initLimit={}\n", self.init_limit));
        z.push_str(&format!("syncLimit={}\n", self.sync_limit));
        z.push_str(&format!("dataDir={DATA_DIR}\n"));
        z.push_str("4lw.commands.whitelist=*\n");
        z.push_str("admin.enableServer=false\n");
        z.push_str("autopurge.purgeInterval=0\n");
        if self.skip_acl {
            z.push_str("skipACL=yes\n");
        }
        let mut dynamic = None;
        match self.mode {
            ConfigMode::Standalone => {
                z.push_str(&format!("clientPort={}\n", self.client_port));
            }
            ConfigMode::Static => {
                z.push_str(&format!("clientPort={}\n", self.client_port));
                z.push_str("quorumListenOnAllIPs=true\n");
                for l in &self.server_lines {
                    z.push_str(l);
                    z.push('\n');
                }
            }
            ConfigMode::Dynamic => {
                z.push_str("quorumListenOnAllIPs=true\n");
                z.push_str("reconfigEnabled=true\n");
                z.push_str("standaloneEnabled=false\n");
                z.push_str(&format!("dynamicConfigFile={CONF_DIR}/zoo.cfg.dynamic\n"));
                let mut d = String::new();
                for l in &self.server_lines {
                    d.push_str(l);
                    d.push('\n');
                }
                dynamic = Some(d);
            }
        }
        RenderedConfig { zoo_cfg: z, myid: format!("{}\n", self.my_id), dynamic }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> ClusterPlan {
        ClusterPlan::default()
    }

    #[test]
    fn standalone_form() {
        let r = ZooCfg::from_plan(1, &[1], &plan()).render();
        assert!(r.zoo_cfg.contains("clientPort=2181\n"));
        assert!(r.zoo_cfg.contains("tickTime=2000\ninitLimit=10\nsyncLimit=5\n"));
        assert!(r.zoo_cfg.contains("dataDir=/zkchaos/data\n"));
        assert!(r.zoo_cfg.contains("4lw.commands.whitelist=*\n"));
        assert!(r.zoo_cfg.contains("admin.enableServer=false\n"));
        assert!(!r.zoo_cfg.contains("server."));
        assert!(!r.zoo_cfg.contains("skipACL"));
        assert_eq!(r.myid, "1\n");
        assert!(r.dynamic.is_none());
        assert_eq!(r.files().len(), 3);
        assert_eq!(r.files()[2], (JAVA_SECURITY_FILE.to_string(), JAVA_SECURITY.to_string()));
    }

    #[test]
    fn static_form() {
        let cfg = ZooCfg::from_plan(2, &[1, 2, 3], &plan());
        assert_eq!(cfg.mode, ConfigMode::Static);
        assert_eq!(cfg.member_ids(), vec![1, 2, 3]);
        let r = cfg.render();
        assert!(r.zoo_cfg.contains("clientPort=2181\n"));
        assert!(r.zoo_cfg.contains("server.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888\n"));
        assert!(!r.zoo_cfg.contains("reconfigEnabled"));
        assert_eq!(r.myid, "2\n");
        assert!(r.dynamic.is_none());
    }

    #[test]
    fn dynamic_form() {
        let p = ClusterPlan { dynamic_config: true, tick_time_ms: 500, ..plan() };
        let r = ZooCfg::from_plan(1, &[1], &p).with_skip_acl(true).render();
        assert!(r.zoo_cfg.contains("tickTime=500\n"));
        assert!(r.zoo_cfg.contains("reconfigEnabled=true\n"));
        assert!(r.zoo_cfg.contains("standaloneEnabled=false\n"));
        assert!(r.zoo_cfg.contains("dynamicConfigFile=/zkchaos/conf/zoo.cfg.dynamic\n"));
        assert!(r.zoo_cfg.contains("skipACL=yes\n"));
        assert!(!r.zoo_cfg.contains("clientPort"));
        assert!(!r.zoo_cfg.contains("server."));
        assert_eq!(r.dynamic.as_deref(), Some("server.1=zk1:2888:3888:participant;0.0.0.0:2181\n"));
        let files = r.files();
        assert_eq!(files[2].0, "/zkchaos/conf/zoo.cfg.dynamic");
        assert_eq!(files[1].0, "/zkchaos/data/myid");
    }

    #[test]
    fn joiner_adds_itself_to_committed_lines() {
        let p = ClusterPlan { dynamic_config: true, ..plan() };
        let committed: Vec<String> = vec![
            "server.1=zk1:2888:3888:participant;0.0.0.0:2181".into(),
            "server.2=zk2:2888:3888:participant;0.0.0.0:2181".into(),
            "version=100000003".into(),
        ];
        let cfg = ZooCfg::joiner(3, &committed, &p);
        assert_eq!(cfg.member_ids(), vec![1, 2, 3]);
        let d = cfg.render().dynamic.unwrap();
        assert_eq!(
            d,
            "server.1=zk1:2888:3888:participant;0.0.0.0:2181\nserver.2=zk2:2888:3888:participant;0.0.0.0:2181\n\
server.3=zk3:2888:3888:participant;0.0.0.0:2181\n"
        );
        // Already listed: not duplicated.
        assert_eq!(ZooCfg::joiner(2, &committed, &p).member_ids(), vec![1, 2]);
        assert_eq!(line_id(&observer_line(7)), Some(7));
    }

    fn engines_plan() -> ClusterPlan {
        let engine = |name: &str, address: &str| crate::plan::EnginePlan::new(name, &format!("unix:///run/{name}/docker.sock"), address);
        ClusterPlan { engines: vec![engine("a", "10.0.0.11"), engine("b", "10.0.0.12")], ..plan() }
    }

    #[test]
    fn lines_are_localized_to_engine_addresses_idempotently() {
        let p = engines_plan();
        assert_eq!(localize_line(&dynamic_line(3), &p), "server.3=10.0.0.11:2890:3890:participant;0.0.0.0:2183");
        assert_eq!(localize_line(&observer_line(2), &p), "server.2=10.0.0.12:2889:3889:observer;0.0.0.0:2182");
        assert_eq!(localize_line(&static_line(1), &p), "server.1=10.0.0.11:2888:3888");
        let once = localize_line(&dynamic_line(4), &p);
        assert_eq!(localize_line(&once, &p), once);
        assert_eq!(localize_line("version=100000003", &p), "version=100000003");
        assert_eq!(localize_line(&dynamic_line(3), &plan()), dynamic_line(3));
    }

    #[test]
    fn localized_static_config_uses_per_server_client_port() {
        let p = engines_plan();
        let r = ZooCfg::static_ensemble(2, &[1, 2, 3], &p).localized(&p).render();
        assert!(r.zoo_cfg.contains("clientPort=2182\n"), "{}", r.zoo_cfg);
        assert!(r.zoo_cfg.contains("server.1=10.0.0.11:2888:3888\nserver.2=10.0.0.12:2889:3889\nserver.3=10.0.0.11:2890:3890\n"));
        assert_eq!(ZooCfg::static_ensemble(2, &[1, 2, 3], &plan()).localized(&plan()), ZooCfg::static_ensemble(2, &[1, 2, 3], &plan()));
    }
}
