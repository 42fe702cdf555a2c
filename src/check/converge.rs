//! Convergence: has the ensemble reached its target membership?
//!
//! Pure. The procedure polls each server's `srvr` mode and its own membership view (read by the
//! cluster code from `conf` / `/zookeeper/config`) and asks [`check_converged`]. Converged means:
//! every target server serves; there is exactly one leader among them (or, for a one-server
//! target, one standalone or one leader); no server outside the target claims leadership; and
//! every target server's own view of the voting members equals the target set. Otherwise the
//! answer says, in words, the first thing that is not yet right.

use super::fmt_ids;
use crate::record::ServerMode;
use std::collections::BTreeSet;

/// What one server says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerObservation {
    pub id: u32,
    pub mode: ServerMode,
    /// Voting members this server believes in; `None` if unknown (or standalone without a list).
    pub view: Option<BTreeSet<u32>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Convergence {
    Converged,
    /// Not yet, and why (e.g. "zk4 view {1..3} != target {1..5}").
    NotYet(String),
}

impl Convergence {
    pub fn is_converged(&self) -> bool {
        matches!(self, Convergence::Converged)
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Convergence::Converged => None,
            Convergence::NotYet(r) => Some(r),
        }
    }
}

/// Decide whether `observed` shows the `target` ensemble, converged.
pub fn check_converged(target: &BTreeSet<u32>, observed: &[ServerObservation]) -> Convergence {
    check_converged_except(target, &BTreeSet::new(), observed)
}

