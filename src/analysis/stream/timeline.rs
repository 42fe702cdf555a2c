//! [`TimelineAcc`]: `timeline.csv` rows built while streaming. Events arrive in `end_us` order,
//! so only the current interval holds raw latencies (its exact quantiles need them); earlier
//! intervals are already rows. State: one row per non-empty interval × kind.

use crate::record::timeline::{IntervalAgg, TimelineRow};
use crate::record::{OpEvent, OpKind};

#[derive(Debug, Clone)]
pub struct TimelineAcc {
    interval_us: u64,
    open: u64,
    cells: Vec<IntervalAgg>,
    used: [bool; OpKind::ALL.len()],
    done: Vec<(u64, TimelineRow)>,
    /// Events whose interval was already closed (arrived beyond the reorder horizon).
    pub late: u64,
}

impl TimelineAcc {
    pub fn new(interval_us: u64) -> TimelineAcc {
        TimelineAcc {
            interval_us: interval_us.max(1),
            open: 0,
            cells: vec![IntervalAgg::default(); OpKind::ALL.len()],
            used: [false; OpKind::ALL.len()],
            done: Vec::new(),
            late: 0,
        }
    }

    fn close(&mut self) {
        for (i, k) in OpKind::ALL.iter().enumerate() {
            if std::mem::take(&mut self.used[i]) {
                let agg = std::mem::take(&mut self.cells[i]);
                self.done.push((self.open, agg.into_row(self.open * self.interval_us, *k)));
            }
        }
    }

    /// One event, in `end_us` order.
    pub fn observe(&mut self, e: &OpEvent) {
        let b = e.end_us / self.interval_us;
        if b < self.open {
            self.late += 1;
            return;
        }
        if b > self.open {
            self.close();
            self.open = b;
        }
        let k = OpKind::ALL.iter().position(|k| *k == e.kind).unwrap_or(0);
        self.used[k] = true;
        self.cells[k].add(e);
    }

    /// Zero-filled rows from 0 to `end` (exclusive), each interval × each of `kinds`: the same
    /// rows as [`crate::record::timeline::timeline`] with window `(0, end)`.
    pub fn finish(mut self, end: u64, kinds: &[OpKind]) -> Vec<TimelineRow> {
        self.close();
        let n = end.div_ceil(self.interval_us);
        let mut done = self.done.into_iter().peekable();
        let mut rows = Vec::with_capacity(n as usize * kinds.len());
        for b in 0..n {
            let mut here: Vec<TimelineRow> = Vec::new();
            while let Some((_, row)) = done.next_if(|(x, _)| *x == b) {
                here.push(row);
            }
            for k in kinds {
                match here.iter().position(|r| r.kind == *k) {
                    Some(i) => rows.push(here.swap_remove(i)),
                    None => rows.push(IntervalAgg::default().into_row(b * self.interval_us, *k)),
                }
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::timeline::timeline;
    use crate::record::{ErrorClass, Outcome};

    fn ev(kind: OpKind, intended: u64, end: u64, outcome: Outcome) -> OpEvent {
        OpEvent {
            intended_us: intended,
            start_us: intended + 30,
            end_us: end,
            kind,
            session: 1,
            path: "/zkchaos/keys/k3".into(),
            outcome,
            error: (outcome != Outcome::Ok).then_some(ErrorClass::Timeout),
            token: String::new(),
            version: 2,
        }
    }

    #[test]
    fn streamed_rows_equal_the_rows_from_all_events() {
        let events = vec![
            ev(OpKind::Get, 0, 900, Outcome::Ok),
            ev(OpKind::Set, 100, 1_400, Outcome::Ok),
            ev(OpKind::Get, 200, 1_500, Outcome::Fail),
            ev(OpKind::Get, 1_000, 1_950, Outcome::Ok),
            ev(OpKind::Get, 1_900, 4_100, Outcome::Indeterminate),
            ev(OpKind::Set, 3_000, 4_200, Outcome::Ok),
        ];
        let kinds = [OpKind::Get, OpKind::Set, OpKind::Create];
        let mut acc = TimelineAcc::new(1_000);
        for e in &events {
            acc.observe(e);
        }
        assert_eq!(acc.finish(4_201, &kinds), timeline(&events, 1_000, (0, 4_201), &kinds));
    }
}
