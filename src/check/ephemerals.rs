//! Ephemeral-node check: no ephemeral znode may outlive its session, on any server.
//!
//! Pure: the input is the `ephemeral` / `ephemeral-abandon` / `close` rows of the history (see
//! [`crate::workload::ephemeral`] for what the driver records), the read-backs' listings of
//! `/zkchaos/eph`, the load-stop time and the times the monitor saw a leader start.
//!
//! A session is **known to have ended** before the read-back when
//! - its close was acknowledged (`close` row `ok`), or the server reported it expired (`close`
//!   row `fail`/`SessionExpired`); or
//! - it was abandoned, or its close was not acknowledged, and its expiry deadline passed before
//!   the load stop (the read-back starts after it). The deadline is the session's last contact
//!   (the abandon, or the end of the close attempt) plus its negotiated timeout plus a margin
//!   (two ticks and a second: expiry runs on tick boundaries); a leader that starts before the
//!   deadline restarts every session's clock, so the deadline moves to that start plus timeout
//!   plus margin.
//!
//! The read-back `sync`s before it lists, so a server has applied every close and expiry
//! committed before then. A node `/zkchaos/eph/<token>` whose session is known to have ended
//! and that a server still lists is **lingering** there: FAIL, named per server. Nodes of
//! sessions not known to have ended may be present (counted, not judged), as may nodes no row
//! explains (counted).
//!
//! Verdict `ephemerals`: FAIL if any node lingers on a readable server; otherwise UNKNOWN if a
//! server could not be read or was read without listing `/zkchaos/eph` (an older read-back), or
//! no session was known to have ended; otherwise PASS.

use super::audit::{AuditExample, UnreadableServer, MAX_EXAMPLES};
use super::Verdict;
use crate::record::{ErrorClass, ModeSample, OpEvent, OpKind, Outcome, ServerReadback};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// What the check needs besides the rows and the read-backs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EphemeralSetup {
    /// The `load stop` mark: the read-back starts after it. `None` (an interrupted run): only
    /// acknowledged closes are judged.
    pub load_stop_us: Option<u64>,
    /// When the monitor first saw each new leader (or standalone), sorted.
    pub leader_starts_us: Vec<u64>,
    /// Added to a session's timeout before it is taken to have expired.
    pub margin_us: u64,
}

impl EphemeralSetup {
    /// From the monitor's samples; `tick_time_ms` sets the margin (two ticks and a second).
    pub fn new(load_stop_us: Option<u64>, samples: &[ModeSample], tick_time_ms: u32) -> EphemeralSetup {
        EphemeralSetup {
            load_stop_us,
            leader_starts_us: leader_starts(samples),
            margin_us: (2 * u64::from(tick_time_ms) + 1000) * 1000,
        }
    }
}

/// Times at which a server was seen as the writable authority after a sample that did not show
/// it so (or as its first sample), sorted.
pub fn leader_starts(samples: &[ModeSample]) -> Vec<u64> {
    let mut last: HashMap<u32, bool> = HashMap::new();
    let mut sorted: Vec<&ModeSample> = samples.iter().collect();
    sorted.sort_by_key(|s| s.at_us);
    let mut out = Vec::new();
    for s in sorted {
        let now = s.mode.is_authority();
        if now && !last.get(&s.server).copied().unwrap_or(false) {
            out.push(s.at_us);
        }
        last.insert(s.server, now);
    }
    out
}

/// The check's result; serialised into the run summary as `checks.ephemerals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EphemeralReport {
    pub verdict: Verdict,
    /// Ephemeral operations that opened a session (`ephemeral` and `ephemeral-abandon`).
    pub sessions: u64,
    /// Creates acknowledged.
    pub created: u64,
    /// Creates whose fate the client does not know.
    pub create_indeterminate: u64,
    /// Closes the server acknowledged.
    pub closed_acked: u64,
    /// Closes not acknowledged (timeout, connection lost, other error).
    pub close_unacknowledged: u64,
    /// Sessions dropped without a close (`ephemeral-abandon`).
    pub abandoned: u64,
    /// Sessions known to have ended before the read-back: their nodes must be gone.
    pub expected_gone: u64,
    /// Sessions not known to have ended (their nodes may be present).
    pub not_judged: u64,
    pub servers: Vec<ServerEphemerals>,
    pub unreadable: Vec<UnreadableServer>,
    /// Up to [`MAX_EXAMPLES`] lingering nodes, spread over servers.
    pub examples: Vec<AuditExample>,
}

