//! Safety checkers: judge a run after the fact (Jepsen's checkers).
//!
//! - [`audit`]: every acknowledged write must be present, at its acknowledged version or later,
//!   on every server (pure; input is the event history plus [`readback::ServerReadback`]s).
//! - [`readback`]: reads the zkchaos znodes back from each server separately, and stores them
//!   (`readback.json.gz`) so `zkchaos analyze` can re-run the audit without Docker.
//! - [`monitor`]: the `srvr` poller that records every server's mode (`monitor.csv`) and the
//!   pure analysis that finds two simultaneous leaders.
//! - [`converge`]: has the ensemble reached its target membership (pure)?
//!
//! Every check ends in a [`Verdict`]; verdicts combine FAIL > UNKNOWN > PASS.

pub mod audit;
pub mod converge;
pub mod monitor;
pub mod readback;

pub use audit::{audit, AuditExample, AuditReport, ServerAudit, UnreadableServer};
pub use converge::{check_converged, Convergence, ServerObservation};
pub use monitor::{
    analyze_modes, read_monitor_csv, spawn_monitor, spawn_monitor_with, write_monitor_csv, Interval, LeaderReport,
};
pub use readback::{load_readbacks, read_all, read_server, save_readbacks, ReadbackOptions, ServerReadback};

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

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

/// Failures of the check module's own I/O. Read-back failures of a server are not errors: they
/// are recorded in [`ServerReadback::error`] and make the audit UNKNOWN.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("saving read-backs to {path}: {source}")]
    SaveReadback { path: PathBuf, source: std::io::Error },
    #[error("encoding read-backs for {path}: {source}")]
    EncodeReadback { path: PathBuf, source: serde_json::Error },
    #[error("loading read-backs from {path}: {source}")]
    LoadReadback { path: PathBuf, source: std::io::Error },
    #[error("parsing read-backs in {path}: {source}")]
    ParseReadback { path: PathBuf, source: serde_json::Error },
    #[error("writing monitor samples to {path}: {source}")]
    WriteMonitor { path: PathBuf, source: csv::Error },
    #[error("reading monitor samples from {path}: {source}")]
    ReadMonitor { path: PathBuf, source: csv::Error },
}

impl From<CheckError> for crate::Error {
    fn from(e: CheckError) -> Self {
        match e {
            // Files of a stored run that are missing or corrupt: the user pointed at the wrong thing.
            CheckError::LoadReadback { .. } | CheckError::ParseReadback { .. } | CheckError::ReadMonitor { .. } => {
                crate::Error::BadInput(e.to_string())
            }
            CheckError::SaveReadback { .. } | CheckError::EncodeReadback { .. } | CheckError::WriteMonitor { .. } => {
                crate::Error::Failed(e.to_string())
            }
        }
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
