//! Rendering a drawn schedule as an ordinary runbook profile (the step language of
//! `[[procedure.steps]]`), so `zkchaos run` replays it and the hunt runs exactly what it wrote.
//!
//! Each fault becomes "down" steps at its start and "up" steps at its end (kill → start + wait
//! serving, stop → start + wait serving, host-down → host-up + wait serving, pause → unpause,
//! partition → heal); a role target is bound by a `find` step just before. The events are laid on
//! one timeline and `sleep` steps fill the planned gaps. Every fault is healed by the end of the
//! runbook; the run then waits for convergence and audits every server, as any run does.
//!
//! Membership changes use the step language's reconfig steps in the order the shipped runbooks
//! use (`reconfig-5to3-leader`, `rollback-3to5to3`): a server **leaves** by `reconfig remove`,
//! `wait until = "leader"` (removing the leader hands leadership off), `quorum-write` (a committed
//! config is active only after one) and `stop`; it **joins** by `start config = "joiner"` (the
//! committed config plus itself; a removed server keeps its data), `wait until = "following"`
//! (`on_timeout = "fail"`: add a participant only once it has synced), `reconfig add` and
//! `quorum-write`. `reconfig-remove` is leave … join, `reconfig-add` (a spare) join … leave, so
//! the runbook ends with the membership it started with.

use super::draw::{DrawnFault, Schedule};
use super::space::{Action, Target};
use toml::{Table, Value};

fn step(action: &str) -> Table {
    let mut t = Table::new();
    t.insert("action".into(), Value::String(action.into()));
    t
}

fn with(mut t: Table, key: &str, v: impl Into<Value>) -> Table {
    t.insert(key.into(), v.into());
    t
}

fn ids(ids: &[u32]) -> Value {
    Value::Array(ids.iter().map(|&i| Value::Integer(i64::from(i))).collect())
}

/// The `servers` value of fault `i`: its drawn ids, or the name its `find` bound.
fn servers(f: &DrawnFault, i: usize) -> Value {
    if f.ids.is_empty() {
        Value::Array(vec![Value::String(bind_name(f, i))])
    } else {
        ids(&f.ids)
    }
}

fn bind_name(f: &DrawnFault, i: usize) -> String {
    let letter = if f.target == Target::Leader { "L" } else { "F" };
    format!("{letter}{}", i + 1)
}

/// `servers` leave the ensemble: reconfig remove, a leader among the rest, a quorum write, stop.
fn leave(servers: &Value) -> Vec<Table> {
    vec![
        with(step("reconfig"), "remove", servers.clone()),
        with(step("wait"), "until", "leader"),
        step("quorum-write"),
        with(step("stop"), "servers", servers.clone()),
    ]
}

/// `servers` join the ensemble: started as joiners, synced, reconfig add, a quorum write.
fn join(servers: &Value) -> Vec<Table> {
    vec![
        with(with(step("start"), "servers", servers.clone()), "config", "joiner"),
        with(with(with(step("wait"), "servers", servers.clone()), "until", "following"), "on_timeout", "fail"),
        with(step("reconfig"), "add", servers.clone()),
        step("quorum-write"),
    ]
}

/// The steps that start fault `i`.
fn down_steps(f: &DrawnFault, i: usize, size: u32) -> Vec<Table> {
    let mut out = Vec::new();
    if f.action == Action::RollingRestart {
        let all: Vec<u32> = (1..=size).collect();
        let t = with(with(with(step("restart"), "servers", ids(&all)), "order", f.order.unwrap_or("ids")), "gap_ms", f.duration_ms as i64);
        out.push(t);
        return out;
    }
    if f.target.is_role() {
        let role = if f.target == Target::Leader { "leader" } else { "follower" };
        out.push(with(with(with(step("find"), "role", role), "as", bind_name(f, i)), "servers", ids(&f.among)));
    }
    match f.action {
        Action::ReconfigRemove => {
            out.extend(leave(&servers(f, i)));
            return out;
        }
        Action::ReconfigAdd => return join(&servers(f, i)),
        _ => {}
    }
    let action = match f.action {
        Action::Kill => "kill",
        Action::Stop => "stop",
        Action::Restart => "restart",
        Action::Pause => "pause",
        Action::Partition => "partition",
        Action::HostDown => "host-down",
        Action::RollingRestart | Action::ReconfigRemove | Action::ReconfigAdd => unreachable!("handled above"),
    };
    out.push(with(step(action), "servers", servers(f, i)));
    out
}

