//! Acknowledged writes that share what must be unique: two acknowledged sets of one key that
//! returned the same version, or two acknowledged sequential creates that got the same sequence
//! number. Each set increments the key's version and each create the parent's counter, so every
//! acknowledged one is distinct; a repeat means one acknowledged write was rolled back and its
//! number handed out again: lost data, whether or not the two overlapped in time (the version
//! regression rule sees only writes ordered by real time; a repeat of a version acknowledged
//! before the later set was issued is also a regression).
//!
//! Kept per key (versions) and for the sequential parent (numbers) within a retention window by
//! completion time, like the acknowledgement history: a repeat of a version acknowledged longer
//! ago than that is still a version regression, and of a sequence number an audit FAIL (two
//! tokens cannot both be at one path).

use crate::record::{OpEvent, OpKind};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// One acknowledged operation of a duplicate pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckedOp {
    pub kind: OpKind,
    pub session: u32,
    pub start_us: u64,
    pub end_us: u64,
    pub token: String,
}

impl AckedOp {
    pub fn of(e: &OpEvent) -> AckedOp {
        AckedOp { kind: e.kind, session: e.session, start_us: e.start_us, end_us: e.end_us, token: e.token.clone() }
    }

    /// `set by session 0 (token 0-4) at 0.000-0.100 s`.
    fn describe(&self) -> String {
        format!(
            "{} by session {} (token {}) at {:.3}-{:.3} s",
            self.kind.as_str(),
            self.session,
            self.token,
            self.start_us as f64 / 1e6,
            self.end_us as f64 / 1e6
        )
    }
}

/// Two acknowledged writes that got the same version (sets of `path`) or sequence number
/// (creates, `path` the sequential znode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateExample {
    pub path: String,
    /// The shared version or sequence number.
    pub number: i64,
    /// The one acknowledged first, and the later one.
    pub first: AckedOp,
    pub second: AckedOp,
}

impl DuplicateExample {
    /// `/zkchaos/keys/k7 version 5: set by session 0 (…) and set by session 1 (…)`.
    pub fn describe(&self) -> String {
        let what = if self.first.kind == OpKind::Create { "sequence number" } else { "version" };
        format!("{} {what} {}: {} and {}", self.path, self.number, self.first.describe(), self.second.describe())
    }
}

/// The acknowledged numbers of one key (or of the sequential parent) within the retention
/// window: which operation got each.
#[derive(Debug)]
pub(super) struct Acks<K> {
    by: HashMap<K, AckedOp>,
    /// `(end_us, number)` in completion order, for pruning.
    order: VecDeque<(u64, K)>,
}

impl<K> Default for Acks<K> {
    fn default() -> Self {
        Acks { by: HashMap::new(), order: VecDeque::new() }
    }
}

impl<K: Hash + Eq + Copy> Acks<K> {
    /// Record that `op` (in completion order) got `number`; the operation that already had it,
    /// if any (the first holder is kept).
    pub fn insert(&mut self, number: K, op: AckedOp, retain_us: u64) -> Option<&AckedOp> {
        let now = op.end_us;
        while let Some(&(t, old)) = self.order.front() {
            if t.saturating_add(retain_us) >= now {
                break;
            }
            self.order.pop_front();
            if self.by.get(&old).is_some_and(|o| o.end_us == t) {
                self.by.remove(&old);
            }
        }
        if self.by.contains_key(&number) {
            return self.by.get(&number);
        }
        self.order.push_back((now, number));
        self.by.insert(number, op);
        None
    }
}
