//! The check on literal files, as the driver and the read-back write them.

use super::*;
use crate::record::{load_readbacks, read_events, ServerMode};

/// `events.csv` rows as the driver records them: an `ephemeral` create then its `close` (the
/// close's intended start is its own start), an abandoned session, a close that was not
/// answered, a create that never got a session, and ordinary load around them.
const EVENTS: &str = "\
intended_us,start_us,end_us,kind,session,path,outcome,error,token,version
1000000,1000040,1000900,get,0,/zkchaos/keys/k3,ok,,,4
1010000,1010030,1013000,ephemeral,1,/zkchaos/eph/1-5,ok,,1-5,10000
1013010,1013010,1014100,close,1,/zkchaos/eph/1-5,ok,,1-5,10000
1020000,1020030,1023000,ephemeral,2,/zkchaos/eph/2-6,ok,,2-6,10000
1023010,1023010,1024100,close,2,/zkchaos/eph/2-6,ok,,2-6,10000
1030000,1030020,1033000,ephemeral-abandon,3,/zkchaos/eph/3-7,ok,,3-7,10000
1040000,1040020,1043000,ephemeral,0,/zkchaos/eph/0-8,indeterminate,Timeout,0-8,10000
1043010,1043010,3043010,close,0,/zkchaos/eph/0-8,indeterminate,Timeout,0-8,10000
1050000,1050020,3050020,ephemeral,1,/zkchaos/eph/1-9,fail,NotConnected,1-9,-1
1060000,1060040,1060700,set,1,/zkchaos/keys/k3,ok,,1-10,5
";

/// `readback.json` as the read-back writes it: zk1 clean, zk2 still lists the closed 1-5 and
/// the abandoned 3-7, zk3 lists the unanswered close's 0-8 and a foreign node.
const READBACK: &str = concat!(
    r#"{"format":1,"servers":["#,
    r#"{"server":1,"error":null,"keys":{},"seq":{},"ephemerals":[]},"#,
    r#"{"server":2,"error":null,"keys":{},"seq":{},"ephemerals":["1-5","3-7"]},"#,
    r#"{"server":3,"error":null,"keys":{},"seq":{},"ephemerals":["0-8","other"]}]}"#
);

fn inputs(readback: &str) -> (Vec<OpEvent>, Vec<ServerReadback>) {
    let dir = tempfile::tempdir().unwrap();
    let (ev, rb) = (dir.path().join("events.csv"), dir.path().join(crate::record::files::READBACK_FILES[1]));
    std::fs::write(&ev, EVENTS).unwrap();
    std::fs::write(&rb, readback).unwrap();
    (read_events(&ev).unwrap(), load_readbacks(&rb).unwrap())
}

fn setup(stop_s: u64) -> EphemeralSetup {
    EphemeralSetup::new(Some(stop_s * 1_000_000), &[], 2000)
}

#[test]
fn a_closed_session_node_still_on_zk2_fails_naming_server_and_node() {
    let (events, rbs) = inputs(READBACK);
    // Load stop at 12 s: the abandoned session's deadline (1.033 s + 10 s + 5 s) has not passed.
    let r = check_ephemerals(&events, &rbs, &setup(12));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!((r.sessions, r.created, r.create_indeterminate), (4, 3, 1));
    assert_eq!((r.closed_acked, r.close_unacknowledged, r.abandoned), (2, 1, 1));
    assert_eq!((r.expected_gone, r.not_judged), (2, 2));
    let by: Vec<(u32, u64, u64, u64)> =
        r.servers.iter().map(|s| (s.server, s.lingering, s.present_not_judged, s.unexplained)).collect();
    assert_eq!(by, [(1, 0, 0, 0), (2, 1, 1, 0), (3, 0, 1, 1)]);
    assert_eq!(r.examples.len(), 1);
    assert_eq!((r.examples[0].server, r.examples[0].path.as_str()), (2, "/zkchaos/eph/1-5"));
    assert!(r.examples[0].problem.contains("close acknowledged at 1014 ms"), "{}", r.examples[0].problem);
    let line = r.headline();
    assert!(line.starts_with("LINGERING EPHEMERALS") && line.contains("zk2 (1)"), "{line}");
    assert_eq!(r.lingering(2), Some(1));
}

#[test]
fn expiry_deadlines_judge_abandoned_and_unanswered_sessions_once_passed() {
    let (events, rbs) = inputs(READBACK);
    // Load stop at 60 s: the abandoned 3-7 (zk2) and the unanswered 0-8 (zk3) must be gone too.
    let r = check_ephemerals(&events, &rbs, &setup(60));
    assert_eq!((r.expected_gone, r.not_judged), (4, 0));
    assert_eq!(r.lingering(2), Some(2));
    assert_eq!(r.lingering(3), Some(1));
    assert!(r.examples.iter().any(|e| e.server == 3 && e.problem.contains("must have expired by 18043 ms")));

    // A leader that starts before the deadline restarts the sessions' clocks.
    let samples = [
        ModeSample::new(500_000, 1, ServerMode::Leader, None),
        ModeSample::new(5_000_000, 1, ServerMode::Down, None),
        ModeSample::new(7_000_000, 2, ServerMode::Leader, None),
    ];
    let s = EphemeralSetup::new(Some(19_000_000), &samples, 2000);
    assert_eq!(s.leader_starts_us, [500_000, 7_000_000]);
    let r = check_ephemerals(&events, &rbs, &s);
    // 3-7: 1.033 + 15 = 16.033 s, moved by the 7 s leader to 22 s: not judged at a 19 s stop.
    assert_eq!(r.lingering(2), Some(1));
    assert_eq!(r.servers[1].present_not_judged, 1);
}

#[test]
fn clean_servers_pass_and_missing_listings_are_unknown() {
    let clean = READBACK.replace(r#"["1-5","3-7"]"#, "[]").replace(r#"["0-8","other"]"#, r#"["0-8"]"#);
    let (events, rbs) = inputs(&clean);
    let r = check_ephemerals(&events, &rbs, &setup(12));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.headline());
    assert!(r.headline().contains("2 sessions ended, checked on 3 servers"), "{}", r.headline());

    // A read-back from before the listing existed, and an unreadable server.
    let old = clean.replace(r#","ephemerals":[]"#, "");
    let (events, rbs) = inputs(&old);
    assert_eq!(check_ephemerals(&events, &rbs, &setup(12)).verdict, Verdict::Unknown);
    let mut rbs = rbs;
    rbs[0] = ServerReadback::unreadable(1, "connecting to zk1: refused");
    let r = check_ephemerals(&events, &rbs, &setup(12));
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.unreadable.len(), 1);

    // No ephemeral operation at all.
    let r = check_ephemerals(&events[..1], &rbs, &setup(12));
    assert_eq!(r.verdict, Verdict::Unknown);
    assert!(r.headline().contains("no ephemeral operation"), "{}", r.headline());
}
