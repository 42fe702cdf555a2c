//! `zkchaos compare` and `zkchaos analyze`: thin wrappers that run the report functions off the
//! async runtime and print what they did.

use crate::cli::{AnalyzeArgs, CompareArgs};

/// `zkchaos analyze <run dir>`: recompute summary, timeline and charts from the stored files.
pub async fn analyze(args: AnalyzeArgs) -> crate::Result<()> {
    let dir = args.run_dir.clone();
    let outcome = tokio::task::spawn_blocking(move || super::analyze_dir(&dir))
        .await
        .map_err(|e| crate::Error::Failed(format!("analyze {}: {e}", args.run_dir.display())))??;
    println!("{}", super::render_console(&outcome.summary));
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

/// `zkchaos compare <run or profile dirs>... [--out DIR]`.
pub async fn compare(args: CompareArgs) -> crate::Result<()> {
    let out = args.out.clone();
    let outcome = tokio::task::spawn_blocking(move || super::compare::compare(&args.inputs, &out))
        .await
        .map_err(|e| crate::Error::Failed(format!("compare: {e}")))??;
    for s in &outcome.skipped {
        println!("skipped {s}");
    }
    println!("{}", outcome.console);
    println!("wrote {} and {}", outcome.markdown.display(), outcome.html.display());
    Ok(())
}
