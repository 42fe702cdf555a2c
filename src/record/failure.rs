//! [`WriteFailure`]: the tripwire every writer of a run's files shares. The first writer that
//! cannot write (disk full, results directory removed or made read-only) trips it with one
//! sentence naming the file and the cause; the run's owner races its phases against it, so the
//! run stops at once instead of measuring on into files that are not there.

use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// Cloneable; every clone sees the first cause.
#[derive(Debug, Clone, Default)]
pub struct WriteFailure {
    token: CancellationToken,
    cause: Arc<Mutex<Option<String>>>,
}

impl WriteFailure {
    pub fn new() -> WriteFailure {
        WriteFailure::default()
    }

    /// Record `cause` (only the first one is kept) and wake whoever waits in [`Self::tripped`].
    pub fn trip(&self, cause: String) {
        if let Ok(mut slot) = self.cause.lock() {
            slot.get_or_insert(cause);
        }
        self.token.cancel();
    }

    /// Resolves once a writer has failed.
    pub async fn tripped(&self) {
        self.token.cancelled().await
    }

    /// The first failure, if any.
    pub fn cause(&self) -> Option<String> {
        self.cause.lock().ok().and_then(|s| s.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn the_first_cause_is_kept_and_waiters_wake() {
        let f = WriteFailure::new();
        assert_eq!(f.cause(), None);
        let waiter = tokio::spawn({
            let f = f.clone();
            async move {
                f.tripped().await;
                f.cause()
            }
        });
        f.trip("cannot write /r/marks.json: Permission denied (os error 13)".into());
        f.trip("cannot write /r/process.csv: Permission denied (os error 13)".into());
        assert_eq!(waiter.await.unwrap().as_deref(), Some("cannot write /r/marks.json: Permission denied (os error 13)"));
    }
}
