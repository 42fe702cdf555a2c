//! Which safety checks a run is judged by, and what an UNKNOWN of each means: the one place
//! that says whether "could not decide" blocks. The run's verdict ([`run_verdict`]), the gate
//! (`safety.<name>` checks) and the hunt's trial outcome all read it, so a run that `zkchaos run`
//! calls PASS is never blocked by the gate for the same evidence, and the reverse.
//!
//! - `data_loss`, `single_leader`, `ephemerals`: an UNKNOWN blocks. These are the harness's own
//!   checks over what it recorded; missing evidence (no read-back, no mode samples, no recorded
//!   ephemeral operations) is never a pass.
//! - `digest`: an UNKNOWN does not block. ZooKeeper's own data-tree digest is extra evidence
//!   read from `mntr` at the end; it is absent on releases without the field and on a server that
//!   is down at the end of a run by design (a procedure that stops one). It is reported, and a
//!   FAIL fails like any other check.
//! - A check this table does not know (a newer zkchaos's summary) blocks: the cautious reading.
//!
//! `stale_reads` is counted, never judged, and is not a safety check.

use super::Verdict;

/// One safety check's name (as `summary.json` spells it) and whether its UNKNOWN blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafetyCheck {
    pub name: &'static str,
    pub unknown_blocks: bool,
}

/// Every safety check zkchaos writes, in report order.
pub const SAFETY_CHECKS: [SafetyCheck; 4] = [
    SafetyCheck { name: "data_loss", unknown_blocks: true },
    SafetyCheck { name: "single_leader", unknown_blocks: true },
    SafetyCheck { name: "ephemerals", unknown_blocks: true },
    SafetyCheck { name: "digest", unknown_blocks: false },
];

/// Does an UNKNOWN of check `name` block (make the run UNKNOWN, the gate refuse)? `true` for a
/// name not in [`SAFETY_CHECKS`].
pub fn unknown_blocks(name: &str) -> bool {
    SAFETY_CHECKS.iter().find(|c| c.name == name).is_none_or(|c| c.unknown_blocks)
}

/// The verdict check `name` contributes to the run's verdict: its own, except that a
/// non-blocking UNKNOWN counts as PASS.
pub fn counted(name: &str, verdict: Verdict) -> Verdict {
    if verdict == Verdict::Unknown && !unknown_blocks(name) {
        Verdict::Pass
    } else {
        verdict
    }
}

/// A run's verdict from its safety checks' verdicts: FAIL beats UNKNOWN beats PASS, over
/// [`counted`] verdicts.
pub fn run_verdict<'a>(checks: impl IntoIterator<Item = (&'a str, Verdict)>) -> Verdict {
    Verdict::combine_all(checks.into_iter().map(|(name, v)| counted(name, v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::*;

    #[test]
    fn an_unknown_digest_does_not_block_and_an_unknown_core_check_does() {
        assert_eq!(run_verdict([("data_loss", Pass), ("single_leader", Pass), ("digest", Unknown)]), Pass);
        assert_eq!(run_verdict([("data_loss", Unknown), ("single_leader", Pass), ("digest", Pass)]), Unknown);
        assert_eq!(run_verdict([("data_loss", Pass), ("ephemerals", Unknown), ("digest", Pass)]), Unknown);
        assert_eq!(run_verdict([("data_loss", Pass), ("single_leader", Unknown), ("digest", Fail)]), Fail);
    }

    #[test]
    fn a_check_this_version_does_not_know_blocks() {
        assert!(unknown_blocks("lost_commits"));
        assert_eq!(counted("lost_commits", Unknown), Unknown);
        assert!(!unknown_blocks("digest"));
    }
}
