//! Leader analysis on literal mode series.

use super::*;
use crate::record::ServerMode::{self, *};

/// A sample as the poller writes it; serving servers report zxid `epoch << 32 | counter`.
fn z(at_us: u64, server: u32, mode: ServerMode, epoch: u64, counter: u64) -> ModeSample {
    let zxid = if mode.is_serving() { Some(epoch << 32 | counter) } else { None };
    ModeSample { at_us, server, mode, zxid, sent_us: Some(at_us.saturating_sub(3)) }
}

/// A sample whose zxid counter does not move (5).
fn s(at_us: u64, server: u32, mode: ServerMode, epoch: u64) -> ModeSample {
    z(at_us, server, mode, epoch, 5)
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
    let r = analyze_modes(&series(&[[(Leader, 1), (Follower, 1), (Follower, 1)]; 5]), &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!((r.leader_changes, r.elections), (0, 0));
    assert_eq!(r.leaders_seen, vec![1]);
    assert!(r.headline().starts_with("never more than one leader"));
}

#[test]
fn deposed_leader_with_a_static_zxid_is_an_overlap_not_a_failure() {
    // What a thawed leader does (seen here: 0.8 s at its old epoch, zxid frozen) while the new
    // leader of epoch 2 commits.
    let v = vec![
        z(0, 1, Leader, 1, 0x137e), z(0, 2, Follower, 1, 0x137e), z(0, 3, Follower, 1, 0x137e),
        z(100, 1, Leader, 1, 0x137e), z(100, 2, Leader, 2, 0xb94), z(100, 3, Follower, 2, 0xb94),
        z(200, 1, Leader, 1, 0x137e), z(200, 2, Leader, 2, 0xc00), z(200, 3, Follower, 2, 0xc00),
        z(300, 1, Follower, 2, 0xd5a), z(300, 2, Leader, 2, 0xd5a), z(300, 3, Follower, 2, 0xd5a),
    ];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.rule, "deposed-leader-static-zxid");
    assert_eq!(r.two_leader_intervals, vec![Interval { from_us: 100, to_us: 300, servers: vec![1, 2] }]);
    assert!(r.unsafe_intervals.is_empty());
    assert_eq!(r.deposed_overlap_ms, 0.2);
    let h = r.headline();
    assert!(h.contains("rule deposed-leader-static-zxid"), "{h}");
    assert!(h.contains("1 (leader, epoch 1, zxid 0x10000137e→0x10000137e: frozen)"), "{h}");
    assert!(h.contains("2 (leader, epoch 2, zxid 0x200000b94→0x200000d5a: advancing)"), "{h}");
    assert_eq!(r.deposed_overlaps, 1);
}

#[test]
fn two_leaders_of_one_epoch_fail() {
    let r = analyze_modes(&series(&[
        [(Leader, 1), (Follower, 1), (Follower, 1)],
        [(Leader, 1), (Leader, 1), (Follower, 1)],
        [(NotServing, 0), (Leader, 2), (Follower, 2)],
    ]), &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.rule, "same-epoch-leaders");
    assert_eq!(r.unsafe_intervals, vec![Interval { from_us: 100, to_us: 200, servers: vec![1, 2] }]);
    assert!(r.headline().contains("TWO LEADERS IN ONE EPOCH"), "{}", r.headline());
}

#[test]
fn an_older_epoch_leader_whose_zxid_advances_fails() {
    // The new leader of epoch 2 is idle (zxid 3 throughout); only the deposed one commits.
    let v = vec![
        z(0, 1, Leader, 1, 10), z(0, 2, Leader, 2, 3),
        z(100, 1, Leader, 1, 42), z(100, 2, Leader, 2, 3),
        z(200, 1, Follower, 2, 3), z(200, 2, Leader, 2, 3),
    ];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
    assert_eq!(r.rule, "older-epoch-authority-advancing");
    let h = r.headline();
    assert!(h.contains("rule older-epoch-authority-advancing"), "{h}");
    assert!(h.contains("1 (leader, epoch 1, zxid 0x10000000a→0x10000002a: advancing)"), "{h}");
    assert!(h.contains("2 (leader, epoch 2, zxid 0x200000003→0x200000003: frozen)"), "{h}");
    let e = r.evidence.as_ref().unwrap();
    assert_eq!((e.from_us, e.to_us, e.rule.as_deref()), (0, 200, Some("older-epoch-authority-advancing")));
}

