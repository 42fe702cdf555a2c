//! Audit on literal histories and literal read-backs.

use super::*;
use crate::record::{OpEvent, OpKind, Outcome, SeqNodes};
use std::collections::BTreeMap;

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
        Rb(ServerReadback { server, error: None, keys: BTreeMap::new(), seq: SeqNodes::new(), ephemerals: None })
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
