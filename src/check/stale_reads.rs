//! History check on versions: no successful operation may observe a key at a version lower than
//! one already acknowledged before that operation was issued.
//!
//! - A **read** (get, exists) that does: a **stale read**. ZooKeeper allows it (a follower may
//!   lag the leader; clients that need the latest value `sync` first), so it is counted with its
//!   worst lag and reported as its own check; it never fails `data_loss`.
//! - A **write** (set, multi's set) that returns a version not above one already acknowledged
//!   (each set increments the version): the key's history went backwards, i.e. an
//!   acknowledged write was rolled back and later writes hid it (a final-state audit alone would
//!   pass once the version climbed past it again). That is lost data: a **version regression**,
//!   which fails `data_loss`.
//!
//! - Two acknowledged sets (or multis' sets) of one key that returned the **same version**, or
//!   two acknowledged sequential creates with the **same sequence number**, whether or not they
//!   overlapped in time: one of them was rolled back and its number given out again, lost data
//!   that fails `data_loss` ([`duplicates`]).
//!
//! "Acknowledged before issued": the acknowledging operation ended (`end_us`) before the other
//! one started (`start_us`), so real time orders them. Pure, on the recorded events; examples are
//! kept in completion order.

mod duplicates;

pub use duplicates::{AckedOp, DuplicateExample};

use crate::record::seqnodes::seq_number;
use crate::record::{OpEvent, OpKind, Outcome};
use duplicates::Acks;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// One observed regression, kept as an example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionExample {
    pub path: String,
    pub kind: OpKind,
    pub session: u32,
    /// When the operation was issued, µs.
    pub at_us: u64,
    pub observed_version: i64,
    pub acknowledged_version: i64,
}

/// What the version history says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VersionHistory {
    /// Successful gets/exists with a version, checked.
    pub reads_checked: u64,
    /// Reads that observed a version below one acknowledged before they were issued.
    pub stale_reads: u64,
    /// Largest version gap of a stale read.
    pub worst_lag_versions: i64,
    /// Longest time a stale read lagged: from the acknowledgement of the first version it did
    /// not see to the read's issue, ms.
    pub worst_lag_ms: f64,
    /// Successful sets/multis whose returned version is below one acknowledged before they were
    /// issued (a rollback: lost data).
    pub version_regressions: u64,
    pub examples: Vec<VersionExample>,
    /// Acknowledged sets/multis that returned a version another acknowledged set of the same
    /// key had returned (lost data, overlapping in time or not).
    pub duplicate_versions: u64,
    /// Acknowledged sequential creates that got a sequence number another acknowledged create
    /// had got (lost data).
    pub duplicate_sequence_numbers: u64,
    /// Up to 10 duplicate pairs, versions and sequence numbers, in completion order.
    pub duplicate_examples: Vec<DuplicateExample>,
}

const MAX_EXAMPLES: usize = 10;

/// Check every successful versioned operation against the acknowledged sets before it: the
/// history replayed in completion order through [`VersionTracker`] (with unbounded history).
pub fn version_history(events: &[OpEvent]) -> VersionHistory {
    let mut sorted: Vec<&OpEvent> = events.iter().collect();
    sorted.sort_by_key(|e| e.end_us);
    let mut t = VersionTracker::new(u64::MAX);
    for e in sorted {
        t.observe(e);
    }
    t.finish()
}

/// How long [`VersionTracker`] keeps each key's acknowledgement history in a stored run's
/// analysis: far beyond any operation's duration (bounded by its timeout), so which version was
/// acknowledged before an operation started is always exact; only the lag of a read that missed
/// a version acknowledged longer ago than this is a lower bound (counted, and noted).
pub const HISTORY_RETAIN_US: u64 = 60_000_000;

/// One key's acknowledged versions: the running maximum each time it rose, by completion time.
#[derive(Debug, Default)]
struct KeyHistory {
    steps: VecDeque<(u64, i64)>,
    /// The newest step dropped from `steps` (older than the retention).
    floor: Option<(u64, i64)>,
    /// Which acknowledged set got each version (within the retention).
    versions: Acks<i64>,
}

/// The version history check in one pass over events in completion (`end_us`) order. State per
/// key: the steps of its acknowledged version within [`HISTORY_RETAIN_US`] (keys are the
/// profile's key space).
#[derive(Debug)]
pub struct VersionTracker {
    keys: HashMap<String, KeyHistory>,
    /// Which acknowledged create got each sequence number (within the retention).
    seq: Acks<u32>,
    retain_us: u64,
    h: VersionHistory,
    /// Stale reads whose first unseen version was acknowledged before the retained history
    /// (their lag is a lower bound), plus operations older than it (not checked).
    pub truncated: u64,
}

impl VersionTracker {
    pub fn new(retain_us: u64) -> VersionTracker {
        VersionTracker { keys: HashMap::new(), seq: Acks::default(), retain_us, h: VersionHistory::default(), truncated: 0 }
    }

