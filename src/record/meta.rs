//! `meta.json`: where and with what a run was made, so a result can be judged years later.
//!
//! The orchestrator fills in what only it knows (image id, ZooKeeper and Docker versions, the
//! epoch's wall-clock time); [`RunMeta::new`] fills in what the process can find out itself.

use serde::{Deserialize, Serialize};

/// Contents of `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// Version of `meta.json`'s layout.
    pub schema_version: u32,
    /// Short id of the run (also the `zkchaos.run` Docker label).
    pub run_id: String,
    pub zkchaos_version: String,
    /// `git rev-parse HEAD` of the zkchaos source, if known (`-dirty` appended when modified).
    #[serde(default)]
    pub git_commit: Option<String>,
    /// Image name as given in the plan.
    #[serde(default)]
    pub image: String,
    /// Docker image id (`sha256:...`).
    #[serde(default)]
    pub image_id: Option<String>,
    /// The ZooKeeper version: from the running servers' `srvr` ("Zookeeper version: 3.9.3-..."),
    /// or the image's label when no server answered (see `zookeeper_version_source`).
    #[serde(default)]
    pub zookeeper_version: Option<String>,
    /// `srvr` (asked of a running server) or `image label`.
    #[serde(default)]
    pub zookeeper_version_source: Option<String>,
    #[serde(default)]
    pub docker_version: Option<String>,
    pub host: HostInfo,
    /// Wall-clock time of the run's epoch (time 0 of every recorded `*_us`), RFC 3339 UTC.
    pub started_at: String,
    /// The same instant in milliseconds since the Unix epoch.
    pub epoch_unix_ms: i64,
    /// The command line, for reproduction.
    #[serde(default)]
    pub command_line: Vec<String>,
    /// Where every server ran: its engine and client address (all clocks are the control
    /// node's: marks and events are stamped here, never on the engines' hosts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<ServerPlacement>,
    /// The models the run's figures were produced under (absent in runs made before they were
    /// recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<RunModels>,
    /// The seeds of the hunt that ran this runbook (`zkchaos hunt`; absent for any other run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hunt: Option<HuntSeeds>,
}

/// Where a hunt's runbook came from: what `zkchaos hunt` hands the runner so that `meta.json`
/// says, from its first write, how to draw the same schedule again (docs/hunt.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuntSeeds {
    /// The hunt profile (fault space) or runbook the hunt was given, as given.
    pub source: String,
    pub hunt_seed: u64,
    /// 1-based trial number (for a shrink candidate: the failing trial it was reduced from).
    pub trial: u32,
    /// SplitMix64 of the hunt seed and the trial index: the seed of the trial's schedule.
    pub trial_seed: u64,
    /// The load mix's seed (the runbook's top-level `seed`).
    pub load_seed: u64,
    /// The runbook file, relative to the hunt's directory (`schedules/trial-001.toml`).
    pub runbook: String,
}

/// What a stopped server, a server JVM and a client are in this run: every figure is produced
/// under these models and is labelled with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunModels {
    /// `process` (a stopped server's address refuses connects) or `host` (its address goes silent).
    pub stop_model: String,
    /// What peers and clients see of a stopped server under `stop_model`, in words.
    pub stop_model_detail: String,
    /// JVM options given to every server besides the heap (`[]`: stock JVMs).
    pub jvm_flags: Vec<String>,
    /// The client library and its reconnect behaviour, in words.
    pub client_model: String,
}

impl RunModels {
    /// `stop model process · JVM stock · reconnect = client` (the subtitle, console and report
    /// form; the client model's full text is in the summary).
    pub fn short(&self) -> String {
        let jvm = if self.jvm_flags.is_empty() { "stock".to_string() } else { self.jvm_flags.join(" ") };
        let client = self.client_model.split(':').next().unwrap_or_default();
        format!("stop model {} · JVM {jvm} · {client}", self.stop_model)
    }
}

/// One server's engine and address in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerPlacement {
    pub id: u32,
    /// `local`, or the name of a listed engine.
    pub engine: String,
    /// The client address zkchaos used (`127.0.0.1:<published port>` or `<engine address>:<port>`).
    pub client_address: String,
}

