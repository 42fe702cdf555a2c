//! Safety checks against real ZooKeeper containers.
//!
//! - A deliberately unsafe scenario (a standalone server whose data directory is wiped) must make
//!   the acknowledged-write audit FAIL and name the lost paths.
//! - A steady 3-server ensemble must PASS the audit (read back from each server separately), the
//!   leader monitor and the convergence check.
//! - Read-back speed is printed (not asserted) for a large number of znodes.
//!
//! Every test tears its cluster down before asserting (and `Cluster`'s drop guard removes it if
//! the body panics).

mod common;

use anyhow::{ensure, Context};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use zkchaos::check::{self, ServerObservation, Verdict};
use zkchaos::record::{self, ServerReadback};
use zkchaos::workload::readback::{self, ReadbackOptions};
use zkchaos::cluster::Cluster;
use zkchaos::plan::ClusterPlan;
use zkchaos::record::{Epoch, OpEvent, OpKind, Outcome};
use zkchaos::workload::{payload, token_of};
use zookeeper_client as zk;

const READY: Duration = Duration::from_secs(60);
const OP: Duration = Duration::from_secs(10);

async fn with_cluster(size: u32, body: impl AsyncFnOnce(&mut Cluster) -> anyhow::Result<()>) -> anyhow::Result<()> {
    common::with_cluster(common::cluster_spec("check-test", ClusterPlan { size, heap_mb: 256, ..ClusterPlan::default() }), body)
        .await
}

fn tok(b: &[u8]) -> Option<String> {
    token_of(b).map(str::to_owned)
}

fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = text.lines().find(|l| l.starts_with(field)).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn addrs(c: &Cluster, ids: &[u32]) -> anyhow::Result<Vec<(u32, SocketAddr)>> {
    ids.iter().map(|&i| Ok((i, c.client_addr(i).context("no client addr")?))).collect()
}

fn event(kind: OpKind, path: String, token: String, version: i64) -> OpEvent {
    OpEvent {
        intended_us: 0,
        start_us: 0,
        end_us: 0,
        kind,
        session: 0,
        path,
        outcome: Outcome::Ok,
        error: None,
        token,
        version,
    }
}

