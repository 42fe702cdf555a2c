//! The fault space: the `[hunt]` table of a hunt profile, saying what a drawn schedule may
//! contain — which actions, against which targets (by role or drawn ids), for how long, with
//! which gaps, how many faults, and whether they may overlap.
//!
//! A hunt profile is an ordinary profile (`[cluster]`, `[load]`, `[phases]`) whose procedure is
//! not written but drawn: the `[hunt]` table replaces `[procedure]` (only `procedure.auth` may be
//! given). Everything here is pure; errors name the field, the value and what would be valid.
//!
//! Two actions change membership with dynamic reconfiguration (`reconfig-remove`,
//! `reconfig-add`); each is undone before the schedule ends, so every schedule ends with the
//! membership it started with. They need `cluster.dynamic_config = true` and, for
//! `reconfig-add`, spare server ids (`hunt.spares`): [`check_cluster`] says so against the
//! profile's ensemble.

use std::fmt;
use toml::{Table, Value};

/// What a fault does to its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// SIGKILL, then start again after the duration.
    Kill,
    /// SIGTERM, then start again after the duration.
    Stop,
    /// Restart in place (a point fault: no duration).
    Restart,
    /// Freeze with the cgroup freezer, thaw after the duration.
    Pause,
    /// Disconnect from the run's network, reconnect after the duration.
    Partition,
    /// The whole host goes away (process killed, address silent), back after the duration.
    HostDown,
    /// Restart every server one at a time (a point fault; the duration is the gap between them).
    RollingRestart,
    /// `reconfig -remove` the targets (then stop them); after the duration start them again as
    /// joiners (with their data) and `reconfig -add` them back.
    ReconfigRemove,
    /// Start a spare server as a joiner and `reconfig -add` it; after the duration `reconfig
    /// -remove` it again and stop it.
    ReconfigAdd,
}

pub const ACTIONS: &[(&str, Action)] = &[
    ("kill", Action::Kill),
    ("stop", Action::Stop),
    ("restart", Action::Restart),
    ("pause", Action::Pause),
    ("partition", Action::Partition),
    ("host-down", Action::HostDown),
    ("rolling-restart", Action::RollingRestart),
    ("reconfig-remove", Action::ReconfigRemove),
    ("reconfig-add", Action::ReconfigAdd),
];

impl Action {
    pub fn as_str(self) -> &'static str {
        ACTIONS.iter().find(|(_, a)| *a == self).map(|(s, _)| *s).unwrap_or("?")
    }
    /// A point fault ends by itself (its steps block until it is over).
    pub fn is_point(self) -> bool {
        matches!(self, Action::Restart | Action::RollingRestart)
    }
    /// Changes the membership by reconfig (and undoes it): drawn only when no other fault is
    /// active, and no other fault is drawn while it is.
    pub fn is_membership(self) -> bool {
        matches!(self, Action::ReconfigRemove | Action::ReconfigAdd)
    }
    /// Takes no `targets`: a rolling restart hits every server, `reconfig-add` a drawn spare.
    fn takes_no_targets(self) -> bool {
        matches!(self, Action::RollingRestart | Action::ReconfigAdd)
    }
}

/// Whom a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// The current leader, found at run time (`find role = "leader"`).
    Leader,
    /// A follower, found at run time (`find role = "follower"`: the highest-id one).
    Follower,
    /// One server id drawn from the seed.
    Random,
    /// floor((n-1)/2) ids drawn from the seed: the ensemble keeps a quorum.
    Minority,
    /// floor(n/2)+1 ids drawn from the seed: the ensemble loses its quorum.
    Majority,
}

pub const TARGETS: &[(&str, Target)] = &[
    ("leader", Target::Leader),
    ("follower", Target::Follower),
    ("random", Target::Random),
    ("minority", Target::Minority),
    ("majority", Target::Majority),
];

impl Target {
    pub fn as_str(self) -> &'static str {
        TARGETS.iter().find(|(_, t)| *t == self).map(|(s, _)| *s).unwrap_or("?")
    }
    /// Bound at run time by a `find` step (not a drawn id).
    pub fn is_role(self) -> bool {
        matches!(self, Target::Leader | Target::Follower)
    }
}

/// An inclusive range of milliseconds or counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub lo: u64,
    pub hi: u64,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.lo, self.hi)
    }
}

/// One kind of fault the space may draw.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultKind {
    pub action: Action,
    pub targets: Vec<Target>,
    pub duration_ms: Range,
    pub weight: u64,
}

/// The whole `[hunt]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpace {
    /// Faults per schedule.
    pub faults: Range,
    /// Quiet time before each fault (after the previous one healed, or after the previous one
    /// began when faults may overlap).
    pub gap_ms: Range,
    pub overlap: bool,
    /// Server ids beyond the ensemble (`size+1 ..= size+spares`) that `reconfig-add` may add.
    pub spares: u32,
    pub kinds: Vec<FaultKind>,
}

