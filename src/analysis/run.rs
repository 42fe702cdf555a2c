//! Whole-run figures that are not about one operation kind: the event window, the run's length,
//! the kinds in play, the procedure's steps from its marks, and the convergence time.

use crate::record::{labels, Mark, MarkKind, OpEvent, RunData};
use serde::{Deserialize, Serialize};

/// The window outages are measured in: from the first intended start to the moment the load
/// was told to stop (the `load stop` mark; runs recorded before it existed: the last
/// completion). `zkchaos run` and `zkchaos load` use this same rule.
pub fn load_window(events: &[OpEvent], marks: &[Mark]) -> (u64, u64) {
    let (start, last_end) = event_window(events);
    let stop = marks.iter().filter(|m| m.label == labels::LOAD_STOP).map(|m| m.at_us).min();
    (start, stop.unwrap_or(last_end).max(start))
}

/// From the first intended start to the last completion (empty run: (0, 0)).
pub fn event_window(events: &[OpEvent]) -> (u64, u64) {
    let start = events.iter().map(|e| e.intended_us).min().unwrap_or(0);
    let end = events.iter().map(|e| e.end_us).max().unwrap_or(0);
    (start, end.max(start))
}

/// Latest recorded time of any kind, µs (`last_end_us`: the events' last completion, from the
/// streaming pass).
pub fn last_time_us(d: &RunData, last_end_us: u64) -> u64 {
    let e = last_end_us;
    let m = d.marks.iter().map(|m| m.at_us).max().unwrap_or(0);
    let s = d.samples.iter().map(|s| s.at_us).max().unwrap_or(0);
    e.max(m).max(s)
}

/// From the end of the procedure's last step to the `converged` mark, ms: how long the ensemble
/// took to settle once the operator was done (convergence is measured from the phase start).
pub fn settle_ms(marks: &[Mark]) -> Option<u64> {
    let conv = marks.iter().filter(|m| m.label == labels::CONVERGED).map(|m| m.at_us).min()?;
    let start = marks.iter().find(|m| m.label == labels::PHASE_PROCEDURE && m.kind == MarkKind::Start)?.at_us;
    let last_step = marks
        .iter()
        .filter(|m| m.at_us >= start && m.at_us <= conv && m.kind != MarkKind::Start && labels::is_step(&m.label))
        .map(|m| m.at_us)
        .max()
        .unwrap_or(start);
    Some(conv.saturating_sub(last_step) / 1000)
}

/// From the start of the procedure phase to the first `converged` mark after it, ms.
pub fn converge_ms(marks: &[Mark]) -> Option<u64> {
    let start = marks.iter().find(|m| m.label == labels::PHASE_PROCEDURE && m.kind == MarkKind::Start)?.at_us;
    let conv = marks.iter().filter(|m| m.label == labels::CONVERGED && m.at_us >= start).map(|m| m.at_us).min()?;
    Some((conv - start) / 1000)
}


#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProcedureSummary {
    /// Each procedure step (Start/End pair or Point mark), in time order.
    pub steps: Vec<StepSummary>,
    /// Marks whose label starts with `reconfig`, counted as attempts.
    pub reconfig_attempts: u32,
    /// Of those, how many ended with their `failed` flag set.
    pub reconfig_failures: u32,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StepSummary {
    pub label: String,
    pub at_ms: f64,
    /// Null for a point mark or a step that never ended.
    pub duration_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Procedure steps from marks: a Start is paired with the next End of the same label.
pub fn procedure_steps(marks: &[Mark]) -> ProcedureSummary {
    let mut sorted: Vec<&Mark> = marks.iter().collect();
    sorted.sort_by_key(|m| m.at_us);
    let is_step =
        |m: &Mark| !labels::is_phase(&m.label) && !matches!(m.label.as_str(), labels::CONVERGED | labels::LOAD_STOP);
    let mut steps = Vec::new();
    let mut reconfig_attempts = 0;
    let mut reconfig_failures = 0;
    for (i, m) in sorted.iter().enumerate() {
        if !is_step(m) || m.kind == MarkKind::End {
            continue;
        }
        let end = (m.kind == MarkKind::Start)
            .then(|| sorted[i + 1..].iter().find(|e| e.kind == MarkKind::End && e.label == m.label))
            .flatten();
        let detail = end.and_then(|e| e.detail.clone()).or_else(|| m.detail.clone());
        if m.label.starts_with("reconfig") {
            reconfig_attempts += 1;
            if end.is_some_and(|e| e.failed) {
                reconfig_failures += 1;
            }
        }
        steps.push(StepSummary {
            label: m.label.clone(),
            at_ms: m.at_us as f64 / 1e3,
            duration_ms: end.map(|e| (e.at_us - m.at_us) as f64 / 1e3),
            detail,
        });
    }
    ProcedureSummary { steps, reconfig_attempts, reconfig_failures }
}

