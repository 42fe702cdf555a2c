//! Safety checkers: judge a run after the fact (Jepsen's checkers).
//!
//! - [`audit`]: every acknowledged write must be present, at its acknowledged version or later,
//!   on every server (pure; input is the event history plus [`readback::ServerReadback`]s).
//! - [`stale_reads`]: the version history: stale reads (allowed, counted) and version
//!   regressions of acknowledged writes (lost data);
//! - [`monitor`]: from the monitor's mode samples (`monitor.csv`), were there ever two writable
//!   authorities at once?
//! - [`ephemerals`]: no ephemeral znode may outlive its session (acknowledged close, or expiry
//!   deadline passed) on any server (pure; events plus the read-backs' `/zkchaos/eph` listings);
//! - [`digest`]: ZooKeeper's own data-tree digest check (`zk_digest_mismatches_count` from
//!   `mntr` at the end of the run): any mismatch on any server FAILs;
//! - [`converge`]: has the ensemble reached its target membership? (The predicate the procedure
//!   layer polls live; pure.)
//!
//! Everything here is pure: inputs are what [`crate::record`] stored (events, read-backs, mode
//! samples, `mntr.json`), so `zkchaos analyze` re-runs every check without Docker. This layer imports only
//! `plan`, `record` and `analysis`.
//!
//! Every check ends in a [`Verdict`]; verdicts combine FAIL > UNKNOWN > PASS. [`safety`] says
//! which checks a run is judged by and whether an UNKNOWN of each blocks.

pub mod audit;
pub mod converge;
pub mod ephemerals;
pub mod digest;
pub mod monitor;
pub mod safety;
pub mod stale_reads;

pub use audit::{audit, AuditExample, AuditStream, AuditReport, ServerAudit, UnreadableServer};
pub use converge::{check_converged, check_converged_except, Convergence, ServerObservation};
pub use digest::{DigestReport, DigestServer};
pub use ephemerals::{check_ephemerals, EphemeralReport, EphemeralSetup, EphemeralStream};
pub use monitor::{analyze_modes, HarnessFaults, HarnessHold, Interval, LeaderReport};
pub use stale_reads::{version_history, VersionHistory};

use serde::{Deserialize, Serialize};
use std::fmt;

/// Outcome of one safety check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// The check ran on complete data and found nothing wrong.
    Pass,
    /// The check found a violation.
    Fail,
    /// The check could not decide (a server could not be read, no samples).
    Unknown,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Unknown => "UNKNOWN",
        }
    }

    /// The worse of two verdicts: FAIL beats UNKNOWN beats PASS.
    pub fn combine(self, other: Verdict) -> Verdict {
        fn rank(v: Verdict) -> u8 {
            match v {
                Verdict::Pass => 0,
                Verdict::Unknown => 1,
                Verdict::Fail => 2,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// Combine many verdicts; PASS for none.
    pub fn combine_all(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().fold(Verdict::Pass, Verdict::combine)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{1,2,3}`, or `{1..5}` for a contiguous run of three or more ids.
pub fn fmt_ids<'a>(ids: impl IntoIterator<Item = &'a u32>) -> String {
    let mut v: Vec<u32> = ids.into_iter().copied().collect();
    v.sort_unstable();
    v.dedup();
    if v.len() >= 3 && v.windows(2).all(|w| w[1] == w[0] + 1) {
        return format!("{{{}..{}}}", v[0], v[v.len() - 1]);
    }
    let parts: Vec<String> = v.iter().map(|i| i.to_string()).collect();
    format!("{{{}}}", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_combines_and_serialises() {
        use Verdict::*;
        assert_eq!(Pass.combine(Unknown), Unknown);
        assert_eq!(Unknown.combine(Fail), Fail);
        assert_eq!(Fail.combine(Pass), Fail);
        assert_eq!(Verdict::combine_all([Pass, Pass]), Pass);
        assert_eq!(Verdict::combine_all([]), Pass);
        assert_eq!(serde_json::to_string(&Unknown).unwrap(), "\"UNKNOWN\"");
        assert_eq!(serde_json::from_str::<Verdict>("\"FAIL\"").unwrap(), Fail);
    }

    #[test]
    fn ids_format() {
        assert_eq!(fmt_ids(&[3, 1, 2]), "{1..3}");
        assert_eq!(fmt_ids(&[1, 2]), "{1,2}");
        assert_eq!(fmt_ids(&[1, 3, 4]), "{1,3,4}");
        assert_eq!(fmt_ids(&[]), "{}");
    }
}
