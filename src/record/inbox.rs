//! The recorder's inbox: completed operations' events on their way to the recorder task, handed
//! over without waking it.
//!
//! The load threads hand their events over every 10 ms. Sent over the recorder's channel, each
//! batch woke the recorder task — a tokio worker unparked, run, parked again — and on the 2-core
//! host of issue 29 those wake-ups were about half of the recorder's CPU (100 a second). Batches
//! put here instead wait for the recorder's own tick (the timeline interval, at most 100 ms), and
//! the recorder also takes them before it answers a snapshot (so the live progress line is as
//! fresh as before) and before it finishes. The recorder remains the one owner of every
//! aggregate; this is only the queue.

use super::OpEvent;
use std::sync::{Arc, Mutex};

/// Batches of events in hand-over order; closed once the recorder has ended.
#[derive(Debug, Default)]
pub struct Inbox {
    pending: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    batches: Vec<Vec<OpEvent>>,
    closed: bool,
}

impl Inbox {
    /// Queue a batch (never blocks for long, never wakes anyone); dropped once closed.
    pub fn push(&self, batch: Vec<OpEvent>) {
        if let Ok(mut p) = self.pending.lock() {
            if !p.closed {
                p.batches.push(batch);
            }
        }
    }

    /// Every batch queued so far, in order.
    pub fn take(&self) -> Vec<Vec<OpEvent>> {
        self.pending.lock().map(|mut p| std::mem::take(&mut p.batches)).unwrap_or_default()
    }

    /// Refuse further batches (the recorder has ended) and drop what is queued.
    pub fn close(&self) {
        // A poisoned lock still closes: a panic elsewhere must not leave batches piling up.
        let mut p = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        p.closed = true;
        p.batches = Vec::new();
    }

    /// Closes the inbox when dropped (the recorder task holds it: closed however it ends).
    pub fn closer(self: Arc<Self>) -> Closer {
        Closer(self)
    }
}

/// See [`Inbox::closer`].
pub struct Closer(Arc<Inbox>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(ids: &[u64]) -> Vec<OpEvent> {
        ids.iter().map(|&i| OpEvent::ok_get(i, 1)).collect()
    }

    fn ids(batches: Vec<Vec<OpEvent>>) -> Vec<Vec<u64>> {
        batches.iter().map(|b| b.iter().map(|e| e.intended_us).collect()).collect()
    }

    #[test]
    fn batches_come_out_once_in_order_until_closed() {
        let inbox = Inbox::default();
        inbox.push(batch(&[1, 2]));
        inbox.push(batch(&[3]));
        assert_eq!(ids(inbox.take()), vec![vec![1, 2], vec![3]]);
        assert!(inbox.take().is_empty(), "taken once");
        inbox.push(batch(&[4]));
        inbox.close();
        inbox.push(batch(&[5]));
        assert!(inbox.take().is_empty(), "a closed inbox keeps nothing");
        // The closer closes it when dropped.
        let inbox = Arc::new(Inbox::default());
        drop(inbox.clone().closer());
        inbox.push(batch(&[6]));
        assert!(inbox.take().is_empty());
    }
}
