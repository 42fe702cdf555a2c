//! `zkchaos sweep` end to end against real ZooKeeper containers: sizes 1 and 3, one mix (80 %
//! reads), degraded first then steady (the follower started again), a 0.3-CPU budget per server,
//! short recorded warm-ups, four shuffled steps per point. Asserts that every file is written and
//! consistent (the recorded order is the order held, the budget, the driver's share and every
//! warm-up are in summary.json), and that no container, network or volume of the sweep is left —
//! never on the figures, which depend on the host.

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
[cpu]
server_cpus = 0.3
[steps]
count = 4
low_rate = 100
high_rate = 600
warmup_s = 0.3
measure_s = 1.0
bootstrap = 100
extend = 0
[closed_loop]
in_flight = [1, 8, 32]
warmup_s = 0.2
measure_s = 0.8
[ensemble]
order = "degraded-first"
warmup_s = 1.5
rewarm_s = 1
settle_s = 0.5
plateau_pct = 10
extend_max_s = 1
lift_quota = true
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
    let got: Vec<(u32, State)> = cap.iter().map(|c| (c.point.size, c.point.state)).collect();
    assert_eq!(got, [(1, State::Steady), (3, State::Degraded), (3, State::Steady)], "degraded first");
    for c in &cap {
        let a = &c.answer;
        assert_eq!(a.reps, 1);
        assert!(a.saturation_ops.is_some_and(|s| s > 0.0), "closed-loop saturation measured: {c:?}");
        assert_eq!(a.steps_fitted + a.steps_driver_limited, 4, "every open-loop step fitted or excluded: {c:?}");
        // A number, or a bound, or no data only when every step measured the driver.
        assert!(a.offered_ops.is_some() || a.steps_driver_limited == 4, "{c:?}");
        assert_eq!(a.ci_low_ops.is_some(), a.result == "rate", "an interval exactly for rates: {c:?}");
    }

    let steps = read_points_csv(&dir.join("points.csv")).unwrap();
    let summary = read_summary(&dir.join("summary.json")).unwrap();
    for (c, p) in cap.iter().zip(&summary.points) {
        let mine: Vec<_> = steps.iter().filter(|s| s.point == c.point).collect();
        assert!(mine.iter().any(|s| s.step.mode == "closed"), "closed-loop steps of {c:?}");
        let held: Vec<u32> = mine.iter().filter_map(|s| s.step.offered_ops).collect();
        assert_eq!(held, p.reps[0].order, "the recorded order is the order the rates were held in");
        let mut sorted = held.clone();
        sorted.sort();
        assert_eq!(sorted, vec![100, 182, 330, 600], "four rates spread over 100–600");
        assert!(mine.iter().all(|s| s.step.issued_ops > 0.0 && s.step.p99_ms > 0.0), "every step measured something");
        assert!(mine.iter().all(|s| s.step.driver_cpu_cores > 0.0), "the driver's CPU measured per step");
    }
    let usl_levels = steps.iter().filter(|s| s.point.size == 3 && s.point.state == State::Steady && s.step.mode == "closed").count();
    assert_eq!(usl_levels, 3, "every concurrency level in steady state");
    assert_eq!(steps.iter().filter(|s| s.point.state == State::Degraded && s.step.mode == "closed").count(), 1, "largest level only");

    assert!(summary.complete);
    // Every fresh JVM got its warm-up before anything was measured, recorded with its slices.
    let warm: Vec<(u32, &str, State, f64)> = summary.warmups.iter().map(|w| (w.size, w.after.as_str(), w.state, w.seconds)).collect();
    assert_eq!(warm.len(), 3, "{warm:?}");
    assert_eq!((warm[0].0, warm[0].1, warm[0].2, warm[0].3), (1, "fresh ensemble", State::Steady, 1.5));
    assert!(warm[1].1.starts_with("fresh ensemble, then follower") && warm[1].2 == State::Degraded, "{warm:?}");
    assert!(warm[2].1.ends_with("started again") && warm[2].2 == State::Steady && warm[2].3 == 1.5, "{warm:?}");
    // One slice cannot show a plateau, so each warm-up is extended once, by extend_max_s (1 s),
    // into a second slice that continues the first; the quota was lifted for it (and put back:
    // the measured steps above ran, and a quota that cannot be put back ends the sweep).
    assert!(
        summary.warmups.iter().all(|w| w.error.is_none()
            && w.quota_lifted
            && w.extended_s == 1.0
            && w.levelled.is_some()
            && w.slices.len() == 2
            && w.slices[1].from_s == w.slices[0].to_s
            && w.slices.iter().all(|s| s.ok_ops > 0.0)),
        "{:?}",
        summary.warmups
    );
    assert_eq!(summary.capacity, cap);
    assert_eq!(summary.cpu_budget.server_cpus, 0.3);
    assert_eq!(summary.driver.steps as usize, steps.len());
    assert!(summary.driver.cpu_cores_median.is_some_and(|c| c > 0.0));
    assert!(summary.physics.iter().any(|c| c.rule.starts_with("degraded")), "{:?}", summary.physics);
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
    assert!(md.contains("0.3 CPU per ZooKeeper container") && md.contains("## Physics checks"), "{md}");
    assert!(md.contains("## Warm-ups (discarded)") && md.contains("started again"), "{md}");
}
