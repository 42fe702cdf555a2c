//! `readback.json.gz`: what each server held under the workload's key space after the run,
//! read from that server alone by the workload layer's read-back; the audit's input, stored so
//! `zkchaos analyze` can re-run the audit without Docker.
//!
//! Each server says how it was read (`via`): `live` (a session to the running server) or
//! `offline` (a server left down: a standalone ZooKeeper started on a copy of its data volume,
//! with what was measured about the original volume in `offline`, see [`OfflineRead`]). Files
//! written before this field have no `via`: those reads were live.
//!
//! Sequential znodes are held as [`SeqNodes`] (an hour's run leaves ~720,000 per server) and the
//! file is written and read as a stream, never whole in memory; the JSON is unchanged (format 1).
//! Since the `ephemeral` operations, a server's entry may also hold `"ephemerals":["0-17",...]`
//! (the children of `/zkchaos/eph`); older files simply lack it.

use super::seqnodes::SeqNodes;
use super::RecordError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

/// What one server holds. Paths are absolute (`/zkchaos/keys/k3`, `/zkchaos/seq/s-0000000042`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerReadback {
    pub server: u32,
    /// Why this server could not be read (then `keys` and `seq` are empty).
    pub error: Option<String>,
    /// How it was read (`None` in files written before: live).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<ReadVia>,
    /// For an offline read: the method, the time it took, and whether the original volume was
    /// left unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<OfflineRead>,
    /// Key path → (data version, token decoded from the value, if any).
    pub keys: BTreeMap<String, (i64, Option<String>)>,
    /// Sequential znode path → token decoded from its value, if any.
    pub seq: SeqNodes,
    /// Names of the children of `/zkchaos/eph` (the tokens of ephemeral znodes still present),
    /// sorted; `None` in files written before the read-back listed them (absent from the JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemerals: Option<Vec<String>>,
}

impl ServerReadback {
    /// A read-back with nothing read yet (`via` unset).
    pub fn empty(server: u32) -> Self {
        ServerReadback { server, error: None, via: None, offline: None, keys: BTreeMap::new(), seq: SeqNodes::new(), ephemerals: None }
    }

    pub fn unreadable(server: u32, error: impl Into<String>) -> Self {
        ServerReadback { error: Some(error.into()), ..Self::empty(server) }
    }

    /// How it was read (files without `via` were read live).
    pub fn read_via(&self) -> ReadVia {
        self.via.unwrap_or(ReadVia::Live)
    }
}

/// How a server's data was read after the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadVia {
    /// A session to the running server itself.
    Live,
    /// A standalone ZooKeeper on a copy of the (stopped) server's data volume: the snapshot and
    /// transaction log as the server would load them on restart.
    Offline,
}

impl ReadVia {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadVia::Live => "live",
            ReadVia::Offline => "offline",
        }
    }
}

/// The method [`OfflineRead::method`] names.
pub const OFFLINE_METHOD: &str = "standalone copy of the data volume";

/// What an offline read did and measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineRead {
    pub server: u32,
    /// [`OFFLINE_METHOD`].
    pub method: String,
    /// Why it was read offline: `left down by the procedure`, or `not readable live: <error>`.
    pub reason: String,
    /// The original volume's digest was the same before the copy and after the read (`None`
    /// when either digest could not be taken).
    pub original_unchanged: Option<bool>,
    /// Files in the original volume, and the sha256 over their names, sizes, modes, times and
    /// contents, before the copy and after the read.
    pub original_files: Option<u64>,
    pub original_sha256_before: Option<String>,
    pub original_sha256_after: Option<String>,
    /// From the start of the copy to the end of the read.
    pub elapsed_ms: u64,
    /// When the procedure took the server down (µs since the epoch; `None`: not taken down,
    /// e.g. a running server that could not be read live). The audit expects on it only the
    /// writes acknowledged before then.
    #[serde(default)]
    pub down_since_us: Option<u64>,
}

/// The file format: versioned so later changes can be detected.
#[derive(Debug, Deserialize)]
struct ReadbackFile {
    format: u32,
    servers: Vec<ServerReadback>,
}

