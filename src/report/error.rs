//! Errors of the report layer: the results directory, the files in it, summaries and charts.
//!
//! Every variant names the file or directory it failed on, so a user can act on the message.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The results root (or a group below it) cannot be created or written.
    #[error("cannot create results directory {path}: {source} (is it writable? choose another with --results)")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot parse {path}: {detail}")]
    Parse { path: PathBuf, detail: String },
    #[error("cannot serialise {what}: {source}")]
    Serialize { what: String, source: serde_json::Error },
    #[error("cannot draw chart {path}: {detail}")]
    Chart { path: PathBuf, detail: String },
    #[error("nothing to compare: {0}")]
    NothingToCompare(String),
    /// Reading or writing the run's recorded files.
    #[error(transparent)]
    Record(#[from] crate::record::RecordError),
}

impl From<ReportError> for crate::Error {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::CreateDir { .. } => crate::Error::Environment(Box::new(e)),
            ReportError::Parse { .. } | ReportError::NothingToCompare(_) => crate::Error::BadInput(Box::new(e)),
            ReportError::Record(inner) => inner.into(),
            _ => crate::Error::Failed(Box::new(e)),
        }
    }
}
