//! Procedures against the in-memory [`FakeBackend`]: step order, marks, failed waits, retries and
//! name binding ("the leader"), without Docker. Time is paused, so 30 s waits take no real time.

use super::*;
use crate::cluster::fake::FakeBackend;
use crate::cluster::ZooCfg;
use crate::plan::Plan;
use crate::record::{Mark, MarkKind};
use std::sync::Mutex;

/// Collects marks in memory, as the recorder would write them to marks.json.
#[derive(Default)]
struct Marks(Mutex<Vec<Mark>>);

impl MarkSink for Marks {
    fn mark(&self, mark: Mark) {
        self.0.lock().unwrap().push(mark);
    }
}

impl Marks {
    fn all(&self) -> Vec<Mark> {
        self.0.lock().unwrap().clone()
    }
    /// Start labels in order: the procedure's steps as a reader of the timeline sees them.
    fn starts(&self) -> Vec<String> {
        self.all().into_iter().filter(|m| m.kind == MarkKind::Start).map(|m| m.label).collect()
    }
    fn end(&self, label: &str) -> Mark {
        self.all().into_iter().find(|m| m.kind == MarkKind::End && m.label == label).unwrap_or_else(|| panic!("no end mark {label}"))
    }
}

fn plan(procedure: &str, size: u32, dynamic: bool) -> Plan {
    let text = format!("name = \"t\"\n[cluster]\nsize = {size}\ndynamic_config = {dynamic}\n[procedure]\n{procedure}\n");
    crate::profile::parse(&text, "test").unwrap()
}

/// Start the initial ensemble the way the run does: standalone for one static server, the static
/// or dynamic member list otherwise.
async fn initial(fake: &mut FakeBackend, plan: &Plan) {
    let ids: Vec<u32> = (1..=plan.cluster.size).collect();
    for &id in &ids {
        let cfg = if plan.cluster.dynamic_config {
            ZooCfg::dynamic(id, &ids, &plan.cluster)
        } else if ids.len() == 1 {
            ZooCfg::standalone(id, &plan.cluster)
        } else {
            ZooCfg::static_ensemble(id, &ids, &plan.cluster)
        };
        fake.start_server(id, &cfg).await.unwrap();
    }
}

async fn run(fake: &mut FakeBackend, plan: &Plan, marks: &Marks) -> Result<ProcedureOutcome, ProcedureError> {
    initial(fake, plan).await;
    let (tx, _rx) = watch::channel(Vec::new());
    let mut ctx = ProcedureCtx {
        cluster: fake,
        plan,
        marks,
        epoch: crate::record::Epoch::now(),
        super_password: None,
        servers: &tx,
    };
    run_procedure(&mut ctx).await
}

fn ops_after_start(fake: &FakeBackend, initial: usize) -> Vec<String> {
    fake.log().into_iter().skip(initial).collect()
}

#[tokio::test(start_paused = true)]
async fn procedure_restart_new_first_starts_joiners_then_restarts_the_old_server() {
    let p = plan("kind = \"restart-expand\"\nto = 3\norder = \"new-first\"", 1, false);
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    let out = run(&mut fake, &p, &marks).await.unwrap();
    assert_eq!(out.target_ids, vec![1, 2, 3]);
    assert_eq!(ops_after_start(&fake, 1), ["start zk2", "start zk3", "restart zk1"]);
    let starts = marks.starts();
    let pos = |l: &str| starts.iter().position(|s| s == l).unwrap_or_else(|| panic!("{l} not in {starts:?}"));
    assert!(pos("start zk2") < pos("start zk3") && pos("start zk3") < pos("restart zk1"), "{starts:?}");
    assert!(marks.all().iter().all(|m| !m.failed), "no step failed: {:?}", marks.all());
    // Every Start has its End.
    for s in &starts {
        marks.end(s);
    }
}

#[tokio::test(start_paused = true)]
async fn procedure_restart_old_first_restarts_the_old_server_before_starting_joiners() {
    let p = plan("kind = \"restart-expand\"\nto = 3\norder = \"old-first\"", 1, false);
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    run(&mut fake, &p, &marks).await.unwrap();
    assert_eq!(ops_after_start(&fake, 1), ["restart zk1", "start zk2", "start zk3"]);
}

