//! End to end, against real containers: every built-in runbook profile (`profiles/*.toml` written
//! in the step language) runs to a complete result with short phases, converges to the membership
//! its runbook ends with, marks its faults as `fault:` intervals, and leaves nothing labelled with
//! its run behind (netem helper containers included). The partition calibration checks that a
//! partition of a standalone server shows up as an outage within the injected interval.

mod common;

use common::*;
use serde_json::Value;

const QUICK: &[&str] = &["--warmup", "2", "--post", "2", "--rate", "200"];

/// What one run produced.
struct Ran {
    out: std::process::Output,
    summary: Value,
    marks: Value,
    plan: Value,
    /// Every server's log (`logs/zk<N>.log`), by server id.
    logs: Vec<(u32, String)>,
}

/// Run `name` with `extra` arguments; assert it left nothing behind.
async fn run(name: &str, extra: &[&str]) -> Ran {
    run_path(name, &profile(&format!("{name}.toml")), extra).await
}

/// As [`run`], for a profile file elsewhere (`name` is its profile name).
async fn run_path(name: &str, path: &std::path::Path, extra: &[&str]) -> Ran {
    let results = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["run", path.to_str().unwrap(), "--results", results.path().to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = zkchaos(&args);
    let dir = only_run_dir(results.path(), name);
    let run = run_id(&dir);
    let left = objects_of_run(&run).await;
    if left != (0, 0, 0) {
        clean(&run);
    }
    assert_eq!(left, (0, 0, 0), "{name}: containers, networks, volumes left behind: {}", text(&out));
    let summary = json(&dir.join("summary.json"));
    let marks = json(&dir.join("marks.json"));
    let plan = json(&dir.join("plan.json"));
    let logs = (1..=9)
        .filter_map(|id| std::fs::read_to_string(dir.join("logs").join(format!("zk{id}.log"))).ok().map(|t| (id, t)))
        .collect();
    Ran { out, summary, marks, plan, logs }
}

fn mark_ms(marks: &Value, label: &str, kind: &str) -> f64 {
    marks
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["label"] == label && m["kind"] == kind)
        .map(|m| m["at_us"].as_f64().unwrap() / 1000.0)
        .unwrap_or_else(|| panic!("no {kind} mark `{label}` in {marks}"))
}

fn labels(marks: &Value) -> Vec<String> {
    marks
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "start")
        .map(|m| m["label"].as_str().unwrap().to_string())
        .collect()
}

/// The run completed, passed both checks and converged; returns the last committed config
/// point's detail (reconfig runbooks) or "".
fn completed(name: &str, r: &Ran) -> String {
    let committed = converged(name, r);
    let marks = r.marks.as_array().unwrap();
    assert!(
        !marks.iter().any(|m| m["failed"] == true && m["label"].as_str().unwrap().starts_with("wait")),
        "{name}: a wait failed: {}",
        r.marks
    );
    committed
}

/// As [`completed`], but a wait that timed out is allowed (and printed): for runbooks whose
/// waits depend on how long ZooKeeper's elections stall, which a run measures rather than
/// controls.
fn converged(name: &str, r: &Ran) -> String {
    match known_zookeeper_digest_bug(&r.plan, &r.summary) {
        Some(digest) if r.out.status.code() == Some(3) => record_skip(
            &format!("runbook {name}"),
            &format!("ZooKeeper 3.8's follower-sync digest bug fired ({digest}); the harness caught it and exited 3, so \"the run PASSes\" was not checked, its mechanics were"),
        ),
        _ => {
            assert_eq!(r.out.status.code(), Some(0), "{name}: {}", text(&r.out));
            assert_eq!(r.summary["verdict"], "PASS", "{name}: {}", r.summary["checks"]);
        }
    }
    let marks = r.marks.as_array().unwrap();
    assert!(marks.iter().any(|m| m["label"] == "converged"), "{name}: no `converged` mark: {}", text(&r.out));
    for m in marks.iter().filter(|m| m["failed"] == true) {
        eprintln!("{name}: a step failed: {m}");
    }
    marks
        .iter()
        .rev()
        .find(|m| m["label"] == "committed config")
        .and_then(|m| m["detail"].as_str())
        .unwrap_or("")
        .to_string()
}

fn participants(committed: &str) -> usize {
    committed.matches(":participant;").count()
}

#[tokio::test]
async fn runbook_reconfig_5to3_removes_two_followers() {
    let r = run("reconfig-5to3", QUICK).await;
    assert_eq!(participants(&completed("reconfig-5to3", &r)), 3);
    assert_eq!(r.summary["leader_changes"].as_u64().unwrap_or(0), 0, "removing followers keeps the leader");
}

