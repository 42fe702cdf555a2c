//! Checks of a runbook (`[[procedure.steps]]`): which keys each action takes (the schema walk),
//! then a dry run over the step list that tracks which servers exist, the voting membership and
//! the names bound by `find` steps, so a runbook that refers to a server that does not exist at
//! that point, reconfigures a static ensemble or removes the last voting member is rejected —
//! naming the step index and field — before any container starts.

use super::schema::{check_keys_of, StepTy};
use super::ProfileError;
use crate::plan::{ClusterPlan, ServerRef, StartConfig, Step, StepAction, StepRole, WaitUntil};
use std::collections::BTreeSet;
use toml::{Table, Value};

const MAX_STEPS: usize = 500;
const MAX_MS: u64 = 3_600_000;
const MAX_ID: u32 = 9;

const ACTIONS: &[&str] = &[
    "start",
    "restart",
    "stop",
    "kill",
    "wipe",
    "host-down",
    "host-up",
    "pause",
    "unpause",
    "partition",
    "heal",
    "delay",
    "undelay",
    "reconfig",
    "quorum-write",
    "wait",
    "find",
    "sleep",
];
const SERVER: (&str, StepTy, &str) =
    ("server", StepTy::Ref, "a server id, or a name bound by a find step (as = \"L\")");
const SERVERS: (&str, StepTy, &str) = ("servers", StepTy::RefList, "a list of server ids or bound names");
const MEMBERS: (&str, StepTy, &str) = ("members", StepTy::RefList, "the member list, e.g. [1, 2, 3]");
const CONFIG: (&str, StepTy, &str) = (
    "config",
    StepTy::Enum(&["static", "standalone", "dynamic", "joiner", "observer"]),
    "\"static\", \"standalone\", \"dynamic\", \"joiner\" or \"observer\"",
);
const DURATION: (&str, StepTy, &str) = ("duration_ms", StepTy::U64, "milliseconds");
const TIMEOUT: (&str, StepTy, &str) = ("timeout_ms", StepTy::U64, "milliseconds");
const ORDER: (&str, StepTy, &str) = (
    "order",
    StepTy::Enum(&["ids", "leader-first", "leader-last"]),
    "\"ids\", \"leader-first\" or \"leader-last\"",
);
const ON_TIMEOUT: (&str, StepTy, &str) =
    ("on_timeout", StepTy::Enum(&["continue", "fail"]), "\"continue\" or \"fail\"");

/// The keys of a step with this action (besides `action`).
fn step_keys(action: &str) -> Vec<(&'static str, StepTy, &'static str)> {
    match action {
        "start" => vec![SERVER, SERVERS, CONFIG, MEMBERS],
        "restart" => vec![
            SERVER,
            SERVERS,
            CONFIG,
            MEMBERS,
            ORDER,
            ("wait", StepTy::Bool, "true or false"),
            ("gap_ms", StepTy::U64, "milliseconds"),
            TIMEOUT,
            ON_TIMEOUT,
        ],
        "stop" | "kill" | "wipe" | "host-down" => vec![SERVER, SERVERS, ORDER],
        "host-up" => vec![SERVER, SERVERS],
        "pause" | "partition" => vec![SERVER, SERVERS, DURATION],
        "delay" => vec![
            SERVER,
            SERVERS,
            DURATION,
            ("delay_ms", StepTy::U32, "milliseconds"),
            ("jitter_ms", StepTy::U32, "milliseconds"),
            ("loss_pct", StepTy::F64, "percent of packets, 0 to 100"),
        ],
        "reconfig" => vec![
            ("add", StepTy::RefList, "servers to add, e.g. [4, 5]"),
            ("remove", StepTy::RefList, "servers to remove, e.g. [5] or [\"L\"]"),
            MEMBERS,
            ("role", StepTy::Enum(&["participant", "observer"]), "\"participant\" or \"observer\""),
            ("max_attempts", StepTy::U32, "at least 1"),
        ],
        "quorum-write" => vec![],
        "wait" => vec![
            SERVER,
            SERVERS,
            (
                "until",
                StepTy::Enum(&["serving", "following", "observing", "leader", "converged"]),
                "\"serving\", \"following\", \"observing\", \"leader\" or \"converged\"",
            ),
            TIMEOUT,
            ON_TIMEOUT,
        ],
        "find" => vec![
            ("role", StepTy::Enum(&["leader", "follower"]), "\"leader\" or \"follower\""),
            ("as", StepTy::Str, "the name later steps use, e.g. as = \"L\""),
            SERVERS,
            TIMEOUT,
        ],
        "sleep" => vec![DURATION, ("label", StepTy::Str, "the step's mark label")],
        // unpause, heal, undelay
        _ => vec![SERVER, SERVERS],
    }
}