/// Per-server figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerEphemerals {
    pub server: u32,
    /// Read, with its `/zkchaos/eph` listed.
    pub listed: bool,
    /// Ephemeral znodes this server listed.
    pub present: u64,
    /// Nodes whose session had ended, still listed here (FAIL).
    pub lingering: u64,
    /// Nodes of sessions not known to have ended, listed here (allowed).
    pub present_not_judged: u64,
    /// Listed nodes no recorded operation explains.
    pub unexplained: u64,
}

/// One ephemeral operation, gathered from its rows.
#[derive(Debug, Clone, Default)]
struct EphOp {
    abandon: bool,
    create: Option<Outcome>,
    create_end_us: u64,
    timeout_ms: i64,
    close: Option<(Outcome, Option<ErrorClass>, u64)>,
}

/// How an operation's session ended, as far as the history shows.
enum Ended {
    /// Closed (acknowledged) or expired (reported): at this time.
    Known(u64, &'static str),
    /// Must have expired by this deadline.
    By(u64),
    /// Never established.
    NoSession,
}

/// The check fed one event at a time (file order), like the audit.
#[derive(Debug, Default)]
pub struct EphemeralStream {
    ops: BTreeMap<String, EphOp>,
}

impl EphemeralStream {
    pub fn new() -> EphemeralStream {
        EphemeralStream::default()
    }

    pub fn observe(&mut self, e: &OpEvent) {
        match e.kind {
            OpKind::Ephemeral | OpKind::EphemeralAbandon => {
                let op = self.ops.entry(e.token.clone()).or_default();
                op.abandon = e.kind == OpKind::EphemeralAbandon;
                op.create = Some(e.outcome);
                op.create_end_us = e.end_us;
                op.timeout_ms = e.version;
            }
            OpKind::Close => {
                let op = self.ops.entry(e.token.clone()).or_default();
                op.close = Some((e.outcome, e.error, e.end_us));
                op.timeout_ms = op.timeout_ms.max(e.version);
            }
            _ => {}
        }
    }

    /// Any ephemeral row seen.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn finish(self, readbacks: &[ServerReadback], setup: &EphemeralSetup) -> EphemeralReport {
        let mut r = EphemeralReport {
            verdict: Verdict::Pass,
            sessions: 0,
            created: 0,
            create_indeterminate: 0,
            closed_acked: 0,
            close_unacknowledged: 0,
            abandoned: 0,
            expected_gone: 0,
            not_judged: 0,
            servers: Vec::new(),
            unreadable: Vec::new(),
            examples: Vec::new(),
        };
        // token → Some(why it must be gone) / None (not judged)
        let mut judged: HashMap<&str, Option<String>> = HashMap::new();
        for (token, op) in &self.ops {
            let ended = ended(op, setup);
            if matches!(ended, Ended::NoSession) {
                continue;
            }
            r.sessions += 1;
            match op.create {
                Some(Outcome::Ok) => r.created += 1,
                Some(Outcome::Indeterminate) => r.create_indeterminate += 1,
                _ => {}
            }
            match (op.abandon, op.close) {
                (true, _) => r.abandoned += 1,
                (false, Some((Outcome::Ok, _, _))) => r.closed_acked += 1,
                (false, _) => r.close_unacknowledged += 1,
            }
            let why = match ended {
                Ended::Known(at, what) => Some(format!("its session's {what} at {:.0} ms", at as f64 / 1e3)),
                Ended::By(deadline) if setup.load_stop_us.is_some_and(|stop| deadline <= stop) => {
                    Some(format!("its session must have expired by {:.0} ms", deadline as f64 / 1e3))
                }
                _ => None,
            };
            if why.is_some() {
                r.expected_gone += 1;
            } else {
                r.not_judged += 1;
            }
            judged.insert(token.as_str(), why);
        }
        let mut per_server: Vec<Vec<AuditExample>> = Vec::new();
        for rb in readbacks {
            let mut s = ServerEphemerals {
                server: rb.server,
                listed: false,
                present: 0,
                lingering: 0,
                present_not_judged: 0,
                unexplained: 0,
            };
            if let Some(err) = &rb.error {
                r.unreadable.push(UnreadableServer { server: rb.server, error: err.clone() });
            }
            let mut examples = Vec::new();
            if let (None, Some(names)) = (&rb.error, &rb.ephemerals) {
                s.listed = true;
                s.present = names.len() as u64;
                for name in names {
                    match judged.get(name.as_str()) {
                        Some(Some(why)) => {
                            s.lingering += 1;
                            if examples.len() < MAX_EXAMPLES {
                                examples.push(AuditExample {
                                    server: rb.server,
                                    path: crate::plan::keyspace::eph_path(name),
                                    problem: format!("ephemeral node still present after {why}"),
                                });
                            }
                        }
                        Some(None) => s.present_not_judged += 1,
                        None => s.unexplained += 1,
                    }
                }
            }
            per_server.push(examples);
            r.servers.push(s);
        }
        r.examples = super::audit::round_robin(per_server, MAX_EXAMPLES);
        r.verdict = if r.servers.iter().any(|s| s.lingering > 0) {
            Verdict::Fail
        } else if !r.unreadable.is_empty() || r.servers.iter().any(|s| !s.listed) || r.expected_gone == 0 {
            Verdict::Unknown
        } else {
            Verdict::Pass
        };
        r
    }
}