impl FaultSpace {
    /// The first `[[hunt.fault]]` whose action changes membership, with its index.
    pub fn membership_kind(&self) -> Option<(usize, &FaultKind)> {
        self.kinds.iter().enumerate().find(|(_, k)| k.action.is_membership())
    }
}

/// A `[hunt]` table that cannot be used: field, value, what is wrong and what would be valid.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("`{field} = {value}` {reason}")]
pub struct SpaceError {
    pub field: String,
    pub value: String,
    pub reason: String,
}

fn err(field: &str, value: impl fmt::Display, reason: impl Into<String>) -> SpaceError {
    SpaceError { field: field.to_string(), value: value.to_string(), reason: reason.into() }
}

const MAX_MS: u64 = 600_000;
const MAX_FAULTS: u64 = 50;
/// Server ids run from 1 to 9 (the step language's limit): spares included.
const MAX_ID: u32 = 9;

fn range(t: &Table, key: &str, field: &str, default: Option<Range>, max: u64) -> Result<Range, SpaceError> {
    let Some(v) = t.get(key) else {
        return default.ok_or_else(|| err(field, "(missing)", "is required: write an inclusive range, e.g. [1000, 5000]"));
    };
    let nums: Option<Vec<u64>> = match v {
        Value::Integer(i) => Some(vec![*i as u64, *i as u64]).filter(|_| *i >= 0),
        Value::Array(a) if a.len() == 2 => a.iter().map(|x| x.as_integer().filter(|i| *i >= 0).map(|i| i as u64)).collect(),
        _ => None,
    };
    let Some(n) = nums else {
        return Err(err(field, v, "must be a range [low, high] of non-negative integers (or one integer)"));
    };
    if n[0] > n[1] || n[1] > max {
        return Err(err(field, v, format!("must have low <= high <= {max}")));
    }
    Ok(Range { lo: n[0], hi: n[1] })
}

fn check_keys(t: &Table, allowed: &[&str], prefix: &str) -> Result<(), SpaceError> {
    for k in t.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(err(&format!("{prefix}{k}"), &t[k], format!("is not a key of this table; valid: {}", allowed.join(", "))));
        }
    }
    Ok(())
}

fn names<T: Copy>(v: &Value, field: &str, valid: &[(&str, T)]) -> Result<Vec<T>, SpaceError> {
    let list = valid.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(", ");
    let words: Vec<&str> = match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap_or("")).collect(),
        _ => return Err(err(field, v, format!("must be a list of names; valid: {list}"))),
    };
    if words.is_empty() {
        return Err(err(field, v, format!("must name at least one; valid: {list}")));
    }
    words
        .into_iter()
        .map(|w| valid.iter().find(|(s, _)| *s == w).map(|(_, t)| *t).ok_or_else(|| err(field, v, format!("names {w:?}, which is not valid; valid: {list}"))))
        .collect()
}

fn fault_kind(t: &Table, i: usize) -> Result<FaultKind, SpaceError> {
    let p = format!("hunt.fault[{i}].");
    check_keys(t, &["action", "targets", "duration_ms", "weight"], &p)?;
    let action_v = t.get("action").ok_or_else(|| err(&format!("{p}action"), "(missing)", "is required"))?;
    let action = names(action_v, &format!("{p}action"), ACTIONS)?;
    if action.len() != 1 || !action_v.is_str() {
        return Err(err(&format!("{p}action"), action_v, "must be one action name, e.g. \"kill\""));
    }
    let action = action[0];
    let targets = match t.get("targets") {
        Some(v) => names(v, &format!("{p}targets"), TARGETS)?,
        None if action.takes_no_targets() => vec![],
        None => return Err(err(&format!("{p}targets"), "(missing)", "is required, e.g. [\"leader\", \"random\"]")),
    };
    if action.takes_no_targets() && !targets.is_empty() {
        let why = match action {
            Action::ReconfigAdd => "does not apply: reconfig-add adds a spare server drawn from hunt.spares",
            _ => "does not apply: a rolling restart restarts every server",
        };
        return Err(err(&format!("{p}targets"), t["targets"].clone(), why));
    }
    let default = if action.is_point() && action != Action::RollingRestart { Some(Range { lo: 0, hi: 0 }) } else { None };
    let duration_ms = range(t, "duration_ms", &format!("{p}duration_ms"), default, MAX_MS)?;
    let weight = match t.get("weight") {
        None => 1,
        Some(Value::Integer(w)) if (1..=1000).contains(w) => *w as u64,
        Some(v) => return Err(err(&format!("{p}weight"), v, "must be an integer from 1 to 1000")),
    };
    Ok(FaultKind { action, targets, duration_ms, weight })
}

