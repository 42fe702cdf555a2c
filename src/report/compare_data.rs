//! `comparison.json` and `comparison.csv`: every figure of a comparison per strategy and per
//! repetition, so scripts read numbers instead of scraping `comparison.md`.
//!
//! JSON: `{ "schema_version", "strategies": [ { "strategy", "runs", "safety_fail", "median": {…},
//! "repetitions": [ {…figures…, "summary": <the run's summary.json>} ] } ], "skipped": [...] }`.
//! CSV: one row per repetition with the flat figures (empty cell = no value). Units are in the
//! names (`_ms`, `_us`); `error_rate` is a fraction.

use super::charts::compare::median;
use super::compare::{safety_failed, ComparedRun};
use super::summary::Summary;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub const JSON_FILE: &str = "comparison.json";
pub const CSV_FILE: &str = "comparison.csv";
/// Version of the layout of `comparison.json`.
/// 2: outages, error rate and latency over the impact window (`p99_impact_us` replaces
/// `p99_procedure_us`).
pub const COMPARISON_SCHEMA_VERSION: u32 = 2;

/// The flat figures of one repetition (the comparison table's columns, unformatted). Outages,
/// error rate and latency are over the impact window (procedure start → load stop), the window
/// of the same names in the gate and `stats.json`; a run without a procedure (`zkchaos load`)
/// has no impact window and gives its load window's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub outage_any_ms: Option<f64>,
    pub outage_read_ms: Option<f64>,
    pub outage_write_ms: Option<f64>,
    /// (failed + indeterminate) / issued, a fraction.
    pub error_rate: Option<f64>,
    /// Impact window, EVERY ISSUED operation of every kind (failures and timeouts included),
    /// µs from the intended start.
    pub p99_impact_us: Option<f64>,
    pub p999_impact_us: Option<f64>,
    /// Procedure start → converged; null if it never converged.
    pub converge_ms: Option<f64>,
    pub leader_changes: Option<f64>,
    pub ops_total: Option<f64>,
    /// The longest gap of one session (max over sessions), ms.
    pub outage_session_max_ms: Option<f64>,
    /// The service's own unavailability (no server leading), ms.
    pub service_outage_ms: Option<f64>,
}

/// The run's impact window figures (procedure start → load stop), if it had a procedure.
pub fn impact(s: &Summary) -> Option<&super::summary::PhaseSummary> {
    s.impact.as_ref()
}

/// Impact-window quantiles of every issued operation (a run without a procedure: its load
/// window's, i.e. the whole run's).
pub fn impact_all_issued(s: &Summary) -> Option<crate::record::Quantiles> {
    match impact(s) {
        Some(w) => w.latency_all_us.get("all").copied(),
        None if !s.phases.contains_key("procedure") => s.latency_all_us.get("all").copied(),
        None => None,
    }
}

/// An outage figure over the impact window (a run without a procedure: its load window).
pub fn impact_outage(s: &Summary, pick: fn(&super::summary::OutageMs) -> Option<f64>) -> Option<f64> {
    match impact(s) {
        Some(w) => pick(&w.outage_ms),
        None if !s.phases.contains_key("procedure") => pick(&s.outage_ms),
        None => None,
    }
}

/// The error rate over the impact window (a run without a procedure: the whole run's).
pub fn impact_error_rate(s: &Summary) -> Option<f64> {
    match impact(s) {
        Some(w) => Some(w.error_rate),
        None if !s.phases.contains_key("procedure") => Some(s.error_rate),
        None => None,
    }
}

impl Figures {
    pub const NAMES: [&'static str; 11] = [
        "outage_any_ms",
        "outage_read_ms",
        "outage_write_ms",
        "error_rate",
        "p99_impact_us",
        "p999_impact_us",
        "converge_ms",
        "leader_changes",
        "ops_total",
        "outage_session_max_ms",
        "service_outage_ms",
    ];

