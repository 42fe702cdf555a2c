//! Audit on literal histories and literal read-backs.

use super::*;
use crate::record::{OfflineRead, OpEvent, OpKind, Outcome, ReadVia};

fn ev(kind: OpKind, path: &str, outcome: Outcome, token: &str, version: i64) -> OpEvent {
    OpEvent {
        intended_us: 0,
        start_us: 0,
        end_us: 1,
        kind,
        session: 0,
        path: path.into(),
        outcome,
        error: None,
        token: token.into(),
        version,
    }
}

fn set(k: u32, tok: &str, v: i64) -> OpEvent {
    ev(OpKind::Set, &format!("/zkchaos/keys/k{k}"), Outcome::Ok, tok, v)
}

fn create(n: u32, tok: &str) -> OpEvent {
    ev(OpKind::Create, &format!("/zkchaos/seq/s-{n:010}"), Outcome::Ok, tok, -1)
}

#[derive(Clone)]
struct Rb(ServerReadback);

impl Rb {
    fn new(server: u32) -> Rb {
        Rb(ServerReadback::empty(server))
    }
    fn key(mut self, k: u32, v: i64, tok: Option<&str>) -> Rb {
        self.0.keys.insert(format!("/zkchaos/keys/k{k}"), (v, tok.map(Into::into)));
        self
    }
    fn seq(mut self, n: u32, tok: &str) -> Rb {
        self.0.seq.insert(&format!("/zkchaos/seq/s-{n:010}"), Some(tok));
        self
    }
    fn on(self, server: u32) -> ServerReadback {
        ServerReadback { server, ..self.0 }
    }
}

/// History: two sets of k0 (v1, v2), one of k1 (v1), two creates.
fn history() -> Vec<OpEvent> {
    vec![set(0, "a", 1), set(0, "b", 2), set(1, "c", 1), create(1, "d"), create(2, "e")]
}

fn full() -> Rb {
    Rb::new(1).key(0, 2, Some("b")).key(1, 1, Some("c")).seq(1, "d").seq(2, "e")
}

#[test]
fn all_present_passes() {
    let r = audit(&history(), &[full().on(1), full().on(2), full().on(3)]);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.acked_writes, 5);
    assert_eq!(r.lost_writes, 0);
    assert_eq!(r.divergent_keys, 0);
    assert_eq!(r.headline(), "no acknowledged write lost (5 checked on 3 servers)");
}

#[test]
fn wiped_server_loses_everything() {
    let r = audit(&history(), &[Rb::new(1).on(1)]);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.servers[0].missing, 5);
    assert_eq!(r.lost_writes, 5);
    assert_eq!(r.headline(), "DATA LOSS: 5 of 5 acknowledged writes missing on server 1 of 1");
    assert_eq!(r.examples.len(), 4, "one example per path: {:?}", r.examples);
    assert!(r.examples.iter().any(|e| e.path == "/zkchaos/seq/s-0000000002" && e.problem.contains("absent")));
}

#[test]
fn all_servers_wiped_headline() {
    let empty = Rb::new(0);
    let r = audit(&history(), &[empty.clone().on(1), empty.clone().on(2), empty.on(3)]);
    assert_eq!(r.headline(), "DATA LOSS: 5 of 5 acknowledged writes missing on all 3 servers");
    // Examples spread over servers.
    let servers: std::collections::BTreeSet<u32> = r.examples.iter().map(|e| e.server).collect();
    assert_eq!(servers.len(), 3);
    assert!(r.examples.len() <= MAX_EXAMPLES);
}

#[test]
fn stale_version_and_token_mismatch() {
    // k0 back at version 1: the v2 write is lost (v1 is not).
    let r = audit(&history(), &[Rb::new(1).key(0, 1, Some("a")).key(1, 1, Some("c")).seq(1, "d").seq(2, "e").on(1)]);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!((r.servers[0].stale, r.servers[0].missing), (1, 0));
    assert!(r.examples[0].problem.contains("at version 1, acknowledged version 2"), "{:?}", r.examples);
    assert!(r.headline().contains("1 of 5 acknowledged writes stale"), "{}", r.headline());
    // Version 2 but another token: the acknowledged value was replaced after a reset.
    let r = audit(&history(), &[Rb::new(1).key(0, 2, Some("zz")).key(1, 1, Some("c")).seq(1, "d").seq(2, "e").on(1)]);
    assert_eq!(r.servers[0].stale, 1);
    assert!(r.examples[0].problem.contains("holds token zz"));
}

