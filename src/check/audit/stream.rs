//! [`AuditStream`]: the acknowledged-write audit in one pass over the events (file order), with
//! the read-backs loaded first. Each write is checked against every server when it is read, so
//! only counters are kept for the writes that are fine; what is kept grows with problems, with
//! deletes (a later delete excuses an absent create) and with creates absent from some server —
//! not with the number of writes. The result is the same [`AuditReport`] as before, examples in
//! the same order: creates' problems, unfound multi creates and undone deletes are noted at the
//! end, in history order, as the whole-history audit did.
//!
//! A server the procedure took down (read offline, [`crate::record::OfflineRead::down_since_us`])
//! is judged on the acknowledged writes and deletes that completed before it went down only:
//! later ones cannot be on it; they are counted as `acked_after_down`. Nor need it hold the
//! last writes before it went down: a follower may not have logged what a quorum without it
//! acknowledged. An absent write is therefore judged on such a server only if it is ordered
//! before some write the copy holds (it completed before that write was issued, so its zxid is
//! lower): a hole in the log, which is loss. Absent writes after every write the copy holds are
//! its unlogged tail, counted as `tail_not_logged`.

use super::{divergence, round_robin, AuditExample, AuditReport, Problem, ServerAudit, ServerIndex, UnreadableServer};
use super::{Write, MAX_EXAMPLES};
use crate::check::Verdict;
use crate::record::seqnodes::PathSet;
use crate::record::{OpEvent, OpKind, Outcome, ServerReadback};
use std::collections::{BTreeMap, HashSet};

/// An acknowledged create to judge at the end (absent, or holding another token).
struct PendingCreate {
    index: u64,
    /// When the create was acknowledged, µs.
    end_us: u64,
    path: String,
    /// `None`: the path is absent (excused if deleted); otherwise the problem found.
    problem: Option<Problem>,
}

struct ServerState<'a> {
    rb: &'a ServerReadback,
    /// A server taken down by the procedure (read offline): operations that completed at or
    /// after this time (µs since the epoch) are not expected on it.
    cutoff: Option<u64>,
    /// Read offline (a copy of its volume): an absent write is judged by the hole rule.
    offline: bool,
    idx: Option<ServerIndex<'a>>,
    sa: ServerAudit,
    examples: BTreeMap<&'static str, Vec<AuditExample>>,
    noted: HashSet<String>,
    creates: Vec<PendingCreate>,
    multi_unfound: Vec<(u64, String, String)>,
    undone: Vec<String>,
    /// Offline servers: the latest issue time of an acknowledged write found on the copy, µs.
    horizon_us: Option<u64>,
    /// Offline servers: problems held until the horizon is known (index, kind, path, problem,
    /// acknowledgement time).
    held: Vec<(u64, OpKind, String, Problem, u64)>,
}

impl ServerState<'_> {
    /// The write `e` (acknowledged) is on this server: it moves an offline server's horizon.
    fn holds(&mut self, e: &OpEvent) {
        if self.offline {
            self.horizon_us = self.horizon_us.max(Some(e.start_us));
        }
    }

    /// Whether `e` completed while this server was down (so its outcome cannot be on it).
    fn after_down(&self, e: &OpEvent) -> bool {
        self.cutoff.is_some_and(|c| e.end_us >= c)
    }

    fn note(&mut self, category: &'static str, path: &str, problem: String) {
        let list = self.examples.entry(category).or_default();
        if list.len() < MAX_EXAMPLES && self.noted.insert(path.to_string()) {
            list.push(AuditExample { server: self.rb.server, path: path.to_string(), problem });
        }
    }
}

/// The audit fed one event at a time (see the module doc).
pub struct AuditStream<'a> {
    readbacks: &'a [ServerReadback],
    servers: Vec<ServerState<'a>>,
    acked: u64,
    acked_deletes: u64,
    indeterminate: u64,
    deleted: PathSet,
    /// Recorded create paths absent from some readable server.
    absent_creates: PathSet,
    /// Acknowledged writes (by index) lost on some server.
    lost: HashSet<u64>,
}

