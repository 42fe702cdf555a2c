//! The harness's own environment failing: a results directory that fills up mid-run must end in
//! a non-zero exit (never 0, never the safety code 3), `status` beginning with `aborted`, what was
//! written still readable, and nothing left in Docker.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

/// Mount a tmpfs of `size` at `dir` (the test runs as root, as CI does); unmounted on drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", dir.to_str().unwrap()])
            .status()
            .expect("run mount");
        assert!(st.success(), "mounting a tmpfs needs root (CI runs as root): {st}");
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_results_directory_that_fills_up_aborts_the_run_with_a_non_zero_exit() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let _fs = Tmpfs::mount(&results, "300k");
    let profile = write_profile(
        tmp.path(),
        "full-disk",
        r#"
[cluster]
size = 1
[load]
rate = 300
[phases]
warmup_s = 3
post_s = 2
[procedure]
kind = "none"
duration_s = 3
"#,
    );
    let out = zkchaos(&["run", profile.to_str().unwrap(), "--results", results.to_str().unwrap()]);
    let code = out.status.code();
    assert!(code.is_some() && code != Some(0) && code != Some(3), "exit must be a harness failure: {}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("No space left on device"), "the cause is named: {}", text(&out));
    let dir = only_run_dir(&results, "full-disk");
    let status = std::fs::read_to_string(dir.join("status")).unwrap_or_default();
    assert!(status.starts_with("aborted"), "status {status:?}: {}", text(&out));
    // What was written before the disk filled stays readable.
    assert!(json(&dir.join("plan.json"))["name"] == "full-disk");
    let run = run_id(&dir);
    assert_eq!(objects_of_run(&run).await, (0, 0, 0), "nothing left in Docker");
}

#[tokio::test]
async fn eight_concurrent_runs_complete_with_distinct_results_and_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write_profile(
        tmp.path(),
        "concurrent",
        r#"
[cluster]
size = 1
heap_mb = 128
[load]
rate = 100
sessions = 2
[phases]
warmup_s = 2
post_s = 1
[procedure]
kind = "none"
duration_s = 2
"#,
    );
    let results = tmp.path().join("results");
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(bin())
                .args(["run", profile.to_str().unwrap(), "--results", results.to_str().unwrap()])
                .current_dir(repo())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn zkchaos run")
        })
        .collect();
    let outputs: Vec<_> = children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect();
    for o in &outputs {
        assert_eq!(o.status.code(), Some(0), "{}", text(o));
    }
    let dirs: Vec<_> = std::fs::read_dir(results.join("concurrent"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "latest")
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 8, "eight distinct results directories: {dirs:?}");
    let mut runs = std::collections::BTreeSet::new();
    for d in &dirs {
        assert_eq!(std::fs::read_to_string(d.join("status")).unwrap().trim(), "complete");
        assert!(d.join("summary.json").is_file());
        runs.insert(run_id(d));
    }
    assert_eq!(runs.len(), 8, "distinct run ids");
    for r in &runs {
        assert_eq!(objects_of_run(r).await, (0, 0, 0), "run {r} left Docker objects");
    }
}