/// Create the key space, then `sets` sets over `keys` keys and `creates` sequential creates,
/// `in_flight` at a time; returns the acknowledged events.
async fn write_history(
    client: &zk::Client,
    keys: u32,
    sets: u32,
    creates: u32,
    in_flight: usize,
) -> anyhow::Result<Vec<OpEvent>> {
    let acl = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    for p in ["/zkchaos", "/zkchaos/keys", "/zkchaos/seq"] {
        match tokio::time::timeout(OP, client.create(p, b"", &acl)).await? {
            Ok(_) | Err(zk::Error::NodeExists) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let init = payload("init", 32);
    stream::iter(0..keys)
        .map(|k| {
            let (client, acl, init) = (client.clone(), acl.clone(), init.clone());
            async move {
                let p = format!("/zkchaos/keys/k{k}");
                tokio::time::timeout(OP, client.create(&p, &init, &acl)).await??;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(in_flight)
        .try_collect::<Vec<()>>()
        .await?;
    let mut events = Vec::new();
    // Sets: one key at a time in order so versions are known; many keys in parallel.
    let per_key: Vec<Vec<OpEvent>> = stream::iter(0..keys)
        .map(|k| {
            let client = client.clone();
            async move {
                let mut out = Vec::new();
                let p = format!("/zkchaos/keys/k{k}");
                for j in 0..sets.div_ceil(keys.max(1)) {
                    let token = format!("s{k}-{j}");
                    let stat = tokio::time::timeout(OP, client.set_data(&p, &payload(&token, 32), None)).await??;
                    out.push(event(OpKind::Set, p.clone(), token, i64::from(stat.version)));
                }
                anyhow::Ok(out)
            }
        })
        .buffer_unordered(in_flight)
        .try_collect()
        .await?;
    events.extend(per_key.into_iter().flatten());
    let seq_acl = zk::CreateMode::PersistentSequential.with_acls(zk::Acls::anyone_all());
    let created: Vec<OpEvent> = stream::iter(0..creates)
        .map(|i| {
            let (client, acl) = (client.clone(), seq_acl.clone());
            async move {
                // Mostly the workload's own form (held packed by the read-back), some foreign.
                let token = if i % 10 == 0 { format!("c{i}") } else { format!("{}-{i}", i % 4) };
                let data = payload(&token, 100);
                let (_, seq) = tokio::time::timeout(OP, client.create("/zkchaos/seq/s-", &data, &acl)).await??;
                anyhow::Ok(event(OpKind::Create, format!("/zkchaos/seq/s-{seq}"), token, -1))
            }
        })
        .buffer_unordered(in_flight)
        .try_collect()
        .await?;
    events.extend(created);
    Ok(events)
}

async fn connect(addr: SocketAddr) -> anyhow::Result<zk::Client> {
    Ok(tokio::time::timeout(OP, zk::Client::connect(&addr.to_string())).await.context("connect timed out")??)
}

#[tokio::test]
async fn wiped_standalone_fails_the_audit_with_lost_paths() -> anyhow::Result<()> {
    with_cluster(1, async |c: &mut Cluster| {
        let servers = addrs(c, &[1])?;
        let client = connect(servers[0].1).await?;
        let events = write_history(&client, 20, 100, 200, 64).await?;
        drop(client);
        ensure!(events.len() == 300, "{} events", events.len());
        let opts = ReadbackOptions::default();

        let before = readback::read_all(&servers, &opts, &tok).await;
        let r = check::audit(&events, &before);
        eprintln!("before wipe: {}", r.headline());
        ensure!(r.verdict == Verdict::Pass, "{r:#?}");
        ensure!(before[0].seq.len() == 200, "{} sequential znodes read", before[0].seq.len());
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("readback.json.gz");
        record::save_readbacks(&file, &before)?;
        ensure!(record::load_readbacks(&file)? == before, "read-back changed through readback.json.gz");

        c.wipe_data(1).await?;
        c.start_existing(1).await?;
        c.wait_serving(1, READY).await?;
        let after = readback::read_all(&servers, &opts, &tok).await;
        ensure!(after[0].error.is_none(), "{:?}", after[0].error);
        let r = check::audit(&events, &after);
        eprintln!("after wipe: {}", r.headline());
        for e in &r.examples {
            eprintln!("  zk{} {}: {}", e.server, e.path, e.problem);
        }
        ensure!(r.verdict == Verdict::Fail, "{r:#?}");
        ensure!(r.lost_writes == 300 && r.servers[0].missing == 300, "{r:#?}");
        ensure!(
            r.headline() == "DATA LOSS: 300 of 300 acknowledged writes missing on server 1 of 1",
            "{}",
            r.headline()
        );
        ensure!(r.examples.len() == 10);
        ensure!(r
            .examples
            .iter()
            .any(|e| e.path.starts_with("/zkchaos/seq/s-") || e.path.starts_with("/zkchaos/keys/k")));

        // The stored read-back re-runs to the same report without Docker.
        record::save_readbacks(&file, &after)?;
        ensure!(check::audit(&events, &record::load_readbacks(&file)?) == r);
        Ok(())
    })
    .await
}

#[tokio::test]
async fn steady_three_servers_pass_audit_monitor_and_convergence() -> anyhow::Result<()> {
    with_cluster(3, async |c: &mut Cluster| {
        let ids = [1, 2, 3];
        let servers = addrs(c, &ids)?;
        let dir = tempfile::tempdir()?;
        let csv = dir.path().join(zkchaos::record::files::MONITOR_FILE);
        let (tx, rx) = tokio::sync::watch::channel(servers[..2].to_vec());
        let cancel = tokio_util::sync::CancellationToken::new();
        let monitor = zkchaos::cluster::monitor::spawn_monitor(
            rx,
            Duration::from_millis(200),
            Duration::from_millis(150),
            Epoch::now(),
            zkchaos::record::monitor_csv::LiveMonitorCsv::create(csv.clone(), zkchaos::record::WriteFailure::new()),
            cancel.clone(),
        );
        tx.send_replace(servers.clone()); // a "joiner" appears mid-run

        let connect_string = c.connect_string(&ids);
        let client = tokio::time::timeout(OP, zk::Client::connect(&connect_string)).await??;
        let events = write_history(&client, 50, 500, 1000, 64).await?;
        drop(client);
        tokio::time::sleep(Duration::from_millis(600)).await;
        cancel.cancel();
        let samples = monitor.await?;

        let t = Instant::now();
        let rbs = readback::read_all(&servers, &ReadbackOptions::default(), &tok).await;
        eprintln!("read back 3 servers x {} znodes in {:?}", rbs[0].keys.len() + rbs[0].seq.len(), t.elapsed());
        let r = check::audit(&events, &rbs);
        eprintln!("{}", r.headline());
        ensure!(r.verdict == Verdict::Pass, "{r:#?}");
        ensure!(r.headline() == "no acknowledged write lost (1500 checked on 3 servers)", "{}", r.headline());
        ensure!(r.divergent_keys == 0 && r.divergent_seq == 0, "{r:#?}");

        let lr = check::analyze_modes(&samples, &check::HarnessFaults::default());
        eprintln!("{}", lr.headline());
        ensure!(lr.verdict == Verdict::Pass, "{lr:#?}");
        ensure!(lr.leaders_seen.len() == 1, "{lr:#?}");
        ensure!(samples.iter().any(|s| s.server == 3), "joiner never polled");
        ensure!(record::read_monitor_csv(&csv)? == samples, "monitor.csv differs from samples");

        let mut observed = Vec::new();
        for id in ids {
            let view = c.membership_view(id).await?;
            observed.push(ServerObservation { id, mode: c.mode(id).await, view: Some(view.voting.clone()) });
        }
        let target: BTreeSet<u32> = ids.into();
        let conv = check::check_converged(&target, &observed);
        ensure!(conv.is_converged(), "{conv:?}");
        let conv = check::check_converged(&(1..=5).collect::<BTreeSet<u32>>(), &observed);
        ensure!(conv.reason() == Some("zk4 not observed"), "{conv:?}");

        // One server stopped: the audit cannot vouch for it.
        c.stop_server(3, Duration::from_secs(2)).await?;
        let quick = ReadbackOptions { connect_timeout: Duration::from_secs(2), ..Default::default() };
        let rbs: Vec<ServerReadback> = readback::read_all(&servers, &quick, &tok).await;
        let r = check::audit(&events, &rbs);
        eprintln!("{}", r.headline());
        ensure!(r.verdict == Verdict::Unknown && r.unreadable[0].server == 3, "{r:#?}");
        Ok(())
    })
    .await
}

/// Read-back speed on many znodes: `ZKCHAOS_READBACK_N` (default 100000) sequential znodes of
/// 100 bytes on a standalone server. Prints the time; asserts only completeness.
#[tokio::test]
async fn readback_timing_many_znodes() -> anyhow::Result<()> {
    let n: u32 = std::env::var("ZKCHAOS_READBACK_N").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    with_cluster(1, async |c: &mut Cluster| {
        let servers = addrs(c, &[1])?;
        let client = connect(servers[0].1).await?;
        let t = Instant::now();
        let events = write_history(&client, 100, 100, n, 256).await?;
        eprintln!("wrote {} znodes in {:?}", n + 100, t.elapsed());
        drop(client);
        let t = Instant::now();
        // Peak RSS of the read-back alone: VmHWM reset to the current RSS first (Linux).
        let rss_before = status_kib("VmRSS:");
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let rbs = readback::read_all(&servers, &ReadbackOptions::default(), &tok).await;
        let took = t.elapsed();
        ensure!(rbs[0].error.is_none(), "{:?}", rbs[0].error);
        eprintln!("READ-BACK TIMING: {} znodes from 1 server in {:?}", rbs[0].keys.len() + rbs[0].seq.len(), took);
        if reset {
            eprintln!(
                "READ-BACK MEMORY: RSS {} KiB before, peak {} KiB during, {} KiB after",
                rss_before,
                status_kib("VmHWM:"),
                status_kib("VmRSS:")
            );
        }
        let t = Instant::now();
        let r = check::audit(&events, &rbs);
        eprintln!("audit of {} writes in {:?}: {}", events.len(), t.elapsed(), r.headline());
        ensure!(r.verdict == Verdict::Pass, "{}", r.headline());
        Ok(())
    })
    .await
}

/// `profiles/ephemeral-3.toml` end to end, shortened: ephemeral nodes were created and their
/// sessions closed, and every server dropped them (the `ephemerals` check PASSes on each), the
/// per-server divergence names all three servers, and nothing labelled is left behind.
#[tokio::test]
async fn ephemeral_nodes_are_gone_on_every_server_after_their_sessions_close() -> anyhow::Result<()> {
    let results = tempfile::tempdir()?;
    let path = common::profile("ephemeral-3.toml");
    let args = ["run", path.to_str().unwrap(), "--results", results.path().to_str().unwrap()];
    let out = common::zkchaos(&[&args[..], &["--warmup", "2", "--post", "2", "--rate", "200"]].concat());
    let dir = common::only_run_dir(results.path(), "ephemeral-3");
    let run = common::run_id(&dir);
    let left = common::objects_of_run(&run).await;
    if left != (0, 0, 0) {
        common::clean(&run);
    }
    ensure!(left == (0, 0, 0), "containers, networks, volumes left behind: {left:?}");
    let s = common::json(&dir.join("summary.json"));
    let e = &s["checks"]["ephemerals"];
    let n = |k: &str| e[k].as_u64().unwrap_or(0);
    ensure!(n("sessions") > 0, "no ephemeral operation opened a session: {e}\n{}", common::text(&out));
    ensure!(n("created") > 0 && n("closed_acked") > 0, "no ephemeral node was created and closed: {e}");
    ensure!(n("expected_gone") > 0, "no session was known to have ended: {e}");
    ensure!(e["verdict"] == "PASS", "ephemerals: {e}\n{}", common::text(&out));
    let servers = e["servers"].as_array().context("servers")?;
    ensure!(servers.len() == 3, "{e}");
    for sv in servers {
        ensure!(sv["listed"] == true && sv["lingering"] == 0, "server: {sv}");
    }
    let div = s["divergence"].as_object().context("divergence")?;
    ensure!(div.keys().cloned().collect::<Vec<_>>() == ["zk1", "zk2", "zk3"], "{div:?}");
    for (server, d) in div {
        ensure!(d["lingering_ephemerals"] == 0 && d["missing_acknowledged_writes"] == 0, "{server}: {d}");
    }
    ensure!(out.status.code() == Some(0), "exit {:?}: {}", out.status.code(), common::text(&out));
    Ok(())
}
