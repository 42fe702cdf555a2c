//! The harness's own environment failing: a results directory that fills up, is made read-only
//! or is removed mid-run must end in a non-zero exit (never 0, never the safety code 3), one
//! sentence naming the path and cause, `status` beginning with `aborted` where it can be written,
//! what was written still readable, and nothing left in Docker. SIGTERM in the late phases (the
//! read-back, a reconfig attempt, the teardown) ends with exit 130, `status` aborted, node logs
//! saved and nothing left. Eight concurrent runs complete and leave nothing.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

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

/// The smallest run: one server, a short steady load, no procedure.
const ONE_SERVER: &str = r#"
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
duration_s = 1
"#;

#[tokio::test]
async fn eight_concurrent_runs_complete_with_distinct_results_and_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write_profile(tmp.path(), "concurrent", ONE_SERVER);
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

// ---- SIGTERM in the late phases (read-back, a reconfig attempt, teardown) ----

/// A `zkchaos run` whose stderr is read line by line while it runs (kept for the assertions).
struct Watched {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Watched {
    fn spawn(profile: &Path, results: &Path, env: &[(&str, &str)], prefix: &[&str]) -> Watched {
        let mut cmd = if let Some((first, rest)) = prefix.split_first() {
            let mut c = Command::new(first);
            c.args(rest).arg(bin());
            c
        } else {
            Command::new(bin())
        };
        cmd.args(["run", profile.to_str().unwrap(), "--results", results.to_str().unwrap()])
            .current_dir(repo())
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("spawn zkchaos run");
        let err = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let keep = stderr.clone();
        let reader = std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                keep.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        Watched { child, lines, stderr, reader }
    }

    /// Block until stderr has a line containing `needle`.
    fn wait_line(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(needle) => return,
                Ok(_) => {}
                Err(_) => panic!("no stderr line with `{needle}` within {timeout:?}:\n{}", self.stderr.lock().unwrap()),
            }
        }
    }

    fn sigterm(&self) {
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) }, 0);
    }

    /// Exit code and the whole stderr.
    fn finish(self) -> (Option<i32>, String) {
        let out = self.child.wait_with_output().expect("wait for zkchaos");
        self.reader.join().unwrap();
        let stderr = self.stderr.lock().unwrap().clone();
        (out.status.code(), format!("stdout:\n{}\nstderr:\n{stderr}", String::from_utf8_lossy(&out.stdout)))
    }
}

fn status_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("status")).unwrap_or_default().trim().to_string()
}


/// SIGTERM once stderr shows `zkchaos: test hold: <point>`: exit 130, `status` aborted with the
/// signal named, node logs saved, nothing left labelled. Returns the run dir and the output.
async fn sigterm_in_hold(point: &str) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write_profile(tmp.path(), "late-sigterm", ONE_SERVER);
    let results = tmp.path().join("results");
    let run = Watched::spawn(&profile, &results, &[("ZKCHAOS_TEST_HOLD", point)], &[]);
    run.wait_line(&format!("zkchaos: test hold: {point}"), Duration::from_secs(120));
    run.sigterm();
    let (code, out) = run.finish();
    assert_eq!(code, Some(130), "{out}");
    let dir = only_run_dir(&results, "late-sigterm");
    assert!(status_of(&dir).starts_with("aborted: interrupted by SIGTERM"), "status {:?}: {out}", status_of(&dir));
    assert!(dir.join("logs/zk1.log").is_file(), "node logs saved: {out}");
    assert!(std::fs::read_to_string(dir.join("process.csv")).unwrap().starts_with("t_ms,rss_kib,fds\n"));
    assert_eq!(objects_of_run(&run_id(&dir)).await, (0, 0, 0), "nothing left in Docker: {out}");
    (tmp, dir, out)
}

#[tokio::test]
async fn sigterm_during_the_read_back_ends_aborted_with_logs_and_nothing_left() {
    let (_tmp, dir, out) = sigterm_in_hold("readback").await;
    // The load had finished: what it measured is complete and readable; no read-back was stored.
    assert!(zkchaos::record::read_events(&dir.join("events.csv.gz")).is_ok_and(|e| !e.is_empty()), "{out}");
    assert!(!dir.join("readback.json.gz").exists());
}

#[tokio::test]
async fn sigterm_during_teardown_ends_aborted_with_logs_and_nothing_left() {
    let (_tmp, dir, out) = sigterm_in_hold("teardown").await;
    assert_eq!(status_of(&dir), "aborted: interrupted by SIGTERM while finishing", "{out}");
    // The run itself had completed: its summary was written before the teardown began.
    assert_eq!(json(&dir.join("summary.json"))["verdict"], "PASS", "{out}");
}

/// A second SIGTERM means "now": the watcher removes the run's objects itself and exits 130; the
/// status (already `complete` at that point) must not claim the run ended normally.
#[tokio::test]
async fn a_second_sigterm_during_teardown_exits_at_once_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write_profile(tmp.path(), "late-sigterm", ONE_SERVER);
    let results = tmp.path().join("results");
    let run = Watched::spawn(&profile, &results, &[("ZKCHAOS_TEST_HOLD", "teardown")], &[]);
    run.wait_line("zkchaos: test hold: teardown", Duration::from_secs(120));
    run.sigterm();
    run.wait_line("SIGTERM received", Duration::from_secs(10));
    run.sigterm();
    let (code, out) = run.finish();
    assert_eq!(code, Some(130), "{out}");
    let dir = only_run_dir(&results, "late-sigterm");
    assert_eq!(status_of(&dir), "aborted: interrupted by a second SIGTERM (left at once)", "{out}");
    assert!(dir.join("logs/zk1.log").is_file(), "{out}");
    assert_eq!(objects_of_run(&run_id(&dir)).await, (0, 0, 0), "nothing left in Docker: {out}");
}