/// Parse the `[hunt]` table.
pub fn parse_space(hunt: &Table) -> Result<FaultSpace, SpaceError> {
    check_keys(hunt, &["faults", "gap_ms", "overlap", "spares", "fault"], "hunt.")?;
    let faults = range(hunt, "faults", "hunt.faults", Some(Range { lo: 1, hi: 3 }), MAX_FAULTS)?;
    if faults.lo == 0 {
        return Err(err("hunt.faults", faults, "must draw at least one fault per schedule"));
    }
    let gap_ms = range(hunt, "gap_ms", "hunt.gap_ms", Some(Range { lo: 1000, hi: 5000 }), MAX_MS)?;
    let overlap = match hunt.get("overlap") {
        None => false,
        Some(Value::Boolean(b)) => *b,
        Some(v) => return Err(err("hunt.overlap", v, "must be true or false")),
    };
    let spares = match hunt.get("spares") {
        None => 0,
        Some(Value::Integer(n)) if (0..i64::from(MAX_ID)).contains(n) => *n as u32,
        Some(v) => return Err(err("hunt.spares", v, format!("must be an integer from 0 to {}: server ids beyond cluster.size that reconfig-add may add", MAX_ID - 1))),
    };
    let kinds = match hunt.get("fault") {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Table(t) => fault_kind(t, i),
                other => Err(err(&format!("hunt.fault[{i}]"), other, "must be a table ([[hunt.fault]])")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(v) => return Err(err("hunt.fault", v, "must be a non-empty array of tables ([[hunt.fault]] with action, targets, duration_ms)")),
        None => return Err(err("hunt.fault", "(missing)", "is required: at least one [[hunt.fault]] with action, targets, duration_ms")),
    };
    if let Some(i) = kinds.iter().position(|k| k.action == Action::ReconfigAdd) {
        if spares == 0 {
            return Err(err("hunt.spares", spares, format!("leaves hunt.fault[{i}] (reconfig-add) no server to add: set hunt.spares = 1 or more (ids cluster.size+1 and up)")));
        }
    }
    Ok(FaultSpace { faults, gap_ms, overlap, spares, kinds })
}

/// Check a space against the profile's ensemble: reconfig actions need dynamic configuration,
/// and the spares must fit the server ids (1 to 9).
pub fn check_cluster(space: &FaultSpace, size: u32, dynamic_config: bool) -> Result<(), SpaceError> {
    if let Some((i, k)) = space.membership_kind() {
        if !dynamic_config {
            return Err(err(
                "cluster.dynamic_config",
                false,
                format!("cannot run hunt.fault[{i}] (action \"{}\"): reconfig needs dynamic configuration; set cluster.dynamic_config = true", k.action.as_str()),
            ));
        }
    }
    if size + space.spares > MAX_ID {
        return Err(err("hunt.spares", space.spares, format!("is too many for cluster.size = {size}: server ids run from 1 to {MAX_ID}, so at most {} spares", MAX_ID.saturating_sub(size))));
    }
    Ok(())
}

/// Split a hunt profile's TOML into the base profile (everything but `[hunt]`; a `[procedure]`
/// may hold only `auth`) and the fault space. `None` for the space when the file has no `[hunt]`
/// table: it is then an ordinary runbook, replayed as it is in every trial.
pub fn split_profile(text: &str, source: &str) -> Result<(Table, Option<FaultSpace>), SpaceError> {
    let mut table: Table = toml::from_str(text).map_err(|e| err(source, "(file)", format!("is not TOML: {}", e.message().trim())))?;
    let Some(hunt) = table.remove("hunt") else {
        return Ok((table, None));
    };
    let Value::Table(hunt) = hunt else {
        return Err(err("hunt", hunt, "must be a table ([hunt])"));
    };
    if let Some(Value::Table(p)) = table.get("procedure") {
        if let Some(k) = p.keys().find(|k| k.as_str() != "auth") {
            return Err(err(&format!("procedure.{k}"), &p[k], "cannot be given with [hunt]: the procedure is drawn (only procedure.auth may be set)"));
        }
    }
    Ok((table, Some(parse_space(&hunt)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(text: &str) -> Result<FaultSpace, SpaceError> {
        let t: Table = toml::from_str(text).unwrap();
        parse_space(t["hunt"].as_table().unwrap())
    }

    #[test]
    fn parses_a_space_with_defaults() {
        let s = space("[hunt]\nfaults = [1, 2]\n[[hunt.fault]]\naction = \"kill\"\ntargets = [\"leader\", \"random\"]\nduration_ms = [1000, 3000]\n[[hunt.fault]]\naction = \"rolling-restart\"\nduration_ms = 0\n").unwrap();
        assert_eq!(s.faults, Range { lo: 1, hi: 2 });
        assert_eq!(s.gap_ms, Range { lo: 1000, hi: 5000 });
        assert!(!s.overlap);
        assert_eq!(s.kinds[0].targets, vec![Target::Leader, Target::Random]);
        assert_eq!(s.kinds[1].action, Action::RollingRestart);
        assert_eq!(s.kinds[0].weight, 1);
    }

    #[test]
    fn errors_name_the_field_and_the_valid_values() {
        let e = space("[hunt]\n[[hunt.fault]]\naction = \"explode\"\ntargets = [\"leader\"]\nduration_ms = [1, 2]\n").unwrap_err();
        assert_eq!(e.field, "hunt.fault[0].action");
        assert!(e.reason.contains("kill, stop"), "{e}");
        let e = space("[hunt]\n[[hunt.fault]]\naction = \"kill\"\ntargets = [\"boss\"]\nduration_ms = [1, 2]\n").unwrap_err();
        assert_eq!(e.field, "hunt.fault[0].targets");
        let e = space("[hunt]\n[[hunt.fault]]\naction = \"kill\"\ntargets = [\"leader\"]\nduration_ms = [5, 2]\n").unwrap_err();
        assert!(e.to_string().contains("low <= high"), "{e}");
        let e = space("[hunt]\nfautls = 2\n[[hunt.fault]]\naction = \"kill\"\ntargets = [\"leader\"]\nduration_ms = 1\n").unwrap_err();
        assert_eq!(e.field, "hunt.fautls");
        let e = space("[hunt]\nfaults = [1,2]\n").unwrap_err();
        assert_eq!(e.field, "hunt.fault");
    }

    #[test]
    fn reconfig_actions_parse_and_reconfig_add_needs_spares_and_no_targets() {
        let s = space("[hunt]\nspares = 2\n[[hunt.fault]]\naction = \"reconfig-remove\"\ntargets = [\"leader\", \"minority\"]\nduration_ms = [1000, 2000]\n[[hunt.fault]]\naction = \"reconfig-add\"\nduration_ms = 3000\n").unwrap();
        assert_eq!((s.kinds[0].action, s.kinds[1].action, s.spares), (Action::ReconfigRemove, Action::ReconfigAdd, 2));
        assert!(s.kinds[1].targets.is_empty());
        assert_eq!(s.membership_kind().map(|(i, _)| i), Some(0));
        assert_eq!(check_cluster(&s, 3, true), Ok(()));
        let e = check_cluster(&s, 3, false).unwrap_err();
        assert_eq!(e.field, "cluster.dynamic_config");
        assert!(e.reason.contains("hunt.fault[0] (action \"reconfig-remove\")") && e.reason.contains("set cluster.dynamic_config = true"), "{e}");
        assert_eq!(check_cluster(&s, 9, true).unwrap_err().field, "hunt.spares");
        let e = space("[hunt]\n[[hunt.fault]]\naction = \"reconfig-add\"\nduration_ms = 3000\n").unwrap_err();
        assert_eq!(e.field, "hunt.spares");
        assert!(e.reason.contains("hunt.fault[0] (reconfig-add)") && e.reason.contains("hunt.spares = 1"), "{e}");
        let e = space("[hunt]\nspares = 1\n[[hunt.fault]]\naction = \"reconfig-add\"\ntargets = [\"random\"]\nduration_ms = 3000\n").unwrap_err();
        assert_eq!(e.field, "hunt.fault[0].targets");
        let e = space("[hunt]\n[[hunt.fault]]\naction = \"reconfig-remove\"\ntargets = [\"leader\"]\n").unwrap_err();
        assert_eq!(e.field, "hunt.fault[0].duration_ms");
        let e = space("[hunt]\nspares = -1\n[[hunt.fault]]\naction = \"kill\"\ntargets = [\"leader\"]\nduration_ms = 1\n").unwrap_err();
        assert_eq!(e.field, "hunt.spares");
        // A space without reconfig actions asks nothing of the ensemble.
        let plain = space("[hunt]\n[[hunt.fault]]\naction = \"kill\"\ntargets = [\"leader\"]\nduration_ms = 1\n").unwrap();
        assert_eq!((plain.spares, check_cluster(&plain, 9, false)), (0, Ok(())));
    }

    #[test]
    fn a_file_without_hunt_is_a_runbook_and_procedure_keys_are_refused_with_hunt() {
        let (base, s) = split_profile("name = \"x\"\n[procedure]\nkind = \"steps\"\n", "f").unwrap();
        assert!(s.is_none() && base.contains_key("procedure"));
        let e = split_profile("name = \"x\"\n[procedure]\nkind = \"steps\"\n[hunt]\n", "f").unwrap_err();
        assert_eq!(e.field, "procedure.kind");
    }
}
