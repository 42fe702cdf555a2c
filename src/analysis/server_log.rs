//! Server-log evidence: what each ZooKeeper server said about itself (`logs/zk<N>.log`), counted.
//!
//! Not a verdict. A `NullPointerException` in `Learner.syncWithLeader` or a burst of
//! `Got zxid 0x… expected 0x1` warnings is evidence to read next to the checks, and the counts
//! let runs be compared. Lines are grouped into *classes*: level, the logger's class name and the
//! message with numbers, hex zxids and addresses replaced (`Got zxid 0x# expected 0x#`), so one
//! recurring message is one row. Exceptions (`java.lang.NullPointerException` followed by
//! `\tat …` frames) are classed by exception type and top frame (`Learner.syncWithLeader`).
//! Each server's `LEADER ELECTION TOOK - <n> MS` lines are collected as well
//! (see [`super::elections`]).
//!
//! Two layouts are read, line by line, with a single pass and bounded state:
//! - zkchaos's Debian image, slf4j-simple with a date:
//!   `2026-12-07 10:48:43.564 [main] WARN org.apache.zookeeper.server.quorum.QuorumPeerMain - msg`
//! - the official image, logback (3.8+, `o.a.z.s.q.Learner@123`) or log4j (up to 3.7, `Learner@123`):
//!   `2024-01-01 12:00:00,123 [myid:1] - WARN  [QuorumPeer[myid=1]…:o.a.z.s.q.Learner@123] - msg`
//!
//! Time: both layouts print the server JVM's local wall-clock time without a zone. zkchaos's
//! containers run in UTC (neither image sets `TZ`), so a timestamp is read as UTC and placed on
//! the run's timeline with `meta.json`'s `epoch_unix_ms` ([`to_run_ms`]). Resolution is 1 ms;
//! the servers share the control host's clock on a local engine (listed engines: their hosts'
//! clocks, skew not measured), and a line is written after the event it reports.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Classes kept per server in the summary (the most frequent; the rest are counted).
pub const TOP_CLASSES: usize = 12;
/// Longest normalised message kept in a class key (longer ones are cut, so they still group).
const MAX_CLASS_CHARS: usize = 160;

/// One log statement's first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// Wall-clock time as logged (local time of the server's JVM; UTC in zkchaos's containers).
    pub at: NaiveDateTime,
    /// `INFO`, `WARN`, `ERROR`, `DEBUG`, `TRACE`.
    pub level: &'a str,
    /// Logger (class) as printed: `org.apache.zookeeper.server.quorum.Learner`,
    /// `o.a.z.s.q.Learner` or `Learner`.
    pub logger: &'a str,
    pub message: &'a str,
}

/// Parse the first line of a log statement in either layout; `None` for anything else (stack
/// frames, exception lines, the JVM's own warnings).
pub fn parse_line(line: &str) -> Option<LogLine<'_>> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.len() < 24 || !line.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let (stamp, rest) = line.split_at(23);
    let at = NaiveDateTime::parse_from_str(&stamp.replace(',', "."), "%Y-%m-%d %H:%M:%S%.3f").ok()?;
    let rest = rest.strip_prefix(' ')?;
    if let Some(after) = rest.strip_prefix("[myid:") {
        // logback/log4j: `[myid:1] - WARN  [thread:Logger@line] - message`
        let (_, after) = after.split_once("] - ")?;
        let (level, after) = after.split_once(' ')?;
        let after = after.trim_start();
        let (inner, after) = bracketed(after)?;
        let message = after.strip_prefix(" - ").unwrap_or(after.trim_start());
        let origin = inner.rsplit(':').next().unwrap_or(inner);
        let logger = origin.split('@').next().unwrap_or(origin);
        Some(LogLine { at, level: level.trim(), logger, message })
    } else {
        // slf4j-simple: `[thread] LEVEL logger - message`
        let (_, after) = bracketed(rest)?;
        let after = after.trim_start();
        let (level, after) = after.split_once(' ')?;
        let (logger, message) = after.split_once(" - ").unwrap_or((after, ""));
        Some(LogLine { at, level, logger: logger.trim(), message })
    }
}

