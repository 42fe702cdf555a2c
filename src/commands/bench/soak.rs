//! `zkchaos bench --only soak`: the long run. One hour at 1,000 ops/s (default mix, events
//! streamed to disk) with the process sampling itself into `process.csv` as `zkchaos run` does;
//! it prints whether RSS and open file descriptors stayed flat (first against last ten minutes,
//! or the first and last third of a shorter run), and proves the files a user would tail are
//! readable while the run writes them: every minute (every third of a short run) it reads
//! `events.csv.gz` and each `latency-<kind>.hlog` back and checks that both keep growing.
//!
//! `--seconds` overrides the hour (the default `--seconds` of the other measurements does not).

use crate::runner::recorded::{RecordTo, RecordedLoad};
use crate::plan::LoadPlan;
use crate::record::process::{self, Drift, ProcessSample};
use crate::record::{hlog, Epoch, WriteFailure};
use crate::workload::Schedule;
use crate::{Error, Result};
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Length of the soak unless `--seconds` is given.
pub const DEFAULT_SECONDS: u64 = 3600;
/// Rate of the soak, ops/s.
pub const RATE: u32 = 1000;
/// "Flat": the last window's mean RSS at most this much above the first's.
const RSS_FLAT: f64 = 0.10;

/// Run the soak against `connect` for `seconds`.
pub async fn soak(connect: &str, seconds: u64) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("zkchaos-bench-{}-soak", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::failed(format!("cannot create {}: {e}", dir.display())))?;
    println!("soak @{RATE} ops/s for {seconds} s into {}", dir.display());
    let result = soak_in(&dir, connect, seconds).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn soak_in(dir: &Path, connect: &str, seconds: u64) -> Result<()> {
    let plan = LoadPlan { rate: RATE, ..LoadPlan::default() };
    let epoch = Epoch::now();
    let failure = WriteFailure::new();
    let cancel = CancellationToken::new();
    let recorded =
        RecordedLoad::start(&plan, connect, 1, epoch, RecordTo { failure: failure.clone(), ..RecordTo::new(dir.to_path_buf(), cancel.clone()) })
            .await?;
    let stop_sampler = CancellationToken::new();
    let sampler =
        process::spawn_sampler(dir.to_path_buf(), epoch, process::SAMPLE_EVERY, stop_sampler.clone(), failure.clone());
    let schedule = Schedule::from_plan(&plan, epoch.now_us(), Some(Duration::from_secs(seconds)));
    let kinds = plan.mix_kinds();

    let every = Duration::from_secs((seconds / 3).clamp(1, 60));
    let drive = recorded.drive(schedule, cancel.clone());
    tokio::pin!(drive);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let (mut last_events, mut last_values, mut reads) = (0u64, 0u64, 0u32);
    let driven = loop {
        tokio::select! {
            r = &mut drive => break r,
            _ = failure.tripped() => {
                cancel.cancel();
                let _ = (&mut drive).await;
                break Err(Error::failed(format!("the soak's files cannot be written: {}", failure.cause().unwrap_or_default())));
            }
            _ = tick.tick() => {
                let (events, values) = read_live(dir, &kinds)?;
                let t = epoch.now_us() / 1_000_000;
                let growing = events > last_events && values > last_values;
                println!(
                    "soak t={t:>5} s: events.csv.gz {events} rows, hlog {values} values readable while running{}",
                    if growing { "" } else { " — NOT GROWING" }
                );
                if !growing {
                    cancel.cancel();
                    let _ = (&mut drive).await;
                    break Err(Error::failed(format!(
                        "soak: the live files stopped growing at t={t} s (events {last_events} → {events}, hlog values {last_values} → {values})"
                    )));
                }
                (last_events, last_values, reads) = (events, values, reads + 1);
            }
        }
    };
    stop_sampler.cancel();
    let samples = sampler.await.map_err(|e| Error::failed(format!("the process sampler failed: {e}")))?;
    let (_, stats) = driven?;
    println!(
        "soak done: ops {} ok {} fail {} indeterminate {}; lag p99 {} µs max {} µs; {reads} live reads",
        stats.counts.events, stats.counts.ok, stats.counts.fail, stats.counts.indeterminate, stats.lag.p99, stats.lag.max
    );
    report_drift(&samples, seconds);
    Ok(())
}

/// Rows of `events.csv.gz` and values in the hlogs, read while the recorder writes them.
fn read_live(dir: &Path, kinds: &[crate::plan::OpKind]) -> Result<(u64, u64)> {
    let mut events = 0u64;
    crate::record::for_each_event(&dir.join("events.csv.gz"), |_| events += 1)?;
    let mut values = 0u64;
    for k in kinds {
        values += hlog::read_hlog(&dir.join(format!("latency-{k}.hlog")))?.1;
    }
    Ok((events, values))
}

/// First against last window of RSS and fds, and the verdict.
fn report_drift(samples: &[ProcessSample], seconds: u64) {
    let window_ms = (seconds * 1000 / 3).min(600_000);
    let (Some(rss), Some(fds)) =
        (Drift::of(samples, window_ms, |s| s.rss_kib), Drift::of(samples, window_ms, |s| s.fds))
    else {
        println!("soak: no process samples (no /proc?)");
        return;
    };
    let max = |f: fn(&ProcessSample) -> u64| samples.iter().map(f).max().unwrap_or(0);
    let rss_flat = rss.growth() <= RSS_FLAT;
    let fds_flat = fds.last <= fds.first;
    println!(
        "soak rss: first {:.0} s {:.1} MiB, last {:.0} s {:.1} MiB ({:+.1} %), max {:.1} MiB: {}",
        window_ms as f64 / 1000.0,
        rss.first / 1024.0,
        window_ms as f64 / 1000.0,
        rss.last / 1024.0,
        rss.growth() * 100.0,
        max(|s| s.rss_kib) as f64 / 1024.0,
        if rss_flat { "flat" } else { "GROWING" }
    );
    println!(
        "soak fds: first {:.1}, last {:.1}, max {}: {}  ({} samples, one every {} s)",
        fds.first,
        fds.last,
        max(|s| s.fds),
        if fds_flat { "flat" } else { "GROWING" },
        samples.len(),
        process::SAMPLE_EVERY.as_secs()
    );
}
