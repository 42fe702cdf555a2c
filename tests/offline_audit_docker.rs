//! End to end, against real containers: a runbook that stops the leader and never starts it
//! again. The run must not wait `converge_timeout_s` for it (it is left down on purpose), and the
//! audit must still judge it: read offline from a standalone copy of its data volume, the
//! original volume unchanged, `data_loss` PASS rather than UNKNOWN. Nothing is left behind.

mod common;

use common::*;
use serde_json::Value;
use std::io::Read;

const PROFILE: &str = r#"
[cluster]
image = "zkchaos/zookeeper:3.8.0"
size = 3

[load]
mode = "open"
rate = 200
sessions = 2
mix = { get = 40, set = 40, create = 20 }
session_timeout_ms = 10000
op_timeout_ms = 2000
events = true

[phases]
warmup_s = 2
converge_timeout_s = 120
post_s = 2

[procedure]
kind = "steps"

[[procedure.steps]]
action = "find"
role = "leader"
as = "L"
[[procedure.steps]]
action = "stop"
server = "L"
"#;

fn point_detail(marks: &Value, label: &str) -> Vec<String> {
    marks
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["label"] == label && m["kind"] == "point")
        .filter_map(|m| m["detail"].as_str().map(str::to_string))
        .collect()
}

fn mark_ms(marks: &Value, label: &str, kind: &str) -> f64 {
    let m = marks.as_array().unwrap().iter().find(|m| m["label"] == label && m["kind"] == kind);
    m.map(|m| m["at_us"].as_f64().unwrap() / 1000.0).unwrap_or_else(|| panic!("no {kind} mark `{label}` in {marks}"))
}

#[tokio::test]
async fn offline_a_leader_stopped_for_good_is_not_waited_for_and_is_audited_from_a_copy_of_its_volume() {
    let results = tempfile::tempdir().unwrap();
    let name = "offline-audit-stop-leader";
    let path = write_profile(results.path(), name, PROFILE);
    let started = std::time::Instant::now();
    let out = zkchaos(&["run", path.to_str().unwrap(), "--results", results.path().to_str().unwrap(), "--quiet"]);
    let took = started.elapsed();
    let dir = only_run_dir(results.path(), name);
    let run = run_id(&dir);
    let left = objects_of_run(&run).await;
    if left != (0, 0, 0) {
        clean(&run);
    }
    assert_eq!(left, (0, 0, 0), "containers, networks, volumes left behind: {}", text(&out));
    let checks = json(&dir.join("summary.json"))["checks"].clone();
    assert_eq!(out.status.code(), Some(0), "{}\nchecks: {checks}", text(&out));
    eprintln!("run took {took:?}\n{}", String::from_utf8_lossy(&out.stderr));

    // The leader found and stopped, never started again, noted as left down.
    let marks = json(&dir.join("marks.json"));
    let found = point_detail(&marks, "find leader");
    let leader: u32 = found[0].strip_prefix("zk").unwrap().split(' ').next().unwrap().parse().unwrap();
    let notes = point_detail(&marks, "note");
    assert!(notes.iter().any(|n| n.starts_with(&format!("left down by the procedure: zk{leader} "))), "{notes:?}");
    // Convergence did not wait converge_timeout_s for it.
    assert!(point_detail(&marks, "not converged").is_empty(), "{marks}");
    let waited = mark_ms(&marks, "converged", "point") - mark_ms(&marks, &format!("stop zk{leader}"), "end");
    assert!(waited < 30_000.0, "convergence came {waited:.0} ms after the stop");

    // data_loss PASS on every member, the stopped one read offline with its original unchanged.
    let summary = json(&dir.join("summary.json"));
    let loss = &summary["checks"]["data_loss"];
    assert_eq!(loss["verdict"], "PASS", "{loss}");
    let servers = loss["servers"].as_array().unwrap();
    assert_eq!(servers.len(), 3, "{loss}");
    for s in servers {
        assert_eq!(s["readable"], true, "{s}");
        let via = if s["server"] == leader { "offline" } else { "live" };
        assert_eq!(s["via"], via, "{s}");
    }
    let offline = &servers.iter().find(|s| s["server"] == leader).unwrap()["offline"];
    assert_eq!(offline["method"], "standalone copy of the data volume", "{offline}");
    assert_eq!(offline["reason"], "left down by the procedure", "{offline}");
    assert_eq!(offline["original_unchanged"], true, "{offline}");
    assert_eq!(offline["original_sha256_before"], offline["original_sha256_after"]);
    assert!(offline["original_files"].as_u64().unwrap() >= 2, "{offline}");
    let detail = loss["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("zk{leader} offline (standalone copy of the data volume, original volume unchanged)")),
        "{detail}"
    );
    let read = servers.iter().find(|s| s["server"] == leader).unwrap();
    assert!(read["keys_read"].as_u64().unwrap() > 0, "{read}");
    // The load went on after the stop: those writes are not expected on the stopped server.
    assert!(read["acked_after_down"].as_u64().unwrap() > 0, "{read}");
    assert!(offline["down_since_us"].as_u64().unwrap() > 0, "{offline}");
    eprintln!("offline read of zk{leader}: {offline}\ndetail: {detail}");

    // The read-back file says so too.
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(dir.join("readback.json.gz")).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let rb: Value = serde_json::from_str(&text).unwrap();
    let vias: Vec<(u64, String)> = rb["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["server"].as_u64().unwrap(), s["via"].as_str().unwrap().to_string()))
        .collect();
    assert!(vias.contains(&(u64::from(leader), "offline".to_string())), "{vias:?}");
    assert_eq!(vias.iter().filter(|(_, v)| v == "live").count(), 2, "{vias:?}");
    assert!(took.as_secs() < 60, "the run took {took:?}");
}
