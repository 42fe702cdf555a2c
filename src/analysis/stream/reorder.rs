//! [`Reorder`]: puts events written in arrival order back into completion (`end_us`) order with
//! a bounded buffer. The recorder writes an event when its completion reaches it, so the file is
//! in completion order up to channel and scheduling delays (milliseconds). An event is released
//! once the newest completion seen is more than the horizon past it; one that arrives after a
//! later completion was already released is passed on at once and counted as late (its
//! order-dependent figures may then be slightly off, which the summary says).

use crate::record::OpEvent;
use std::collections::VecDeque;

/// Default horizon: far beyond any delay between a completion and its row (milliseconds), and a
/// few seconds of events at the highest rates (tens of thousands of rows).
pub const HORIZON_US: u64 = 10_000_000;

/// The reorder buffer (see the module doc).
pub struct Reorder {
    horizon_us: u64,
    /// Held events sorted by `end_us` (arrival order among equal ones). Rows arrive nearly
    /// sorted, so an insertion is almost always at the back.
    held: VecDeque<OpEvent>,
    newest: u64,
    released: Option<u64>,
    /// Events that arrived after a later completion had been released.
    pub late: u64,
    /// Largest lateness seen (newest completion seen minus the event's), µs.
    pub max_disorder_us: u64,
    /// Most events held at once.
    pub peak_held: usize,
}

impl Reorder {
    pub fn new(horizon_us: u64) -> Reorder {
        Reorder {
            horizon_us,
            held: VecDeque::new(),
            newest: 0,
            released: None,
            late: 0,
            max_disorder_us: 0,
            peak_held: 0,
        }
    }

    /// Add one event in file order; `out` receives the events that are now in order.
    pub fn push(&mut self, event: OpEvent, out: &mut impl FnMut(OpEvent)) {
        self.max_disorder_us = self.max_disorder_us.max(self.newest.saturating_sub(event.end_us));
        if self.released.is_some_and(|r| event.end_us < r) {
            self.late += 1;
            out(event);
            return;
        }
        self.newest = self.newest.max(event.end_us);
        let mut at = self.held.len();
        while at > 0 && self.held[at - 1].end_us > event.end_us {
            at -= 1;
        }
        self.held.insert(at, event);
        self.peak_held = self.peak_held.max(self.held.len());
        let cutoff = self.newest.saturating_sub(self.horizon_us);
        while self.held.front().is_some_and(|e| e.end_us < cutoff) {
            self.release_one(out);
        }
    }

    fn release_one(&mut self, out: &mut impl FnMut(OpEvent)) {
        if let Some(e) = self.held.pop_front() {
            self.released = Some(e.end_us);
            out(e);
        }
    }

    /// Release everything still held.
    pub fn finish(&mut self, out: &mut impl FnMut(OpEvent)) {
        while !self.held.is_empty() {
            self.release_one(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{OpKind, Outcome};

    fn ev(end_us: u64) -> OpEvent {
        OpEvent {
            intended_us: end_us.saturating_sub(500),
            start_us: end_us.saturating_sub(400),
            end_us,
            kind: OpKind::Get,
            session: 0,
            path: "/zkchaos/keys/k1".into(),
            outcome: Outcome::Ok,
            error: None,
            token: String::new(),
            version: 0,
        }
    }

    #[test]
    fn completions_out_of_order_within_the_horizon_come_out_sorted() {
        let mut r = Reorder::new(1_000);
        let mut got = Vec::new();
        for t in [100, 300, 200, 1_500, 1_200, 2_600, 2_000, 4_000] {
            r.push(ev(t), &mut |e| got.push(e.end_us));
        }
        r.finish(&mut |e| got.push(e.end_us));
        assert_eq!(got, vec![100, 200, 300, 1_200, 1_500, 2_000, 2_600, 4_000]);
        assert_eq!((r.late, r.max_disorder_us), (0, 600));
    }

    #[test]
    fn an_event_later_than_the_horizon_is_passed_on_and_counted() {
        let mut r = Reorder::new(1_000);
        let mut got = Vec::new();
        for t in [100, 5_000, 50] {
            r.push(ev(t), &mut |e| got.push(e.end_us));
        }
        r.finish(&mut |e| got.push(e.end_us));
        assert_eq!(got, vec![100, 50, 5_000]);
        assert_eq!(r.late, 1);
    }
}