/// Schema walk of step `i`: `action` is present and valid, every other key belongs to it.
pub(super) fn check_step_keys(t: &Table, i: usize) -> Result<(), ProfileError> {
    let prefix = format!("procedure.steps[{i}].");
    let action = match t.get("action") {
        None => {
            return Err(ProfileError::MissingKey {
                key: format!("{prefix}action"),
                detail: format!("every step needs an action; valid: {}", ACTIONS.join(", ")),
            })
        }
        Some(Value::String(a)) if ACTIONS.contains(&a.as_str()) => a.clone(),
        Some(other) => {
            let shown = other.to_string();
            let hint = other
                .as_str()
                .and_then(|a| super::schema::closest(a, ACTIONS))
                .map(|c| format!("did you mean \"{c}\"? "))
                .unwrap_or_default();
            return Err(ProfileError::Invalid {
                field: format!("{prefix}action"),
                value: shown,
                reason: format!("is not an action; {hint}valid: {}", ACTIONS.join(", ")),
            });
        }
    };
    let mut rest = t.clone();
    rest.remove("action");
    check_keys_of(&rest, &step_keys(&action), &prefix).map_err(|e| match e {
        ProfileError::UnknownKey { key, hint } => {
            ProfileError::UnknownKey { key, hint: format!("{hint} (for action \"{action}\")") }
        }
        e => e,
    })
}

