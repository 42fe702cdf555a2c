//! The digest oracle: ZooKeeper's own data-tree digest (on by default since 3.6,
//! `zookeeper.digest.enabled`). The leader attaches its data tree's digest to every transaction;
//! a learner that applies it and computes another digest logs "Digests are not matching" and
//! counts it in `zk_digest_mismatches_count` (`mntr`). A count above 0 on any server means that
//! server's data diverged from the leader's at some transaction: FAIL, naming the server.
//!
//! Input is `mntr.json` (the verbatim `mntr` and `srvr` answers of every serving server, taken
//! after the read-back). Per server: the count present and 0 → PASS; above 0 → FAIL; the field
//! absent, the server not serving, or no answer → UNKNOWN for that server, never PASS. The
//! counter is cumulative since that server's JVM started, so a server restarted during the run
//! has forgotten mismatches of its earlier incarnation (its log still has them).

use super::{fmt_ids, Verdict};
use crate::record::MntrScrape;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `mntr` key counted.
pub const MISMATCH_KEY: &str = "zk_digest_mismatches_count";

/// `mntr`'s `zk_<key>\t<value>` lines as a map (other lines ignored).
pub fn parse_mntr(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(k, _)| k.starts_with("zk_"))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// `srvr`'s `Zxid: 0x…` (as printed).
fn srvr_zxid(text: &str) -> Option<String> {
    text.lines().find_map(|l| l.strip_prefix("Zxid:")).map(|z| z.trim().to_string())
}

/// One server's digest evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestServer {
    pub verdict: Verdict,
    /// `zk_digest_mismatches_count`, if reported.
    pub mismatches: Option<u64>,
    /// `zk_server_state`: `leader`, `follower`, `observer`, `standalone`.
    pub state: Option<String>,
    /// The last zxid (`srvr`'s `Zxid:`; `mntr` has none in 3.8/3.9), e.g. `0x200000a3f`.
    pub zxid: Option<String>,
    /// `zk_znode_count` (compare across servers: equal at one zxid).
    pub znode_count: Option<u64>,
    /// `zk_version`.
    pub version: Option<String>,
    /// Every other `mntr` key with `digest` in its name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest_fields: BTreeMap<String, String>,
    /// Why UNKNOWN (or what was found).
    pub note: String,
}

/// The digest check over every server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestReport {
    pub verdict: Verdict,
    pub detail: String,
    /// `zk<N>` → its evidence.
    pub per_server: BTreeMap<String, DigestServer>,
}

/// Judge one server's scrape.
pub fn judge_server(s: &MntrScrape) -> DigestServer {
    let fields = s.mntr.as_deref().map(parse_mntr).unwrap_or_default();
    let num = |k: &str| fields.get(k).and_then(|v| v.parse::<u64>().ok());
    let mismatches = num(MISMATCH_KEY);
    let (verdict, note) = match (&s.mntr, mismatches, &s.error) {
        (_, Some(0), _) => (Verdict::Pass, "no digest mismatch".to_string()),
        (_, Some(n), _) => (Verdict::Fail, format!("{n} transactions whose digest differed from the leader's")),
        (None, None, Some(e)) => (Verdict::Unknown, format!("not read: {e}")),
        (None, None, None) => (Verdict::Unknown, "not read".to_string()),
        (Some(t), None, _) if t.contains("not currently serving") => {
            (Verdict::Unknown, "not serving at the scrape: no metrics".to_string())
        }
        (Some(_), None, _) if fields.contains_key(MISMATCH_KEY) => {
            (Verdict::Unknown, format!("{MISMATCH_KEY} is not a count: {:?}", fields[MISMATCH_KEY]))
        }
        (Some(_), None, _) => {
            (Verdict::Unknown, format!("mntr has no {MISMATCH_KEY} (a release without the digest metric?)"))
        }
    };
    DigestServer {
        verdict,
        mismatches,
        state: fields.get("zk_server_state").cloned(),
        zxid: s.srvr.as_deref().and_then(srvr_zxid),
        znode_count: num("zk_znode_count"),
        version: fields.get("zk_version").cloned(),
        digest_fields: fields.iter().filter(|(k, _)| k.contains("digest") && *k != MISMATCH_KEY).map(|(k, v)| (k.clone(), v.clone())).collect(),
        note,
    }
}

/// Judge every scrape; `None` when `mntr.json` was not stored.
pub fn judge(scrapes: Option<&[MntrScrape]>) -> DigestReport {
    let Some(scrapes) = scrapes else {
        return DigestReport {
            verdict: Verdict::Unknown,
            detail: "mntr.json missing (the run ended before the scrape, or was made before zkchaos scraped mntr): digests not checked".into(),
            per_server: BTreeMap::new(),
        };
    };
    let per_id: BTreeMap<u32, DigestServer> = scrapes.iter().map(|s| (s.server, judge_server(s))).collect();
    let with = |v: Verdict| per_id.iter().filter(|(_, d)| d.verdict == v).map(|(id, _)| *id).collect::<Vec<u32>>();
    let (fail, unknown, pass) = (with(Verdict::Fail), with(Verdict::Unknown), with(Verdict::Pass));
    // No server scraped decides nothing.
    let verdict =
        if per_id.is_empty() { Verdict::Unknown } else { Verdict::combine_all(per_id.values().map(|d| d.verdict)) };
    let detail = if per_id.is_empty() {
        "no server was scraped: digests not checked".to_string()
    } else if !fail.is_empty() {
        let parts: Vec<String> =
            fail.iter().map(|id| format!("zk{id}: {}", per_id[id].mismatches.unwrap_or(0))).collect();
        format!("DIGEST MISMATCH: a server's data tree diverged from the leader's ({}; {MISMATCH_KEY})", parts.join(", "))
    } else if !unknown.is_empty() {
        let parts: Vec<String> = unknown.iter().map(|id| format!("zk{id}: {}", per_id[id].note)).collect();
        let passed = if pass.is_empty() { String::new() } else { format!("; 0 mismatches on {}", fmt_ids(&pass)) };
        format!("not judged on every server ({}){passed}", parts.join("; "))
    } else {
        format!("0 digest mismatches on servers {}", fmt_ids(&pass))
    };
    let per_server = per_id.into_iter().map(|(id, d)| (format!("zk{id}"), d)).collect();
    DigestReport { verdict, detail, per_server }
}

#[cfg(test)]
#[path = "digest_tests.rs"]
mod tests;
