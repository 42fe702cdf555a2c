//! The top-level error: a category that decides the exit code, wrapping the library error that
//! caused it with its whole `source()` chain intact.
//!
//! Library modules keep their own `thiserror` enums (one variant per failed operation, naming the
//! thing it failed on); each module implements `From<ItsError> for Error` next to its error type,
//! choosing the category, so this file does not need to know every module.

/// Any error, boxed with its sources.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Exit codes: 0 success, 1 a run failed, 2 bad input or environment, 3 a check or gate failed,
/// 130 interrupted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's input is wrong (profile, arguments, a path that does not exist): exit 2.
    #[error(transparent)]
    BadInput(BoxError),
    /// The machine is not ready (no Docker engine, image missing, port in use, no memory): exit 2.
    #[error(transparent)]
    Environment(BoxError),
    /// Something failed while running: exit 1.
    #[error(transparent)]
    Failed(BoxError),
    /// The run completed but a safety check or a threshold failed: exit 3.
    #[error(transparent)]
    CheckFailed(BoxError),
    /// Ctrl-C or SIGTERM: exit 130.
    #[error(transparent)]
    Interrupted(BoxError),
}

impl Error {
    pub fn bad_input(e: impl Into<BoxError>) -> Error {
        Error::BadInput(e.into())
    }
    pub fn environment(e: impl Into<BoxError>) -> Error {
        Error::Environment(e.into())
    }
    pub fn failed(e: impl Into<BoxError>) -> Error {
        Error::Failed(e.into())
    }
    pub fn check_failed(e: impl Into<BoxError>) -> Error {
        Error::CheckFailed(e.into())
    }
    pub fn interrupted(e: impl Into<BoxError>) -> Error {
        Error::Interrupted(e.into())
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::BadInput(_) | Error::Environment(_) => 2,
            Error::Failed(_) => 1,
            Error::CheckFailed(_) => 3,
            Error::Interrupted(_) => 130,
        }
    }

    /// The message and every source whose text it does not already contain, joined by `: `
    /// (library messages usually embed their source; this adds only what would be lost).
    pub fn chain_message(&self) -> String {
        let mut msg = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            let text = s.to_string();
            if !msg.contains(&text) {
                msg.push_str(": ");
                msg.push_str(&text);
            }
            source = s.source();
        }
        msg
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Failed(Box::new(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading {path}")]
    struct ReadFailed {
        path: String,
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn keeps_the_source_chain_and_prints_it_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::bad_input(ReadFailed { path: "x.toml".into(), source: io });
        assert_eq!(e.exit_code(), 2);
        let source = std::error::Error::source(&e).expect("the io error is kept as the source");
        assert_eq!(source.to_string(), "no such file");
        assert_eq!(e.chain_message(), "reading x.toml: no such file");
    }
}
