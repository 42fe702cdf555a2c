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
    assert!(out.notes.iter().any(|n| n.contains("wait zk3 serving") && n.contains("zk3 did not reach")), "{:?}", out.notes);
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

/// A shrink that stops a leader among the leaving servers last: the survivors elect once, not
/// once per stop (stopping a just-elected leader leaves its followers trying to reach it for
/// initLimit ticks).
#[tokio::test(start_paused = true)]
async fn procedure_stop_leader_last_stops_the_leader_after_the_others() {
    let steps = "[[procedure.steps]]\naction = \"stop\"\nservers = [1, 2]\norder = \"leader-last\"";
    let p = runbook(3, false, steps).unwrap();
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    run(&mut fake, &p, &marks).await.unwrap();
    // The fake's leader of {1,2,3} is zk1: written first, stopped last.
    assert_eq!(ops_after_start(&fake, 3), ["stop zk2", "stop zk1"]);
    let point = marks.all().into_iter().find(|m| m.label == "stop order").expect("a `stop order` point");
    assert_eq!(point.detail.as_deref(), Some("zk2,zk1 (leader before: zk1)"));
    // Without `order`, the servers are stopped as written.
    let p = runbook(3, false, "[[procedure.steps]]\naction = \"stop\"\nservers = [1, 2]").unwrap();
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    run(&mut fake, &p, &marks).await.unwrap();
    assert_eq!(ops_after_start(&fake, 3), ["stop zk1", "stop zk2"]);
    assert!(!marks.all().iter().any(|m| m.label == "stop order"));
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
    let converged = wait_converged(&fake, &out.target_ids, &out.left_down, crate::record::Epoch::now(), Duration::from_secs(5), 3).await;
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
    assert_eq!(starts, ["docker pause zk1", "fault:pause zk1", "pause zk1", "docker unpause zk1"]);
    // The fault interval lies between the pause call's start and the unpause call's end.
    let at = |label: &str, kind: MarkKind| marks.all().into_iter().find(|m| m.label == label && m.kind == kind).unwrap().at_us;
    assert!(at("fault:pause zk1", MarkKind::Start) >= at("docker pause zk1", MarkKind::End));
    assert!(at("fault:pause zk1", MarkKind::End) <= at("docker unpause zk1", MarkKind::Start));
}

#[tokio::test(start_paused = true)]
async fn procedure_convergence_is_not_reached_while_a_target_server_never_serves() {
    let p = plan("kind = \"restart-expand\"\nto = 3\norder = \"old-first\"", 1, false);
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    fake.never_serves.insert(2);
    let out = run(&mut fake, &p, &marks).await.unwrap();
    let r = wait_converged(&fake, &out.target_ids, &out.left_down, crate::record::Epoch::now(), Duration::from_secs(3), 3).await;
    assert!(r.unwrap_err().contains("zk2"), "the reason names the server");
}

/// A runbook profile: `size` servers, dynamic or not, and the steps given as TOML tables.
fn runbook(size: u32, dynamic: bool, steps: &str) -> Result<Plan, crate::profile::ProfileError> {
    let text = format!("name = \"t\"\n[cluster]\nsize = {size}\ndynamic_config = {dynamic}\n[procedure]\nkind = \"steps\"\nauth = \"skip-acl\"\n{steps}\n");
    crate::profile::parse(&text, "test")
}

/// Position of a mark in the timeline (marks carry wall-clock times, which a paused tokio clock
/// does not move, so order is what the unit tests check).
fn pos(marks: &Marks, label: &str, kind: MarkKind) -> usize {
    marks.all().iter().position(|m| m.label == label && m.kind == kind).unwrap_or_else(|| panic!("no {kind:?} {label}"))
}

