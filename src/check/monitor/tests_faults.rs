//! Leader analysis with the harness's own fault record: servers zkchaos froze or stopped.

use super::*;
use crate::record::ServerMode::{self, *};
use crate::record::{Mark, MarkKind};

const MS: u64 = 1_000;
/// The monitor's probe timeout: a silent probe is written this long after it was sent.
const TIMEOUT_US: u64 = 150 * MS;

/// A sample as the poller writes it: answered probes 3 µs after sending, silent ones at the
/// timeout; serving servers report zxid `epoch << 32 | counter`.
fn z(at_ms: u64, server: u32, mode: ServerMode, epoch: u64, counter: u64) -> ModeSample {
    let at_us = at_ms * MS;
    let zxid = mode.is_serving().then_some(epoch << 32 | counter);
    let sent = if mode == Unknown { at_us - TIMEOUT_US } else { at_us - 3 };
    ModeSample { at_us, server, mode, zxid, sent_us: Some(sent) }
}

fn mark(at_ms: u64, kind: MarkKind, label: &str) -> Mark {
    Mark::new(at_ms * MS, kind, label, None)
}

/// The marks of `kind = "pause"`, `target = "leader"`, `duration_ms = 13000` on zk5, as the
/// procedure emits them (`procedure_pause_leader_binds_the_current_leader_and_thaws_it`).
fn pause_marks() -> Vec<Mark> {
    vec![
        mark(11_990, MarkKind::Start, "docker pause zk5"),
        mark(12_000, MarkKind::End, "docker pause zk5"),
        mark(12_000, MarkKind::Start, "fault:pause zk5"),
        mark(12_000, MarkKind::Start, "pause zk5"),
        mark(25_000, MarkKind::End, "pause zk5"),
        mark(25_000, MarkKind::End, "fault:pause zk5"),
        mark(25_000, MarkKind::Start, "docker unpause zk5"),
        mark(25_050, MarkKind::End, "docker unpause zk5"),
    ]
}

/// Five servers polled every 200 ms for 30 s: zk5 leads epoch 1 until frozen at 12 s; zk3 is
/// elected at epoch 2 at 14 s and commits; zk5 answers again at 25.2 s with `thawed` (mode,
/// epoch, counter), then follows.
fn pause_history(thawed: &[(ServerMode, u64, u64)]) -> Vec<ModeSample> {
    let mut v = Vec::new();
    let mut thawed = thawed.iter();
    for tick in 1..=150u64 {
        let t = tick * 200;
        let counter = t / 100;
        for id in 1..=5 {
            let s = match (id, t) {
                (5, ..=12_000) => z(t, 5, Leader, 1, counter),
                (_, ..=12_000) => z(t, id, Follower, 1, counter),
                (5, ..=25_000) => z(t, 5, Unknown, 0, 0),
                (5, _) => match thawed.next() {
                    Some(&(mode, e, c)) => z(t, 5, mode, e, c),
                    None => z(t, 5, Follower, 2, counter),
                },
                (_, ..14_000) => z(t, id, NotServing, 0, 0),
                (3, _) => z(t, 3, Leader, 2, counter),
                _ => z(t, id, Follower, 2, counter),
            };
            v.push(s);
        }
    }
    v
}

#[test]
fn a_paused_leader_thawed_at_its_old_epoch_with_a_frozen_zxid_passes() {
    // zk5's last answer before the freeze: zxid 1:120; after the thaw it still says leader at
    // 1:120 (frozen) for one probe beside zk3 of epoch 2, then follows.
    let v = pause_history(&[(Leader, 1, 120)]);
    let r = analyze_modes(&v, &HarnessFaults::from_marks(&pause_marks()));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.headline());
    assert_eq!(r.rule, "harness-fault-not-evidence");
    assert!(r.missing_evidence_intervals.is_empty(), "{:?}", r.missing_evidence_intervals);
    assert_eq!(
        r.harness_holds,
        vec![HarnessHold { server: 5, what: "frozen".into(), from_us: 12_000 * MS, to_us: Some(25_000 * MS) }]
    );
    assert_eq!(r.deposed_overlaps, 1);
    let h = r.headline();
    assert!(h.contains("rule harness-fault-not-evidence"), "{h}");
    assert!(h.contains("server 5 frozen by the harness 12.000-25.000 s: its silence is not evidence of writes"), "{h}");
    assert!(h.contains("5 (leader, epoch 1, zxid 0x100000078→0x100000078: frozen)"), "{h}");
}

