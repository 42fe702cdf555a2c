//! The report: everything a user reads after a run.
//!
//! A run writes into one [`rundir::RunDir`] (`results/<profile>/<timestamp>-<id>/`): `plan.json`,
//! `meta.json`, `status`, `events.csv.gz`, `marks.json`, `monitor.csv`, `readback.json`, then
//! `summary.json` (versioned, see `schema/summary.schema.json`), `timeline.csv` and `charts/`.
//! [`summary::build_summary`] computes every figure from those recorded inputs only, so
//! `zkchaos analyze` reproduces a run's summary and charts without Docker, and
//! `zkchaos compare` puts runs side by side per strategy.

pub mod build;
pub mod charts;
pub mod compare;
pub mod compare_data;
pub mod console;
pub mod error;
pub mod evidence;
pub mod figures;
pub mod html;
pub mod openmetrics;
pub mod summary;
pub mod write;

pub use build::build_summary;
pub use console::render_console;
pub use error::ReportError;
pub use summary::{read_summary, Summary};
pub use write::{analyze_dir, finish_run, write_results, AnalyzeOutcome};
