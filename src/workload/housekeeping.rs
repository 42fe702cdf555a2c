//! Housekeeping of a load thread (a *lane*): its completed operations' events, handed to the
//! recorder in batches, and its operations' deadlines, enforced without a timer per operation.
//!
//! Each lane has its own [`LaneBook`], touched by its own thread while the load runs (its
//! operations, its driver loop and its backstop task all run there), so lanes never contend on
//! a lock per operation (issue 29: they used to share one).

use super::deadline::Deadline;
use crate::record::{OpEvent, RecorderHandle};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often housekeeping hands completed operations' events to the recorder (one batch into
/// its inbox) and ends operations past their deadline, which costs no timer per operation. Each
/// lane's driver does its own when it issues an operation and this much time has passed (at
/// ≥ 100 ops/s per lane: an operation times out between `op_timeout` and `op_timeout` + 10 ms
/// after it started); a backstop task per lane every [`HOUSEKEEPING_IDLE`] covers quiet schedules.
pub const HOUSEKEEPING: Duration = Duration::from_millis(10);
/// The backstop's period (timeouts are then enforced within `op_timeout` + 50 ms).
pub const HOUSEKEEPING_IDLE: Duration = Duration::from_millis(50);

/// One lane's bookkeeping: touched by its own load thread only while the load runs (its
/// operations, its driver loop and its backstop task all run there), so its locks are never
/// contended; the mutexes make the rare access from elsewhere (the final hand-over) safe.
#[derive(Default)]
pub(crate) struct LaneBook {
    /// Events of the lane's completed operations not yet handed to the recorder.
    pub(crate) completed: Mutex<Vec<OpEvent>>,
    /// Deadlines of the lane's started operations.
    deadlines: Mutex<Deadlines>,
    /// When the lane's housekeeping last ran, µs since the epoch.
    housekept_us: AtomicU64,
}

/// Deadlines (µs since the epoch) of started operations, in start order, with what ends each;
/// and those of finished operations, for reuse: every operation needs one, held for
/// `op_timeout` (2 s by default), and reusing them keeps thousands of small allocations from
/// churning through the allocator's slow paths.
#[derive(Default)]
struct Deadlines {
    queue: VecDeque<(u64, Arc<Deadline>)>,
    spare: Vec<Arc<Deadline>>,
}

/// Spare deadlines kept at most (more than one housekeeping period's operations at 100,000 ops/s).
const SPARE_DEADLINES: usize = 4096;

impl LaneBook {
    /// The deadline of an operation that must end by `at_us` (µs since the epoch).
    pub(crate) fn deadline(&self, at_us: u64) -> Arc<Deadline> {
        let Ok(mut d) = self.deadlines.lock() else { return Deadline::new() };
        let deadline = d.spare.pop().unwrap_or_else(Deadline::new);
        d.queue.push_back((at_us, deadline.clone()));
        deadline
    }

    /// Expire overdue operations and hand events over, if [`HOUSEKEEPING`] has passed since the
    /// last time.
    pub(crate) fn housekeep(&self, now_us: u64, recorder: &RecorderHandle) {
        let last = self.housekept_us.load(Ordering::Relaxed);
        if now_us < last + HOUSEKEEPING.as_micros() as u64 {
            return;
        }
        self.housekept_us.store(now_us, Ordering::Relaxed);
        self.expire(now_us);
        self.hand_over(recorder);
    }

    /// End every operation whose deadline has passed; the deadlines of operations that have
    /// finished (held here only) are kept for reuse instead.
    fn expire(&self, now_us: u64) {
        let Ok(mut d) = self.deadlines.lock() else { return };
        while d.queue.front().is_some_and(|(at, _)| *at <= now_us) {
            let Some((_, op)) = d.queue.pop_front() else { break };
            if Arc::strong_count(&op) > 1 {
                op.expire();
            } else if d.spare.len() < SPARE_DEADLINES {
                d.spare.push(op);
            }
        }
    }

    /// Hand the completed operations' events to the recorder, in completion order. The next
    /// batch starts with room for a little more than this one (no regrowth per operation).
    pub(crate) fn hand_over(&self, recorder: &RecorderHandle) {
        if let Ok(mut batch) = self.completed.lock() {
            if !batch.is_empty() {
                let room = batch.len() + batch.len() / 4;
                recorder.ops(std::mem::replace(&mut *batch, Vec::with_capacity(room)));
            }
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::recorder::Msg;
    use crate::record::Epoch;

    fn event(i: u64) -> OpEvent {
        OpEvent::ok_get(i, 100)
    }

    fn handed_over(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Msg>) -> Option<Vec<u64>> {
        match rx.try_recv() {
            Ok(Msg::Ops(batch)) => Some(batch.iter().map(|e| e.intended_us).collect()),
            _ => None,
        }
    }

    #[test]
    fn housekeeping_ends_overdue_operations_and_hands_events_over_once_per_period() {
        let (rec, mut rx) = RecorderHandle::forwarding(Epoch::now());
        let book = LaneBook::default();
        let (early, late) = (book.deadline(20_000), book.deadline(90_000));
        book.completed.lock().unwrap().extend([event(1), event(2)]);
        book.housekeep(30_000, &rec);
        assert!(early.is_expired() && !late.is_expired());
        assert_eq!(handed_over(&mut rx), Some(vec![1, 2]));
        // Less than HOUSEKEEPING later: nothing happens.
        book.completed.lock().unwrap().push(event(3));
        book.housekeep(39_999, &rec);
        assert_eq!(handed_over(&mut rx), None);
        book.housekeep(40_000, &rec);
        assert_eq!(handed_over(&mut rx), Some(vec![3]));
        assert!(!late.is_expired());
        // Nothing completed: no empty batch.
        book.housekeep(95_000, &rec);
        assert_eq!(handed_over(&mut rx), None);
        assert!(late.is_expired());
        assert!(book.deadlines.lock().unwrap().queue.is_empty());
    }

    #[test]
    fn a_finished_operation_s_deadline_is_reused_and_a_running_one_s_is_not() {
        let (rec, _rx) = RecorderHandle::forwarding(Epoch::now());
        let book = LaneBook::default();
        let finished = book.deadline(1_000);
        let finished_at = Arc::as_ptr(&finished);
        drop(finished);
        let running = book.deadline(2_000);
        book.housekeep(50_000, &rec);
        assert!(running.is_expired(), "the running operation is ended");
        let next = book.deadline(60_000);
        assert_eq!(Arc::as_ptr(&next), finished_at, "the finished one's deadline is reused");
        assert!(!next.is_expired());
        // The running one, expired, is never handed out again, even once its operation ended.
        drop(running);
        let after = book.deadline(70_000);
        assert!(!after.is_expired());
        assert_ne!(Arc::as_ptr(&after), Arc::as_ptr(&next));
    }
}
