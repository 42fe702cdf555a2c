//! The run lifecycle (Jepsen's core runner): one profile from nothing to results on disk, and
//! back to nothing in Docker. `commands::run` parses the command line and calls [`run_profile`].
//!
//! [`run_profile`] owns the lifecycle and the exit paths: it creates the results directory (so an
//! early failure still leaves `profile.toml`, `plan.json`, `meta.json` and a `status`), creates the
//! cluster, and runs the phases ([`phases::execute`]) racing Ctrl-C/SIGTERM and the first failed
//! write of a results file ([`WriteFailure`]), and catching panics; the process samples itself
//! into `process.csv` meanwhile.
//! Whatever happened, it then saves the node logs, writes the summary from what was recorded
//! (complete or partial), sets `status`, and removes the run's containers, network and volumes
//! (unless `--keep`). The first error is the one reported; cleanup problems are printed after it.

pub mod ensemble;
mod offline_read;
mod phases;
pub mod progress;
pub mod recorded;
mod signals;
pub mod test_hooks;

use crate::cluster::{self, Cluster, ClusterSpec};
use crate::plan::{Plan, ReconfigAuth};
use crate::profile::LoadedProfile;
use crate::record::{files, Epoch};
use crate::record::{process, HuntSeeds, RunDir, RunMeta, WriteFailure};
use crate::report;
use crate::{Error, Result};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

pub use phases::RunOptions;

/// What one run left behind.
#[derive(Debug)]
pub struct RunOutcome {
    pub dir: std::path::PathBuf,
    pub summary: Option<report::summary::Summary>,
    pub verdict_failed: bool,
}

