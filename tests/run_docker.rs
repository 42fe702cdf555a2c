//! End to end, against real containers: every expansion profile runs from its file (shortened
//! phases, lower rate), converges to the target membership as each server itself reports it, and
//! leaves nothing behind. The calibration profile measures the injected pause.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::PathBuf;
use zkchaos::cluster::fourlw::{four_letter, parse_conf_membership};

/// Run a profile with `--keep` so the test can question the servers afterwards.
fn run_kept(profile_file: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf, String, std::process::Output) {
    let results = tempfile::tempdir().expect("tempdir");
    let path = profile(profile_file);
    let mut args = vec!["run", path.to_str().unwrap(), "--results", results.path().to_str().unwrap(), "--keep"];
    args.extend_from_slice(extra);
    let out = zkchaos(&args);
    let name = profile_file.trim_end_matches(".toml");
    let dir = only_run_dir(results.path(), name);
    let run = run_id(&dir);
    (results, dir, run, out)
}

/// Every server's own membership view (from `conf` on its published port).
async fn views(run: &str) -> Vec<(u32, BTreeSet<u32>)> {
    let mut out = Vec::new();
    let mut addrs: Vec<_> = client_addrs(run).await.into_iter().collect();
    addrs.sort();
    for (id, addr) in addrs {
        let conf = four_letter(addr, "conf", std::time::Duration::from_secs(2)).await.expect("conf answers");
        let m = parse_conf_membership(&conf).expect("membership in conf");
        out.push((id, m.voting));
    }
    out
}

async fn assert_converged_to(run: &str, dir: &std::path::Path, target: &[u32], out: &std::process::Output) {
    let target: BTreeSet<u32> = target.iter().copied().collect();
    let marks = json(&dir.join("marks.json"));
    let converged = marks.as_array().unwrap().iter().any(|m| m["label"] == "converged");
    let views = views(run).await;
    let ok = converged && views.len() == target.len() && views.iter().all(|(_, v)| *v == target);
    if !ok {
        clean(run);
    }
    assert!(converged, "no `converged` mark: {}", text(out));
    assert_eq!(views.len(), target.len(), "servers: {views:?}");
    for (id, v) in &views {
        assert_eq!(v, &target, "zk{id}'s own view");
    }
    let summary = json(&dir.join("summary.json"));
    assert_eq!(summary["schema_version"], 2);
    assert!(summary["converge_ms"].as_f64().is_some(), "converge_ms in summary");
    assert_eq!(std::fs::read_to_string(dir.join("status")).unwrap().trim(), "complete");
}

const QUICK: &[&str] = &["--warmup", "3", "--post", "3", "--rate", "300"];

async fn static_zoo_cfg_lists(run: &str, ids: &[u32]) {
    for &id in ids {
        let cfg = read_container_file(run, id, "/zkchaos/conf/zoo.cfg").await;
        for &member in ids {
            assert!(cfg.contains(&format!("server.{member}=zk{member}:2888:3888")), "zk{id} zoo.cfg lacks server.{member}:\n{cfg}");
        }
    }
}

#[tokio::test]
async fn restart_1to3_new_first_converges() {
    let (_r, dir, run, out) = run_kept("restart-1to3-new-first.toml", QUICK);
    // The documented hazard: the two empty new servers elect a leader and the old server is
    // synchronised to their empty state. The run must say so: exit 3 and data_loss FAIL.
    let summary = json(&dir.join("summary.json"));
    let data_loss = summary["checks"]["data_loss"]["verdict"].clone();
    if out.status.code() != Some(3) || data_loss != "FAIL" {
        clean(&run);
    }
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(data_loss, "FAIL", "{}", summary["checks"]["data_loss"]);
    assert_converged_to(&run, &dir, &[1, 2, 3], &out).await;
    static_zoo_cfg_lists(&run, &[1, 2, 3]).await;
    clean(&run);
}

#[tokio::test]
async fn restart_1to3_old_first_converges() {
    let (_r, dir, run, out) = run_kept("restart-1to3-old-first.toml", QUICK);
    // The safe order: both checks must pass (and the run exit 0).
    let summary = json(&dir.join("summary.json"));
    let verdicts = (summary["checks"]["data_loss"]["verdict"].clone(), summary["checks"]["single_leader"]["verdict"].clone());
    if out.status.code() != Some(0) || verdicts != ("PASS".into(), "PASS".into()) {
        clean(&run);
    }
    assert_eq!(verdicts, ("PASS".into(), "PASS".into()), "{}", summary["checks"]);
    match known_zookeeper_digest_bug(&json(&dir.join("plan.json")), &summary) {
        Some(digest) if out.status.code() == Some(3) => record_skip(
            "restart_1to3_old_first_converges",
            &format!("ZooKeeper 3.8's follower-sync digest bug fired ({digest}); the harness caught it and exited 3, so \"exit 0\" was not checked, data loss, single leader and convergence were"),
        ),
        _ => assert_eq!(out.status.code(), Some(0), "{}", text(&out)),
    }
    assert_converged_to(&run, &dir, &[1, 2, 3], &out).await;
    static_zoo_cfg_lists(&run, &[1, 2, 3]).await;
    clean(&run);
}

