//! `mntr.json`: what every serving server answered to `mntr` (and `srvr`) at the end of the run,
//! verbatim, so the digest check ([`crate::check::digest`]) parses it at analysis time and
//! `zkchaos analyze` re-judges it from the file.

use super::RecordError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File name in the run directory.
pub use super::files::MNTR_FILE;

/// One server's answers, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MntrScrape {
    pub server: u32,
    /// When the scrape finished, µs since the epoch.
    pub at_us: u64,
    /// The `mntr` answer, verbatim (`zk_<key>\t<value>` lines, or "not currently serving").
    #[serde(default)]
    pub mntr: Option<String>,
    /// The `srvr` answer, verbatim (it carries the zxid, which `mntr` does not).
    #[serde(default)]
    pub srvr: Option<String>,
    /// Why a word got no answer (connect refused, timeout), if one did not.
    #[serde(default)]
    pub error: Option<String>,
}

/// Write `mntr.json` atomically.
pub fn save_mntr(path: &Path, scrapes: &[MntrScrape]) -> Result<(), RecordError> {
    let mut text = serde_json::to_string_pretty(scrapes)
        .map_err(|source| RecordError::Serialize { what: MNTR_FILE.into(), source })?;
    text.push('\n');
    super::write_atomic(path, text.as_bytes())
}

/// Read `mntr.json`.
pub fn load_mntr(path: &Path) -> Result<Vec<MntrScrape>, RecordError> {
    super::load::read_json(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(MNTR_FILE);
        let v = vec![
            MntrScrape { server: 1, at_us: 5, mntr: Some("zk_digest_mismatches_count\t0\n".into()), srvr: None, error: None },
            MntrScrape { server: 2, at_us: 6, mntr: None, srvr: None, error: Some("connect refused".into()) },
        ];
        save_mntr(&path, &v).unwrap();
        assert_eq!(load_mntr(&path).unwrap(), v);
        // Fields added later default.
        let old: Vec<MntrScrape> = serde_json::from_str(r#"[{"server":3,"at_us":1}]"#).unwrap();
        assert_eq!(old[0].mntr, None);
    }
}