/// Run one validated profile. Results are written even when the run fails; the returned error
/// is the first failure of the run itself.
pub async fn run_profile(loaded: LoadedProfile, opts: &RunOptions) -> Result<RunOutcome> {
    let mut plan = loaded.plan;
    let seed = plan.seed.unwrap_or_else(rand::random);
    plan.seed = Some(seed);

    let engines = cluster::connect_engines(&plan.cluster).await?;
    let docker = engines[0].docker.clone();
    // Memory for the largest the ensemble will be, not just its initial size; a missing image is
    // the user's to fix before anything is written (on every listed engine).
    let largest = plan.procedure.target_size(plan.cluster.size);
    let image = cluster::engine::preflight(&engines, &plan.cluster, largest).await?;
    for e in &engines {
        cluster::warn_leftovers(&e.docker).await;
    }
    let dir = RunDir::create(&opts.results, &plan.name)?;
    let run_id = dir.id().to_string();
    let epoch = Epoch::now();
    dir.write_text(files::PROFILE_FILE, &loaded.text)?;
    dir.write_json(files::PLAN_FILE, &plan)?;
    let mut meta = initial_meta(&dir, &plan, epoch, opts.hunt.clone())?;

    // The harness's own footprint, every few seconds into process.csv; every writer of the run's
    // files trips the run directory's `failure`, which stops the run.
    let failure = dir.failure();
    let sampler_stop = CancellationToken::new();
    let sampler = process::spawn_sampler(
        dir.path().to_path_buf(),
        epoch,
        process::SAMPLE_EVERY,
        sampler_stop.clone(),
        failure.clone(),
    );
    let sampler = Sampler { stop: sampler_stop, task: sampler, failure: failure.clone() };

    let (extra_jvm_flags, super_password, skip_acl) = auth_settings(&plan);
    let spec = ClusterSpec { run_id: run_id.clone(), extra_jvm_flags, skip_acl, ..ensemble::spec(plan.name.clone(), plan.cluster.clone()) };
    let mut cluster = match Cluster::create_on(spec, engines, image).await {
        Ok(c) => c,
        Err(e) => {
            sampler.stop().await;
            let _ = dir.set_status(&format!("aborted: {e}"));
            return Err(e.into());
        }
    };
    fill_meta(&mut meta, &cluster, &docker).await;
    let _ = dir.write_json(files::META_FILE, &meta);

    // Phases race the signals; a panic in any phase is caught and becomes the run's error.
    let cancel = CancellationToken::new();
    let interrupted = Arc::new(Mutex::new(None));
    let watcher = signals::watch(cluster.engines().iter().map(|e| e.docker.clone()).collect(), run_id.clone(), dir.clone(), cancel.clone(), interrupted.clone())?;
    let ctx = phases::PhaseCtx {
        plan: &plan,
        dir: &dir,
        epoch,
        seed,
        super_password,
        cancel: cancel.clone(),
        failure: failure.clone(),
        progress: opts.progress,
    };
    let result = {
        let body = AssertUnwindSafe(phases::execute(&ctx, &mut cluster)).catch_unwind();
        tokio::select! {
            biased;
            r = body => match r {
                Ok(r) => r,
                Err(panic) => Err(Error::failed(format!("panic during the run: {}", panic_message(&panic)))),
            },
            _ = cancel.cancelled() => {
                let name = interrupted.lock().ok().and_then(|s| *s).unwrap_or("cancellation");
                Err(Error::interrupted(format!("interrupted by {name}")))
            }
            _ = failure.tripped() => Err(results_unwritable(&failure)),
        }
    };
    // Stop whatever the phases left running (load, monitor, recorder flush on cancel).
    cancel.cancel();

    // What actually ran and where, asked of the live ensemble before the teardown.
    final_meta(&mut meta, &cluster).await;
    let _ = dir.write_json(files::META_FILE, &meta);
    let Finished { summary, write_error } = finish(&dir, &mut cluster, opts, result.as_ref().err(), sampler).await;
    watcher.abort();
    let verdict_failed = summary.as_ref().is_some_and(|s| s.verdict == crate::check::Verdict::Fail);
    result?;
    if let Some(e) = write_error {
        return Err(e);
    }
    // A signal that came after the phases (while the summary was written or the ensemble torn
    // down) did not stop the cleanup, but the run was still interrupted: say so, exit 130.
    if let Some(name) = interrupted.lock().ok().and_then(|s| *s) {
        let e = Error::interrupted(format!("interrupted by {name} while finishing"));
        if let Err(w) = dir.set_status(&format!("aborted: {e}")) {
            eprintln!("zkchaos: cannot record the run's status in {}: {w}", dir.path().display());
        }
        return Err(e);
    }
    Ok(RunOutcome { dir: dir.path().to_path_buf(), summary, verdict_failed })
}

/// `meta.json` as the run starts (run id, epoch, image, models, a hunt's seeds), written; warns
/// when the host is busy.
fn initial_meta(dir: &RunDir, plan: &Plan, epoch: Epoch, hunt: Option<HuntSeeds>) -> Result<RunMeta> {
    let run_id = dir.id();
    let mut meta = RunMeta::new(run_id, epoch.unix_ms);
    meta.image = plan.cluster.image.clone();
    meta.hunt = hunt;
    meta.models = Some(crate::record::meta::RunModels {
        stop_model: plan.cluster.stop_model.as_str().to_string(),
        stop_model_detail: plan.cluster.stop_model.describe().to_string(),
        jvm_flags: plan.cluster.jvm_flags.clone(),
        client_model: crate::workload::client_model(plan.load.reconnect).to_string(),
    });
    dir.write_json(files::META_FILE, &meta)?;
    eprintln!("zkchaos: run {} of profile {} → {}", run_id, plan.name, dir.path().display());
    if let Some([one, _, _]) = meta.host.load_average {
        if one > f64::from(meta.host.cores.max(1)) {
            eprintln!(
                "zkchaos: warning: the host is busy (load average {one:.1} on {} cores): latency and outage figures may measure the host, not ZooKeeper",
                meta.host.cores
            );
        }
    }
    Ok(meta)
}

