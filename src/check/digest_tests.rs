//! Tests of [`super`] on `mntr` and `srvr` answers copied from real servers
//! (`tests/corpus/mntr/`: zkchaos/zookeeper images, `4lw.commands.whitelist=*`).

use super::*;

/// ZooKeeper 3.8.0 (Debian bookworm), standalone, just started: the whole answer.
const MNTR_380_STANDALONE: &str = include_str!("../../tests/corpus/mntr/3.8.0-standalone.txt");

/// ZooKeeper 3.9.3 (Debian trixie), standalone, just started: the whole answer.
const MNTR_393_STANDALONE: &str = include_str!("../../tests/corpus/mntr/3.9.3-standalone.txt");

/// ZooKeeper 3.8.0 at the end of a rolling 3 → 5 (run e52355): the leader's and a follower's
/// `mntr` and `srvr`, as stored in `mntr.json`.
const MNTR_380_LEADER: &str = include_str!("../../tests/corpus/mntr/3.8.0-quorum-leader.txt");
const SRVR_380_LEADER: &str = include_str!("../../tests/corpus/mntr/3.8.0-quorum-leader.srvr.txt");
const MNTR_380_FOLLOWER: &str = include_str!("../../tests/corpus/mntr/3.8.0-quorum-follower.txt");
const SRVR_380_FOLLOWER: &str = include_str!("../../tests/corpus/mntr/3.8.0-quorum-follower.srvr.txt");

const SRVR_380: &str = "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n\
Latency min/avg/max: 0/0.0/0\nReceived: 6\nSent: 7\nConnections: 1\nOutstanding: 0\nZxid: 0x0\nMode: standalone\nNode count: 5\n";

fn scrape(server: u32, mntr: Option<&str>, srvr: Option<&str>, error: Option<&str>) -> MntrScrape {
    MntrScrape { server, at_us: 1, mntr: mntr.map(str::to_owned), srvr: srvr.map(str::to_owned), error: error.map(str::to_owned) }
}

#[test]
fn parses_a_real_mntr_answer() {
    let m = parse_mntr(MNTR_380_STANDALONE);
    assert_eq!(m["zk_digest_mismatches_count"], "0");
    assert_eq!(m["zk_server_state"], "standalone");
    assert_eq!(m["zk_version"], "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC");
    assert_eq!(m["zk_znode_count"], "5");
    assert!(m.len() > 400, "{}", m.len());
}

#[test]
fn both_releases_have_the_mismatch_count_and_no_zxid() {
    for text in [MNTR_380_STANDALONE, MNTR_393_STANDALONE] {
        let m = parse_mntr(text);
        assert_eq!(m.get(MISMATCH_KEY).map(String::as_str), Some("0"));
        assert!(!m.keys().any(|k| k.contains("zxid")), "a zxid key appeared");
        // The mismatch count is the only digest key.
        assert_eq!(m.keys().filter(|k| k.contains("digest")).count(), 1);
    }
    let d = judge_server(&scrape(2, Some(MNTR_393_STANDALONE), None, None));
    assert_eq!((d.verdict, d.mismatches, d.zxid.clone()), (Verdict::Pass, Some(0), None));
    assert!(d.version.unwrap().starts_with("3.9.3"));
}

#[test]
fn a_real_quorum_passes_with_states_and_zxids() {
    let r = judge(Some(&[
        scrape(1, Some(MNTR_380_FOLLOWER), Some(SRVR_380_FOLLOWER), None),
        scrape(5, Some(MNTR_380_LEADER), Some(SRVR_380_LEADER), None),
    ]));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.detail);
    assert_eq!(r.detail, "0 digest mismatches on servers {1,5}");
    let (f, l) = (&r.per_server["zk1"], &r.per_server["zk5"]);
    assert_eq!((f.state.as_deref(), l.state.as_deref()), (Some("follower"), Some("leader")));
    assert_eq!((f.zxid.as_deref(), l.zxid.as_deref()), (Some("0x2000000ef"), Some("0x2000000ef")));
    assert_eq!((f.znode_count, l.znode_count), (Some(414), Some(414)));
}

#[test]
fn zero_everywhere_passes() {
    let r = judge(Some(&[scrape(1, Some(MNTR_380_STANDALONE), Some(SRVR_380), None)]));
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.detail);
    let d = &r.per_server["zk1"];
    assert_eq!(d.mismatches, Some(0));
    assert_eq!(d.state.as_deref(), Some("standalone"));
    assert_eq!(d.zxid.as_deref(), Some("0x0"));
    assert_eq!(d.znode_count, Some(5));
    assert!(d.digest_fields.is_empty());
    assert_eq!(r.detail, "0 digest mismatches on servers {1}");
}

#[test]
fn a_mismatch_fails_naming_the_server() {
    let bad = MNTR_380_STANDALONE.replace("zk_digest_mismatches_count\t0", "zk_digest_mismatches_count\t3");
    let r = judge(Some(&[
        scrape(1, Some(MNTR_380_STANDALONE), Some(SRVR_380), None),
        scrape(2, Some(&bad), Some(SRVR_380), None),
        scrape(3, None, None, Some("four-letter word `mntr` to 127.0.0.1:32771: connect failed: Connection refused")),
    ]));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.detail.contains("zk2: 3"), "{}", r.detail);
    assert!(!r.detail.contains("zk1"), "{}", r.detail);
    assert_eq!(r.per_server["zk2"].verdict, Verdict::Fail);
    assert_eq!(r.per_server["zk3"].verdict, Verdict::Unknown);
}

#[test]
fn missing_field_unreadable_or_not_serving_is_unknown_never_pass() {
    let without: String =
        MNTR_380_STANDALONE.lines().filter(|l| !l.starts_with(MISMATCH_KEY)).map(|l| format!("{l}\n")).collect();
    let r = judge(Some(&[
        scrape(1, Some(MNTR_380_STANDALONE), Some(SRVR_380), None),
        scrape(2, Some(&without), None, None),
        scrape(3, Some("This ZooKeeper instance is not currently serving requests\n"), None, None),
        scrape(4, None, None, Some("no answer within 2s")),
    ]));
    assert_eq!(r.verdict, Verdict::Unknown);
    assert!(r.per_server["zk2"].note.contains("has no zk_digest_mismatches_count"));
    assert!(r.per_server["zk3"].note.contains("not serving"));
    assert!(r.per_server["zk4"].note.contains("no answer within 2s"));
    assert!(r.detail.contains("0 mismatches on {1}"), "{}", r.detail);
    assert_eq!(judge(None).verdict, Verdict::Unknown);
    assert_eq!(judge(Some(&[])).verdict, Verdict::Unknown);
}
