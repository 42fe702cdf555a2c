//! `zkchaos sweep` end to end against real ZooKeeper containers: sizes 1 and 3, one mix (80 %
//! reads), steady + degraded, a short ramp. Asserts that every file is written and consistent,
//! and that no container, network or volume of the sweep is left — never on the figures, which
//! depend on the host.

mod common;

use bollard::query_parameters::{ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder};
use std::collections::HashMap;
use zkchaos::capacity::results::{read_capacity_csv, read_points_csv, read_summary};
use zkchaos::capacity::sweep::State;

const SWEEP: &str = r#"
name = "sweep-docker-test"
repeat = 1
[axes]
size = [1, 3]
read_pct = [80]
state = ["steady", "degraded"]
[ramp]
start_rate = 200
factor = 2.0
min_rate = 50
max_rate = 800
resolution = 0.5
warmup_s = 0.5
measure_s = 1.0
max_steps = 6
[closed_loop]
in_flight = [1, 8, 32]
warmup_s = 0.2
measure_s = 0.8
"#;

async fn leftovers(profile: &str) -> (usize, usize, usize) {
    let d = common::docker().await;
    let f = HashMap::from([("label".to_string(), vec![format!("zkchaos.profile={profile}")])]);
    let c =
        d.list_containers(Some(ListContainersOptionsBuilder::default().all(true).filters(&f).build())).await.unwrap();
    let n = d.list_networks(Some(ListNetworksOptionsBuilder::default().filters(&f).build())).await.unwrap();
    let v = d.list_volumes(Some(ListVolumesOptionsBuilder::default().filters(&f).build())).await.unwrap();
    (c.len(), n.len(), v.volumes.map_or(0, |v| v.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_sweep_writes_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("sweep.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let results = tmp.path().join("results");
    let out = common::zkchaos(&["sweep", file.to_str().unwrap(), "--results", results.to_str().unwrap()]);
    assert_eq!(leftovers("sweep-sweep-docker-test").await, (0, 0, 0), "the sweep left Docker objects behind");
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));

    let parent = results.join("sweeps/sweep-docker-test");
    let dirs: Vec<_> = std::fs::read_dir(&parent).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let dir = &dirs[0];
    for f in [
        "points.csv",
        "capacity.csv",
        "summary.json",
        "report.md",
        "report.html",
        "sweep.toml",
        "charts/capacity-vs-size.png",
        "charts/achieved-vs-offered-r80.svg",
        "charts/p99-vs-throughput-r80.png",
        "charts/headroom-r80.svg",
        "charts/usl-3-r80.svg",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing in {}\n{}", dir.display(), common::text(&out));
    }

    let cap = read_capacity_csv(&dir.join("capacity.csv")).unwrap();
    let got: Vec<(u32, State)> = cap.iter().map(|c| (c.size, c.state)).collect();
    assert_eq!(got, [(1, State::Steady), (3, State::Steady), (3, State::Degraded)]);
    for c in &cap {
        assert_eq!(c.reps, 1);
        assert!(c.saturation_ops.is_some_and(|s| s > 0.0), "closed-loop saturation measured: {c:?}");
        // A number only with a confirmed, stable search; otherwise a reason.
        assert!(c.max_sustainable_ops.is_none() || c.result == "found" || c.result == "at-least", "{c:?}");
        assert!(c.max_sustainable_ops.is_some() || !c.note.is_empty() || c.result == "none", "{c:?}");
    }

    let steps = read_points_csv(&dir.join("points.csv")).unwrap();
    for c in &cap {
        let mine: Vec<_> = steps.iter().filter(|s| s.size == c.size && s.state == c.state).collect();
        assert!(mine.iter().any(|s| s.mode == "closed"), "closed-loop steps of {c:?}");
        assert!(mine.iter().any(|s| s.mode == "open" && s.offered_ops.is_some()), "open-loop steps of {c:?}");
        assert!(mine.iter().all(|s| s.issued_ops > 0.0 && s.p99_ms > 0.0), "every step measured something");
    }
    let usl_levels = steps.iter().filter(|s| s.size == 3 && s.state == State::Steady && s.mode == "closed").count();
    assert_eq!(usl_levels, 3, "every concurrency level in steady state");
    assert_eq!(
        steps.iter().filter(|s| s.state == State::Degraded && s.mode == "closed").count(),
        1,
        "largest level only"
    );

    let summary = read_summary(&dir.join("summary.json")).unwrap();
    assert!(summary.complete);
    assert_eq!(summary.capacity, cap);
    assert!(summary.machine.cores > 0);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::repo().join("schema/sweep-summary.schema.json")).unwrap(),
    )
    .unwrap();
    let value = common::json(&dir.join("summary.json"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path)).collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("## Answer") && md.contains("share one machine") && md.contains("## Machine"), "{md}");
}
