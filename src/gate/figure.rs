//! The figures the gate judges, where each comes from in a summary, and which way is worse.

use super::*;

/// A performance figure the gate knows. Lower is better for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// `impact.outage_ms.read`.
    OutageReadMs,
    /// `impact.outage_ms.write`.
    OutageWriteMs,
    /// `impact.error_rate` (fraction, 0..1).
    ErrorRate,
    /// `impact.latency_all_us.all.p99` (every issued operation), in ms.
    P99Ms,
    /// Top-level `converge_ms`; a run that never converged counts as infinitely slow.
    ConvergeMs,
    /// `impact.outage_ms.per_session.max` (optional: newer summaries only).
    SessionOutageMaxMs,
}

impl Figure {
    pub const ALL: [Figure; 6] = [
        Figure::OutageReadMs,
        Figure::OutageWriteMs,
        Figure::ErrorRate,
        Figure::P99Ms,
        Figure::ConvergeMs,
        Figure::SessionOutageMaxMs,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Figure::OutageReadMs => "outage_read_ms",
            Figure::OutageWriteMs => "outage_write_ms",
            Figure::ErrorRate => "error_rate",
            Figure::P99Ms => "p99_ms",
            Figure::ConvergeMs => "converge_ms",
            Figure::SessionOutageMaxMs => "session_outage_max_ms",
        }
    }

    /// Where the figure comes from in `summary.json` (per cycle: the same path under `cycles[]`).
    pub fn source(self) -> &'static str {
        match self {
            Figure::OutageReadMs => "impact.outage_ms.read",
            Figure::OutageWriteMs => "impact.outage_ms.write",
            Figure::ErrorRate => "impact.error_rate",
            Figure::P99Ms => "impact.latency_all_us.all.p99",
            Figure::ConvergeMs => "converge_ms",
            Figure::SessionOutageMaxMs => "impact.outage_ms.per_session.max",
        }
    }

    /// The path inside a window object (`impact` or a cycle).
    pub fn window_path(self) -> &'static str {
        let s = self.source();
        s.strip_prefix("impact.").unwrap_or(s)
    }

    /// What the figure counts and over which window, for captions and reports.
    pub fn caption(self) -> &'static str {
        match self {
            Figure::OutageReadMs => "longest gap with no successful read, procedure start → load stop",
            Figure::OutageWriteMs => "longest gap with no successful write, procedure start → load stop",
            Figure::ErrorRate => "failed + indeterminate / issued operations, procedure start → load stop",
            Figure::P99Ms => "p99 latency of every issued operation (failures and timeouts included), procedure start → load stop",
            Figure::ConvergeMs => "procedure start → target membership (never converged: ∞)",
            Figure::SessionOutageMaxMs => "worst session's longest gap without success, procedure start → load stop",
        }
    }

    /// Optional figures are compared only when every run on both sides has them.
    pub fn optional(self) -> bool {
        self == Figure::SessionOutageMaxMs
    }

    /// Smallest absolute change that can count as a regression, whatever the tolerance: below it
    /// a change is within the measurement's resolution (a few ms of outage at 300–1000 ops/s, a
    /// tenth of a percent of errors).
    pub fn floor(self) -> f64 {
        match self {
            Figure::OutageReadMs | Figure::OutageWriteMs | Figure::SessionOutageMaxMs => 50.0,
            Figure::ErrorRate => 0.001,
            Figure::P99Ms => 1.0,
            Figure::ConvergeMs => 500.0,
        }
    }

    /// A value in the figure's unit, for people.
    pub fn fmt(self, v: f64) -> String {
        if v.is_infinite() {
            return "never".into();
        }
        match self {
            Figure::ErrorRate => format!("{:.3} %", v * 100.0),
            _ if v >= 10_000.0 => format!("{:.1} s", v / 1000.0),
            _ => format!("{v:.1} ms"),
        }
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

