//! `latency-<kind>.hlog`: HdrHistogram interval logs (the standard V2 text format read by
//! `HistogramLogProcessor`, HdrHistogram's plotter and `hdrhistogram::serialization::interval_log`).
//!
//! One log per operation kind; one interval per second (bucketed by completion time); values are
//! latencies of `Ok` operations in microseconds measured from the intended start, 3 significant
//! digits; `Interval_Max` is written in milliseconds (max value divisor 1000). `BaseTime` is the
//! run's epoch, so interval timestamps are seconds since the epoch, on the same axis as events.

use super::RecordError;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A new histogram as used everywhere in zkchaos: auto-resizing, µs, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // 3 significant digits is always a valid configuration.
    Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits is valid"))
}

/// Writer of one interval log.
pub struct HlogWriter {
    path: PathBuf,
    out: BufWriter<File>,
    serializer: V2DeflateSerializer,
}

impl HlogWriter {
    /// Create the file and write the header. `epoch_unix_ms` becomes StartTime and BaseTime.
    pub fn create(path: &Path, epoch_unix_ms: i64, comment: &str) -> Result<HlogWriter, RecordError> {
        let file = File::create(path).map_err(|source| RecordError::Create { path: path.to_owned(), source })?;
        let mut w = HlogWriter { path: path.to_owned(), out: BufWriter::new(file), serializer: V2DeflateSerializer::new() };
        let base = UNIX_EPOCH + Duration::from_millis(epoch_unix_ms.max(0) as u64);
        let mut builder = IntervalLogWriterBuilder::new();
        builder
            .add_comment(comment)
            .add_comment("[Histogram log format version 1.3]")
            .with_start_time(base)
            .with_base_time(base)
            .with_max_value_divisor(1000.0);
        let path = w.path.clone();
        builder
            .begin_log_with(&mut w.out, &mut w.serializer)
            .map_err(|source| RecordError::Write { path, source })?;
        w.out
            .write_all(b"\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n")
            .map_err(|source| w.write_err(source))?;
        Ok(w)
    }

    fn write_err(&self, source: std::io::Error) -> RecordError {
        RecordError::Write { path: self.path.clone(), source }
    }

    /// Append one interval: `start_us` since the epoch, `len_us` long.
    pub fn interval(&mut self, h: &Histogram<u64>, start_us: u64, len_us: u64) -> Result<(), RecordError> {
        // A builder without headers writes nothing: it only lends us a writer for this interval.
        let mut log = IntervalLogWriterBuilder::new()
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut self.out, &mut self.serializer)
            .map_err(|source| RecordError::Write { path: self.path.clone(), source })?;
        log.write_histogram(h, Duration::from_micros(start_us), Duration::from_micros(len_us), None).map_err(|e| {
            RecordError::Write { path: self.path.clone(), source: std::io::Error::other(e.to_string()) }
        })?;
        Ok(())
    }

    pub fn flush(&mut self) -> Result<(), RecordError> {
        self.out.flush().map_err(|source| RecordError::Write { path: self.path.clone(), source })
    }
}

/// The wall-clock time of the epoch (for callers that need a `SystemTime`).
pub fn epoch_time(epoch_unix_ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(epoch_unix_ms.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    #[test]
    fn writes_readable_log() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("latency-get.hlog");
        let mut w = HlogWriter::create(&p, 1_700_000_000_000, "zkchaos get").unwrap();
        let mut h = new_histogram();
        h.record(1500).unwrap();
        w.interval(&h, 0, 1_000_000).unwrap();
        h.reset();
        w.interval(&h, 1_000_000, 1_000_000).unwrap();
        w.flush().unwrap();
        let text = std::fs::read(&p).unwrap();
        let entries: Vec<_> = IntervalLogIterator::new(&text).collect::<Result<Vec<_>, _>>().unwrap();
        let intervals = entries.iter().filter(|e| matches!(e, LogEntry::Interval(_))).count();
        assert_eq!(intervals, 2);
        assert!(entries.iter().any(|e| matches!(e, LogEntry::BaseTime(_))));
    }
}