/// Removing the leader: after committing the reconfig the old leader stops committing
/// (ZooKeeper's `allowedToCommit = false`) but still answers `srvr` with "leader" until it is
/// stopped, while the designated new leader already leads. The single-leader check, which reads
/// `srvr` modes, may see two leaders then: accepted only if one of them is the removed leader and
/// no acknowledged write was lost.
#[tokio::test]
async fn runbook_reconfig_5to3_leader_removes_the_leader() {
    let name = "reconfig-5to3-leader";
    let mut r = run(name, QUICK).await;
    let removed = r
        .marks
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["label"] == "find leader")
        .and_then(|m| m["detail"].as_str())
        .expect("find leader point")
        .to_string();
    let removed: u32 =
        removed.trim_start_matches("zk").split_whitespace().next().unwrap().parse().expect("zkN as \"L\"");
    if r.out.status.code() == Some(3) {
        let detail = r.summary["checks"]["single_leader"].to_string();
        assert_eq!(r.summary["checks"]["data_loss"]["verdict"], "PASS", "{}", r.summary["checks"]);
        let both: Vec<u32> = detail
            .split_once("servers {")
            .and_then(|(_, rest)| rest.split_once('}'))
            .map(|(set, _)| set.split(',').filter_map(|i| i.trim().parse().ok()).collect())
            .unwrap_or_default();
        assert!(both.contains(&removed), "two leaders, the removed zk{removed} not among them: {detail}");
        eprintln!("{name}: the removed leader zk{removed} still reported `leader`: {detail}");
        r.out.status = std::process::ExitStatus::default();
        r.summary["verdict"] = "PASS".into();
    }
    assert_eq!(participants(&completed(name, &r)), 3);
    assert!(labels(&r.marks).contains(&"wait leader".to_string()));
}

/// Shrinking by restarts leaves 3 of 5 servers, and every election then stalls on connects to
/// the stopped peers: the wait for a leader after the stops took 0.3–61 s over six runs here (its
/// timeout is 120 s), and a CI run once saw a restarted server not serve within 30 s. The test
/// asserts what the runbook guarantees: safety, convergence to three members, every step done.
#[tokio::test]
async fn runbook_rolling_5to3_restarts_into_three() {
    let r = run("rolling-5to3", QUICK).await;
    converged("rolling-5to3", &r);
    let l = labels(&r.marks);
    assert!(
        l.contains(&"stop zk5".to_string())
            && l.contains(&"wait leader".to_string())
            && l.iter().filter(|s| s.starts_with("restart zk")).count() == 3,
        "{l:?}"
    );
}

/// The unsafe order of the same shrink (restart the three that stay first): two leaders of two
/// views, and the writes the old one acknowledged after the new one was elected are lost. Both
/// checks must say so (every run here: 8 of 8 lost writes, 3 of 3 with the 10 s first wait
/// showed two writable leaders).
#[tokio::test]
async fn runbook_rolling_5to3_restart_first_loses_acknowledged_writes() {
    let name = "rolling-5to3-restart-first";
    // The hazard needs the old leader among the two leaving. A fresh ensemble whose servers
    // start together nearly always elects zk5 (highest id, equal zxids), but not always: a run
    // led by one of zk1..zk3 did not set the scenario up and is run again, up to three times;
    // never set up is a failure, not a pass.
    const ATTEMPTS: usize = 3;
    let mut not_set_up = Vec::new();
    let r = loop {
        let r = run(name, QUICK).await;
        let order = r.marks.as_array().unwrap().iter().find(|m| m["label"] == "restart order").map(|m| m["detail"].to_string());
        let order = order.unwrap_or_else(|| panic!("{name}: no `restart order` point: {}", r.marks));
        if order.contains("leader before: none") {
            break r;
        }
        converged(name, &r);
        not_set_up.push(order);
        assert!(not_set_up.len() < ATTEMPTS, "{name}: the leader was among zk1..zk3 in {ATTEMPTS} runs ({not_set_up:?}): the hazard was never set up");
        record_skip(name, &format!("run {} was led by a server that stays ({}); running again", not_set_up.len(), not_set_up.last().unwrap()));
    };
    assert_eq!(r.out.status.code(), Some(3), "{name}: {}", text(&r.out));
    assert_eq!(r.summary["checks"]["data_loss"]["verdict"], "FAIL", "{}", r.summary["checks"]);
    assert!(r.summary["checks"]["data_loss"]["lost_writes"].as_u64().unwrap_or(0) > 0, "{}", r.summary["checks"]);
    let marks = r.marks.as_array().unwrap();
    assert!(marks.iter().any(|m| m["label"] == "converged"), "{name}: no `converged` mark: {}", text(&r.out));
    assert!(labels(&r.marks).contains(&"stop zk5".to_string()), "{:?}", labels(&r.marks));
}

