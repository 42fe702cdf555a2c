//! Shrinking a failing runbook: the candidate reductions of a step list, smallest first.
//!
//! Three kinds, tried in this order: drop one step (the last first), halve one step's
//! `duration_ms` or `gap_ms` (down to 100 ms), and replace a name bound by `find` with the id it
//! bound in the failing run (dropping the `find`). The runner replays each candidate up to k times
//! and keeps the first that fails; a candidate that is not a valid profile is skipped without a
//! run. Greedy (one reduction at a time, restart from the smaller runbook), as Hypothesis and
//! QuickCheck shrink: not the minimum, but a local minimum within the budget.

use std::collections::BTreeMap;
use toml::{Table, Value};

/// One reduction: the new step list and what was done.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub steps: Vec<Table>,
    pub change: String,
}

/// `kill [L1]`, `sleep 3000 ms`: a step in a few words.
pub fn describe(step: &Table) -> String {
    let action = step.get("action").and_then(Value::as_str).unwrap_or("?");
    let mut s = action.to_string();
    for key in ["role", "servers", "server", "add", "remove", "duration_ms", "gap_ms", "until"] {
        if let Some(v) = step.get(key) {
            s.push_str(&format!(" {key}={v}"));
        }
    }
    s
}

fn halved(v: &Value) -> Option<i64> {
    let n = v.as_integer()?;
    (n >= 200).then(|| (n / 2 / 100) * 100)
}

/// Replace the name `name` by `id` in a server reference value.
fn replace_ref(v: &Value, name: &str, id: u32) -> Value {
    match v {
        Value::String(s) if s == name => Value::Integer(i64::from(id)),
        Value::Array(a) => Value::Array(a.iter().map(|x| replace_ref(x, name, id)).collect()),
        other => other.clone(),
    }
}

/// Every reduction of `steps`, in the order they should be tried. `bound` holds the ids the
/// failing run's `find` steps chose (name → id).
pub fn candidates(steps: &[Table], bound: &BTreeMap<String, u32>) -> Vec<Candidate> {
    let mut out = Vec::new();
    for i in (0..steps.len()).rev() {
        if steps.len() > 1 {
            let mut s = steps.to_vec();
            let gone = s.remove(i);
            out.push(Candidate { steps: s, change: format!("dropped step {} ({})", i + 1, describe(&gone)) });
        }
    }
    for (i, step) in steps.iter().enumerate() {
        for key in ["duration_ms", "gap_ms"] {
            if let Some(new) = step.get(key).and_then(halved) {
                let mut s = steps.to_vec();
                s[i].insert(key.into(), Value::Integer(new));
                out.push(Candidate { steps: s, change: format!("step {} ({}): {key} {} → {new}", i + 1, describe(step), step[key]) });
            }
        }
    }
    for (i, step) in steps.iter().enumerate() {
        if step.get("action").and_then(Value::as_str) != Some("find") {
            continue;
        }
        let Some(name) = step.get("as").and_then(Value::as_str) else { continue };
        let Some(&id) = bound.get(name) else { continue };
        let mut s: Vec<Table> = steps.to_vec();
        s.remove(i);
        for t in s.iter_mut() {
            for key in ["server", "servers", "add", "remove", "members"] {
                if let Some(v) = t.get(key).cloned() {
                    t.insert(key.into(), replace_ref(&v, name, id));
                }
            }
        }
        out.push(Candidate { steps: s, change: format!("role {name:?} replaced by the id it bound, {id} (step {} dropped)", i + 1) });
    }
    out
}

/// The names bound by `find` in a run, from its marks: point `find leader`, detail `zk3 as "L"`.
pub fn bound_names(marks: &[crate::record::Mark]) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for m in marks.iter().filter(|m| m.label.starts_with("find ")) {
        let Some(d) = &m.detail else { continue };
        let Some((zk, name)) = d.split_once(" as ") else { continue };
        let (Some(id), Some(name)) = (zk.strip_prefix("zk").and_then(|n| n.parse().ok()), name.strip_prefix('"').and_then(|n| n.strip_suffix('"'))) else {
            continue;
        };
        out.insert(name.to_string(), id);
    }
    out
}

