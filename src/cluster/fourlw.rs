//! Four-letter words: ZooKeeper's plain-text admin commands over the client port.
//!
//! The harness asks each server `srvr` (mode and zxid) to decide readiness and to feed the
//! server-mode monitor, `conf` to read the membership a server itself believes in, and `mntr`
//! at the end of a run for the digest check ([`scrape_mntr`]). A
//! four-letter word is one TCP connection: write the word, read until the server closes.
//! Every call is bounded by a timeout because a paused container's published port still accepts
//! connections (docker-proxy) and then never answers.
//!
//! Parsing is pure ([`parse_srvr`], [`parse_conf_membership`]) and unit-tested on literal outputs.

use crate::record::{Epoch, MntrScrape, ServerMode};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The text ZooKeeper answers with while it has no quorum (or is still starting).
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// Why a four-letter word got no usable answer. Callers treat every variant as "down".
#[derive(Debug, thiserror::Error)]
pub enum FourLwError {
    #[error("four-letter word `{cmd}` to {addr}: connect failed: {source}")]
    Connect { addr: SocketAddr, cmd: String, source: std::io::Error },
    #[error("four-letter word `{cmd}` to {addr}: no answer within {after:?}")]
    Timeout { addr: SocketAddr, cmd: String, after: Duration },
    #[error("four-letter word `{cmd}` to {addr}: {source}")]
    Io { addr: SocketAddr, cmd: String, source: std::io::Error },
    /// The connection closed without a byte: typically docker-proxy accepting while the JVM
    /// inside is not listening yet.
    #[error("four-letter word `{cmd}` to {addr}: connection closed without an answer")]
    Empty { addr: SocketAddr, cmd: String },
}

/// What `srvr` says about a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SrvrInfo {
    pub mode: ServerMode,
    /// Last zxid (epoch in the high 32 bits); absent when not serving.
    pub zxid: Option<u64>,
}

/// Send `cmd` (e.g. "srvr") to `addr` and return the whole answer, all within `timeout`.
pub async fn four_letter(addr: SocketAddr, cmd: &str, timeout: Duration) -> Result<String, FourLwError> {
    let fut = async {
        let mut stream = TcpStream::connect(addr)
            .await
            .map_err(|source| FourLwError::Connect { addr, cmd: cmd.to_string(), source })?;
        let io_err = |source| FourLwError::Io { addr, cmd: cmd.to_string(), source };
        stream.write_all(cmd.as_bytes()).await.map_err(io_err)?;
        let mut buf = Vec::with_capacity(512);
        stream.read_to_end(&mut buf).await.map_err(io_err)?;
        if buf.is_empty() {
            return Err(FourLwError::Empty { addr, cmd: cmd.to_string() });
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(FourLwError::Timeout { addr, cmd: cmd.to_string(), after: timeout }),
    }
}

/// `srvr` on `addr`, parsed. An error means the server did not answer (map it to `Down`).
pub async fn srvr(addr: SocketAddr, timeout: Duration) -> Result<SrvrInfo, FourLwError> {
    four_letter(addr, "srvr", timeout).await.map(|t| parse_srvr(&t))
}

/// `mntr` and `srvr` of server `id`, verbatim, for `mntr.json` (the digest check parses them at
/// analysis time). A word that gets no answer leaves its text empty and says why in `error`.
pub async fn scrape_mntr(id: u32, addr: SocketAddr, timeout: Duration, epoch: Epoch) -> MntrScrape {
    let (mntr, srvr) = (four_letter(addr, "mntr", timeout).await, four_letter(addr, "srvr", timeout).await);
    let errors: Vec<String> = [&mntr, &srvr].iter().filter_map(|r| r.as_ref().err().map(|e| e.to_string())).collect();
    let error = (!errors.is_empty()).then(|| errors.join("; "));
    let (mntr, srvr) = (mntr.ok(), srvr.ok());
    MntrScrape { server: id, at_us: epoch.now_us(), mntr, srvr, error }
}

/// Mode as seen by one `srvr` poll: errors become [`ServerMode::Down`].
pub async fn mode(addr: SocketAddr, timeout: Duration) -> ServerMode {
    match srvr(addr, timeout).await {
        Ok(info) => info.mode,
        Err(_) => ServerMode::Down,
    }
}

/// Parse a `srvr` answer. Text without a recognisable `Mode:` line (including the
/// "not currently serving requests" answer and `Mode: read-only`) is `NotServing`.
pub fn parse_srvr(text: &str) -> SrvrInfo {
    if text.contains(NOT_SERVING) {
        return SrvrInfo { mode: ServerMode::NotServing, zxid: None };
    }
    let mut mode = ServerMode::NotServing;
    let mut zxid = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("Mode:") {
            mode = match v.trim() {
                "leader" => ServerMode::Leader,
                "follower" => ServerMode::Follower,
                "observer" => ServerMode::Observer,
                "standalone" => ServerMode::Standalone,
                _ => ServerMode::NotServing,
            };
        } else if let Some(v) = line.strip_prefix("Zxid:") {
            let v = v.trim();
            let v = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")).unwrap_or(v);
            zxid = u64::from_str_radix(v, 16).ok();
        }
    }
    SrvrInfo { mode, zxid }
}