#[tokio::test]
async fn rolling_3to5_converges() {
    let (_r, dir, run, out) = run_kept("rolling-3to5.toml", QUICK);
    assert!(matches!(out.status.code(), Some(0) | Some(3)), "{}", text(&out));
    assert_converged_to(&run, &dir, &[1, 2, 3, 4, 5], &out).await;
    static_zoo_cfg_lists(&run, &[1, 2, 3, 4, 5]).await;
    clean(&run);
}

#[tokio::test]
async fn reconfig_1to3_converges() {
    let (_r, dir, run, out) = run_kept("reconfig-1to3.toml", QUICK);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_converged_to(&run, &dir, &[1, 2, 3], &out).await;
    clean(&run);
}

#[tokio::test]
async fn reconfig_3to5_makes_joiners_voting_participants() {
    let (_r, dir, run, out) = run_kept("reconfig-3to5.toml", QUICK);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_converged_to(&run, &dir, &[1, 2, 3, 4, 5], &out).await;
    // /zookeeper/config through a session on one of the joiners lists all five as participants.
    let addrs = client_addrs(&run).await;
    let client = zookeeper_client::Client::connect(&addrs[&5].to_string()).await.expect("connect to zk5");
    let (data, _) = client.get_config().await.expect("get_config");
    let config = String::from_utf8_lossy(&data).to_string();
    clean(&run);
    for id in 1..=5 {
        assert!(config.contains(&format!("server.{id}=zk{id}:2888:3888:participant")), "/zookeeper/config:\n{config}");
    }
}

/// Time of the mark `(label, kind)` in ms.
fn mark_ms(marks: &serde_json::Value, label: &str, kind: &str) -> f64 {
    marks.as_array().unwrap().iter().find(|m| m["label"] == label && m["kind"] == kind).map(|m| m["at_us"].as_f64().unwrap() / 1000.0)
        .unwrap_or_else(|| panic!("no {kind} mark `{label}` in {marks}"))
}

/// The calibration: the measured client-visible outage equals the injected pause within
/// ±(2 × resolution + 20 ms). "The injected pause" is what the server lived through: at least the
/// interval between the `docker pause` call's return and the `docker unpause` call's start (the
/// profile's 3 s), at most from the pause call's start to the unpause call's end (the freeze and
/// thaw happen somewhere inside those API calls, which take 20-60 ms here).
#[tokio::test]
async fn pause_calibration_measures_the_injected_pause() {
    let results = tempfile::tempdir().expect("tempdir");
    let path = profile("pause-calibration.toml");
    let out = zkchaos(&["run", path.to_str().unwrap(), "--results", results.path().to_str().unwrap(), "--warmup", "3", "--post", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let dir = only_run_dir(results.path(), "pause-calibration");
    let (c, n, v) = objects_of_run(&run_id(&dir)).await;
    assert_eq!((c, n, v), (0, 0, 0), "objects left behind");
    let summary = json(&dir.join("summary.json"));
    let marks = json(&dir.join("marks.json"));
    let inner = mark_ms(&marks, "pause zk1", "end") - mark_ms(&marks, "pause zk1", "start");
    let outer = mark_ms(&marks, "docker unpause zk1", "end") - mark_ms(&marks, "docker pause zk1", "start");
    let plan = json(&dir.join("plan.json"));
    assert!((inner - plan["procedure"]["duration_ms"].as_f64().unwrap()).abs() < 20.0, "frozen for {inner} ms");
    for class in ["read", "write"] {
        let outage = summary["outage_ms"][class].as_f64().unwrap_or_else(|| panic!("outage_ms.{class}: {summary}"));
        let resolution = summary["outage_resolution_ms"][class].as_f64().unwrap();
        let tolerance = 2.0 * resolution + 20.0;
        assert!(
            outage >= inner - tolerance && outage <= outer + tolerance,
            "{class} outage {outage:.1} ms outside the injected pause [{inner:.1}, {outer:.1}] ms ± {tolerance:.1} ms"
        );
    }
}
