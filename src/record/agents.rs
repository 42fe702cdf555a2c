//! What a run with load agents stored about each agent (`agents.json`, written by
//! `crate::agents::run`): read back here, as the subset the summary reports, so that the report
//! layer can list the agents without depending on the layer that ran them.

use super::load::read_json;
use super::RecordError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One agent's share of the run: where it ran, what it was given, what was recorded from it.
/// `crate::agents::AgentAccount` (which writes `agents.json`) flattens it, so the two layers
/// share one definition of these fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentShare {
    pub index: u32,
    /// Engine name (`local` for the default engine).
    pub engine: String,
    /// Its share of the rate, ops/s, and its sessions.
    pub rate: u32,
    pub sessions: u32,
    /// Operations recorded from it, by outcome.
    pub ops: u64,
    pub ok: u64,
    pub fail: u64,
    pub indeterminate: u64,
}

/// One agent as its `agents.json` entry says: its share and how it ended (`finished`, `lost` or
/// `failed`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedAgent {
    #[serde(flatten)]
    pub share: AgentShare,
    pub status: String,
}

#[derive(Deserialize)]
struct AgentsFile {
    agents: Vec<RecordedAgent>,
}

/// The agents of `agents.json`.
pub fn load_agents(path: &Path) -> Result<Vec<RecordedAgent>, RecordError> {
    Ok(read_json::<AgentsFile>(path)?.agents)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape `crate::agents::run` writes (an `Accounts`, status flattened as a tag).
    #[test]
    fn reads_the_accounts_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(super::super::files::AGENTS_FILE);
        std::fs::write(
            &path,
            r#"{"agents":[
              {"index":0,"engine":"th1","container":"zkchaos-ab12-agent0","rate":500,"sessions":5,"ops":10118,"ok":10118,"fail":0,"indeterminate":0,
               "lag":{"count":10118,"p50":120,"p99":1900,"p999":2500,"max":4100},"issued":10118,"threads":[],"status":"finished"},
              {"index":1,"engine":"th2","container":"zkchaos-ab12-agent1","rate":500,"sessions":5,"ops":4000,"ok":3990,"fail":0,"indeterminate":10,
               "lag":{"count":4000,"p50":120,"p99":1900,"p999":2500,"max":4100},"issued":null,"threads":[],
               "status":"lost","at_us":9000000,"last_event_us":8000000,"detail":"stream ended"}],
             "total_ops":14118,"incomplete":1}"#,
        )
        .unwrap();
        let agents = load_agents(&path).unwrap();
        assert_eq!(agents.len(), 2);
        assert_eq!((agents[0].share.ops, agents[0].status.as_str()), (10118, "finished"));
        assert_eq!((agents[1].share.engine.as_str(), agents[1].status.as_str(), agents[1].share.indeterminate), ("th2", "lost", 10));
    }
}
