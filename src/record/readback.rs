//! `readback.json.gz`: what each server held under the workload's key space after the run,
//! read from that server alone by the workload layer's read-back; the audit's input, stored so
//! `zkchaos analyze` can re-run the audit without Docker.

use super::RecordError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

/// What one server holds. Paths are absolute (`/zkchaos/keys/k3`, `/zkchaos/seq/s-0000000042`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerReadback {
    pub server: u32,
    /// Why this server could not be read (then `keys` and `seq` are empty).
    pub error: Option<String>,
    /// Key path → (data version, token decoded from the value, if any).
    pub keys: BTreeMap<String, (i64, Option<String>)>,
    /// Sequential znode path → token decoded from its value, if any.
    pub seq: BTreeMap<String, Option<String>>,
}

impl ServerReadback {
    pub fn unreadable(server: u32, error: impl Into<String>) -> Self {
        ServerReadback { server, error: Some(error.into()), keys: BTreeMap::new(), seq: BTreeMap::new() }
    }
}

/// The file format: versioned so later changes can be detected.
#[derive(Debug, Serialize, Deserialize)]
struct ReadbackFile {
    format: u32,
    servers: Vec<ServerReadback>,
}

const FORMAT: u32 = 1;

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Write read-backs as JSON, gzip-compressed when `path` ends in `.gz`
/// (`{"format":1,"servers":[{"server":1,"error":null,"keys":{"/zkchaos/keys/k0":[3,"tok"]},"seq":{...}}]}`).
pub fn save_readbacks(path: &Path, readbacks: &[ServerReadback]) -> Result<(), RecordError> {
    let file = ReadbackFile { format: FORMAT, servers: readbacks.to_vec() };
    let json = serde_json::to_vec(&file).map_err(|source| RecordError::Parse { path: path.into(), detail: source.to_string() })?;
    let io = |source| RecordError::Write { path: path.into(), source };
    let f = std::fs::File::create(path).map_err(io)?;
    let mut w = std::io::BufWriter::new(f);
    if is_gz(path) {
        let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
        gz.write_all(&json).map_err(io)?;
        w = gz.finish().map_err(io)?;
    } else {
        w.write_all(&json).map_err(io)?;
    }
    w.flush().map_err(io)
}

/// Read what [`save_readbacks`] wrote.
pub fn load_readbacks(path: &Path) -> Result<Vec<ServerReadback>, RecordError> {
    let io = |source| RecordError::Open { path: path.into(), source };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    if is_gz(path) {
        flate2::read::GzDecoder::new(f).read_to_end(&mut bytes).map_err(io)?;
    } else {
        std::io::BufReader::new(f).read_to_end(&mut bytes).map_err(io)?;
    }
    let file: ReadbackFile =
        serde_json::from_slice(&bytes).map_err(|source| RecordError::Parse { path: path.into(), detail: source.to_string() })?;
    Ok(file.servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<ServerReadback> {
        let mut a = ServerReadback { server: 1, error: None, keys: BTreeMap::new(), seq: BTreeMap::new() };
        a.keys.insert("/zkchaos/keys/k0".into(), (3, Some("t3".into())));
        a.keys.insert("/zkchaos/keys/k1".into(), (0, None));
        a.seq.insert("/zkchaos/seq/s-0000000001".into(), Some("c1".into()));
        vec![a, ServerReadback::unreadable(2, "connect refused")]
    }

    #[test]
    fn save_load_round_trip_json_and_gz() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["readback.json", "readback.json.gz"] {
            let p = dir.path().join(name);
            save_readbacks(&p, &sample()).unwrap();
            assert_eq!(load_readbacks(&p).unwrap(), sample(), "{name}");
        }
        let e = load_readbacks(&dir.path().join("nope.json")).unwrap_err();
        assert!(e.to_string().contains("nope.json"), "{e}");
    }

}