/// [`ReadbackFile`] to write, borrowing the read-backs.
#[derive(Serialize)]
struct ReadbackFileRef<'a> {
    format: u32,
    servers: &'a [ServerReadback],
}

const FORMAT: u32 = 1;

/// Buffer between the JSON serializer (many small writes) and the compressor.
const BUFFER: usize = 64 * 1024;

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Write read-backs as JSON, gzip-compressed when `path` ends in `.gz`
/// (`{"format":1,"servers":[{"server":1,"error":null,"keys":{"/zkchaos/keys/k0":[3,"tok"]},"seq":{...}}]}`).
pub fn save_readbacks(path: &Path, readbacks: &[ServerReadback]) -> Result<(), RecordError> {
    let file = ReadbackFileRef { format: FORMAT, servers: readbacks };
    let io = |source| RecordError::Write { path: path.into(), source };
    let json = |e| json_error(path, e, io);
    let f = BufWriter::new(std::fs::File::create(path).map_err(io)?);
    let mut f = if is_gz(path) {
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        let mut w = BufWriter::with_capacity(BUFFER, gz);
        serde_json::to_writer(&mut w, &file).map_err(json)?;
        let gz = w.into_inner().map_err(|e| io(e.into_error()))?;
        gz.finish().map_err(io)?
    } else {
        let mut f = f;
        serde_json::to_writer(&mut f, &file).map_err(json)?;
        f
    };
    f.flush().map_err(io)
}

/// A streaming (de)serializer's error: the file's I/O error as `io` reports it, else a parse
/// error naming the file.
fn json_error(path: &Path, e: serde_json::Error, io: impl FnOnce(std::io::Error) -> RecordError) -> RecordError {
    if e.is_io() {
        io(e.into())
    } else {
        RecordError::Parse { path: path.into(), detail: e.to_string() }
    }
}

