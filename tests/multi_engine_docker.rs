//! Ensembles over several Docker engines, against real engines on their own addresses: test
//! hosts made by `scripts/test-hosts.sh` (network namespaces on one bridge, each running its own
//! dockerd), one ZooKeeper server per engine with host networking.
//!
//! One test brings three hosts up once (about a minute) and runs the scenarios that need them in
//! sequence: reconfig 3→5 with the joiners placed round robin, a host-level partition of the
//! leader, and the engine of one server killed mid-run (issue: reliability) then restarted and
//! cleaned. A guard takes the hosts down on every exit path. The unreachable-engine case needs no
//! host. Traffic goes only to loopback and to the hosts' 10.231.77.0/24 addresses.

mod common;

use common::{json, known_zookeeper_digest_bug, only_run_dir, record_skip, text, write_profile, zkchaos};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const HOSTS: usize = 3;
const IMAGES: [&str; 2] = ["zkchaos/zookeeper:3.8.0", "zkchaos/netem:bookworm"];

fn script() -> PathBuf {
    common::repo().join("scripts/test-hosts.sh")
}

fn test_hosts(args: &[&str]) -> Output {
    Command::new("bash").arg(script()).args(args).output().expect("spawn scripts/test-hosts.sh")
}

/// Test hosts 1..=N, taken down when dropped (also after a failed assertion).
struct Hosts {
    /// (endpoint, address) per host.
    engines: Vec<(String, String)>,
}

impl Hosts {
    fn up(n: usize) -> Hosts {
        let mut guard = Hosts { engines: Vec::new() };
        let up = test_hosts(&["up", &n.to_string()]);
        assert!(up.status.success(), "test-hosts.sh up failed:\n{}", text(&up));
        let load = test_hosts(&[&["load-image"][..], &IMAGES[..]].concat());
        assert!(load.status.success(), "test-hosts.sh load-image failed:\n{}", text(&load));
        let env = test_hosts(&["env"]);
        assert!(env.status.success(), "test-hosts.sh env failed:\n{}", text(&env));
        let engines: Vec<(String, String)> = String::from_utf8_lossy(&env.stdout)
            .lines()
            .filter_map(|l| l.split_once('=').map(|(_, v)| v.to_string()))
            .filter_map(|v| v.split_once(' ').map(|(e, a)| (e.to_string(), a.to_string())))
            .collect();
        assert_eq!(engines.len(), n, "env printed {engines:?}");
        guard.engines = engines;
        guard
    }

    /// `[[cluster.engines]]` tables naming host i `th<i>`.
    fn engines_toml(&self) -> String {
        self.engines
            .iter()
            .enumerate()
            .map(|(i, (endpoint, address))| {
                format!("[[cluster.engines]]\nname = \"th{}\"\nendpoint = \"{endpoint}\"\naddress = \"{address}\"\n", i + 1)
            })
            .collect()
    }

    /// Labelled objects (containers + volumes + networks) on every host's engine.
    fn leftovers(&self) -> Vec<String> {
        let mut left = Vec::new();
        for (endpoint, _) in &self.engines {
            for what in [&["ps", "-a"][..], &["volume", "ls"][..], &["network", "ls"][..]] {
                let o = Command::new("docker")
                    .args(["-H", endpoint])
                    .args(what)
                    .args(["-q", "--filter", "label=zkchaos.run"])
                    .output()
                    .expect("docker");
                left.extend(String::from_utf8_lossy(&o.stdout).lines().map(|l| format!("{endpoint}: {l}")));
            }
        }
        left
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        let down = test_hosts(&["down"]);
        if !down.status.success() {
            eprintln!("test-hosts.sh down failed:\n{}", text(&down));
        }
    }
}

fn run(profile: &Path, results: &Path) -> Output {
    zkchaos(&["run", profile.to_str().unwrap(), "--results", results.to_str().unwrap()])
}

fn checks(summary: &serde_json::Value) -> (String, String) {
    let v = |k: &str| summary["checks"][k]["verdict"].as_str().unwrap_or("?").to_string();
    (v("data_loss"), v("single_leader"))
}

