//! `zkchaos cluster up|status|down`: an ensemble for manual exploration, over
//! [`crate::cluster::Cluster`] and the label-based cleanup, printing what it did.

use crate::cluster::cleanup;
use crate::cluster::names::{self, LABEL_PROFILE, LABEL_RUN, LABEL_SERVER};
use crate::cluster::{connect_docker, fourlw, ClusterError, ClusterSpec};
use crate::runner::ensemble::{self, Started, Up};
use crate::plan::ClusterPlan;
use crate::Result;
use bollard::query_parameters::ListContainersOptionsBuilder;
use clap::Subcommand;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

#[derive(Debug, Subcommand, Clone)]
pub enum ClusterCommand {
    /// Start an N-server ensemble and print its connect string.
    Up {
        /// Number of servers (ids 1..=N).
        #[arg(long, default_value_t = 3)]
        size: u32,
        /// Docker image of the servers (built with `zkchaos image build`).
        #[arg(long, default_value = "zkchaos/zookeeper:3.8.0")]
        image: String,
        /// Start with dynamic configuration (reconfig enabled).
        #[arg(long)]
        dynamic: bool,
    },
    /// Show the servers of running ensembles.
    Status {
        /// Only this run's ensemble (the id printed by `cluster up` or `run`).
        #[arg(long)]
        run: Option<String>,
    },
    /// Remove an ensemble started with `cluster up`.
    Down {
        /// Only this run's ensemble; without it, every ensemble started by `cluster up`.
        #[arg(long)]
        run: Option<String>,
    },
}

/// Profile label of ensembles started by `cluster up`.
const MANUAL: &str = "manual";

pub async fn cluster(cmd: ClusterCommand) -> Result<()> {
    match cmd {
        ClusterCommand::Up { size, image, dynamic } => up(size, image, dynamic).await,
        ClusterCommand::Status { run } => status(run.as_deref()).await,
        ClusterCommand::Down { run } => down(run.as_deref()).await,
    }
}

async fn up(size: u32, image: String, dynamic: bool) -> Result<()> {
    if size == 0 {
        return Err(crate::Error::bad_input("--size must be at least 1"));
    }
    let docker = connect_docker().await?;
    cleanup::warn_leftovers(&docker).await;
    let plan = ClusterPlan { image, size, dynamic_config: dynamic, ..ClusterPlan::default() };
    let spec = ClusterSpec { skip_acl: dynamic, ..ensemble::spec(MANUAL, plan) };
    let run_id = spec.run_id.clone();
    let up = Up { logs_on_failure: Some(std::env::temp_dir().join(format!("zkchaos-{run_id}-logs"))), ..Up::within(Duration::from_secs(120)) };
    let t = Instant::now();
    let Started { cluster: mut c, modes } = ensemble::start(spec, &up).await?;
    c.keep();
    println!("run {run_id}: {size}-server ensemble serving after {:.1} s", t.elapsed().as_secs_f64());
    for (id, mode) in &modes {
        let addr = c.client_addr(*id).map(|a| a.to_string()).unwrap_or_default();
        println!("  zk{id}  {:<11} {addr}  ({})", mode.as_str(), c.container_name(*id));
    }
    if dynamic {
        println!("  dynamic configuration, skipACL=yes (anyone may reconfig: for throwaway use only)");
    }
    println!("connect string: {}", c.connect_string(&c.server_ids()));
    println!("remove it with: zkchaos cluster down --run {run_id}");
    Ok(())
}

/// One row of `cluster status`.
struct Row {
    server: u32,
    name: String,
    state: String,
    port: Option<u16>,
}

async fn status(run: Option<&str>) -> Result<()> {
    let docker = connect_docker().await?;
    let filter = names::label_filter(run);
    let containers = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filter).build()))
        .await
        .map_err(|source| ClusterError::List { what: "containers", source })?;
    let mut runs: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
    let mut hosts: BTreeMap<(String, u32), Option<u16>> = BTreeMap::new();
    for c in containers {
        let labels = c.labels.clone().unwrap_or_default();
        let run_id = labels.get(LABEL_RUN).cloned().unwrap_or_default();
        let profile = labels.get(LABEL_PROFILE).cloned().unwrap_or_default();
        let port = c
            .ports
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|p| p.private_port == 2181 && p.ip.as_deref() == Some("127.0.0.1"))
            .and_then(|p| p.public_port);
        let server = labels.get(LABEL_SERVER).and_then(|s| s.parse().ok()).unwrap_or(0);
        // A server's host container holds its published port; the row is the ZooKeeper
        // container's, with the host's port.
        if labels.get(names::LABEL_ROLE).map(String::as_str) == Some(names::ROLE_HOST) {
            hosts.insert((run_id, server), port);
            continue;
        }
        let rows = runs.entry((run_id, profile)).or_default();
        rows.push(Row {
            server,
            name: c.names.and_then(|n| n.into_iter().next()).unwrap_or_default().trim_start_matches('/').to_string(),
            state: c.state.map(|s| s.to_string()).unwrap_or_default(),
            port,
        });
    }
    for ((run_id, _), rows) in runs.iter_mut() {
        for r in rows.iter_mut() {
            if let Some(p) = hosts.get(&(run_id.clone(), r.server)).copied().flatten() {
                r.port.get_or_insert(p);
            }
        }
    }
    if runs.is_empty() {
        println!("no zkchaos ensembles{}", run.map(|r| format!(" for run {r}")).unwrap_or_default());
        return Ok(());
    }
    for ((run_id, profile), mut rows) in runs {
        rows.sort_by_key(|r| r.server);
        println!("run {run_id} (profile {profile})");
        let mut connect = Vec::new();
        for r in rows {
            let (mode, zxid, addr) = match r.port {
                Some(p) => {
                    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, p));
                    connect.push(addr.to_string());
                    match fourlw::srvr(addr, Duration::from_millis(1000)).await {
                        Ok(i) => (i.mode.as_str(), i.zxid.map(|z| format!("0x{z:x}")).unwrap_or_default(), addr.to_string()),
                        Err(_) => ("down", String::new(), addr.to_string()),
                    }
                }
                None => ("down", String::new(), "-".into()),
            };
            println!("  zk{:<3} {:<11} {:<9} {:<16} {:<12} {}", r.server, mode, r.state, addr, zxid, r.name);
        }
        if !connect.is_empty() {
            println!("  connect string: {}", connect.join(","));
        }
    }
    Ok(())
}

async fn down(run: Option<&str>) -> Result<()> {
    let docker = connect_docker().await?;
    let runs: Vec<String> = match run {
        Some(r) => vec![r.to_string()],
        None => cleanup::find_leftovers(&docker)
            .await?
            .into_iter()
            .filter(|l| l.profile.as_deref() == Some(MANUAL))
            .map(|l| l.run_id)
            .collect(),
    };
    if runs.is_empty() {
        println!("no ensemble started by `zkchaos cluster up` is present");
        return Ok(());
    }
    for r in runs {
        let report = cleanup::remove_run(&docker, &r).await?;
        super::clean::print_report(&format!("run {r}"), &report);
    }
    Ok(())
}

