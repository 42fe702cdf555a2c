//! `zkchaos clean`: remove every container, network and volume zkchaos labelled (or one run's).

use crate::cluster::cleanup::{self, TeardownReport};
use crate::cluster::connect_docker;
use crate::Result;
use clap::Args;

#[derive(Debug, Args, Clone)]
pub struct CleanArgs {
    /// Only this run's objects (removed even if its process is still alive).
    #[arg(long)]
    pub run: Option<String>,
}

pub(crate) fn print_report(what: &str, report: &TeardownReport) {
    println!("{what}: {report}");
}

/// Remove one run's objects (`--run`), or every run whose creating process is gone. Runs whose
/// process is still alive on this host (a `zkchaos run` or test in progress) are skipped and
/// named, so `clean` never pulls an ensemble from under a live run; `--run ID` removes one anyway.
pub async fn clean(args: CleanArgs) -> Result<()> {
    let docker = connect_docker().await?;
    if let Some(r) = args.run.as_deref() {
        let report = cleanup::remove_run(&docker, r).await?;
        print_report(&format!("run {r}"), &report);
        return Ok(());
    }
    let mut total = TeardownReport::default();
    for l in cleanup::find_leftovers(&docker).await? {
        if l.alive {
            println!(
                "skipped run {} (profile {}): its process {} is still running; `zkchaos clean --run {}` removes it anyway",
                l.run_id,
                l.profile.as_deref().unwrap_or("?"),
                l.pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                l.run_id
            );
            continue;
        }
        total.merge(cleanup::remove_run(&docker, &l.run_id).await?);
    }
    print_report("runs whose process is gone", &total);
    Ok(())
}
