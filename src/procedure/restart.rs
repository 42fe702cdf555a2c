//! Restart-based expansion (static configuration): servers learn the new membership only by
//! having zoo.cfg rewritten and being restarted. The strategies are runbooks
//! ([`super::runbooks`]); this module keeps their pure parts (the restart order, the hazard).
//!
//! - `restart-expand` (standalone → N): `new-first` starts the N−1 new servers with the N-server
//!   config, waits until they serve, then rewrites and restarts the old server — the order of the
//!   common guides, and the one with the documented hazard that the new servers form a majority
//!   with empty state and the old server is synchronised to it. `old-first` restarts the old
//!   server with the N-server config first (it cannot serve alone), then starts the new ones.
//! - `rolling-expand` (N → M): start the new servers with the M-server config, wait until they
//!   follow, then rewrite and restart each old server one at a time (order `ids`, `leader-first`
//!   or `leader-last`, decided with `srvr` just before the restarts), waiting until it serves
//!   again, with an operator pause of `step_gap` between steps.
//!
//! A wait that times out is recorded on its step's end mark and in the notes, and the procedure
//! goes on: how the ensemble behaves when a step does not complete is part of what is measured.

use crate::plan::{RollingOrder, ServerRef, StartConfig, Step, StepAction};
use super::steps::{list, zks};
use std::collections::{BTreeMap, BTreeSet};

/// The documented hazard of starting new servers first with the full static config: when the new
/// servers alone are a majority of the target, they elect a leader with empty state, and old
/// servers restarted into the target config join it and are synchronised to it. Returns a warning
/// for plans that set this up (zkchaos runs them anyway: measuring it is the point).
pub fn new_majority_warning(from: u32, to: u32, new_first: bool) -> Option<String> {
    let new = to.saturating_sub(from);
    let majority = to / 2 + 1;
    (new_first && new >= majority).then(|| {
        format!(
            "the {new} new servers started first are a majority of the {to}-server config ({majority} needed): \
             they can elect a leader with empty state that the old servers then join (expect data loss)"
        )
    })
}