/// How the peers' connects to a stopped server end, from their logs: QuorumCnxManager logs
/// `Cannot open channel to N at election address ...` and the exception on the next line.
fn connects_to(r: &Ran, stopped: &[u32]) -> (usize, usize) {
    let (mut refused, mut silent) = (0, 0);
    for (_, log) in &r.logs {
        let lines: Vec<&str> = log.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if !stopped.iter().any(|id| l.contains(&format!("Cannot open channel to {id} at election address"))) {
                continue;
            }
            let next = lines.get(i + 1).copied().unwrap_or_default();
            if next.contains("Connection refused") {
                refused += 1;
            } else if next.to_lowercase().contains("connect timed out") || next.contains("No route to host") {
                silent += 1;
            }
        }
    }
    (refused, silent)
}

/// The two stop models seen from the peers: stopping a follower and then the leader of five,
/// the three left elect. With the default `process` model the stopped servers' addresses stay,
/// so every connect to them is refused and none times out; with `host` their addresses are
/// gone and connects to them time out (cnxTimeout). Durations are reported, not asserted (they
/// depend on the host; docs/shrink-5to3.md has the figures); the peers' connect outcomes are the
/// model itself.
#[tokio::test]
async fn runbook_stop_follower_then_leader_5_shows_each_stop_model_to_the_peers() {
    let name = "stop-follower-then-leader-5";
    let tmp = tempfile::tempdir().expect("tempdir");
    let body = std::fs::read_to_string(profile(&format!("{name}.toml"))).expect("profile");
    let host_profile = tmp.path().join(format!("{name}.toml"));
    std::fs::write(&host_profile, body.replace("stop_model = \"process\"", "stop_model = \"host\"")).expect("write profile");
    for (model, path) in [("process", profile(&format!("{name}.toml"))), ("host", host_profile)] {
        let r = run_path(name, &path, QUICK).await;
        completed(name, &r);
        assert_eq!(r.summary["models"]["stop_model"], model, "{}", r.summary["models"]);
        let marks = r.marks.as_array().unwrap();
        let stopped: Vec<u32> = marks
            .iter()
            .filter(|m| m["kind"] == "end")
            .filter_map(|m| m["label"].as_str()?.strip_prefix("stop zk")?.parse().ok())
            .collect();
        assert_eq!(stopped.len(), 2, "{model}: two servers stopped: {:?}", labels(&r.marks));
        let waited = mark_ms(&r.marks, "wait leader", "end") - mark_ms(&r.marks, "wait leader", "start");
        let (refused, silent) = connects_to(&r, &stopped);
        eprintln!("{model}: stopped {stopped:?}; new leader after {waited:.0} ms; connects to them refused {refused}, timed out {silent}");
        // The stopped servers are left down and audited from their volumes.
        assert_eq!(r.summary["checks"]["data_loss"]["verdict"], "PASS", "{model}: {}", r.summary["checks"]["data_loss"]);
        match model {
            "process" => assert!(refused > 0 && silent == 0, "{model}: refused {refused}, timed out {silent}"),
            _ => assert!(silent > 0, "{model}: refused {refused}, timed out {silent}"),
        }
    }
}

#[tokio::test]
async fn runbook_rollback_3to5to3_ends_with_three() {
    let r = run("rollback-3to5to3", QUICK).await;
    assert_eq!(participants(&completed("rollback-3to5to3", &r)), 3);
}

#[tokio::test]
async fn runbook_rollback_1to3to1to3_ends_with_three() {
    let r = run("rollback-1to3to1to3", QUICK).await;
    assert_eq!(participants(&completed("rollback-1to3to1to3", &r)), 3);
}

#[tokio::test]
async fn runbook_observer_3plus2_promotes_two_observers() {
    let r = run("observer-3plus2", QUICK).await;
    let committed = completed("observer-3plus2", &r);
    assert_eq!(participants(&committed), 5, "{committed}");
    assert!(!committed.contains(":observer"), "{committed}");
}