fn ended(op: &EphOp, setup: &EphemeralSetup) -> Ended {
    if op.timeout_ms < 0 || op.create.is_none() {
        return Ended::NoSession;
    }
    let last_contact = match op.close {
        Some((Outcome::Ok, _, at)) => return Ended::Known(at, "close acknowledged"),
        Some((Outcome::Fail, Some(ErrorClass::SessionExpired), at)) => return Ended::Known(at, "expiry reported"),
        Some((_, _, at)) => at,
        None => op.create_end_us,
    };
    let span = op.timeout_ms as u64 * 1000 + setup.margin_us;
    let mut deadline = last_contact + span;
    for &s in &setup.leader_starts_us {
        if s >= last_contact && s < deadline {
            deadline = deadline.max(s + span);
        }
    }
    Ended::By(deadline)
}

impl EphemeralReport {
    /// One line for the console, in plain words.
    pub fn headline(&self) -> String {
        let listed = self.servers.iter().filter(|s| s.listed).count();
        match self.verdict {
            Verdict::Fail => {
                let bad: Vec<String> = self
                    .servers
                    .iter()
                    .filter(|s| s.lingering > 0)
                    .map(|s| format!("zk{} ({})", s.server, s.lingering))
                    .collect();
                format!(
                    "LINGERING EPHEMERALS: nodes whose session had ended still present on {} (of {} whose session ended)",
                    bad.join(", "),
                    self.expected_gone
                )
            }
            Verdict::Unknown if self.sessions == 0 => "UNKNOWN: no ephemeral operation opened a session".into(),
            Verdict::Unknown if !self.unreadable.is_empty() || listed < self.servers.len() => format!(
                "UNKNOWN: {} of {} servers had /zkchaos/eph listed; no node lingered on those",
                listed,
                self.servers.len()
            ),
            Verdict::Unknown => format!(
                "UNKNOWN: no ephemeral session was known to have ended before the read-back ({} not judged)",
                self.not_judged
            ),
            Verdict::Pass => format!(
                "no ephemeral node outlived its session ({} sessions ended, checked on {} servers; {} not judged)",
                self.expected_gone, listed, self.not_judged
            ),
        }
    }

    /// Lingering nodes per server id.
    pub fn lingering(&self, server: u32) -> Option<u64> {
        self.servers.iter().find(|s| s.server == server && s.listed).map(|s| s.lingering)
    }
}

/// The check over a history in memory.
pub fn check_ephemerals(events: &[OpEvent], readbacks: &[ServerReadback], setup: &EphemeralSetup) -> EphemeralReport {
    let mut s = EphemeralStream::new();
    for e in events {
        s.observe(e);
    }
    s.finish(readbacks, setup)
}

#[cfg(test)]
mod tests;
