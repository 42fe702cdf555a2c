//! `monitor.csv`: the server-mode samples (`at_us,server,mode,zxid`; zxid decimal, empty when
//! unknown), written live by the monitor and read back for the leader check.

use super::{ModeSample, RecordError};
use std::path::Path;

/// Write samples as `monitor.csv` (same format as the poller).
pub fn write_monitor_csv(path: &Path, samples: &[ModeSample]) -> Result<(), RecordError> {
    let err = |source| RecordError::Write { path: path.into(), source: csv_io(source) };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    for s in samples {
        w.serialize(s).map_err(err)?;
    }
    w.flush().map_err(|e| err(e.into()))
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
        let p = dir.path().join("monitor.csv");
        let v = vec![s(0, 1, Leader, 1), s(0, 2, Down, 0), s(7, 3, NotServing, 0)];
        write_monitor_csv(&p, &v).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("at_us,server,mode,zxid,sent_us\n0,1,leader,0x100000005,\n0,2,down,,\n"), "{text}");
        assert_eq!(read_monitor_csv(&p).unwrap(), v);
    }

    #[test]
    fn decimal_zxids_of_older_files_are_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("monitor.csv");
        std::fs::write(&p, "at_us,server,mode,zxid\n0,1,leader,4294967301\n5,2,down,\n").unwrap();
        let v = read_monitor_csv(&p).unwrap();
        assert_eq!(v[0].zxid, Some(0x1_0000_0005));
        assert_eq!(v[1].zxid, None);
        assert_eq!(v[0].sent_us, None);
    }
}
