//! `zkchaos compare <run or profile dirs>... [--out DIR]`: runs side by side per strategy.

use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct CompareArgs {
    /// Run directories, or directories above them (every run below is used once).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Directory the comparison (markdown, HTML, JSON, charts) is written to.
    #[arg(long, value_name = "DIR", default_value = "results/comparison")]
    pub out: PathBuf,
}

/// `zkchaos compare <run or profile dirs>... [--out DIR]`.
pub async fn compare(args: CompareArgs) -> crate::Result<()> {
    if let Some(missing) = args.inputs.iter().find(|p| !p.exists()) {
        return Err(crate::Error::bad_input(format!(
            "{} does not exist; give run directories or a directory above them (e.g. results/)",
            missing.display()
        )));
    }
    let out = args.out.clone();
    let outcome = tokio::task::spawn_blocking(move || crate::report::compare::compare(&args.inputs, &out))
        .await
        .map_err(|e| crate::Error::failed(format!("compare: {e}")))??;
    for s in &outcome.skipped {
        println!("skipped {s}");
    }
    println!("{}", outcome.console);
    println!("wrote {} and {}", outcome.markdown.display(), outcome.html.display());
    Ok(())
}