fn invalid(i: usize, field: &str, value: impl ToString, reason: impl Into<String>) -> ProfileError {
    ProfileError::Invalid {
        field: format!("procedure.steps[{i}].{field}"),
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// The dry run: what exists and what is bound at each step.
struct Sim {
    existing: BTreeSet<u32>,
    voting: BTreeSet<u32>,
    /// Names of voting members removed by reconfig (which server is known only at run time);
    /// a name added back leaves the set.
    removed_by_name: BTreeSet<String>,
    names: BTreeSet<String>,
}

impl Sim {
    fn voting_count(&self) -> usize {
        self.voting.len().saturating_sub(self.removed_by_name.len())
    }

    /// `r` names a server that exists now (or, with `new_ok`, may be created by this step).
    fn check_ref(&self, i: usize, field: &str, r: &ServerRef, new_ok: bool) -> Result<(), ProfileError> {
        match r {
            ServerRef::Id(id) if *id == 0 || *id > MAX_ID => Err(invalid(i, field, id, format!("is not a server id: ids run from 1 to {MAX_ID}"))),
            ServerRef::Id(id) if !new_ok && !self.existing.contains(id) => Err(invalid(
                i,
                field,
                id,
                format!("refers to zk{id}, which does not exist at this step (servers then: {:?}); start it in an earlier step", self.existing),
            )),
            ServerRef::Name(n) if !self.names.contains(n) => Err(invalid(
                i,
                field,
                format!("{n:?}"),
                format!("is not bound at this step: bind it first with a find step, e.g. action = \"find\", role = \"leader\", as = {n:?}"),
            )),
            _ => Ok(()),
        }
    }
}

/// Check a runbook against the initial ensemble `c`.
pub(super) fn validate_steps(steps: &[Step], c: &ClusterPlan) -> Result<(), ProfileError> {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(ProfileError::Invalid {
            field: "procedure.steps".into(),
            value: format!("{} steps", steps.len()),
            reason: format!("a runbook has 1 to {MAX_STEPS} steps; add [[procedure.steps]] tables"),
        });
    }
    let initial: BTreeSet<u32> = (1..=c.size).collect();
    let mut sim = Sim { existing: initial.clone(), voting: initial, removed_by_name: BTreeSet::new(), names: BTreeSet::new() };
    for (i, s) in steps.iter().enumerate() {
        validate_step(&mut sim, i, s, c)?;
    }
    Ok(())
}

fn validate_step(sim: &mut Sim, i: usize, s: &Step, c: &ClusterPlan) -> Result<(), ProfileError> {
    let action = s.action.as_str();
    let targets = s.targets();
    let starts = s.action == StepAction::Start;
    for r in &targets {
        sim.check_ref(i, if s.server.as_ref() == Some(r) { "server" } else { "servers" }, r, starts)?;
    }
    let needs_target = !matches!(
        s.action,
        StepAction::Heal
            | StepAction::Undelay
            | StepAction::Reconfig
            | StepAction::QuorumWrite
            | StepAction::Find
            | StepAction::Sleep
            | StepAction::Wait
    );
    if needs_target && targets.is_empty() {
        return Err(ProfileError::MissingKey {
            key: format!("procedure.steps[{i}].server"),
            detail: format!(
                "action \"{action}\" needs the server it acts on: add server = 2 (or a bound name, or servers = [..])"
            ),
        });
    }
    if let Some(ms) = s.duration_ms {
        if ms == 0 || ms > MAX_MS {
            return Err(invalid(i, "duration_ms", ms, format!("is out of range: use 1 to {MAX_MS} ms")));
        }
    }
    let dynamic_only = |what: &str| {
        invalid(i, "action", format!("{action:?}"), format!("cannot {what} on a static ensemble: reconfig needs dynamic configuration; set cluster.dynamic_config = true"))
    };
    match s.action {
        StepAction::Start | StepAction::Restart => validate_start(sim, i, s, c)?,
        StepAction::Delay => validate_delay(i, s)?,
        StepAction::Reconfig | StepAction::QuorumWrite if !c.dynamic_config => {
            return Err(dynamic_only(if s.action == StepAction::Reconfig {
                "reconfigure"
            } else {
                "issue a reconfig quorum write"
            }))
        }
        StepAction::Reconfig => validate_reconfig(sim, i, s)?,
        StepAction::Wait => {
            let until = s.until.unwrap_or(WaitUntil::Serving);
            let per_server = matches!(until, WaitUntil::Serving | WaitUntil::Following | WaitUntil::Observing);
            if per_server && targets.is_empty() {
                return Err(ProfileError::MissingKey {
                    key: format!("procedure.steps[{i}].server"),
                    detail: format!("wait until = \"{}\" needs the server to wait for; add server = 2", until.as_str()),
                });
            }
        }
        StepAction::Find => validate_find(sim, i, s)?,
        StepAction::Sleep if s.duration_ms.is_none() => {
            return Err(ProfileError::MissingKey {
                key: format!("procedure.steps[{i}].duration_ms"),
                detail: "a sleep step needs its length, e.g. duration_ms = 5000".into(),
            });
        }
        _ => {}
    }
    Ok(())
}

/// `start` and `restart`: the config against the ensemble's kind, the member list, and what
/// the simulated membership becomes.
fn validate_start(sim: &mut Sim, i: usize, s: &Step, c: &ClusterPlan) -> Result<(), ProfileError> {
    let action = s.action.as_str();
    let targets = s.targets();
    let starts = s.action == StepAction::Start;
    let dynamic_only = |what: &str| {
        invalid(i, "action", format!("{action:?}"), format!("cannot {what} on a static ensemble: reconfig needs dynamic configuration; set cluster.dynamic_config = true"))
    };
    match s.config {
        Some(StartConfig::Joiner | StartConfig::Observer) if !c.dynamic_config => {
            return Err(dynamic_only("start a joiner or observer"))
        }
        Some(StartConfig::Joiner | StartConfig::Observer) if s.action == StepAction::Restart => {
            return Err(invalid(
                i,
                "config",
                format!("{:?}", s.config.map(config_name).unwrap_or_default()),
                "applies to start only; a restart takes \"static\", \"standalone\" or \"dynamic\"",
            ))
        }
        Some(StartConfig::Static | StartConfig::Standalone) if c.dynamic_config => {
            return Err(invalid(
                i,
                "config",
                format!("{:?}", s.config.map(config_name).unwrap_or_default()),
                "conflicts with cluster.dynamic_config = true; use \"dynamic\", \"joiner\" or \"observer\"",
            ))
        }
        _ => {}
    }
    if let Some(m) = &s.members {
        if m.is_empty() {
            return Err(invalid(i, "members", "[]", "is empty: list at least one server"));
        }
        for r in m {
            sim.check_ref(i, "members", r, true)?;
        }
        if s.config.is_none() {
            return Err(invalid(
                i,
                "members",
                format!("{} servers", m.len()),
                "needs config = \"static\" or \"dynamic\" to say how the list is written",
            ));
        }
        sim.voting =
            m.iter().filter_map(|r| if let ServerRef::Id(id) = r { Some(*id) } else { None }).collect();
        sim.removed_by_name.clear();
    } else if matches!(s.config, Some(StartConfig::Static | StartConfig::Dynamic))
        || (starts && s.config.is_none() && !c.dynamic_config)
    {
        sim.voting
            .extend(targets.iter().filter_map(|r| if let ServerRef::Id(id) = r { Some(*id) } else { None }));
    }
    sim.existing
        .extend(targets.iter().filter_map(|r| if let ServerRef::Id(id) = r { Some(*id) } else { None }));
    Ok(())
}

/// `delay`: a delay or a loss, within range, jitter at most the delay.
fn validate_delay(i: usize, s: &Step) -> Result<(), ProfileError> {
    let (d, j, l) = (s.delay_ms.unwrap_or(0), s.jitter_ms.unwrap_or(0), s.loss_pct.unwrap_or(0.0));
    if d == 0 && l == 0.0 {
        return Err(ProfileError::MissingKey {
            key: format!("procedure.steps[{i}].delay_ms"),
            detail: "a delay step needs delay_ms (e.g. 100) or loss_pct".into(),
        });
    }
    if d > 10_000 {
        return Err(invalid(i, "delay_ms", d, "is too long: use at most 10000 ms"));
    }
    if j > d {
        return Err(invalid(
            i,
            "jitter_ms",
            j,
            format!("is larger than delay_ms ({d}): use a jitter of at most the delay"),
        ));
    }
    if !(0.0..=100.0).contains(&l) || !l.is_finite() {
        return Err(invalid(i, "loss_pct", l, "is not a percentage: use 0 to 100"));
    }
    Ok(())
}

/// `find`: a name to bind (not a number) and a role it can find.
fn validate_find(sim: &mut Sim, i: usize, s: &Step) -> Result<(), ProfileError> {
    let name = s.bind.as_deref().unwrap_or("");
    if name.is_empty() || name.chars().all(|ch| ch.is_ascii_digit()) || name.len() > 40 {
        return Err(ProfileError::MissingKey {
            key: format!("procedure.steps[{i}].as"),
            detail:
                "a find step binds a name for later steps: add as = \"L\" (1 to 40 characters, not a number)"
                    .into(),
        });
    }
    if !matches!(s.role, None | Some(StepRole::Leader | StepRole::Follower)) {
        return Err(invalid(
            i,
            "role",
            format!("{:?}", s.role.map(StepRole::as_str).unwrap_or_default()),
            "find looks for a \"leader\" or a \"follower\"",
        ));
    }
    sim.names.insert(name.to_string());
    Ok(())
}

fn config_name(c: StartConfig) -> &'static str {
    match c {
        StartConfig::Static => "static",
        StartConfig::Standalone => "standalone",
        StartConfig::Dynamic => "dynamic",
        StartConfig::Joiner => "joiner",
        StartConfig::Observer => "observer",
    }
}

