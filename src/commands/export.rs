//! `zkchaos export --format openmetrics <run dir>`: print a stored run's time series and figures
//! as an OpenMetrics exposition (the same text as the run's `metrics.om`), e.g. to backfill a
//! Prometheus with `promtool tsdb create-blocks-from openmetrics` and look at it in Grafana.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// OpenMetrics text (Prometheus exposition format with timestamps, ending in `# EOF`).
    Openmetrics,
}

#[derive(Debug, Args, Clone)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "openmetrics")]
    pub format: ExportFormat,
    /// A run directory (results/<profile>/<timestamp>-<id>, or results/load/<timestamp>-<id>).
    pub run_dir: PathBuf,
}

/// Print the exposition of `args.run_dir` on standard output.
pub async fn export(args: ExportArgs) -> crate::Result<()> {
    if !args.run_dir.exists() {
        return Err(crate::Error::bad_input(format!(
            "{} does not exist; give a run directory such as results/<profile>/latest",
            args.run_dir.display()
        )));
    }
    let dir = args.run_dir.clone();
    let text = tokio::task::spawn_blocking(move || -> crate::Result<String> {
        let data = crate::record::load_run(&dir)?;
        let figures = crate::report::figures::run_figures(&data)?;
        // The stored summary when there is one (what the run reported), else recomputed.
        let summary = match crate::report::read_summary(&dir.join(crate::record::load::SUMMARY_FILE)) {
            Ok(s) => s,
            Err(_) => crate::report::build::summary_of(&data, &figures),
        };
        Ok(crate::report::write::openmetrics_text(&data, &figures, &summary))
    })
    .await
    .map_err(|e| crate::Error::failed(format!("export {}: {e}", args.run_dir.display())))??;
    print!("{text}");
    Ok(())
}
