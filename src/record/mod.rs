//! The history: everything a run observed, its files, and reading them back.
//!
//! Workers send [`OpEvent`]s and [`Mark`]s through a cloneable [`RecorderHandle`]; one recorder
//! task ([`recorder`]) owns every aggregate and file: `events.csv.gz` ([`events_csv`]),
//! `latency-<kind>.hlog` ([`hlog`]), `timeline.csv` ([`timeline`]) and `marks.json`. The monitor
//! writes `monitor.csv` ([`monitor_csv`]), the read-back `readback.json.gz` ([`readback`], its
//! sequential znodes held compactly as [`SeqNodes`]), the end-of-run `mntr.json` ([`mntr`]); the run directory itself is [`rundir`], its
//! `meta.json` [`meta`]; the harness samples its own memory and descriptors into `process.csv`
//! ([`process`]); every writer trips one [`WriteFailure`].
//! [`load`] reads a run directory back into [`RunData`]: where `zkchaos analyze` re-enters the
//! pipeline.
//!
//! This layer imports only [`crate::plan`]: analysis, checks and reports read what it recorded.

pub mod agents;
mod buckets;
pub mod event;
pub mod events_csv;
pub mod failure;
pub mod files;
pub mod hlog;
pub mod load;
pub mod meta;
pub mod mntr;
pub mod monitor_csv;
pub mod process;
pub mod quantiles;
pub mod readback;
pub mod inbox;
pub mod recorder;
pub mod rundir;
pub mod seqnodes;
pub mod timeline;

pub use agents::{load_agents, AgentShare, RecordedAgent};
pub use event::*;
pub use events_csv::{for_each_event, read_events, EventWriter};
pub use failure::WriteFailure;
pub use load::{load_run, RunData};
pub use meta::{HostInfo, HuntSeeds, RunMeta};
pub use mntr::{load_mntr, save_mntr, MntrScrape, MNTR_FILE};
pub use monitor_csv::{read_monitor_csv, write_monitor_csv};
pub use process::{read_process_csv, ProcessSample};
pub use quantiles::Quantiles;
pub use readback::{load_readbacks, save_readbacks, OfflineRead, ReadVia, ServerReadback, OFFLINE_METHOD};
pub use recorder::{RecorderConfig, RecorderHandle, RecorderSnapshot, RecorderStats};
pub use rundir::{write_atomic, RunDir, RunStatus};
pub use seqnodes::SeqNodes;

use std::path::PathBuf;

/// Failures of the recorder and of reading recorded files.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot parse {path} line {line}: {detail}")]
    ParseEvents { path: PathBuf, line: u64, detail: String },
    #[error("cannot parse {path}: {detail}")]
    Parse { path: PathBuf, detail: String },
    #[error("the recorder task is gone (it finished, was cancelled or failed) while {what}")]
    RecorderGone { what: &'static str },
    /// The results root (or a group below it) cannot be created or written.
    #[error("cannot create results directory {path}: {source} (is it writable? choose another with --results)")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot update the `latest` link {path}: {source}")]
    Link { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a zkchaos run directory (no `status` or `plan.json` in it)")]
    NotARunDir { path: PathBuf },
    #[error("{path} is missing: {what}")]
    Missing { path: PathBuf, what: String },
    #[error("cannot serialise {what}: {source}")]
    Serialize { what: String, source: serde_json::Error },
}


impl From<RecordError> for crate::Error {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::CreateDir { .. } => crate::Error::Environment(Box::new(e)),
            // Files of a stored run that are missing or corrupt: the user pointed at the wrong thing.
            RecordError::NotARunDir { .. }
            | RecordError::Missing { .. }
            | RecordError::Parse { .. }
            | RecordError::ParseEvents { .. } => crate::Error::BadInput(Box::new(e)),
            _ => crate::Error::Failed(Box::new(e)),
        }
    }
}

/// Read `marks.json`.
pub fn read_marks(path: &std::path::Path) -> Result<Vec<Mark>, RecordError> {
    let bytes = std::fs::read(path).map_err(|source| RecordError::Open { path: path.to_owned(), source })?;
    serde_json::from_slice(&bytes).map_err(|e| RecordError::Parse { path: path.to_owned(), detail: e.to_string() })
}