impl<'a> AuditStream<'a> {
    pub fn new(readbacks: &'a [ServerReadback]) -> AuditStream<'a> {
        let servers = readbacks
            .iter()
            .map(|rb| ServerState {
                rb,
                cutoff: rb.offline.as_ref().and_then(|o| o.down_since_us),
                offline: rb.read_via() == crate::record::ReadVia::Offline,
                idx: rb.error.is_none().then(|| ServerIndex::new(rb)),
                sa: ServerAudit {
                    server: rb.server,
                    readable: rb.error.is_none(),
                    missing: 0,
                    stale: 0,
                    deletes_undone: 0,
                    indeterminate_present: 0,
                    indeterminate_absent: 0,
                    keys_read: rb.keys.len() as u64,
                    seq_read: rb.seq.len() as u64,
                    acked_after_down: 0,
                    tail_not_logged: 0,
                    via: rb.read_via(),
                    offline: rb.offline.clone(),
                },
                examples: BTreeMap::new(),
                noted: HashSet::new(),
                creates: Vec::new(),
                multi_unfound: Vec::new(),
                undone: Vec::new(),
                horizon_us: None,
                held: Vec::new(),
            })
            .collect();
        AuditStream {
            readbacks,
            servers,
            acked: 0,
            acked_deletes: 0,
            indeterminate: 0,
            deleted: PathSet::default(),
            absent_creates: PathSet::default(),
            lost: HashSet::new(),
        }
    }

    /// One event, in history (file) order.
    pub fn observe(&mut self, e: &OpEvent) {
        if e.kind == OpKind::Create
            && !e.path.is_empty()
            && self.servers.iter().any(|s| s.idx.is_some() && !s.after_down(e) && !s.rb.seq.contains_key(&e.path))
        {
            self.absent_creates.insert(&e.path);
        }
        match e.kind {
            OpKind::Set | OpKind::Create | OpKind::Multi => match e.outcome {
                Outcome::Ok => self.acked_write(e),
                Outcome::Indeterminate => {
                    self.indeterminate += 1;
                    let w = Write { kind: e.kind, path: &e.path, token: &e.token, version: e.version };
                    for s in &mut self.servers {
                        if let Some(idx) = &s.idx {
                            if idx.token_visible(&w) {
                                s.sa.indeterminate_present += 1;
                            } else {
                                s.sa.indeterminate_absent += 1;
                            }
                        }
                    }
                }
                Outcome::Fail => {}
            },
            OpKind::Delete if !e.path.is_empty() && e.outcome != Outcome::Fail => {
                if e.outcome == Outcome::Ok {
                    self.acked_deletes += 1;
                    for s in &mut self.servers {
                        if s.idx.is_some() && s.after_down(e) {
                            s.sa.acked_after_down += 1;
                        } else if s.idx.is_some() && (s.rb.seq.contains_key(&e.path) || s.rb.keys.contains_key(&e.path)) {
                            s.sa.deletes_undone += 1;
                            s.undone.push(e.path.clone());
                        }
                    }
                }
                self.deleted.insert(&e.path);
            }
            _ => {}
        }
    }

    fn acked_write(&mut self, e: &OpEvent) {
        let index = self.acked;
        self.acked += 1;
        let w = Write { kind: e.kind, path: &e.path, token: &e.token, version: e.version };
        let shown = if w.path.is_empty() { format!("<{} token {}>", w.kind, w.token) } else { w.path.to_string() };
        for s in &mut self.servers {
            if s.idx.is_some() && s.after_down(e) {
                s.sa.acked_after_down += 1;
                continue;
            }
            let Some(idx) = &s.idx else { continue };
            let problem = match w.kind {
                OpKind::Set => idx.check_set(&w),
                OpKind::Create => {
                    let problem = if w.path.is_empty() {
                        idx.check_token_in_seq(w.token)
                    } else if !s.rb.seq.contains_key(w.path) {
                        s.creates.push(PendingCreate { index, end_us: e.end_us, path: shown.clone(), problem: None });
                        continue;
                    } else {
                        idx.check_create(&w, &HashSet::new())
                    };
                    match problem {
                        Some(p) => s.creates.push(PendingCreate { index, end_us: e.end_us, path: shown.clone(), problem: Some(p) }),
                        None => s.holds(e),
                    }
                    continue;
                }
                _ => match idx.check_set(&w) {
                    Some(p) => Some(p),
                    None => {
                        if idx.check_token_in_seq(w.token).is_some() {
                            s.multi_unfound.push((index, e.path.clone(), e.token.clone()));
                        }
                        None
                    }
                },
            };
            match problem {
                None => s.holds(e),
                Some(p) if s.offline => s.held.push((index, w.kind, shown.clone(), p, e.end_us)),
                Some(p) => record(s, &mut self.lost, index, w.kind, &shown, Some(p)),
            }
        }
    }

    pub fn finish(mut self) -> AuditReport {
        let mut servers = Vec::new();
        let mut unreadable = Vec::new();
        let mut per_server_examples: Vec<Vec<AuditExample>> = Vec::new();
        for mut s in std::mem::take(&mut self.servers) {
            if let Some(err) = &s.rb.error {
                unreadable.push(UnreadableServer { server: s.rb.server, error: err.clone() });
                servers.push(s.sa);
                continue;
            }
            for c in std::mem::take(&mut s.creates) {
                let problem = match c.problem {
                    None if self.deleted.contains(&c.path) => None,
                    None => Some(Problem::Missing("created znode absent".into())),
                    Some(p) => Some(p),
                };
                match problem {
                    Some(p) if s.offline => s.held.push((c.index, OpKind::Create, c.path, p, c.end_us)),
                    p => record(&mut s, &mut self.lost, c.index, OpKind::Create, &c.path, p),
                }
            }
            // Offline: a hole before a write the copy holds is loss; the tail after is not.
            for (index, kind, path, problem, end_us) in std::mem::take(&mut s.held) {
                if s.horizon_us.is_some_and(|h| end_us < h) {
                    record(&mut s, &mut self.lost, index, kind, &path, Some(problem));
                } else {
                    s.sa.tail_not_logged += 1;
                }
            }
            // A multi's created path is not recorded, and deletes pick victims among created
            // znodes, so a multi's znode may have been deleted legitimately: every delete not
            // explained by a recorded create path excuses one unfound multi create.
            let rb = s.rb;
            let excused = self
                .deleted
                .iter()
                .filter(|p| !self.absent_creates.contains_path(*p) && !rb.seq.contains(*p))
                .count();
            let unfound = std::mem::take(&mut s.multi_unfound);
            let unexcused = unfound.len().saturating_sub(excused);
            for (index, path, token) in &unfound[unfound.len() - unexcused..] {
                s.sa.missing += 1;
                self.lost.insert(*index);
                s.note("multi", path, format!("acknowledged multi missing: no sequential znode holds token {token}"));
            }
            for p in std::mem::take(&mut s.undone) {
                s.note("delete", &p, "acknowledged delete undone: znode present".to_string());
            }
            per_server_examples.extend(std::mem::take(&mut s.examples).into_values());
            servers.push(s.sa);
        }

        let readable: Vec<&ServerReadback> = self.readbacks.iter().filter(|r| r.error.is_none()).collect();
        let (divergent_keys, divergent_seq) = divergence(&readable);
        let any_loss = servers.iter().any(|s| s.missing + s.stale + s.deletes_undone > 0);
        let verdict = if any_loss {
            Verdict::Fail
        } else if !unreadable.is_empty() || self.readbacks.is_empty() {
            Verdict::Unknown
        } else {
            Verdict::Pass
        };
        AuditReport {
            verdict,
            acked_writes: self.acked,
            acked_deletes: self.acked_deletes,
            indeterminate_writes: self.indeterminate,
            lost_writes: self.lost.len() as u64,
            servers,
            unreadable,
            divergent_keys,
            divergent_seq,
            examples: round_robin(per_server_examples, MAX_EXAMPLES),
        }
    }
}

/// Count and note one write's problem on one server.
fn record(
    s: &mut ServerState<'_>,
    lost: &mut HashSet<u64>,
    index: u64,
    kind: OpKind,
    shown: &str,
    problem: Option<Problem>,
) {
    match problem {
        None => {}
        Some(Problem::Missing(m)) => {
            s.sa.missing += 1;
            lost.insert(index);
            s.note(kind.as_str(), shown, format!("acknowledged {kind} missing: {m}"));
        }
        Some(Problem::Stale(m)) => {
            s.sa.stale += 1;
            lost.insert(index);
            s.note(kind.as_str(), shown, format!("acknowledged {kind} stale: {m}"));
        }
    }
}