/// Run profile `name` with `body`; it must exit 0 with PASS/PASS. Returns its run directory.
fn run_passing(tmp: &Path, name: &str, body: &str) -> PathBuf {
    let profile = write_profile(tmp, name, body);
    let out = run(&profile, &tmp.join("results"));
    let dir = only_run_dir(&tmp.join("results"), name);
    let summary = json(&dir.join("summary.json"));
    assert_eq!(checks(&summary), ("PASS".into(), "PASS".into()), "{summary}");
    match known_zookeeper_digest_bug(&json(&dir.join("plan.json")), &summary) {
        Some(digest) if out.status.code() == Some(3) => record_skip(
            name,
            &format!("ZooKeeper 3.8's follower-sync digest bug fired ({digest}); the harness caught it and exited 3, so \"exit 0\" was not checked, data loss and single leader were"),
        ),
        _ => assert_eq!(out.status.code(), Some(0), "{}", text(&out)),
    }
    dir
}

fn reconfig_3to5_with_joiners_round_robin(hosts: &Hosts, tmp: &Path) {
    let body = format!(
        "[cluster]\nsize = 3\ndynamic_config = true\n{}\n[load]\nrate = 200\nsessions = 2\nmix = {{ get = 80, set = 10, create = 10 }}\n\
[phases]\nwarmup_s = 4\npost_s = 4\n[procedure]\nkind = \"reconfig-expand\"\nto = 5\n",
        hosts.engines_toml()
    );
    let dir = run_passing(tmp, "me-reconfig", &body);
    for id in 1..=5 {
        assert!(dir.join(format!("logs/zk{id}.log")).is_file(), "no log of zk{id}");
    }
    // Server i on th(i) for 1..=3, then the joiners round robin: 4 on th1, 5 on th2, each
    // reached at its host's address on its own client port.
    let meta = json(&dir.join("meta.json"));
    for (id, host) in [(1, 0), (2, 1), (3, 2), (4, 0), (5, 1)] {
        let server = meta["servers"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("zk{id} not in {meta}"));
        assert_eq!(server["engine"], format!("th{}", host + 1), "{server}");
        assert_eq!(server["client_address"], format!("{}:{}", hosts.engines[host].1, 2180 + id), "{server}");
    }
    let zk4 = std::fs::read_to_string(dir.join("logs/zk4.log")).unwrap();
    assert!(zk4.contains("binding to port /0.0.0.0:2184"), "zk4 did not listen on its own port 2184");
    assert_eq!(std::fs::read_to_string(dir.join("status")).unwrap().trim(), "complete");
    assert_eq!(hosts.leftovers(), Vec::<String>::new(), "objects left after the reconfig run");
}

fn host_level_partition_isolates_the_leader_and_heals(hosts: &Hosts, tmp: &Path) {
    let body = format!(
        "[cluster]\nsize = 3\ntick_time_ms = 500\n{}\n[load]\nrate = 200\nsessions = 2\nmix = {{ get = 50, set = 50 }}\n[phases]\nwarmup_s = 4\npost_s = 4\n\
[procedure]\nkind = \"steps\"\n[[procedure.steps]]\naction = \"find\"\nrole = \"leader\"\nas = \"L\"\n\
[[procedure.steps]]\naction = \"partition\"\nserver = \"L\"\nduration_ms = 6000\n\
[[procedure.steps]]\naction = \"wait\"\nserver = \"L\"\nuntil = \"serving\"\n",
        hosts.engines_toml()
    );
    let dir = run_passing(tmp, "me-partition", &body);
    // The isolated leader lost its quorum (it notices after syncLimit ticks: 2.5 s with ticks of
    // 500 ms): some monitor sample during the fault shows it not leading, and a leader is seen
    // again after the heal.
    let marks = json(&dir.join("marks.json"));
    let fault = |kind: &str| {
        marks.as_array().unwrap().iter().find(|m| m["kind"] == kind && m["label"].as_str().unwrap_or("").starts_with("fault:partition"))
            .and_then(|m| m["at_us"].as_u64())
            .unwrap_or_else(|| panic!("no fault:partition {kind} mark in {marks}"))
    };
    let (from, to) = (fault("start"), fault("end"));
    let label = marks.as_array().unwrap().iter().find_map(|m| m["label"].as_str().filter(|l| l.starts_with("fault:partition")).map(String::from)).unwrap();
    let victim: String = label.rsplit("zk").next().unwrap().to_string();
    let monitor = std::fs::read_to_string(dir.join("monitor.csv")).unwrap();
    let rows: Vec<Vec<&str>> = monitor.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let lost = rows.iter().any(|r| {
        let at: u64 = r[0].parse().unwrap_or(0);
        at > from && at < to && r[1] == victim && r[2] != "leader"
    });
    assert!(lost, "zk{victim} kept leading while cut off from its peers:\n{monitor}");
    assert!(rows.iter().any(|r| r[0].parse::<u64>().unwrap_or(0) > to && r[2] == "leader"), "no leader after the heal");
    assert_eq!(hosts.leftovers(), Vec::<String>::new(), "objects left after the partition run");
}

