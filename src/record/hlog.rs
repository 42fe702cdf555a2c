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

/// Read an interval log, also one still being written (a cut-off last line is ignored): the
/// number of intervals and of values recorded in them, each histogram decoded.
pub fn read_hlog(path: &Path) -> Result<(u64, u64), RecordError> {
    use base64::Engine;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;
    let parse = |detail: String| RecordError::Parse { path: path.to_owned(), detail };
    let mut bytes = std::fs::read(path).map_err(|source| RecordError::Read { path: path.to_owned(), source })?;
    bytes.truncate(bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1));
    let mut deserializer = Deserializer::new();
    let (mut intervals, mut values) = (0u64, 0u64);
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(i) = entry.map_err(|e| parse(format!("{e:?}")))? {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(i.encoded_histogram())
                .map_err(|e| parse(format!("interval at {:?}: {e}", i.start_timestamp())))?;
            let h: Histogram<u64> = deserializer
                .deserialize(&mut raw.as_slice())
                .map_err(|e| parse(format!("interval at {:?}: {e:?}", i.start_timestamp())))?;
            intervals += 1;
            values += h.len();
        }
    }
    Ok((intervals, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    #[test]
    fn writes_readable_log() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(super::super::files::hlog_file("get"));
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
        assert_eq!(read_hlog(&p).unwrap(), (2, 1));
        // A log cut mid-line (read while being written) still reads up to the last whole line.
        let cut = dir.path().join("cut.hlog");
        std::fs::write(&cut, &text[..text.len() - 10]).unwrap();
        assert_eq!(read_hlog(&cut).unwrap(), (1, 1));
    }
}