/// `[...]` with nested brackets (thread names such as `QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)`):
/// the content and what follows the closing bracket.
fn bracketed(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('[')?;
    let mut depth = 1usize;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&s[..i], &s[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// The class name without its package (`org.apache….Learner`, `o.a.z.s.q.Learner` → `Learner`).
pub fn short_logger(logger: &str) -> &str {
    logger.rsplit('.').next().unwrap_or(logger)
}

/// Is this logger part of ZooKeeper's quorum code (`org.apache.zookeeper.server.quorum`)?
/// log4j's `%C{1}` prints no package: the quorum classes are then recognised by name.
pub fn is_quorum_logger(logger: &str) -> bool {
    const QUORUM_CLASSES: [&str; 14] = [
        "QuorumPeer", "QuorumPeerMain", "QuorumPeerConfig", "QuorumCnxManager", "FastLeaderElection", "Leader",
        "Follower", "Learner", "LearnerHandler", "Observer", "LearnerCnxAcceptor", "LeaderZooKeeperServer",
        "FollowerZooKeeperServer", "QuorumZooKeeperServer",
    ];
    logger.starts_with("org.apache.zookeeper.server.quorum.")
        || logger.starts_with("o.a.z.s.q.")
        || (!logger.contains('.') && QUORUM_CLASSES.contains(&logger))
}

/// A message with its variable parts replaced so that recurrences group: `0x…` hex → `0x#`,
/// runs of six or more hex digits with a digit among them (zxids printed without `0x`) → `#`,
/// other digit runs → `#` (so `172.18.0.3:2888` → `#.#.#.#:#`, `myid=2` → `myid=#`).
pub fn normalise(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_CLASS_CHARS + 8));
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let hex_body = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X"));
        if hex_body.is_some_and(|b| !b.is_empty() && b.chars().all(|c| c.is_ascii_hexdigit())) {
            out.push_str("0x#");
        } else if word.len() >= 6 && word.chars().all(|c| c.is_ascii_hexdigit()) && word.chars().any(|c| c.is_ascii_digit()) {
            out.push('#');
        } else {
            let mut in_digits = false;
            for c in word.chars() {
                if c.is_ascii_digit() {
                    if !in_digits {
                        out.push('#');
                    }
                    in_digits = true;
                } else {
                    out.push(c);
                    in_digits = false;
                }
            }
        }
        word.clear();
    };
    for c in message.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
        if out.chars().count() > MAX_CLASS_CHARS {
            break;
        }
    }
    flush(&mut word, &mut out);
    out.trim().chars().take(MAX_CLASS_CHARS).collect()
}

/// An exception's first line: `java.lang.NullPointerException: Cannot read field …`
/// (`Caused by: ` lines are not counted apart). Returns the exception type.
fn exception_type(line: &str) -> Option<&str> {
    if line.starts_with(char::is_whitespace) || line.starts_with("Caused by:") {
        return None;
    }
    let ty = line.split(": ").next().unwrap_or(line).trim_end();
    let simple = ty.rsplit('.').next()?;
    let qualified = ty.contains('.') && ty.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$'));
    (qualified && (simple.ends_with("Exception") || simple.ends_with("Error") || simple == "Throwable")).then_some(ty)
}

/// `\tat org.apache.zookeeper.server.quorum.Learner.syncWithLeader(Learner.java:646)` →
/// (`Learner.syncWithLeader`, whether the frame is ZooKeeper's own code).
fn frame(line: &str) -> Option<(String, bool)> {
    let f = line.trim_start().strip_prefix("at ")?;
    let f = f.split('(').next()?.trim();
    let mut parts = f.rsplitn(3, '.');
    let method = parts.next()?;
    let class = parts.next()?;
    Some((format!("{class}.{method}"), f.starts_with("org.apache.zookeeper.")))
}