/// A reconfig attempt held open for real: the admin session's server (zk1, the only voting
/// member) is frozen, so `reconfig -add 2` waits for an answer (up to the 10 s call bound).
#[tokio::test]
async fn sigterm_during_a_reconfig_attempt_ends_aborted_with_logs_and_nothing_left() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write_profile(
        tmp.path(),
        "reconfig-sigterm",
        r#"
[cluster]
size = 1
dynamic_config = true
heap_mb = 128
[load]
rate = 100
sessions = 2
[phases]
warmup_s = 2
post_s = 1
[procedure]
kind = "steps"
[[procedure.steps]]
action = "start"
server = 2
config = "joiner"
[[procedure.steps]]
action = "wait"
server = 2
until = "following"
[[procedure.steps]]
action = "pause"
server = 1
[[procedure.steps]]
action = "reconfig"
add = [2]
max_attempts = 1
"#,
    );
    let results = tmp.path().join("results");
    let run = Watched::spawn(&profile, &results, &[], &[]);
    let dir = common::wait_for_mark(&results, "reconfig-sigterm", "reconfig add 2 attempt 1", Duration::from_secs(180));
    std::thread::sleep(Duration::from_millis(500));
    run.sigterm();
    let (code, out) = run.finish();
    assert_eq!(code, Some(130), "{out}");
    assert_eq!(status_of(&dir), "aborted: interrupted by SIGTERM", "{out}");
    assert!(dir.join("logs/zk1.log").is_file() && dir.join("logs/zk2.log").is_file(), "node logs saved: {out}");
    // The attempt was cut off mid-flight: its Start mark has no End.
    let marks = zkchaos::record::read_marks(&dir.join("marks.json")).unwrap();
    let attempt: Vec<_> = marks.iter().filter(|m| m.label == "reconfig add 2 attempt 1").collect();
    assert_eq!(attempt.len(), 1, "{attempt:?}");
    assert_eq!(objects_of_run(&run_id(&dir)).await, (0, 0, 0), "nothing left in Docker (zk1 was frozen): {out}");
}

// ---- results directory removed or made read-only mid-run ----

/// The run must stop with exit 1 (not 0, not the safety code 3) and one sentence naming the run
/// directory and the cause; nothing left in Docker.
async fn unwritable_mid_run(
    group: &str,
    prefix: &[&str],
    break_it: impl FnOnce(&Path),
) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write_profile(
        tmp.path(),
        group,
        r#"
[cluster]
size = 1
heap_mb = 128
[load]
rate = 100
sessions = 2
[phases]
warmup_s = 30
post_s = 5
[procedure]
kind = "none"
duration_s = 5
"#,
    );
    let results = tmp.path().join("results");
    let run = Watched::spawn(&profile, &results, &[], prefix);
    let dir = common::wait_for_mark(&results, group, "phase:warmup", Duration::from_secs(120));
    let run_of_dir = run_id(&dir);
    break_it(&dir);
    let (code, out) = run.finish();
    assert_eq!(code, Some(1), "{out}");
    let sentence = out.lines().find(|l| l.contains("the results cannot be written")).unwrap_or_else(|| panic!("{out}"));
    assert!(sentence.contains(dir.to_str().unwrap()), "names the path: {sentence}");
    assert_eq!(objects_of_run(&run_of_dir).await, (0, 0, 0), "nothing left in Docker: {out}");
    (tmp, dir, out)
}

/// As root, `chmod` does not stop writes: the run is started by `setpriv` without
/// CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so the directory's mode applies to it as to any owner.
#[tokio::test]
async fn a_results_directory_made_read_only_mid_run_aborts_with_the_path_and_cause() {
    use std::os::unix::fs::PermissionsExt;
    let drop_caps = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"];
    let (_tmp, dir, out) = unwritable_mid_run("read-only", &drop_caps, |d| {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o555)).unwrap()
    })
    .await;
    assert!(out.contains("Permission denied"), "{out}");
    // `status` is rewritten in place (the file itself is still writable); what was written stays readable.
    assert!(status_of(&dir).starts_with("aborted: the results cannot be written"), "status {:?}: {out}", status_of(&dir));
    assert_eq!(json(&dir.join("plan.json"))["name"], "read-only");
    // The run stopped at the failure (the next sample, within 5 s), not at the end of its 30 s
    // warm-up: the load's events (still written through the open file) end inside the warm-up.
    let marks = zkchaos::record::read_marks(&dir.join("marks.json")).unwrap();
    let warmup = marks.iter().find(|m| m.label == "phase:warmup").unwrap().at_us;
    let events = zkchaos::record::read_events(&dir.join("events.csv.gz")).unwrap();
    let last = events.iter().map(|e| e.intended_us).max().unwrap();
    assert!(last < warmup + 30_000_000, "load ran on after the failure (last op at {last} µs): {out}");
    assert!(marks.iter().all(|m| m.label != "phase:procedure"), "{out}");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test]
async fn a_results_directory_removed_mid_run_aborts_with_the_path_and_cause() {
    let (_tmp, dir, out) = unwritable_mid_run("removed", &[], |d| std::fs::remove_dir_all(d).unwrap()).await;
    assert!(out.contains("No such file or directory"), "{out}");
    assert!(!dir.exists());
}
