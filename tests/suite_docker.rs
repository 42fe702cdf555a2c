//! End to end, against real containers: `profiles/suite-smoke.toml` (2 entries × 2 repetitions,
//! short phases, 300 ops/s) through the built binary, then `zkchaos gate` on the suite directory.

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn suite_dir(results: &Path) -> PathBuf {
    let parent = results.join("suites/suite-smoke");
    let dirs: Vec<PathBuf> =
        std::fs::read_dir(&parent).expect("suites/suite-smoke exists").map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

#[tokio::test]
async fn smoke_suite_runs_interleaved_and_gates() {
    let results = tempfile::tempdir().expect("tempdir");
    let started = std::time::Instant::now();
    let out =
        zkchaos(&["suite", "profiles/suite-smoke.toml", "--results", results.path().to_str().unwrap(), "--quiet"]);
    eprintln!("suite took {:.0} s", started.elapsed().as_secs_f64());
    let dir = suite_dir(results.path());
    let manifest = json(&dir.join("suite.json"));
    // Whatever happened, nothing of these runs may remain in Docker.
    let runs = manifest["runs"].as_array().expect("runs").clone();
    for r in &runs {
        if let Some(d) = r["dir"].as_str() {
            let id = run_id(Path::new(d));
            assert_eq!(objects_of_run(&id).await, (0, 0, 0), "run {id} left objects behind");
        }
    }
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(manifest["status"], "complete");
    let order: Vec<&str> = runs.iter().map(|r| r["entry"].as_str().unwrap()).collect();
    assert_eq!(order, ["steady-3", "restart-1to3-old-first", "steady-3", "restart-1to3-old-first"]);
    assert_eq!(runs.iter().map(|r| r["repetition"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 1, 2, 2]);
    for r in &runs {
        let d = PathBuf::from(r["dir"].as_str().expect("run dir"));
        assert!(d.starts_with(&dir), "{} outside the suite dir", d.display());
        assert!(d.join("summary.json").is_file(), "{}", d.display());
        assert_eq!(r["seed"].as_u64(), json(&d.join("plan.json"))["seed"].as_u64());
        assert_eq!(r["exit_code"], 0);
    }
    assert!(manifest["suite_text"].as_str().unwrap().contains("repeat = 2"));
    for f in ["stats.md", "stats.json", "comparison/comparison.md", "comparison/comparison.html"] {
        assert!(dir.join(f).is_file(), "{f} missing in {}", dir.display());
    }
    let stats = json(&dir.join("stats.json"));
    assert_eq!(stats["entries"].as_array().unwrap().len(), 2);
    assert_eq!(stats["entries"][0]["figures"]["outage_write_ms"]["n"], 2);

    let d = dir.to_str().unwrap();
    let junit = results.path().join("junit.xml");
    let generous = zkchaos(&[
        "gate",
        d,
        "--max-outage-ms",
        "read=600000,write=600000",
        "--max-error-rate",
        "1",
        "--max-converge-ms",
        "600000",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(generous.status.code(), Some(0), "{}", text(&generous));
    assert!(std::fs::read_to_string(&junit).unwrap().contains("<testcase"));
    let strict = zkchaos(&["gate", d, "--max-outage-ms", "write=0"]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict));
    let no_base = zkchaos(&["gate", d, "--baseline", "/nonexistent"]);
    assert_eq!(no_base.status.code(), Some(2), "{}", text(&no_base));
    assert!(String::from_utf8_lossy(&no_base.stderr).contains("zkchaos suite"), "{}", text(&no_base));
    // The suite against itself as baseline: nothing changed, 2 vs 2 runs → weak rule, no regression.
    let same = zkchaos(&["gate", d, "--baseline", d]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    assert!(String::from_utf8_lossy(&same.stdout).contains("WEAK"), "{}", text(&same));
}
