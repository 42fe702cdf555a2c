//! "A recorded workload": the recorder and the load driver wired together, written once for the
//! three commands that drive load (`run`, `load`, `bench`).
//!
//! [`RecordedLoad::start`] spawns the recorder on a results directory and prepares the workload
//! (sessions connected, key space populated); the caller then drives it (a schedule to its end,
//! or until cancelled) and calls [`RecordedLoad::finish`], which flushes and closes every file.

use crate::plan::LoadPlan;
use crate::record::{recorder, Epoch, RecordError, RecorderConfig, RecorderHandle, RecorderStats, WriteFailure};
use crate::workload::{Schedule, Workload, WorkloadReport};
use crate::Result;
use std::path::PathBuf;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A prepared workload whose events and marks go to a live recorder.
pub struct RecordedLoad {
    pub workload: Workload,
    pub rec: RecorderHandle,
    rec_task: JoinHandle<Result<(), RecordError>>,
}

/// Where and how a recorded load records.
pub struct RecordTo {
    /// The results directory.
    pub dir: PathBuf,
    /// Timeline rows are zero-filled from here, µs since the epoch.
    pub timeline_start_us: u64,
    /// Stops the recorder on every exit path.
    pub cancel: CancellationToken,
    /// Tripped when the recorder cannot write its files.
    pub failure: WriteFailure,
}

impl RecordTo {
    /// Into `dir`, timeline from the epoch, a tripwire of its own.
    pub fn new(dir: PathBuf, cancel: CancellationToken) -> RecordTo {
        RecordTo { dir, timeline_start_us: 0, cancel, failure: WriteFailure::new() }
    }
}

impl RecordedLoad {
    /// Start the recorder as `to` says and prepare the workload on `connect`.
    pub async fn start(plan: &LoadPlan, connect: &str, seed: u64, epoch: Epoch, to: RecordTo) -> Result<RecordedLoad> {
        let RecordTo { dir, timeline_start_us, cancel, failure } = to;
        let mut cfg = RecorderConfig::from_plan(dir, epoch, plan);
        cfg.timeline_start_us = timeline_start_us;
        cfg.failure = failure;
        let (rec, rec_task) = recorder::spawn(cfg, cancel)?;
        let workload = Workload::prepare(plan, connect, seed, epoch).await?;
        Ok(RecordedLoad { workload, rec, rec_task })
    }

    /// Drive `schedule` to its end (or until `cancel`), then finish the recorder.
    pub async fn drive(self, schedule: Schedule, cancel: CancellationToken) -> Result<(WorkloadReport, RecorderStats)> {
        let RecordedLoad { workload, rec, rec_task } = self;
        let report = workload.run_schedule(schedule, rec.clone(), cancel).await?;
        let stats = finish(rec, rec_task).await?;
        Ok((report, stats))
    }

    /// Split into the parts a caller that drives the load in the background needs: the workload,
    /// the recorder handle, and a finisher to await once the load has stopped.
    pub fn into_parts(self) -> (Workload, RecorderHandle, Finisher) {
        (self.workload, self.rec.clone(), Finisher { rec: self.rec, rec_task: self.rec_task })
    }
}

/// Finishes a recorder once the load feeding it has stopped.
pub struct Finisher {
    rec: RecorderHandle,
    rec_task: JoinHandle<Result<(), RecordError>>,
}

impl Finisher {
    pub async fn finish(self) -> Result<RecorderStats> {
        finish(self.rec, self.rec_task).await
    }
}

async fn finish(rec: RecorderHandle, rec_task: JoinHandle<Result<(), RecordError>>) -> Result<RecorderStats> {
    let stats = match rec.finish().await {
        Ok(s) => s,
        // The task ended on its own: its error (which file could not be written) is the cause.
        Err(gone @ RecordError::RecorderGone { .. }) => {
            return match rec_task.await {
                Ok(Err(e)) => Err(e.into()),
                _ => Err(gone.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    match rec_task.await {
        Ok(Ok(())) => Ok(stats),
        Ok(Err(e)) => Err(e.into()),
        Err(e) => Err(crate::Error::failed(format!("the recorder task failed: {e}"))),
    }
}
