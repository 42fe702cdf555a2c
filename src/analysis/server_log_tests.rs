//! Tests of [`super`] on literal lines shaped as the two images print them.

use super::*;

/// zkchaos's Debian image (slf4j-simple, `showDateTime`, `yyyy-MM-dd HH:mm:ss.SSS`): lines
/// copied from a rolling 3 → 5 on 3.8.0 (run e52355, zk1, zk2, zk4, zk5), plus the 3.8.x sync
/// NPE shaped as docs/ZOOKEEPER.md quotes it.
const SIMPLE: &str = "\
2026-12-07 10:48:43.542 [main] INFO org.apache.zookeeper.server.quorum.QuorumPeerConfig - Reading configuration from: /cfg/zoo.cfg
2026-12-07 10:48:43.564 [main] WARN org.apache.zookeeper.server.quorum.QuorumPeerMain - Either no config or no quorum defined in config, running in standalone mode
log4j:WARN No appenders could be found for logger (org.apache.log4j.jmx.HierarchyDynamicMBean).
2026-12-07 10:49:01.100 [QuorumPeer[myid=1](plain=0.0.0.0:2181)(secure=disabled)] INFO org.apache.zookeeper.server.quorum.Learner - FOLLOWING - LEADER ELECTION TOOK - 5409 MS
2026-12-07 10:49:01.250 [QuorumPeer[myid=2](plain=0.0.0.0:2181)(secure=disabled)] WARN org.apache.zookeeper.server.quorum.Learner - Got zxid 0x100000001 expected 0x1
2026-12-07 10:49:01.251 [QuorumPeer[myid=2](plain=0.0.0.0:2181)(secure=disabled)] WARN org.apache.zookeeper.server.quorum.Learner - Got zxid 0x100000196 expected 0x1
2026-12-07 10:49:02.000 [QuorumPeer[myid=2](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled)] WARN org.apache.zookeeper.server.quorum.Follower - Exception when following the leader
java.lang.NullPointerException: Cannot read field \"hdr\" because \"pif\" is null
\tat org.apache.zookeeper.server.quorum.Learner.syncWithLeader(Learner.java:646)
\tat org.apache.zookeeper.server.quorum.Follower.followLeader(Follower.java:108)
\tat org.apache.zookeeper.server.quorum.QuorumPeer.run(QuorumPeer.java:1522)
2026-12-07 10:49:02.010 [SyncThread:5] ERROR org.apache.zookeeper.server.ZooKeeperCriticalThread - Severe unrecoverable error, from thread : SyncThread:5
java.lang.NullPointerException: Cannot invoke \"java.net.Socket.isClosed()\" because \"this.learner.sock\" is null
\tat org.apache.zookeeper.server.quorum.SendAckRequestProcessor.flush(SendAckRequestProcessor.java:67)
\tat org.apache.zookeeper.server.SyncRequestProcessor.flush(SyncRequestProcessor.java:248)
\tat org.apache.zookeeper.server.SyncRequestProcessor.run(SyncRequestProcessor.java:169)
2026-12-07 10:49:03.000 [QuorumConnectionThread-[myid=4]-4] WARN org.apache.zookeeper.server.quorum.QuorumCnxManager - Cannot open channel to 5 at election address zk5/172.19.0.6:3888
java.net.ConnectException: Connection refused
\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)
\tat java.base/sun.nio.ch.Net.pollConnectNow(Net.java:684)
\tat java.base/sun.nio.ch.NioSocketImpl.timedFinishConnect(NioSocketImpl.java:547)
\tat java.base/sun.nio.ch.NioSocketImpl.connect(NioSocketImpl.java:602)
\tat java.base/java.net.SocksSocketImpl.connect(SocksSocketImpl.java:351)
\tat java.base/java.net.Socket.connect(Socket.java:633)
\tat org.apache.zookeeper.server.quorum.QuorumCnxManager.initiateConnection(QuorumCnxManager.java:384)
\tat org.apache.zookeeper.server.quorum.QuorumCnxManager$QuorumConnectionReqThread.run(QuorumCnxManager.java:458)
\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)
2026-12-07 10:49:03.500 [QuorumConnectionThread-[myid=4]-4] WARN org.apache.zookeeper.server.quorum.QuorumCnxManager - Cannot open channel to 3 at election address zk3/172.19.0.4:3888
java.net.ConnectException: Connection refused
\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)
\tat java.base/sun.nio.ch.Net.pollConnectNow(Net.java:684)
\tat org.apache.zookeeper.server.quorum.QuorumCnxManager.initiateConnection(QuorumCnxManager.java:384)
2026-12-07 10:49:04.000 [RecvWorker:3] WARN org.apache.zookeeper.server.quorum.QuorumCnxManager - Connection broken for id 3, my id = 1
java.io.EOFException
\tat java.base/java.io.DataInputStream.readInt(DataInputStream.java:386)
";

