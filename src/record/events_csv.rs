//! `events.csv.gz`: every [`OpEvent`] of a run, streamed as gzip-compressed CSV.
//!
//! Columns: `intended_us,start_us,end_us,kind,session,path,outcome,error,token,version` (header
//! row first). The writer sync-flushes the deflate stream about once a second (the recorder
//! decides when), so the file of a crashed run is readable up to the last flush; the reader
//! therefore tolerates a truncated final gzip block and a truncated final row, and keeps every
//! complete row before them.

use super::event::{ErrorClass, OpEvent, OpKind, Outcome};
use super::RecordError;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Column names, in order.
pub const COLUMNS: [&str; 10] =
    ["intended_us", "start_us", "end_us", "kind", "session", "path", "outcome", "error", "token", "version"];

/// Streams events to a `.csv.gz` file.
///
/// Rows are formatted by hand into one buffer (integers with `itoa`, text fields quoted the CSV
/// way only when they hold a comma, quote or line break: paths and tokens never do) and handed to
/// the compressor in 64 KiB chunks: the `csv` writer with `fmt` for every number cost about a
/// tenth of the driver's CPU (issue 14). [`read_events`] reads them back with the `csv` crate.
pub struct EventWriter {
    path: PathBuf,
    gz: GzEncoder<File>,
    buf: Vec<u8>,
    rows: u64,
}

/// Bytes gathered before they are compressed.
const CHUNK: usize = 64 * 1024;

impl EventWriter {
    pub fn create(path: &Path) -> Result<EventWriter, RecordError> {
        let file = File::create(path).map_err(|source| RecordError::Create { path: path.to_owned(), source })?;
        let gz = GzEncoder::new(file, Compression::fast());
        let mut w = EventWriter { path: path.to_owned(), gz, buf: Vec::with_capacity(CHUNK + 512), rows: 0 };
        w.buf.extend_from_slice(COLUMNS.join(",").as_bytes());
        w.buf.push(b'\n');
        Ok(w)
    }

    pub fn write(&mut self, e: &OpEvent) -> Result<(), RecordError> {
        let b = &mut self.buf;
        let mut int = itoa::Buffer::new();
        b.extend_from_slice(int.format(e.intended_us).as_bytes());
        b.push(b',');
        b.extend_from_slice(int.format(e.start_us).as_bytes());
        b.push(b',');
        b.extend_from_slice(int.format(e.end_us).as_bytes());
        b.push(b',');
        b.extend_from_slice(e.kind.as_str().as_bytes());
        b.push(b',');
        b.extend_from_slice(int.format(e.session).as_bytes());
        b.push(b',');
        push_text(b, &e.path);
        b.push(b',');
        b.extend_from_slice(e.outcome.as_str().as_bytes());
        b.push(b',');
        b.extend_from_slice(e.error.map(|c| c.as_str()).unwrap_or("").as_bytes());
        b.push(b',');
        push_text(b, &e.token);
        b.push(b',');
        b.extend_from_slice(int.format(e.version).as_bytes());
        b.push(b'\n');
        self.rows += 1;
        if self.buf.len() >= CHUNK {
            self.compress()?;
        }
        Ok(())
    }

    fn compress(&mut self) -> Result<(), RecordError> {
        let r = self.gz.write_all(&self.buf);
        self.buf.clear();
        r.map_err(|source| RecordError::Write { path: self.path.clone(), source })
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Sync-flush: everything written so far becomes decodable from the file.
    pub fn flush(&mut self) -> Result<(), RecordError> {
        self.compress()?;
        self.gz.flush().map_err(|source| RecordError::Write { path: self.path.clone(), source })
    }

    /// Write the gzip trailer and close the file.
    pub fn finish(mut self) -> Result<(), RecordError> {
        self.compress()?;
        let path = self.path;
        let file = self.gz.finish().map_err(|source| RecordError::Write { path: path.clone(), source })?;
        file.sync_all().map_err(|source| RecordError::Write { path, source })
    }
}

/// A text field, quoted (quotes doubled) only if it holds a comma, quote or line break.
fn push_text(b: &mut Vec<u8>, text: &str) {
    if !text.bytes().any(|c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        b.extend_from_slice(text.as_bytes());
        return;
    }
    b.push(b'"');
    for c in text.bytes() {
        if c == b'"' {
            b.push(b'"');
        }
        b.push(c);
    }
    b.push(b'"');
}

/// Passes through only complete lines; a read error (truncated gzip) ends the stream like EOF,
/// and an unterminated final line is dropped.
struct CompleteLines<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of `buf` (from the front) that end with a newline and may be handed out.
    ready: usize,
    pos: usize,
    done: bool,
    truncated: bool,
}

