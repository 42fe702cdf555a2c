//! Per-interval time series (`timeline.csv`): for every interval of the window and every kind in
//! the mix, counts by outcome and error class, and latency quantiles of the `Ok` operations.
//!
//! Operations are bucketed by completion time (`end_us`): an outage shows as intervals with no
//! `Ok`. The series is zero-filled (every interval × kind has a row, etcd's `timeseries.go`
//! lesson). Quantiles are exact (nearest rank over the interval's raw latencies, measured from
//! the intended start). In the CSV, `p50_us`, `p99_us` and `max_us` are left empty when the
//! interval has no `Ok` (the row struct holds 0 there), so a percentile plot does not dip to 0 µs
//! exactly during an outage.
//!
//! The recorder writes `timeline.csv` live with the same [`IntervalAgg`] and [`TimelineCsv`], so
//! the live file and [`timeline`] recomputed from `events.csv.gz` are byte-identical.

use super::{ErrorClass, OpEvent, OpKind, Outcome, RecordError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// One row of `timeline.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineRow {
    pub t_start_us: u64,
    pub kind: OpKind,
    pub ok: u64,
    pub fail: u64,
    pub indeterminate: u64,
    /// Every [`ErrorClass`] is present (zero-filled).
    pub errors: BTreeMap<ErrorClass, u64>,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// Accumulates one (interval, kind) cell.
#[derive(Debug, Clone, Default)]
pub struct IntervalAgg {
    ok: u64,
    fail: u64,
    indeterminate: u64,
    errors: [u64; ErrorClass::ALL.len()],
    latencies: Vec<u64>,
}

impl IntervalAgg {
    pub fn add(&mut self, e: &OpEvent) {
        match e.outcome {
            Outcome::Ok => {
                self.ok += 1;
                self.latencies.push(e.latency_us());
            }
            Outcome::Fail => self.fail += 1,
            Outcome::Indeterminate => self.indeterminate += 1,
        }
        if let Some(c) = e.error {
            if let Some(i) = ErrorClass::ALL.iter().position(|x| *x == c) {
                self.errors[i] += 1;
            }
        }
    }

    pub fn into_row(mut self, t_start_us: u64, kind: OpKind) -> TimelineRow {
        self.latencies.sort_unstable();
        let q = |p: f64| nearest_rank(&self.latencies, p);
        TimelineRow {
            t_start_us,
            kind,
            ok: self.ok,
            fail: self.fail,
            indeterminate: self.indeterminate,
            errors: ErrorClass::ALL.iter().copied().zip(self.errors.iter().copied()).collect(),
            p50_us: q(0.50),
            p99_us: q(0.99),
            max_us: self.latencies.last().copied().unwrap_or(0),
        }
    }
}

/// Nearest-rank quantile of sorted values (0 if empty).
pub fn nearest_rank(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Rows for `[window.0, window.1)` in steps of `interval_us` (the last interval may be partial),
/// each interval × each of `kinds` (in that order). Events outside the window or of other kinds
/// are ignored.
pub fn timeline(events: &[OpEvent], interval_us: u64, window: (u64, u64), kinds: &[OpKind]) -> Vec<TimelineRow> {
    let interval_us = interval_us.max(1);
    let (start, end) = window;
    if end <= start {
        return Vec::new();
    }
    let n = (end - start).div_ceil(interval_us) as usize;
    let mut cells: Vec<IntervalAgg> = vec![IntervalAgg::default(); n * kinds.len()];
    for e in events {
        if e.end_us < start || e.end_us >= end {
            continue;
        }
        let Some(k) = kinds.iter().position(|k| *k == e.kind) else { continue };
        let b = ((e.end_us - start) / interval_us) as usize;
        cells[b * kinds.len() + k].add(e);
    }
    cells
        .into_iter()
        .enumerate()
        .map(|(i, agg)| agg.into_row(start + (i / kinds.len()) as u64 * interval_us, kinds[i % kinds.len()]))
        .collect()
}

/// Header and row formatting of `timeline.csv`, shared by the recorder and [`write_timeline_csv`].
pub struct TimelineCsv<W: Write> {
    out: W,
    path: PathBuf,
    line: String,
}

impl TimelineCsv<BufWriter<File>> {
    pub fn create(path: &Path) -> Result<Self, RecordError> {
        let f = File::create(path).map_err(|source| RecordError::Create { path: path.to_owned(), source })?;
        TimelineCsv::new(BufWriter::new(f), path)
    }
}

impl<W: Write> TimelineCsv<W> {
    pub fn new(out: W, path: &Path) -> Result<Self, RecordError> {
        let mut w = TimelineCsv { out, path: path.to_owned(), line: String::with_capacity(128) };
        let mut header = String::from("t_ms,kind,ok,fail,indeterminate");
        for c in ErrorClass::ALL {
            header.push(',');
            header.push_str(c.as_str());
        }
        header.push_str(",p50_us,p99_us,max_us\n");
        w.write_str_(&header)?;
        Ok(w)
    }

    fn write_str_(&mut self, s: &str) -> Result<(), RecordError> {
        self.out.write_all(s.as_bytes()).map_err(|source| RecordError::Write { path: self.path.clone(), source })
    }

    pub fn row(&mut self, r: &TimelineRow) -> Result<(), RecordError> {
        use std::fmt::Write as _;
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        if r.t_start_us.is_multiple_of(1000) {
            let _ = write!(line, "{}", r.t_start_us / 1000);
        } else {
            let _ = write!(line, "{}.{:03}", r.t_start_us / 1000, r.t_start_us % 1000);
        }
        let _ = write!(line, ",{},{},{},{}", r.kind, r.ok, r.fail, r.indeterminate);
        for c in ErrorClass::ALL {
            let _ = write!(line, ",{}", r.errors.get(&c).copied().unwrap_or(0));
        }
        if r.ok == 0 {
            line.push_str(",,,\n");
        } else {
            let _ = writeln!(line, ",{},{},{}", r.p50_us, r.p99_us, r.max_us);
        }
        let res = self.write_str_(&line);
        self.line = line;
        res
    }

    pub fn flush(&mut self) -> Result<(), RecordError> {
        self.out.flush().map_err(|source| RecordError::Write { path: self.path.clone(), source })
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Write rows as `timeline.csv`.
pub fn write_timeline_csv(path: &Path, rows: &[TimelineRow]) -> Result<(), RecordError> {
    let mut w = TimelineCsv::create(path)?;
    for r in rows {
        w.row(r)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(kind: OpKind, end_us: u64, lat: u64) -> OpEvent {
        OpEvent {
            intended_us: end_us - lat,
            start_us: end_us - lat,
            end_us,
            kind,
            session: 0,
            path: String::new(),
            outcome: Outcome::Ok,
            error: None,
            token: String::new(),
            version: -1,
        }
    }

    #[test]
    fn zero_filled() {
        let mut events = vec![ok(OpKind::Get, 50_000, 1000), ok(OpKind::Get, 60_000, 3000)];
        let mut failed = ok(OpKind::Set, 450_000, 300_000);
        failed.outcome = Outcome::Indeterminate;
        failed.error = Some(ErrorClass::Timeout);
        events.push(failed);
        let rows = timeline(&events, 100_000, (0, 500_000), &[OpKind::Get, OpKind::Set]);
        assert_eq!(rows.len(), 10);
        assert_eq!(rows[0].kind, OpKind::Get);
        assert_eq!((rows[0].ok, rows[0].p50_us, rows[0].p99_us, rows[0].max_us), (2, 1000, 3000, 3000));
        for r in &rows[1..8] {
            assert_eq!((r.ok, r.fail, r.indeterminate, r.max_us), (0, 0, 0, 0));
            assert_eq!(r.errors.len(), ErrorClass::ALL.len());
        }
        assert_eq!(rows[9].kind, OpKind::Set);
        assert_eq!(rows[9].indeterminate, 1);
        assert_eq!(rows[9].errors[&ErrorClass::Timeout], 1);
        assert_eq!(rows[9].t_start_us, 400_000);

        let mut buf = Vec::new();
        let mut w = TimelineCsv::new(&mut buf, Path::new("mem")).unwrap();
        for r in &rows {
            w.row(r).unwrap();
        }
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().count(), 11);
        assert!(text.lines().nth(2).unwrap().starts_with("0,set,0,0,0,"));
        assert!(text.lines().nth(3).unwrap().starts_with("100,get,0,0,0,0,"));
        // No `Ok` in the interval: latency cells are empty, not 0.
        assert!(text.lines().nth(3).unwrap().ends_with(",0,,,"), "{}", text.lines().nth(3).unwrap());
        assert!(text.lines().nth(1).unwrap().ends_with(",1000,3000,3000"));
    }

    #[test]
    fn quantiles_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(nearest_rank(&v, 0.5), 50);
        assert_eq!(nearest_rank(&v, 0.99), 99);
        assert_eq!(nearest_rank(&v, 1.0), 100);
        assert_eq!(nearest_rank(&[], 0.5), 0);
    }
}