#[tokio::test(start_paused = true)]
async fn procedure_wait_that_times_out_is_marked_failed_and_the_procedure_goes_on() {
    let p = plan("kind = \"restart-expand\"\nto = 3\norder = \"new-first\"", 1, false);
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    fake.never_serves.insert(3);
    let out = run(&mut fake, &p, &marks).await.unwrap();
    let end = marks.end("wait zk3 serving");
    assert!(end.failed, "{end:?}");
    assert!(end.detail.as_deref().unwrap_or("").contains("zk3 did not reach"), "{end:?}");
    // The old server was still restarted afterwards, and the failure is in the notes.
    assert_eq!(ops_after_start(&fake, 1).last().map(String::as_str), Some("restart zk1"));
    assert!(out.notes.iter().any(|n| n.contains("zk3 did not serve")), "{:?}", out.notes);
}

#[tokio::test(start_paused = true)]
async fn procedure_rolling_leader_last_finds_the_leader_and_restarts_it_last() {
    let p = plan("kind = \"rolling-expand\"\nto = 5\norder = \"leader-last\"", 3, false);
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    run(&mut fake, &p, &marks).await.unwrap();
    // The fake's leader of {1,2,3} is zk1: it must be restarted after zk2 and zk3.
    let ops = ops_after_start(&fake, 3);
    assert_eq!(&ops[..2], ["start zk4", "start zk5"]);
    assert_eq!(&ops[2..], ["restart zk2", "restart zk3", "restart zk1"], "{ops:?}");
}

#[tokio::test(start_paused = true)]
async fn procedure_reconfig_retries_a_failed_add_and_marks_each_attempt() {
    let p = plan("kind = \"reconfig-expand\"\nto = 5\nauth = \"skip-acl\"\nmax_attempts = 3", 3, true);
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    *fake.reconfig_failures.lock().unwrap() = 1;
    let out = run(&mut fake, &p, &marks).await.unwrap();
    assert_eq!(out.target_ids, vec![1, 2, 3, 4, 5]);
    assert!(marks.end("reconfig add 4,5 attempt 1").failed);
    assert!(!marks.end("reconfig add 4,5 attempt 2").failed);
    let ops = ops_after_start(&fake, 3);
    assert_eq!(ops, ["start zk4", "start zk5", "reconfig add 4,5", "quorum write"]);
    // The joiners followed before being added, and the steps are in that order on the timeline.
    let starts = marks.starts();
    let pos = |l: &str| starts.iter().position(|s| s == l).unwrap();
    assert!(pos("wait zk5 following") < pos("reconfig add 4,5 attempt 1"), "{starts:?}");
    let converged = wait_converged(&fake, &out.target_ids, crate::record::Epoch::now(), Duration::from_secs(5), 3).await;
    assert!(converged.is_ok(), "{converged:?}");
}

#[tokio::test(start_paused = true)]
async fn procedure_reconfig_gives_up_after_max_attempts_with_the_last_error() {
    let p = plan("kind = \"reconfig-expand\"\nto = 5\nauth = \"skip-acl\"\nmax_attempts = 2", 3, true);
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    *fake.reconfig_failures.lock().unwrap() = 5;
    let err = run(&mut fake, &p, &marks).await.unwrap_err().to_string();
    assert!(err.contains("after 2 attempt(s)") && err.contains("ReconfigInProgress"), "{err}");
    assert!(marks.end("reconfig add 4,5 attempt 2").failed);
}

#[tokio::test(start_paused = true)]
async fn procedure_pause_leader_binds_the_current_leader_and_thaws_it() {
    let p = plan("kind = \"pause\"\ntarget = \"leader\"\nduration_ms = 3000", 3, false);
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    let t0 = tokio::time::Instant::now();
    run(&mut fake, &p, &marks).await.unwrap();
    assert!(t0.elapsed() >= Duration::from_secs(3), "the freeze lasts the planned 3 s (paused clock)");
    assert_eq!(ops_after_start(&fake, 3), ["pause zk1", "unpause zk1"]);
    let starts = marks.starts();
    assert_eq!(starts, ["docker pause zk1", "pause zk1", "docker unpause zk1"]);
}

#[tokio::test(start_paused = true)]
async fn procedure_convergence_is_not_reached_while_a_target_server_never_serves() {
    let p = plan("kind = \"restart-expand\"\nto = 3\norder = \"old-first\"", 1, false);
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    fake.never_serves.insert(2);
    let out = run(&mut fake, &p, &marks).await.unwrap();
    let r = wait_converged(&fake, &out.target_ids, crate::record::Epoch::now(), Duration::from_secs(3), 3).await;
    assert!(r.unwrap_err().contains("zk2"), "the reason names the server");
}
