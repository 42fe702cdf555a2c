//! `monitor.csv`: the server-mode samples (`at_us,server,mode,zxid`; zxid decimal, empty when
//! unknown), written live by the monitor and read back for the leader check.

use super::{ModeSample, RecordError, WriteFailure};
use std::path::{Path, PathBuf};

/// Write samples as `monitor.csv` (same format as the poller).
pub fn write_monitor_csv(path: &Path, samples: &[ModeSample]) -> Result<(), RecordError> {
    let err = |source| RecordError::Write { path: path.into(), source: csv_io(source) };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    for s in samples {
        w.serialize(s).map_err(err)?;
    }
    w.flush().map_err(|e| err(e.into()))
}

/// `monitor.csv` written live, a tick of rows at a time and flushed after each, so an
/// interrupted run still has them. The first failed write trips the run's [`WriteFailure`]
/// (which stops the run) and ends the file; the caller keeps its samples in memory.
pub struct LiveMonitorCsv {
    path: PathBuf,
    writer: Option<csv::Writer<std::fs::File>>,
    failure: WriteFailure,
}

impl LiveMonitorCsv {
    /// Create the file; a failure trips `failure` at once.
    pub fn create(path: PathBuf, failure: WriteFailure) -> LiveMonitorCsv {
        let writer = match csv::Writer::from_path(&path) {
            Ok(w) => Some(w),
            Err(e) => {
                failure.trip(RecordError::Write { path: path.clone(), source: csv_io(e) }.to_string());
                None
            }
        };
        LiveMonitorCsv { path, writer, failure }
    }

    /// Append `rows` and flush; after a failure, nothing more is written.
    pub fn append(&mut self, rows: &[ModeSample]) {
        let Some(w) = self.writer.as_mut() else { return };
        let r = rows.iter().try_for_each(|s| w.serialize(s)).and_then(|_| w.flush().map_err(csv::Error::from));
        if let Err(e) = r {
            self.failure.trip(RecordError::Write { path: self.path.clone(), source: csv_io(e) }.to_string());
            self.writer = None;
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Read `monitor.csv`.
pub fn read_monitor_csv(path: &Path) -> Result<Vec<ModeSample>, RecordError> {
    let err = |source: csv::Error| RecordError::Parse { path: path.into(), detail: source.to_string() };
    let mut r = csv::Reader::from_path(path).map_err(err)?;
    r.deserialize().collect::<Result<Vec<ModeSample>, _>>().map_err(err)
}


fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ServerMode::*;

    fn s(at_us: u64, server: u32, mode: crate::record::ServerMode, epoch: u64) -> ModeSample {
        let zxid = if mode.is_serving() { Some(epoch << 32 | 5) } else { None };
        ModeSample::new(at_us, server, mode, zxid)
    }

#[test]
    fn csv_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(crate::record::files::MONITOR_FILE);
        let v = vec![s(0, 1, Leader, 1), s(0, 2, Down, 0), s(7, 3, NotServing, 0)];
        write_monitor_csv(&p, &v).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("at_us,server,mode,zxid,sent_us\n0,1,leader,0x100000005,\n0,2,down,,\n"), "{text}");
        assert_eq!(read_monitor_csv(&p).unwrap(), v);
    }

    #[test]
    fn decimal_zxids_of_older_files_are_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(crate::record::files::MONITOR_FILE);
        std::fs::write(&p, "at_us,server,mode,zxid\n0,1,leader,4294967301\n5,2,down,\n").unwrap();
        let v = read_monitor_csv(&p).unwrap();
        assert_eq!(v[0].zxid, Some(0x1_0000_0005));
        assert_eq!(v[1].zxid, None);
        assert_eq!(v[0].sent_us, None);
    }

    #[test]
    fn the_live_file_trips_the_run_wire_when_it_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let run = crate::record::RunDir::create(dir.path(), "p").unwrap();
        let mut live = run.monitor_csv();
        live.append(&[s(0, 1, Leader, 1)]);
        assert_eq!(run.failure().cause(), None);
        assert_eq!(read_monitor_csv(live.path()).unwrap().len(), 1);
        // A directory that is gone: the live file cannot be created, the wire trips with its path.
        let gone = dir.path().join("gone").join(crate::record::files::MONITOR_FILE);
        let failure = WriteFailure::new();
        let mut live = LiveMonitorCsv::create(gone, failure.clone());
        live.append(&[s(0, 1, Leader, 1)]);
        assert!(failure.cause().is_some_and(|c| c.contains("monitor.csv")), "{:?}", failure.cause());
    }
}