#[tokio::test]
async fn runbook_kill_leader_3_marks_the_crash() {
    let r = run("kill-leader-3", QUICK).await;
    completed("kill-leader-3", &r);
    assert!(labels(&r.marks).iter().any(|l| l.starts_with("fault:kill zk")), "{}", r.marks);
}

#[tokio::test]
async fn runbook_pause_follower_3_marks_the_freeze() {
    let r = run("pause-follower-3", QUICK).await;
    completed("pause-follower-3", &r);
    let fault = labels(&r.marks).into_iter().find(|l| l.starts_with("fault:pause zk")).expect("fault:pause mark");
    let held = mark_ms(&r.marks, &fault, "end") - mark_ms(&r.marks, &fault, "start");
    assert!((held - 5000.0).abs() < 100.0, "frozen for {held} ms");
}

#[tokio::test]
async fn runbook_partition_leader_3_cuts_the_leader_off_for_20_s() {
    let r = run("partition-leader-3", QUICK).await;
    completed("partition-leader-3", &r);
    let fault =
        labels(&r.marks).into_iter().find(|l| l.starts_with("fault:partition zk")).expect("fault:partition mark");
    let held = mark_ms(&r.marks, &fault, "end") - mark_ms(&r.marks, &fault, "start");
    assert!((20_000.0..20_500.0).contains(&held), "partitioned for {held} ms");
}

/// Needs the kernel's sch_netem; on a kernel without it the run must fail cleanly (a clear error,
/// nothing left behind, the helper included), which is what is checked then.
#[tokio::test]
async fn runbook_delay_leader_3_delays_the_leader_or_says_netem_is_missing() {
    let r = run("delay-leader-3", QUICK).await;
    let all = text(&r.out);
    if all.contains("qdisc kind is unknown") {
        record_skip("runbook_delay_leader_3", "this kernel has no sch_netem: the delay itself was not checked, only that the run fails cleanly naming the step");
        assert_ne!(r.out.status.code(), Some(0), "{all}");
        assert!(all.contains("netem add zk"), "the error names the step: {all}");
        return;
    }
    completed("delay-leader-3", &r);
    let fault = labels(&r.marks).into_iter().find(|l| l.starts_with("fault:delay zk")).expect("fault:delay mark");
    assert!(mark_ms(&r.marks, &fault, "end") - mark_ms(&r.marks, &fault, "start") >= 15_000.0);
}

#[tokio::test]
async fn runbook_expand_under_fault_reaches_five() {
    let r = run("expand-under-fault", QUICK).await;
    assert_eq!(participants(&completed("expand-under-fault", &r)), 5);
}

/// Partition calibration: a standalone server cut off the network for 3 s (its clients reach it
/// only through that network) shows a client-visible outage within the injected interval: at
/// least the time it was certainly cut off (`fault:partition zk1`, from the disconnect call's
/// return to the connect call's start), at most from the disconnect call's start to the connect
/// call's end plus the client's dead-connection detection. A partition closes no TCP connection
/// (unlike a stop): a client whose connection went silent notices only when its read timeout, two
/// thirds of the session timeout, expires, and reconnects then. Measured here: 3.29 s at 1000
/// ops/s (load average 12 on 2 cores), 6.97 s at 200 ops/s (load average 22).
#[tokio::test]
async fn partition_calibration_brackets_its_fault() {
    let r = run("partition-calibration", &["--warmup", "3", "--post", "3"]).await;
    assert_eq!(r.out.status.code(), Some(0), "{}", text(&r.out));
    let inner = mark_ms(&r.marks, "fault:partition zk1", "end") - mark_ms(&r.marks, "fault:partition zk1", "start");
    let outer = mark_ms(&r.marks, "network connect zk1", "end") - mark_ms(&r.marks, "network disconnect zk1", "start");
    assert!((inner - 3000.0).abs() < 50.0, "cut off for {inner} ms");
    let detect = r.plan["load"]["session_timeout_ms"].as_f64().expect("plan.load.session_timeout_ms") * 2.0 / 3.0;
    for class in ["read", "write"] {
        let outage =
            r.summary["outage_ms"][class].as_f64().unwrap_or_else(|| panic!("outage_ms.{class}: {}", r.summary));
        let resolution = r.summary["outage_resolution_ms"][class].as_f64().unwrap();
        let tolerance = 2.0 * resolution + 20.0;
        assert!(
            outage >= inner - tolerance && outage <= outer + detect + tolerance,
            "{class} outage {outage:.1} ms outside the injected partition [{inner:.1}, {outer:.1} + {detect:.0}] ms ± {tolerance:.1} ms"
        );
    }
}
