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

use crate::plan::RollingOrder;

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

    #[test]
    fn sequences_follow_the_order() {
        assert_eq!(restart_sequence(&[1, 2, 3], Some(2), RollingOrder::Ids), vec![1, 2, 3]);
        assert_eq!(restart_sequence(&[1, 2, 3], Some(2), RollingOrder::LeaderFirst), vec![2, 1, 3]);
        assert_eq!(restart_sequence(&[1, 2, 3], Some(2), RollingOrder::LeaderLast), vec![1, 3, 2]);
        // No leader found: ascending ids whatever the order.
        assert_eq!(restart_sequence(&[3, 1, 2], None, RollingOrder::LeaderLast), vec![1, 2, 3]);
    }
}
