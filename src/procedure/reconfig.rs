//! Reconfig-based expansion (ZooKeeper 3.5+ dynamic configuration).
//!
//! Servers run with `reconfigEnabled=true`, `standaloneEnabled=false` and a dynamic file, so even
//! a single server can grow. For each joiner: read the *committed* configuration from
//! `/zookeeper/config`, start the joiner with those member lines plus its own, wait until it has
//! synced as a (non-voting) follower, then `reconfig -add` it through an administrative session
//! authenticated as `super` (or on servers running with `skipACL=yes`). `together` adds all
//! joiners in one reconfig; `one-by-one` does one per joiner, re-reading the committed config each
//! time (a joiner lists at most one new participant besides the committed set). A failed reconfig
//! (`ReconfigInProgress`, `NewConfigNoQuorum`, a timeout, ...) is retried with exponential backoff;
//! every attempt is its own mark carrying the error. After the last reconfig one quorum write is
//! issued, because committed is not yet active (ZOOKEEPER.md). The strategy is a runbook
//! ([`super::runbooks`]); this module keeps the parsing of `/zookeeper/config`.

use crate::cluster::config::line_id;

/// Split `/zookeeper/config` contents into member lines and the version.
pub fn parse_config(text: &str) -> (Vec<String>, String) {
    let members = text.lines().map(str::trim).filter(|l| line_id(l).is_some()).map(String::from).collect();
    let version = text.lines().find_map(|l| l.trim().strip_prefix("version=")).unwrap_or("").to_string();
    (members, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zookeeper_config_node() {
        let text = "server.1=zk1:2888:3888:participant;0.0.0.0:2181\nserver.2=zk2:2888:3888:participant;0.0.0.0:2181\nversion=100000003";
        let (members, version) = parse_config(text);
        assert_eq!(members.len(), 2);
        assert_eq!(line_id(&members[1]), Some(2));
        assert_eq!(version, "100000003");
    }
}