    /// One event, in `end_us` order.
    pub fn observe(&mut self, e: &OpEvent) {
        if e.outcome == Outcome::Ok && e.kind == OpKind::Create {
            if let Some(n) = seq_number(&e.path) {
                if let Some(first) = self.seq.insert(n, AckedOp::of(e), self.retain_us) {
                    self.h.duplicate_sequence_numbers += 1;
                    push_duplicate(&mut self.h, e, i64::from(n), first);
                }
            }
            return;
        }
        if e.outcome != Outcome::Ok || e.version < 0 {
            return;
        }
        let read = matches!(e.kind, OpKind::Get | OpKind::Exists);
        let write = matches!(e.kind, OpKind::Set | OpKind::Multi);
        if !read && !write {
            return;
        }
        if read {
            self.h.reads_checked += 1;
        }
        if let Some(k) = self.keys.get(e.path.as_str()) {
            check(&mut self.h, &mut self.truncated, e, k, read);
        }
        if write {
            let k = self.keys.entry(e.path.clone()).or_default();
            let best = k.steps.back().or(k.floor.as_ref()).map(|s| s.1).unwrap_or(-1);
            if e.version > best || (k.steps.is_empty() && k.floor.is_none()) {
                k.steps.push_back((e.end_us, e.version.max(best)));
            }
            let retain = self.retain_us;
            if let Some(first) = k.versions.insert(e.version, AckedOp::of(e), retain) {
                self.h.duplicate_versions += 1;
                push_duplicate(&mut self.h, e, e.version, first);
            }
            while k.steps.front().is_some_and(|s| s.0.saturating_add(retain) < e.end_us) {
                k.floor = k.steps.pop_front();
            }
        }
    }

    pub fn finish(self) -> VersionHistory {
        self.h
    }
}

/// Keep an example of `e` getting `number`, which `first` already had.
fn push_duplicate(h: &mut VersionHistory, e: &OpEvent, number: i64, first: &AckedOp) {
    if h.duplicate_examples.len() < MAX_EXAMPLES {
        h.duplicate_examples.push(DuplicateExample { path: e.path.clone(), number, first: first.clone(), second: AckedOp::of(e) });
    }
}