/// The step list of a runbook profile table.
pub fn steps_of(profile: &Table) -> Vec<Table> {
    profile
        .get("procedure")
        .and_then(|p| p.get("steps"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_table().cloned()).collect())
        .unwrap_or_default()
}

/// Total planned milliseconds of the step list (durations and gaps): the secondary measure of size.
pub fn planned_ms(steps: &[Table]) -> i64 {
    steps.iter().flat_map(|s| ["duration_ms", "gap_ms"].map(|k| s.get(k).and_then(Value::as_integer).unwrap_or(0))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Mark, MarkKind};

    fn steps() -> Vec<Table> {
        let t: Table = toml::from_str(
            "[[s]]\naction = \"find\"\nrole = \"leader\"\nas = \"L1\"\n[[s]]\naction = \"kill\"\nservers = [\"L1\"]\n[[s]]\naction = \"sleep\"\nduration_ms = 3000\n[[s]]\naction = \"start\"\nservers = [\"L1\"]\n",
        )
        .unwrap();
        t["s"].as_array().unwrap().iter().map(|v| v.as_table().unwrap().clone()).collect()
    }

    #[test]
    fn drops_come_first_then_halvings_then_roles() {
        let bound = BTreeMap::from([("L1".to_string(), 3)]);
        let c = candidates(&steps(), &bound);
        assert_eq!(c.len(), 4 + 1 + 1);
        assert_eq!(c[0].change, "dropped step 4 (start servers=[\"L1\"])");
        assert_eq!(c[0].steps.len(), 3);
        assert_eq!(c[4].change, "step 3 (sleep duration_ms=3000): duration_ms 3000 → 1500");
        assert_eq!(c[4].steps[2]["duration_ms"].as_integer(), Some(1500));
        let role = &c[5];
        assert_eq!(role.steps.len(), 3);
        assert_eq!(role.steps[0]["servers"], Value::Array(vec![Value::Integer(3)]));
        assert_eq!(role.steps[2]["servers"], Value::Array(vec![Value::Integer(3)]));
    }

    #[test]
    fn short_durations_are_not_halved_and_unbound_names_stay() {
        let mut s = steps();
        s[2].insert("duration_ms".into(), Value::Integer(150));
        let c = candidates(&s, &BTreeMap::new());
        assert_eq!(c.len(), 4, "{:?}", c.iter().map(|c| &c.change).collect::<Vec<_>>());
    }

    #[test]
    fn a_role_replaced_by_its_id_is_replaced_in_reconfig_steps_too() {
        let t: Table = toml::from_str(
            "[[s]]\naction = \"find\"\nrole = \"leader\"\nas = \"L1\"\n[[s]]\naction = \"reconfig\"\nremove = [\"L1\"]\n[[s]]\naction = \"stop\"\nservers = [\"L1\"]\n[[s]]\naction = \"reconfig\"\nadd = [\"L1\"]\n",
        )
        .unwrap();
        let s: Vec<Table> = t["s"].as_array().unwrap().iter().map(|v| v.as_table().unwrap().clone()).collect();
        let c = candidates(&s, &BTreeMap::from([("L1".to_string(), 2)]));
        let role = c.last().unwrap();
        assert!(role.change.starts_with("role \"L1\" replaced"), "{}", role.change);
        let two = Value::Array(vec![Value::Integer(2)]);
        assert_eq!((&role.steps[0]["remove"], &role.steps[1]["servers"], &role.steps[2]["add"]), (&two, &two, &two));
        assert_eq!(c[0].change, "dropped step 4 (reconfig add=[\"L1\"])");
    }

    #[test]
    fn bound_names_are_read_from_find_marks() {
        let marks = vec![
            Mark::new(1, MarkKind::Point, "find leader", Some("zk3 as \"L1\"".into())),
            Mark::new(2, MarkKind::Point, "find follower", Some("zk5 as \"F2\"".into())),
            Mark::new(3, MarkKind::Point, "stop order", Some("zk1, zk2".into())),
        ];
        let b = bound_names(&marks);
        assert_eq!(b, BTreeMap::from([("L1".to_string(), 3), ("F2".to_string(), 5)]));
        assert_eq!(planned_ms(&steps()), 3000);
    }
}
