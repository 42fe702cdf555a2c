//! Acknowledged-write audit: is every write the servers acknowledged still there, on every server?
//!
//! Pure: the input is the run's [`OpEvent`] history and one [`ServerReadback`] per server.
//! What counts (Jepsen's three-way outcomes, treated honestly):
//!
//! - an acknowledged `set` of key K that returned version v is **missing** on a server if K is
//!   absent there, **stale** if K's version there is below v, or if it is exactly v but holds a
//!   different token (the version was reached again by other writes after a loss). A version above
//!   v is fine: later (possibly indeterminate) writes bumped it.
//! - an acknowledged `create` is missing if its path is absent, or present with another token (a
//!   sequence number reused after a loss); when its path was not recorded, its token is looked up
//!   among all sequential znodes. A create whose path was later deleted (delete ok or
//!   indeterminate) is excused.
//! - an acknowledged `multi` (set of one key + create of one sequential znode with the same token)
//!   is checked as its set, and its create by token; since its created path is not recorded and
//!   deletes may have removed it, each delete of a path no recorded create explains excuses one
//!   unfound multi create.
//! - an acknowledged `delete` whose path is still present is an **undone delete** (also a loss).
//! - indeterminate writes are information only: present (their token is visible) or absent
//!   (for sets this includes "overwritten later").
//!
//! Verdict `data_loss`: FAIL if anything acknowledged is missing, stale or undone on any readable
//! server; otherwise UNKNOWN if some server could not be read; otherwise PASS.
//!
//! A server read offline (left down by the procedure: a standalone copy of its data volume, see
//! [`crate::record::OfflineRead`]) is judged like a live one: what it would load on restart
//! includes proposals it logged but may never have seen committed, so an extra write (a version
//! above the acknowledged one, a sequential znode no one acknowledged) is not a loss; a missing
//! acknowledged write is. It is judged on the operations acknowledged before the procedure took
//! it down (later ones cannot be on it: [`ServerAudit::acked_after_down`] counts them). Each
//! server's [`ServerAudit::via`] says how it was read.

use crate::record::seqnodes::{count_not_on_all, TokenIndex};
use crate::record::{OfflineRead, ReadVia, ServerReadback};
use super::Verdict;
use crate::record::{OpEvent, OpKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};

/// How many offending paths the report keeps.
pub const MAX_EXAMPLES: usize = 10;

/// The audit's result; serialised into the run summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub verdict: Verdict,
    /// Acknowledged set/create/multi operations checked.
    pub acked_writes: u64,
    /// Acknowledged deletes checked (must stay deleted).
    pub acked_deletes: u64,
    /// Writes whose fate the client does not know.
    pub indeterminate_writes: u64,
    /// Acknowledged writes lost (missing or stale) on at least one readable server.
    pub lost_writes: u64,
    pub servers: Vec<ServerAudit>,
    /// Servers that could not be read, and why.
    pub unreadable: Vec<UnreadableServer>,
    /// Keys whose (version, token) is not the same on every readable server (absent counts).
    pub divergent_keys: u64,
    /// Sequential znodes present on some readable servers only.
    pub divergent_seq: u64,
    /// Up to [`MAX_EXAMPLES`] offending paths, spread over servers.
    pub examples: Vec<AuditExample>,
}

/// Per-server counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerAudit {
    pub server: u32,
    pub readable: bool,
    /// Acknowledged writes absent on this server.
    pub missing: u64,
    /// Acknowledged sets whose key is at an older version (or another value at that version).
    pub stale: u64,
    /// Acknowledged deletes whose znode is present again.
    pub deletes_undone: u64,
    pub indeterminate_present: u64,
    pub indeterminate_absent: u64,
    pub keys_read: u64,
    pub seq_read: u64,
    /// Acknowledged writes and deletes that completed after the procedure took this server
    /// down: not expected on it, so not checked there.
    #[serde(default)]
    pub acked_after_down: u64,
    /// Server read offline only: acknowledged writes absent from its copy that were not ordered
    /// before any write the copy holds (the tail a follower may not have logged yet when it went
    /// down; a quorum without it acknowledged them). Not a loss; a hole before a write it holds is.
    #[serde(default)]
    pub tail_not_logged: u64,
    /// How this server was read: `live`, or `offline` (a copy of its data volume).
    #[serde(default = "live")]
    pub via: ReadVia,
    /// The offline read's record (method, time, original volume unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<OfflineRead>,
}

