//! Leader analysis on literal mode series.

use super::*;
use crate::record::ServerMode::{self, *};

fn s(at_us: u64, server: u32, mode: ServerMode, epoch: u64) -> ModeSample {
    let zxid = if mode.is_serving() { Some(epoch << 32 | 5) } else { None };
    ModeSample { at_us, server, mode, zxid }
}

/// Three servers, one tick every 100 µs, each row the modes of zk1..zk3.
fn series(rows: &[[(ServerMode, u64); 3]]) -> Vec<ModeSample> {
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for (j, (m, e)) in row.iter().enumerate() {
            out.push(s(i as u64 * 100, j as u32 + 1, *m, *e));
        }
    }
    out
}

#[test]
fn steady_single_leader_passes() {
    let r = analyze_modes(&series(&[[(Leader, 1), (Follower, 1), (Follower, 1)]; 5]));
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!((r.leader_changes, r.elections), (0, 0));
    assert_eq!(r.leaders_seen, vec![1]);
    assert!(r.headline().starts_with("never more than one leader"));
}

#[test]
fn overlap_at_one_sample_is_flagged() {
    let r = analyze_modes(&series(&[
        [(Leader, 1), (Follower, 1), (Follower, 1)],
        [(Leader, 1), (Leader, 2), (Follower, 2)],
        [(NotServing, 0), (Leader, 2), (Follower, 2)],
    ]));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.two_leader_intervals, vec![Interval { from_us: 100, to_us: 200, servers: vec![1, 2] }]);
    assert_eq!(r.leader_changes, 1);
    assert_eq!(r.elections, 1);
    assert!(r.headline().contains("TWO LEADERS in 1 intervals"), "{}", r.headline());
}

#[test]
fn mode_holds_until_next_sample_of_that_server() {
    // zk1's last word is "leader" at 0; zk2 becomes leader at 50: overlap from 50 until zk1's
    // next sample at 120.
    let v =
        vec![s(0, 1, Leader, 1), s(0, 2, Follower, 1), s(50, 2, Leader, 2), s(120, 1, Down, 0), s(150, 2, Leader, 2)];
    let r = analyze_modes(&v);
    assert_eq!(r.two_leader_intervals, vec![Interval { from_us: 50, to_us: 120, servers: vec![1, 2] }]);
}

#[test]
fn standalone_with_leader_is_flagged() {
    let r = analyze_modes(&series(&[
        [(Standalone, 0), (Down, 0), (Down, 0)],
        [(Standalone, 0), (Leader, 1), (Follower, 1)],
        [(Down, 0), (Leader, 1), (Follower, 1)],
        [(Follower, 1), (Leader, 1), (Follower, 1)],
    ]));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.two_leader_intervals.is_empty());
    assert_eq!(r.standalone_with_leader_intervals, vec![Interval { from_us: 100, to_us: 200, servers: vec![2, 1] }]);
    assert_eq!(r.standalones_seen, vec![1]);
    assert_eq!(r.leader_changes, 1, "standalone 1 -> leader 2");
    assert_eq!(r.elections, 1, "epoch 1 is new (no leader at the first sample)");
}

#[test]
fn down_servers_and_leader_changes_counted() {
    let r = analyze_modes(&series(&[
        [(Leader, 1), (Follower, 1), (Follower, 1)],
        [(Down, 0), (NotServing, 0), (NotServing, 0)],
        [(Down, 0), (Leader, 2), (Follower, 2)],
        [(Follower, 2), (Leader, 2), (Follower, 2)],
        [(Follower, 2), (Down, 0), (NotServing, 0)],
        [(Follower, 3), (Down, 0), (Leader, 3)],
        [(Leader, 4), (Follower, 4), (Follower, 4)],
    ]));
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.leader_changes, 3);
    assert_eq!(r.elections, 3);
    assert_eq!(r.leaders_seen, vec![1, 2, 3]);
}

#[test]
fn no_samples_is_unknown() {
    let r = analyze_modes(&[]);
    assert_eq!(r.verdict, Verdict::Unknown);
}

