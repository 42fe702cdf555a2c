//! Load agents against real engines (issue 29): test hosts made by `scripts/test-hosts.sh`
//! (network namespaces, each with its own dockerd). One run: a 3-server ensemble on host 3, two
//! load agents on hosts 1 and 2 (`[load.agents]`), and the engine of host 2 killed mid-run.
//! Checked: both agents are listed in `agents.json`; the agents' operations add up exactly to the
//! run's recorded total (`events.csv.gz`), each agent's events carry its own agent-qualified
//! session ids; agent 0 finished, agent 1 is reported lost (with an `agent-lost a1` mark) and its
//! operations up to the loss are kept. Traffic goes only to loopback and to the hosts'
//! 10.231.77.0/24 addresses; the hosts are taken down on every exit path.

mod common;

use common::{json, only_run_dir, text, write_profile};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const IMAGE: &str = "zkchaos/agent:test";

fn test_hosts(args: &[&str]) -> Output {
    Command::new("bash").arg(common::repo().join("scripts/test-hosts.sh")).args(args).output().expect("spawn scripts/test-hosts.sh")
}

/// Test hosts, taken down when dropped (also after a failed assertion).
struct Hosts(Vec<(String, String)>);

impl Hosts {
    fn up(n: usize) -> Hosts {
        let mut guard = Hosts(Vec::new());
        let up = test_hosts(&["up", &n.to_string()]);
        assert!(up.status.success(), "test-hosts.sh up failed:\n{}", text(&up));
        let load = test_hosts(&["load-image", "zkchaos/zookeeper:3.8.0", IMAGE]);
        assert!(load.status.success(), "test-hosts.sh load-image failed:\n{}", text(&load));
        let env = test_hosts(&["env"]);
        assert!(env.status.success(), "test-hosts.sh env failed:\n{}", text(&env));
        guard.0 = String::from_utf8_lossy(&env.stdout)
            .lines()
            .filter_map(|l| l.split_once('=').and_then(|(_, v)| v.split_once(' ')).map(|(e, a)| (e.to_string(), a.to_string())))
            .collect();
        assert_eq!(guard.0.len(), n, "env printed {:?}", guard.0);
        guard
    }

    fn engines_toml(&self) -> String {
        self.0.iter().enumerate().map(|(i, (e, a))| format!("[[cluster.engines]]\nname = \"th{}\"\nendpoint = \"{e}\"\naddress = \"{a}\"\n", i + 1)).collect()
    }

    /// Whether host `i`'s engine runs an agent container.
    fn runs_agent(&self, i: usize) -> bool {
        let o = Command::new("docker").args(["-H", &self.0[i].0, "ps", "-q", "--filter", "label=zkchaos.role=agent"]).output().expect("docker ps");
        !String::from_utf8_lossy(&o.stdout).trim().is_empty()
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

fn build_agent_image() {
    let o = Command::new("bash")
        .arg(common::repo().join("docker/build-agent-image.sh"))
        .args(["--binary", common::bin(), IMAGE])
        .output()
        .expect("spawn docker/build-agent-image.sh");
    assert!(o.status.success(), "agent image build failed:\n{}", text(&o));
}

#[test]
fn two_agents_on_two_hosts_add_up_and_a_killed_agent_engine_is_reported() {
    if std::env::var("ZKCHAOS_SKIP_TEST_HOSTS").is_ok() {
        common::record_skip("agents_docker", "ZKCHAOS_SKIP_TEST_HOSTS is set");
        return;
    }
    build_agent_image();
    let hosts = Hosts::up(3);
    let tmp = tempfile::tempdir().unwrap();
    let body = format!(
        "[cluster]\nsize = 3\nplacement = [\"th3\", \"th3\", \"th3\"]\n{}\n[load]\nrate = 200\nsessions = 4\nmix = {{ get = 50, set = 50 }}\n\
[load.agents]\ncount = 2\nengines = [\"th1\", \"th2\"]\nimage = \"{IMAGE}\"\n[phases]\nwarmup_s = 2\npost_s = 1\n[procedure]\nkind = \"none\"\nduration_s = 5\n",
        hosts.engines_toml()
    );
    let profile = write_profile(tmp.path(), "agents", &body);
    let results: PathBuf = tmp.path().join("results");
    let child = Command::new(common::bin())
        .args(["run", profile.to_str().unwrap(), "--results", results.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn zkchaos run");
    // Kill host 2's engine once its agent has been driving for a few seconds.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !hosts.runs_agent(1) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
    }
    let killed = hosts.runs_agent(1);
    if killed {
        std::thread::sleep(Duration::from_secs(4));
        let k = test_hosts(&["engine", "2", "kill"]);
        assert!(k.status.success(), "engine kill failed:\n{}", text(&k));
    }
    let out = child.wait_with_output().expect("wait for zkchaos run");
    let log = text(&out);
    if killed {
        let _ = test_hosts(&["engine", "2", "start"]);
    }
    let dir = only_run_dir(&results, "agents");
    let agents = json(&dir.join("agents.json"));
    let list = agents["agents"].as_array().unwrap_or_else(|| panic!("no agents in agents.json: {agents}\n{log}"));
    assert_eq!(list.len(), 2, "{agents}\n{log}");
    // The parts add up to the whole: every recorded event came from one of the agents.
    let events = zkchaos::record::read_events(&dir.join("events.csv.gz")).expect("events.csv.gz");
    let per_agent = |i: u32| events.iter().filter(|e| zkchaos::agents::agent_of_session(e.session) == Some(i)).count() as u64;
    assert!(events.iter().all(|e| zkchaos::agents::agent_of_session(e.session).is_some()), "an event without an agent-qualified session");
    for (i, a) in list.iter().enumerate() {
        let ops = a["ops"].as_u64().unwrap();
        assert!(ops > 0, "agent {i} recorded nothing: {agents}\n{log}");
        assert_eq!(ops, per_agent(i as u32), "agent {i}'s count differs from its events: {agents}");
    }
    assert_eq!(agents["total_ops"].as_u64(), Some(events.len() as u64), "{agents}");
    assert_eq!(list[0]["status"], "finished", "{agents}\n{log}");
    // The run's summary lists both agents, and their operations add up to its total.
    let summary = json(&dir.join("summary.json"));
    let listed = summary["agents"].as_array().unwrap_or_else(|| panic!("summary.json lists no agents: {summary}"));
    assert_eq!(listed.len(), 2, "{summary}");
    let sum: u64 = listed.iter().map(|a| a["ops"].as_u64().unwrap()).sum();
    assert_eq!(Some(sum), summary["ops"]["total"].as_u64(), "the agents' operations do not add up to the run's total: {summary}");
    if killed {
        assert_eq!(listed[1]["status"], "lost", "summary.json must say agent 1 was lost: {summary}");
        assert_eq!(list[1]["status"], "lost", "a killed engine's agent must be reported lost: {agents}\n{log}");
        assert_eq!(agents["incomplete"], 1, "{agents}");
        let marks = std::fs::read_to_string(dir.join("marks.json")).unwrap();
        assert!(marks.contains("agent-lost a1"), "no agent-lost mark: {marks}");
        assert!(log.contains("LOST"), "the console does not say agent 1 was lost:\n{log}");
    } else {
        common::record_skip("agents_docker: killed engine", "host 2's agent never appeared, its engine was not killed");
    }
}