fn live() -> ReadVia {
    ReadVia::Live
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadableServer {
    pub server: u32,
    pub error: String,
}

/// One offending path on one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditExample {
    pub server: u32,
    pub path: String,
    pub problem: String,
}

impl AuditReport {
    /// One line for the console, in plain words.
    pub fn headline(&self) -> String {
        let readable: Vec<&ServerAudit> = self.servers.iter().filter(|s| s.readable).collect();
        let total = self.servers.len();
        match self.verdict {
            Verdict::Fail => {
                let bad: Vec<u32> =
                    readable.iter().filter(|s| s.missing + s.stale + s.deletes_undone > 0).map(|s| s.server).collect();
                let missing = readable.iter().map(|s| s.missing).max().unwrap_or(0);
                let stale = readable.iter().map(|s| s.stale).max().unwrap_or(0);
                let what = if stale == 0 {
                    "missing".to_string()
                } else if missing == 0 {
                    "stale".to_string()
                } else {
                    "lost (missing or stale)".to_string()
                };
                let mut line = if self.lost_writes > 0 {
                    format!(
                        "DATA LOSS: {} of {} acknowledged writes {} on {}",
                        self.lost_writes,
                        self.acked_writes,
                        what,
                        describe_servers(&bad, total)
                    )
                } else {
                    "DATA LOSS:".to_string()
                };
                let undone: u64 = readable.iter().map(|s| s.deletes_undone).max().unwrap_or(0);
                if undone > 0 {
                    if self.lost_writes > 0 {
                        line.push(';');
                    }
                    line.push_str(&format!(" {undone} acknowledged deletes undone"));
                }
                if !self.unreadable.is_empty() {
                    line.push_str(&format!(" ({})", self.unreadable_text()));
                }
                line
            }
            Verdict::Unknown => {
                if self.unreadable.is_empty() {
                    return "UNKNOWN: no server was read".to_string();
                }
                let rest = if readable.is_empty() {
                    "no server could be checked".to_string()
                } else {
                    format!(
                        "no acknowledged write lost on the other {} ({} checked)",
                        plural(readable.len(), "server"),
                        self.acked_writes
                    )
                };
                format!("UNKNOWN: {}; {}", self.unreadable_text(), rest)
            }
            Verdict::Pass => format!(
                "no acknowledged write lost ({} checked on {})",
                self.acked_writes,
                plural(readable.len(), "server")
            ),
        }
    }

    /// How each server was read, in words, for the summary's detail: `read live: zk2, zk3;
    /// offline (standalone copy of the data volume, original volume unchanged): zk1`.
    pub fn read_methods(&self) -> String {
        let zks = |ids: &[u32]| ids.iter().map(|i| format!("zk{i}")).collect::<Vec<_>>().join(", ");
        let live: Vec<u32> = self.servers.iter().filter(|s| s.via == ReadVia::Live).map(|s| s.server).collect();
        let mut parts = Vec::new();
        if !live.is_empty() {
            parts.push(format!("read live: {}", zks(&live)));
        }
        for s in self.servers.iter().filter(|s| s.via == ReadVia::Offline) {
            let (method, original) = match &s.offline {
                Some(o) => (
                    o.method.as_str(),
                    match o.original_unchanged {
                        Some(true) => "original volume unchanged",
                        Some(false) => "ORIGINAL VOLUME CHANGED",
                        None => "original volume not verified",
                    },
                ),
                None => (crate::record::OFFLINE_METHOD, "original volume not verified"),
            };
            let state = if s.readable { "" } else { ", unreadable" };
            parts.push(format!("zk{} offline ({method}, {original}{state})", s.server));
        }
        parts.join("; ")
    }

    fn unreadable_text(&self) -> String {
        let parts: Vec<String> =
            self.unreadable.iter().map(|u| format!("server {} could not be read ({})", u.server, u.error)).collect();
        parts.join(", ")
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn describe_servers(bad: &[u32], total: usize) -> String {
    if bad.len() == total && total > 1 {
        return format!("all {total} servers");
    }
    let ids: Vec<String> = bad.iter().map(|i| i.to_string()).collect();
    let noun = if bad.len() == 1 { "server" } else { "servers" };
    format!("{noun} {} of {total}", ids.join(", "))
}

/// A write as the audit sees it.
struct Write<'a> {
    kind: OpKind,
    path: &'a str,
    token: &'a str,
    version: i64,
}

enum Problem {
    Missing(String),
    Stale(String),
}

/// What one server holds, indexed for lookups (sequential znodes' tokens compactly; the keys'
/// are at most `load.keys`).
struct ServerIndex<'a> {
    rb: &'a ServerReadback,
    seq_tokens: TokenIndex<'a>,
    key_tokens: HashSet<&'a str>,
}

