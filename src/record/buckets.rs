//! Fixed-width time buckets keyed by completion time, of which only the open ones are in memory:
//! the recorder's timeline intervals and its per-second histograms. A bucket is closed (handed to
//! a writer) once the time it covers has passed; an event for a closed bucket is late.

use super::RecordError;
use std::collections::VecDeque;

/// Fixed-width buckets by completion time, only the open ones in memory.
pub(crate) struct Buckets<T> {
    pub(crate) start_us: u64,
    pub(crate) width_us: u64,
    /// Index of the first bucket not yet written.
    next: u64,
    open: VecDeque<T>,
}

impl<T> Buckets<T> {
    pub(crate) fn new(start_us: u64, width_us: u64) -> Self {
        Buckets { start_us, width_us, next: 0, open: VecDeque::new() }
    }

    /// The open bucket for `end_us`, or `None` if it was already written (or precedes the start).
    pub(crate) fn get(&mut self, end_us: u64, mut mk: impl FnMut() -> T) -> Option<&mut T> {
        if end_us < self.start_us {
            return None;
        }
        let b = (end_us - self.start_us) / self.width_us;
        if b < self.next {
            return None;
        }
        let off = (b - self.next) as usize;
        while self.open.len() <= off {
            self.open.push_back(mk());
        }
        self.open.get_mut(off)
    }

    /// Pop buckets that end at or before `until_us`, with their start time.
    pub(crate) fn close(&mut self, until_us: u64, mut mk: impl FnMut() -> T, mut f: impl FnMut(u64, T) -> Result<(), RecordError>) -> Result<(), RecordError> {
        while self.start_us + (self.next + 1) * self.width_us <= until_us {
            let t = self.start_us + self.next * self.width_us;
            let b = self.open.pop_front().unwrap_or_else(&mut mk);
            self.next += 1;
            f(t, b)?;
        }
        Ok(())
    }

    pub(crate) fn cursor_us(&self) -> u64 {
        self.start_us + self.next * self.width_us
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_buckets_fill_then_close_in_order_with_the_empty_ones_made_up() {
        let mut b: Buckets<Vec<u64>> = Buckets::new(1_000, 100);
        assert!(b.get(999, Vec::new).is_none(), "before the start");
        b.get(1_050, Vec::new).unwrap().push(1);
        b.get(1_320, Vec::new).unwrap().push(2);
        let mut closed = Vec::new();
        b.close(1_300, Vec::new, |t, v| {
            closed.push((t, v));
            Ok(())
        })
        .unwrap();
        assert_eq!(closed, vec![(1_000, vec![1]), (1_100, vec![]), (1_200, vec![])]);
        assert_eq!(b.cursor_us(), 1_300);
        assert!(b.get(1_299, Vec::new).is_none(), "late: its bucket was written");
        b.get(1_300, Vec::new).unwrap().push(3);
        closed.clear();
        b.close(1_400, Vec::new, |t, v| {
            closed.push((t, v));
            Ok(())
        })
        .unwrap();
        assert_eq!(closed, vec![(1_300, vec![2, 3])]);
    }
}
