//! The top-level error: one message a user can act on, and the exit code it maps to.
//!
//! Library modules keep their own `thiserror` enums (one variant per failed operation, naming the
//! thing it failed on); each module implements `From<ItsError> for Error` next to its error type,
//! choosing the category, so this file does not need to know every module.

/// Exit codes: 0 success, 1 a run failed, 2 bad input or environment, 3 a check or gate failed,
/// 130 interrupted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's input is wrong (profile, arguments): exit 2.
    #[error("{0}")]
    BadInput(String),
    /// The machine is not ready (no Docker engine, image missing, port in use, no memory): exit 2.
    #[error("{0}")]
    Environment(String),
    /// Something failed while running: exit 1.
    #[error("{0}")]
    Failed(String),
    /// The run completed but a safety check or a threshold failed: exit 3.
    #[error("{0}")]
    CheckFailed(String),
    /// Ctrl-C or SIGTERM: exit 130.
    #[error("{0}")]
    Interrupted(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadInput(_) | Error::Environment(_) => 2,
            Error::Failed(_) => 1,
            Error::CheckFailed(_) => 3,
            Error::Interrupted(_) => 130,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Failed(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
