//! The windows a procedure's figures are measured over, from the recorded marks alone (so a
//! stored run is re-analysable):
//!
//! - the **impact window**: procedure start (`phase:procedure` Start) → load stop. A fault's
//!   damage can land after the procedure phase ends (restart 1→3 new-first loses its data and
//!   sessions after convergence), so every figure the gate, suite statistics and comparisons
//!   judge is over this window, not the procedure phase;
//! - **cycle windows** (`procedure.repeat` > 1): cycle n's Start mark (`cycle:n`) → cycle n+1's
//!   Start, or the load stop for the last cycle. The cycle windows partition the impact window
//!   from the first cycle on. A run without cycle marks has one cycle: its impact window.

use crate::record::{labels, Mark, MarkKind};

/// One cycle of a repeated procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleWindow {
    /// 1-based.
    pub cycle: u32,
    /// Start of the cycle → start of the next (or the load stop), µs since the epoch.
    pub window: (u64, u64),
    /// The cycle's End mark when it converged (not `failed`): its convergence time.
    pub converged_us: Option<u64>,
}

/// The load-stop mark, if recorded.
pub fn load_stop(marks: &[Mark]) -> Option<u64> {
    marks.iter().filter(|m| m.label == labels::LOAD_STOP).map(|m| m.at_us).min()
}

/// Procedure start → `end` (the load stop; without it, the caller's end of the load window).
/// `None` without a procedure phase.
pub fn impact_window(marks: &[Mark], end: u64) -> Option<(u64, u64)> {
    let start = marks.iter().filter(|m| m.label == labels::PHASE_PROCEDURE && m.kind == MarkKind::Start).map(|m| m.at_us).min()?;
    let end = load_stop(marks).unwrap_or(end);
    Some((start, end.max(start)))
}

/// The cycles recorded by `cycle:<n>` marks, in order (empty when the procedure ran once).
/// `end`: as for [`impact_window`].
pub fn cycle_windows(marks: &[Mark], end: u64) -> Vec<CycleWindow> {
    let mut starts: Vec<(u32, u64)> = marks
        .iter()
        .filter(|m| m.kind == MarkKind::Start)
        .filter_map(|m| labels::cycle_number(&m.label).map(|n| (n, m.at_us)))
        .collect();
    starts.sort_by_key(|&(n, at)| (at, n));
    let end = load_stop(marks).unwrap_or(end);
    let mut out = Vec::with_capacity(starts.len());
    for (i, &(n, start)) in starts.iter().enumerate() {
        let next = starts.get(i + 1).map_or(end, |&(_, at)| at);
        let converged_us = marks
            .iter()
            .filter(|m| m.kind == MarkKind::End && !m.failed && m.at_us >= start && labels::cycle_number(&m.label) == Some(n))
            .map(|m| m.at_us)
            .min();
        out.push(CycleWindow { cycle: n, window: (start, next.max(start)), converged_us });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(at_us: u64, kind: MarkKind, label: &str) -> Mark {
        Mark::new(at_us, kind, label, None)
    }

    /// Marks as a run with `procedure.repeat = 3` writes them: phase start, cycle Start at its
    /// first step, cycle End at its convergence stamp (earlier than when it is written), a failed
    /// End for a cycle that did not converge, then the load stop.
    fn repeated() -> Vec<Mark> {
        vec![
            m(1_000, MarkKind::Start, "phase:procedure"),
            m(1_000, MarkKind::Start, "cycle:1"),
            m(4_000, MarkKind::End, "cycle:1"),
            m(7_000, MarkKind::Start, "cycle:2"),
            m(9_500, MarkKind::End, "cycle:2"),
            m(12_000, MarkKind::Start, "cycle:3"),
            Mark::failed_end(20_000, "cycle:3", "not converged: zk2 down".into()),
            m(20_000, MarkKind::End, "phase:procedure"),
            m(25_000, MarkKind::Point, "load stop"),
        ]
    }

    #[test]
    fn cycles_partition_the_impact_window() {
        let marks = repeated();
        assert_eq!(impact_window(&marks, 30_000), Some((1_000, 25_000)));
        let c = cycle_windows(&marks, 30_000);
        assert_eq!(c.len(), 3);
        assert_eq!((c[0].cycle, c[0].window, c[0].converged_us), (1, (1_000, 7_000), Some(4_000)));
        assert_eq!((c[1].window, c[1].converged_us), ((7_000, 12_000), Some(9_500)));
        assert_eq!((c[2].window, c[2].converged_us), ((12_000, 25_000), None), "failed End: not converged");
    }

    #[test]
    fn without_cycle_marks_or_load_stop() {
        let marks = vec![m(500, MarkKind::Start, "phase:procedure"), m(900, MarkKind::End, "phase:procedure")];
        assert_eq!(impact_window(&marks, 2_000), Some((500, 2_000)), "no load stop: the caller's end");
        assert!(cycle_windows(&marks, 2_000).is_empty());
        assert_eq!(impact_window(&[], 2_000), None);
    }
}