/// The machine the run was made on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HostInfo {
    #[serde(default)]
    pub hostname: Option<String>,
    pub cores: u32,
    /// `MemTotal` from /proc/meminfo, bytes.
    #[serde(default)]
    pub memory_bytes: Option<u64>,
    pub os: String,
    pub arch: String,
    /// 1, 5 and 15-minute load averages when the run started (/proc/loadavg): a run made while
    /// something else loaded the host measures the host.
    #[serde(default)]
    pub load_average: Option<[f64; 3]>,
}

impl RunMeta {
    /// Meta for a run starting at `epoch_unix_ms`; image fields empty until the caller sets them.
    pub fn new(run_id: &str, epoch_unix_ms: i64) -> RunMeta {
        let started_at = chrono::DateTime::from_timestamp_millis(epoch_unix_ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        RunMeta {
            schema_version: 1,
            run_id: run_id.to_string(),
            zkchaos_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
            image: String::new(),
            image_id: None,
            zookeeper_version: None,
            zookeeper_version_source: None,
            docker_version: None,
            host: HostInfo::detect(),
            started_at,
            epoch_unix_ms,
            command_line: std::env::args().collect(),
            servers: Vec::new(),
            models: None,
            hunt: None,
        }
    }
}

impl HostInfo {
    pub fn detect() -> HostInfo {
        HostInfo {
            hostname: std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|s| s.trim().to_string()),
            cores: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(0),
            memory_bytes: std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| parse_mem_total(&s)),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            load_average: std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| parse_loadavg(&s)),
        }
    }
}

/// `0.52 0.58 0.59 1/467 12345` → [0.52, 0.58, 0.59].
fn parse_loadavg(text: &str) -> Option<[f64; 3]> {
    let mut it = text.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// `MemTotal:  16303412 kB` → bytes.
fn parse_mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The commit zkchaos was built from: `ZKCHAOS_GIT_COMMIT` at build time, else asked of git
/// when the binary runs from its own checkout.
fn git_commit() -> Option<String> {
    if let Some(c) = option_env!("ZKCHAOS_GIT_COMMIT") {
        return Some(c.to_string());
    }
    let dir = env!("CARGO_MANIFEST_DIR");
    if !std::path::Path::new(dir).join(".git").exists() {
        return None;
    }
    let out = std::process::Command::new("git").args(["-C", dir, "rev-parse", "HEAD"]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let mut commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dirty = std::process::Command::new("git")
        .args(["-C", dir, "status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|o| o.status.success() && !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        commit.push_str("-dirty");
    }
    Some(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_parses() {
        assert_eq!(parse_mem_total("MemTotal:       2048 kB\nMemFree: 1 kB\n"), Some(2048 * 1024));
    }

    #[test]
    fn loadavg_parses() {
        assert_eq!(parse_loadavg("0.52 1.50 2.00 1/467 12345\n"), Some([0.52, 1.5, 2.0]));
        assert_eq!(parse_loadavg("garbage"), None);
    }

    #[test]
    fn hunt_seeds_are_written_under_hunt_and_absent_from_other_runs() {
        let mut m = RunMeta::new("abc123", 0);
        let plain = serde_json::to_value(&m).unwrap();
        assert!(plain.get("hunt").is_none(), "{plain:#}");
        m.hunt = Some(HuntSeeds {
            source: "profiles/hunt-reconfig.toml".into(),
            hunt_seed: 7,
            trial: 2,
            trial_seed: 16_616_101_746_815_609_346,
            load_seed: 9_106_362_573_669_986_634,
            runbook: "schedules/trial-002.toml".into(),
        });
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v["hunt"],
            serde_json::json!({"source": "profiles/hunt-reconfig.toml", "hunt_seed": 7, "trial": 2, "trial_seed": 16_616_101_746_815_609_346u64, "load_seed": 9_106_362_573_669_986_634u64, "runbook": "schedules/trial-002.toml"})
        );
        assert_eq!(serde_json::from_value::<RunMeta>(v).unwrap(), m);
    }

    #[test]
    fn new_meta_has_host_and_time() {
        let m = RunMeta::new("abc123", 0);
        assert_eq!(m.started_at, "1970-01-01T00:00:00.000Z");
        assert!(m.host.cores >= 1);
    }
}