#[test]
fn two_leaders_both_advancing_fail_whatever_their_epochs() {
    // Each leader committed during the overlap: the newer epoch does not make the older one's
    // commits safe.
    let v = vec![
        z(0, 1, Leader, 1, 10), z(0, 2, Leader, 2, 3),
        z(100, 1, Leader, 1, 42), z(100, 2, Leader, 2, 9),
        z(200, 1, Follower, 2, 9), z(200, 2, Leader, 2, 12),
    ];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
    assert_eq!(r.rule, "two-authorities-advancing");
    assert!(r.headline().contains("TWO WRITABLE LEADERS (both zxids advanced)"), "{}", r.headline());
}

#[test]
fn a_standalone_and_a_leader_of_one_epoch_both_advancing_fail() {
    // Counter-example (a): a standalone at epoch 3 beside a leader at epoch 3, both committing.
    // Only leaders' epochs used to be compared, so this passed as a "deposed" overlap whose
    // zxid was "frozen".
    let v = vec![
        z(0, 1, Standalone, 3, 5), z(0, 2, Leader, 3, 5), z(0, 3, Follower, 3, 5),
        z(100, 1, Standalone, 3, 7), z(100, 2, Leader, 3, 6), z(100, 3, Follower, 3, 6),
        z(200, 1, Standalone, 3, 9), z(200, 2, Leader, 3, 8), z(200, 3, Follower, 3, 8),
        z(300, 1, Down, 0, 0), z(300, 2, Leader, 3, 8), z(300, 3, Follower, 3, 8),
    ];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
    assert_eq!(r.rule, "two-authorities-advancing");
    assert_eq!(r.unsafe_intervals, vec![Interval { from_us: 0, to_us: 300, servers: vec![1, 2] }]);
    let h = r.headline();
    assert!(h.starts_with("STANDALONE AND LEADER BOTH WRITABLE"), "{h}");
    assert!(h.contains("1 (standalone, epoch 3, zxid 0x300000005→0x300000009: advancing)"), "{h}");
    assert!(h.contains("2 (leader, epoch 3, zxid 0x300000005→0x300000008: advancing)"), "{h}");
    assert!(!h.contains("frozen"), "{h}");
}

#[test]
fn a_frozen_standalone_beside_a_leader_of_its_epoch_fails() {
    // Neither is deposed by a newer epoch: both could write, though only the leader did.
    let v = vec![
        z(0, 1, Standalone, 3, 5), z(0, 2, Leader, 3, 5),
        z(100, 1, Standalone, 3, 5), z(100, 2, Leader, 3, 6),
        z(200, 1, Down, 0, 0), z(200, 2, Leader, 3, 7),
    ];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
    assert_eq!(r.rule, "same-epoch-authorities");
}

#[test]
fn an_older_epoch_standalone_frozen_beside_a_leader_is_deposed() {
    // The 1→3 restart: the old standalone's last answer (epoch 0, frozen) beside the new
    // ensemble's leader of epoch 1, which commits.
    let v = vec![
        z(0, 1, Standalone, 0, 40), z(0, 2, Leader, 1, 0),
        z(100, 1, Standalone, 0, 40), z(100, 2, Leader, 1, 4),
        z(200, 1, Down, 0, 0), z(200, 2, Leader, 1, 9),
    ];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.rule, "deposed-leader-static-zxid");
    assert!(r.headline().contains("1 (standalone, epoch 0, zxid 0x28→0x28: frozen)"), "{}", r.headline());
}

#[test]
fn a_last_known_leader_that_stops_answering_is_unknown_not_pass() {
    let v = vec![
        s(0, 1, Leader, 1), s(0, 2, Follower, 1), s(0, 3, Follower, 1),
        s(100, 1, Unknown, 0), s(100, 2, Leader, 2), s(100, 3, Follower, 2),
        s(200, 1, Unknown, 0), s(200, 2, Leader, 2), s(200, 3, Follower, 2),
        s(300, 1, Follower, 2), s(300, 2, Leader, 2), s(300, 3, Follower, 2),
    ];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Unknown, "{r:?}");
    assert_eq!(r.rule, "missing-evidence");
    assert_eq!(r.missing_evidence_intervals, vec![Interval { from_us: 100, to_us: 300, servers: vec![2, 1] }]);
}

