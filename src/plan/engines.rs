//! Where servers run: the Docker engines of a profile (`[[cluster.engines]]`) and the placement
//! rule that puts server N on one of them.
//!
//! No engines listed (the default) means one engine, the local one named by `DOCKER_HOST`, with
//! servers on a per-run bridge network and client ports published on 127.0.0.1. With engines
//! listed, every server runs with host networking on its engine and is reached at that engine's
//! `address`; nothing assumes an engine is on this machine.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One Docker engine a profile may place servers on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnginePlan {
    /// Short name used by `cluster.placement` and in messages (e.g. "th1").
    pub name: String,
    /// `unix:///path/docker.sock`, `tcp://host:port` (TLS when `tls_ca` is set) or
    /// `ssh://user@host`.
    pub endpoint: String,
    /// IP address at which the control node and the other engines' servers reach servers on
    /// this engine (its host's address).
    pub address: String,
    /// TLS for `tcp://` endpoints: CA certificate, client certificate and key (PEM files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<String>,
    /// Free-form labels describing the engine (recorded in the plan, e.g. rack = "a").
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl EnginePlan {
    /// An engine with no TLS and no labels.
    pub fn new(name: &str, endpoint: &str, address: &str) -> EnginePlan {
        EnginePlan {
            name: name.into(),
            endpoint: endpoint.into(),
            address: address.into(),
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            labels: BTreeMap::new(),
        }
    }
}

/// Server `id`'s engine index in `engines` under `placement`: entry `id - 1` of `placement`
/// names it when present; otherwise round robin (server 1 on the first engine, server 2 on the
/// second, ...). `None` when no engines are listed.
pub fn engine_index(engines: &[EnginePlan], placement: &[String], id: u32) -> Option<usize> {
    if engines.is_empty() || id == 0 {
        return None;
    }
    if let Some(name) = placement.get(id as usize - 1) {
        if let Some(i) = engines.iter().position(|e| &e.name == name) {
            return Some(i);
        }
    }
    Some((id as usize - 1) % engines.len())
}

/// Ports of server `id` under host networking: several servers may share an engine's host, so
/// each id has its own client, quorum and election port (server 1 keeps ZooKeeper's defaults
/// 2181/2888/3888, server N adds N - 1).
pub fn host_ports(id: u32) -> (u16, u16, u16) {
    let off = id.saturating_sub(1).min(999) as u16;
    (2181 + off, 2888 + off, 3888 + off)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(name: &str) -> EnginePlan {
        EnginePlan::new(name, &format!("unix:///run/{name}/docker.sock"), "10.0.0.1")
    }

    #[test]
    fn round_robin_by_default_and_explicit_entries_win() {
        let e = vec![engine("a"), engine("b"), engine("c")];
        let got: Vec<usize> = (1..=5).map(|id| engine_index(&e, &[], id).unwrap()).collect();
        assert_eq!(got, vec![0, 1, 2, 0, 1]);
        let placement = vec!["c".to_string(), "c".to_string()];
        let got: Vec<usize> = (1..=5).map(|id| engine_index(&e, &placement, id).unwrap()).collect();
        assert_eq!(got, vec![2, 2, 2, 0, 1]);
        assert_eq!(engine_index(&[], &[], 1), None);
    }

    #[test]
    fn ports_differ_per_server() {
        assert_eq!(host_ports(1), (2181, 2888, 3888));
        assert_eq!(host_ports(5), (2185, 2892, 3892));
    }
}