    pub fn of(s: &Summary) -> Figures {
        let q = impact_all_issued(s);
        Figures {
            outage_any_ms: impact_outage(s, |o| o.any),
            outage_read_ms: impact_outage(s, |o| o.read),
            outage_write_ms: impact_outage(s, |o| o.write),
            error_rate: impact_error_rate(s),
            p99_impact_us: q.map(|q| q.p99 as f64),
            p999_impact_us: q.map(|q| q.p999 as f64),
            converge_ms: s.converge_ms.map(|x| x as f64),
            leader_changes: Some(f64::from(s.leader_changes)),
            ops_total: Some(s.ops.total as f64),
            outage_session_max_ms: impact_outage(s, |o| o.per_session.map(|p| p.max)),
            service_outage_ms: s.service_outage_ms,
        }
    }

    fn values(&self) -> [Option<f64>; 11] {
        [
            self.outage_any_ms,
            self.outage_read_ms,
            self.outage_write_ms,
            self.error_rate,
            self.p99_impact_us,
            self.p999_impact_us,
            self.converge_ms,
            self.leader_changes,
            self.ops_total,
            self.outage_session_max_ms,
            self.service_outage_ms,
        ]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Repetition {
    pub run_id: String,
    pub dir: String,
    pub verdict: String,
    pub data_loss: String,
    pub single_leader: String,
    #[serde(flatten)]
    pub figures: Figures,
    /// The run's whole `summary.json`.
    pub summary: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct StrategyFigures {
    pub strategy: String,
    pub runs: usize,
    /// Some repetition lost data or had two writable leaders.
    pub safety_fail: bool,
    /// Median over repetitions of each figure (null when no repetition had a value).
    pub median: BTreeMap<String, Option<f64>>,
    pub repetitions: Vec<Repetition>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComparisonFigures {
    pub schema_version: u32,
    pub strategies: Vec<StrategyFigures>,
    pub skipped: Vec<String>,
}

impl ComparisonFigures {
    pub fn from_groups(groups: &BTreeMap<String, Vec<&ComparedRun>>, skipped: &[String]) -> Self {
        let strategies = groups
            .iter()
            .map(|(name, rs)| {
                let reps: Vec<Repetition> = rs
                    .iter()
                    .map(|r| Repetition {
                        run_id: r.summary.run_id.clone(),
                        dir: r.dir.display().to_string(),
                        verdict: r.summary.verdict.as_str().to_string(),
                        data_loss: r.summary.checks.data_loss.verdict.as_str().to_string(),
                        single_leader: r.summary.checks.single_leader.verdict.as_str().to_string(),
                        figures: Figures::of(&r.summary),
                        summary: serde_json::to_value(&r.summary).unwrap_or(serde_json::Value::Null),
                    })
                    .collect();
                let median = Figures::NAMES
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        let v: Vec<f64> = reps.iter().filter_map(|r| r.figures.values()[i]).collect();
                        (n.to_string(), median(&v))
                    })
                    .collect();
                StrategyFigures {
                    strategy: name.clone(),
                    runs: rs.len(),
                    safety_fail: rs.iter().any(|r| safety_failed(&r.summary)),
                    median,
                    repetitions: reps,
                }
            })
            .collect();
        ComparisonFigures { schema_version: COMPARISON_SCHEMA_VERSION, strategies, skipped: skipped.to_vec() }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }

    /// One row per repetition.
    pub fn to_csv(&self) -> String {
        let mut o = String::from("strategy,run_id,dir,verdict,data_loss,single_leader,safety_fail");
        for n in Figures::NAMES {
            o.push(',');
            o.push_str(n);
        }
        o.push('\n');
        for st in &self.strategies {
            for r in &st.repetitions {
                let _ = write!(
                    o,
                    "{},{},{},{},{},{},{}",
                    csv_cell(&st.strategy),
                    csv_cell(&r.run_id),
                    csv_cell(&r.dir),
                    r.verdict,
                    r.data_loss,
                    r.single_leader,
                    st.safety_fail
                );
                for v in r.figures.values() {
                    o.push(',');
                    if let Some(v) = v {
                        let _ = write!(o, "{v}");
                    }
                }
                o.push('\n');
            }
        }
        o
    }
}

/// Quote a CSV cell when it holds a comma, quote or newline.
fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_only_when_needed() {
        assert_eq!(csv_cell("reconfig-expand/together"), "reconfig-expand/together");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"x\""), "\"say \"\"x\"\"\"");
    }
}