#[test]
fn later_version_from_indeterminate_write_is_fine() {
    let mut h = history();
    h.push(ev(OpKind::Set, "/zkchaos/keys/k0", Outcome::Indeterminate, "x", -1));
    // k0 at version 3 with the indeterminate token: not stale, indeterminate present.
    let r = audit(&h, &[Rb::new(1).key(0, 3, Some("x")).key(1, 1, Some("c")).seq(1, "d").seq(2, "e").on(1)]);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.indeterminate_writes, 1);
    assert_eq!((r.servers[0].indeterminate_present, r.servers[0].indeterminate_absent), (1, 0));
    // Not applied: absent, still fine.
    let r = audit(&h, &[full().on(1)]);
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!((r.servers[0].indeterminate_present, r.servers[0].indeterminate_absent), (0, 1));
}

#[test]
fn indeterminate_create_found_by_token() {
    let mut h = history();
    h.push(ev(OpKind::Create, "", Outcome::Indeterminate, "ic", -1));
    let r = audit(&h, &[full().seq(7, "ic").on(1), full().on(2)]);
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!(r.servers[0].indeterminate_present, 1);
    assert_eq!(r.servers[1].indeterminate_absent, 1);
    // Present on one server only: divergent.
    assert_eq!(r.divergent_seq, 1);
}

#[test]
fn reused_sequence_number_is_missing() {
    let r =
        audit(&history(), &[Rb::new(1).key(0, 2, Some("b")).key(1, 1, Some("c")).seq(1, "other").seq(2, "e").on(1)]);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.servers[0].missing, 1);
    assert!(r.examples[0].problem.contains("holds token other"));
}

#[test]
fn failed_writes_ignored_and_deletes_respected() {
    let mut h = history();
    h.push(ev(OpKind::Set, "/zkchaos/keys/k0", Outcome::Fail, "f", -1));
    h.push(ev(OpKind::Delete, "/zkchaos/seq/s-0000000002", Outcome::Ok, "", -1));
    let no2 = Rb::new(1).key(0, 2, Some("b")).key(1, 1, Some("c")).seq(1, "d");
    let r = audit(&h, &[no2.on(1)]);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.acked_deletes, 1);
    // The deleted znode back again: undone delete.
    let r = audit(&h, &[full().on(1)]);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.servers[0].deletes_undone, 1);
    assert!(r.headline().contains("1 acknowledged deletes undone"), "{}", r.headline());
}

#[test]
fn multi_checks_key_and_created_token() {
    let h = vec![ev(OpKind::Multi, "/zkchaos/keys/k0", Outcome::Ok, "m", 4)];
    let ok = Rb::new(1).key(0, 4, Some("m")).seq(9, "m");
    assert_eq!(audit(&h, &[ok.on(1)]).verdict, Verdict::Pass);
    let no_create = Rb::new(1).key(0, 4, Some("m"));
    let r = audit(&h, &[no_create.on(1)]);
    assert_eq!(r.servers[0].missing, 1);
    assert!(r.examples[0].problem.contains("no sequential znode holds token m"), "{:?}", r.examples);
}

#[test]
fn unreadable_server_is_unknown_unless_loss_elsewhere() {
    let down = ServerReadback::unreadable(2, "connecting to zk2 at 127.0.0.1:1: refused");
    let r = audit(&history(), &[full().on(1), down.clone(), full().on(3)]);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.unreadable[0].server, 2);
    assert_eq!(
        r.headline(),
        "UNKNOWN: server 2 could not be read (connecting to zk2 at 127.0.0.1:1: refused); \
         no acknowledged write lost on the other 2 servers (5 checked)"
    );
    let r = audit(&history(), &[Rb::new(1).on(1), down]);
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.headline().contains("server 2 could not be read"), "{}", r.headline());
    assert_eq!(audit(&history(), &[]).verdict, Verdict::Unknown);
}

#[test]
fn divergent_keys_counted() {
    let other = Rb::new(2).key(0, 3, Some("late")).key(1, 1, Some("c")).seq(1, "d").seq(2, "e");
    let r = audit(&history(), &[full().on(1), other.on(2)]);
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!(r.divergent_keys, 1);
    assert_eq!(r.divergent_seq, 0);
}

#[test]
fn report_round_trips_json() {
    let r = audit(&history(), &[Rb::new(1).on(1)]);
    let j = serde_json::to_string(&r).unwrap();
    assert!(j.contains("\"verdict\":\"FAIL\""));
    let back: AuditReport = serde_json::from_str(&j).unwrap();
    assert_eq!(back, r);
}