/// The same hazard in a runbook, as far as the ids written in it tell: at some point two groups
/// of running servers, each holding a different static member list, could each make a majority
/// of its own list — two leaders, and the writes one acknowledges lost when the other wins (a
/// 5 → 3 shrink restarting the three that stay while the two leaving still run; a 1 → 3
/// expansion starting the new servers first). Only static lists are followed (`config =
/// "static"`, or `members` without a config on a static ensemble; `"standalone"` is a list of
/// one); servers and members named by `find` are not. Returns a warning naming the step.
pub fn split_view_warning(size: u32, dynamic_config: bool, steps: &[Step]) -> Option<String> {
    let initial: BTreeSet<u32> = (1..=size).collect();
    let mut view: BTreeMap<u32, BTreeSet<u32>> = initial.iter().map(|&id| (id, initial.clone())).collect();
    let mut running = initial.clone();
    let as_id = |r: &ServerRef| if let ServerRef::Id(id) = r { Some(*id) } else { None };
    // A member list counts only if every member is written as an id.
    let ids = |refs: &[ServerRef]| refs.iter().map(as_id).collect::<Option<Vec<u32>>>();
    for (i, step) in steps.iter().enumerate() {
        let targets: Vec<u32> = step.targets().iter().filter_map(as_id).collect();
        match step.action {
            StepAction::Stop | StepAction::Kill | StepAction::Wipe | StepAction::HostDown => targets.iter().for_each(|id| {
                running.remove(id);
            }),
            StepAction::HostUp => targets.iter().for_each(|&id| {
                if view.contains_key(&id) {
                    running.insert(id);
                }
            }),
            StepAction::Start | StepAction::Restart => {
                let members = match (step.config, step.members.as_deref().and_then(ids)) {
                    (Some(StartConfig::Static), Some(m)) => Some(m.into_iter().collect::<BTreeSet<u32>>()),
                    (None, Some(m)) if !dynamic_config => Some(m.into_iter().collect()),
                    _ => None,
                };
                for id in targets {
                    if step.config == Some(StartConfig::Standalone) {
                        view.insert(id, BTreeSet::from([id]));
                    } else if let Some(m) = &members {
                        view.insert(id, m.clone());
                    }
                    if view.contains_key(&id) {
                        running.insert(id);
                    }
                    if let Some((a, b)) = two_majorities(&view, &running) {
                        return Some(format!(
                            "procedure.steps[{i}] ({} zk{id}): {} (list {}) and {} (list {}) are each a majority of their own member list: \
                             they can elect two leaders, and writes acknowledged by one are lost when the other wins (expect data loss; \
                             when shrinking, stop the servers leaving first; when growing, restart the old servers first)",
                            step.action.as_str(),
                            zks(&a.0),
                            list(&a.1),
                            zks(&b.0),
                            list(&b.1)
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// Two distinct member lists each backed by a majority of running servers that hold it:
/// ((servers, list), (servers, list)).
type Backing = (Vec<u32>, Vec<u32>);
fn two_majorities(view: &BTreeMap<u32, BTreeSet<u32>>, running: &BTreeSet<u32>) -> Option<(Backing, Backing)> {
    let mut lists: BTreeMap<&BTreeSet<u32>, Vec<u32>> = BTreeMap::new();
    for id in running {
        if let Some(list) = view.get(id).filter(|l| l.contains(id)) {
            lists.entry(list).or_default().push(*id);
        }
    }
    let mut backed = lists.into_iter().filter(|(list, holders)| holders.len() > list.len() / 2);
    let a = backed.next()?;
    let b = backed.next()?;
    Some(((a.1, a.0.iter().copied().collect()), (b.1, b.0.iter().copied().collect())))
}

/// The order in which old servers are restarted.
pub fn restart_sequence(old: &[u32], leader: Option<u32>, order: RollingOrder) -> Vec<u32> {
    let mut ids = old.to_vec();
    ids.sort_unstable();
    let Some(leader) = leader.filter(|l| ids.contains(l)) else { return ids };
    match order {
        RollingOrder::Ids => ids,
        RollingOrder::LeaderFirst => {
            ids.retain(|&i| i != leader);
            ids.insert(0, leader);
            ids
        }
        RollingOrder::LeaderLast => {
            ids.retain(|&i| i != leader);
            ids.push(leader);
            ids
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_when_new_servers_are_a_majority() {
        assert!(new_majority_warning(1, 3, true).is_some());
        assert!(new_majority_warning(1, 3, false).is_none());
        assert!(new_majority_warning(3, 5, true).is_none());
        assert!(new_majority_warning(3, 7, true).is_some());
        assert!(new_majority_warning(5, 7, true).is_none());
    }

    fn steps(toml: &str) -> Vec<Step> {
        #[derive(serde::Deserialize)]
        struct Runbook {
            steps: Vec<Step>,
        }
        toml::from_str::<Runbook>(toml).unwrap().steps
    }

    #[test]
    fn split_view_warns_for_the_unsafe_shrink_and_expansion_orders_only() {
        let restart_first = steps(
            "[[steps]]\naction = \"restart\"\nservers = [1, 2, 3]\nconfig = \"static\"\nmembers = [1, 2, 3]\n\
             [[steps]]\naction = \"stop\"\nservers = [4, 5]",
        );
        let w = split_view_warning(5, false, &restart_first).expect("restarting the three that stay first");
        assert!(w.starts_with("procedure.steps[0] (restart zk2): zk1,zk2 (list 1,2,3) and zk3,zk4,zk5 (list 1,2,3,4,5)"), "{w}");
        let stop_first = steps(
            "[[steps]]\naction = \"stop\"\nservers = [4, 5]\n\
             [[steps]]\naction = \"restart\"\nservers = [1, 2, 3]\nconfig = \"static\"\nmembers = [1, 2, 3]",
        );
        assert_eq!(split_view_warning(5, false, &stop_first), None);
        let new_first = steps("[[steps]]\naction = \"start\"\nservers = [2, 3]\nconfig = \"static\"\nmembers = [1, 2, 3]");
        assert!(split_view_warning(1, false, &new_first).is_some_and(|w| w.contains("(start zk3)")));
        // The old server first: it cannot be a majority of the new list alone.
        let old_first = steps(
            "[[steps]]\naction = \"restart\"\nserver = 1\nconfig = \"static\"\nmembers = [1, 2, 3]\n\
             [[steps]]\naction = \"start\"\nservers = [2, 3]\nconfig = \"static\"\nmembers = [1, 2, 3]",
        );
        assert_eq!(split_view_warning(1, false, &old_first), None);
        // Faults and waits alone never warn; names are not followed.
        let faults = steps("[[steps]]\naction = \"kill\"\nserver = 2\n[[steps]]\naction = \"start\"\nserver = 2");
        assert_eq!(split_view_warning(3, false, &faults), None);
        // A standalone restart is a list of one: zk3 standalone beside zk1,zk2 (of 1,2,3) is
        // two majorities. Members without a config are a static list only on a static ensemble.
        let standalone = steps("[[steps]]\naction = \"restart\"\nserver = 3\nconfig = \"standalone\"");
        assert!(split_view_warning(3, false, &standalone).is_some_and(|w| w.contains("zk3 (list 3)")));
        let two_of_three = steps("[[steps]]\naction = \"restart\"\nservers = [1, 2]\nmembers = [1, 2, 3]");
        assert!(split_view_warning(5, false, &two_of_three).is_some());
        assert_eq!(split_view_warning(5, true, &two_of_three), None);
        // The same list as the one running: nothing splits.
        assert_eq!(split_view_warning(3, false, &two_of_three), None);
    }

    #[test]
    fn sequences_follow_the_order() {
        assert_eq!(restart_sequence(&[1, 2, 3], Some(2), RollingOrder::Ids), vec![1, 2, 3]);
        assert_eq!(restart_sequence(&[1, 2, 3], Some(2), RollingOrder::LeaderFirst), vec![2, 1, 3]);
        assert_eq!(restart_sequence(&[1, 2, 3], Some(2), RollingOrder::LeaderLast), vec![1, 3, 2]);
        // No leader found: ascending ids whatever the order.
        assert_eq!(restart_sequence(&[3, 1, 2], None, RollingOrder::LeaderLast), vec![1, 2, 3]);
    }
}