/// Read what [`save_readbacks`] wrote.
pub fn load_readbacks(path: &Path) -> Result<Vec<ServerReadback>, RecordError> {
    let io = |source| RecordError::Open { path: path.into(), source };
    let f = std::fs::File::open(path).map_err(io)?;
    let json = |e| json_error(path, e, io);
    // serde_json reads byte by byte: buffer after the decompressor, not only before it.
    let file: ReadbackFile = if is_gz(path) {
        serde_json::from_reader(BufReader::with_capacity(BUFFER, flate2::read::GzDecoder::new(f))).map_err(json)?
    } else {
        serde_json::from_reader(BufReader::with_capacity(BUFFER, f)).map_err(json)?
    };
    if file.format != FORMAT {
        return Err(RecordError::Parse {
            path: path.into(),
            detail: format!("read-back format {} (this zkchaos reads format {FORMAT})", file.format),
        });
    }
    Ok(file.servers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample() -> Vec<ServerReadback> {
        let mut a = ServerReadback { via: Some(ReadVia::Live), ..ServerReadback::empty(1) };
        a.keys.insert("/zkchaos/keys/k0".into(), (3, Some("t3".into())));
        a.keys.insert("/zkchaos/keys/k1".into(), (0, None));
        a.seq.insert("/zkchaos/seq/s-0000000001", Some("c1"));
        let mut c = ServerReadback { via: Some(ReadVia::Offline), ..ServerReadback::empty(3) };
        c.offline = Some(OfflineRead {
            server: 3,
            method: OFFLINE_METHOD.into(),
            reason: "left down by the procedure".into(),
            original_unchanged: Some(true),
            original_files: Some(4),
            original_sha256_before: Some("ab".into()),
            original_sha256_after: Some("ab".into()),
            elapsed_ms: 5200,
            down_since_us: Some(7_000_000),
        });
        c.seq.insert("/zkchaos/seq/s-0000000001", Some("c1"));
        c.ephemerals = Some(vec!["0-17".into()]);
        vec![a, ServerReadback::unreadable(2, "connect refused"), c]
    }

    #[test]
    fn save_load_round_trip_json_and_gz() {
        let dir = tempfile::tempdir().unwrap();
        for name in super::super::files::READBACK_FILES {
            let p = dir.path().join(name);
            save_readbacks(&p, &sample()).unwrap();
            assert_eq!(load_readbacks(&p).unwrap(), sample(), "{name}");
        }
        let e = load_readbacks(&dir.path().join("nope.json")).unwrap_err();
        assert!(e.to_string().contains("nope.json"), "{e}");
    }

    /// A format-1 file as the run writes it (and as runs before the compact form wrote it): our
    /// tokens, a foreign znode name, a foreign token, a value without token, an unreadable server.
    const LITERAL: &str = concat!(
        r#"{"format":1,"servers":[{"server":1,"error":null,"#,
        r#""keys":{"/zkchaos/keys/k0":[7122,"3-7198487"],"/zkchaos/keys/k1":[0,null]},"#,
        r#""seq":{"/zkchaos/seq/other-tool":"hello","/zkchaos/seq/s-0000000041":"0-12","#,
        r#""/zkchaos/seq/s-0000000042":"c42","/zkchaos/seq/s-0000000043":null}},"#,
        r#"{"server":2,"error":"connecting to zk2 at 127.0.0.1:2182: refused","keys":{},"seq":{}}]}"#
    );

    fn unzip(path: &Path) -> String {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn a_literal_file_reads_and_is_written_back_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join(super::super::files::READBACK_FILES[1]);
        std::fs::write(&plain, LITERAL).unwrap();
        let gz = dir.path().join(super::super::files::READBACK_FILE);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(LITERAL.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        for p in [&plain, &gz] {
            let rbs = load_readbacks(p).unwrap();
            assert_eq!(rbs.len(), 2);
            assert!(rbs.iter().all(|r| r.via.is_none() && r.read_via() == ReadVia::Live));
            let seq = &rbs[0].seq;
            assert_eq!(seq.len(), 4);
            assert_eq!(seq.get("/zkchaos/seq/other-tool").unwrap().unwrap().to_string(), "hello");
            assert!(seq.get("/zkchaos/seq/s-0000000041").unwrap().unwrap().is("0-12"));
            assert!(seq.get("/zkchaos/seq/s-0000000042").unwrap().unwrap().is("c42"));
            assert_eq!(seq.get("/zkchaos/seq/s-0000000043"), Some(None));
            assert!(!seq.contains_key("/zkchaos/seq/s-0000000044"));
            assert_eq!(rbs[0].keys["/zkchaos/keys/k0"], (7122, Some("3-7198487".to_string())));
            assert_eq!(rbs[1].error.as_deref(), Some("connecting to zk2 at 127.0.0.1:2182: refused"));

            let again = dir.path().join(format!("again-{}", p.file_name().unwrap().to_string_lossy()));
            save_readbacks(&again, &rbs).unwrap();
            let text = if is_gz(&again) { unzip(&again) } else { std::fs::read_to_string(&again).unwrap() };
            assert_eq!(text, LITERAL, "{}", again.display());
        }
    }

    #[test]
    fn a_cut_file_is_a_parse_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(super::super::files::READBACK_FILES[1]);
        std::fs::write(&p, &LITERAL[..LITERAL.len() / 2]).unwrap();
        let e = load_readbacks(&p).unwrap_err();
        assert!(matches!(e, RecordError::Parse { .. }) && e.to_string().contains(super::super::files::READBACK_FILES[1]), "{e}");
        let gz = dir.path().join(super::super::files::READBACK_FILE);
        std::fs::write(&gz, b"not gzip").unwrap();
        let e = load_readbacks(&gz).unwrap_err();
        assert!(e.to_string().contains(super::super::files::READBACK_FILE), "{e}");
        std::fs::write(&p, LITERAL.replace(r#""format":1"#, r#""format":2"#)).unwrap();
        let e = load_readbacks(&p).unwrap_err();
        assert!(e.to_string().contains("read-back format 2"), "{e}");
    }
}