#[tokio::test(start_paused = true)]
async fn procedure_find_binds_the_leader_at_run_time_and_kill_is_a_fault_until_restart() {
    let steps = r#"
[[procedure.steps]]
action = "find"
role = "leader"
as = "L"
[[procedure.steps]]
action = "kill"
server = "L"
[[procedure.steps]]
action = "sleep"
duration_ms = 5000
[[procedure.steps]]
action = "start"
server = "L"
[[procedure.steps]]
action = "wait"
server = "L"
until = "serving"
"#;
    let p = runbook(3, false, steps).unwrap();
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    let t0 = tokio::time::Instant::now();
    let out = run(&mut fake, &p, &marks).await.unwrap();
    assert!(t0.elapsed() >= Duration::from_secs(5));
    // The fake's leader of {1,2,3} is zk1 (known only once the servers run).
    assert_eq!(ops_after_start(&fake, 3), ["kill zk1", "stop zk1", "restart zk1"]);
    assert_eq!(marks.starts(), ["kill zk1", "fault:kill zk1", "sleep", "start zk1", "wait zk1 serving"]);
    assert!(pos(&marks, "fault:kill zk1", MarkKind::Start) > pos(&marks, "kill zk1", MarkKind::End));
    assert!(pos(&marks, "fault:kill zk1", MarkKind::End) > pos(&marks, "start zk1", MarkKind::End));
    assert_eq!(out.target_ids, vec![1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn procedure_host_down_is_a_fault_until_host_up_and_needs_the_host_capability() {
    let steps = r#"
[[procedure.steps]]
action = "host-down"
server = 2
[[procedure.steps]]
action = "host-up"
server = 2
"#;
    let p = runbook(3, false, steps).unwrap();
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    run(&mut fake, &p, &marks).await.unwrap();
    assert_eq!(ops_after_start(&fake, 3), ["host-down zk2", "stop zk2", "host-up zk2"]);
    assert_eq!(marks.starts(), ["host-down zk2", "fault:host-down zk2", "host-up zk2"]);
    assert!(pos(&marks, "fault:host-down zk2", MarkKind::End) > pos(&marks, "host-up zk2", MarkKind::End));
    // A backend without hosts of its own (listed engines) refuses the runbook before any step.
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    fake.capabilities = Some(crate::cluster::Capabilities { kill: true, pause: true, ..Default::default() });
    let err = run(&mut fake, &p, &marks).await.unwrap_err().to_string();
    assert!(err.contains("0 (host-down)") && err.contains("`host` capability"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn procedure_a_leader_stopped_for_good_is_left_down_waited_for_by_no_one_and_read_offline() {
    let steps = r#"
[[procedure.steps]]
action = "find"
role = "leader"
as = "L"
[[procedure.steps]]
action = "stop"
server = "L"
[[procedure.steps]]
action = "wipe"
server = 3
"#;
    let p = runbook(5, false, steps).unwrap();
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    let out = run(&mut fake, &p, &marks).await.unwrap();
    // zk1 led; it and the wiped zk3 stay members but are left down.
    assert_eq!(out.target_ids, vec![1, 2, 3, 4, 5]);
    assert_eq!(out.left_down, vec![1, 3]);
    assert_eq!(out.wiped, vec![3]);
    assert_eq!(out.running_ids(), vec![2, 4, 5]);
    assert_eq!(out.offline_ids(), vec![1]);
    assert_eq!(out.down_since_us.keys().copied().collect::<Vec<_>>(), vec![1, 3]);
    assert!(out.down_since_us[&1] <= out.down_since_us[&3]);
    let note = out.left_down_note().unwrap();
    assert!(note.contains("zk1,zk3") && note.contains("waits for zk2,zk4,zk5") && note.contains("zk3 wiped"), "{note}");
    assert_eq!(ProcedureOutcome { target_ids: vec![1, 2, 3], ..Default::default() }.left_down_note(), None);
    // Not waited for: convergence is reached without them (the fake elects among 2, 4, 5).
    let t0 = tokio::time::Instant::now();
    let r = wait_converged(&fake, &out.target_ids, &out.left_down, crate::record::Epoch::now(), Duration::from_secs(60), 3).await;
    assert!(r.is_ok(), "{r:?}");
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    // Waiting for every member instead would wait the whole timeout.
    let r = wait_converged(&fake, &out.target_ids, &[], crate::record::Epoch::now(), Duration::from_secs(2), 3).await;
    assert!(r.unwrap_err().contains("zk1"));
}

#[tokio::test(start_paused = true)]
async fn procedure_removing_the_leader_shrinks_the_target_to_the_remaining_members() {
    let steps = r#"
[[procedure.steps]]
action = "find"
role = "leader"
as = "L"
[[procedure.steps]]
action = "reconfig"
remove = ["L"]
[[procedure.steps]]
action = "stop"
server = "L"
[[procedure.steps]]
action = "find"
role = "follower"
as = "F"
[[procedure.steps]]
action = "reconfig"
remove = ["F"]
[[procedure.steps]]
action = "quorum-write"
"#;
    let p = runbook(5, true, steps).unwrap();
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    let out = run(&mut fake, &p, &marks).await.unwrap();
    // zk1 led; the highest-id follower after that is zk5.
    assert_eq!(out.target_ids, vec![2, 3, 4]);
    assert!(marks.starts().contains(&"reconfig remove 1 attempt 1".to_string()), "{:?}", marks.starts());
    assert!(marks.starts().contains(&"reconfig remove 5 attempt 1".to_string()), "{:?}", marks.starts());
    let r = wait_converged(&fake, &out.target_ids, &out.left_down, crate::record::Epoch::now(), Duration::from_secs(5), 3).await;
    assert!(r.is_ok(), "{r:?}");
}

#[tokio::test(start_paused = true)]
async fn procedure_partition_marks_its_fault_interval_and_a_forgotten_heal_is_done_at_the_end() {
    let steps = r#"
[[procedure.steps]]
action = "partition"
server = 1
duration_ms = 20000
[[procedure.steps]]
action = "partition"
server = 3
[[procedure.steps]]
action = "delay"
server = 2
delay_ms = 100
jitter_ms = 20
"#;
    let p = runbook(3, false, steps).unwrap();
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    let t0 = tokio::time::Instant::now();
    let out = run(&mut fake, &p, &marks).await.unwrap();
    assert!(t0.elapsed() >= Duration::from_secs(20), "the partition lasts its 20 s (paused clock)");
    assert!(pos(&marks, "fault:partition zk1", MarkKind::Start) > pos(&marks, "network disconnect zk1", MarkKind::End));
    assert!(pos(&marks, "fault:partition zk1", MarkKind::End) < pos(&marks, "network connect zk1", MarkKind::Start));
    let ops = ops_after_start(&fake, 3);
    assert_eq!(&ops[..4], ["partition zk1", "heal zk1", "partition zk3", "delay zk2 delay 100ms 20ms"], "{ops:?}");
    // Left open by the runbook, undone by the procedure on its way out.
    assert!(ops.contains(&"heal zk3".to_string()) && ops.contains(&"undelay zk2".to_string()), "{ops:?}");
    assert!(out.notes.iter().any(|n| n.contains("partition of zk3 undone")), "{:?}", out.notes);
    marks.end("fault:partition zk3");
    marks.end("fault:delay zk2");
}

#[tokio::test(start_paused = true)]
async fn procedure_observers_are_added_then_promoted_into_the_target() {
    let steps = r#"
[[procedure.steps]]
action = "start"
servers = [4, 5]
config = "observer"
[[procedure.steps]]
action = "reconfig"
add = [4, 5]
role = "observer"
[[procedure.steps]]
action = "wait"
servers = [4, 5]
until = "observing"
on_timeout = "fail"
[[procedure.steps]]
action = "reconfig"
add = [4, 5]
[[procedure.steps]]
action = "quorum-write"
"#;
    let p = runbook(3, true, steps).unwrap();
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    let out = run(&mut fake, &p, &marks).await.unwrap();
    assert_eq!(out.target_ids, vec![1, 2, 3, 4, 5]);
    let starts = marks.starts();
    assert!(starts.contains(&"reconfig add 4,5 as observer attempt 1".to_string()) && starts.contains(&"reconfig add 4,5 attempt 1".to_string()), "{starts:?}");
}

#[tokio::test(start_paused = true)]
async fn procedure_builtins_expand_to_the_expected_steps_and_are_valid_runbooks() {
    use crate::plan::{ProcedurePlan, StepAction};
    let rolling = plan("kind = \"rolling-expand\"\nto = 5\norder = \"leader-last\"\nstep_gap_ms = 500", 3, false);
    let (steps, _) = runbooks::expand(&rolling);
    let actions: Vec<StepAction> = steps.iter().map(|s| s.action).collect();
    assert_eq!(actions, [StepAction::Start, StepAction::Start, StepAction::Wait, StepAction::Wait, StepAction::Restart]);
    assert_eq!(steps[4].servers.len(), 3);
    let reconfig = plan("kind = \"reconfig-expand\"\nto = 5\nstep = \"one-by-one\"", 3, true);
    let (steps, notes) = runbooks::expand(&reconfig);
    let actions: Vec<&str> = steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions, ["start", "wait", "reconfig", "start", "wait", "reconfig", "quorum-write"]);
    assert_eq!(notes, ["step one-by-one"]);
    // Every built-in, written out as a runbook, passes the runbook checks.
    for (proc, size, dynamic) in [
        ("kind = \"none\"", 3, false),
        ("kind = \"pause\"", 1, false),
        ("kind = \"restart-expand\"\nto = 3\norder = \"old-first\"", 1, false),
        ("kind = \"rolling-expand\"\nto = 5", 3, false),
        ("kind = \"reconfig-expand\"\nto = 5", 3, true),
    ] {
        let mut p = plan(proc, size, dynamic);
        let steps = runbooks::expand(&p).0;
        p.procedure = ProcedurePlan::Steps { steps, auth: Default::default() };
        crate::profile::validate(&p).unwrap_or_else(|e| panic!("{proc}: {e}"));
    }
}

#[test]
fn procedure_runbook_errors_name_the_step_and_field_before_anything_starts() {
    let err = |size, dynamic, steps: &str| runbook(size, dynamic, steps).unwrap_err().to_string();
    let e = err(3, false, "[[procedure.steps]]\naction = \"kill\"\nserver = \"L\"");
    assert!(e.contains("procedure.steps[0].server") && e.contains("not bound") && e.contains("as = \"L\""), "{e}");
    let e = err(3, false, "[[procedure.steps]]\naction = \"stop\"\nserver = 4");
    assert!(e.contains("procedure.steps[0].server = 4") && e.contains("does not exist"), "{e}");
    let e = err(3, false, "[[procedure.steps]]\naction = \"reconfig\"\nremove = [3]");
    assert!(e.contains("procedure.steps[0].action") && e.contains("static ensemble"), "{e}");
    let e = err(1, true, "[[procedure.steps]]\naction = \"reconfig\"\nremove = [1]");
    assert!(e.contains("procedure.steps[0].remove") && e.contains("last voting member"), "{e}");
    let e = err(3, true, "[[procedure.steps]]\naction = \"sleep\"\nduration_ms = 5\n[[procedure.steps]]\naction = \"kill\"\nadd = [2]");
    assert!(e.contains("procedure.steps[1].add") && e.contains("for action \"kill\""), "{e}");
    let e = err(3, true, "[[procedure.steps]]\naction = \"partiton\"\nserver = 1");
    assert!(e.contains("procedure.steps[0].action") && e.contains("did you mean \"partition\""), "{e}");
    // A joiner may be added once started; before that it does not exist.
    let e = err(3, true, "[[procedure.steps]]\naction = \"reconfig\"\nadd = [4]");
    assert!(e.contains("procedure.steps[0].add") && e.contains("zk4"), "{e}");
    runbook(3, true, "[[procedure.steps]]\naction = \"start\"\nserver = 4\n[[procedure.steps]]\naction = \"reconfig\"\nadd = [4]").unwrap();
    // A member removed by name and added back by name counts as a member again: three
    // remove/add-back cycles of "the leader" of three servers never leave the ensemble empty.
    let cycle = |n: u32| format!("[[procedure.steps]]\naction = \"find\"\nrole = \"leader\"\nas = \"L{n}\"\n[[procedure.steps]]\naction = \"reconfig\"\nremove = [\"L{n}\"]\n[[procedure.steps]]\naction = \"reconfig\"\nadd = [\"L{n}\"]\n");
    runbook(3, true, &(1..=3).map(cycle).collect::<String>()).unwrap();
    let e = err(3, true, &(1..=3).map(|n| format!("[[procedure.steps]]\naction = \"find\"\nrole = \"leader\"\nas = \"L{n}\"\n[[procedure.steps]]\naction = \"reconfig\"\nremove = [\"L{n}\"]\n")).collect::<String>());
    assert!(e.contains("procedure.steps[5].remove") && e.contains("last voting member"), "{e}");
}

/// The built-in runbook profiles shipped under profiles/ (the contract checked from outside).
pub const RUNBOOK_PROFILES: [&str; 13] = [
    "reconfig-5to3",
    "reconfig-5to3-leader",
    "rolling-5to3",
    "rolling-5to3-restart-first",
    "rollback-3to5to3",
    "rollback-1to3to1to3",
    "observer-3plus2",
    "kill-leader-3",
    "pause-follower-3",
    "partition-leader-3",
    "delay-leader-3",
    "expand-under-fault",
    "stop-follower-then-leader-5",
];

#[test]
fn procedure_shipped_runbook_profiles_load_and_end_with_their_target_size() {
    let expected_to = [3, 3, 3, 3, 3, 3, 5, 3, 3, 3, 3, 5, 5];
    for (name, to) in RUNBOOK_PROFILES.iter().zip(expected_to) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles").join(format!("{name}.toml"));
        let loaded = crate::profile::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(loaded.plan.name, *name);
        assert_eq!(loaded.plan.procedure.target_size(loaded.plan.cluster.size), to, "{name}");
        // `zkchaos run` warns before the one shipped runbook that sets up two member lists'
        // majorities at once, and before no other.
        let crate::plan::ProcedurePlan::Steps { steps, .. } = &loaded.plan.procedure else { panic!("{name}: not a runbook") };
        let warning = super::restart::split_view_warning(loaded.plan.cluster.size, loaded.plan.cluster.dynamic_config, steps);
        assert_eq!(warning.is_some(), *name == "rolling-5to3-restart-first", "{name}: {warning:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn procedure_needing_a_missing_capability_is_refused_before_its_first_step() {
    let steps = "[[procedure.steps]]\naction = \"sleep\"\nduration_ms = 1000\n[[procedure.steps]]\naction = \"partition\"\nserver = 2\nduration_ms = 1000";
    let p = runbook(3, false, steps).unwrap();
    let (mut fake, marks) = (FakeBackend::new(), Marks::default());
    fake.capabilities = Some(crate::cluster::Capabilities { kill: true, pause: true, ..Default::default() });
    let err = run(&mut fake, &p, &marks).await.unwrap_err().to_string();
    assert!(err.contains("1 (partition)") && err.contains("`partition` capability"), "{err}");
    assert!(marks.all().is_empty(), "nothing ran: {:?}", marks.all());
}