fn validate_reconfig(sim: &mut Sim, i: usize, s: &Step) -> Result<(), ProfileError> {
    let given = [!s.add.is_empty(), !s.remove.is_empty(), s.members.is_some()].iter().filter(|b| **b).count();
    if given != 1 {
        return Err(invalid(
            i,
            "action",
            "\"reconfig\"",
            "needs exactly one of add = [..], remove = [..] or members = [..] (one change per step)",
        ));
    }
    if let Some(n) = s.max_attempts {
        if n == 0 || n > 100 {
            return Err(invalid(i, "max_attempts", n, "is out of range: a reconfig is tried 1 to 100 times"));
        }
    }
    if s.role.is_some() && s.add.is_empty() {
        return Err(invalid(
            i,
            "role",
            format!("{:?}", s.role.map(StepRole::as_str).unwrap_or_default()),
            "applies to add only",
        ));
    }
    for r in &s.add {
        sim.check_ref(i, "add", r, false)?;
    }
    for r in &s.remove {
        sim.check_ref(i, "remove", r, false)?;
    }
    if let Some(m) = &s.members {
        if m.is_empty() {
            return Err(invalid(i, "members", "[]", "is empty: an ensemble needs at least one voting member"));
        }
        for r in m {
            sim.check_ref(i, "members", r, false)?;
        }
        sim.voting = m.iter().filter_map(|r| if let ServerRef::Id(id) = r { Some(*id) } else { None }).collect();
        sim.removed_by_name.clear();
        return Ok(());
    }
    if s.role != Some(StepRole::Observer) {
        for r in &s.add {
            match r {
                ServerRef::Id(id) => {
                    sim.voting.insert(*id);
                }
                ServerRef::Name(n) => {
                    sim.removed_by_name.remove(n);
                }
            }
        }
    }
    for r in &s.remove {
        match r {
            ServerRef::Id(id) => {
                sim.voting.remove(id);
            }
            ServerRef::Name(n) => {
                sim.removed_by_name.insert(n.clone());
            }
        }
    }
    if !s.remove.is_empty() && sim.voting_count() == 0 {
        let shown = s.remove.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        return Err(invalid(
            i,
            "remove",
            format!("[{shown}]"),
            "would remove the last voting member: an ensemble needs at least one; remove fewer servers",
        ));
    }
    Ok(())
}
