//! The report: everything a user reads after a run.
//!
//! A run writes into one [`rundir::RunDir`] (`results/<profile>/<timestamp>-<id>/`): `plan.json`,
//! `meta.json`, `status`, `events.csv.gz`, `marks.json`, `monitor.csv`, `readback.json`, then
//! `summary.json` (versioned, see `schema/summary.schema.json`), `timeline.csv` and `charts/`.
//! [`summary::build_summary`] computes every figure from those recorded inputs only, so
//! `zkchaos analyze` reproduces a run's summary and charts without Docker, and
//! `zkchaos compare` puts runs side by side per strategy.

pub mod charts;
pub mod console;
pub mod error;
pub mod meta;
pub mod rundir;
pub mod summary;

pub use error::ReportError;
pub use meta::{HostInfo, RunMeta};
pub use rundir::{RunDir, RunStatus};

pub mod commands {
    pub async fn compare(_args: crate::cli::CompareArgs) -> crate::Result<()> { Err(crate::Error::Failed("not yet".into())) }
    pub async fn analyze(_args: crate::cli::AnalyzeArgs) -> crate::Result<()> { Err(crate::Error::Failed("not yet".into())) }
}