/// One operation against its key's acknowledged history.
fn check(h: &mut VersionHistory, truncated: &mut u64, e: &OpEvent, k: &KeyHistory, read: bool) {
    // Acknowledgements that ended before this operation started.
    let n = k.steps.partition_point(|(t, _)| *t < e.start_us);
    let acked = if n > 0 {
        k.steps[n - 1].1
    } else {
        match k.floor {
            Some((t, best)) if t < e.start_us => best,
            Some(_) => {
                *truncated += 1;
                return;
            }
            None => return,
        }
    };
    // A read may see the latest acknowledged version; a write creates a new one, so it must
    // return a version strictly above every version acknowledged before it was issued.
    let behind = if read { e.version < acked } else { e.version <= acked };
    if !behind {
        return;
    }
    if read {
        h.stale_reads += 1;
        h.worst_lag_versions = h.worst_lag_versions.max(acked - e.version);
        // The first acknowledgement of a version above what was read.
        let first_unseen = match k.floor {
            Some((t, best)) if best > e.version => {
                *truncated += 1;
                t
            }
            _ => k.steps.iter().take(n).find(|(_, v)| *v > e.version).map(|(t, _)| *t).unwrap_or(e.start_us),
        };
        h.worst_lag_ms = h.worst_lag_ms.max(e.start_us.saturating_sub(first_unseen) as f64 / 1e3);
    } else {
        h.version_regressions += 1;
    }
    if h.examples.len() < MAX_EXAMPLES {
        h.examples.push(VersionExample {
            path: e.path.clone(),
            kind: e.kind,
            session: e.session,
            at_us: e.start_us,
            observed_version: e.version,
            acknowledged_version: acked,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event as the driver records it (version from the server's Stat).
    fn ev(kind: OpKind, start_us: u64, end_us: u64, version: i64) -> OpEvent {
        OpEvent {
            intended_us: start_us,
            start_us,
            end_us,
            kind,
            session: 0,
            path: "/zkchaos/keys/k7".into(),
            outcome: Outcome::Ok,
            error: None,
            token: if kind.is_write() { format!("0-{start_us}") } else { String::new() },
            version,
        }
    }

    #[test]
    fn a_follower_lagging_behind_an_acknowledged_set_is_a_stale_read() {
        let events = vec![
            ev(OpKind::Set, 0, 1_000, 3),
            ev(OpKind::Get, 2_000, 2_400, 2), // issued after version 3 was acknowledged
            ev(OpKind::Get, 500, 2_600, 2),   // issued before the ack ended: not stale
            ev(OpKind::Get, 3_000, 3_200, 3),
        ];
        let h = version_history(&events);
        assert_eq!((h.reads_checked, h.stale_reads, h.version_regressions), (3, 1, 0));
        assert_eq!(h.worst_lag_versions, 1);
        assert_eq!(h.worst_lag_ms, 1.0);
    }

    #[test]
    fn a_set_rolled_back_then_overwritten_is_a_version_regression() {
        // v5 acknowledged; the ensemble loses it (rollback to v3); later sets climb to v4, v5, v6
        // — the final state (v6) alone would pass the audit.
        let events = vec![
            ev(OpKind::Set, 0, 100, 4),
            ev(OpKind::Set, 200, 300, 5),
            ev(OpKind::Set, 1_000, 1_100, 4),
            ev(OpKind::Set, 1_200, 1_300, 5),
            ev(OpKind::Set, 1_400, 1_500, 6),
            ev(OpKind::Get, 2_000, 2_100, 6),
        ];
        let h = version_history(&events);
        assert_eq!(h.version_regressions, 2, "{h:?}");
        assert_eq!(h.stale_reads, 0);
        assert_eq!(h.examples[0].acknowledged_version, 5);
        assert_eq!(h.examples[0].observed_version, 4);
    }

    /// An acknowledged sequential create as the driver records it: the created path, version -1.
    fn create(session: u32, start_us: u64, end_us: u64, seq: u32) -> OpEvent {
        OpEvent {
            session,
            path: format!("/zkchaos/seq/s-{seq:010}"),
            token: format!("{session}-{start_us}"),
            ..ev(OpKind::Create, start_us, end_us, -1)
        }
    }

    #[test]
    fn two_overlapping_sets_acknowledged_at_one_version_are_a_duplicate() {
        // Counter-example (b): neither finished before the other started, so the regression rule
        // cannot order them; both returned version 5, so one of them was rolled back.
        let events = vec![
            ev(OpKind::Set, 0, 100, 4),
            OpEvent { session: 1, token: "1-200".into(), ..ev(OpKind::Set, 200, 600, 5) },
            OpEvent { session: 2, token: "2-300".into(), ..ev(OpKind::Set, 300, 700, 5) },
            ev(OpKind::Set, 800, 900, 6),
        ];
        let h = version_history(&events);
        assert_eq!((h.duplicate_versions, h.version_regressions, h.duplicate_sequence_numbers), (1, 0, 0), "{h:?}");
        let d = &h.duplicate_examples[0];
        assert_eq!((d.path.as_str(), d.number), ("/zkchaos/keys/k7", 5));
        assert_eq!((d.first.session, d.first.start_us, d.first.end_us), (1, 200, 600));
        assert_eq!((d.second.session, d.second.start_us, d.second.end_us), (2, 300, 700));
        assert_eq!(
            d.describe(),
            "/zkchaos/keys/k7 version 5: set by session 1 (token 1-200) at 0.000-0.001 s and set by session 2 (token 2-300) at 0.000-0.001 s"
        );
    }

    #[test]
    fn a_multi_sharing_a_version_with_a_set_is_a_duplicate_and_distinct_versions_are_not() {
        let events = vec![
            ev(OpKind::Set, 0, 500, 1),
            ev(OpKind::Multi, 100, 600, 2),
            ev(OpKind::Set, 200, 700, 3),
            ev(OpKind::Multi, 300, 800, 3),
            // Not acknowledged: its version is not known, nothing to compare.
            OpEvent { outcome: Outcome::Indeterminate, ..ev(OpKind::Set, 400, 900, 3) },
        ];
        let h = version_history(&events);
        assert_eq!(h.duplicate_versions, 1, "{h:?}");
        assert_eq!(h.duplicate_examples[0].second.kind, OpKind::Multi);
    }

    #[test]
    fn two_acknowledged_creates_with_one_sequence_number_are_a_duplicate() {
        let events = vec![
            create(0, 0, 100, 11),
            create(1, 50, 400, 12),
            create(2, 60, 500, 12),
            // A failed create records no path; an indeterminate one is not acknowledged.
            OpEvent { outcome: Outcome::Fail, path: String::new(), ..create(3, 70, 510, 0) },
            OpEvent { outcome: Outcome::Indeterminate, ..create(4, 80, 520, 12) },
            create(0, 600, 700, 13),
        ];
        let h = version_history(&events);
        assert_eq!((h.duplicate_sequence_numbers, h.duplicate_versions), (1, 0), "{h:?}");
        let d = &h.duplicate_examples[0];
        assert_eq!((d.path.as_str(), d.number, d.first.session, d.second.session), ("/zkchaos/seq/s-0000000012", 12, 1, 2));
        assert!(d.describe().starts_with("/zkchaos/seq/s-0000000012 sequence number 12: create by session 1"), "{}", d.describe());
    }

    #[test]
    fn duplicates_are_kept_for_the_retention_window() {
        // Retain 1 ms: version 5 of 0.1 ms is forgotten by 5 ms (the regression rule still sees
        // the repeat: version 5 is not above the 5 acknowledged before it was issued).
        let mut t = VersionTracker::new(1_000);
        for e in [ev(OpKind::Set, 0, 100, 5), ev(OpKind::Set, 5_000, 5_100, 5), ev(OpKind::Set, 5_050, 5_200, 5)] {
            t.observe(&e);
        }
        let h = t.finish();
        assert_eq!((h.duplicate_versions, h.version_regressions), (1, 2), "{h:?}");
    }
}