/// The version that ran and where each server was, asked of the live ensemble.
async fn final_meta(meta: &mut RunMeta, cluster: &Cluster) {
    if let Some(v) = running_version(cluster).await {
        meta.zookeeper_version = Some(v);
        meta.zookeeper_version_source = Some("srvr".into());
    }
    meta.servers = cluster
        .client_addrs()
        .into_iter()
        .map(|(id, addr)| crate::record::meta::ServerPlacement {
            id,
            engine: cluster.engine_of(id).name.clone(),
            client_address: addr.to_string(),
        })
        .collect();
}

/// What [`finish`] leaves: the summary if it could be written, and the write failure if not.
struct Finished {
    summary: Option<report::summary::Summary>,
    /// Results that could not be written (disk full, directory gone or read-only), or an engine
    /// that failed the logs or the teardown: the run must not exit 0, whatever its verdict.
    write_error: Option<Error>,
}

/// The process sampler of a run and the tripwire it shares with the other writers.
struct Sampler {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Vec<process::ProcessSample>>,
    failure: WriteFailure,
}

impl Sampler {
    /// Take the last sample and wait for the file to be complete.
    async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

/// The run's error when a results file could not be written: one sentence, path and cause.
fn results_unwritable(failure: &WriteFailure) -> Error {
    let cause = failure.cause().unwrap_or_else(|| "a results file could not be written".into());
    Error::failed(format!("the results cannot be written: {cause}"))
}

/// After the phases, on every path: logs, summary, status, teardown.
async fn finish(dir: &RunDir, cluster: &mut Cluster, opts: &RunOptions, error: Option<&Error>, sampler: Sampler) -> Finished {
    let failure = sampler.failure.clone();
    sampler.stop().await;
    if !dir.path().is_dir() {
        // Removed mid-run: writing now would re-create a directory without its plan or events.
        let e = Error::failed(format!(
            "the results cannot be written: the results directory {} was removed during the run",
            dir.path().display()
        ));
        eprintln!("zkchaos: {e}; node logs, summary and status are not written");
        let _ = teardown(cluster, opts).await;
        return Finished { summary: None, write_error: Some(e) };
    }
    // An engine that is gone or stalled shows here first (logs) and at the teardown: the run is
    // then aborted with that cause, whatever its verdict, and its results stay on disk.
    let mut engine_error = None;
    if let Err(e) = cluster.save_logs(&dir.file(files::LOGS_DIR)).await {
        eprintln!("zkchaos: saving node logs: {e}");
        engine_error = Some(Error::failed(format!("saving node logs: {e}")));
    }
    let (summary, mut write_error) = match report::finish_run(dir) {
        Ok(s) => (Some(s), None),
        Err(e) => {
            let e = Error::failed(format!("writing the results of {}: {}", dir.path().display(), Error::from(e).chain_message()));
            eprintln!("zkchaos: {e}");
            (None, Some(e))
        }
    };
    // A writer that failed earlier (and did not end the phases) still fails the run.
    if write_error.is_none() && failure.cause().is_some() {
        let e = results_unwritable(&failure);
        eprintln!("zkchaos: {e}");
        write_error = Some(e);
    }
    let status = match (error, write_error.as_ref().or(engine_error.as_ref())) {
        (None, None) => "complete".to_string(),
        (Some(e), _) => format!("aborted: {e}"),
        (None, Some(w)) => format!("aborted: {w}"),
    };
    if let Err(e) = dir.set_status(&status) {
        eprintln!("zkchaos: cannot record the run's status `{status}` in {}: {e}", dir.path().display());
    }
    let mut write_error = write_error.or(engine_error);
    if let Some(e) = teardown(cluster, opts).await {
        if error.is_none() && write_error.is_none() {
            let _ = dir.set_status(&format!("aborted: {e}"));
        }
        write_error.get_or_insert(e);
    }
    if let Some(s) = &summary {
        println!("{}", report::console::render_console(s));
    }
    println!("results: {}", dir.path().display());
    Finished { summary, write_error }
}

/// Remove the run's Docker objects (or leave them with `--keep`, saying how to remove them).
/// Returns the teardown's failure (an engine gone or stalled): the run then fails.
async fn teardown(cluster: &mut Cluster, opts: &RunOptions) -> Option<Error> {
    if opts.keep {
        cluster.keep();
        eprintln!(
            "zkchaos: --keep: run {} left in place; remove it with `zkchaos clean --run {}`",
            cluster.run_id(),
            cluster.run_id()
        );
    } else {
        eprintln!("zkchaos: removing run {}'s containers, network and volumes", cluster.run_id());
        test_hooks::hold("teardown").await;
        if let Err(e) = cluster.teardown().await {
            let run = cluster.run_id().to_string();
            let e = Error::failed(format!("tearing down run {run}: {e}; once every engine answers, run `zkchaos clean --run {run}` (with `--profile` for listed engines)"));
            eprintln!("zkchaos: {e}");
            return Some(e);
        }
    }
    None
}

/// JVM flags, super password and skipACL for the plan's procedure: reconfig gets a per-run random
/// super password (its digest goes to the servers) unless the profile asked for `skip-acl`.
fn auth_settings(plan: &Plan) -> (Vec<String>, Option<String>, bool) {
    match plan.procedure.reconfig_auth() {
        Some(ReconfigAuth::SkipAcl) => (Vec::new(), None, true),
        Some(ReconfigAuth::SuperDigest) => {
            let password = format!("{:032x}", rand::random::<u128>());
            (vec![cluster::image::super_digest_flag(&password)], Some(password), false)
        }
        _ => (Vec::new(), None, false),
    }
}

/// The version a running server reports (`srvr`: "Zookeeper version: 3.9.3-<commit>, built on
/// ..."), from the first server that answers: what ran, whatever the image's tag says.
async fn running_version(cluster: &Cluster) -> Option<String> {
    for (_, addr) in cluster.client_addrs() {
        if let Ok(text) = cluster::four_letter(addr, "srvr", std::time::Duration::from_secs(2)).await {
            let line = text.lines().find_map(|l| l.strip_prefix("Zookeeper version:"))?;
            let v = line.trim().split(['-', ',']).next()?.trim().to_string();
            if !v.is_empty() {
                return Some(v);
            }
        }
    }
    None
}

async fn fill_meta(meta: &mut RunMeta, cluster: &Cluster, docker: &bollard::Docker) {
    if let Ok(image) = docker.inspect_image(&cluster.image().name).await {
        meta.image_id = image.id;
        meta.zookeeper_version = image
            .config
            .and_then(|c| c.labels)
            .and_then(|l| l.get("zkchaos.zookeeper-version").cloned());
        meta.zookeeper_version_source = meta.zookeeper_version.as_ref().map(|_| "image label".to_string());
    }
    if let Ok(v) = docker.version().await {
        meta.docker_version = v.version;
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hunts_seeds_are_in_the_first_meta_json() {
        let tmp = tempfile::tempdir().unwrap();
        let plan = crate::profile::parse("name = \"h-t001\"\n", "t").unwrap();
        let dir = RunDir::create(tmp.path(), &plan.name).unwrap();
        let seeds = HuntSeeds { source: "space.toml".into(), hunt_seed: 7, trial: 1, trial_seed: u64::MAX, load_seed: 5, runbook: "schedules/trial-001.toml".into() };
        let meta = initial_meta(&dir, &plan, Epoch::now(), Some(seeds.clone())).unwrap();
        let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.file(files::META_FILE)).unwrap()).unwrap();
        assert_eq!(written["hunt"]["trial_seed"], u64::MAX);
        assert_eq!(written["hunt"]["runbook"], "schedules/trial-001.toml");
        assert_eq!(meta.hunt, Some(seeds));
        let other = RunDir::create(tmp.path(), &plan.name).unwrap();
        initial_meta(&other, &plan, Epoch::now(), None).unwrap();
        let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(other.file(files::META_FILE)).unwrap()).unwrap();
        assert!(written.get("hunt").is_none(), "{written:#}");
    }
}