fn a_lost_engine_aborts_the_run_and_clean_removes_the_rest(hosts: &Hosts, tmp: &Path) {
    let body = format!(
        "[cluster]\nsize = 3\n{}\n[load]\nrate = 200\nsessions = 2\nmix = {{ get = 50, set = 50 }}\n[phases]\nwarmup_s = 3\npost_s = 3\n\
[procedure]\nkind = \"steps\"\n[[procedure.steps]]\naction = \"sleep\"\nduration_ms = 12000\n[[procedure.steps]]\naction = \"restart\"\nserver = 3\n",
        hosts.engines_toml()
    );
    let profile = write_profile(tmp, "me-lost", &body);
    let results = tmp.join("results");
    let child = Command::new(common::bin())
        .args(["run", profile.to_str().unwrap(), "--results", results.to_str().unwrap()])
        .current_dir(common::repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn zkchaos run");
    // Wait until the run's servers exist, then kill server 3's engine during the sleep step.
    let started = std::time::Instant::now();
    while hosts.leftovers().len() < 6 {
        assert!(started.elapsed().as_secs() < 120, "the run never created its servers");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    std::thread::sleep(std::time::Duration::from_secs(6));
    let kill = test_hosts(&["engine", "3", "kill"]);
    assert!(kill.status.success(), "{}", text(&kill));
    let out = child.wait_with_output().expect("wait zkchaos run");
    let restart = test_hosts(&["engine", "3", "start"]);
    assert!(restart.status.success(), "{}", text(&restart));
    assert_eq!(out.status.code(), Some(1), "a run that lost an engine must fail:\n{}", text(&out));
    let dir = only_run_dir(&results, "me-lost");
    let status = std::fs::read_to_string(dir.join("status")).unwrap();
    assert!(status.starts_with("aborted") && status.contains("zk3"), "status: {status}");
    // Client-side results are kept; the reachable servers' logs are saved.
    for f in ["events.csv.gz", "summary.json", "timeline.csv", "logs/zk1.log", "logs/zk2.log"] {
        assert!(dir.join(f).is_file(), "{f} missing after the engine was lost");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("zkchaos clean --run"), "no clean hint:\n{}", text(&out));
    // Once the engine is back, `zkchaos clean --profile` removes what was left on it.
    let clean = zkchaos(&["clean", "--profile", profile.to_str().unwrap()]);
    assert!(clean.status.success(), "{}", text(&clean));
    assert_eq!(hosts.leftovers(), Vec::<String>::new(), "objects left after clean:\n{}", text(&clean));
}

#[test]
fn runs_over_three_engines_on_their_own_addresses() {
    let tmp = tempfile::tempdir().unwrap();
    let hosts = Hosts::up(HOSTS);
    reconfig_3to5_with_joiners_round_robin(&hosts, tmp.path());
    host_level_partition_isolates_the_leader_and_heals(&hosts, tmp.path());
    a_lost_engine_aborts_the_run_and_clean_removes_the_rest(&hosts, tmp.path());
}

#[test]
fn an_unreachable_engine_is_refused_before_anything_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let body = "[cluster]\nsize = 1\n[[cluster.engines]]\nname = \"gone\"\nendpoint = \"unix:///run/zkchaos-no-such-engine/docker.sock\"\naddress = \"10.231.77.99\"\n";
    let profile = write_profile(tmp.path(), "me-unreachable", body);
    let out = run(&profile, &tmp.path().join("results"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.contains("gone")).unwrap_or_else(|| panic!("no message naming the engine:\n{err}"));
    assert!(line.contains("unix:///run/zkchaos-no-such-engine/docker.sock") && line.contains("Start that engine"), "{line}");
    assert!(!tmp.path().join("results/me-unreachable").exists(), "a results directory was created before the preflight");
}