/// As [`check_converged`], with the members in `left_down` meant to be down: they need not
/// serve nor be observed, and their views are not judged; every other member must serve and
/// see the whole `target` (left-down members included) as the membership.
pub fn check_converged_except(
    target: &BTreeSet<u32>,
    left_down: &BTreeSet<u32>,
    observed: &[ServerObservation],
) -> Convergence {
    use Convergence::NotYet;
    if target.is_empty() {
        return NotYet("empty target membership".into());
    }
    let running: BTreeSet<u32> = target.difference(left_down).copied().collect();
    if running.is_empty() {
        return NotYet(format!("every member of {} is meant to be down", fmt_ids(target)));
    }
    let find = |id: u32| observed.iter().find(|o| o.id == id);
    for id in &running {
        match find(*id) {
            None => return NotYet(format!("zk{id} not observed")),
            Some(o) if !o.mode.is_serving() => return NotYet(format!("zk{id} is {}", o.mode.as_str())),
            Some(_) => {}
        }
    }
    let in_target = |o: &&ServerObservation| target.contains(&o.id);
    let leaders: Vec<u32> =
        observed.iter().filter(in_target).filter(|o| o.mode == ServerMode::Leader).map(|o| o.id).collect();
    let standalones: Vec<u32> =
        observed.iter().filter(in_target).filter(|o| o.mode == ServerMode::Standalone).map(|o| o.id).collect();
    let outsiders: Vec<u32> = observed
        .iter()
        .filter(|o| !target.contains(&o.id) && o.mode.is_authority())
        .map(|o| o.id)
        .collect();
    if !outsiders.is_empty() {
        return NotYet(format!("servers {} outside target {} claim leadership", fmt_ids(&outsiders), fmt_ids(target)));
    }
    let single = target.len() == 1;
    if single {
        if leaders.len() + standalones.len() != 1 {
            return NotYet(format!("no leader or standalone among {}", fmt_ids(target)));
        }
    } else {
        if !standalones.is_empty() {
            return NotYet(format!("servers {} standalone in a {}-server target", fmt_ids(&standalones), target.len()));
        }
        match leaders.len() {
            0 => return NotYet(format!("no leader among {}", fmt_ids(target))),
            1 => {}
            _ => return NotYet(format!("{} leaders: {}", leaders.len(), fmt_ids(&leaders))),
        }
    }
    for id in &running {
        let Some(o) = find(*id) else { continue };
        match &o.view {
            None if single && o.mode == ServerMode::Standalone => {}
            None => return NotYet(format!("zk{id} membership view unknown")),
            Some(v) if v != target => {
                return NotYet(format!("zk{id} view {} != target {}", fmt_ids(v), fmt_ids(target)))
            }
            Some(_) => {}
        }
    }
    Convergence::Converged
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServerMode::*;

    fn obs(id: u32, mode: ServerMode, view: Option<&[u32]>) -> ServerObservation {
        ServerObservation { id, mode, view: view.map(|v| v.iter().copied().collect()) }
    }

    fn t(ids: &[u32]) -> BTreeSet<u32> {
        ids.iter().copied().collect()
    }

    #[test]
    fn five_converged() {
        let all = [1, 2, 3, 4, 5];
        let o: Vec<_> = all.iter().map(|i| obs(*i, if *i == 2 { Leader } else { Follower }, Some(&all))).collect();
        assert_eq!(check_converged(&t(&all), &o), Convergence::Converged);
    }

    #[test]
    fn stale_view_named() {
        let all = [1, 2, 3, 4, 5];
        let mut o: Vec<_> = all.iter().map(|i| obs(*i, if *i == 1 { Leader } else { Follower }, Some(&all))).collect();
        o[3].view = Some(t(&[1, 2, 3]));
        let c = check_converged(&t(&all), &o);
        assert_eq!(c.reason(), Some("zk4 view {1..3} != target {1..5}"));
    }

    #[test]
    fn down_not_serving_and_missing() {
        let target = t(&[1, 2, 3]);
        let v = [1, 2, 3];
        let o = vec![obs(1, Leader, Some(&v)), obs(2, Down, None), obs(3, Follower, Some(&v))];
        assert_eq!(check_converged(&target, &o).reason(), Some("zk2 is down"));
        let o = vec![obs(1, Leader, Some(&v)), obs(2, NotServing, None), obs(3, Follower, Some(&v))];
        assert_eq!(check_converged(&target, &o).reason(), Some("zk2 is not-serving"));
        let o = vec![obs(1, Leader, Some(&v)), obs(3, Follower, Some(&v))];
        assert_eq!(check_converged(&target, &o).reason(), Some("zk2 not observed"));
    }

    #[test]
    fn leaders_counted() {
        let target = t(&[1, 2, 3]);
        let v = [1, 2, 3];
        let o = vec![obs(1, Follower, Some(&v)), obs(2, Follower, Some(&v)), obs(3, Follower, Some(&v))];
        assert!(check_converged(&target, &o).reason().unwrap().contains("no leader"));
        let o = vec![obs(1, Leader, Some(&v)), obs(2, Leader, Some(&v)), obs(3, Follower, Some(&v))];
        assert_eq!(check_converged(&target, &o).reason(), Some("2 leaders: {1,2}"));
        let o = vec![obs(1, Standalone, None), obs(2, Leader, Some(&v)), obs(3, Follower, Some(&v))];
        assert!(check_converged(&target, &o).reason().unwrap().contains("standalone"));
        // A server outside the target still leading (e.g. an old standalone).
        let o = vec![
            obs(1, Leader, Some(&v)),
            obs(2, Follower, Some(&v)),
            obs(3, Follower, Some(&v)),
            obs(9, Standalone, None),
        ];
        assert!(check_converged(&target, &o).reason().unwrap().contains("outside target"));
    }

    #[test]
    fn members_left_down_are_not_waited_for_but_stay_in_the_membership() {
        let target = t(&[1, 2, 3]);
        let v = [1, 2, 3];
        let o = vec![obs(1, Leader, Some(&v)), obs(2, Follower, Some(&v))];
        assert_eq!(check_converged(&target, &o).reason(), Some("zk3 not observed"));
        assert!(check_converged_except(&target, &t(&[3]), &o).is_converged());
        // Observed down is fine too; the running members must still see {1,2,3}.
        let o = vec![obs(1, Leader, Some(&v)), obs(2, Follower, Some(&[1, 2])), obs(3, Down, None)];
        assert_eq!(check_converged_except(&target, &t(&[3]), &o).reason(), Some("zk2 view {1,2} != target {1..3}"));
        // A running member that does not serve is still waited for.
        let o = vec![obs(1, Leader, Some(&v)), obs(2, NotServing, None)];
        assert_eq!(check_converged_except(&target, &t(&[3]), &o).reason(), Some("zk2 is not-serving"));
        assert!(check_converged_except(&target, &target, &[]).reason().unwrap().contains("meant to be down"));
    }

    #[test]
    fn single_server() {
        let target = t(&[1]);
        assert!(check_converged(&target, &[obs(1, Standalone, None)]).is_converged());
        assert!(check_converged(&target, &[obs(1, Leader, Some(&[1]))]).is_converged());
        assert!(!check_converged(&target, &[obs(1, Leader, None)]).is_converged());
        assert!(!check_converged(&target, &[obs(1, Leader, Some(&[1, 2]))]).is_converged());
    }
}
