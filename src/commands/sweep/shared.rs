//! The `steady` and `degraded` points of one repetition on one shared ensemble.
//!
//! The states run in the order `[ensemble] order` gives the ensemble's turn
//! ([`StateOrder::states`](crate::capacity::schedule::StateOrder::states)); `degraded` is entered
//! by stopping a follower (found with `srvr`), `steady` after it by starting that follower again.
//! Before the first measured step of each state the ensemble gets what
//! [`EnsembleSchedule::warmup_for`](crate::capacity::schedule::EnsembleSchedule::warmup_for) asks
//! for: idle settle time after a state change, then discarded closed-loop load — long after a
//! JVM was started (a fresh ensemble, the follower started again), shorter after a stop. Every
//! warm-up is recorded ([`WarmupRecord`], `summary.json` `warmups`) with its throughput and p99
//! per slice, so the report shows what was discarded and how the ensemble warmed.

use super::{hold_slices, load_plan, mix, point_or_error, save, Sweep, ENSEMBLE_UP};
use crate::capacity::results::{WarmupRecord, WarmupSlice};
use crate::capacity::schedule::{levelled, mix_order, slices, Transition, WARMUP_SLICE_S};
use crate::capacity::sweep::{Point, State};
use crate::cluster::Cluster;
use crate::plan::LoadMode;
use crate::record::{HostInfo, ServerMode};
use crate::{Error, Result};
use std::time::Duration;

/// Measure `points` (steady and degraded, one image and size) on `cluster` in repetition `rep`;
/// `turn` decides the state order ([`crate::capacity::schedule::turn`]).
pub(super) async fn run_shared(sw: &mut Sweep, cluster: &mut Cluster, points: &[&Point], rep: u32, turn: u32) -> Result<()> {
    let all = cluster.server_ids();
    let mut stopped: Option<u32> = None;
    let mut changes = vec![Transition::Fresh];
    for state in sw.file.ensemble.order.states(turn) {
        let mut mine: Vec<&Point> = points.iter().copied().filter(|p| p.state == state).collect();
        mix_order(&mut mine, sw.file.ensemble.order, turn);
        let Some(first) = mine.first().copied() else { continue };
        match (state, stopped) {
            (State::Degraded, None) => {
                let id = stop_follower(cluster, &all).await?;
                stopped = Some(id);
                changes.push(Transition::Stopped(id));
            }
            (State::Steady, Some(id)) => {
                start_again(cluster, id, &all).await?;
                stopped = None;
                changes.push(Transition::Started(id));
            }
            _ => {}
        }
        // Clients are given the serving servers only, so degraded figures measure the ensemble's
        // reduced capacity, not connection attempts to a stopped server.
        let serving: Vec<u32> = all.iter().copied().filter(|s| Some(*s) != stopped).collect();
        let connect = cluster.connect_string(&serving);
        warm_up(sw, cluster, &serving, &connect, first, rep, &changes).await?;
        changes.clear();
        for p in mine {
            point_or_error(sw, Some(&connect), p, rep).await?;
            save(sw)?;
        }
    }
    Ok(())
}

/// Stop the first server that reports `follower` and wait until the rest serve; its id.
async fn stop_follower(cluster: &mut Cluster, all: &[u32]) -> Result<u32> {
    let mut follower = None;
    for &id in all {
        if cluster.srvr(id).await.is_ok_and(|s| s.mode == ServerMode::Follower) {
            follower = Some(id);
            break;
        }
    }
    let id = follower.ok_or_else(|| Error::failed("degraded state: no server reports `follower` to srvr"))?;
    cluster.stop_server(id, Duration::from_secs(5)).await?;
    let rest: Vec<u32> = all.iter().copied().filter(|s| *s != id).collect();
    cluster.wait_ensemble(&rest, ENSEMBLE_UP).await?;
    eprintln!("zkchaos: degraded: server {id} (a follower) stopped; {} of {} serve", rest.len(), all.len());
    Ok(id)
}

/// Start the stopped follower `id` again and wait until every server serves.
async fn start_again(cluster: &mut Cluster, id: u32, all: &[u32]) -> Result<()> {
    cluster.start_existing(id).await?;
    cluster.wait_ensemble(all, ENSEMBLE_UP).await?;
    eprintln!("zkchaos: steady: server {id} started again; {} of {} serve", all.len(), all.len());
    Ok(())
}

