//! The harness survives what it measures: every server stopped for 15 s mid-run (longer than the
//! 10 s session timeout). The run must go on recording failures, complete, report the outage,
//! and clean up.

mod common;

use bollard::query_parameters::{StartContainerOptions, StopContainerOptionsBuilder};
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn all_servers_stopped_for_15s_mid_run() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write_profile(
        tmp.path(),
        "all-down",
        r#"
[cluster]
size = 3
[load]
rate = 200
[phases]
warmup_s = 3
post_s = 5
[procedure]
kind = "none"
duration_s = 25
"#,
    );
    let child = Command::new(bin())
        .args(["run", profile.to_str().unwrap(), "--results", tmp.path().to_str().unwrap()])
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn zkchaos");

    // Wait for the procedure phase, then stop every server through the Docker API.
    let deadline = Instant::now() + Duration::from_secs(90);
    let dir = loop {
        let found = std::fs::read_dir(tmp.path().join("all-down")).ok().and_then(|rd| {
            rd.flatten().filter(|e| e.file_name() != "latest").map(|e| e.path()).find(|p| {
                std::fs::read_to_string(p.join("marks.json")).unwrap_or_default().contains("\"phase:procedure\"")
            })
        });
        if let Some(d) = found {
            break d;
        }
        assert!(Instant::now() < deadline, "the run never reached its procedure phase");
        std::thread::sleep(Duration::from_millis(100));
    };
    let run = run_id(&dir);
    let docker = docker().await;
    let names: Vec<String> = (1..=3).map(|id| format!("zkchaos-{run}-zk{id}")).collect();
    let stopped_at = Instant::now();
    for n in &names {
        docker.stop_container(n, Some(StopContainerOptionsBuilder::default().t(1).build())).await.expect("stop");
    }
    tokio::time::sleep(Duration::from_secs(15).saturating_sub(stopped_at.elapsed())).await;
    for n in &names {
        docker.start_container(n, None::<StartContainerOptions>).await.expect("start");
    }

    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(dir.join("status")).unwrap().trim(), "complete");
    let summary = json(&dir.join("summary.json"));
    let outage = summary["outage_ms"]["any"].as_f64().expect("outage_ms.any");
    assert!(outage >= 14_000.0, "outage {outage} ms while every server was down for 15 s");
    assert!(summary["ops"]["fail"].as_u64().unwrap() + summary["ops"]["indeterminate"].as_u64().unwrap() > 0);
    println!("errors by class: {}", summary["errors_by_class"]);
    assert_eq!(objects_of_run(&run).await, (0, 0, 0), "objects left behind");
}
