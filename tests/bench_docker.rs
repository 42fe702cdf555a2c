//! `zkchaos bench --json` against real ZooKeeper containers: the contract checked from outside
//! (issues 14, 29). One tiny invocation (`--seconds 2 --rounds 1 --starts 1`); the figures themselves
//! are never asserted (performance is proven by `zkchaos bench` output, not by tests).

mod common;

use bollard::query_parameters::ListContainersOptionsBuilder;
use std::collections::HashMap;
use std::process::{Command, Stdio};

fn number(v: &serde_json::Value, path: &str) -> f64 {
    let mut at = v;
    for part in path.split('.') {
        at = &at[part];
    }
    at.as_f64().unwrap_or_else(|| panic!("{path} is not a number in {v}"))
}

fn list(v: &serde_json::Value, path: &str) -> Vec<f64> {
    let (table, key) = path.split_once('.').unwrap();
    let items = v[table][key].as_array().unwrap_or_else(|| panic!("{path} is not a list in {v}"));
    items.iter().map(|x| x.as_f64().unwrap_or_else(|| panic!("{path} holds {x}, not a number"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_json_contract() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().to_str().expect("utf-8 temp dir").to_string();
    let child = Command::new(common::bin())
        .args(["bench", "--only", "cpu,lag,startup", "--json", "--seconds", "2", "--rounds", "1", "--starts", "1", "--out", &out])
        .current_dir(common::repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zkchaos");
    let pid = child.id();
    let o = child.wait_with_output().expect("wait for zkchaos");
    let text = common::text(&o);
    assert_eq!(o.status.code(), Some(0), "{text}");
    // stdout is exactly one JSON object; the human lines went to stderr.
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {text}"));
    assert!(v.is_object(), "{text}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("cpu round 1 (order "), "{text}");
    for key in [
        "cpu.zkchaos_us_per_op",
        "cpu.bare_same_executor_us_per_op",
        "cpu.bare_open_us_per_op",
        "cpu.bare_pipelined_us_per_op",
        "cpu.ratio_zkchaos_same_executor",
        "lag.p99_us",
    ] {
        assert!(number(&v, key) > 0.0, "{key} should be positive: {text}");
    }
    // Every round is in the JSON, with the order its four generators ran in and the host's load.
    let rounds = v["cpu"]["rounds"].as_array().unwrap_or_else(|| panic!("cpu.rounds is not a list: {text}"));
    assert_eq!(rounds.len(), 1, "{text}");
    let order = rounds[0]["order"].as_array().unwrap_or_else(|| panic!("no order in the round: {text}"));
    assert_eq!(order.len(), 4, "{text}");
    assert!(rounds[0]["loadavg"].is_string(), "{text}");
    assert!(rounds[0]["bare_same_executor_ops"].as_u64().is_some_and(|n| n > 0), "{text}");
    // The same object is kept under <out>/bench/.
    let kept: Vec<_> = std::fs::read_dir(tmp.path().join("bench")).expect("results/bench").flatten().collect();
    assert_eq!(kept.len(), 1, "{text}");
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(kept[0].path().join("bench.json")).expect("bench.json")).expect("bench.json is JSON");
    assert_eq!(file, v, "the kept bench.json differs from stdout");
    assert_eq!(number(&v, "lag.rate"), 5000.0, "{text}");
    assert_eq!(number(&v, "lag.one_server.rate"), 20000.0, "{text}");
    for key in ["startup.size3_ms", "startup.size5_ms"] {
        let starts = list(&v, key);
        assert_eq!(starts.len(), 1, "{key}: one start asked for: {text}");
        assert!(starts[0] > 0.0, "{key}: {text}");
    }
    // Every ensemble the bench started (3 servers, 1 server, the startup ones) is gone.
    let filters = HashMap::from([("label".to_string(), vec![format!("zkchaos.pid={pid}")])]);
    let left = common::docker()
        .await
        .list_containers(Some(ListContainersOptionsBuilder::default().all(true).filters(&filters).build()))
        .await
        .expect("list containers");
    assert!(left.is_empty(), "containers left behind: {left:?}");
}