/// The official image: logback (3.8+, abbreviated packages) and log4j (3.5–3.7, class only).
const OFFICIAL: &str = "\
2024-01-01 12:00:00,123 [myid:1] - WARN  [QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled):o.a.z.s.q.Learner@123] - Got zxid 0x100000003 expected 0x1
2024-01-01 12:00:00,456 [myid:1] - INFO  [QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled):o.a.z.s.q.Leader@581] - LEADING - LEADER ELECTION TOOK - 212 MS
2024-01-01 12:00:01,000 [myid:1] - ERROR [LearnerHandler-/172.18.0.4:41234:o.a.z.s.q.LearnerHandler@714] - Unexpected exception causing shutdown while sock still open
2019-03-04 10:00:00,999 [myid:2] - WARN  [QuorumPeer[myid=2]/0.0.0.0:2181:Learner@387] - Got zxid 0x200000001 expected 0x1
";

#[test]
fn parses_slf4j_simple_lines() {
    let l = parse_line(SIMPLE.lines().nth(4).unwrap()).unwrap();
    assert_eq!(l.level, "WARN");
    assert_eq!(l.logger, "org.apache.zookeeper.server.quorum.Learner");
    assert_eq!(l.message, "Got zxid 0x100000001 expected 0x1");
    assert_eq!(l.at.to_string(), "2026-12-07 10:49:01.250");
    let l = parse_line(SIMPLE.lines().nth(6).unwrap()).unwrap();
    assert_eq!((l.level, l.logger), ("WARN", "org.apache.zookeeper.server.quorum.Follower"));
    assert!(parse_line("log4j:WARN No appenders could be found").is_none());
    assert!(parse_line("\tat org.apache.zookeeper.server.quorum.Learner.syncWithLeader(Learner.java:646)").is_none());
}

#[test]
fn parses_logback_and_log4j_lines() {
    let lines: Vec<LogLine> = OFFICIAL.lines().map(|l| parse_line(l).unwrap()).collect();
    assert_eq!(lines[0].level, "WARN");
    assert_eq!(lines[0].logger, "o.a.z.s.q.Learner");
    assert_eq!(lines[0].message, "Got zxid 0x100000003 expected 0x1");
    assert_eq!(lines[0].at.to_string(), "2024-01-01 12:00:00.123");
    assert_eq!(lines[1].level, "INFO");
    assert_eq!(lines[2].logger, "o.a.z.s.q.LearnerHandler");
    assert_eq!(lines[3].logger, "Learner");
    assert!(lines.iter().all(|l| is_quorum_logger(l.logger)));
    assert!(!is_quorum_logger("org.apache.zookeeper.server.NIOServerCnxn"));
    assert!(!is_quorum_logger("NIOServerCnxn"));
}

#[test]
fn normalises_numbers_zxids_and_addresses() {
    assert_eq!(normalise("Got zxid 0x100000003 expected 0x1"), "Got zxid 0x# expected 0x#");
    assert_eq!(normalise("Got zxid 0x10000004f expected 0x1"), normalise("Got zxid 0x100000003 expected 0x1"));
    assert_eq!(
        normalise("Cannot open channel to 4 at election address zk4/172.18.0.6:3888"),
        "Cannot open channel to # at election address zk#/#.#.#.#:#"
    );
    assert_eq!(normalise("Truncating log to get in sync with the leader 1000000a3"), "Truncating log to get in sync with the leader #");
    assert_eq!(normalise("Session 0x1000053c8ce0000 expired"), "Session 0x# expired");
    assert!(normalise(&"x".repeat(500)).chars().count() <= 160);
}

