//! Cluster lifecycle against a real Docker engine and the `zkchaos/zookeeper:3.8.0` image.
//!
//! Every test goes through [`with_cluster`], which tears the run down before the test's result
//! is asserted (and `Cluster`'s drop guard removes it if the body panics), then checks that no
//! object with the run's label is left.

mod common;

use anyhow::{ensure, Context};
use common::cluster_spec;
use std::time::{Duration, Instant};
use zkchaos::cluster::{self, Cluster, ClusterSpec, ZooCfg};
use zkchaos::plan::ClusterPlan;
use zkchaos::record::ServerMode;
use zookeeper_client as zk;

const READY: Duration = Duration::from_secs(60);

fn spec(size: u32, dynamic: bool) -> ClusterSpec {
    cluster_spec(
        "test",
        ClusterPlan { size, dynamic_config: dynamic, heap_mb: 128, tick_time_ms: 1000, ..ClusterPlan::default() },
    )
}

/// Start `size` servers, run `body`, tear down and check nothing is left (see common).
async fn with_cluster(
    size: u32,
    dynamic: bool,
    body: impl AsyncFnOnce(&mut Cluster) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    common::with_cluster(spec(size, dynamic), body).await
}

async fn zk_connect(addr: &str) -> anyhow::Result<zk::Client> {
    Ok(tokio::time::timeout(Duration::from_secs(10), zk::Client::connect(addr)).await.context("connect timed out")??)
}