#[test]
fn multi_create_deleted_later_is_excused() {
    let h = vec![
        ev(OpKind::Multi, "/zkchaos/keys/k0", Outcome::Ok, "m", 4),
        ev(OpKind::Delete, "/zkchaos/seq/s-0000000009", Outcome::Ok, "", -1),
    ];
    assert_eq!(audit(&h, &[Rb::new(1).key(0, 4, Some("m")).on(1)]).verdict, Verdict::Pass);
    let h2 = vec![h[0].clone(), ev(OpKind::Multi, "/zkchaos/keys/k1", Outcome::Ok, "n", 1), h[1].clone()];
    let r = audit(&h2, &[Rb::new(1).key(0, 4, Some("m")).key(1, 1, Some("n")).on(1)]);
    assert_eq!(r.servers[0].missing, 1, "two unfound, one excused");
}

#[test]
fn an_indeterminate_delete_excuses_its_victim_when_the_driver_recorded_the_path() {
    // As the driver now records it: a delete that timed out names its victim (the path of an
    // acknowledged create); if the delete was applied, the create's znode is legitimately gone.
    let mut del = ev(OpKind::Delete, "/zkchaos/seq/s-0000000002", Outcome::Indeterminate, "", -1);
    del.error = Some(crate::record::ErrorClass::Timeout);
    let events = vec![create(1, "d"), create(2, "e"), del];
    let gone = Rb::new(1).seq(1, "d").on(1);
    let r = audit(&events, &[gone]);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.headline());
    // Without the path (the old recording) the same history read as a lost write.
    let mut blind = events.clone();
    blind[2].path.clear();
    assert_eq!(audit(&blind, &[Rb::new(1).seq(1, "d").on(1)]).verdict, Verdict::Fail);
}

/// Tokens as the workload writes them (`<session>-<index>`, held packed) next to a znode someone
/// else created (name and value not the workload's).
#[test]
fn workload_tokens_and_a_foreign_znode() {
    let h = vec![
        set(0, "1-0", 1),
        create(1, "2-1"),
        create(2, "3-2"),
        ev(OpKind::Create, "", Outcome::Indeterminate, "0-4", -1),
        ev(OpKind::Multi, "/zkchaos/keys/k1", Outcome::Ok, "1-5", 1),
    ];
    let keys = Rb::new(0).key(0, 1, Some("1-0")).key(1, 1, Some("1-5"));
    let mut good = keys.clone().seq(1, "2-1").seq(2, "3-2").seq(9, "1-5");
    good.0.seq.insert("/zkchaos/seq/imported", Some("hello"));
    // Sequence number 2 reused by another write, the multi's znode gone, the indeterminate create
    // applied, the foreign znode absent.
    let bad = keys.seq(1, "2-1").seq(2, "3-20").seq(7, "0-4");
    let r = audit(&h, &[good.clone().on(1)]);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.headline());
    assert_eq!((r.servers[0].indeterminate_present, r.servers[0].indeterminate_absent), (0, 1));
    assert_eq!(r.servers[0].seq_read, 4);

    let r = audit(&h, &[good.on(1), bad.on(2)]);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!((r.acked_writes, r.indeterminate_writes, r.lost_writes), (4, 1, 2));
    assert_eq!((r.servers[1].missing, r.servers[1].stale, r.servers[1].indeterminate_present), (2, 0, 1));
    assert_eq!(r.servers[0].missing, 0);
    assert_eq!(r.divergent_seq, 3, "s-0000000007, s-0000000009 and imported");
    let problems: Vec<&str> = r.examples.iter().map(|e| e.problem.as_str()).collect();
    assert!(problems.contains(&"acknowledged create missing: path holds token 3-20, acknowledged token 3-2"), "{problems:?}");
    assert!(problems.contains(&"acknowledged multi missing: no sequential znode holds token 1-5"), "{problems:?}");
}

/// zk3 read offline: a copy of the data volume of a server the procedure left down.
fn offline(rb: ServerReadback, unchanged: Option<bool>) -> ServerReadback {
    let server = rb.server;
    ServerReadback {
        via: Some(ReadVia::Offline),
        offline: Some(OfflineRead {
            server,
            method: crate::record::OFFLINE_METHOD.into(),
            reason: "left down by the procedure".into(),
            original_unchanged: unchanged,
            original_files: Some(5),
            original_sha256_before: Some("ab".into()),
            original_sha256_after: Some("ab".into()),
            elapsed_ms: 4000,
            down_since_us: None,
        }),
        ..rb
    }
}