#[test]
fn counts_levels_classes_and_exceptions() {
    // Epoch 2026-12-07 10:49:00.000 UTC.
    let epoch = 1_796_640_540_000;
    let s = scan_text(SIMPLE, Some(epoch));
    assert_eq!(s.statements, 10);
    assert_eq!(s.by_level["INFO"], 2);
    assert_eq!(s.by_level["WARN"], 7);
    assert_eq!(s.by_level["ERROR"], 1);
    assert_eq!(s.exceptions, 5);
    assert_eq!(s.quorum_warn_error, 7);
    let class = |c: &str| s.top.iter().find(|x| x.class == c).unwrap_or_else(|| panic!("{c} not in {:#?}", s.top));
    let zxid = class("Learner: Got zxid 0x# expected 0x#");
    assert_eq!((zxid.level.as_str(), zxid.count, zxid.quorum), ("WARN", 2, true));
    assert_eq!(zxid.first_at_ms, Some(1250.0));
    assert_eq!(zxid.first_at, "2026-12-07 10:49:01.250");
    assert_eq!(zxid.example, "Got zxid 0x100000001 expected 0x1");
    let npe = class("java.lang.NullPointerException at Learner.syncWithLeader");
    assert_eq!((npe.level.as_str(), npe.count, npe.logger.as_str(), npe.quorum), ("EXCEPTION", 1, "Follower", true));
    let sync = class("java.lang.NullPointerException at SendAckRequestProcessor.flush");
    assert_eq!((sync.logger.as_str(), sync.quorum, sync.first_at_ms), ("ZooKeeperCriticalThread", false, Some(2010.0)));
    // A JDK frame on top: the first ZooKeeper frame says where.
    assert_eq!(class("java.net.ConnectException at Net.pollConnect via QuorumCnxManager.initiateConnection").count, 2);
    // No ZooKeeper frame before the next statement: the top frame alone.
    assert_eq!(class("java.io.EOFException at DataInputStream.readInt").count, 1);
    assert_eq!(class("QuorumCnxManager: Cannot open channel to # at election address zk#/#.#.#.#:#").count, 2);
    assert_eq!(class("ZooKeeperCriticalThread: Severe unrecoverable error, from thread : SyncThread:#").level, "ERROR");
    // The most frequent first.
    assert!(s.top.windows(2).all(|w| w[0].count >= w[1].count));
    assert_eq!(s.distinct_classes, s.top.len());
    assert_eq!(s.elections, vec![ElectionLine { at_ms: Some(1100.0), state: "FOLLOWING".into(), ms: 5409 }]);
}

#[test]
fn counts_official_layout() {
    let s = scan_text(OFFICIAL, None);
    assert_eq!(s.statements, 4);
    assert_eq!(s.by_level["WARN"], 2);
    assert_eq!(s.quorum_warn_error, 3);
    // Both layouts' zxid warnings fall into one class.
    let zxid = s.top.iter().find(|c| c.class == "Learner: Got zxid 0x# expected 0x#").unwrap();
    assert_eq!(zxid.count, 2);
    assert_eq!(zxid.first_at_ms, None);
    assert_eq!(s.elections, vec![ElectionLine { at_ms: None, state: "LEADING".into(), ms: 212 }]);
}

#[test]
fn an_exception_at_the_end_is_counted() {
    let s = scan_text("2026-12-07 10:49:02.000 [main] ERROR org.apache.zookeeper.server.ZooKeeperServerMain - Unexpected exception, exiting abnormally\njava.io.IOException: No snapshot found\n", None);
    assert_eq!(s.exceptions, 1);
    assert!(s.top.iter().any(|c| c.class == "java.io.IOException"));
}

#[test]
fn election_lines() {
    assert_eq!(parse_election("FOLLOWING - LEADER ELECTION TOOK - 5409 MS"), Some(("FOLLOWING".into(), 5409)));
    assert_eq!(parse_election("LEADING - LEADER ELECTION TOOK - 0 MS"), Some(("LEADING".into(), 0)));
    assert_eq!(parse_election("Peer state changed: following - broadcast"), None);
}