#[tokio::test]
async fn one_server_is_standalone_and_published_on_loopback_only() -> anyhow::Result<()> {
    with_cluster(1, false, async |c: &mut Cluster| {
        let info = c.srvr(1).await?;
        ensure!(info.mode == ServerMode::Standalone, "mode {:?}", info.mode);
        ensure!(info.zxid.is_some());
        let view = c.membership_view(1).await?;
        ensure!(view.voting == [1].into(), "view {view:?}");

        // The ZooKeeper container lives in its host container's network namespace; the host
        // is on the run's network and publishes the client port (the process model).
        let inspect = c.docker().inspect_container(&c.container_name(1), None).await?;
        let hc = inspect.host_config.context("no host config")?;
        ensure!(hc.privileged != Some(true), "privileged");
        ensure!(hc.init == Some(true));
        let host = c.netns_container(1);
        ensure!(host != c.container_name(1), "no host container");
        let host_inspect = c.docker().inspect_container(&host, None).await?;
        let host_id = host_inspect.id.clone().unwrap_or_default();
        ensure!(hc.network_mode.as_deref() == Some(format!("container:{host_id}").as_str()), "network mode {:?}", hc.network_mode);
        let host_labels = host_inspect.config.clone().and_then(|c| c.labels).unwrap_or_default();
        ensure!(host_labels.get("zkchaos.role").map(String::as_str) == Some("host"), "{host_labels:?}");
        ensure!(host_labels.get("zkchaos.run").map(String::as_str) == Some(c.run_id()));
        let hc = host_inspect.host_config.context("no host config on the host container")?;
        ensure!(hc.privileged != Some(true), "host privileged");
        ensure!(hc.network_mode.as_deref() == Some(c.network_name()), "host network mode {:?}", hc.network_mode);
        let bindings = hc.port_bindings.context("no port bindings")?;
        ensure!(bindings.len() == 1, "{bindings:?}");
        let b = bindings.get("2181/tcp").cloned().flatten().context("2181 not bound")?;
        ensure!(!b.is_empty() && b.iter().all(|b| b.host_ip.as_deref() == Some("127.0.0.1")), "{b:?}");
        let port = c.client_addr(1).context("no client addr")?.port().to_string();
        ensure!(b[0].host_port.as_deref() == Some(port.as_str()));
        let labels = inspect.config.and_then(|c| c.labels).unwrap_or_default();
        ensure!(labels.get("zkchaos.run").map(String::as_str) == Some(c.run_id()));
        ensure!(labels.get("zkchaos.server").map(String::as_str) == Some("1"));

        let cfg = c.read_file(1, "/zkchaos/conf/zoo.cfg").await?;
        ensure!(cfg.contains("clientPort=2181") && !cfg.contains("server."), "{cfg}");
        ensure!(c.logs(1).await?.contains("binding to port"), "no startup line in logs");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn three_servers_restart_pause_and_data_survives() -> anyhow::Result<()> {
    with_cluster(3, false, async |c: &mut Cluster| {
        let modes: Vec<ServerMode> = futures_util::future::join_all((1..=3).map(|i| c.mode(i))).await;
        ensure!(modes.iter().filter(|m| **m == ServerMode::Leader).count() == 1, "{modes:?}");
        ensure!(modes.iter().filter(|m| **m == ServerMode::Follower).count() == 2, "{modes:?}");
        let view = c.membership_view(2).await?;
        ensure!(view.voting == [1, 2, 3].into(), "view {view:?}");
        let zoo = c.read_file(2, "/zkchaos/conf/zoo.cfg").await?;
        ensure!(zoo.contains("server.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888\n"), "{zoo}");

        // A write before restarting one server is readable through that server alone afterwards.
        let client = zk_connect(&c.connect_string(&[1, 2, 3])).await?;
        let acl = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        tokio::time::timeout(Duration::from_secs(5), client.create("/before", b"kept", &acl)).await??;
        drop(client);
        eprintln!("modes before restart: {modes:?}");
        let cfg = ZooCfg::static_ensemble(2, &[1, 2, 3], &c.spec().plan);
        let t = Instant::now();
        c.restart_with_config(2, &cfg).await?;
        c.wait_ensemble(&[1, 2, 3], READY).await?;
        eprintln!("restart_with_config + rejoin: {:?}", t.elapsed());
        let only2 = c.client_addr(2).context("addr")?.to_string();
        let client = zk_connect(&only2).await?;
        let (data, _) = tokio::time::timeout(Duration::from_secs(5), client.get_data("/before")).await??;
        ensure!(data == b"kept");
        drop(client);

        // Pause: srvr times out (docker-proxy still accepts); unpause restores it.
        c.pause(3).await?;
        match c.srvr(3).await {
            Err(cluster::ClusterError::Srvr { source: cluster::FourLwError::Timeout { .. }, .. }) => {}
            other => anyhow::bail!("paused server answered: {other:?}"),
        }
        c.unpause(3).await?;
        c.wait_serving(3, READY).await?;
        ensure!(c.mode(3).await.is_serving());

        // Stop and start again; logs of a stopped container are still readable.
        c.stop_server(3, Duration::from_secs(2)).await?;
        ensure!(c.mode(3).await == ServerMode::Down);
        ensure!(!c.logs(3).await?.is_empty());
        c.start_existing(3).await?;
        c.wait_ensemble(&[1, 2, 3], READY).await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn dynamic_single_server_and_wiped_data() -> anyhow::Result<()> {
    with_cluster(1, true, async |c: &mut Cluster| {
        // standaloneEnabled=false: a one-member quorum leads.
        ensure!(c.mode(1).await == ServerMode::Leader);
        let view = c.membership_view(1).await?;
        ensure!(view.voting == [1].into() && view.version.is_some(), "view {view:?}");
        ensure!(view.lines == vec!["server.1=zk1:2888:3888:participant;0.0.0.0:2181".to_string()], "{view:?}");

        let client = zk_connect(&c.connect_string(&[1])).await?;
        let acl = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
        tokio::time::timeout(Duration::from_secs(5), client.create("/gone", b"x", &acl)).await??;
        drop(client);
        c.wipe_data(1).await?;
        c.start_existing(1).await?;
        c.wait_serving(1, READY).await?;
        let client = zk_connect(&c.connect_string(&[1])).await?;
        let r = tokio::time::timeout(Duration::from_secs(5), client.check_stat("/gone")).await??;
        ensure!(r.is_none(), "data survived wipe_data");
        Ok(())
    })
    .await
}

/// Time from nothing (no network) to a serving 3-server ensemble; median of 5.
/// `cargo test --test cluster_docker -- --ignored --nocapture measure_three_server_startup`
#[tokio::test]
#[ignore]
async fn measure_three_server_startup() -> anyhow::Result<()> {
    let mut times = Vec::new();
    for _ in 0..5 {
        let spec = spec(3, false);
        let plan = spec.plan.clone();
        let t = Instant::now();
        let mut c = Cluster::create(spec).await?;
        let ids = [1, 2, 3];
        let mut first_serving = None;
        let r: anyhow::Result<()> = async {
            for id in ids {
                c.start_server(id, &ZooCfg::from_plan(id, &ids, &plan)).await?;
            }
            let started = t.elapsed();
            // First moment any server serves, then the whole ensemble.
            loop {
                let m = futures_util::future::join_all(ids.iter().map(|&i| c.mode(i))).await;
                if m.iter().any(|m| m.is_serving()) {
                    first_serving = Some(t.elapsed());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            c.wait_ensemble(&ids, READY).await?;
            eprintln!(
                "containers started {:?}, first serving {:?}, ensemble ready {:?}",
                started,
                first_serving.unwrap_or_default(),
                t.elapsed()
            );
            Ok(())
        }
        .await;
        times.push(t.elapsed());
        c.teardown().await?;
        r?;
    }
    times.sort();
    eprintln!("nothing -> serving 3-server ensemble: median {:?} (all {times:?})", times[2]);
    Ok(())
}
