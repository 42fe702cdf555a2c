//! `zkchaos analyze <run dir>`: recompute a stored run's summary, timeline and charts from its
//! recorded files, without Docker. Works on `zkchaos run` and `zkchaos load` directories alike.

use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct AnalyzeArgs {
    /// A run directory (results/<profile>/<timestamp>-<id>, or results/load/<timestamp>-<id>).
    pub run_dir: PathBuf,
}

/// `zkchaos analyze <run dir>`: recompute summary, timeline and charts from the stored files.
pub async fn analyze(args: AnalyzeArgs) -> crate::Result<()> {
    if !args.run_dir.exists() {
        return Err(crate::Error::bad_input(format!(
            "{} does not exist; give a run directory such as results/<profile>/latest",
            args.run_dir.display()
        )));
    }
    let dir = args.run_dir.clone();
    let outcome = tokio::task::spawn_blocking(move || crate::report::analyze_dir(&dir))
        .await
        .map_err(|e| crate::Error::failed(format!("analyze {}: {e}", args.run_dir.display())))??;
    println!("{}", crate::report::render_console(&outcome.summary));
    println!("run status: {}", outcome.status);
    match outcome.matched {
        Some(true) => println!("summary.json: reproduced exactly from the recorded files"),
        Some(false) => println!(
            "summary.json: DIFFERED from the stored one in {}; rewritten",
            outcome.differing.join(", ")
        ),
        None => println!("summary.json: none was stored (run did not finish); written now"),
    }
    println!("timeline.csv and {} chart files written under {}", outcome.charts.len(), args.run_dir.display());
    Ok(())
}