impl<'a> ServerIndex<'a> {
    fn new(rb: &'a ServerReadback) -> Self {
        let seq_tokens = rb.seq.token_index();
        let key_tokens = rb.keys.values().filter_map(|(_, t)| t.as_deref()).collect();
        ServerIndex { rb, seq_tokens, key_tokens }
    }

    /// Checks an acknowledged set (or multi's set part) against this server.
    fn check_set(&self, w: &Write<'_>) -> Option<Problem> {
        let Some((v, tok)) = self.rb.keys.get(w.path) else {
            return Some(Problem::Missing("key absent".into()));
        };
        if w.version < 0 {
            return None; // version unknown: presence is all we can say
        }
        if *v < w.version {
            return Some(Problem::Stale(format!(
                "at version {v}, acknowledged version {} (token {})",
                w.version, w.token
            )));
        }
        if *v == w.version && !w.token.is_empty() && tok.as_deref() != Some(w.token) {
            return Some(Problem::Stale(format!(
                "version {v} holds token {}, acknowledged token {}",
                tok.as_deref().unwrap_or("<none>"),
                w.token
            )));
        }
        None
    }

    /// Checks an acknowledged create against this server.
    fn check_create(&self, w: &Write<'_>, deleted: &HashSet<&str>) -> Option<Problem> {
        if w.path.is_empty() {
            return self.check_token_in_seq(w.token);
        }
        match self.rb.seq.get(w.path) {
            None if deleted.contains(w.path) => None,
            None => Some(Problem::Missing("created znode absent".into())),
            Some(tok) => match tok {
                Some(t) if !w.token.is_empty() && !t.is(w.token) => {
                    Some(Problem::Missing(format!("path holds token {t}, acknowledged token {}", w.token)))
                }
                _ => None,
            },
        }
    }

    fn check_token_in_seq(&self, token: &str) -> Option<Problem> {
        if token.is_empty() || self.seq_tokens.contains(token) {
            None
        } else {
            Some(Problem::Missing(format!("no sequential znode holds token {token}")))
        }
    }

    fn token_visible(&self, w: &Write<'_>) -> bool {
        if !w.path.is_empty() && matches!(w.kind, OpKind::Create) {
            if let Some(t) = self.rb.seq.get(w.path) {
                return t.is_none_or(|t| w.token.is_empty() || t.is(w.token));
            }
        }
        !w.token.is_empty() && (self.seq_tokens.contains(w.token) || self.key_tokens.contains(w.token))
    }
}

/// Audit the history against every server's read-back (through [`AuditStream`], which a stored
/// run's analysis feeds while it streams the events).
pub fn audit(events: &[OpEvent], readbacks: &[ServerReadback]) -> AuditReport {
    let mut s = AuditStream::new(readbacks);
    for e in events {
        s.observe(e);
    }
    s.finish()
}

/// Keys whose value differs between readable servers, and seq znodes not on all of them.
fn divergence(readable: &[&ServerReadback]) -> (u64, u64) {
    if readable.len() < 2 {
        return (0, 0);
    }
    let all_keys: BTreeSet<&str> = readable.iter().flat_map(|r| r.keys.keys().map(String::as_str)).collect();
    let divergent_keys = all_keys
        .iter()
        .filter(|k| {
            let first = readable[0].keys.get(**k);
            readable[1..].iter().any(|r| r.keys.get(**k) != first)
        })
        .count() as u64;
    let seqs: Vec<_> = readable.iter().map(|r| &r.seq).collect();
    let divergent_seq = count_not_on_all(&seqs);
    (divergent_keys, divergent_seq)
}

/// Take examples from each (server, category) list in turn so one bad server or one kind of
/// write does not hide the others.
pub(crate) fn round_robin(per_server: Vec<Vec<AuditExample>>, max: usize) -> Vec<AuditExample> {
    let mut iters: Vec<_> = per_server.into_iter().map(|v| v.into_iter()).collect();
    let mut out = Vec::new();
    loop {
        let mut any = false;
        for it in iters.iter_mut() {
            if out.len() >= max {
                return out;
            }
            if let Some(e) = it.next() {
                out.push(e);
                any = true;
            }
        }
        if !any {
            return out;
        }
    }
}

mod stream;
pub use stream::AuditStream;

#[cfg(test)]
mod tests;
