//! Ending an operation at its deadline without a timer per operation.
//!
//! The lane's housekeeping holds each started operation's [`Deadline`] in start order and
//! [`Deadline::expire`]s those whose time has passed; the operation awaits its call [`within`]
//! that deadline and gets `None` if it expired first.
//!
//! Why not `futures::future::abortable`: its handle keeps the operation task's waker until the
//! handle is dropped, i.e. until the deadline has passed (`op_timeout`, 2 s by default), long
//! after the operation finished — and a waker keeps the task's whole allocation alive. At 2,000
//! ops/s that was ~4,000 finished tasks of a few KiB each held for 2 s, whose out-of-order frees
//! sent the allocator down its slow paths (`malloc_consolidate`, `unlink_chunk`: issue 29's
//! profile). [`within`] lets go of the waker as soon as the call resolves.

use futures_util::task::AtomicWaker;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;

/// One operation's deadline, shared by the operation and the housekeeping that ends it.
#[derive(Debug, Default)]
pub struct Deadline {
    expired: AtomicBool,
    waker: AtomicWaker,
}

impl Deadline {
    pub fn new() -> Arc<Deadline> {
        Arc::new(Deadline::default())
    }

    /// The deadline has passed: the operation (if still waiting) resolves to `None`. A no-op for
    /// an operation that has finished.
    pub fn expire(&self) {
        self.expired.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Whether [`Deadline::expire`] was called.
    pub fn is_expired(&self) -> bool {
        self.expired.load(Ordering::Acquire)
    }
}

/// `fut`'s output, or `None` if `deadline` expired first. The task's waker is released when this
/// resolves (and when it is dropped unresolved), never kept until the deadline.
pub async fn within<F: Future>(deadline: &Deadline, fut: F) -> Option<F::Output> {
    struct Release<'a>(&'a Deadline);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            drop(self.0.waker.take());
        }
    }
    let _release = Release(deadline);
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        if deadline.is_expired() {
            return Poll::Ready(None);
        }
        deadline.waker.register(cx.waker());
        // Expired between the check and the registration: its wake may have found no waker.
        if deadline.is_expired() {
            return Poll::Ready(None);
        }
        fut.as_mut().poll(cx).map(Some)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::task::ArcWake;
    use std::sync::atomic::AtomicUsize;

    struct Counting(AtomicUsize);
    impl ArcWake for Counting {
        fn wake_by_ref(me: &Arc<Self>) {
            me.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_finished_operation_lets_go_of_its_waker_before_the_deadline() {
        let counting = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = futures_util::task::waker(counting.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        let deadline = Deadline::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<i32>();
        let mut op = Box::pin(within(&deadline, rx));
        assert!(op.as_mut().poll(&mut cx).is_pending());
        tx.send(7).unwrap();
        assert_eq!(op.as_mut().poll(&mut cx), Poll::Ready(Some(Ok(7))));
        drop(op);
        // Left: `counting` and `waker` (the channel's copy went with it).
        assert_eq!(Arc::strong_count(&counting), 2, "the deadline no longer holds the task's waker");
        // Expiring after the end wakes nobody.
        deadline.expire();
        assert_eq!(counting.0.load(Ordering::SeqCst), 1, "only the channel's wake-up");
    }

    #[test]
    fn expiring_ends_a_waiting_operation_with_none() {
        let counting = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = futures_util::task::waker(counting.clone());
        let mut cx = std::task::Context::from_waker(&waker);
        let deadline = Deadline::new();
        let mut op = Box::pin(within(&deadline, std::future::pending::<()>()));
        assert!(op.as_mut().poll(&mut cx).is_pending());
        deadline.expire();
        assert_eq!(counting.0.load(Ordering::SeqCst), 1, "the waiting task is woken");
        assert_eq!(op.as_mut().poll(&mut cx), Poll::Ready(None));
        drop(op);
        assert_eq!(Arc::strong_count(&counting), 2);
        // Already expired before the first poll: resolves at once.
        let late = Deadline::new();
        late.expire();
        assert_eq!(futures_util::FutureExt::now_or_never(within(&late, async { 1 })), Some(None));
    }
}