/// The steps that end fault `i` (none for a point fault).
fn up_steps(f: &DrawnFault, i: usize) -> Vec<Table> {
    let s = servers(f, i);
    let serving = with(with(step("wait"), "servers", s.clone()), "until", "serving");
    match f.action {
        Action::Kill | Action::Stop => vec![with(step("start"), "servers", s), serving],
        Action::HostDown => vec![with(step("host-up"), "servers", s), serving],
        Action::Pause => vec![with(step("unpause"), "servers", s)],
        Action::Partition => vec![with(step("heal"), "servers", s)],
        Action::ReconfigRemove => join(&s),
        Action::ReconfigAdd => leave(&s),
        Action::Restart | Action::RollingRestart => vec![],
    }
}

/// The whole step list of a schedule, with sleeps for the planned gaps.
pub fn steps(schedule: &Schedule, size: u32) -> Vec<Table> {
    // (time, 0 = up before 1 = down at the same instant, fault index)
    let mut events: Vec<(u64, u8, usize)> = Vec::new();
    for (i, f) in schedule.faults.iter().enumerate() {
        events.push((f.start_ms, 1, i));
        if !f.action.is_point() {
            events.push((f.end_ms(), 0, i));
        }
    }
    events.sort_unstable();
    let mut out = Vec::new();
    let mut now = 0u64;
    for (t, kind, i) in events {
        if t > now {
            // Before an up step the sleep is the fault's duration; otherwise a gap.
            let label = if kind == 0 { format!("hunt: fault {} held", i + 1) } else { "hunt gap".to_string() };
            out.push(with(with(step("sleep"), "duration_ms", (t - now) as i64), "label", label));
            now = t;
        }
        let f = &schedule.faults[i];
        out.extend(if kind == 1 { down_steps(f, i, size) } else { up_steps(f, i) });
    }
    out
}

/// Where a runbook came from, written as its header and into hunt.json.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub source: String,
    pub hunt_seed: u64,
    pub trial: u32,
    pub trial_seed: u64,
    pub load_seed: u64,
    pub image: String,
    pub schedule: Vec<String>,
}

/// Overrides of the base profile every trial's runbook carries (so a replay runs the same).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BaseOverrides {
    pub warmup_s: Option<f64>,
    pub post_s: Option<f64>,
    pub rate: Option<u32>,
}

fn set_in(table: &mut Table, section: &str, key: &str, v: Value) {
    let entry = table.entry(section.to_string()).or_insert_with(|| Value::Table(Table::new()));
    if let Value::Table(t) = entry {
        t.insert(key.into(), v);
    }
}

/// The base profile with name, seed, image and overrides set (procedure not yet set).
pub fn prepare_base(base: &Table, name: &str, load_seed: u64, image: &str, o: &BaseOverrides) -> Table {
    let mut t = base.clone();
    t.insert("name".into(), Value::String(name.into()));
    t.insert("seed".into(), Value::Integer(load_seed as i64));
    set_in(&mut t, "cluster", "image", Value::String(image.into()));
    if let Some(w) = o.warmup_s {
        set_in(&mut t, "phases", "warmup_s", Value::Float(w));
    }
    if let Some(p) = o.post_s {
        set_in(&mut t, "phases", "post_s", Value::Float(p));
    }
    if let Some(r) = o.rate {
        set_in(&mut t, "load", "rate", Value::Integer(i64::from(r)));
    }
    t
}

