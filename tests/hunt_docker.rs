//! `zkchaos hunt` on real ZooKeeper: one short trial (one kill of a drawn server, low rate, short
//! phases). The trial must have run its runbook through the run lifecycle (the run's
//! `profile.toml` is the written runbook, byte for byte), been judged by the run's own safety
//! checks, recorded its seeds in the run's `meta.json`, and left nothing in Docker.

mod common;

use common::{json, text, zkchaos};

const SPACE: &str = "name = \"hunt-docker\"\n[cluster]\nimage = \"zkchaos/zookeeper:3.8.0\"\nsize = 3\n\
[load]\nrate = 100\nsessions = 2\nmix = { get = 50, set = 50 }\nop_timeout_ms = 2000\nevents = true\n\
[phases]\nwarmup_s = 2\nconverge_timeout_s = 60\npost_s = 2\n\
[hunt]\nfaults = 1\ngap_ms = [500, 1000]\n[[hunt.fault]]\naction = \"kill\"\ntargets = [\"random\"]\nduration_ms = [1000, 1500]\n";

#[tokio::test(flavor = "multi_thread")]
async fn one_trial_runs_its_runbook_and_is_judged_by_the_runs_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let space = tmp.path().join("space.toml");
    std::fs::write(&space, SPACE).unwrap();
    let out = tmp.path().join("out");
    let o = zkchaos(&["hunt", space.to_str().unwrap(), "--trials", "1", "--seed", "7", "--out", out.to_str().unwrap()]);
    // 0: the trial passed; 3: a safety check failed (a finding, still a judged trial).
    assert!(matches!(o.status.code(), Some(0 | 3)), "{}", text(&o));
    let base = out.join("hunt").join("hunt-docker");
    let dir = std::fs::read_dir(&base).unwrap().next().unwrap().unwrap().path();
    let report = json(&dir.join("hunt.json"));
    assert_eq!(report["status"], "complete", "{report:#}");
    let trial = &report["trials"][0];
    assert_eq!(report["trials"].as_array().unwrap().len(), 1);
    let outcome = trial["outcome"].as_str().unwrap();
    assert!(["PASS", "FAIL", "UNKNOWN"].contains(&outcome), "the trial was not judged: {trial:#}");
    assert!(trial["verdicts"]["data_loss"].is_string() && trial["verdicts"]["single_leader"].is_string(), "{trial:#}");
    let ci = report["rates"][0]["any"]["ci95"].as_array().unwrap();
    assert!(ci[1].as_f64().unwrap() > 0.0 && ci[1].as_f64().unwrap() <= 1.0, "{report:#}");
    let run_dir = std::path::PathBuf::from(trial["run_dir"].as_str().unwrap());
    let runbook = std::fs::read_to_string(dir.join(trial["runbook"].as_str().unwrap())).unwrap();
    assert_eq!(std::fs::read_to_string(run_dir.join("profile.toml")).unwrap(), runbook, "the run did not run the written runbook");
    assert!(runbook.contains("action = \"kill\""), "{runbook}");
    let meta = json(&run_dir.join("meta.json"));
    assert_eq!(meta["hunt"]["hunt_seed"], 7);
    assert_eq!(meta["hunt"]["trial_seed"], trial["trial_seed"]);
    let summary = json(&run_dir.join("summary.json"));
    assert_eq!(summary["checks"]["data_loss"]["verdict"].as_str(), trial["verdicts"]["data_loss"].as_str());
    assert_eq!(common::objects_of_run(&common::run_id(&run_dir)).await, (0, 0, 0), "the trial left Docker objects");
}
