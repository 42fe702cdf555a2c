//! The server-side evidence of a run as the console and `report.html` show it: elections (the
//! monitor's view next to each server's own `LEADER ELECTION TOOK`), each server's log counted
//! (levels, most frequent WARN/ERROR/exception classes) and the digest check per server.
//! Figures come from the summary only ([`Summary::elections`], [`Summary::server_log`],
//! `checks.digest`), so `zkchaos analyze` shows the same.

use super::charts::style::fmt_ms;
use super::html::{esc, table};
use super::summary::Summary;
use std::fmt::Write as _;

/// Classes shown per server on the console (the summary keeps more).
const CONSOLE_CLASSES: usize = 3;

fn reported(e: &crate::analysis::elections::Election) -> String {
    if e.server_reported.is_empty() {
        return "no server logged one".into();
    }
    e.server_reported.iter().map(|(s, r)| format!("{s} {} {} ms", r.state, r.ms)).collect::<Vec<_>>().join(", ")
}

fn leader(id: Option<u32>) -> String {
    id.map(|i| format!("zk{i}")).unwrap_or_else(|| "none".into())
}

fn at_s(ms: Option<f64>) -> String {
    ms.map(|m| format!("{:.2} s", m / 1e3)).unwrap_or_else(|| "?".into())
}

/// Console lines: elections, then the server logs (nothing when neither was recorded).
pub fn console(o: &mut String, s: &Summary) -> std::fmt::Result {
    if !s.elections.is_empty() {
        writeln!(o, "  elections (monitor: first server out → a leader serving | each server's LEADER ELECTION TOOK)")?;
        for (i, e) in s.elections.iter().enumerate() {
            writeln!(
                o,
                "    #{} at {:.2} s: {} (no leader {}), {} → {} | {}",
                i + 1,
                e.from_us as f64 / 1e6,
                fmt_ms(e.ms),
                fmt_ms(e.no_leader_ms),
                leader(e.old_leader),
                leader(e.new_leader),
                reported(e)
            )?;
        }
        writeln!(o)?;
    }
    if !s.server_log.is_empty() {
        writeln!(o, "  server logs (WARN/ERROR and exceptions; evidence, not a verdict)")?;
        for (server, l) in &s.server_log {
            let n = |level: &str| l.by_level.get(level).copied().unwrap_or(0);
            writeln!(
                o,
                "    {server}: {} ERROR, {} WARN ({} from quorum code), {} exceptions, {} classes",
                n("ERROR"),
                n("WARN"),
                l.quorum_warn_error,
                l.exceptions,
                l.distinct_classes
            )?;
            for c in l.top.iter().take(CONSOLE_CLASSES) {
                writeln!(o, "      {:>5}× {:<9} {} (first {})", c.count, c.level, c.class, at_s(c.first_at_ms))?;
            }
        }
        writeln!(o)?;
    }
    Ok(())
}

/// The evidence sections of `report.html`.
pub fn html(s: &Summary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "<h2>Elections</h2>");
    if s.elections.is_empty() {
        let _ = writeln!(o, "<p>The monitor saw no interval without a leader.</p>");
    } else {
        let _ = writeln!(
            o,
            "<p>From the monitor (resolution: its poll interval): first server leaving leader/follower → a leader serving \
             again. Next to it, what each server logged (<code>LEADER ELECTION TOOK</code>), placed on the run's clock by \
             reading its timestamp as UTC (see docs/results.md).</p>"
        );
        let rows: Vec<Vec<String>> = s
            .elections
            .iter()
            .enumerate()
            .map(|(i, e)| {
                vec![
                    (i + 1).to_string(),
                    format!("{:.2} s", e.from_us as f64 / 1e6),
                    fmt_ms(e.ms),
                    fmt_ms(e.no_leader_ms),
                    format!("{} → {}", leader(e.old_leader), leader(e.new_leader)),
                    reported(e),
                ]
            })
            .collect();
        let h = ["#", "from", "length (monitor)", "no leader", "leader", "servers' own report"].map(String::from);
        o.push_str(&table(&h, &rows));
    }

    let _ = writeln!(o, "<h2>Server logs</h2>");
    if s.server_log.is_empty() {
        let _ = writeln!(o, "<p>No server log was saved.</p>");
    } else {
        let _ = writeln!(
            o,
            "<p>Evidence, not a verdict: statements per level and the most frequent WARN/ERROR messages (numbers, zxids \
             and addresses replaced by <code>#</code>) and exceptions (type at top frame).</p>"
        );
        let counts: Vec<Vec<String>> = s
            .server_log
            .iter()
            .map(|(server, l)| {
                let n = |level: &str| l.by_level.get(level).copied().unwrap_or(0).to_string();
                vec![
                    server.clone(),
                    l.statements.to_string(),
                    n("WARN"),
                    n("ERROR"),
                    l.quorum_warn_error.to_string(),
                    l.exceptions.to_string(),
                    l.elections.len().to_string(),
                ]
            })
            .collect();
        let h = ["server", "statements", "WARN", "ERROR", "quorum WARN+ERROR", "exceptions", "elections logged"]
            .map(String::from);
        o.push_str(&table(&h, &counts));
        let classes: Vec<Vec<String>> = s
            .server_log
            .iter()
            .flat_map(|(server, l)| {
                l.top.iter().map(move |c| {
                    vec![server.clone(), c.level.clone(), c.count.to_string(), at_s(c.first_at_ms), c.class.clone()]
                })
            })
            .collect();
        let h = ["server", "level", "count", "first", "class"].map(String::from);
        o.push_str(&table(&h, &classes));
    }

    let _ = writeln!(o, "<h2>Digest (ZooKeeper's own data-tree check)</h2>");
    let per = s.checks.digest.figures.get("per_server").and_then(|v| v.as_object());
    match per {
        Some(per) if !per.is_empty() => {
            let field = |v: &serde_json::Value, k: &str| match v.get(k) {
                Some(serde_json::Value::String(t)) => t.clone(),
                Some(serde_json::Value::Null) | None => "—".into(),
                Some(x) => x.to_string(),
            };
            let rows: Vec<Vec<String>> = per
                .iter()
                .map(|(server, v)| {
                    ["verdict", "mismatches", "state", "zxid", "znode_count", "note"]
                        .iter()
                        .fold(vec![server.clone()], |mut r, k| {
                            r.push(field(v, k));
                            r
                        })
                })
                .collect();
            let h = ["server", "verdict", "digest mismatches", "state", "zxid", "znodes", "note"].map(String::from);
            o.push_str(&table(&h, &rows));
        }
        _ => {
            let _ = writeln!(o, "<p>{}</p>", esc(&s.checks.digest.detail));
        }
    }
    o
}