/// An exception being read: its type, first line, top frame, and the first ZooKeeper frame
/// when the top one is not (`java.io.EOFException at DataInputStream.readInt` says little
/// without `via QuorumCnxManager$RecvWorker.run`).
#[derive(Debug)]
struct PendingException {
    ty: String,
    first_line: String,
    top: Option<(String, bool)>,
}

impl PendingException {
    fn class(&self, via: Option<&str>) -> String {
        match (&self.top, via) {
            (None, _) => self.ty.clone(),
            (Some((top, _)), None) => format!("{} at {top}", self.ty),
            (Some((top, _)), Some(v)) => format!("{} at {top} via {v}", self.ty),
        }
    }
}

/// One server's `<STATE> - LEADER ELECTION TOOK - <n> MS` line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElectionLine {
    /// When it was logged, ms since the run's epoch (None if `meta.json` is missing).
    pub at_ms: Option<f64>,
    /// `FOLLOWING`, `LEADING` or `OBSERVING`: what the server became.
    pub state: String,
    /// The election time the server reports.
    pub ms: u64,
}

/// Parse `FOLLOWING - LEADER ELECTION TOOK - 5409 MS` (the unit is `MS` in 3.5–3.9).
pub fn parse_election(message: &str) -> Option<(String, u64)> {
    let (state, rest) = message.split_once(" - LEADER ELECTION TOOK - ")?;
    let n = rest.split_whitespace().next()?.parse().ok()?;
    Some((state.trim().to_string(), n))
}

/// Run-relative milliseconds of a log timestamp, reading it as UTC.
pub fn to_run_ms(at: NaiveDateTime, epoch_unix_ms: i64) -> f64 {
    (at.and_utc().timestamp_millis() - epoch_unix_ms) as f64
}

/// One recurring message (or exception) of one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogClass {
    /// `WARN`, `ERROR` or `EXCEPTION`.
    pub level: String,
    /// The logger's class name (`Learner`); for an exception, the logger of the statement it
    /// was printed with.
    pub logger: String,
    /// Logger under `org.apache.zookeeper.server.quorum`.
    pub quorum: bool,
    /// The normalised message, or `<exception type> at <Class.method of the top frame>`.
    pub class: String,
    pub count: u64,
    /// First occurrence, ms since the run's epoch (None without `meta.json`).
    pub first_at_ms: Option<f64>,
    /// First occurrence as logged (server wall-clock).
    pub first_at: String,
    /// The first occurrence's text, cut to 240 characters.
    pub example: String,
}

/// One server's log, counted.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServerLogSummary {
    /// Log statements read (first lines; stack frames not counted).
    pub statements: u64,
    /// Statements per level (`INFO`, `WARN`, `ERROR`, ...).
    pub by_level: BTreeMap<String, u64>,
    /// Exceptions printed (stack traces; `Caused by` not counted apart).
    pub exceptions: u64,
    /// WARN and ERROR statements of quorum loggers.
    pub quorum_warn_error: u64,
    /// Distinct classes (WARN, ERROR, exceptions) seen.
    pub distinct_classes: usize,
    /// The most frequent classes (at most [`TOP_CLASSES`]), most frequent first.
    pub top: Vec<LogClass>,
    /// Every `LEADER ELECTION TOOK` line, in order.
    #[serde(default)]
    pub elections: Vec<ElectionLine>,
}

/// Single-pass scanner of one server's log: feed lines in order, then [`LogScan::finish`].
#[derive(Debug, Default)]
pub struct LogScan {
    epoch_unix_ms: Option<i64>,
    summary: ServerLogSummary,
    classes: HashMap<(String, String), LogClass>,
    /// The last statement's time and logger (an exception belongs to it).
    last: Option<(NaiveDateTime, String)>,
    /// An exception whose frames are being read.
    pending: Option<PendingException>,
}