impl<R: Read> Read for CompleteLines<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.ready {
            if self.done {
                return Ok(0);
            }
            self.buf.drain(..self.ready);
            self.pos = 0;
            self.ready = 0;
            let old = self.buf.len();
            self.buf.resize(old + 64 * 1024, 0);
            let n = match self.inner.read(&mut self.buf[old..]) {
                Ok(n) => n,
                Err(_) => {
                    self.truncated = true;
                    0
                }
            };
            self.buf.truncate(old + n);
            if n == 0 {
                self.done = true;
                if !self.buf.is_empty() && !self.truncated {
                    // Unterminated last line in a complete file: the writer always ends rows
                    // with '\n', so this can only be a cut-off row.
                    self.truncated = true;
                }
            }
            self.ready = self.buf.iter().rposition(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0);
        }
        let n = out.len().min(self.ready - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Read every complete row of an `events.csv.gz` (or plain `events.csv`) file.
pub fn read_events(path: &Path) -> Result<Vec<OpEvent>, RecordError> {
    let mut out = Vec::new();
    for_each_event(path, |e| out.push(e))?;
    Ok(out)
}

/// Stream the rows of an events file to `f` without holding them all.
pub fn for_each_event(path: &Path, mut f: impl FnMut(OpEvent)) -> Result<(), RecordError> {
    let file = File::open(path).map_err(|source| RecordError::Open { path: path.to_owned(), source })?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    let inner: Box<dyn Read> = if gz { Box::new(MultiGzDecoder::new(file)) } else { Box::new(file) };
    let reader = CompleteLines { inner, buf: Vec::new(), ready: 0, pos: 0, done: false, truncated: false };
    let mut csv = csv::ReaderBuilder::new().has_headers(true).from_reader(reader);
    let mut rec = csv::StringRecord::new();
    let mut line = 1u64;
    loop {
        match csv.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                line += 1;
                f(parse_row(&rec).map_err(|detail| RecordError::ParseEvents { path: path.to_owned(), line, detail })?);
            }
            Err(e) => {
                return Err(RecordError::ParseEvents { path: path.to_owned(), line: line + 1, detail: e.to_string() })
            }
        }
    }
    Ok(())
}

fn parse_row(r: &csv::StringRecord) -> Result<OpEvent, String> {
    if r.len() != COLUMNS.len() {
        return Err(format!("expected {} columns, found {}", COLUMNS.len(), r.len()));
    }
    fn num<T: std::str::FromStr>(r: &csv::StringRecord, i: usize) -> Result<T, String> {
        r[i].parse().map_err(|_| format!("column {}: not a number: {:?}", COLUMNS[i], &r[i]))
    }
    let kind = OpKind::parse(&r[3]).ok_or_else(|| format!("unknown kind {:?}", &r[3]))?;
    let outcome = Outcome::parse(&r[6]).ok_or_else(|| format!("unknown outcome {:?}", &r[6]))?;
    let error = match &r[7] {
        "" => None,
        s => Some(ErrorClass::parse(s).ok_or_else(|| format!("unknown error class {s:?}"))?),
    };
    Ok(OpEvent {
        intended_us: num(r, 0)?,
        start_us: num(r, 1)?,
        end_us: num(r, 2)?,
        kind,
        session: num(r, 4)?,
        path: r[5].to_string(),
        outcome,
        error,
        token: r[8].to_string(),
        version: num(r, 9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(i: u64) -> OpEvent {
        OpEvent {
            intended_us: i * 1000,
            start_us: i * 1000 + 3,
            end_us: i * 1000 + 900,
            kind: if i.is_multiple_of(2) { OpKind::Get } else { OpKind::Create },
            session: (i % 4) as u32,
            path: format!("/zkchaos/keys/k{i}"),
            outcome: if i.is_multiple_of(5) { Outcome::Indeterminate } else { Outcome::Ok },
            error: if i.is_multiple_of(5) { Some(ErrorClass::Timeout) } else { None },
            token: if i.is_multiple_of(2) { String::new() } else { format!("1-{i}") },
            version: -1 + i as i64,
        }
    }

    #[test]
    fn rows_are_plain_csv_and_odd_text_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.csv");
        let mut odd = ev(3);
        odd.path = "/zkchaos/keys/a,b \"c\"\nd".into();
        odd.token = "x\ry".into();
        let events = vec![ev(1), ev(2), odd];
        // Plain (uncompressed) bytes: what the gzip stream holds.
        let mut w = EventWriter::create(&dir.path().join(crate::record::files::EVENTS_FILE)).unwrap();
        for e in &events {
            w.write(e).unwrap();
        }
        let text = String::from_utf8(w.buf.clone()).unwrap();
        assert_eq!(
            text.lines().take(3).collect::<Vec<_>>(),
            [
                "intended_us,start_us,end_us,kind,session,path,outcome,error,token,version",
                "1000,1003,1900,create,1,/zkchaos/keys/k1,ok,,1-1,0",
                "2000,2003,2900,get,2,/zkchaos/keys/k2,ok,,,1",
            ]
        );
        w.finish().unwrap();
        std::fs::write(&path, text).unwrap();
        assert_eq!(read_events(&path).unwrap(), events);
        assert_eq!(read_events(&dir.path().join(crate::record::files::EVENTS_FILE)).unwrap(), events);
    }

    #[test]
    fn round_trip_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(crate::record::files::EVENTS_FILE);
        let events: Vec<OpEvent> = (0..5000).map(ev).collect();
        let mut w = EventWriter::create(&path).unwrap();
        for e in &events[..3000] {
            w.write(e).unwrap();
        }
        w.flush().unwrap();
        let flushed_len = std::fs::metadata(&path).unwrap().len();
        for e in &events[3000..] {
            w.write(e).unwrap();
        }
        w.finish().unwrap();
        assert_eq!(read_events(&path).unwrap(), events);

        // A crashed run: the file ends somewhere after the sync flush.
        let bytes = std::fs::read(&path).unwrap();
        for cut in [flushed_len as usize, flushed_len as usize + 17, bytes.len() - 5, 40] {
            let p = dir.path().join(format!("cut{cut}.csv.gz"));
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let got = read_events(&p).unwrap();
            assert!(got.len() <= events.len());
            assert_eq!(&events[..got.len()], &got[..]);
            if cut >= flushed_len as usize {
                assert!(got.len() >= 3000, "cut {cut}: {} rows", got.len());
            }
        }
    }
}
