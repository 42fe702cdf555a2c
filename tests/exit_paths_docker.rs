//! Cleanup on every exit path: whatever ends a run — normal end, an error or a panic injected in
//! the procedure or the checker, SIGINT during warm-up or the procedure, SIGTERM, or SIGKILL
//! followed by `zkchaos clean` — afterwards the Docker API lists no container, network or volume
//! with the run's label, and the results directory says how the run ended. Signals are real
//! signals sent to a real `zkchaos` process.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A one-server run that is quick but long enough to be interrupted in each phase.
fn quick_profile(dir: &Path) -> PathBuf {
    write_profile(
        dir,
        "exit-path",
        r#"
[cluster]
size = 1
[load]
rate = 200
[phases]
warmup_s = 6
post_s = 2
[procedure]
kind = "none"
duration_s = 6
"#,
    )
}

fn spawn_run(profile: &Path, results: &Path, fault: Option<&str>) -> Child {
    let mut cmd = Command::new(bin());
    cmd.args(["run", profile.to_str().unwrap(), "--results", results.to_str().unwrap()])
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(f) = fault {
        cmd.env("ZKCHAOS_TEST_FAULT", f);
    }
    cmd.spawn().expect("spawn zkchaos run")
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid.
    let r = unsafe { libc::kill(child.id() as i32, sig) };
    assert_eq!(r, 0, "kill({}, {sig})", child.id());
}

fn finish(child: Child) -> std::process::Output {
    child.wait_with_output().expect("wait for zkchaos")
}

async fn assert_nothing_left(dir: &Path) {
    let run = run_id(dir);
    assert_eq!(objects_of_run(&run).await, (0, 0, 0), "Docker objects of run {run} left behind");
}

fn status(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("status")).unwrap_or_default().trim().to_string()
}

#[tokio::test]
async fn normal_end_removes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let out = finish(spawn_run(&quick_profile(tmp.path()), tmp.path(), None));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let dir = only_run_dir(tmp.path(), "exit-path");
    assert_eq!(status(&dir), "complete");
    assert!(dir.join("logs/zk1.log").exists(), "node logs saved");
    assert_nothing_left(&dir).await;
}

#[tokio::test]
async fn error_in_procedure_removes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let out = finish(spawn_run(&quick_profile(tmp.path()), tmp.path(), Some("procedure-error")));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let dir = only_run_dir(tmp.path(), "exit-path");
    assert!(status(&dir).starts_with("aborted: injected procedure error"), "status: {}", status(&dir));
    assert!(dir.join("events.csv.gz").exists() && dir.join("logs/zk1.log").exists());
    assert_nothing_left(&dir).await;
}

#[tokio::test]
async fn panic_in_procedure_removes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let out = finish(spawn_run(&quick_profile(tmp.path()), tmp.path(), Some("procedure-panic")));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let dir = only_run_dir(tmp.path(), "exit-path");
    assert!(status(&dir).starts_with("aborted: panic"), "status: {}", status(&dir));
    assert_nothing_left(&dir).await;
}

#[tokio::test]
async fn panic_in_checker_removes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let out = finish(spawn_run(&quick_profile(tmp.path()), tmp.path(), Some("checker-panic")));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let dir = only_run_dir(tmp.path(), "exit-path");
    assert!(status(&dir).starts_with("aborted: panic"), "status: {}", status(&dir));
    assert_nothing_left(&dir).await;
}

async fn interrupted_in(label: &str, sig: i32, sig_name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let child = spawn_run(&quick_profile(tmp.path()), tmp.path(), None);
    let dir = common::wait_for_mark(tmp.path(), "exit-path", label, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, sig);
    let out = finish(child);
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert_eq!(status(&dir), format!("aborted: interrupted by {sig_name}"));
    // What was measured so far is readable.
    assert!(zkchaos::record::events_csv::read_events(&dir.join("events.csv.gz")).is_ok());
    assert_nothing_left(&dir).await;
}

#[tokio::test]
async fn sigint_during_warmup_removes_everything() {
    interrupted_in("phase:warmup", libc::SIGINT, "SIGINT").await;
}

#[tokio::test]
async fn sigint_during_procedure_removes_everything() {
    interrupted_in("phase:procedure", libc::SIGINT, "SIGINT").await;
}

#[tokio::test]
async fn sigterm_removes_everything() {
    interrupted_in("phase:procedure", libc::SIGTERM, "SIGTERM").await;
}

#[tokio::test]
async fn sigkill_then_clean_removes_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = spawn_run(&quick_profile(tmp.path()), tmp.path(), None);
    let dir = common::wait_for_mark(tmp.path(), "exit-path", "phase:warmup", Duration::from_secs(60));
    signal(&child, libc::SIGKILL);
    let _ = child.wait();
    let run = run_id(&dir);
    let (c, _, _) = objects_of_run(&run).await;
    assert!(c > 0, "SIGKILL cannot clean up: the container should still be there");
    let out = zkchaos(&["clean", "--run", &run]);
    assert!(out.status.success(), "{}", text(&out));
    assert_nothing_left(&dir).await;
}
