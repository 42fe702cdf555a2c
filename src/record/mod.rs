//! The history: what a run records, and the recorder task that owns all aggregates.
//!
//! Workers send [`OpEvent`]s and [`Mark`]s through a cloneable [`RecorderHandle`]; one recorder
//! task ([`recorder`]) owns every aggregate and file: `events.csv.gz` ([`events_csv`]),
//! `latency-<kind>.hlog` ([`hlog`]), `timeline.csv` (rows from [`crate::analysis::timeline`]) and
//! `marks.json`.

pub mod event;
pub mod events_csv;
pub mod hlog;
pub mod recorder;

pub use event::*;
pub use events_csv::{for_each_event, read_events, EventWriter};
pub use recorder::{RecorderConfig, RecorderHandle, RecorderSnapshot, RecorderStats};

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
}

impl RecordError {
    pub(crate) fn csv_write(path: &std::path::Path, e: csv::Error) -> RecordError {
        let source = match e.into_kind() {
            csv::ErrorKind::Io(io) => io,
            other => std::io::Error::other(format!("{other:?}")),
        };
        RecordError::Write { path: path.to_owned(), source }
    }
}

impl From<RecordError> for crate::Error {
    fn from(e: RecordError) -> Self {
        crate::Error::Failed(e.to_string())
    }
}

/// Read `marks.json`.
pub fn read_marks(path: &std::path::Path) -> Result<Vec<Mark>, RecordError> {
    let bytes = std::fs::read(path).map_err(|source| RecordError::Open { path: path.to_owned(), source })?;
    serde_json::from_slice(&bytes).map_err(|e| RecordError::Parse { path: path.to_owned(), detail: e.to_string() })
}