/// A server's membership as it sees it: voting voting, observers, and the config version
/// (hex zxid of the reconfig that produced it; 0 for a static config).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Membership {
    pub voting: BTreeSet<u32>,
    pub observers: BTreeSet<u32>,
    pub version: Option<u64>,
    /// The `server.N=...` lines verbatim, in the order given (what a joiner is started with).
    pub lines: Vec<String>,
}

impl Membership {
    /// Every member, voting or not.
    pub fn all(&self) -> BTreeSet<u32> {
        self.voting.union(&self.observers).copied().collect()
    }
}

/// Parse membership from either `conf` output (its `membership:` section) or the contents of
/// `/zookeeper/config` / a dynamic config file: every `server.N=...` line and `version=`.
/// Returns `None` when no server line is present (a standalone server lists none).
pub fn parse_conf_membership(text: &str) -> Option<Membership> {
    let mut m = Membership::default();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("server.") {
            let Some((id, spec)) = rest.split_once('=') else { continue };
            let Ok(id) = id.trim().parse::<u32>() else { continue };
            // host:quorum:election[:role][;client]
            let quorum_part = spec.split(';').next().unwrap_or("");
            let role = quorum_part.rsplit(':').next().unwrap_or("");
            if role == "observer" {
                m.observers.insert(id);
            } else {
                m.voting.insert(id);
            }
            m.lines.push(line.to_string());
        } else if let Some(v) = line.strip_prefix("version=") {
            m.version = u64::from_str_radix(v.trim(), 16).ok();
        }
    }
    if m.lines.is_empty() {
        None
    } else {
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEADER: &str = "Zookeeper version: 3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, built on 2022-02-25 08:49 UTC\n\
Latency min/avg/max: 0/0.0/0\nReceived: 3\nSent: 2\nConnections: 1\nOutstanding: 0\n\
Zxid: 0x100000002\nMode: leader\nNode count: 5\nProposal sizes last/min/max: 36/36/36\n";

    #[test]
    fn srvr_leader_with_zxid() {
        let i = parse_srvr(LEADER);
        assert_eq!(i.mode, ServerMode::Leader);
        assert_eq!(i.zxid, Some(0x1_0000_0002));
    }

    #[test]
    fn srvr_other_modes() {
        for (word, mode) in [
            ("follower", ServerMode::Follower),
            ("observer", ServerMode::Observer),
            ("standalone", ServerMode::Standalone),
            ("read-only", ServerMode::NotServing),
        ] {
            let t = format!("Zookeeper version: 3.8.0\nZxid: 0x0\nMode: {word}\nNode count: 4\n");
            let i = parse_srvr(&t);
            assert_eq!(i.mode, mode, "{word}");
            assert_eq!(i.zxid, Some(0));
        }
    }

    #[test]
    fn srvr_not_serving() {
        let i = parse_srvr("This ZooKeeper instance is not currently serving requests\n");
        assert_eq!(i, SrvrInfo { mode: ServerMode::NotServing, zxid: None });
        assert_eq!(parse_srvr("garbage").mode, ServerMode::NotServing);
    }

    #[test]
    fn conf_membership_dynamic() {
        let conf = "clientPort=2181\nsecureClientPort=-1\ndataDir=/zkchaos/data/version-2\n\
serverId=1\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3888\nquorumPort=2888\npeerType=0\n\
membership: \nserver.1=zk1:2888:3888:participant;0.0.0.0:2181\n\
server.2=zk2:2888:3888:participant;0.0.0.0:2181\nserver.4=zk4:2888:3888:observer;0.0.0.0:2181\n\
version=100000003\n";
        let m = parse_conf_membership(conf).unwrap();
        assert_eq!(m.voting, [1, 2].into());
        assert_eq!(m.observers, [4].into());
        assert_eq!(m.all(), [1, 2, 4].into());
        assert_eq!(m.version, Some(0x1_0000_0003));
        assert_eq!(m.lines.len(), 3);
        assert_eq!(m.lines[0], "server.1=zk1:2888:3888:participant;0.0.0.0:2181");
    }

    #[test]
    fn conf_membership_static_and_standalone() {
        let m = parse_conf_membership("server.1=zk1:2888:3888\nserver.3=zk3:2888:3888:participant\nversion=0\n").unwrap();
        assert_eq!(m.voting, [1, 3].into());
        assert_eq!(m.version, Some(0));
        assert!(parse_conf_membership("clientPort=2181\ndataDir=/zkchaos/data\n").is_none());
    }

    #[tokio::test]
    async fn refused_and_empty_are_errors() {
        // A listener that accepts and closes at once: "empty".
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            if let Ok((s, _)) = l.accept().await {
                drop(s);
            }
        });
        let e = four_letter(addr, "srvr", Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(e, FourLwError::Empty { .. } | FourLwError::Io { .. }), "{e}");
        // Nothing listening: connect error.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let e = four_letter(addr, "srvr", Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(e, FourLwError::Connect { .. }), "{e}");
        assert_eq!(mode(addr, Duration::from_millis(200)).await, ServerMode::Down);
    }
}
