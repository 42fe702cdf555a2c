//! `zkchaos clean`: remove every container, network and volume zkchaos labelled (or one run's),
//! on the local engine and on every engine a profile lists.

use crate::cluster::cleanup::{self, TeardownReport};
use crate::cluster::connect_docker;
use crate::Result;
use bollard::Docker;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct CleanArgs {
    /// Only this run's objects (removed even if its process is still alive).
    #[arg(long)]
    pub run: Option<String>,
    /// Also clean every engine listed in this profile's `[[cluster.engines]]` (repeatable).
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
}

pub(crate) fn print_report(what: &str, report: &TeardownReport) {
    println!("{what}: {report}");
}

/// Remove one run's objects (`--run`), or every run whose creating process is gone, on the
/// local engine and the engines of `--profile`s. Runs whose process is still alive on this host
/// (a `zkchaos run` or test in progress) are skipped and named, so `clean` never pulls an
/// ensemble from under a live run; `--run ID` removes one anyway. An engine that cannot be
/// reached is named and the others are still cleaned; the command then fails.
pub async fn clean(args: CleanArgs) -> Result<()> {
    let mut engines: Vec<(String, Docker)> = Vec::new();
    let mut unreachable = Vec::new();
    match connect_docker().await {
        Ok(d) => engines.push(("local engine".into(), d)),
        Err(e) if args.profiles.is_empty() => return Err(e.into()),
        Err(e) => unreachable.push(e.to_string()),
    }
    for path in &args.profiles {
        let loaded = crate::profile::load(path)?;
        for engine in &loaded.plan.cluster.engines {
            match crate::cluster::engine::connect_engine(engine).await {
                Ok(e) => engines.push((format!("engine {}", e.name), e.docker)),
                Err(e) => unreachable.push(e.to_string()),
            }
        }
    }
    for (what, docker) in &engines {
        clean_engine(what, docker, args.run.as_deref()).await?;
    }
    if let Some(first) = unreachable.first() {
        return Err(crate::Error::environment(format!(
            "{} engine(s) could not be cleaned; run `zkchaos clean` again once they answer. First: {first}",
            unreachable.len()
        )));
    }
    Ok(())
}

async fn clean_engine(what: &str, docker: &Docker, run: Option<&str>) -> Result<()> {
    if let Some(r) = run {
        let report = cleanup::remove_run(docker, r).await?;
        print_report(&format!("run {r} on the {what}"), &report);
        return Ok(());
    }
    let mut total = TeardownReport::default();
    for l in cleanup::find_leftovers(docker).await? {
        if l.alive {
            println!(
                "skipped run {} (profile {}) on the {what}: its process {} is still running; `zkchaos clean --run {}` removes it anyway",
                l.run_id,
                l.profile.as_deref().unwrap_or("?"),
                l.pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                l.run_id
            );
            continue;
        }
        total.merge(cleanup::remove_run(docker, &l.run_id).await?);
    }
    print_report(&format!("runs whose process is gone, on the {what}"), &total);
    Ok(())
}