#[test]
fn the_same_pause_without_the_harness_record_is_missing_evidence() {
    let v = pause_history(&[(Leader, 1, 120)]);
    let r = analyze_modes(&v, &HarnessFaults::default());
    assert_eq!(r.verdict, Verdict::Unknown, "{}", r.headline());
    assert_eq!(r.rule, "missing-evidence");
    assert!(r.harness_holds.is_empty());
}

#[test]
fn a_thawed_leader_whose_zxid_advances_beside_the_new_leader_fails() {
    let v = pause_history(&[(Leader, 1, 120), (Leader, 1, 125), (Leader, 1, 131)]);
    let r = analyze_modes(&v, &HarnessFaults::from_marks(&pause_marks()));
    assert_eq!(r.verdict, Verdict::Fail, "{}", r.headline());
    assert_eq!(r.rule, "two-authorities-advancing");
    assert!(r.headline().contains("5 (leader, epoch 1, zxid 0x100000078→0x100000083: advancing)"), "{}", r.headline());
}

#[test]
fn a_silent_probe_sent_after_the_thaw_is_still_missing_evidence() {
    // The probe written at 25.2 s was sent at 25.05 s, after the harness released zk5: its
    // silence is not explained by the freeze.
    let v = pause_history(&[(Unknown, 0, 0)]);
    let r = analyze_modes(&v, &HarnessFaults::from_marks(&pause_marks()));
    assert_eq!(r.verdict, Verdict::Unknown, "{}", r.headline());
    assert_eq!(r.rule, "missing-evidence");
}

#[test]
fn a_leader_the_harness_killed_hides_nothing_until_it_is_started() {
    // The marks of `kill` then `start` on zk1 (`fault:kill zk1` ends after the start returns).
    let marks = vec![
        mark(1_000, MarkKind::Start, "kill zk1"),
        mark(1_050, MarkKind::End, "kill zk1"),
        mark(1_050, MarkKind::Start, "fault:kill zk1"),
        mark(2_000, MarkKind::Start, "start zk1"),
        mark(2_400, MarkKind::End, "start zk1"),
        mark(2_400, MarkKind::End, "fault:kill zk1"),
    ];
    let v = vec![
        z(1_000, 1, Leader, 1, 9), z(1_000, 2, Follower, 1, 9),
        z(1_200, 1, Unknown, 0, 0), z(1_200, 2, NotServing, 0, 0),
        z(1_400, 1, Unknown, 0, 0), z(1_400, 2, Leader, 2, 1),
        z(1_600, 1, Unknown, 0, 0), z(1_600, 2, Leader, 2, 4),
        z(2_600, 1, Follower, 2, 6), z(2_600, 2, Leader, 2, 6),
    ];
    let r = analyze_modes(&v, &HarnessFaults::from_marks(&marks));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.headline());
    assert_eq!(r.rule, "harness-fault-not-evidence");
    assert!(r.headline().contains("server 1 stopped by the harness 1.050-2.000 s"), "{}", r.headline());
}

#[test]
fn holds_are_read_from_the_marks_as_the_procedure_emits_them() {
    let marks = vec![
        mark(500, MarkKind::Start, "stop zk2"),
        Mark::failed_end(600 * MS, "stop zk2", "timeout".into()),
        mark(700, MarkKind::Start, "wait zk2 serving"),
        mark(1_000, MarkKind::Start, "stop zk3"),
        mark(1_200, MarkKind::End, "stop zk3"),
        mark(3_000, MarkKind::Start, "restart zk3"),
        mark(4_000, MarkKind::Start, "wipe zk4"),
        mark(4_500, MarkKind::End, "wipe zk4"),
        mark(5_000, MarkKind::Start, "fault:pause zk1"),
    ];
    let f = HarnessFaults::from_marks(&marks);
    let held = |what: &str, server, from_ms: u64, to_ms: Option<u64>| HarnessHold {
        server,
        what: what.into(),
        from_us: from_ms * MS,
        to_us: to_ms.map(|t| t * MS),
    };
    // A failed stop holds nothing; a pause never ended lasts to the end of the record.
    assert_eq!(
        f.holds,
        vec![held("stopped", 3, 1_200, Some(3_000)), held("stopped", 4, 4_500, None), held("frozen", 1, 5_000, None)]
    );
    assert_eq!(f.holding(3, 2_000 * MS), Some(0));
    assert_eq!(f.holding(3, 3_001 * MS), None);
    assert_eq!(f.holding(2, 650 * MS), None);
    assert_eq!(f.holding(1, u64::MAX), Some(2));
}