#[test]
fn a_server_read_offline_is_audited_like_a_live_one_and_extra_writes_are_not_loss() {
    // zk3 logged a proposal it never saw committed: k0 at version 3 and an extra znode.
    let extra = full().key(0, 3, Some("x")).seq(3, "x").on(3);
    let r = audit(&history(), &[full().on(1), full().on(2), offline(extra, Some(true))]);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.headline(), "no acknowledged write lost (5 checked on 3 servers)");
    assert_eq!(r.servers.iter().map(|s| s.via).collect::<Vec<_>>(), [ReadVia::Live, ReadVia::Live, ReadVia::Offline]);
    assert_eq!(r.servers[2].offline.as_ref().unwrap().original_unchanged, Some(true));
    assert_eq!(
        r.read_methods(),
        "read live: zk1, zk2; zk3 offline (standalone copy of the data volume, original volume unchanged)"
    );
    // The per-server figures say so in the summary's JSON too; live ones carry no `offline`.
    let json = serde_json::to_value(&r.servers).unwrap();
    assert_eq!(json[0]["via"], "live");
    assert!(json[0].get("offline").is_none());
    assert_eq!(json[2]["via"], "offline");
    assert_eq!(json[2]["offline"]["method"], "standalone copy of the data volume");
}

#[test]
fn a_server_read_offline_that_misses_an_acknowledged_write_fails_and_an_unreadable_copy_is_unknown() {
    // One write after another; the copy holds the last create (e) but not the one before it
    // (d): a hole in its log, which is loss even offline (a missing tail would not be).
    let h: Vec<OpEvent> = history()
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.start_us = 10 * i as u64;
            e.end_us = 10 * i as u64 + 5;
            e
        })
        .collect();
    let lost = Rb::new(0).key(0, 2, Some("b")).key(1, 1, Some("c")).seq(2, "e").on(3);
    let r = audit(&h, &[full().on(1), full().on(2), offline(lost, None)]);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.headline(), "DATA LOSS: 1 of 5 acknowledged writes missing on server 3 of 3");
    assert!(r.read_methods().contains("zk3 offline (standalone copy of the data volume, original volume not verified)"));
    let copy_failed = offline(ServerReadback::unreadable(3, "the copy did not serve within 60 s"), Some(true));
    let r = audit(&history(), &[full().on(1), full().on(2), copy_failed]);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert!(r.headline().contains("server 3 could not be read (the copy did not serve"), "{}", r.headline());
    assert!(r.read_methods().ends_with("original volume unchanged, unreadable)"), "{}", r.read_methods());
}

#[test]
fn a_server_taken_down_is_judged_on_what_was_acknowledged_before_it_went_down() {
    // zk3 stopped at t = 100: it has k0 at version 1 and s-1 only. The later set of k0, create
    // of s-2 and delete of s-1 completed after it went down.
    let mut h = vec![set(0, "a", 1), create(1, "d")];
    let mut later = vec![set(0, "b", 2), create(2, "e"), ev(OpKind::Delete, "/zkchaos/seq/s-0000000001", Outcome::Ok, "", -1)];
    for e in &mut later {
        e.end_us = 100;
    }
    h.extend(later);
    let now = Rb::new(0).key(0, 2, Some("b")).seq(2, "e");
    let old = Rb::new(0).key(0, 1, Some("a")).seq(1, "d").on(3);
    let mut old = offline(old, Some(true));
    old.offline.as_mut().unwrap().down_since_us = Some(100);
    let r = audit(&h, &[now.clone().on(1), now.clone().on(2), old.clone()]);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.servers[2].acked_after_down, 3);
    assert_eq!(r.servers[0].acked_after_down, 0);
    // Without the cutoff it would be judged on everything, and fail.
    old.offline.as_mut().unwrap().down_since_us = None;
    let r = audit(&h, &[now.clone().on(1), now.on(2), old]);
    assert_eq!(r.verdict, Verdict::Fail);
    // A copy missing k0's first set but holding s-1, whose create was issued after that set
    // was acknowledged: a hole in its log, a loss.
    h[1].start_us = 2;
    h[1].end_us = 3;
    let lost = offline(Rb::new(0).seq(1, "d").on(3), Some(true));
    let mut lost = lost;
    lost.offline.as_mut().unwrap().down_since_us = Some(100);
    let r = audit(&h, &[Rb::new(0).key(0, 2, Some("b")).seq(2, "e").on(1), lost.clone()]);
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!((r.servers[1].missing, r.servers[1].tail_not_logged), (1, 0), "{r:?}");
    // The same copy when the set came last (acknowledged after the create was issued): the tail
    // a follower need not have logged when it stopped, not a loss.
    h.swap(0, 1);
    h[0].start_us = 0;
    h[0].end_us = 1;
    h[1].start_us = 2;
    h[1].end_us = 3;
    let r = audit(&h, &[Rb::new(0).key(0, 2, Some("b")).seq(2, "e").on(1), lost]);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!((r.servers[1].missing, r.servers[1].tail_not_logged), (0, 1), "{r:?}");
    // A live server gets no such allowance.
    let r = audit(&h, &[Rb::new(0).key(0, 2, Some("b")).seq(2, "e").on(1), Rb::new(0).seq(1, "d").on(3)]);
    assert_eq!(r.verdict, Verdict::Fail);
}