impl LogScan {
    /// `epoch_unix_ms`: the run's epoch, to place lines on the run's timeline.
    pub fn new(epoch_unix_ms: Option<i64>) -> LogScan {
        LogScan { epoch_unix_ms, ..LogScan::default() }
    }

    pub fn feed(&mut self, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']);
        if let Some(mut p) = self.pending.take() {
            if let Some(f) = frame(line) {
                if p.top.is_none() {
                    // ZooKeeper's own frame on top says where; else look on for the first one.
                    let own = f.1;
                    p.top = Some(f);
                    if own {
                        self.exception(p.class(None), &p.first_line);
                    } else {
                        self.pending = Some(p);
                    }
                } else if f.1 {
                    self.exception(p.class(Some(&f.0)), &p.first_line);
                } else {
                    self.pending = Some(p);
                }
                return;
            }
            if line.trim_start().starts_with("...") || line.starts_with("Caused by:") {
                self.pending = Some(p);
                return;
            }
            self.exception(p.class(None), &p.first_line);
        }
        if let Some(l) = parse_line(line) {
            self.statement(&l);
        } else if let Some(ty) = exception_type(line) {
            self.pending = Some(PendingException { ty: ty.to_string(), first_line: line.to_string(), top: None });
        }
    }

    fn statement(&mut self, l: &LogLine<'_>) {
        self.summary.statements += 1;
        *self.summary.by_level.entry(l.level.to_string()).or_default() += 1;
        self.last = Some((l.at, l.logger.to_string()));
        if let Some((state, ms)) = parse_election(l.message) {
            let at_ms = self.epoch_unix_ms.map(|e| to_run_ms(l.at, e));
            self.summary.elections.push(ElectionLine { at_ms, state, ms });
        }
        if l.level != "WARN" && l.level != "ERROR" {
            return;
        }
        let quorum = is_quorum_logger(l.logger);
        if quorum {
            self.summary.quorum_warn_error += 1;
        }
        let logger = short_logger(l.logger).to_string();
        let class = format!("{logger}: {}", normalise(l.message));
        self.count(l.level.to_string(), class, logger, quorum, l.at, l.message);
    }

    fn exception(&mut self, class: String, first_line: &str) {
        self.summary.exceptions += 1;
        let (at, logger) = self.last.clone().unwrap_or_default();
        let quorum = is_quorum_logger(&logger);
        let short = short_logger(&logger).to_string();
        self.count("EXCEPTION".into(), class, short, quorum, at, first_line);
    }

    fn count(&mut self, level: String, class: String, logger: String, quorum: bool, at: NaiveDateTime, text: &str) {
        let epoch = self.epoch_unix_ms;
        let entry = self.classes.entry((level.clone(), class.clone())).or_insert_with(|| LogClass {
            level,
            logger,
            quorum,
            class,
            count: 0,
            first_at_ms: epoch.map(|e| to_run_ms(at, e)),
            first_at: at.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
            example: text.chars().take(240).collect(),
        });
        entry.count += 1;
    }

    pub fn finish(mut self) -> ServerLogSummary {
        if let Some(p) = self.pending.take() {
            self.exception(p.class(None), &p.first_line);
        }
        let mut all: Vec<LogClass> = self.classes.into_values().collect();
        // Most frequent first; ties by first occurrence, then text, so the order is deterministic.
        all.sort_by(|a, b| {
            b.count.cmp(&a.count).then(a.first_at.cmp(&b.first_at)).then(a.level.cmp(&b.level)).then(a.class.cmp(&b.class))
        });
        self.summary.distinct_classes = all.len();
        all.truncate(TOP_CLASSES);
        self.summary.top = all;
        self.summary
    }
}

/// Scan a whole log text (tests; the run's files are streamed through [`LogScan`]).
pub fn scan_text(text: &str, epoch_unix_ms: Option<i64>) -> ServerLogSummary {
    let mut s = LogScan::new(epoch_unix_ms);
    for line in text.lines() {
        s.feed(line);
    }
    s.finish()
}

#[cfg(test)]
#[path = "server_log_tests.rs"]
mod tests;