/// Settle, then hold the discarded warm-up load owed after `changes` — with the `serving`
/// servers' CPU quota lifted if `[ensemble] lift_quota`, extended slice by slice until it levels
/// off (`plateau_pct`, at most `extend_max_s`) — and record it. A harness error during the load
/// is recorded and the sweep goes on (the points will say what fails); an interruption, or a
/// quota that cannot be put back, ends the sweep.
async fn warm_up(
    sw: &mut Sweep,
    cluster: &Cluster,
    serving: &[u32],
    connect: &str,
    next: &Point,
    rep: u32,
    changes: &[Transition],
) -> Result<()> {
    let en = sw.file.ensemble.clone();
    let w = en.warmup_for(changes);
    if w.settle_s > 0.0 {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs_f64(w.settle_s)) => {}
            _ = sw.cancel.cancelled() => return Err(Error::interrupted("interrupted by a signal")),
        }
    }
    let mut record = WarmupRecord {
        rep,
        image: next.image.clone(),
        size: next.size,
        state: next.state,
        after: w.after.clone(),
        settle_s: w.settle_s,
        seconds: w.seconds,
        in_flight: en.warmup_in_flight,
        read_pct: en.warmup_read_pct,
        sessions: next.sessions,
        at_s: sw.started.elapsed().as_secs_f64(),
        load_average: HostInfo::detect().load_average,
        slices: Vec::new(),
        error: None,
        quota_lifted: false,
        extended_s: 0.0,
        levelled: None,
    };
    if w.seconds > 0.0 {
        let lift = en.lift_quota && sw.file.cpu.server_cpus > 0.0;
        if lift {
            match set_quota(cluster, serving, true).await {
                Ok(()) => record.quota_lifted = true,
                Err(e) => record.error = Some(format!("quota not lifted: {}", e.chain_message())),
            }
        }
        let held = hold_warmup(sw, connect, next, &mut record).await;
        if record.quota_lifted {
            // Measuring without the budget would measure another ensemble: a failure here ends the sweep.
            set_quota(cluster, serving, false).await?;
        }
        if let Err(e) = held {
            match e {
                e @ Error::Interrupted(_) => return Err(e),
                e => record.error = Some(format!("harness error: {}", e.chain_message())),
            }
        }
    }
    eprintln!("zkchaos: [{} servers, rep {rep}] {}", next.size, crate::capacity::report::warmup_text(&record));
    sw.warmups.push(record);
    save(sw)
}

/// Lift (or put back) the CPU quota of every server in `ids`.
async fn set_quota(cluster: &Cluster, ids: &[u32], lifted: bool) -> Result<()> {
    for &id in ids {
        cluster.set_cpu_quota(id, lifted).await?;
    }
    Ok(())
}

/// The warm-up's load: `record.seconds` in slices, then (with `plateau_pct`) one slice more at a
/// time until the last two agree or `extend_max_s` has been added. Slices go into `record`.
async fn hold_warmup(sw: &mut Sweep, connect: &str, next: &Point, record: &mut WarmupRecord) -> Result<()> {
    let en = sw.file.ensemble.clone();
    let plan = crate::plan::LoadPlan { mix: mix(en.warmup_read_pct), ..load_plan(sw, next, LoadMode::Closed, 0, en.warmup_in_flight) };
    let mut windows = slices(record.seconds, WARMUP_SLICE_S);
    loop {
        let offset = record.slices.last().map_or(0.0, |s| s.to_s);
        let figs = hold_slices(sw, connect, &plan, &windows).await?;
        record.slices.extend(windows.iter().zip(figs).map(|(&(from_s, to_s), f)| WarmupSlice {
            from_s: offset + from_s,
            to_s: offset + to_s,
            ok_ops: f.ok_rate,
            p99_ms: f.all.p99_us as f64 / 1000.0,
            error_rate: f.error_rate,
        }));
        if en.plateau_pct <= 0.0 {
            return Ok(());
        }
        let rates: Vec<f64> = record.slices.iter().map(|s| s.ok_ops).collect();
        let levelled = levelled(&rates, en.plateau_pct);
        record.levelled = Some(levelled);
        if levelled || record.extended_s + 1e-9 >= en.extend_max_s {
            return Ok(());
        }
        let more = WARMUP_SLICE_S.min(en.extend_max_s - record.extended_s);
        record.extended_s += more;
        windows = slices(more, WARMUP_SLICE_S);
    }
}