/// The runbook text: a header naming the seeds and the schedule, then the profile.
pub fn runbook_text(profile: &Table, steps: Vec<Table>, p: &Provenance) -> String {
    let mut t = profile.clone();
    let mut procedure = match t.remove("procedure") {
        Some(Value::Table(p)) => p,
        _ => Table::new(),
    };
    procedure.insert("kind".into(), Value::String("steps".into()));
    procedure.insert("steps".into(), Value::Array(steps.into_iter().map(Value::Table).collect()));
    t.insert("procedure".into(), Value::Table(procedure));
    let mut head = format!(
        "# zkchaos hunt: trial {} of {} (hunt seed {}, trial seed {}, load seed {}), image {}.\n\
         # Replay with `zkchaos run <this file>`: the same schedule and load mix, not the same\n\
         # outcome (elections, timing and which server a `find` picks are not replayed).\n",
        p.trial, p.source, p.hunt_seed, p.trial_seed, p.load_seed, p.image
    );
    for (i, s) in p.schedule.iter().enumerate() {
        head.push_str(&format!("# fault {}: {s}\n", i + 1));
    }
    head.push('\n');
    head + &toml::to_string(&t).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(action: Action, target: Target, ids: Vec<u32>, start_ms: u64, duration_ms: u64) -> DrawnFault {
        DrawnFault { action, target, ids, among: vec![1, 2, 3], start_ms, duration_ms, order: None }
    }

    #[test]
    fn a_kill_of_the_leader_is_find_kill_sleep_start_wait() {
        let s = Schedule { trial_seed: 1, load_seed: 2, faults: vec![fault(Action::Kill, Target::Leader, vec![], 1000, 3000)] };
        let st = steps(&s, 3);
        let actions: Vec<&str> = st.iter().map(|t| t["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["sleep", "find", "kill", "sleep", "start", "wait"]);
        assert_eq!(st[2]["servers"], Value::Array(vec![Value::String("L1".into())]));
        assert_eq!(st[3]["duration_ms"].as_integer(), Some(3000));
    }

    #[test]
    fn overlapping_faults_interleave_and_every_one_is_healed() {
        let s = Schedule {
            trial_seed: 1,
            load_seed: 2,
            faults: vec![fault(Action::Partition, Target::Random, vec![2], 0, 4000), fault(Action::Pause, Target::Random, vec![3], 1000, 1000)],
        };
        let st = steps(&s, 3);
        let shown: Vec<String> = st.iter().map(|t| format!("{} {}", t["action"].as_str().unwrap(), t.get("servers").or(t.get("duration_ms")).unwrap())).collect();
        assert_eq!(shown, ["partition [2]", "sleep 1000", "pause [3]", "sleep 1000", "unpause [3]", "sleep 2000", "heal [2]"]);
    }

    fn shown(st: &[Table]) -> Vec<String> {
        st.iter()
            .map(|t| {
                let mut s = t["action"].as_str().unwrap().to_string();
                for k in ["role", "as", "remove", "add", "servers", "config", "until", "on_timeout", "duration_ms"] {
                    if let Some(v) = t.get(k) {
                        s.push_str(&format!(" {k}={v}"));
                    }
                }
                s
            })
            .collect()
    }

    #[test]
    fn removing_the_leader_leaves_by_reconfig_then_joins_back_with_its_data() {
        let s = Schedule { trial_seed: 1, load_seed: 2, faults: vec![fault(Action::ReconfigRemove, Target::Leader, vec![], 500, 3000)] };
        assert_eq!(
            shown(&steps(&s, 3)),
            [
                "sleep duration_ms=500",
                "find role=\"leader\" as=\"L1\" servers=[1, 2, 3]",
                "reconfig remove=[\"L1\"]",
                "wait until=\"leader\"",
                "quorum-write",
                "stop servers=[\"L1\"]",
                "sleep duration_ms=3000",
                "start servers=[\"L1\"] config=\"joiner\"",
                "wait servers=[\"L1\"] until=\"following\" on_timeout=\"fail\"",
                "reconfig add=[\"L1\"]",
                "quorum-write",
            ]
        );
    }

    #[test]
    fn a_spare_joins_then_leaves_again() {
        let s = Schedule { trial_seed: 1, load_seed: 2, faults: vec![fault(Action::ReconfigAdd, Target::Random, vec![4], 0, 2000)] };
        assert_eq!(
            shown(&steps(&s, 3)),
            [
                "start servers=[4] config=\"joiner\"",
                "wait servers=[4] until=\"following\" on_timeout=\"fail\"",
                "reconfig add=[4]",
                "quorum-write",
                "sleep duration_ms=2000",
                "reconfig remove=[4]",
                "wait until=\"leader\"",
                "quorum-write",
                "stop servers=[4]",
            ]
        );
    }

    #[test]
    fn the_runbook_is_a_valid_profile_with_its_seeds_in_the_header() {
        let base: Table = toml::from_str("name = \"h\"\n[cluster]\nsize = 3\n[load]\nrate = 100\n").unwrap();
        let s = Schedule { trial_seed: 9, load_seed: 5, faults: vec![fault(Action::Stop, Target::Follower, vec![], 0, 2000)] };
        let prof = prepare_base(&base, "h-t001", 5, "zkchaos/zookeeper:3.8.0", &BaseOverrides { warmup_s: Some(2.0), ..Default::default() });
        let p = Provenance { source: "x.toml".into(), hunt_seed: 7, trial: 1, trial_seed: 9, load_seed: 5, image: "zkchaos/zookeeper:3.8.0".into(), schedule: vec!["stop follower".into()] };
        let text = runbook_text(&prof, steps(&s, 3), &p);
        assert!(text.starts_with("# zkchaos hunt: trial 1 of x.toml (hunt seed 7, trial seed 9, load seed 5)"), "{text}");
        let plan = crate::profile::parse(&text, "t").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(plan.seed, Some(5));
        assert_eq!(plan.phases.warmup_s, 2.0);
    }
}