#[test]
fn a_deposed_leader_that_then_stops_answering_hides_nothing() {
    // Leader removal by reconfig, seen here: zk4 keeps saying `leader` at epoch 1 (frozen) next
    // to the new leader zk3 of epoch 2, then is stopped and one probe times out.
    let v = vec![
        z(0, 3, Follower, 1, 9), z(0, 4, Leader, 1, 9),
        z(100, 3, Leader, 2, 1), z(100, 4, Leader, 1, 9),
        z(200, 3, Leader, 2, 4), z(200, 4, Unknown, 0, 0),
        z(300, 3, Leader, 2, 6), z(300, 4, Down, 0, 0),
    ];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.rule, "deposed-leader-static-zxid");
    assert!(r.missing_evidence_intervals.is_empty());
}

#[test]
fn a_hand_off_within_one_tick_is_not_two_leaders() {
    // One tick, per-probe timestamps: zk1 still answered `leader` (epoch 1) at 101 µs, zk2 had
    // taken over (epoch 2) when it answered at 104 µs; zk1 follows at the next tick. The overlap
    // starts at zk2's own answer (not at a shared tick time) and zk1's zxid did not move: a
    // hand-off, not two writable leaders.
    let v = vec![
        z(0, 1, Leader, 1, 7), z(2, 2, Follower, 1, 7),
        z(101, 1, Leader, 1, 7), z(104, 2, Leader, 2, 1),
        z(201, 1, Follower, 2, 3), z(204, 2, Leader, 2, 3),
    ];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.rule, "deposed-leader-static-zxid");
    assert_eq!(r.two_leader_intervals, vec![Interval { from_us: 104, to_us: 201, servers: vec![1, 2] }]);
    assert!(r.unsafe_intervals.is_empty());
}

#[test]
fn mode_holds_until_next_sample_of_that_server() {
    // zk1's last word is "leader" at 0; zk2 becomes leader at 50: overlap from 50 until zk1's
    // next sample at 120.
    let v =
        vec![s(0, 1, Leader, 1), s(0, 2, Follower, 1), s(50, 2, Leader, 2), s(120, 1, Down, 0), s(150, 2, Leader, 2)];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.two_leader_intervals, vec![Interval { from_us: 50, to_us: 120, servers: vec![1, 2] }]);
    assert_eq!(r.verdict, Verdict::Pass, "zk1 at epoch 1 with a frozen zxid is deposed: {r:?}");
}

#[test]
fn a_writable_standalone_beside_a_leader_fails() {
    // The 1→3 new-first hazard: the standalone keeps committing (its zxid advances) while the
    // new servers' leader serves.
    let v = vec![
        z(0, 1, Standalone, 0, 100), z(0, 2, Down, 0, 0), z(0, 3, Down, 0, 0),
        z(100, 1, Standalone, 0, 180), z(100, 2, Leader, 1, 0), z(100, 3, Follower, 1, 0),
        z(150, 1, Standalone, 0, 260),
        z(200, 1, Down, 0, 0), z(200, 2, Leader, 1, 3), z(200, 3, Follower, 1, 3),
        z(300, 1, Follower, 1, 3), z(300, 2, Leader, 1, 3), z(300, 3, Follower, 1, 3),
    ];
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
    // Both zxids advanced (the standalone's and the new leader's): the first rule that fires.
    assert_eq!(r.rule, "two-authorities-advancing");
    assert!(r.headline().contains("STANDALONE AND LEADER BOTH WRITABLE"), "{}", r.headline());
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
    ]), &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.leader_changes, 3);
    assert_eq!(r.elections, 3);
    assert_eq!(r.leaders_seen, vec![1, 2, 3]);
}

#[test]
fn no_samples_is_unknown() {
    let r = analyze_modes(&[], &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Unknown);
}

