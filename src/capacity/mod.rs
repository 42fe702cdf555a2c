//! Capacity planning: the maximum sustainable throughput of an ensemble under a latency
//! objective, per ensemble size, read ratio and state (steady, degraded, expanding).
//!
//! Pure parts, testable without Docker; `commands::sweep` drives them against real ensembles:
//! - [`sweep`]: the sweep file and its expansion into points;
//! - [`curve`]: the estimator — shuffled steps at spread rates, an isotonic fit of P(meet the
//!   objective | offered rate), the rate met with P ≥ 0.9 and its bootstrap interval;
//! - [`schedule`]: the order of states on a shared ensemble, the discarded warm-up and settle
//!   time before measuring, and a sweep's planned steps and duration;
//! - [`physics`]: orders the answers must respect (degraded ≤ steady, reads ≥ writes, size trends);
//! - [`step`]: a step's figures from its recorded events (all issued operations, failures
//!   included, latency from the intended start), and its verdict (pass, fail, driver-limited: lag,
//!   issued rate or the driver's own CPU);
//! - [`usl`]: the Universal Scalability Law fit of closed-loop throughput against concurrency;
//! - [`results`]: `points.csv`, `capacity.csv`, `summary.json`;
//! - [`charts`], [`report`]: the charts and `report.md` / `report.html`.
//!
//! Layering: like `stats`/`suite`/`gate`, this module reads `record` (events) and `report`
//! (chart style); it never acts on servers or load.

pub mod charts;
pub mod curve;
pub mod physics;
pub mod report;
pub mod results;
pub mod schedule;
pub mod step;
pub mod sweep;
pub mod usl;

use results::{StepRow, SweepSummary};
use std::path::Path;

/// Write every file of a sweep into `dir`: `points.csv`, `capacity.csv`, `summary.json`,
/// `charts/`, `report.md`, `report.html`. Called after every point, so an interrupted sweep
/// leaves what it measured.
pub fn write_all(dir: &Path, summary: &SweepSummary, steps: &[StepRow]) -> crate::Result<()> {
    results::write_points_csv(&dir.join("points.csv"), steps)?;
    results::write_capacity_csv(&dir.join("capacity.csv"), &summary.capacity)?;
    results::write_summary(&dir.join("summary.json"), summary)?;
    let charts = charts::sweep_charts(steps, &summary.capacity, &summary.points, summary.objective.p99_ms);
    let stems = charts::write_charts(&charts, &dir.join("charts"))?;
    let blocks = report::blocks(summary, &stems);
    crate::record::write_atomic(&dir.join("report.md"), report::render_md(&blocks).as_bytes())?;
    let title = format!("Capacity sweep {}", summary.name);
    crate::record::write_atomic(&dir.join("report.html"), report::render_html(&title, &blocks).as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests;
